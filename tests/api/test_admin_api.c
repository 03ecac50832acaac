/* test_admin_api.c: the server side of the admin dashboard (API.md "Admin
 * dashboard"): the page and its files at /admin with the security headers
 * every answer carries, POST /v1/authorizations/{id}/void, and the two
 * lists the dashboard reads, GET /v1/admin/overview and
 * GET /v1/admin/deliveries. The browser tests of the page itself are
 * tests/dashboard/. */
#include "api/fixtures.h"
#include "api/fake_webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADDRESS                                                                                             \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\","  \
    "\"country\":\"US\"}"
#define CARD "{\"method\":\"card\",\"cardToken\":\"tok_visa\"}"
#define TOTAL 7692

static ckt_fx F;
static fake_webhook *W;

static int teardown(void **state)
{
    (void)state;
    fwh_stop(W);
    W = NULL;
    ckt_fx_cleanup(&F);
    return 0;
}

/* The security headers of API.md and issue 15, on any answer. */
static void expect_security_headers(const ckt_resp *r)
{
    char v[512];
    assert_true(ckt_header(r, "Content-Security-Policy", v, sizeof(v)));
    assert_non_null(strstr(v, "default-src 'self'"));
    assert_non_null(strstr(v, "frame-ancestors 'none'"));
    assert_null(strstr(v, "unsafe-inline"));
    assert_null(strstr(v, "unsafe-eval"));
    assert_true(ckt_header(r, "X-Content-Type-Options", v, sizeof(v)));
    assert_string_equal(v, "nosniff");
    assert_true(ckt_header(r, "X-Frame-Options", v, sizeof(v)));
    assert_string_equal(v, "DENY");
}

static void expect_file(ckt_fx *f, const char *path, const char *ctype_prefix, const char *contains)
{
    ckt_resp r = ckt_http(&f->d, "GET", path, NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    char v[256];
    assert_true(ckt_header(&r, "Content-Type", v, sizeof(v)));
    if (strncmp(v, ctype_prefix, strlen(ctype_prefix)) != 0)
        fail_msg("%s: Content-Type %s, expected %s", path, v, ctype_prefix);
    expect_security_headers(&r);
    if (!strstr(r.body, contains))
        fail_msg("%s does not hold '%s'", path, contains);
    ckt_free(&r);
}

static void page_and_headers(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    ckt_fx_setup(f, NULL);
    /* The page, without a key, at /admin and at any path under it. */
    expect_file(f, "/admin", "text/html", "/admin/assets/app.js");
    expect_file(f, "/admin/", "text/html", "/admin/assets/app.js");
    expect_file(f, "/admin/holds/pa_x", "text/html", "/admin/assets/app.js");
    expect_file(f, "/admin/assets/app.js", "text/javascript", "use strict");
    expect_file(f, "/admin/assets/app.css", "text/css", "");
    expect_file(f, "/admin/assets/chart.js", "text/javascript", "Chart.js v3");
    /* Nothing else is a file; a method other than GET is refused. */
    ckt_resp r = ckt_http(&f->d, "GET", "/admin/assets/nope.js", NULL, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    expect_security_headers(&r);
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", "/admin/assets/index.html", NULL, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(&f->d, "POST", "/admin", NULL, "{}", NULL);
    assert_int_equal(r.status, 405);
    ckt_free(&r);
    /* The API's answers carry the same headers. */
    r = ckt_http(&f->d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    expect_security_headers(&r);
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", "/v1/stores", "wrong-key", NULL, NULL);
    assert_int_equal(r.status, 401);
    expect_security_headers(&r);
    ckt_free(&r);
    ckt_fx_finish(f);
}

/* Places, waiting (up to 10 s) while the session's lease is still the
 * crashed process's (PostgreSQL: 400 CART_ALREADY_IN_PROGRESS until it runs
 * out; SQLite start-up released it). */
static ckt_resp place_when_free(ckt_fx *f, const char *path)
{
    long long deadline = ckt_mono_ms() + 10000;
    for (;;) {
        ckt_resp r = ckt_http(&f->d, "POST", path, f->bkey, NULL, NULL);
        if (r.status != 400 || !strstr(r.body, "CART_ALREADY_IN_PROGRESS") || ckt_mono_ms() > deadline)
            return r;
        ckt_free(&r);
        ckt_sleep_ms(50);
    }
}

/* A hold left by a crash right after payment backs no order: the admin
 * voids it (the gateway's void, Voided), once; a hold that backs an order
 * is refused; placing the session again authorizes anew. */
static void void_hold(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    /* A short lease: on PostgreSQL the crashed process's session lease runs
     * out instead of being released at start-up. */
    static const char *const short_lease[] = {"--lease-seconds", "1", NULL};
    ckt_fx_opts o = {.faults = "crash.after:payment*1", .extra = short_lease, .fake_gateway = 1,
                     .default_product = 1};
    ckt_fx_setup(f, &o);
    char sid[64], path[160];
    ckt_fx_session(f, f->prod, 3, ADDRESS, CARD, sid, NULL);
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", sid);
    ckt_resp r = ckt_http_try(&f->d, "POST", path, f->bkey, NULL, NULL);
    assert_int_equal(r.status, 0);
    ckt_free(&r);
    assert_int_equal(ckt_wait_exit(&f->d, 10000), 99);
    ckt_restart(&f->d, NULL, NULL);

    r = ckt_http(&f->d, "GET", "/v1/authorizations?status=Authorized", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 1);
    assert_true(json_is_null(ckt_get(r.json, "items.0.orderId")));
    char pa[64], gw_auth[128];
    snprintf(pa, sizeof(pa), "%s", ckt_str(r.json, "items.0.id"));
    snprintf(gw_auth, sizeof(gw_auth), "%s", ckt_str(r.json, "items.0.gatewayAuthId"));
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/authorizations/%s/void", pa);

    /* Admin only. */
    r = ckt_http(&f->d, "POST", path, f->bkey, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    assert_int_equal(fgw_voided(f->gw, gw_auth), 0);

    r = ckt_http(&f->d, "POST", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), pa);
    assert_string_equal(ckt_str(r.json, "status"), "Voided");
    assert_int_equal(ckt_int(r.json, "amount"), TOTAL);
    ckt_free(&r);
    assert_int_equal(fgw_voided(f->gw, gw_auth), 1);
    assert_int_equal(fgw_voids(f->gw), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE id = '%s'"
                                       " AND status = 'Voided' AND void_pending = 0",
                                pa),
                     1);

    /* Again: no longer Authorized, and no second void. Unknown: 404. */
    r = ckt_http(&f->d, "POST", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "HOLD_NOT_AUTHORIZED", NULL);
    ckt_free(&r);
    assert_int_equal(fgw_voids(f->gw), 1);
    r = ckt_http(&f->d, "POST", "/v1/authorizations/pa_01NOPE0000000000000000000/void", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);

    /* The session places again: the first attempt finds its hold voided
     * (resumable: the order step gives the payment back), the next one
     * authorizes anew and makes the order. */
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", sid);
    r = place_when_free(f, path);
    ckt_expect_step_error(&r, 500, "PAYMENT_GATEWAY_ERROR", "create_order");
    ckt_free(&r);
    r = ckt_http(&f->d, "POST", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 201);
    char oid[64];
    snprintf(oid, sizeof(oid), "%s", ckt_str(r.json, "orderId"));
    ckt_free(&r);
    assert_int_equal(fgw_holds(f->gw), 2);

    /* The new hold backs the order: refused, nothing voided. */
    char pa2[64];
    ckt_db_text(&f->d, pa2, sizeof(pa2), "SELECT id FROM payment_authorizations WHERE order_id = '%s'", oid);
    snprintf(path, sizeof(path), "/v1/authorizations/%s/void", pa2);
    r = ckt_http(&f->d, "POST", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "HOLD_HAS_ORDER", NULL);
    ckt_free(&r);
    assert_int_equal(fgw_voids(f->gw), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE id = '%s'"
                                       " AND status = 'Authorized' AND void_pending = 0",
                                pa2),
                     1);
    ckt_fx_finish(f);
}

/* The overview counts what the database and the histogram say. */
static void overview(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    ckt_fx_opts o = {.default_product = 1};
    ckt_fx_setup(f, &o);
    ckt_resp r = ckt_http(&f->d, "GET", "/v1/admin/overview", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    static const char *const keys[] = {"generatedAt", "ordersToday", "placements", "latency", NULL};
    ckt_expect_keys(r.json, keys);
    assert_int_equal(ckt_int(r.json, "ordersToday"), 0);
    assert_int_equal(json_array_size(ckt_get(r.json, "placements")), 30);
    assert_true(json_is_null(ckt_get(r.json, "latency.p50")));
    assert_int_equal(ckt_int(r.json, "latency.count"), 0);
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", "/v1/admin/overview", f->bkey, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);

    char sid[64];
    ckt_fx_session(f, f->prod, 3, ADDRESS, CARD, sid, NULL);
    ckt_place_ok(f, sid, TOTAL, NULL);
    ckt_fx_session(f, f->prod, 3, ADDRESS, "{\"method\":\"card\",\"cardToken\":\"tok_decline\"}", sid, NULL);
    ckt_place_fails(f, sid, 400, "PAYMENT_DECLINED", "payment");

    r = ckt_http(&f->d, "GET", "/v1/admin/overview", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "ordersToday"), 1);
    json_t *per = ckt_get(r.json, "placements");
    assert_int_equal(json_array_size(per), 30);
    int64_t ok = 0, failed = 0;
    size_t i;
    json_t *m;
    const char *prev = "";
    json_array_foreach(per, i, m)
    {
        ckt_expect_time_ms(m, "minute");
        const char *t = ckt_str(m, "minute");
        assert_true(strcmp(t, prev) > 0); /* oldest first, one per minute */
        assert_string_equal(t + 17, "00.000Z");
        prev = t;
        ok += ckt_int(m, "succeeded");
        failed += ckt_int(m, "failed");
    }
    assert_int_equal(ok, 1);
    assert_int_equal(failed, 1);
    assert_int_equal(ckt_int(r.json, "latency.count"), 2);
    assert_true(json_is_real(ckt_get(r.json, "latency.p50")));
    assert_true(json_real_value(ckt_get(r.json, "latency.p50")) > 0);
    assert_true(json_real_value(ckt_get(r.json, "latency.p99")) >= json_real_value(ckt_get(r.json, "latency.p50")));
    ckt_free(&r);
    ckt_fx_finish(f);
}

/* GET /v1/admin/deliveries lists by status and subscriber. */
static void deliveries(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    ckt_fx_opts o = {.default_product = 1};
    ckt_fx_setup(f, &o);
    assert_non_null(W = fwh_start(0));
    char url[128], body[512], sub[64];
    fwh_url(W, url, sizeof(url));
    snprintf(body, sizeof(body),
             "{\"kind\":\"webhook\",\"url\":\"%s\",\"secret\":\"whsec_admin_api\",\"events\":[\"OrderCreated\"]}", url);
    ckt_resp r = ckt_http(&f->d, "POST", "/v1/subscribers", CKT_ADMIN_KEY, body, NULL);
    ckt_expect_status(&r, 201);
    snprintf(sub, sizeof(sub), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
    char sid[64], oid[64];
    ckt_fx_session(f, f->prod, 1, ADDRESS, CARD, sid, NULL);
    ckt_place_ok(f, sid, -1, oid);

    /* Delivered once the receiver has answered (waited for, not slept). */
    char q[256];
    snprintf(q, sizeof(q), "/v1/admin/deliveries?status=Delivered&subscriberId=%s", sub);
    long long deadline = ckt_mono_ms() + 10000;
    for (;;) {
        r = ckt_http(&f->d, "GET", q, CKT_ADMIN_KEY, NULL, NULL);
        ckt_expect_status(&r, 200);
        if (json_array_size(ckt_get(r.json, "items")) == 1)
            break;
        ckt_free(&r);
        assert_true(ckt_mono_ms() < deadline);
        ckt_sleep_ms(20);
    }
    assert_string_equal(ckt_str(r.json, "items.0.subscriberId"), sub);
    assert_string_equal(ckt_str(r.json, "items.0.event"), "OrderCreated");
    assert_string_equal(ckt_str(r.json, "items.0.orderId"), oid);
    assert_string_equal(ckt_str(r.json, "items.0.status"), "Delivered");
    assert_true(strncmp(ckt_str(r.json, "items.0.id"), "dlv_", 4) == 0);
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", "/v1/admin/deliveries?status=Dead", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 0);
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", "/v1/admin/deliveries?status=dead", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "status");
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", "/v1/admin/deliveries?subscriberId=nope", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "subscriberId");
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", "/v1/admin/deliveries", f->bkey, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    ckt_fx_finish(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(page_and_headers, teardown),
        cmocka_unit_test_teardown(void_hold, teardown),
        cmocka_unit_test_teardown(overview, teardown),
        cmocka_unit_test_teardown(deliveries, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
