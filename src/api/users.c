/* users.c: POST /v1/users, GET /v1/users/{id}, POST /v1/users/{id}/accounts.
 * Only the SHA-256 of a user's API key is stored; the key itself is shown
 * once, in the reply to POST /v1/users. */
#include <string.h>

#include "api/common.h"
#include "api/routes.h"

#define EMAIL_MAX 254

/* Replies with the user (never the key), or 404. apikey, when not NULL, is
 * added as "apiKey" (the create reply only). */
static int reply_user(ck_req *req, int status, const char *id, const char *apikey, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(req->db, &st, err,
                       "SELECT id, name, email, permissions, created_at FROM users WHERE id = ?", "t", id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "user", id);
    json_t *j = json_pack("{s:s, s:s, s:s, s:o}", "id", ck_col_text(st, 0), "name", ck_col_text(st, 1),
                          "email", ck_col_text(st, 2), "permissions",
                          ck_perms_to_json((unsigned)ck_col_int(st, 3)));
    if (apikey) {
        json_object_set_new(j, "apiKey", json_string(apikey));
        req->idem_redact = "apiKey"; /* never kept for an idempotent replay */
    }
    json_object_set_new(j, "createdAt", ck_json_time(ck_col_int(st, 4)));
    ck_db_done(st);
    return ck_reply(req, status, j);
}

/* email: 3..254 characters, one '@' with something on each side, no spaces
 * or control characters. Deliverability is not checked. */
static int read_email(json_t *b, const char **out, ck_error *err)
{
    int rc = ck_in_str(b, "email", CK_REQUIRED, EMAIL_MAX, out, err);
    if (rc <= 0)
        return rc;
    const char *e = *out, *at = strchr(e, '@');
    size_t n = strlen(e);
    int ok = n >= 3 && at && at != e && at[1] && !strchr(at + 1, '@');
    for (const unsigned char *p = (const unsigned char *)e; ok && *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            ok = 0;
    if (!ok)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "email",
                       "'email' must be an address such as buyer@example.com (3 to %d characters)",
                       EMAIL_MAX);
    return 1;
}

/* permissions: a non-empty array of known names; repeats are harmless. */
static int read_perms(json_t *b, unsigned *out, ck_error *err)
{
    json_t *arr = NULL;
    int rc = ck_in_array(b, "permissions", CK_REQUIRED, 16, &arr, err);
    if (rc <= 0)
        return rc;
    if (json_array_size(arr) == 0)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "permissions",
                       "'permissions' must name at least one permission");
    size_t i;
    json_t *v;
    *out = 0;
    json_array_foreach(arr, i, v) {
        unsigned bit = json_is_string(v) ? ck_perm_from_name(json_string_value(v)) : 0;
        if (!bit)
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "permissions",
                           "'permissions' may hold only: buyer, integrator, admin, approver, fulfillment");
        *out |= bit;
    }
    return 1;
}

static int create_user(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"name", "email", "permissions", NULL};
    json_t *b = req->json;
    const char *name = NULL, *email = NULL;
    unsigned perms = 0;
    char id[CK_ID_MAX], key[64], hash[65];
    int rc;
    if ((rc = ck_in_only(b, fields, err)) < 0 ||
        (rc = ck_in_str(b, "name", CK_REQUIRED, CK_NAME_MAX, &name, err)) < 0 ||
        (rc = read_email(b, &email, err)) < 0 || (rc = read_perms(b, &perms, err)) < 0)
        return rc;
    if (ck_api_key_new(key) < 0)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "no randomness for an API key");
    ck_sha256_hex(hash, key, strlen(key));
    ck_id_new(id, "usr");
    rc = ck_db_exec(req->db, NULL, err,
                    "INSERT INTO users (id, name, email, permissions, api_key_hash, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    "tttiti", id, name, email, (int64_t)perms, hash, ck_now_ms());
    /* A hash collision of 256 random bits is not a client's conflict: CK_EDUP
     * stays a server fault here. */
    if (rc == 0)
        rc = reply_user(req, 201, id, key, err);
    ck_secure_zero(key, sizeof(key));
    return rc;
}

static int get_user(ck_req *req, ck_error *err)
{
    return reply_user(req, 200, req->params[0], NULL, err);
}

/* Gives the user the account to buy for. Giving it again is idempotent: 201
 * the first time, 200 with the original row after. */
static int give_account(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"accountId", NULL};
    const char *user_id = req->params[0], *account_id = NULL;
    int rc;
    if ((rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_id(req->json, "accountId", CK_REQUIRED, "acct", &account_id, err)) < 0)
        return rc;
    if ((rc = ck_must_exist(req->db, "SELECT 1 FROM users WHERE id = ?", "user", user_id, err)) < 0 ||
        (rc = ck_must_exist(req->db, "SELECT 1 FROM accounts WHERE id = ?", "account", account_id, err)) < 0)
        return rc;
    int64_t added = 0;
    rc = ck_db_exec(req->db, &added, err,
                    "INSERT INTO user_accounts (user_id, account_id, created_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (user_id, account_id) DO NOTHING",
                    "tti", user_id, account_id, ck_now_ms());
    if (rc < 0)
        return rc;
    ck_stmt *st = NULL;
    rc = ck_db_one(req->db, &st, err,
                   "SELECT created_at FROM user_accounts WHERE user_id = ? AND account_id = ?", "tt",
                   user_id, account_id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "account access row vanished");
    json_t *j = json_pack("{s:s, s:s, s:o}", "userId", user_id, "accountId", account_id, "createdAt",
                          ck_json_time(ck_col_int(st, 0)));
    ck_db_done(st);
    return ck_reply(req, added ? 201 : 200, j);
}

const ck_route ck_routes_users[] = {
    {"POST", "/v1/users", create_user, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"GET", "/v1/users/{id}", get_user, 0, CK_PERM_ADMIN},
    {"POST", "/v1/users/{id}/accounts", give_account, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {0},
};
