/* users.c: POST and GET /v1/users, GET/PATCH /v1/users/{id}, key rotation
 * (POST /v1/users/{id}/keys) and POST /v1/users/{id}/accounts. Only the
 * SHA-256 of a user's API key is stored (core/user.c); a key is shown once,
 * in the reply that made it. */
#include <stdlib.h>
#include <string.h>

#include "store/accounts.h"
#include "store/users.h"
#include "api/common.h"
#include "api/routes.h"

#define EMAIL_MAX 254

static json_t *user_json(const ck_user_row *u)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:b, s:o, s:o}", "id", u->id, "name", u->name, "email", u->email,
                     "permissions", ck_perms_to_json(u->perms), "disabled", u->disabled, "createdAt",
                     ck_json_time(u->created_at), "updatedAt", ck_json_time(u->updated_at));
}

/* Replies with the user (never the key), or 404. apikey, when not NULL, is
 * added as "apiKey" (the create reply only). */
static int reply_user(ck_req *req, int status, const char *id, const char *apikey, ck_error *err)
{
    ck_user_row u;
    int rc = ck_or_404(ck_users_get(req->db, id, &u, err), "user", id, err);
    if (rc < 0)
        return rc;
    json_t *j = user_json(&u);
    if (apikey) {
        json_object_set_new(j, "apiKey", json_string(apikey));
        req->idem_redact = "apiKey"; /* never kept for an idempotent replay */
    }
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
static int read_perms(json_t *b, int required, unsigned *out, ck_error *err)
{
    json_t *arr = NULL;
    int rc = ck_in_array(b, "permissions", required, 16, &arr, err);
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
        (rc = read_email(b, &email, err)) < 0 || (rc = read_perms(b, CK_REQUIRED, &perms, err)) < 0)
        return rc;
    if ((rc = ck_user_new_key(key, hash, err)) < 0)
        return rc;
    rc = ck_user_insert(req->db, name, email, perms, hash, id, err);
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

/* GET /v1/users: every user (never a key), oldest first. */
static int list_users(ck_req *req, ck_error *err)
{
    int64_t limit, n = 0;
    const char *after;
    int rc = ck_page_params(req, "usr", &limit, &after, err);
    if (rc < 0)
        return rc;
    ck_user_row *rows = calloc((size_t)limit, sizeof(*rows));
    if (!rows)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    if ((rc = ck_users_list(req->db, after, limit, rows, &n, err)) == 0) {
        json_t *items = json_array();
        for (int64_t i = 0; i < n; i++)
            json_array_append_new(items, user_json(&rows[i]));
        rc = ck_reply(req, 200, ck_page(items, limit, n ? rows[n - 1].id : ""));
    }
    free(rows);
    return rc;
}

/* 409 LAST_ADMIN when no enabled admin is left (the caller's transaction then
 * rolls back): nobody could manage users any more. field names what the
 * PATCH changed. */
static int keep_an_admin(ck_req *req, const char *field, ck_error *err)
{
    int rc = ck_users_any_enabled_admin(req->db, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    return ck_fail(err, CK_ECONFLICT, "LAST_ADMIN", field,
                   "this would leave no enabled user with the admin permission");
}

/* PATCH /v1/users/{id}: any of name, permissions (replaces the set) and
 * disabled. A disabled user's keys are refused from the next request on;
 * enabling it again restores them. The email and the key are not changed
 * here. An empty body changes nothing and returns the user. */
static int patch_user(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"name", "permissions", "disabled", NULL};
    static const char *const kept[] = {"id", "email", "apiKey", "createdAt", "updatedAt", NULL};
    const char *id = req->params[0], *name = NULL;
    json_t *b = req->json;
    unsigned perms = 0;
    int disabled = -1, rc, has_perms;
    for (int i = 0; kept[i]; i++)
        if (json_object_get(b, kept[i]))
            return ck_fail(err, CK_EINVALID, "UNKNOWN_FIELD", kept[i], "'%s' cannot be changed with PATCH%s",
                           kept[i], strcmp(kept[i], "apiKey") == 0 ? "; use POST /v1/users/{id}/keys" : "");
    if ((rc = ck_in_only(b, fields, err)) < 0 ||
        (rc = ck_in_str(b, "name", CK_OPTIONAL, CK_NAME_MAX, &name, err)) < 0 ||
        (rc = has_perms = read_perms(b, CK_OPTIONAL, &perms, err)) < 0 ||
        (rc = ck_in_bool(b, "disabled", CK_OPTIONAL, &disabled, err)) < 0)
        return rc;
    if (!name && !has_perms && disabled < 0)
        return reply_user(req, 200, id, NULL, err);
    if ((rc = ck_or_404(ck_users_update(req->db, id, name, has_perms, perms, disabled, err), "user", id, err)) < 0)
        return rc;
    if ((disabled == 1 || (has_perms && !(perms & CK_PERM_ADMIN))) &&
        (rc = keep_an_admin(req, disabled == 1 ? "disabled" : "permissions", err)) < 0)
        return rc;
    return reply_user(req, 200, id, NULL, err);
}

/* POST /v1/users/{id}/keys {"graceSeconds"?}: 201 {"userId","apiKey",
 * "previousKeyExpiresAt"}. The new key is shown only in this reply (never
 * kept for an idempotent replay); the one it replaces works for
 * graceSeconds more (default 0: not at all). */
static int rotate_key(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"graceSeconds", NULL};
    const char *id = req->params[0];
    int64_t grace = 0, until = 0;
    char key[64];
    int rc;
    if ((rc = ck_body_optional(req, err)) < 0)
        return rc;
    if (req->json && ((rc = ck_in_only(req->json, fields, err)) < 0 ||
                      (rc = ck_in_int(req->json, "graceSeconds", CK_OPTIONAL, 0, CK_GRACE_MAX_SECONDS, &grace,
                                      err)) < 0))
        return rc;
    if ((rc = ck_user_rotate_key(req->db, id, grace, key, &until, err)) < 0)
        return rc;
    json_t *j = json_pack("{s:s, s:s, s:o}", "userId", id, "apiKey", key, "previousKeyExpiresAt", ck_json_time(until));
    ck_secure_zero(key, sizeof(key));
    req->idem_redact = "apiKey";
    return ck_reply(req, 201, j);
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
    int added = 0;
    int64_t created_at = 0;
    if ((rc = ck_or_404(ck_users_exists(req->db, user_id, err), "user", user_id, err)) < 0 ||
        (rc = ck_or_404(ck_accounts_exists(req->db, account_id, err), "account", account_id, err)) < 0 ||
        (rc = ck_users_give_account(req->db, user_id, account_id, &added, &created_at, err)) < 0)
        return rc;
    return ck_reply(req, added ? 201 : 200,
                    json_pack("{s:s, s:s, s:o}", "userId", user_id, "accountId", account_id, "createdAt",
                              ck_json_time(created_at)));
}

const ck_route ck_routes_users[] = {
    {"POST", "/v1/users", create_user, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"GET", "/v1/users", list_users, 0, CK_PERM_ADMIN},
    {"GET", "/v1/users/{id}", get_user, 0, CK_PERM_ADMIN},
    {"PATCH", "/v1/users/{id}", patch_user, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"POST", "/v1/users/{id}/keys", rotate_key, CK_ROUTE_TX, CK_PERM_ADMIN},
    {"POST", "/v1/users/{id}/accounts", give_account, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {0},
};
