/* users.c: the users and keys repository: the one INSERT of a user,
 * finding the user of a key, and key rotation with a grace period. Only the
 * SHA-256 hex of a key is ever stored (users.api_key_hash for the current
 * key, retired_api_keys for replaced keys still in their grace period). */
#include <stdio.h>
#include <string.h>

#include "store/users.h"

int ck_user_insert(ck_db *db, const char *name, const char *email, unsigned perms, const char *key_hash,
                   char id_out[CK_ID_MAX], ck_error *err)
{
    int64_t now = ck_now_ms();
    ck_id_new(id_out, "usr");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO users (id, name, email, permissions, api_key_hash, disabled, created_at, updated_at)"
                      " VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                      "tttitii", id_out, name, email, (int64_t)perms, key_hash, now, now);
}

/* Fills out from a row of (id, name, email, permissions, disabled). */
static int user_from_row(ck_stmt *st, ck_user *out, ck_error *err)
{
    int disabled = ck_col_int(st, 4) != 0;
    if (!disabled) {
        ck_col_copy(st, 0, out->id, sizeof(out->id));
        ck_col_copy(st, 1, out->name, sizeof(out->name));
        ck_col_copy(st, 2, out->email, sizeof(out->email));
        out->perms = (unsigned)ck_col_int(st, 3);
    }
    ck_db_done(st);
    return disabled ? ck_fail(err, CK_EUNAUTH, "USER_DISABLED", NULL, "this API key's user is disabled") : 0;
}

int ck_user_by_key(ck_db *db, const char *api_key, ck_user *out, ck_error *err)
{
    char hash[65];
    size_t n = strlen(api_key);
    if (n == 0 || n > 256)
        return ck_fail(err, CK_EUNAUTH, "UNAUTHORIZED", NULL, "unknown API key");
    ck_sha256_hex(hash, api_key, n);
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT id, name, email, permissions, disabled FROM users WHERE api_key_hash = ?",
                       "t", hash);
    if (rc == 1)
        return user_from_row(st, out, err);
    if (rc < 0)
        return rc;
    rc = ck_db_one(db, &st, err,
                   "SELECT u.id, u.name, u.email, u.permissions, u.disabled FROM retired_api_keys k"
                   " JOIN users u ON u.id = k.user_id WHERE k.key_hash = ? AND k.expires_at > ?",
                   "ti", hash, ck_now_ms());
    if (rc == 1)
        return user_from_row(st, out, err);
    if (rc < 0)
        return rc;
    return ck_fail(err, CK_EUNAUTH, "UNAUTHORIZED", NULL, "unknown API key");
}

int ck_user_rotate_key(ck_db *db, const char *user_id, int64_t grace_seconds, char key_out[64], int64_t *until,
                       ck_error *err)
{
    char old_hash[65], new_hash[65];
    int64_t now = ck_now_ms();
    *until = now + grace_seconds * 1000;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT api_key_hash FROM users WHERE id = ?", "t", user_id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", NULL, "user %s not found", user_id);
    ck_col_copy(st, 0, old_hash, sizeof(old_hash));
    ck_db_done(st);
    /* Keys replaced earlier never outlive the one replaced now; those whose
     * time has come are forgotten. */
    if ((rc = ck_db_exec(db, NULL, err,
                         "UPDATE retired_api_keys SET expires_at = ? WHERE user_id = ? AND expires_at > ?", "iti",
                         *until, user_id, *until)) < 0 ||
        (rc = ck_db_exec(db, NULL, err, "DELETE FROM retired_api_keys WHERE user_id = ? AND expires_at <= ?", "ti",
                         user_id, now)) < 0)
        return rc;
    if (grace_seconds > 0 &&
        (rc = ck_db_exec(db, NULL, err,
                         "INSERT INTO retired_api_keys (key_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
                         "ttii", old_hash, user_id, *until, now)) < 0)
        return rc;
    if ((rc = ck_user_new_key(key_out, new_hash, err)) < 0)
        return rc;
    rc = ck_db_exec(db, NULL, err, "UPDATE users SET api_key_hash = ?, updated_at = ? WHERE id = ?", "tit", new_hash,
                    now, user_id);
    if (rc < 0)
        ck_secure_zero(key_out, 64);
    return rc;
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

int ck_user_ensure_admin_key(ck_db *db, const char *key, ck_error *err)
{
    char hash[65], id[CK_ID_MAX];
    if (strlen(key) < 16)
        return ck_fail(err, CK_EINVALID, "WEAK_ADMIN_KEY", NULL, "the admin key must be at least 16 characters");
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

int ck_users_give_account(ck_db *db, const char *user_id, const char *account_id, int *added, int64_t *created_at,
                          ck_error *err)
{
    int64_t changed = 0;
    *added = 0;
    *created_at = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "INSERT INTO user_accounts (user_id, account_id, created_at) VALUES (?, ?, ?)"
                        " ON CONFLICT (user_id, account_id) DO NOTHING",
                        "tti", user_id, account_id, ck_now_ms());
    if (rc < 0)
        return rc;
    *added = changed != 0;
    ck_stmt *st = NULL;
    rc = ck_db_one(db, &st, err, "SELECT created_at FROM user_accounts WHERE user_id = ? AND account_id = ?", "tt",
                   user_id, account_id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "account access row vanished");
    *created_at = ck_col_int(st, 0);
    ck_db_done(st);
    return 0;
}

#define USER_COLS "id, name, email, permissions, disabled, created_at, updated_at"

/* Fills out from a row of USER_COLS. */
static void user_row(ck_stmt *st, ck_user_row *out)
{
    ck_col_copy(st, 0, out->id, sizeof(out->id));
    ck_col_copy(st, 1, out->name, sizeof(out->name));
    ck_col_copy(st, 2, out->email, sizeof(out->email));
    out->perms = (unsigned)ck_col_int(st, 3);
    out->disabled = ck_col_int(st, 4) != 0;
    out->created_at = ck_col_int(st, 5);
    out->updated_at = ck_col_int(st, 6);
}

int ck_users_exists(ck_db *db, const char *id, ck_error *err)
{
    return ck_db_exists(db, err, "SELECT 1 FROM users WHERE id = ?", "t", id);
}

int ck_users_get(ck_db *db, const char *id, ck_user_row *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT " USER_COLS " FROM users WHERE id = ?", "t", id);
    if (rc == 1)
        user_row(st, out);
    ck_db_done(st);
    return rc;
}

int ck_users_list(ck_db *db, const char *after, int64_t limit, ck_user_row *rows, int64_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err, "SELECT " USER_COLS " FROM users WHERE id > ? ORDER BY id LIMIT ?", "ti", after,
                         limit);
    if (rc < 0)
        return rc;
    while (*n < limit && (rc = ck_db_next(st, err)) == 1)
        user_row(st, &rows[(*n)++]);
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

int ck_users_update(ck_db *db, const char *id, const char *name, int has_perms, unsigned perms, int disabled,
                    ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE users SET name = COALESCE(?, name), permissions = CASE WHEN ? = 1 THEN ? ELSE permissions END,"
                        " disabled = CASE WHEN ? >= 0 THEN ? ELSE disabled END, updated_at = ? WHERE id = ?",
                        "tiiiiit", name, (int64_t)has_perms, (int64_t)perms, (int64_t)disabled, (int64_t)disabled,
                        ck_now_ms(), id);
    return rc < 0 ? rc : changed > 0;
}

int ck_users_any_enabled_admin(ck_db *db, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM users WHERE disabled = 0 AND (permissions & ?) <> 0", "i",
                       (int64_t)CK_PERM_ADMIN);
    ck_db_done(st);
    return rc;
}

int ck_users_by_id(ck_db *db, const char *id, ck_user *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT id, name, email, permissions FROM users WHERE id = ?", "t", id);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, out->id, sizeof(out->id));
    ck_col_copy(st, 1, out->name, sizeof(out->name));
    ck_col_copy(st, 2, out->email, sizeof(out->email));
    out->perms = (unsigned)ck_col_int(st, 3);
    ck_db_done(st);
    return 1;
}
