/* test_contracts_subscribers.c: POST/GET /v1/contracts and POST/GET/PATCH/
 * DELETE /v1/subscribers (webhook and email), including that secrets never
 * come back, that URLs must parse as absolute URLs, and what deleting a
 * subscriber does to its deliveries. */
#include "api/fake_webhook.h"
#include "api/fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

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
    ckt_expect_time_ms(r.json, "createdAt");
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
    ckt_expect_time_ms(r.json, "createdAt");
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
    /* Every one of the seven event types at once; an eighth name is refused. */
#define ALL7 "\"OrderCreated\",\"OrderReleased\",\"CheckoutFailed\",\"FulfillmentOrderCreated\",\"OrderFulfilled\"," \
             "\"OrderCancelled\",\"OrderReturned\""
    r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY, WH(",\"events\":[" ALL7 "]"), NULL);
    ckt_expect_status(&r, 201);
    assert_int_equal(json_array_size(ckt_get(r.json, "events")), 7);
    assert_string_equal(ckt_str(r.json, "events.6"), "OrderReturned");
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY, WH(",\"events\":[" ALL7 ",\"OrderCreated\"]"), NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "events");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers"), 2);
#undef ALL7
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
        r = ckt_http(&d, "PATCH", path, key, "{\"maxAttempts\":2}", NULL);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
        r = ckt_http(&d, "DELETE", path, key, NULL, NULL);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
        r = ckt_http(&d, "GET", "/v1/subscribers", key, NULL, NULL);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
    }
    r = ckt_http(&d, "DELETE", path, NULL, NULL, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT max_attempts FROM subscribers WHERE id = '%s'", sid), 8);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers WHERE deleted_at IS NULL"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM contracts"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers"), 1);
    ckt_finish(&d);
}

/* ------------------------------------------------- URLs, PATCH and DELETE */

/* URLs that do not parse as an absolute URL of the right scheme with a host
 * (libcurl's URL API decides), each refused with field key. */
static const char *const bad_http_urls[] = {
    "http://?x", /* issue 10: accepted before, then dead-lettered forever */
    "http://",
    "https://",
    "http://:80/h",
    "http://@/h",
    "http://user@/h",
    "http:///h",     /* libcurl would read the host from the path */
    "http:/h",       /* no authority at all */
    "//h.example.com/x",
    "h.example.com/x",
    "https://h.example.com:99999/x",
    "https://h.example.com:0/x",
    "https://h.example.com/a b",
    "https://h.example.com/\x01",
    "http://h ost/",
    "ftp://h.example.com/x",
    "gopher://h.example.com/",
    "javascript:alert(1)",
    "smtp://h.example.com",
    "HTTP://h.example.com/x", /* schemes are written in lower case */
    NULL,
};
static const char *const bad_smtp_urls[] = {
    "smtp://?x", "smtp://", "smtps:///m.example.com", "smtp:m.example.com", "smtp://:25",
    "smtp://m.example.com:0", "http://m.example.com", "smtp://m example.com", NULL,
};

static void expect_url_refused(ckt_daemon *d, const char *method, const char *path, const char *fmt,
                               const char *url, const char *field)
{
    json_t *u = json_string(url);
    char *quoted = json_dumps(u, JSON_ENCODE_ANY);
    char body[512];
    snprintf(body, sizeof(body), fmt, quoted);
    ckt_resp r = ckt_http(d, method, path, CKT_ADMIN_KEY, body, NULL);
    if (r.status != 400)
        fprintf(stderr, "%s %s %s -> %ld %s\n", method, path, body, r.status, r.body);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", field);
    ckt_free(&r);
    free(quoted);
    json_decref(u);
}

static void subscriber_urls(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    const char *wh = "{\"kind\":\"webhook\",\"url\":%s,\"secret\":\"s\",\"events\":[\"OrderCreated\"]}";
    const char *em = "{\"kind\":\"email\",\"smtpUrl\":%s,\"from\":\"a@b.example\"}";
    for (int i = 0; bad_http_urls[i]; i++)
        expect_url_refused(&d, "POST", "/v1/subscribers", wh, bad_http_urls[i], "url");
    for (int i = 0; bad_smtp_urls[i]; i++)
        expect_url_refused(&d, "POST", "/v1/subscribers", em, bad_smtp_urls[i], "smtpUrl");
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers"), 0);

    /* What libcurl can send to is taken as given. */
    static const char *const good[] = {"https://erp.example.com/hooks?x=1#frag", "http://ERP.example.com:8443/h",
                                       "http://[::1]:9200/h", "http://user:pw@127.0.0.1:9200/h", NULL};
    for (int i = 0; good[i]; i++) {
        ckt_resp r = ckt_httpf(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                               "{\"kind\":\"webhook\",\"url\":\"%s\",\"secret\":\"s\",\"events\":[\"OrderCreated\"]}",
                               good[i]);
        ckt_expect_status(&r, 201);
        ckt_free(&r);
        assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers WHERE url = '%s'", good[i]), 1);
    }
    ckt_resp r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                          "{\"kind\":\"email\",\"smtpUrl\":\"smtps://[::1]:465\",\"from\":\"a@b.example\"}", NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);

    /* PATCH checks the same way and changes nothing when it refuses. */
    char sub[64], path[128];
    ckt_db_text(&d, sub, sizeof(sub), "SELECT id FROM subscribers WHERE url = '%s'", good[0]);
    snprintf(path, sizeof(path), "/v1/subscribers/%s", sub);
    for (int i = 0; bad_http_urls[i]; i++)
        expect_url_refused(&d, "PATCH", path, "{\"url\":%s}", bad_http_urls[i], "url");
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers WHERE id = '%s' AND url = '%s'", sub, good[0]),
                     1);

    /* The store gateway's URL goes through the same check. */
    char store[64];
    ckt_store(&d, store);
    snprintf(path, sizeof(path), "/v1/stores/%s/gateway", store);
    expect_url_refused(&d, "PUT", path, "{\"kind\":\"http\",\"url\":%s,\"secret\":\"s\"}", "http://?x", "url");
    ckt_finish(&d);
}

static void subscriber_patch(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                          "{\"kind\":\"webhook\",\"url\":\"https://erp.example.com/a\",\"secret\":\"" WH_SECRET
                          "\",\"events\":[\"OrderCreated\"]}",
                          NULL);
    ckt_expect_status(&r, 201);
    char wid[64], eid[64], path[128], created[32];
    snprintf(wid, sizeof(wid), "%s", ckt_str(r.json, "id"));
    snprintf(created, sizeof(created), "%s", ckt_str(r.json, "createdAt"));
    assert_string_equal(ckt_str(r.json, "updatedAt"), created);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/subscribers/%s", wid);

    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY,
                 "{\"kind\":\"webhook\",\"url\":\"https://erp.example.com/b\",\"secret\":\"whsec-new-0815\","
                 "\"events\":[\"OrderReleased\",\"CheckoutFailed\"],\"maxAttempts\":3,\"backoffBaseMs\":250}",
                 NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "url"), "https://erp.example.com/b");
    assert_string_equal(ckt_str(r.json, "events.0"), "OrderReleased");
    assert_string_equal(ckt_str(r.json, "events.1"), "CheckoutFailed");
    assert_int_equal(ckt_int(r.json, "maxAttempts"), 3);
    assert_int_equal(ckt_int(r.json, "backoffBaseMs"), 250);
    assert_string_equal(ckt_str(r.json, "createdAt"), created);
    assert_true(strcmp(ckt_str(r.json, "updatedAt"), created) >= 0);
    assert_null(ckt_get(r.json, "secret"));
    assert_null(strstr(r.body, "whsec-new-0815"));
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers WHERE id = '%s' AND secret = 'whsec-new-0815'"
                                    " AND url = 'https://erp.example.com/b' AND max_attempts = 3"
                                    " AND backoff_base_ms = 250 AND events = '[\"OrderReleased\",\"CheckoutFailed\"]'",
                                wid),
                     1);

    /* One field at a time; the rest stays. An empty body changes nothing. */
    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY, "{\"maxAttempts\":50}", NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "maxAttempts"), 50);
    assert_string_equal(ckt_str(r.json, "url"), "https://erp.example.com/b");
    ckt_free(&r);
    int64_t stamp = ckt_db_int(&d, "SELECT updated_at FROM subscribers WHERE id = '%s'", wid);
    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY, "{}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY, "{\"url\":null,\"secret\":null,\"events\":null}", NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "url"), "https://erp.example.com/b");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT updated_at FROM subscribers WHERE id = '%s'", wid), stamp);

    static const bad_case bad[] = {
        {"{\"kind\":\"email\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "kind"},
        {"{\"smtpUrl\":\"smtp://127.0.0.1:2525\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "smtpUrl"},
        {"{\"from\":\"a@b.example\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "from"},
        {"{\"secret\":\"\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "secret"},
        {"{\"events\":[]}", 400, "BAD_REQUEST", "INVALID_FIELD", "events"},
        {"{\"events\":[\"OrderShipped\"]}", 400, "BAD_REQUEST", "INVALID_FIELD", "events"},
        {"{\"maxAttempts\":0}", 400, "BAD_REQUEST", "INVALID_FIELD", "maxAttempts"},
        {"{\"backoffBaseMs\":3600001}", 400, "BAD_REQUEST", "INVALID_FIELD", "backoffBaseMs"},
        {"{\"id\":\"sub_01M80V5EQG4YHAXXJRNX68ZH9P\"}", 400, "BAD_REQUEST", "UNKNOWN_FIELD", "id"},
        {"{\"createdAt\":\"2026-01-01T00:00:00.000Z\"}", 400, "BAD_REQUEST", "UNKNOWN_FIELD", "createdAt"},
        {"{\"retries\":3}", 400, "BAD_REQUEST", "UNKNOWN_FIELD", "retries"},
        {"{\"url\":\"https://ok.example.com\",\"maxAttempts\":\"3\"}", 400, "BAD_REQUEST", "INVALID_FIELD",
         "maxAttempts"},
        {"[]", 400, "BAD_REQUEST", "INVALID_BODY", NULL},
        {NULL, 0, NULL, NULL, NULL},
    };
    expect_errors(&d, "PATCH", path, bad);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers WHERE id = '%s' AND secret = 'whsec-new-0815'"
                                    " AND url = 'https://erp.example.com/b' AND max_attempts = 50 AND updated_at = %lld",
                                wid, (long long)stamp),
                     1);
    r = ckt_http(&d, "PATCH", "/v1/subscribers/sub_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, "{\"maxAttempts\":2}",
                 NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);

    /* Email: a URL sent back as GET shows it (password masked) keeps the stored password. */
    r = ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                 "{\"kind\":\"email\",\"smtpUrl\":\"smtps://mailer:hunter2@mail.example.com:465\","
                 "\"from\":\"orders@example.com\"}",
                 NULL);
    ckt_expect_status(&r, 201);
    snprintf(eid, sizeof(eid), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/subscribers/%s", eid);
    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY,
                 "{\"kind\":\"email\",\"smtpUrl\":\"smtps://mailer:****@mail.example.com:465\","
                 "\"from\":\"sales@example.com\",\"events\":[\"OrderCreated\"],\"maxAttempts\":4}",
                 NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "smtpUrl"), "smtps://mailer:****@mail.example.com:465");
    assert_string_equal(ckt_str(r.json, "from"), "sales@example.com");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers WHERE id = '%s' AND mail_from ="
                                    " 'sales@example.com' AND smtp_url = 'smtps://mailer:hunter2@mail.example.com:465'",
                                eid),
                     1);
    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY, "{\"smtpUrl\":\"smtp://mailer:s3cr3t@mail.example.com:587\"}", NULL);
    ckt_expect_status(&r, 200);
    assert_null(strstr(r.body, "s3cr3t"));
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM subscribers WHERE id = '%s' AND smtp_url ="
                                    " 'smtp://mailer:s3cr3t@mail.example.com:587'",
                                eid),
                     1);
    static const bad_case bad_email[] = {
        {"{\"url\":\"https://h.example.com\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "url"},
        {"{\"secret\":\"s\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "secret"},
        {"{\"events\":[\"OrderReleased\"]}", 400, "BAD_REQUEST", "INVALID_FIELD", "events"},
        {"{\"from\":\"nobody\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "from"},
        {"{\"kind\":\"webhook\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "kind"},
        {NULL, 0, NULL, NULL, NULL},
    };
    expect_errors(&d, "PATCH", path, bad_email);
    ckt_finish(&d);
}

/* Static so that the teardown can stop what a failed test left running. */
static struct {
    ckt_daemon d;
    fake_webhook *ok, *failing, *hanging;
} G;

static int teardown_g(void **state)
{
    (void)state;
    ckt_cleanup(&G.d);
    fwh_stop(G.ok);
    fwh_stop(G.failing);
    fwh_stop(G.hanging);
    memset(&G, 0, sizeof(G));
    return 0;
}

/* Every delivery's subscriber, status, attempts and last error, on stderr:
 * what a wait that timed out found. */
static void dump_deliveries(ckt_daemon *d)
{
    int64_t n = ckt_db_int(d, "SELECT count(*) FROM deliveries");
    for (int64_t i = 0; i < n; i++) {
        char row[512];
        ckt_db_text(d, row, sizeof(row),
                    "SELECT subscriber_id || ' ' || status || ' attempts=' || attempts || ' next=' || next_attempt_at"
                    " || ' error=' || COALESCE(last_error, '') FROM deliveries ORDER BY id LIMIT 1 OFFSET %lld",
                    (long long)i);
        fprintf(stderr, "  delivery: %s\n", row);
    }
}

/* Polls (20 ms steps) until the SQL count is want. The bound (60 s) is only
 * there to end a broken run: under the sanitizers and a parallel suite a
 * delivery that meets a slow receiver is retried, which takes seconds. */
static void wait_count(ckt_daemon *d, int64_t want, const char *sql)
{
    long long until = ckt_mono_ms() + 60000;
    int64_t n;
    while ((n = ckt_db_int(d, "%s", sql)) != want) {
        if (ckt_mono_ms() > until) {
            dump_deliveries(d);
            fail_msg("waited 60 s for %lld from: %s (now %lld)", (long long)want, sql, (long long)n);
        }
        usleep(20000);
    }
}

/* A webhook subscriber to w for OrderCreated; its id into out. */
static void subscribe(ckt_daemon *d, fake_webhook *w, int max_attempts, int backoff_ms, char out[64])
{
    char url[128];
    fwh_url(w, url, sizeof(url));
    ckt_resp r = ckt_httpf(d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                           "{\"kind\":\"webhook\",\"url\":\"%s\",\"secret\":\"" WH_SECRET
                           "\",\"events\":[\"OrderCreated\"],\"maxAttempts\":%d,\"backoffBaseMs\":%d}",
                           url, max_attempts, backoff_ms);
    ckt_expect_status(&r, 201);
    snprintf(out, 64, "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
}

/* An OrderCreated event in the outbox, as a commit that made an order
 * writes it; the dispatcher fans it out. Its id into out. */
static void emit_event(ckt_daemon *d, char out[64])
{
    ck_id_new(out, "evt");
    ckt_db_exec(d,
                "INSERT INTO outbox_events (id, type, order_id, session_id, payload, created_at, dispatched)"
                " VALUES ('%s', 'OrderCreated', NULL, NULL, '{\"id\":\"%s\",\"type\":\"OrderCreated\",\"data\":{}}',"
                " 0, 0)",
                out, out);
}

static void delivery_of(ckt_daemon *d, const char *sub, const char *event, char out[64])
{
    ckt_db_text(d, out, 64, "SELECT id FROM deliveries WHERE subscriber_id = '%s' AND event_id = '%s'", sub, event);
    assert_true(out[0]);
}

/* A change applies to the next attempt of a pending delivery: a receiver
 * that was failing gets fixed by pointing the subscriber elsewhere. */
static void subscriber_patch_reaches_pending(void **state)
{
    (void)state;
    ckt_daemon *d = &G.d;
    G.ok = fwh_start(0);
    G.failing = fwh_start(-1);
    assert_non_null(G.ok);
    assert_non_null(G.failing);
    ckt_start(d, NULL, NULL);
    char sub[64], ev[64], q[512], url[128], path[128], sig[80], want[80], body[512];
    subscribe(d, G.failing, 50, 200, sub);
    emit_event(d, ev);
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM deliveries WHERE subscriber_id = '%s' AND status = 'Pending' AND attempts >= 1", sub);
    wait_count(d, 1, q);
    fwh_url(G.ok, url, sizeof(url));
    snprintf(path, sizeof(path), "/v1/subscribers/%s", sub);
    ckt_resp r = ckt_httpf(d, "PATCH", path, CKT_ADMIN_KEY, "{\"url\":\"%s\",\"secret\":\"whsec-rotated\"}", url);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    snprintf(q, sizeof(q), "SELECT count(*) FROM deliveries WHERE subscriber_id = '%s' AND status = 'Delivered'", sub);
    wait_count(d, 1, q);
    /* Signed with the new secret. */
    assert_int_equal(fwh_count_ok(G.ok), 1);
    assert_true(fwh_body(G.ok, 0, body, sizeof(body)));
    assert_true(fwh_signature(G.ok, 0, sig, sizeof(sig)));
    char hex[65];
    ck_hmac_sha256_hex(hex, "whsec-rotated", strlen("whsec-rotated"), body, strlen(body));
    snprintf(want, sizeof(want), "sha256=%s", hex);
    assert_string_equal(sig, want);
    ckt_finish(d);
}

/* DELETE: 204; the subscriber is in no answer; every delivery of it not
 * yet delivered is Cancelled (never attempted again, not a dead letter, not
 * replayable); Delivered ones stay; later events are not fanned out to it;
 * its secret and URL are forgotten. */
static void subscriber_delete(void **state)
{
    (void)state;
    ckt_daemon *d = &G.d;
    G.ok = fwh_start(0);
    G.failing = fwh_start(-1);
    assert_non_null(G.ok);
    assert_non_null(G.failing);
    ckt_start(d, NULL, NULL);
    char done[64], pending[64], dead[64], live[64], ev1[64], ev2[64], q[1024], path[128];
    char d_done[64], d_pending[64], d_dead[64];
    subscribe(d, G.ok, 8, 1000, done);
    subscribe(d, G.failing, 5, 3600000, pending); /* after one failure, waits an hour */
    subscribe(d, G.failing, 1, 1000, dead);       /* Dead after one failure */
    subscribe(d, G.ok, 8, 1000, live);            /* stays */
    emit_event(d, ev1);
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM deliveries WHERE event_id = '%s' AND ((subscriber_id IN ('%s', '%s') AND status ="
             " 'Delivered') OR (subscriber_id = '%s' AND status = 'Pending' AND attempts = 1) OR (subscriber_id = '%s'"
             " AND status = 'Dead'))",
             ev1, done, live, pending, dead);
    wait_count(d, 4, q);
    delivery_of(d, done, ev1, d_done);
    delivery_of(d, pending, ev1, d_pending);
    delivery_of(d, dead, ev1, d_dead);

    const char *gone[] = {done, pending, dead};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "/v1/subscribers/%s", gone[i]);
        ckt_resp r = ckt_http(d, "DELETE", path, CKT_ADMIN_KEY, NULL, NULL);
        ckt_expect_status(&r, 204);
        assert_string_equal(r.body, "");
        ckt_free(&r);
        r = ckt_http(d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
        ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
        ckt_free(&r);
        r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"maxAttempts\":2}", NULL);
        ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
        ckt_free(&r);
        r = ckt_http(d, "DELETE", path, CKT_ADMIN_KEY, NULL, NULL);
        ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
        ckt_free(&r);
        /* The row stays for its deliveries, without its secret or URL. */
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM subscribers WHERE id = '%s' AND deleted_at IS NOT NULL"
                                       " AND secret IS NULL AND url IS NULL AND events = '[]'",
                                    gone[i]),
                         1);
    }
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM deliveries WHERE id = '%s' AND status = 'Delivered'", d_done),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM deliveries WHERE id IN ('%s', '%s') AND status = 'Cancelled'"
                                   " AND last_error = 'subscriber deleted' AND lease_owner IS NULL",
                                d_pending, d_dead),
                     2);
    assert_int_equal(ckt_db_int(d, "SELECT attempts FROM deliveries WHERE id = '%s'", d_pending), 1);

    /* Not a dead letter, and not replayable. */
    ckt_resp r = ckt_http(d, "GET", "/v1/admin/dead-letters", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 0);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/admin/dead-letters/%s/replay", d_dead);
    r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "DELIVERY_NOT_DEAD", NULL);
    ckt_free(&r);
    r = ckt_http(d, "GET", "/v1/subscribers", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 1);
    assert_string_equal(ckt_str(r.json, "items.0.id"), live);
    ckt_free(&r);

    /* A later event reaches the live subscriber only (its delivery is made in
     * the same fan-out as any other would be). */
    emit_event(d, ev2);
    snprintf(q, sizeof(q),
             "SELECT count(*) FROM deliveries WHERE event_id = '%s' AND subscriber_id = '%s' AND status = 'Delivered'",
             ev2, live);
    wait_count(d, 1, q);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM deliveries WHERE event_id = '%s'", ev2), 1);
    assert_int_equal(fwh_count(G.failing), 2); /* one attempt each, before the delete */
    ckt_finish(d);
}

/* The daemon's count of delivery attempts (every checkoutd_delivery_attempts_total
 * sample of /metrics, whatever its labels). */
static long long delivery_attempts(ckt_daemon *d)
{
    ckt_resp r = ckt_http(d, "GET", "/metrics", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    long long n = 0;
    const char *name = "checkoutd_delivery_attempts_total";
    for (const char *p = r.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, name, strlen(name)) == 0 && (p[strlen(name)] == ' ' || p[strlen(name)] == '{')) {
            const char *v = strchr(p, ' ');
            n += v ? strtoll(v + 1, NULL, 10) : 0;
        }
    ckt_free(&r);
    return n;
}

/* Deleted while an attempt is in flight: the attempt's outcome is not
 * recorded over Cancelled. */
static void subscriber_delete_in_flight(void **state)
{
    (void)state;
    ckt_daemon *d = &G.d;
    G.hanging = fwh_start(0);
    assert_non_null(G.hanging);
    fwh_set_hang_ms(G.hanging, 60000);
    ckt_start(d, NULL, NULL);
    char sub[64], ev[64], dlv[64], path[128];
    subscribe(d, G.hanging, 8, 1000, sub);
    long long before = delivery_attempts(d);
    emit_event(d, ev);
    long long until = ckt_mono_ms() + 20000;
    while (fwh_count(G.hanging) < 1) { /* the request arrived and hangs */
        if (ckt_mono_ms() > until)
            fail_msg("the delivery was never attempted");
        usleep(20000);
    }
    delivery_of(d, sub, ev, dlv);
    snprintf(path, sizeof(path), "/v1/subscribers/%s", sub);
    ckt_resp r = ckt_http(d, "DELETE", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 204);
    ckt_free(&r);
    /* End the hang (the attempt fails) and wait until the worker has its
     * outcome (counted just before it is recorded); stopping the daemon then
     * waits for the record, so the row below is final. */
    fwh_stop(G.hanging);
    G.hanging = NULL;
    until = ckt_mono_ms() + 20000;
    while (delivery_attempts(d) <= before) {
        if (ckt_mono_ms() > until)
            fail_msg("the attempt's outcome never came");
        usleep(20000);
    }
    assert_int_equal(ckt_stop(d), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM deliveries WHERE id = '%s' AND status = 'Cancelled'"
                                   " AND attempts = 0",
                                dlv),
                     1);
    ckt_finish(d);
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
        cmocka_unit_test(subscriber_urls),
        cmocka_unit_test(subscriber_patch),
        cmocka_unit_test_teardown(subscriber_patch_reaches_pending, teardown_g),
        cmocka_unit_test_teardown(subscriber_delete, teardown_g),
        cmocka_unit_test_teardown(subscriber_delete_in_flight, teardown_g),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
