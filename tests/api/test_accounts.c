/* test_accounts.c: POST/GET/PATCH /v1/accounts and store membership
 * (POST /v1/stores/{id}/members, DELETE /v1/stores/{id}/members/{accountId}). */
#include "api/fixtures.h"

#include <stdio.h>
#include <string.h>

#define FULL_ACCOUNT                                                                         \
    "{\"name\":\"Acme Corp\",\"isBuyer\":true,\"creditLimit\":100000,\"prepaidBalance\":2500," \
    "\"hazmatApproved\":true,\"country\":\"DE\"}"
#define NO_SUCH_ACCOUNT "acct_01M80V5EQG4YHAXXJRNX68ZH9P"
#define NO_SUCH_STORE "store_01M80V5EQG4YHAXXJRNX68ZH9P"

/* POSTs body to path as the admin and asserts the error envelope. */
static void expect_post_error(ckt_daemon *d, const char *method, const char *path, const char *body,
                              long status, const char *code, const char *reason, const char *field)
{
    ckt_resp r = ckt_http(d, method, path, CKT_ADMIN_KEY, body, NULL);
    ckt_expect_error(&r, status, code, reason, field);
    ckt_free(&r);
}

static void expect_bad(ckt_daemon *d, const char *method, const char *path, const char *body,
                       const char *reason, const char *field)
{
    expect_post_error(d, method, path, body, 400, "BAD_REQUEST", reason, field);
}

static void account_lifecycle(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "POST", "/v1/accounts", CKT_ADMIN_KEY, FULL_ACCOUNT, NULL);
    ckt_expect_status(&r, 201);
    char id[64], path[128];
    snprintf(id, sizeof(id), "%s", ckt_str(r.json, "id"));
    assert_true(strncmp(id, "acct_", 5) == 0);
    assert_int_equal(strlen(id), 5 + 26);
    assert_string_equal(ckt_str(r.json, "name"), "Acme Corp");
    assert_true(json_is_true(ckt_get(r.json, "isBuyer")));
    assert_int_equal(ckt_int(r.json, "creditLimit"), 100000);
    assert_int_equal(ckt_int(r.json, "creditUsed"), 0);
    assert_int_equal(ckt_int(r.json, "prepaidBalance"), 2500);
    assert_true(json_is_true(ckt_get(r.json, "hazmatApproved")));
    assert_string_equal(ckt_str(r.json, "country"), "DE");
    ckt_expect_time_ms(r.json, "createdAt");
    ckt_expect_time_ms(r.json, "updatedAt");
    assert_int_equal(json_object_size(r.json), 10);
    char *created = strdup(r.body);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts WHERE id = '%s' AND credit_limit = 100000"
                                    " AND prepaid_balance = 2500 AND is_buyer = 1 AND hazmat_approved = 1"
                                    " AND credit_used = 0 AND country = 'DE'", id),
                     1);

    snprintf(path, sizeof(path), "/v1/accounts/%s", id);
    r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(r.body, created); /* GET gives what POST gave */
    ckt_free(&r);
    free(created);

    /* PATCH one field: the others keep their values. */
    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY, "{\"creditLimit\":5000,\"name\":\"Acme GmbH\"}", NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), id);
    assert_int_equal(ckt_int(r.json, "creditLimit"), 5000);
    assert_string_equal(ckt_str(r.json, "name"), "Acme GmbH");
    assert_int_equal(ckt_int(r.json, "prepaidBalance"), 2500);
    assert_true(json_is_true(ckt_get(r.json, "isBuyer")));
    assert_true(json_is_true(ckt_get(r.json, "hazmatApproved")));
    assert_string_equal(ckt_str(r.json, "country"), "DE");
    ckt_free(&r);

    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY,
                 "{\"isBuyer\":false,\"hazmatApproved\":false,\"prepaidBalance\":0,\"country\":\"FR\","
                 "\"creditLimit\":100000000000000}",
                 NULL);
    ckt_expect_status(&r, 200);
    assert_true(json_is_false(ckt_get(r.json, "isBuyer")));
    assert_true(json_is_false(ckt_get(r.json, "hazmatApproved")));
    assert_int_equal(ckt_int(r.json, "prepaidBalance"), 0);
    assert_int_equal(ckt_int(r.json, "creditLimit"), 100000000000000LL);
    assert_string_equal(ckt_str(r.json, "country"), "FR");
    assert_string_equal(ckt_str(r.json, "name"), "Acme GmbH");
    ckt_free(&r);

    /* null means absent; an empty PATCH changes nothing. */
    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY, "{\"name\":null}", NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "name"), "Acme GmbH");
    ckt_free(&r);
    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY, "{}", NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "country"), "FR");
    ckt_free(&r);

    r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_true(json_is_false(ckt_get(r.json, "isBuyer")));
    assert_int_equal(ckt_int(r.json, "creditLimit"), 100000000000000LL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts WHERE id = '%s' AND name = 'Acme GmbH'"
                                    " AND is_buyer = 0 AND country = 'FR'", id),
                     1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts"), 1);
    ckt_finish(&d);
}

static void account_defaults(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "POST", "/v1/accounts", CKT_ADMIN_KEY,
                          "{\"name\":\"Min\",\"country\":\"US\",\"creditLimit\":null}", NULL);
    ckt_expect_status(&r, 201);
    assert_true(json_is_true(ckt_get(r.json, "isBuyer")));
    assert_int_equal(ckt_int(r.json, "creditLimit"), 0);
    assert_int_equal(ckt_int(r.json, "creditUsed"), 0);
    assert_int_equal(ckt_int(r.json, "prepaidBalance"), 0);
    assert_true(json_is_false(ckt_get(r.json, "hazmatApproved")));
    assert_string_equal(ckt_str(r.json, "createdAt"), ckt_str(r.json, "updatedAt"));
    ckt_free(&r);
    /* The harness's default account fixture works too. */
    char id[64];
    ckt_account(&d, NULL, id);
    assert_int_equal(ckt_db_int(&d, "SELECT credit_limit FROM accounts WHERE id = '%s'", id), 100000);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts"), 2);
    ckt_finish(&d);
}

static void account_bad_input(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    const char *p = "/v1/accounts";
    expect_bad(&d, "POST", p, "{\"country\":\"US\"}", "MISSING_FIELD", "name");
    expect_bad(&d, "POST", p, "{\"name\":null,\"country\":\"US\"}", "MISSING_FIELD", "name");
    expect_bad(&d, "POST", p, "{\"name\":\"A\"}", "MISSING_FIELD", "country");
    expect_bad(&d, "POST", p, "{\"name\":\"\",\"country\":\"US\"}", "INVALID_FIELD", "name");
    expect_bad(&d, "POST", p, "{\"name\":7,\"country\":\"US\"}", "INVALID_FIELD", "name");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"US\",\"creditLimit\":-1}", "INVALID_FIELD",
               "creditLimit");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"US\",\"creditLimit\":\"100\"}", "INVALID_FIELD",
               "creditLimit");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"US\",\"creditLimit\":1.5}", "INVALID_FIELD",
               "creditLimit");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"US\",\"creditLimit\":100000000000001}",
               "INVALID_FIELD", "creditLimit");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"US\",\"prepaidBalance\":-5}", "INVALID_FIELD",
               "prepaidBalance");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"US\",\"isBuyer\":\"yes\"}", "INVALID_FIELD",
               "isBuyer");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"US\",\"hazmatApproved\":1}", "INVALID_FIELD",
               "hazmatApproved");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"usa\"}", "INVALID_FIELD", "country");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"us\"}", "INVALID_FIELD", "country");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"U1\"}", "INVALID_FIELD", "country");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"US\",\"colour\":\"red\"}", "UNKNOWN_FIELD",
               "colour");
    expect_bad(&d, "POST", p, "{\"name\":\"A\",\"country\":\"US\",\"creditUsed\":0}", "UNKNOWN_FIELD",
               "creditUsed");
    expect_bad(&d, "POST", p, "[1,2]", "INVALID_BODY", NULL);
    expect_post_error(&d, "POST", p, "{\"name\":", 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL);
    expect_post_error(&d, "POST", p, "", 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL);
    /* A 201-character name is one too many. */
    char big[512];
    snprintf(big, sizeof(big), "{\"name\":\"%0201d\",\"country\":\"US\"}", 0);
    expect_bad(&d, "POST", p, big, "INVALID_FIELD", "name");
    /* Nothing was written by any of the above. */
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts"), 0);

    expect_post_error(&d, "GET", "/v1/accounts/" NO_SUCH_ACCOUNT, NULL, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    expect_post_error(&d, "PATCH", "/v1/accounts/" NO_SUCH_ACCOUNT, "{\"name\":\"B\"}", 404, "NOT_FOUND",
                      "NOT_FOUND", NULL);
    expect_post_error(&d, "PATCH", "/v1/accounts/" NO_SUCH_ACCOUNT, "{}", 404, "NOT_FOUND", "NOT_FOUND", NULL);

    /* A bad PATCH leaves the account as it was. */
    char id[64], path[128];
    ckt_account(&d, NULL, id);
    snprintf(path, sizeof(path), "/v1/accounts/%s", id);
    expect_bad(&d, "PATCH", path, "{\"name\":\"Changed\",\"creditLimit\":-1}", "INVALID_FIELD", "creditLimit");
    expect_bad(&d, "PATCH", path, "{\"name\":\"Changed\",\"country\":\"usa\"}", "INVALID_FIELD", "country");
    expect_bad(&d, "PATCH", path, "{\"name\":\"Changed\",\"isBuyer\":\"no\"}", "INVALID_FIELD", "isBuyer");
    expect_bad(&d, "PATCH", path, "{\"creditUsed\":0}", "UNKNOWN_FIELD", "creditUsed");
    expect_bad(&d, "PATCH", path, "{\"id\":\"acct_x\"}", "UNKNOWN_FIELD", "id");
    expect_bad(&d, "PATCH", path, "{\"name\":\"\"}", "INVALID_FIELD", "name");
    expect_post_error(&d, "PATCH", path, "{\"name\"", 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts WHERE name = 'Acme' AND credit_limit = 100000"
                                    " AND country = 'US' AND is_buyer = 1 AND created_at = updated_at"),
                     1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts"), 1);
    ckt_finish(&d);
}

static void account_auth(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char acct[64], store[64], uid[64], key[128], path[256];
    ckt_account(&d, NULL, acct);
    ckt_store(&d, store);
    ckt_user(&d, "[\"buyer\",\"integrator\",\"approver\",\"fulfillment\"]", uid, key);
    ckt_give_account(&d, uid, acct);

    ckt_resp r = ckt_http(&d, "POST", "/v1/accounts", NULL, FULL_ACCOUNT, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/accounts", "ck_not_a_key", FULL_ACCOUNT, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/accounts/%s", acct);
    r = ckt_http(&d, "GET", path, NULL, NULL, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);

    /* Every non-admin permission is refused, even for the user's own account. */
    r = ckt_http(&d, "POST", "/v1/accounts", key, FULL_ACCOUNT, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "GET", path, key, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "PATCH", path, key, "{\"creditLimit\":999999999}", NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/stores/%s/members", store);
    r = ckt_httpf(&d, "POST", path, key, "{\"accountId\":\"%s\"}", acct);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    r = ckt_httpf(&d, "POST", path, NULL, "{\"accountId\":\"%s\"}", acct);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    ckt_member(&d, store, acct);
    snprintf(path, sizeof(path), "/v1/stores/%s/members/%s", store, acct);
    r = ckt_http(&d, "DELETE", path, key, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "DELETE", path, NULL, NULL, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "PUT", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 405, "METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "DELETE", "/v1/accounts", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 405, "METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED", NULL);
    ckt_free(&r);

    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT credit_limit FROM accounts WHERE id = '%s'", acct), 100000);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM store_members"), 1);
    ckt_finish(&d);
}

static void account_idempotency(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    const char *const h1[] = {"Idempotency-Key: acct-create-1", NULL};
    ckt_resp a = ckt_http(&d, "POST", "/v1/accounts", CKT_ADMIN_KEY, FULL_ACCOUNT, h1);
    ckt_expect_status(&a, 201);
    char hv[32];
    assert_int_equal(ckt_header(&a, "Idempotent-Replayed", hv, sizeof(hv)), 0);
    ckt_resp b = ckt_http(&d, "POST", "/v1/accounts", CKT_ADMIN_KEY, FULL_ACCOUNT, h1);
    ckt_expect_status(&b, 201);
    assert_string_equal(b.body, a.body);
    assert_int_equal(ckt_header(&b, "Idempotent-Replayed", hv, sizeof(hv)), 1);
    assert_string_equal(hv, "true");
    ckt_free(&b);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts"), 1);

    /* Same key, another body: 422, and still one account. */
    b = ckt_http(&d, "POST", "/v1/accounts", CKT_ADMIN_KEY, "{\"name\":\"Other\",\"country\":\"US\"}", h1);
    ckt_expect_error(&b, 422, "BAD_REQUEST", "IDEMPOTENCY_KEY_REUSED", NULL);
    ckt_free(&b);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts"), 1);

    /* Without a key the same body makes a second account. */
    b = ckt_http(&d, "POST", "/v1/accounts", CKT_ADMIN_KEY, FULL_ACCOUNT, NULL);
    ckt_expect_status(&b, 201);
    assert_string_not_equal(ckt_str(b.json, "id"), ckt_str(a.json, "id"));
    ckt_free(&b);
    ckt_free(&a);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts"), 2);

    /* A 4xx is the first response too, and is replayed. */
    const char *const h2[] = {"Idempotency-Key: acct-create-2", NULL};
    a = ckt_http(&d, "POST", "/v1/accounts", CKT_ADMIN_KEY, "{\"name\":\"A\",\"country\":\"usa\"}", h2);
    ckt_expect_error(&a, 400, "BAD_REQUEST", "INVALID_FIELD", "country");
    b = ckt_http(&d, "POST", "/v1/accounts", CKT_ADMIN_KEY, "{\"name\":\"A\",\"country\":\"usa\"}", h2);
    ckt_expect_error(&b, 400, "BAD_REQUEST", "INVALID_FIELD", "country");
    assert_string_equal(b.body, a.body);
    assert_int_equal(ckt_header(&b, "Idempotent-Replayed", hv, sizeof(hv)), 1);
    ckt_free(&a);
    ckt_free(&b);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts"), 2);
    ckt_finish(&d);
}

static void store_members(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char store[64], acct[64], other[64], path[256], dpath[256];
    ckt_store(&d, store);
    ckt_account(&d, NULL, acct);
    ckt_account(&d, NULL, other);
    snprintf(path, sizeof(path), "/v1/stores/%s/members", store);

    ckt_resp a = ckt_httpf(&d, "POST", path, CKT_ADMIN_KEY, "{\"accountId\":\"%s\"}", acct);
    ckt_expect_status(&a, 201);
    assert_string_equal(ckt_str(a.json, "storeId"), store);
    assert_string_equal(ckt_str(a.json, "accountId"), acct);
    ckt_expect_time_ms(a.json, "createdAt");
    assert_int_equal(json_object_size(a.json), 3);
    /* Again: 200 with the same body (the original createdAt), one row. */
    ckt_resp b = ckt_httpf(&d, "POST", path, CKT_ADMIN_KEY, "{\"accountId\":\"%s\"}", acct);
    ckt_expect_status(&b, 200);
    assert_string_equal(b.body, a.body);
    ckt_free(&a);
    ckt_free(&b);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM store_members WHERE store_id = '%s'"
                                    " AND account_id = '%s'", store, acct),
                     1);

    /* Errors: nothing written. */
    a = ckt_httpf(&d, "POST", "/v1/stores/" NO_SUCH_STORE "/members", CKT_ADMIN_KEY, "{\"accountId\":\"%s\"}",
                  other);
    ckt_expect_error(&a, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&a);
    expect_post_error(&d, "POST", path, "{\"accountId\":\"" NO_SUCH_ACCOUNT "\"}", 404, "NOT_FOUND",
                      "NOT_FOUND", NULL);
    expect_bad(&d, "POST", path, "{}", "MISSING_FIELD", "accountId");
    expect_bad(&d, "POST", path, "{\"accountId\":null}", "MISSING_FIELD", "accountId");
    expect_bad(&d, "POST", path, "{\"accountId\":42}", "INVALID_FIELD", "accountId");
    expect_bad(&d, "POST", path, "{\"accountId\":\"store_01M80V5EQG4YHAXXJRNX68ZH9P\"}", "INVALID_FIELD",
               "accountId");
    a = ckt_httpf(&d, "POST", path, CKT_ADMIN_KEY, "{\"accountId\":\"%s\",\"role\":\"x\"}", other);
    ckt_expect_error(&a, 400, "BAD_REQUEST", "UNKNOWN_FIELD", "role");
    ckt_free(&a);
    expect_post_error(&d, "POST", path, "{\"accountId\":", 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM store_members"), 1);

    /* Idempotency-Key on a member add: replayed, one row. */
    const char *const h[] = {"Idempotency-Key: member-1", NULL};
    char body[128];
    snprintf(body, sizeof(body), "{\"accountId\":\"%s\"}", other);
    a = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, body, h);
    ckt_expect_status(&a, 201);
    b = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, body, h);
    ckt_expect_status(&b, 201); /* the first response, not the 200 of a second add */
    assert_string_equal(b.body, a.body);
    char hv[32];
    assert_int_equal(ckt_header(&b, "Idempotent-Replayed", hv, sizeof(hv)), 1);
    assert_string_equal(hv, "true");
    ckt_free(&a);
    ckt_free(&b);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM store_members WHERE account_id = '%s'", other), 1);

    /* DELETE: 204 with no body, then 404. */
    snprintf(dpath, sizeof(dpath), "/v1/stores/%s/members/%s", store, acct);
    a = ckt_http(&d, "DELETE", dpath, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&a, 204);
    assert_string_equal(a.body, "");
    ckt_free(&a);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM store_members WHERE account_id = '%s'", acct), 0);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM store_members WHERE account_id = '%s'", other), 1);
    expect_post_error(&d, "DELETE", dpath, NULL, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    snprintf(dpath, sizeof(dpath), "/v1/stores/" NO_SUCH_STORE "/members/%s", other);
    expect_post_error(&d, "DELETE", dpath, NULL, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM store_members"), 1);
    /* The account itself is untouched and can be added back (201 again). */
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM accounts"), 2);
    a = ckt_httpf(&d, "POST", path, CKT_ADMIN_KEY, "{\"accountId\":\"%s\"}", acct);
    ckt_expect_status(&a, 201);
    ckt_free(&a);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM store_members"), 2);
    ckt_finish(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(account_lifecycle),   cmocka_unit_test(account_defaults),
        cmocka_unit_test(account_bad_input),   cmocka_unit_test(account_auth),
        cmocka_unit_test(account_idempotency), cmocka_unit_test(store_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
