/* test_stores.c: POST/GET/PATCH /v1/stores and the gateway config, plus the
 * conventions every resource shares (401, 403, 404, 405, 400 with field). */
#include "api/harness.h"

#include <string.h>

static void store_lifecycle(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY,
                          "{\"name\":\"Main\",\"currency\":\"USD\",\"slaSeconds\":600,"
                          "\"staleAuthorizationSeconds\":3600,\"embargoedCountries\":[\"KP\",\"IR\"]}",
                          NULL);
    ckt_expect_status(&r, 201);
    char id[64];
    snprintf(id, sizeof(id), "%s", ckt_str(r.json, "id"));
    assert_true(strncmp(id, "store_", 6) == 0);
    assert_string_equal(ckt_str(r.json, "name"), "Main");
    assert_string_equal(ckt_str(r.json, "currency"), "USD");
    assert_int_equal(ckt_int(r.json, "slaSeconds"), 600);
    assert_int_equal(ckt_int(r.json, "staleAuthorizationSeconds"), 3600);
    assert_string_equal(ckt_str(r.json, "embargoedCountries.1"), "IR");
    assert_string_equal(ckt_str(r.json, "activeFlowId"), "flow_standard");
    ckt_free(&r);

    char path[128];
    snprintf(path, sizeof(path), "/v1/stores/%s", id);
    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY, "{\"slaSeconds\":1200}", NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "slaSeconds"), 1200);
    assert_string_equal(ckt_str(r.json, "name"), "Main");
    ckt_free(&r);

    r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "slaSeconds"), 1200);
    ckt_free(&r);

    snprintf(path, sizeof(path), "/v1/stores/%s/gateway", id);
    r = ckt_http(&d, "PUT", path, CKT_ADMIN_KEY,
                 "{\"kind\":\"http\",\"url\":\"http://127.0.0.1:9100\",\"secret\":\"s3cret\"}", NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "gateway.kind"), "http");
    assert_null(strstr(r.body, "s3cret")); /* secrets are never echoed */
    ckt_free(&r);
    r = ckt_http(&d, "PUT", path, CKT_ADMIN_KEY, "{\"kind\":\"http\"}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "MISSING_FIELD", "url");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM stores WHERE gateway_kind = 'http'"), 1);
    ckt_finish(&d);
}

static void store_bad_input(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY, "{\"name\":\"x\",\"currency\":\"usd\"}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "currency");
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY, "{\"currency\":\"USD\"}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "MISSING_FIELD", "name");
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY, "{\"name\":\"x\",\"currency\":\"USD\",\"slaSeconds\":1.5}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "slaSeconds");
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY, "{\"name\":\"x\",\"currency\":\"USD\",\"embargoedCountries\":[\"North Korea\"]}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "embargoedCountries");
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY, "{\"name\":\"x\",\"currency\":\"USD\",\"colour\":\"red\"}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "UNKNOWN_FIELD", "colour");
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY, "{\"name\":", NULL);
    ckt_expect_error(&r, 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY, "[1,2]", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_BODY", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/v1/stores/store_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "PATCH", "/v1/stores/store_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, "{\"name\":\"y\"}", NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    /* Nothing was written by any of the above. */
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM stores"), 0);
    ckt_finish(&d);
}

static void store_auth(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "POST", "/v1/stores", NULL, "{\"name\":\"x\",\"currency\":\"USD\"}", NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/stores", "ck_not_a_key", "{\"name\":\"x\",\"currency\":\"USD\"}", NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    char uid[64], key[128];
    ckt_user(&d, "[\"buyer\"]", uid, key);
    r = ckt_http(&d, "POST", "/v1/stores", key, "{\"name\":\"x\",\"currency\":\"USD\"}", NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "DELETE", "/v1/stores", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 405, "METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/v1/nothing-here", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "ROUTE_NOT_FOUND", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM stores"), 0);
    ckt_finish(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_lifecycle),
        cmocka_unit_test(store_bad_input),
        cmocka_unit_test(store_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
