/* test_users.c: POST /v1/users (the API key is shown once, only its SHA-256
 * is stored), GET /v1/users/{id}, and POST /v1/users/{id}/accounts. */
#include "api/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

#define NO_SUCH_USER "usr_01M80V5EQG4YHAXXJRNX68ZH9P"
#define NO_SUCH_ACCOUNT "acct_01M80V5EQG4YHAXXJRNX68ZH9P"
/* GET of an unknown request: 404 to any caller whose key works, else 401. */
#define PROBE "/v1/requests/req_01M80V5EQG4YHAXXJRNX68ZH9P"
#define HOUR_MS 3600000LL

static void expect_err(ckt_daemon *d, const char *method, const char *path, const char *key,
                       const char *body, long status, const char *code, const char *reason,
                       const char *field)
{
    ckt_resp r = ckt_http(d, method, path, key, body, NULL);
    ckt_expect_error(&r, status, code, reason, field);
    ckt_free(&r);
}

static void expect_bad(ckt_daemon *d, const char *path, const char *body, const char *reason,
                       const char *field)
{
    expect_err(d, "POST", path, CKT_ADMIN_KEY, body, 400, "BAD_REQUEST", reason, field);
}

static void user_create(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "POST", "/v1/users", CKT_ADMIN_KEY,
                          "{\"name\":\"Pat Buyer\",\"email\":\"pat@example.com\","
                          "\"permissions\":[\"approver\",\"buyer\",\"buyer\"]}",
                          NULL);
    ckt_expect_status(&r, 201);
    char id[64], key[128], path[128];
    snprintf(id, sizeof(id), "%s", ckt_str(r.json, "id"));
    snprintf(key, sizeof(key), "%s", ckt_str(r.json, "apiKey"));
    assert_true(strncmp(id, "usr_", 4) == 0);
    assert_int_equal(strlen(id), 4 + 26);
    assert_string_equal(ckt_str(r.json, "name"), "Pat Buyer");
    assert_string_equal(ckt_str(r.json, "email"), "pat@example.com");
    /* Canonical order, repeats folded. */
    assert_int_equal(json_array_size(ckt_get(r.json, "permissions")), 2);
    assert_string_equal(ckt_str(r.json, "permissions.0"), "buyer");
    assert_string_equal(ckt_str(r.json, "permissions.1"), "approver");
    assert_true(strncmp(key, "ck_", 3) == 0);
    assert_int_equal(strlen(key), 3 + 43);
    assert_int_equal(strlen(ckt_str(r.json, "createdAt")), 24);
    assert_string_equal(ckt_str(r.json, "updatedAt"), ckt_str(r.json, "createdAt"));
    assert_true(json_is_false(ckt_get(r.json, "disabled")));
    assert_int_equal(json_object_size(r.json), 8);
    ckt_free(&r);

    /* Only the SHA-256 hex of the key is stored, nowhere the key itself. */
    char hash[65];
    ck_sha256_hex(hash, key, strlen(key));
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users WHERE id = '%s' AND api_key_hash = '%s'", id,
                                hash),
                     1);
    char stored[128];
    ckt_db_text(&d, stored, sizeof(stored), "SELECT api_key_hash FROM users WHERE id = '%s'", id);
    assert_int_equal(strlen(stored), 64);
    assert_int_equal(strspn(stored, "0123456789abcdef"), 64);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users WHERE instr(api_key_hash, '%s') > 0"
                                    " OR instr(name, '%s') > 0 OR instr(email, '%s') > 0",
                                key, key, key),
                     0);
    assert_int_equal(ckt_db_int(&d, "SELECT permissions FROM users WHERE id = '%s'", id), 1 | 8);

    /* GET shows the user without the key. */
    snprintf(path, sizeof(path), "/v1/users/%s", id);
    r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), id);
    assert_string_equal(ckt_str(r.json, "email"), "pat@example.com");
    assert_string_equal(ckt_str(r.json, "permissions.1"), "approver");
    assert_null(ckt_get(r.json, "apiKey"));
    assert_null(strstr(r.body, key));
    ckt_free(&r);

    /* The key authenticates: a buyer gets 403 (known, not allowed), not 401. */
    expect_err(&d, "GET", path, key, NULL, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    key[5] ^= 1;
    expect_err(&d, "GET", path, key, NULL, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);

    /* A new admin's key does everything an admin may. */
    char aid[64], akey[128];
    ckt_user(&d, "[\"admin\"]", aid, akey);
    r = ckt_http(&d, "GET", path, akey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "name"), "Pat Buyer");
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/users", akey,
                 "{\"name\":\"Ops\",\"email\":\"ops@example.com\",\"permissions\":[\"fulfillment\",\"integrator\"]}",
                 NULL);
    ckt_expect_status(&r, 201);
    assert_string_equal(ckt_str(r.json, "permissions.0"), "integrator");
    assert_string_equal(ckt_str(r.json, "permissions.1"), "fulfillment");
    assert_string_not_equal(ckt_str(r.json, "apiKey"), akey);
    ckt_free(&r);
    /* The daemon's own admin (CHECKOUTD_ADMIN_KEY) is made by the same INSERT
     * as every other user: enabled, updatedAt set. */
    char root[64], rpath[128];
    ckt_db_text(&d, root, sizeof(root), "SELECT id FROM users WHERE name = 'admin'");
    snprintf(rpath, sizeof(rpath), "/v1/users/%s", root);
    r = ckt_http(&d, "GET", rpath, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "permissions.0"), "admin");
    assert_true(json_is_false(ckt_get(r.json, "disabled")));
    assert_string_equal(ckt_str(r.json, "updatedAt"), ckt_str(r.json, "createdAt"));
    ckt_free(&r);
    /* Same email twice is allowed (emails are contact details, not logins). */
    ckt_user(&d, "[\"buyer\"]", aid, akey);
    ckt_user(&d, "[\"buyer\"]", aid, akey);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), 6); /* with the daemon's admin */
    assert_int_equal(ckt_db_int(&d, "SELECT count(DISTINCT api_key_hash) FROM users"), 6);
    ckt_finish(&d);
}

static void user_bad_input(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    const char *p = "/v1/users";
    expect_bad(&d, p, "{\"email\":\"a@b.c\",\"permissions\":[\"buyer\"]}", "MISSING_FIELD", "name");
    expect_bad(&d, p, "{\"name\":\"A\",\"permissions\":[\"buyer\"]}", "MISSING_FIELD", "email");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"a@b.c\"}", "MISSING_FIELD", "permissions");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"a@b.c\",\"permissions\":null}", "MISSING_FIELD",
               "permissions");
    expect_bad(&d, p, "{\"name\":\"\",\"email\":\"a@b.c\",\"permissions\":[\"buyer\"]}", "INVALID_FIELD", "name");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"a@\",\"permissions\":[\"buyer\"]}", "INVALID_FIELD", "email");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"@bc\",\"permissions\":[\"buyer\"]}", "INVALID_FIELD", "email");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"nobody.example.com\",\"permissions\":[\"buyer\"]}",
               "INVALID_FIELD", "email");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"a b@c.d\",\"permissions\":[\"buyer\"]}", "INVALID_FIELD",
               "email");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":[\"a@b.c\"],\"permissions\":[\"buyer\"]}", "INVALID_FIELD",
               "email");
    char big[400];
    snprintf(big, sizeof(big), "{\"name\":\"A\",\"email\":\"%0250d@b.cd\",\"permissions\":[\"buyer\"]}", 0);
    expect_bad(&d, p, big, "INVALID_FIELD", "email"); /* 255 characters */
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"a@b.c\",\"permissions\":[\"god\"]}", "INVALID_FIELD",
               "permissions");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"a@b.c\",\"permissions\":[\"buyer\",\"Admin\"]}",
               "INVALID_FIELD", "permissions");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"a@b.c\",\"permissions\":\"buyer\"}", "INVALID_FIELD",
               "permissions");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"a@b.c\",\"permissions\":[]}", "INVALID_FIELD",
               "permissions");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"a@b.c\",\"permissions\":[4]}", "INVALID_FIELD",
               "permissions");
    expect_bad(&d, p, "{\"name\":\"A\",\"email\":\"a@b.c\",\"permissions\":[\"buyer\"],\"apiKey\":\"ck_x\"}",
               "UNKNOWN_FIELD", "apiKey");
    expect_bad(&d, p, "[\"buyer\"]", "INVALID_BODY", NULL);
    expect_err(&d, "POST", p, CKT_ADMIN_KEY, "{\"name\":\"A\",", 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR",
               NULL);
    /* Nothing was written: only the daemon's own admin exists. */
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), 1);
    /* The shortest address allowed. */
    ckt_resp r = ckt_http(&d, "POST", p, CKT_ADMIN_KEY, "{\"name\":\"A\",\"email\":\"a@b\",\"permissions\":[\"buyer\"]}",
                          NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), 2);
    ckt_finish(&d);
}

static void user_auth(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    const char *body = "{\"name\":\"A\",\"email\":\"a@b.c\",\"permissions\":[\"admin\"]}";
    char uid[64], key[128], acct[64], path[128];
    ckt_user(&d, "[\"buyer\",\"integrator\",\"approver\",\"fulfillment\"]", uid, key);
    ckt_account(&d, NULL, acct);
    expect_err(&d, "POST", "/v1/users", NULL, body, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    expect_err(&d, "POST", "/v1/users", "ck_not_a_key", body, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    /* Every permission but admin is refused. */
    expect_err(&d, "POST", "/v1/users", key, body, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    snprintf(path, sizeof(path), "/v1/users/%s", uid);
    expect_err(&d, "GET", path, NULL, NULL, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    expect_err(&d, "GET", path, key, NULL, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    snprintf(path, sizeof(path), "/v1/users/%s/accounts", uid);
    char give[128];
    snprintf(give, sizeof(give), "{\"accountId\":\"%s\"}", acct);
    expect_err(&d, "POST", path, NULL, give, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    expect_err(&d, "POST", path, key, give, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    expect_err(&d, "GET", "/v1/users/" NO_SUCH_USER, CKT_ADMIN_KEY, NULL, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    expect_err(&d, "DELETE", "/v1/users", CKT_ADMIN_KEY, NULL, 405, "METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED",
               NULL);
    expect_err(&d, "DELETE", "/v1/users/" NO_SUCH_USER, CKT_ADMIN_KEY, NULL, 405, "METHOD_NOT_ALLOWED",
               "METHOD_NOT_ALLOWED", NULL);
    /* The new calls are admin-only too, and a 404 for an unknown user. */
    snprintf(path, sizeof(path), "/v1/users/%s", uid);
    expect_err(&d, "PATCH", path, key, "{\"disabled\":true}", 403, "FORBIDDEN", "FORBIDDEN", NULL);
    expect_err(&d, "PATCH", path, NULL, "{\"disabled\":true}", 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    snprintf(path, sizeof(path), "/v1/users/%s/keys", uid);
    expect_err(&d, "POST", path, key, NULL, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    expect_err(&d, "GET", "/v1/users", key, NULL, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    expect_err(&d, "GET", "/v1/users", NULL, NULL, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    expect_err(&d, "PATCH", "/v1/users/" NO_SUCH_USER, CKT_ADMIN_KEY, "{\"name\":\"X\"}", 404, "NOT_FOUND",
               "NOT_FOUND", NULL);
    expect_err(&d, "POST", "/v1/users/" NO_SUCH_USER "/keys", CKT_ADMIN_KEY, NULL, 404, "NOT_FOUND", "NOT_FOUND",
               NULL);
    assert_int_equal(ckt_db_int(&d, "SELECT disabled FROM users WHERE id = '%s'", uid), 0);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM retired_api_keys"), 0);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), 2);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users WHERE permissions & 4 != 0"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM user_accounts"), 0);
    ckt_finish(&d);
}

static void user_idempotency(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    const char *body = "{\"name\":\"Idem\",\"email\":\"idem@example.com\",\"permissions\":[\"buyer\"]}";
    const char *const h[] = {"Idempotency-Key: user-create-1", NULL};
    ckt_resp a = ckt_http(&d, "POST", "/v1/users", CKT_ADMIN_KEY, body, h);
    ckt_expect_status(&a, 201);
    ckt_resp b = ckt_http(&d, "POST", "/v1/users", CKT_ADMIN_KEY, body, h);
    ckt_expect_status(&b, 201);
    /* The replay is the same user, but the key is shown once only: it is
     * never kept in the idempotency store, so the replay has no apiKey. */
    assert_string_equal(ckt_str(b.json, "id"), ckt_str(a.json, "id"));
    assert_string_equal(ckt_str(b.json, "email"), "idem@example.com");
    assert_null(json_object_get(b.json, "apiKey"));
    const char *key = ckt_str(a.json, "apiKey");
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM idempotency_keys WHERE instr(body, '%s') > 0", key), 0);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM idempotency_keys WHERE body LIKE '%%apiKey%%'"), 0);
    char hv[32];
    assert_int_equal(ckt_header(&b, "Idempotent-Replayed", hv, sizeof(hv)), 1);
    assert_string_equal(hv, "true");
    assert_int_equal(ckt_header(&a, "Idempotent-Replayed", hv, sizeof(hv)), 0);
    ckt_free(&b);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users WHERE name = 'Idem'"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), 2);

    b = ckt_http(&d, "POST", "/v1/users", CKT_ADMIN_KEY,
                 "{\"name\":\"Idem\",\"email\":\"idem@example.com\",\"permissions\":[\"admin\"]}", h);
    ckt_expect_error(&b, 422, "BAD_REQUEST", "IDEMPOTENCY_KEY_REUSED", NULL);
    ckt_free(&b);
    ckt_free(&a);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), 2);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users WHERE permissions & 4 != 0"), 1);
    ckt_finish(&d);
}

static void user_accounts(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char uid[64], key[128], acct[64], acct2[64], path[128];
    ckt_user(&d, "[\"buyer\"]", uid, key);
    ckt_account(&d, NULL, acct);
    ckt_account(&d, NULL, acct2);
    snprintf(path, sizeof(path), "/v1/users/%s/accounts", uid);

    ckt_resp a = ckt_httpf(&d, "POST", path, CKT_ADMIN_KEY, "{\"accountId\":\"%s\"}", acct);
    ckt_expect_status(&a, 201);
    assert_string_equal(ckt_str(a.json, "userId"), uid);
    assert_string_equal(ckt_str(a.json, "accountId"), acct);
    assert_int_equal(strlen(ckt_str(a.json, "createdAt")), 24);
    assert_int_equal(json_object_size(a.json), 3);
    ckt_resp b = ckt_httpf(&d, "POST", path, CKT_ADMIN_KEY, "{\"accountId\":\"%s\"}", acct);
    ckt_expect_status(&b, 200);
    assert_string_equal(b.body, a.body);
    ckt_free(&a);
    ckt_free(&b);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM user_accounts WHERE user_id = '%s'"
                                    " AND account_id = '%s'", uid, acct),
                     1);

    /* Errors write nothing. */
    a = ckt_httpf(&d, "POST", "/v1/users/" NO_SUCH_USER "/accounts", CKT_ADMIN_KEY, "{\"accountId\":\"%s\"}",
                  acct2);
    ckt_expect_error(&a, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&a);
    expect_err(&d, "POST", path, CKT_ADMIN_KEY, "{\"accountId\":\"" NO_SUCH_ACCOUNT "\"}", 404, "NOT_FOUND",
               "NOT_FOUND", NULL);
    expect_bad(&d, path, "{}", "MISSING_FIELD", "accountId");
    expect_bad(&d, path, "{\"accountId\":true}", "INVALID_FIELD", "accountId");
    expect_bad(&d, path, "{\"accountId\":\"usr_01M80V5EQG4YHAXXJRNX68ZH9P\"}", "INVALID_FIELD", "accountId");
    a = ckt_httpf(&d, "POST", path, CKT_ADMIN_KEY, "{\"accountId\":\"%s\",\"role\":\"approver\"}", acct2);
    ckt_expect_error(&a, 400, "BAD_REQUEST", "UNKNOWN_FIELD", "role");
    ckt_free(&a);
    expect_err(&d, "POST", path, CKT_ADMIN_KEY, "{\"accountId\"", 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR",
               NULL);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM user_accounts"), 1);

    /* With an Idempotency-Key: the replay is the first 201, one row. */
    const char *const h[] = {"Idempotency-Key: give-1", NULL};
    char body[128];
    snprintf(body, sizeof(body), "{\"accountId\":\"%s\"}", acct2);
    a = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, body, h);
    ckt_expect_status(&a, 201);
    b = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, body, h);
    ckt_expect_status(&b, 201);
    assert_string_equal(b.body, a.body);
    char hv[32];
    assert_int_equal(ckt_header(&b, "Idempotent-Replayed", hv, sizeof(hv)), 1);
    ckt_free(&a);
    ckt_free(&b);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM user_accounts WHERE user_id = '%s'", uid), 2);
    ckt_finish(&d);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The key authenticates (the probe is a 404) or is refused with reason. */
static void expect_key_works(ckt_daemon *d, const char *key)
{
    expect_err(d, "GET", PROBE, key, NULL, 404, "NOT_FOUND", "NOT_FOUND", NULL);
}

static void expect_key_refused(ckt_daemon *d, const char *key, const char *reason)
{
    expect_err(d, "GET", PROBE, key, NULL, 401, "UNAUTHORIZED", reason, NULL);
}

static ckt_resp patch_user(ckt_daemon *d, const char *id, const char *key, const char *body)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/users/%s", id);
    return ckt_http(d, "PATCH", path, key, body, NULL);
}

/* POST /v1/users/{id}/keys with body (NULL: none); the new key to key_out. */
static void rotate(ckt_daemon *d, const char *id, const char *body, char key_out[128])
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/users/%s/keys", id);
    ckt_resp r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, body, NULL);
    ckt_expect_status(&r, 201);
    assert_int_equal(json_object_size(r.json), 3);
    assert_string_equal(ckt_str(r.json, "userId"), id);
    assert_int_equal(strlen(ckt_str(r.json, "previousKeyExpiresAt")), 24);
    snprintf(key_out, 128, "%s", ckt_str(r.json, "apiKey"));
    assert_true(strncmp(key_out, "ck_", 3) == 0);
    assert_int_equal(strlen(key_out), 3 + 43);
    ckt_free(&r);
}

static void hash_of(const char *key, char out[65])
{
    ck_sha256_hex(out, key, strlen(key));
}

/* Neither table holds the key itself, only hashes. */
static void expect_key_not_stored(ckt_daemon *d, const char *key)
{
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM users WHERE instr(api_key_hash, '%s') > 0", key), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM retired_api_keys WHERE instr(key_hash, '%s') > 0", key), 0);
}

static void user_patch(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char uid[64], key[128], created[32], updated[32];
    ckt_user(&d, "[\"buyer\"]", uid, key);
    expect_err(&d, "GET", "/v1/users", key, NULL, 403, "FORBIDDEN", "FORBIDDEN", NULL);

    ckt_resp r = patch_user(&d, uid, CKT_ADMIN_KEY, "{\"name\":\"Pat Renamed\"}");
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "name"), "Pat Renamed");
    assert_string_equal(ckt_str(r.json, "email"), "user@example.com");
    assert_string_equal(ckt_str(r.json, "permissions.0"), "buyer");
    assert_true(json_is_false(ckt_get(r.json, "disabled")));
    assert_null(ckt_get(r.json, "apiKey"));
    snprintf(created, sizeof(created), "%s", ckt_str(r.json, "createdAt"));
    assert_true(strcmp(ckt_str(r.json, "updatedAt"), created) >= 0);
    ckt_free(&r);
    char name[64];
    ckt_db_text(&d, name, sizeof(name), "SELECT name FROM users WHERE id = '%s'", uid);
    assert_string_equal(name, "Pat Renamed");

    /* permissions replaces the set, and takes effect with the next request. */
    r = patch_user(&d, uid, CKT_ADMIN_KEY, "{\"permissions\":[\"admin\",\"buyer\"]}");
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "permissions")), 2);
    assert_string_equal(ckt_str(r.json, "permissions.1"), "admin");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT permissions FROM users WHERE id = '%s'", uid), 1 | 4);
    r = ckt_http(&d, "GET", "/v1/users", key, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    r = patch_user(&d, uid, CKT_ADMIN_KEY, "{\"permissions\":[\"approver\"]}");
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "permissions")), 1);
    snprintf(updated, sizeof(updated), "%s", ckt_str(r.json, "updatedAt"));
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT permissions FROM users WHERE id = '%s'", uid), 8);
    expect_err(&d, "GET", "/v1/users", key, NULL, 403, "FORBIDDEN", "FORBIDDEN", NULL);

    /* An empty body, or only nulls, changes nothing (updatedAt included). */
    int64_t stamp = ckt_db_int(&d, "SELECT updated_at FROM users WHERE id = '%s'", uid);
    r = patch_user(&d, uid, CKT_ADMIN_KEY, "{}");
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "updatedAt"), updated);
    ckt_free(&r);
    r = patch_user(&d, uid, CKT_ADMIN_KEY, "{\"name\":null,\"permissions\":null,\"disabled\":null}");
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "name"), "Pat Renamed");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT updated_at FROM users WHERE id = '%s'", uid), stamp);

    /* Bad input changes nothing. */
    static const struct {
        const char *body, *reason, *field;
    } bad[] = {
        {"{\"email\":\"new@example.com\"}", "UNKNOWN_FIELD", "email"},
        {"{\"apiKey\":\"ck_x\"}", "UNKNOWN_FIELD", "apiKey"},
        {"{\"id\":\"usr_01M80V5EQG4YHAXXJRNX68ZH9P\"}", "UNKNOWN_FIELD", "id"},
        {"{\"createdAt\":\"2026-01-01T00:00:00.000Z\"}", "UNKNOWN_FIELD", "createdAt"},
        {"{\"role\":\"admin\"}", "UNKNOWN_FIELD", "role"},
        {"{\"name\":\"\"}", "INVALID_FIELD", "name"},
        {"{\"name\":7}", "INVALID_FIELD", "name"},
        {"{\"permissions\":[]}", "INVALID_FIELD", "permissions"},
        {"{\"permissions\":[\"god\"]}", "INVALID_FIELD", "permissions"},
        {"{\"permissions\":\"admin\"}", "INVALID_FIELD", "permissions"},
        {"{\"disabled\":\"yes\"}", "INVALID_FIELD", "disabled"},
        {"{\"disabled\":1}", "INVALID_FIELD", "disabled"},
        {"{\"name\":\"Ok\",\"disabled\":\"no\"}", "INVALID_FIELD", "disabled"},
        {"[]", "INVALID_BODY", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = patch_user(&d, uid, CKT_ADMIN_KEY, bad[i].body);
        ckt_expect_error(&r, 400, "BAD_REQUEST", bad[i].reason, bad[i].field);
        ckt_free(&r);
    }
    r = patch_user(&d, uid, CKT_ADMIN_KEY, "{\"name\":");
    ckt_expect_error(&r, 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL);
    ckt_free(&r);
    ckt_db_text(&d, name, sizeof(name), "SELECT name FROM users WHERE id = '%s'", uid);
    assert_string_equal(name, "Pat Renamed");
    assert_int_equal(ckt_db_int(&d, "SELECT permissions FROM users WHERE id = '%s'", uid), 8);
    assert_int_equal(ckt_db_int(&d, "SELECT disabled FROM users WHERE id = '%s'", uid), 0);
    assert_int_equal(ckt_db_int(&d, "SELECT updated_at FROM users WHERE id = '%s'", uid), stamp);
    ckt_finish(&d);
}

static void user_disable(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char uid[64], key[128], old_key[128], other[64], okey[128];
    ckt_user(&d, "[\"buyer\"]", uid, key);
    ckt_user(&d, "[\"buyer\"]", other, okey);
    expect_key_works(&d, key);

    /* Refused from the very next request, with a reason the key's holder can act on. */
    ckt_resp r = patch_user(&d, uid, CKT_ADMIN_KEY, "{\"disabled\":true}");
    ckt_expect_status(&r, 200);
    assert_true(json_is_true(ckt_get(r.json, "disabled")));
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT disabled FROM users WHERE id = '%s'", uid), 1);
    expect_key_refused(&d, key, "USER_DISABLED");
    expect_key_works(&d, okey); /* nobody else is touched */
    char path[128];
    snprintf(path, sizeof(path), "/v1/users/%s", uid);
    r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_true(json_is_true(ckt_get(r.json, "disabled")));
    ckt_free(&r);

    /* Enabled again: the same key works. */
    r = patch_user(&d, uid, CKT_ADMIN_KEY, "{\"disabled\":false}");
    ckt_expect_status(&r, 200);
    assert_true(json_is_false(ckt_get(r.json, "disabled")));
    ckt_free(&r);
    expect_key_works(&d, key);

    /* A key still in its grace period belongs to the user too: disabling
     * refuses both, enabling restores both. */
    snprintf(old_key, sizeof(old_key), "%s", key);
    rotate(&d, uid, "{\"graceSeconds\":3600}", key);
    expect_key_works(&d, old_key);
    r = patch_user(&d, uid, CKT_ADMIN_KEY, "{\"disabled\":true}");
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    expect_key_refused(&d, key, "USER_DISABLED");
    expect_key_refused(&d, old_key, "USER_DISABLED");
    r = patch_user(&d, uid, CKT_ADMIN_KEY, "{\"disabled\":false}");
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    expect_key_works(&d, key);
    expect_key_works(&d, old_key);
    ckt_finish(&d);
}

/* Nobody could manage users if the last enabled admin went: 409, nothing
 * changed. CHECKOUTD_ADMIN_KEY re-enables its user at start-up. */
static void last_admin(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char root[64], a2[64], a2key[128];
    ckt_db_text(&d, root, sizeof(root), "SELECT id FROM users WHERE (permissions & 4) <> 0");
    ckt_resp r = patch_user(&d, root, CKT_ADMIN_KEY, "{\"disabled\":true}");
    ckt_expect_error(&r, 409, "CONFLICT", "LAST_ADMIN", "disabled");
    ckt_free(&r);
    r = patch_user(&d, root, CKT_ADMIN_KEY, "{\"permissions\":[\"buyer\",\"fulfillment\"]}");
    ckt_expect_error(&r, 409, "CONFLICT", "LAST_ADMIN", "permissions");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT disabled FROM users WHERE id = '%s'", root), 0);
    assert_int_equal(ckt_db_int(&d, "SELECT permissions FROM users WHERE id = '%s'", root), 4);
    /* Keeping admin while changing the rest is fine. */
    r = patch_user(&d, root, CKT_ADMIN_KEY, "{\"permissions\":[\"admin\",\"fulfillment\"]}");
    ckt_expect_status(&r, 200);
    ckt_free(&r);

    /* With a second admin, the first can go; then the second is the last. */
    ckt_user(&d, "[\"admin\"]", a2, a2key);
    r = patch_user(&d, root, a2key, "{\"disabled\":true}");
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    expect_key_refused(&d, CKT_ADMIN_KEY, "USER_DISABLED");
    r = patch_user(&d, a2, a2key, "{\"disabled\":true}");
    ckt_expect_error(&r, 409, "CONFLICT", "LAST_ADMIN", "disabled");
    ckt_free(&r);
    expect_key_works(&d, a2key);

    /* The environment's admin key is enabled again by a restart. */
    assert_int_equal(ckt_stop(&d), 0);
    ckt_restart(&d, NULL, NULL);
    expect_key_works(&d, CKT_ADMIN_KEY);
    assert_int_equal(ckt_db_int(&d, "SELECT disabled FROM users WHERE id = '%s'", root), 0);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users WHERE (permissions & 4) <> 0"), 2);
    ckt_finish(&d);
}

static void key_rotation(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char uid[64], k0[128], k1[128], k2[128], k3[128], k4[128], k5[128], h[65], path[128];
    ckt_user(&d, "[\"buyer\"]", uid, k0);
    snprintf(path, sizeof(path), "/v1/users/%s/keys", uid);

    /* No body: grace 0, the old key stops at once. */
    rotate(&d, uid, NULL, k1);
    assert_string_not_equal(k1, k0);
    expect_key_refused(&d, k0, "UNAUTHORIZED");
    expect_key_works(&d, k1);
    hash_of(k1, h);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users WHERE id = '%s' AND api_key_hash = '%s'", uid, h), 1);
    hash_of(k0, h);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM retired_api_keys WHERE key_hash = '%s'", h), 0);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users WHERE api_key_hash = '%s'", h), 0);
    expect_key_not_stored(&d, k0);
    expect_key_not_stored(&d, k1);

    /* An hour's grace: both work, and the old one is kept as a hash until then. */
    int64_t before = now_ms();
    rotate(&d, uid, "{\"graceSeconds\":3600}", k2);
    int64_t after = now_ms();
    expect_key_works(&d, k1);
    expect_key_works(&d, k2);
    expect_key_not_stored(&d, k2);
    hash_of(k1, h);
    int64_t exp1 = ckt_db_int(&d, "SELECT expires_at FROM retired_api_keys WHERE key_hash = '%s' AND user_id = '%s'",
                              h, uid);
    assert_true(exp1 >= before + HOUR_MS && exp1 <= after + HOUR_MS);
    /* The grace is over (the expiry moved back in the database, not waited for). */
    ckt_db_exec(&d, "UPDATE retired_api_keys SET expires_at = %lld WHERE key_hash = '%s'", (long long)(now_ms() - 1),
                h);
    expect_key_refused(&d, k1, "UNAUTHORIZED");
    expect_key_works(&d, k2);

    /* Rotating again never lengthens an older key's grace: k2's hour stands
     * while k3 gets two. */
    before = now_ms();
    rotate(&d, uid, "{\"graceSeconds\":3600}", k3);
    hash_of(k2, h);
    int64_t exp2 = ckt_db_int(&d, "SELECT expires_at FROM retired_api_keys WHERE key_hash = '%s'", h);
    rotate(&d, uid, "{\"graceSeconds\":7200}", k4);
    after = now_ms();
    assert_int_equal(ckt_db_int(&d, "SELECT expires_at FROM retired_api_keys WHERE key_hash = '%s'", h), exp2);
    assert_true(exp2 <= after + HOUR_MS);
    hash_of(k3, h);
    int64_t exp3 = ckt_db_int(&d, "SELECT expires_at FROM retired_api_keys WHERE key_hash = '%s'", h);
    assert_true(exp3 >= before + 2 * HOUR_MS && exp3 <= after + 2 * HOUR_MS);
    expect_key_works(&d, k2);
    expect_key_works(&d, k3);
    expect_key_works(&d, k4);
    /* A shorter grace cuts the older ones short. */
    rotate(&d, uid, "{\"graceSeconds\":60}", k5);
    assert_true(ckt_db_int(&d, "SELECT max(expires_at) FROM retired_api_keys WHERE user_id = '%s'", uid) <=
                now_ms() + 60000);
    expect_key_works(&d, k4);
    expect_key_works(&d, k3);
    /* And a grace of 0 ends them all; their rows are gone. */
    rotate(&d, uid, "{\"graceSeconds\":0}", k1);
    expect_key_refused(&d, k2, "UNAUTHORIZED");
    expect_key_refused(&d, k3, "UNAUTHORIZED");
    expect_key_refused(&d, k4, "UNAUTHORIZED");
    expect_key_refused(&d, k5, "UNAUTHORIZED");
    expect_key_works(&d, k1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM retired_api_keys WHERE user_id = '%s'", uid), 0);

    /* Bad input rotates nothing. */
    static const struct {
        const char *body, *error_code, *reason, *field;
    } bad[] = {
        {"{\"graceSeconds\":-1}", "BAD_REQUEST", "INVALID_FIELD", "graceSeconds"},
        {"{\"graceSeconds\":2592001}", "BAD_REQUEST", "INVALID_FIELD", "graceSeconds"},
        {"{\"graceSeconds\":\"60\"}", "BAD_REQUEST", "INVALID_FIELD", "graceSeconds"},
        {"{\"graceSeconds\":1.5}", "BAD_REQUEST", "INVALID_FIELD", "graceSeconds"},
        {"{\"grace\":60}", "BAD_REQUEST", "UNKNOWN_FIELD", "grace"},
        {"[60]", "BAD_REQUEST", "INVALID_BODY", NULL},
        {"{\"graceSeconds\":", "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL},
    };
    hash_of(k1, h);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_err(&d, "POST", path, CKT_ADMIN_KEY, bad[i].body, 400, bad[i].error_code, bad[i].reason,
                   bad[i].field);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users WHERE id = '%s' AND api_key_hash = '%s'", uid, h), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM retired_api_keys"), 0);
    expect_key_works(&d, k1);

    /* The bound itself, null (the default) and an empty object are fine. */
    rotate(&d, uid, "{\"graceSeconds\":2592000}", k2);
    expect_key_works(&d, k1);
    rotate(&d, uid, "{\"graceSeconds\":null}", k3);
    expect_key_refused(&d, k1, "UNAUTHORIZED"); /* cut short by the grace of 0 */
    expect_key_refused(&d, k2, "UNAUTHORIZED");
    rotate(&d, uid, "{}", k4);
    expect_key_refused(&d, k3, "UNAUTHORIZED");
    expect_key_works(&d, k4);
    ckt_finish(&d);
}

/* The new key is shown once: an idempotent replay neither shows it nor
 * rotates again, and it is not kept in the idempotency store. */
static void key_rotation_idempotency(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char uid[64], k0[128], path[128], h[65];
    ckt_user(&d, "[\"buyer\"]", uid, k0);
    snprintf(path, sizeof(path), "/v1/users/%s/keys", uid);
    const char *const hd[] = {"Idempotency-Key: rotate-1", NULL};
    ckt_resp a = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, "{\"graceSeconds\":60}", hd);
    ckt_expect_status(&a, 201);
    const char *k1 = ckt_str(a.json, "apiKey");
    hash_of(k1, h);
    ckt_resp b = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, "{\"graceSeconds\":60}", hd);
    ckt_expect_status(&b, 201);
    assert_null(ckt_get(b.json, "apiKey"));
    assert_string_equal(ckt_str(b.json, "userId"), uid);
    char hv[16];
    assert_int_equal(ckt_header(&b, "Idempotent-Replayed", hv, sizeof(hv)), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users WHERE id = '%s' AND api_key_hash = '%s'", uid, h), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM retired_api_keys WHERE user_id = '%s'", uid), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM idempotency_keys WHERE instr(body, '%s') > 0", k1), 0);
    expect_key_works(&d, k1);
    expect_key_works(&d, k0);
    ckt_free(&a);
    ckt_free(&b);
    ckt_finish(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(user_create),      cmocka_unit_test(user_bad_input),
        cmocka_unit_test(user_auth),        cmocka_unit_test(user_idempotency),
        cmocka_unit_test(user_accounts),    cmocka_unit_test(user_patch),
        cmocka_unit_test(user_disable),     cmocka_unit_test(last_admin),
        cmocka_unit_test(key_rotation),     cmocka_unit_test(key_rotation_idempotency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
