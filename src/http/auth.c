/* auth.c: API keys (only their SHA-256 is stored; see core/user.c), permissions, account access. */
#include <string.h>

#include "http/http.h"

static const struct {
    const char *name;
    unsigned bit;
} perm_names[] = {
    {"buyer", CK_PERM_BUYER},       {"integrator", CK_PERM_INTEGRATOR},
    {"admin", CK_PERM_ADMIN},       {"approver", CK_PERM_APPROVER},
    {"fulfillment", CK_PERM_FULFILLMENT},
};

unsigned ck_perm_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(perm_names) / sizeof(perm_names[0]); i++)
        if (strcmp(perm_names[i].name, name) == 0)
            return perm_names[i].bit;
    return 0;
}

json_t *ck_perms_to_json(unsigned perms)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof(perm_names) / sizeof(perm_names[0]); i++)
        if (perms & perm_names[i].bit)
            json_array_append_new(a, json_string(perm_names[i].name));
    return a;
}

int ck_auth_lookup(ck_db *db, const char *api_key, ck_user *out, ck_error *err)
{
    return ck_user_by_key(db, api_key, out, err);
}

int ck_user_can_buy_for(ck_db *db, const ck_user *user, const char *account_id, ck_error *err)
{
    if (user->perms & (CK_PERM_ADMIN | CK_PERM_INTEGRATOR))
        return 1;
    if (!(user->perms & CK_PERM_BUYER))
        return 0;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM user_accounts WHERE user_id = ? AND account_id = ?", "tt",
                       user->id, account_id);
    ck_db_done(st);
    return rc;
}

int ck_can_buy_for(ck_req *req, const char *account_id, ck_error *err)
{
    return ck_user_can_buy_for(req->db, &req->user, account_id, err);
}

int ck_app_ensure_admin_key(ck_app *app, const char *key, ck_error *err)
{
    ck_db *db = ck_app_db(app, err);
    if (!db)
        return err ? err->code : CK_EINTERNAL;
    char hash[65], id[CK_ID_MAX];
    if (strlen(key) < 16)
        return ck_fail(err, CK_EINVALID, "WEAK_ADMIN_KEY", "CHECKOUTD_ADMIN_KEY",
                       "CHECKOUTD_ADMIN_KEY must be at least 16 characters");
    ck_sha256_hex(hash, key, strlen(key));
    int rc = ck_db_begin(db, 1, err);
    if (rc < 0)
        return rc;
    /* The environment's key is this admin's current key and nobody's
     * replaced one; the user is enabled again (the way back in when every
     * admin was disabled). */
    int64_t changed = 0;
    rc = ck_db_exec(db, NULL, err, "DELETE FROM retired_api_keys WHERE key_hash = ?", "t", hash);
    if (rc == 0)
        rc = ck_db_exec(db, &changed, err,
                        "UPDATE users SET permissions = permissions | ?, disabled = 0 WHERE api_key_hash = ?", "it",
                        (int64_t)CK_PERM_ADMIN, hash);
    if (rc == 0 && changed == 0)
        rc = ck_user_insert(db, "admin", "admin@localhost", CK_PERM_ADMIN, hash, id, err);
    if (rc < 0) {
        ck_db_rollback(db);
        return rc;
    }
    return ck_db_commit(db, err);
}
