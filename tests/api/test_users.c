/* test_users.c: POST /v1/users (the API key is shown once, only its SHA-256
 * is stored), GET /v1/users/{id}, and POST /v1/users/{id}/accounts. */
#include "api/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define NO_SUCH_USER "usr_01M80V5EQG4YHAXXJRNX68ZH9P"
#define NO_SUCH_ACCOUNT "acct_01M80V5EQG4YHAXXJRNX68ZH9P"

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
    assert_int_equal(json_object_size(r.json), 6);
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
    expect_err(&d, "PATCH", "/v1/users/" NO_SUCH_USER, CKT_ADMIN_KEY, "{}", 405, "METHOD_NOT_ALLOWED",
               "METHOD_NOT_ALLOWED", NULL);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(user_create),      cmocka_unit_test(user_bad_input),
        cmocka_unit_test(user_auth),        cmocka_unit_test(user_idempotency),
        cmocka_unit_test(user_accounts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
