/* test_contracts_subscribers.c: POST/GET /v1/contracts and POST/GET
 * /v1/subscribers (webhook and email), including that secrets never come back. */
#include "api/harness.h"

#include <stdio.h>
#include <string.h>

#define NO_ACCOUNT "acct_01M80V5EQG4YHAXXJRNX68ZH9P"
#define WH_SECRET "whsec-do-not-echo-4711"

typedef struct bad_case {
    const char *body;
    long status;
    const char *error_code, *reason, *field;
} bad_case;

/* Sends each body to method path and expects its error; names the case that fails. */
static void expect_errors(ckt_daemon *d, const char *method, const char *path, const bad_case *c)
{
    for (; c->body; c++) {
        ckt_resp r = ckt_http(d, method, path, CKT_ADMIN_KEY, c->body, NULL);
        json_t *e = json_array_get(r.json, 0);
        const char *reason = json_string_value(json_object_get(e, "reason"));
        const char *field = json_string_value(json_object_get(e, "field"));
        if (r.status != c->status || !reason || strcmp(reason, c->reason) ||
            (c->field && (!field || strcmp(field, c->field))))
            fprintf(stderr, "case %s %s %s -> %ld %s\n", method, path, c->body, r.status, r.body);
        ckt_expect_error(&r, c->status, c->error_code, c->reason, c->field);
        ckt_free(&r);
    }
}

static void expect_time(json_t *j, const char *path)
{
    const char *t = ckt_str(j, path);
    assert_int_equal(strlen(t), 24);
    assert_int_equal(t[23], 'Z');
}

static void contract_lifecycle(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char acct[64], id[64], path[160];
    ckt_account(&d, NULL, acct);
    ckt_resp r = ckt_httpf(&d, "POST", "/v1/contracts", CKT_ADMIN_KEY,
                           "{\"accountId\":\"%s\",\"amount\":500000}", acct);
    ckt_expect_status(&r, 201);
    snprintf(id, sizeof(id), "%s", ckt_str(r.json, "id"));
    assert_true(strncmp(id, "ctr_", 4) == 0);
    assert_string_equal(ckt_str(r.json, "accountId"), acct);
    assert_int_equal(ckt_int(r.json, "amount"), 500000);
    assert_int_equal(ckt_int(r.json, "remaining"), 500000);
    assert_true(json_is_true(ckt_get(r.json, "active")));
    expect_time(r.json, "createdAt");
    assert_int_equal(json_object_size(r.json), 6);
    ckt_free(&r);

    snprintf(path, sizeof(path), "/v1/contracts/%s", id);
    r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), id);
    assert_string_equal(ckt_str(r.json, "accountId"), acct);
    assert_int_equal(ckt_int(r.json, "remaining"), 500000);
    ckt_free(&r);

    r = ckt_httpf(&d, "POST", "/v1/contracts", CKT_ADMIN_KEY,
                  "{\"accountId\":\"%s\",\"amount\":1,\"active\":false}", acct);
    ckt_expect_status(&r, 201);
    assert_true(json_is_false(ckt_get(r.json, "active")));
    assert_int_equal(ckt_int(r.json, "remaining"), 1);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM contracts WHERE account_id = '%s'", acct), 2);
    assert_int_equal(ckt_db_int(&d, "SELECT remaining FROM contracts WHERE id = '%s'", id), 500000);
    ckt_finish(&d);
}

static void contract_bad_input(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char acct[64];
    ckt_account(&d, NULL, acct);
    ckt_resp r = ckt_http(&d, "POST", "/v1/contracts", CKT_ADMIN_KEY,
                          "{\"accountId\":\"" NO_ACCOUNT "\",\"amount\":500}", NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", "accountId");
    ckt_free(&r);
    static const bad_case bad[] = {
        {"{\"amount\":500}", 400, "BAD_REQUEST", "MISSING_FIELD", "accountId"},
        {"{\"accountId\":\"store_01M80V5EQG4YHAXXJRNX68ZH9P\",\"amount\":500}", 400, "BAD_REQUEST",
         "INVALID_FIELD", "accountId"},
        {"{\"accountId\":42,\"amount\":500}", 400, "BAD_REQUEST", "INVALID_FIELD", "accountId"},
        {"{\"accountId\":\"" NO_ACCOUNT "\"}", 400, "BAD_REQUEST", "MISSING_FIELD", "amount"},
        {"{\"accountId\":\"" NO_ACCOUNT "\",\"amount\":-5}", 400, "BAD_REQUEST", "INVALID_FIELD", "amount"},
        {"{\"accountId\":\"" NO_ACCOUNT "\",\"amount\":0}", 400, "BAD_REQUEST", "INVALID_FIELD", "amount"},
        {"{\"accountId\":\"" NO_ACCOUNT "\",\"amount\":5000.5}", 400, "BAD_REQUEST", "INVALID_FIELD", "amount"},
        {"{\"accountId\":\"" NO_ACCOUNT "\",\"amount\":\"5000\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "amount"},
        {"{\"accountId\":\"" NO_ACCOUNT "\",\"amount\":100000000000001}", 400, "BAD_REQUEST", "INVALID_FIELD",
         "amount"},
        {"{\"accountId\":\"" NO_ACCOUNT "\",\"amount\":5,\"active\":\"yes\"}", 400, "BAD_REQUEST",
         "INVALID_FIELD", "active"},
        {"{\"accountId\":\"" NO_ACCOUNT "\",\"amount\":5,\"remaining\":1}", 400, "BAD_REQUEST",
         "UNKNOWN_FIELD", "remaining"},
        {NULL, 0, NULL, NULL, NULL},
    };
    expect_errors(&d, "POST", "/v1/contracts", bad);
    /* The same bad values with a real account fail the same way. */
    r = ckt_httpf(&d, "POST", "/v1/contracts", CKT_ADMIN_KEY, "{\"accountId\":\"%s\",\"amount\":-1}", acct);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "amount");
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/v1/contracts/ctr_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM contracts"), 0);
    ckt_finish(&d);
}

static void subscriber_webhook(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                          "{\"kind\":\"webhook\",\"url\":\"https://erp.example.com/hooks\",\"secret\":\"" WH_SECRET
                          "\",\"events\":[\"OrderCreated\",\"OrderReleased\"],\"maxAttempts\":3,"
                          "\"backoffBaseMs\":250}",
                          NULL);
    ckt_expect_status(&r, 201);
    char id[64], path[160];
    snprintf(id, sizeof(id), "%s", ckt_str(r.json, "id"));
    assert_true(strncmp(id, "sub_", 4) == 0);
    assert_string_equal(ckt_str(r.json, "kind"), "webhook");
    assert_string_equal(ckt_str(r.json, "url"), "https://erp.example.com/hooks");
    assert_int_equal(json_array_size(ckt_get(r.json, "events")), 2);
    assert_string_equal(ckt_str(r.json, "events.0"), "OrderCreated");
    assert_string_equal(ckt_str(r.json, "events.1"), "OrderReleased");
    assert_int_equal(ckt_int(r.json, "maxAttempts"), 3);
    assert_int_equal(ckt_int(r.json, "backoffBaseMs"), 250);
    expect_time(r.json, "createdAt");
    assert_null(ckt_get(r.json, "secret"));
    assert_null(ckt_get(r.json, "smtpUrl"));
    assert_null(ckt_get(r.json, "from"));
    assert_null(strstr(r.body, WH_SECRET));
    ckt_free(&r);

    snprintf(path, sizeof(path), "/v1/subscribers/%s", id);
    r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), id);
    assert_string_equal(ckt_str(r.json, "url"), "https://erp.example.com/hooks");
    assert_null(strstr(r.body, WH_SECRET));
    ckt_free(&r);
    /* Stored for signing, though never shown. */
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers WHERE id = '%s' AND secret = '" WH_SECRET "'", id),
                     1);

    /* Defaults; CheckoutFailed is a valid event. */
    r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                 "{\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:9200/h\",\"secret\":\"s\",\"events\":[\"CheckoutFailed\"]}",
                 NULL);
    ckt_expect_status(&r, 201);
    assert_int_equal(ckt_int(r.json, "maxAttempts"), 8);
    assert_int_equal(ckt_int(r.json, "backoffBaseMs"), 1000);
    assert_string_equal(ckt_str(r.json, "events.0"), "CheckoutFailed");
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/v1/subscribers/sub_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers"), 2);
    ckt_finish(&d);
}

static void subscriber_email(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                          "{\"kind\":\"email\",\"smtpUrl\":\"smtp://127.0.0.1:2525\",\"from\":\"orders@example.com\"}",
                          NULL);
    ckt_expect_status(&r, 201);
    char id[64], path[160];
    snprintf(id, sizeof(id), "%s", ckt_str(r.json, "id"));
    assert_true(strncmp(id, "sub_", 4) == 0);
    assert_string_equal(ckt_str(r.json, "kind"), "email");
    assert_string_equal(ckt_str(r.json, "smtpUrl"), "smtp://127.0.0.1:2525");
    assert_string_equal(ckt_str(r.json, "from"), "orders@example.com");
    assert_int_equal(json_array_size(ckt_get(r.json, "events")), 1);
    assert_string_equal(ckt_str(r.json, "events.0"), "OrderCreated");
    assert_int_equal(ckt_int(r.json, "maxAttempts"), 8);
    assert_int_equal(ckt_int(r.json, "backoffBaseMs"), 1000);
    assert_null(ckt_get(r.json, "url"));
    assert_null(ckt_get(r.json, "secret"));
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/subscribers/%s", id);
    r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "from"), "orders@example.com");
    ckt_free(&r);

    /* A password in the SMTP URL is kept but not shown. */
    r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                 "{\"kind\":\"email\",\"smtpUrl\":\"smtps://mailer:hunter2@mail.example.com:465\","
                 "\"from\":\"orders@example.com\",\"events\":[\"OrderCreated\"],\"maxAttempts\":50,"
                 "\"backoffBaseMs\":3600000}",
                 NULL);
    ckt_expect_status(&r, 201);
    assert_string_equal(ckt_str(r.json, "smtpUrl"), "smtps://mailer:****@mail.example.com:465");
    assert_null(strstr(r.body, "hunter2"));
    assert_int_equal(ckt_int(r.json, "maxAttempts"), 50);
    assert_int_equal(ckt_int(r.json, "backoffBaseMs"), 3600000);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers WHERE smtp_url ="
                                    " 'smtps://mailer:hunter2@mail.example.com:465'"),
                     1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers WHERE kind = 'email'"), 2);
    ckt_finish(&d);
}

static void subscriber_bad_input(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
#define WH(extra) "{\"kind\":\"webhook\",\"url\":\"https://h.example.com/x\",\"secret\":\"s\"" extra "}"
#define WHE(extra) WH(",\"events\":[\"OrderCreated\"]" extra)
#define EM(extra) "{\"kind\":\"email\",\"smtpUrl\":\"smtp://127.0.0.1:2525\",\"from\":\"a@b.example\"" extra "}"
    static const bad_case bad[] = {
        {"{\"url\":\"https://h.example.com\"}", 400, "BAD_REQUEST", "MISSING_FIELD", "kind"},
        {"{\"kind\":\"sms\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "kind"},
        {"{\"kind\":\"webhook\",\"secret\":\"s\",\"events\":[\"OrderCreated\"]}", 400, "BAD_REQUEST",
         "MISSING_FIELD", "url"},
        {"{\"kind\":\"webhook\",\"url\":\"ftp://h.example.com\",\"secret\":\"s\",\"events\":[\"OrderCreated\"]}",
         400, "BAD_REQUEST", "INVALID_FIELD", "url"},
        {"{\"kind\":\"webhook\",\"url\":\"http://\",\"secret\":\"s\",\"events\":[\"OrderCreated\"]}", 400,
         "BAD_REQUEST", "INVALID_FIELD", "url"},
        {"{\"kind\":\"webhook\",\"url\":\"not a url\",\"secret\":\"s\",\"events\":[\"OrderCreated\"]}", 400,
         "BAD_REQUEST", "INVALID_FIELD", "url"},
        {"{\"kind\":\"webhook\",\"url\":\"https://h.example.com\",\"events\":[\"OrderCreated\"]}", 400,
         "BAD_REQUEST", "MISSING_FIELD", "secret"},
        {"{\"kind\":\"webhook\",\"url\":\"https://h.example.com\",\"secret\":\"\",\"events\":[\"OrderCreated\"]}",
         400, "BAD_REQUEST", "INVALID_FIELD", "secret"},
        {WH(""), 400, "BAD_REQUEST", "MISSING_FIELD", "events"},
        {WH(",\"events\":[]"), 400, "BAD_REQUEST", "INVALID_FIELD", "events"},
        {WH(",\"events\":[\"OrderShipped\"]"), 400, "BAD_REQUEST", "INVALID_FIELD", "events"},
        {WH(",\"events\":[\"orderCreated\"]"), 400, "BAD_REQUEST", "INVALID_FIELD", "events"},
        {WH(",\"events\":[\"OrderCreated\",\"OrderCreated\"]"), 400, "BAD_REQUEST", "INVALID_FIELD", "events"},
        {WH(",\"events\":\"OrderCreated\""), 400, "BAD_REQUEST", "INVALID_FIELD", "events"},
        {WH(",\"events\":[1]"), 400, "BAD_REQUEST", "INVALID_FIELD", "events"},
        {WHE(",\"maxAttempts\":0"), 400, "BAD_REQUEST", "INVALID_FIELD", "maxAttempts"},
        {WHE(",\"maxAttempts\":51"), 400, "BAD_REQUEST", "INVALID_FIELD", "maxAttempts"},
        {WHE(",\"maxAttempts\":\"8\""), 400, "BAD_REQUEST", "INVALID_FIELD", "maxAttempts"},
        {WHE(",\"backoffBaseMs\":0"), 400, "BAD_REQUEST", "INVALID_FIELD", "backoffBaseMs"},
        {WHE(",\"backoffBaseMs\":3600001"), 400, "BAD_REQUEST", "INVALID_FIELD", "backoffBaseMs"},
        {WHE(",\"smtpUrl\":\"smtp://127.0.0.1:2525\""), 400, "BAD_REQUEST", "INVALID_FIELD", "smtpUrl"},
        {WHE(",\"from\":\"a@b.example\""), 400, "BAD_REQUEST", "INVALID_FIELD", "from"},
        {WHE(",\"retries\":3"), 400, "BAD_REQUEST", "UNKNOWN_FIELD", "retries"},
        {"{\"kind\":\"email\",\"from\":\"a@b.example\"}", 400, "BAD_REQUEST", "MISSING_FIELD", "smtpUrl"},
        {"{\"kind\":\"email\",\"smtpUrl\":\"http://127.0.0.1:2525\",\"from\":\"a@b.example\"}", 400,
         "BAD_REQUEST", "INVALID_FIELD", "smtpUrl"},
        {"{\"kind\":\"email\",\"smtpUrl\":\"smtp://127.0.0.1:2525\"}", 400, "BAD_REQUEST", "MISSING_FIELD",
         "from"},
        {"{\"kind\":\"email\",\"smtpUrl\":\"smtp://127.0.0.1:2525\",\"from\":\"nobody\"}", 400, "BAD_REQUEST",
         "INVALID_FIELD", "from"},
        {"{\"kind\":\"email\",\"smtpUrl\":\"smtp://127.0.0.1:2525\",\"from\":\"@example.com\"}", 400,
         "BAD_REQUEST", "INVALID_FIELD", "from"},
        {"{\"kind\":\"email\",\"smtpUrl\":\"smtp://127.0.0.1:2525\",\"from\":\"a@b.example\\r\\nBcc: x@y.z\"}",
         400, "BAD_REQUEST", "INVALID_FIELD", "from"},
        {EM(",\"url\":\"https://h.example.com\""), 400, "BAD_REQUEST", "INVALID_FIELD", "url"},
        {EM(",\"secret\":\"s\""), 400, "BAD_REQUEST", "INVALID_FIELD", "secret"},
        {EM(",\"events\":[\"OrderReleased\"]"), 400, "BAD_REQUEST", "INVALID_FIELD", "events"},
        {EM(",\"events\":[\"Nope\"]"), 400, "BAD_REQUEST", "INVALID_FIELD", "events"},
        {EM(",\"maxAttempts\":-1"), 400, "BAD_REQUEST", "INVALID_FIELD", "maxAttempts"},
        {"[\"webhook\"]", 400, "BAD_REQUEST", "INVALID_BODY", NULL},
        {NULL, 0, NULL, NULL, NULL},
    };
    expect_errors(&d, "POST", "/v1/subscribers", bad);
    /* None of the bodies above left a row, and no reply echoed the secret. */
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers"), 0);
    ckt_resp r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                          WH(",\"events\":[\"Bogus\"],\"secret2\":\"" WH_SECRET "\""), NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "UNKNOWN_FIELD", "secret2");
    ckt_free(&r);
    /* Null counts as absent. */
    r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY, EM(",\"url\":null,\"events\":null"), NULL);
    ckt_expect_status(&r, 201);
    assert_string_equal(ckt_str(r.json, "events.0"), "OrderCreated");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers"), 1);
#undef WH
#undef WHE
#undef EM
    ckt_finish(&d);
}

static void auth(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char acct[64], uid[64], key[128], path[160];
    ckt_account(&d, NULL, acct);
    char body[256];
    snprintf(body, sizeof(body), "{\"accountId\":\"%s\",\"amount\":500}", acct);
    const char *sub = "{\"kind\":\"webhook\",\"url\":\"https://h.example.com\",\"secret\":\"" WH_SECRET
                      "\",\"events\":[\"OrderCreated\"]}";

    ckt_resp r = ckt_http(&d, "POST", "/v1/contracts", NULL, body, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/subscribers", "ck_wrong", sub, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);

    /* Contracts and subscribers exist, so the 403s below are about permission. */
    char ctr[64], sid[64];
    r = ckt_http(&d, "POST", "/v1/contracts", CKT_ADMIN_KEY, body, NULL);
    ckt_expect_status(&r, 201);
    snprintf(ctr, sizeof(ctr), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY, sub, NULL);
    ckt_expect_status(&r, 201);
    snprintf(sid, sizeof(sid), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);

    const char *const perms[] = {"[\"buyer\"]", "[\"integrator\",\"approver\",\"fulfillment\"]"};
    for (int p = 0; p < 2; p++) {
        ckt_user(&d, perms[p], uid, key);
        r = ckt_http(&d, "POST", "/v1/contracts", key, body, NULL);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
        snprintf(path, sizeof(path), "/v1/contracts/%s", ctr);
        r = ckt_http(&d, "GET", path, key, NULL, NULL);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
        r = ckt_http(&d, "POST", "/v1/subscribers", key, sub, NULL);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
        snprintf(path, sizeof(path), "/v1/subscribers/%s", sid);
        r = ckt_http(&d, "GET", path, key, NULL, NULL);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        assert_null(strstr(r.body, WH_SECRET));
        ckt_free(&r);
    }
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM contracts"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers"), 1);
    ckt_finish(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(contract_lifecycle),
        cmocka_unit_test(contract_bad_input),
        cmocka_unit_test(subscriber_webhook),
        cmocka_unit_test(subscriber_email),
        cmocka_unit_test(subscriber_bad_input),
        cmocka_unit_test(auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
