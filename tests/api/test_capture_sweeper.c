/* test_capture_sweeper.c: capturing card authorizations at fulfilment
 * (API.md "Orders": POST /v1/orders/{id}/capture) and the stale-hold sweeper
 * (API.md "Admin and jobs": POST /v1/admin/jobs/sweeper, GET
 * /v1/admin/alerts), with the store on the in-process fake HTTP gateway so
 * that holds, captures and voids are counted where the money is. Holds are
 * left behind with the step.fail:create_order fault point (API.md "Fault
 * injection"). Worked example: 3 x 1999 @ 500 g to the US -> 7692. */
#include "api/fixtures.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TOTAL 7692
#define ADDR_US                                                                                            \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\"," \
    "\"country\":\"US\"}"
#define PAY_CARD "{\"method\":\"card\",\"cardToken\":\"tok_visa\"}"

/* ---------------------------------------------------------------- helpers */

typedef struct fx {
    CKT_FX_BASE;
    char ful[64], fkey[128];
} fx;

static fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F.base);
    memset(&F, 0, sizeof(F));
    return 0;
}

/* Fake gateway; daemon (faults, extra args); store on the fake gateway with
 * Ground shipping and US tax; a buyer account with a buyer user; a
 * fulfillment user; a product with this stock. */
static void fx_setup(fx *f, const char *faults, const char *const *extra, int stock)
{
    memset(f, 0, sizeof(*f));
    ckt_fx_opts o = {.faults = faults, .extra = extra, .fake_gateway = 1, .sku_prefix = "CAP", .stock = stock};
    ckt_fx_setup(&f->base, &o);
    ckt_user(&f->d, "[\"fulfillment\"]", f->ful, f->fkey);
}

/* A cart of 3 units, its session, and its inputs (this payment). */
static void new_session(fx *f, const char *pay, char sid[64])
{
    ckt_fx_session(&f->base, f->prod, 3, ADDR_US, pay, sid, NULL);
}

static void place_ok(fx *f, const char *sid, char out[64])
{
    ckt_place_ok(&f->base, sid, TOTAL, out);
}

static void place_fail(fx *f, const char *sid, long status, const char *reason, const char *step)
{
    ckt_place_fails(&f->base, sid, status, reason, step);
}

static json_t *get_order(fx *f, const char *key, const char *id)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/orders/%s", id);
    ckt_resp r = ckt_http(&f->d, "GET", path, key, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *o = json_incref(r.json);
    ckt_free(&r);
    return o;
}

static ckt_resp capture(fx *f, const char *key, const char *oid, const char *body)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/orders/%s/capture", oid);
    return ckt_http(&f->d, "POST", path, key, body, NULL);
}

static ckt_resp sweep(fx *f, const char *key)
{
    return ckt_http(&f->d, "POST", "/v1/admin/jobs/sweeper", key, NULL, NULL);
}

/* Runs the sweeper as the admin and expects these counts (exactly these keys). */
static void sweep_expect(fx *f, int64_t voided, int64_t expired, int64_t released)
{
    ckt_resp r = sweep(f, CKT_ADMIN_KEY);
    ckt_expect_status(&r, 200);
    assert_true(json_is_object(r.json));
    if (ckt_int(r.json, "voided") != voided || ckt_int(r.json, "expired") != expired ||
        ckt_int(r.json, "released") != released)
        fprintf(stderr, "sweeper: expected %lld/%lld/%lld, got %s\n", (long long)voided, (long long)expired,
                (long long)released, r.body);
    assert_int_equal(json_object_size(r.json), 4);
    assert_int_equal(ckt_int(r.json, "settled"), 0); /* no change to an order was left Pending */
    assert_int_equal(ckt_int(r.json, "voided"), voided);
    assert_int_equal(ckt_int(r.json, "expired"), expired);
    assert_int_equal(ckt_int(r.json, "released"), released);
    ckt_free(&r);
}

/* The session has exactly one authorization row, and it has this status. */
static void the_auth(fx *f, const char *sid, const char *status)
{
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'", sid), 1);
    int64_t ok = ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s' AND status = '%s'",
                            sid, status);
    if (ok != 1)
        fprintf(stderr, "the authorization of %s is not %s\n", sid, status);
    assert_int_equal(ok, 1);
}

/* A text value read straight from the database (a row must exist). */
static void db_text(fx *f, const char *sql, char *out, size_t n)
{
    ckt_db_text(&f->d, out, n, "%s", sql);
    assert_true(out[0] != '\0');
}

/* GET /v1/admin/alerts items (caller frees). */
static json_t *alerts(fx *f)
{
    ckt_resp r = ckt_http(&f->d, "GET", "/v1/admin/alerts", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *items = json_incref(ckt_get(r.json, "items"));
    assert_true(json_is_array(items));
    ckt_free(&r);
    return items;
}

static json_t *get_session(fx *f, const char *sid)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    ckt_resp r = ckt_http(&f->d, "GET", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *s = json_incref(r.json);
    ckt_free(&r);
    return s;
}

static void expect_rewound(fx *f, const char *sid)
{
    json_t *s = get_session(f, sid);
    json_t *last = ckt_get(s, "lastSuccessfulStep");
    if (!json_is_string(last) || strcmp(json_string_value(last), "business_rules")) {
        char *t = json_dumps(s, JSON_COMPACT);
        fprintf(stderr, "session not rewound to business_rules: %s\n", t ? t : "");
        free(t);
    }
    assert_string_equal(ckt_str(s, "lastSuccessfulStep"), "business_rules");
    assert_string_equal(ckt_str(s, "state"), "payment");
    assert_true(json_is_null(ckt_get(s, "orderId")) || !ckt_get(s, "orderId"));
    json_decref(s);
}

/* ---------------------------------------------------------------- capture */

/* A crash after the gateway captured and before the payment was recorded:
 * the capture was written Pending with its gateway key before the gateway
 * was called, so the retry (the same request) completes that capture under
 * the same key, gets the same capture back, and records it once. */
static void capture_survives_crash(void **state)
{
    (void)state;
    fx *f = &F;
    /* The crashing daemon's lease on the capture it left Pending runs out
     * after 1 s: on PostgreSQL that is when another caller may take it
     * over (SQLite start-up ends it at once). */
    static const char *const short_lease[] = {"--lease-seconds", "1", NULL};
    fx_setup(f, "crash.capture*1", short_lease, 100);
    char sid[64], oid[64], path[128], gw_auth[128];
    new_session(f, PAY_CARD, sid);
    place_ok(f, sid, oid);
    ckt_db_text(&f->d, gw_auth, sizeof(gw_auth), "SELECT gateway_auth_id FROM payment_authorizations WHERE order_id = '%s'",
                oid);
    snprintf(path, sizeof(path), "/v1/orders/%s/capture", oid);
    ckt_resp r = ckt_http_try(&f->d, "POST", path, f->fkey, "{\"amount\":2000}", NULL);
    assert_int_equal(r.status, 0); /* the daemon died before answering */
    ckt_free(&r);
    assert_int_equal(ckt_wait_exit(&f->d, 10000), 99);
    assert_int_equal(fgw_captures(f->gw), 1); /* the money moved at the gateway... */
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payments"), 0); /* ...but no row says so */

    ckt_restart(&f->d, NULL, NULL);
    r = capture(f, f->fkey, oid, "{\"amount\":2000}");
    ckt_expect_status(&r, 201);
    assert_int_equal(ckt_int(r.json, "amount"), 2000);
    ckt_free(&r);
    assert_int_equal(fgw_captures(f->gw), 1); /* the same key: no second capture */
    assert_int_equal(fgw_captured_amount(f->gw, gw_auth), 2000);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payments"), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT captured_amount FROM payment_authorizations WHERE order_id = '%s'"
                                       " AND status = 'PartiallyCaptured'",
                                oid),
                     2000);
    ckt_finish(&f->d);
}

static void capture_partial_then_rest(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, NULL, 100);
    char sid[64], oid[64], auth_id[64], gw_auth[128];
    new_session(f, PAY_CARD, sid);
    place_ok(f, sid, oid);
    assert_int_equal(fgw_holds(f->gw), 1);

    json_t *o = get_order(f, f->fkey, oid);
    assert_int_equal(json_array_size(ckt_get(o, "authorizations")), 1);
    assert_string_equal(ckt_str(o, "authorizations.0.status"), "Authorized");
    assert_int_equal(ckt_int(o, "authorizations.0.amount"), TOTAL);
    assert_int_equal(ckt_int(o, "authorizations.0.capturedAmount"), 0);
    snprintf(auth_id, sizeof(auth_id), "%s", ckt_str(o, "authorizations.0.id"));
    snprintf(gw_auth, sizeof(gw_auth), "%s", ckt_str(o, "authorizations.0.gatewayAuthId"));
    assert_true(strncmp(auth_id, "pa_", 3) == 0);
    assert_true(strncmp(gw_auth, "fgw_auth_", 9) == 0);
    json_decref(o);

    /* A buyer may not capture. */
    ckt_resp r = capture(f, f->bkey, oid, "{\"amount\":2000}");
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    assert_int_equal(fgw_captures(f->gw), 0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payments"), 0);

    /* Part of it. */
    r = capture(f, f->fkey, oid, "{\"amount\":2000}");
    ckt_expect_status(&r, 201);
    static const char *const pay_keys[] = {"id", "authorizationId", "amount", "createdAt", NULL};
    ckt_expect_keys(r.json, pay_keys);
    char pay1[64];
    snprintf(pay1, sizeof(pay1), "%s", ckt_str(r.json, "id"));
    assert_true(strncmp(pay1, "pay_", 4) == 0);
    assert_string_equal(ckt_str(r.json, "authorizationId"), auth_id);
    assert_int_equal(ckt_int(r.json, "amount"), 2000);
    assert_true(strlen(ckt_str(r.json, "createdAt")) >= 20);
    ckt_free(&r);
    assert_int_equal(fgw_captures(f->gw), 1);
    assert_int_equal(fgw_captured_amount(f->gw, gw_auth), 2000);

    o = get_order(f, f->fkey, oid);
    assert_string_equal(ckt_str(o, "authorizations.0.status"), "PartiallyCaptured");
    assert_int_equal(ckt_int(o, "authorizations.0.capturedAmount"), 2000);
    assert_int_equal(json_array_size(ckt_get(o, "payments")), 1);
    assert_string_equal(ckt_str(o, "payments.0.id"), pay1);
    assert_string_equal(ckt_str(o, "payments.0.authorizationId"), auth_id);
    assert_int_equal(ckt_int(o, "payments.0.amount"), 2000);
    json_decref(o);

    /* No body: the rest. */
    r = capture(f, f->fkey, oid, NULL);
    ckt_expect_status(&r, 201);
    assert_int_equal(ckt_int(r.json, "amount"), TOTAL - 2000);
    assert_string_equal(ckt_str(r.json, "authorizationId"), auth_id);
    assert_true(strcmp(ckt_str(r.json, "id"), pay1) != 0);
    ckt_free(&r);
    o = get_order(f, f->bkey, oid);
    assert_string_equal(ckt_str(o, "authorizations.0.status"), "Captured");
    assert_int_equal(ckt_int(o, "authorizations.0.capturedAmount"), TOTAL);
    assert_int_equal(json_array_size(ckt_get(o, "payments")), 2);
    assert_int_equal(ckt_int(o, "payments.0.amount") + ckt_int(o, "payments.1.amount"), TOTAL);
    json_decref(o);

    /* Nothing is open any more: refused, nothing changed. */
    r = capture(f, f->fkey, oid, "{\"amount\":1}");
    ckt_expect_error(&r, 400, "BAD_REQUEST", "NOTHING_TO_CAPTURE", NULL);
    ckt_free(&r);
    r = capture(f, CKT_ADMIN_KEY, oid, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "NOTHING_TO_CAPTURE", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payments WHERE order_id = '%s'", oid), 2);
    assert_int_equal(ckt_db_int(&f->d, "SELECT captured_amount FROM payment_authorizations WHERE id = '%s'", auth_id),
                     TOTAL);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE id = '%s'"
                                       " AND status = 'Captured' AND lock_owner IS NULL",
                                auth_id),
                     1);
    assert_int_equal(fgw_captures(f->gw), 2);
    assert_int_equal(fgw_captured_amount(f->gw, gw_auth), TOTAL);
    ckt_finish(&f->d);
}

static void capture_refusals(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, NULL, 100);
    char sid[64], oid[64], gw_auth[128], auth_id[64];
    new_session(f, PAY_CARD, sid);
    place_ok(f, sid, oid);
    json_t *o = get_order(f, f->fkey, oid);
    snprintf(auth_id, sizeof(auth_id), "%s", ckt_str(o, "authorizations.0.id"));
    snprintf(gw_auth, sizeof(gw_auth), "%s", ckt_str(o, "authorizations.0.gatewayAuthId"));
    json_decref(o);

    /* More than was authorized. */
    ckt_resp r = capture(f, f->fkey, oid, "{\"amount\":7693}");
    ckt_expect_error(&r, 400, "BAD_REQUEST", "CAPTURE_EXCEEDS_AUTHORIZATION", "amount");
    ckt_free(&r);
    /* Not a positive integer amount. */
    const char *bad[] = {"{\"amount\":0}", "{\"amount\":-5}", "{\"amount\":\"10\"}", "{\"amount\":1.5}",
                         "{\"amount\":true}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = capture(f, f->fkey, oid, bad[i]);
        if (r.status != 400)
            fprintf(stderr, "body %s\n", bad[i]);
        ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "amount");
        ckt_free(&r);
    }
    r = capture(f, f->fkey, oid, "{\"amount\":");
    ckt_expect_error(&r, 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL);
    ckt_free(&r);
    r = capture(f, f->fkey, oid, "{\"amount\":1,\"extra\":1}");
    ckt_expect_status(&r, 400);
    ckt_free(&r);
    /* Unknown order. */
    r = capture(f, f->fkey, "ord_01M80V5EQG4YHAXXJRNX68ZH9P", "{\"amount\":1}");
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);

    /* Nothing moved anywhere. */
    assert_int_equal(fgw_captures(f->gw), 0);
    assert_int_equal(fgw_captured_amount(f->gw, gw_auth), 0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payments"), 0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE id = '%s'"
                                       " AND status = 'Authorized' AND captured_amount = 0 AND lock_owner IS NULL",
                                auth_id),
                     1);

    /* Exactly the authorized amount is fine, once. */
    r = capture(f, f->fkey, oid, "{\"amount\":7692}");
    ckt_expect_status(&r, 201);
    assert_int_equal(ckt_int(r.json, "amount"), TOTAL);
    ckt_free(&r);
    assert_int_equal(fgw_captures(f->gw), 1);
    assert_int_equal(fgw_captured_amount(f->gw, gw_auth), TOTAL);
    o = get_order(f, f->fkey, oid);
    assert_string_equal(ckt_str(o, "authorizations.0.status"), "Captured");
    json_decref(o);

    /* A purchase-order order has no card authorization to capture. */
    char sid2[64], oid2[64];
    new_session(f, "{\"method\":\"purchase_order\",\"poNumber\":\"PO-CAP\"}", sid2);
    place_ok(f, sid2, oid2);
    r = capture(f, f->fkey, oid2, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "NOTHING_TO_CAPTURE", NULL);
    ckt_free(&r);
    assert_int_equal(fgw_captures(f->gw), 1);
    ckt_finish(&f->d);
}

/* When create_order fails INSUFFICIENT_INVENTORY the hold is voided; once
 * restocked, placing again must leave an order with a capturable
 * authorization, not one whose only hold is void. */
static void order_after_inventory_void_is_capturable(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*1", NULL, 3);
    char s1[64], s2[64], o1[64], o2[64];
    new_session(f, PAY_CARD, s1);
    new_session(f, PAY_CARD, s2);
    place_fail(f, s2, 500, "INTERNAL_ERROR", "create_order");
    place_ok(f, s1, o1);
    place_fail(f, s2, 400, "INSUFFICIENT_INVENTORY", "create_order");
    assert_int_equal(fgw_holds(f->gw), 2);
    assert_int_equal(fgw_voids(f->gw), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                       " AND status = 'Voided'",
                                s2),
                     1);

    char path[1024];
    snprintf(path, sizeof(path), "/v1/products/%s", f->prod);
    ckt_resp r = ckt_http(&f->d, "PATCH", path, CKT_ADMIN_KEY, "{\"stock\":10}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    place_ok(f, s2, o2);
    json_t *o = get_order(f, f->fkey, o2);
    int open = 0;
    size_t i;
    json_t *a;
    json_array_foreach(ckt_get(o, "authorizations"), i, a)
    {
        open += strcmp(ckt_str(a, "status"), "Authorized") == 0 && ckt_int(a, "amount") == TOTAL;
    }
    if (open != 1) {
        char *t = json_dumps(ckt_get(o, "authorizations"), JSON_COMPACT);
        fprintf(stderr, "order %s has no open authorization: %s\n", o2, t ? t : "");
        free(t);
    }
    json_decref(o);
    assert_int_equal(open, 1);
    r = capture(f, f->fkey, o2, NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    ckt_finish(&f->d);
}

/* ---------------------------------------------------------------- sweeper */

static void admin_only(fx *f)
{
    const char *keys[] = {f->bkey, f->fkey};
    for (int i = 0; i < 2; i++) {
        ckt_resp r = sweep(f, keys[i]);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
        r = ckt_http(&f->d, "GET", "/v1/admin/alerts", keys[i], NULL, NULL);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
    }
    ckt_resp r = sweep(f, NULL);
    ckt_expect_status(&r, 401);
    ckt_free(&r);
}

/* The id of the session's only authorization. */
static void auth_of(fx *f, const char *sid, char out[64])
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT id FROM payment_authorizations WHERE session_id = '%s'", sid);
    db_text(f, sql, out, 64);
}

static void sweeper_voids_idle_hold(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order", NULL, 100);
    char sid[64], auth_id[64], oid[64];
    new_session(f, PAY_CARD, sid);
    place_fail(f, sid, 500, "INTERNAL_ERROR", "create_order");
    place_fail(f, sid, 500, "INTERNAL_ERROR", "create_order");
    /* One hold, however often it was placed. */
    assert_int_equal(fgw_holds(f->gw), 1);
    the_auth(f, sid, "Authorized");
    auth_of(f, sid, auth_id);
    assert_true(strncmp(auth_id, "pa_", 3) == 0);

    admin_only(f);
    /* Not idle yet: nothing to do. */
    sweep_expect(f, 0, 0, 0);
    assert_int_equal(fgw_voids(f->gw), 0);

    /* Idle past the store's staleAuthorizationSeconds. */
    char path[1024];
    snprintf(path, sizeof(path), "/v1/stores/%s", f->store);
    ckt_resp r = ckt_http(&f->d, "PATCH", path, CKT_ADMIN_KEY, "{\"staleAuthorizationSeconds\":1}", NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "staleAuthorizationSeconds"), 1);
    ckt_free(&r);
    ckt_db_exec(&f->d, "UPDATE checkout_sessions SET updated_at = updated_at - 5000 WHERE id = '%s'", sid);

    sweep_expect(f, 1, 0, 0);
    the_auth(f, sid, "Voided");
    assert_int_equal(fgw_voids(f->gw), 1);
    json_t *al = alerts(f);
    assert_int_equal(json_array_size(al), 1);
    static const char *const alert_keys[] = {"id", "kind", "subjectId", "message", "createdAt", NULL};
    ckt_expect_keys(json_array_get(al, 0), alert_keys);
    assert_string_equal(ckt_str(al, "0.kind"), "StaleHoldVoided");
    assert_string_equal(ckt_str(al, "0.subjectId"), auth_id);
    assert_true(strlen(ckt_str(al, "0.message")) > 0);
    json_decref(al);
    expect_rewound(f, sid);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders"), 0);

    /* Again: nothing left, no new alert, no new void. */
    sweep_expect(f, 0, 0, 0);
    al = alerts(f);
    assert_int_equal(json_array_size(al), 1);
    json_decref(al);
    assert_int_equal(fgw_voids(f->gw), 1);

    /* Restarted without the fault, the buyer places again: payment runs
     * again and the order gets a live hold, not the voided one. */
    assert_int_equal(ckt_stop(&f->d), 0);
    ckt_restart(&f->d, NULL, NULL);
    sweep_expect(f, 0, 0, 0);
    place_ok(f, sid, oid);
    json_t *o = get_order(f, f->fkey, oid);
    int open = 0;
    size_t i;
    json_t *a;
    json_array_foreach(ckt_get(o, "authorizations"), i, a)
    {
        open += strcmp(ckt_str(a, "status"), "Authorized") == 0;
    }
    if (open != 1) {
        char *t = json_dumps(ckt_get(o, "authorizations"), JSON_COMPACT);
        fprintf(stderr, "re-placed order %s after the sweeper: authorizations %s, fake holds %d\n", oid,
                t ? t : "", fgw_holds(f->gw));
        free(t);
    }
    json_decref(o);
    assert_int_equal(open, 1);
    assert_int_equal(fgw_holds(f->gw), 2);
    r = capture(f, f->fkey, oid, NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    ckt_finish(&f->d);
}

static void sweeper_voids_abandoned_hold(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order", NULL, 100);
    char s1[64], s2[64], a1[64], a2[64], path[1024];
    new_session(f, PAY_CARD, s1);
    new_session(f, PAY_CARD, s2);
    place_fail(f, s1, 500, "INTERNAL_ERROR", "create_order");
    place_fail(f, s2, 500, "INTERNAL_ERROR", "create_order");
    assert_int_equal(fgw_holds(f->gw), 2);
    auth_of(f, s1, a1);
    auth_of(f, s2, a2);
    assert_string_not_equal(a1, a2);

    /* A gateway that answers: the abandon voids the hold itself. */
    snprintf(path, sizeof(path), "/v1/checkouts/%s", s1);
    ckt_resp r = ckt_http(&f->d, "DELETE", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_true(json_is_true(ckt_get(r.json, "isArchived")));
    ckt_free(&r);
    the_auth(f, s1, "Voided");
    assert_int_equal(fgw_voids(f->gw), 1);

    /* A gateway that fails the void: the abandon still succeeds, the hold
     * stays Authorized on the archived session. */
    fgw_fail_next(f->gw, 1);
    snprintf(path, sizeof(path), "/v1/checkouts/%s", s2);
    r = ckt_http(&f->d, "DELETE", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_true(json_is_true(ckt_get(r.json, "isArchived")));
    ckt_free(&r);
    the_auth(f, s2, "Authorized");
    assert_int_equal(fgw_voids(f->gw), 1);

    /* The sweeper voids it (archived: no idle time needed), once. */
    sweep_expect(f, 1, 0, 0);
    the_auth(f, s2, "Voided");
    the_auth(f, s1, "Voided");
    assert_int_equal(fgw_voids(f->gw), 2);
    json_t *al = alerts(f);
    assert_int_equal(json_array_size(al), 1);
    assert_string_equal(ckt_str(al, "0.kind"), "StaleHoldVoided");
    assert_string_equal(ckt_str(al, "0.subjectId"), a2);
    json_decref(al);
    sweep_expect(f, 0, 0, 0);
    assert_int_equal(fgw_voids(f->gw), 2);
    ckt_finish(&f->d);
}

/* The gateway is down while the sweeper runs: the hold stays, no alert; the
 * next run voids it. */
static void sweeper_retries_when_gateway_down(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order", NULL, 100);
    char sid[64], path[1024];
    new_session(f, PAY_CARD, sid);
    place_fail(f, sid, 500, "INTERNAL_ERROR", "create_order");
    snprintf(path, sizeof(path), "/v1/stores/%s", f->store);
    ckt_resp r = ckt_http(&f->d, "PATCH", path, CKT_ADMIN_KEY, "{\"staleAuthorizationSeconds\":1}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    ckt_db_exec(&f->d, "UPDATE checkout_sessions SET updated_at = updated_at - 5000 WHERE id = '%s'", sid);
    fgw_fail_next(f->gw, 1);
    sweep_expect(f, 0, 0, 0);
    the_auth(f, sid, "Authorized");
    json_t *al = alerts(f);
    assert_int_equal(json_array_size(al), 0);
    json_decref(al);
    sweep_expect(f, 1, 0, 0);
    the_auth(f, sid, "Voided");
    assert_int_equal(fgw_voids(f->gw), 1);
    ckt_finish(&f->d);
}

static void sweeper_expires_hold(void **state)
{
    (void)state;
    fx *f = &F;
    const char *extra[] = {"--authorization-ttl", "1", NULL};
    fx_setup(f, "step.fail:create_order", extra, 100);
    char sid[64];
    new_session(f, PAY_CARD, sid);
    place_fail(f, sid, 500, "INTERNAL_ERROR", "create_order");
    the_auth(f, sid, "Authorized");
    /* Before the ttl: nothing. */
    sweep_expect(f, 0, 0, 0);
    the_auth(f, sid, "Authorized");

    struct timespec ts = {1, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    sweep_expect(f, 0, 1, 0);
    the_auth(f, sid, "Expired");
    expect_rewound(f, sid);
    /* An expired hold is not voided at the gateway and raises no alert. */
    assert_int_equal(fgw_voids(f->gw), 0);
    json_t *al = alerts(f);
    assert_int_equal(json_array_size(al), 0);
    json_decref(al);
    /* Once. */
    sweep_expect(f, 0, 0, 0);
    the_auth(f, sid, "Expired");

    /* Restarted without the fault (and with the default ttl), the buyer
     * places again: payment must authorize anew, so the order has a live
     * hold rather than only the expired one. */
    assert_int_equal(ckt_stop(&f->d), 0);
    ckt_restart(&f->d, NULL, NULL);
    char oid[64];
    place_ok(f, sid, oid);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                       " AND status = 'Authorized' AND amount = %d",
                                sid, TOTAL),
                     1);
    ckt_resp r = capture(f, f->fkey, oid, NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    ckt_finish(&f->d);
}

/* A hold past its expiry date makes no order even before the sweeper marks
 * it: create_order sends the session back to pay, under a new key. */
static void no_order_on_hold_past_expiry(void **state)
{
    (void)state;
    fx *f = &F;
    const char *extra[] = {"--authorization-ttl", "1", NULL};
    fx_setup(f, "step.fail:create_order*1", extra, 100);
    char sid[64];
    new_session(f, PAY_CARD, sid);
    place_fail(f, sid, 500, "INTERNAL_ERROR", "create_order");
    the_auth(f, sid, "Authorized");
    struct timespec ts = {1, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    /* No sweeper run: the hold is still Authorized, but past its date. */
    place_fail(f, sid, 500, "PAYMENT_GATEWAY_ERROR", "create_order");
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders"), 0);
    expect_rewound(f, sid);
    /* Placing again authorizes anew (this ttl is 1 s, so place at once). */
    char oid[64];
    place_ok(f, sid, oid);
    assert_int_equal(fgw_holds(f->gw), 2);
    ckt_finish(&f->d);
}

/* Credit reserved by a session that went idle is released by the sweeper
 * (the "released" count), and the session rewound. */
static void sweeper_releases_idle_credit(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order", NULL, 100);
    char sid[64], path[1024];
    new_session(f, "{\"method\":\"purchase_order\",\"poNumber\":\"PO-IDLE\"}", sid);
    place_fail(f, sid, 500, "INTERNAL_ERROR", "create_order");
    assert_int_equal(ckt_db_int(&f->d, "SELECT credit_used FROM accounts WHERE id = '%s'", f->acct), TOTAL);
    sweep_expect(f, 0, 0, 0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT credit_used FROM accounts WHERE id = '%s'", f->acct), TOTAL);
    snprintf(path, sizeof(path), "/v1/stores/%s", f->store);
    ckt_resp r = ckt_http(&f->d, "PATCH", path, CKT_ADMIN_KEY, "{\"staleAuthorizationSeconds\":1}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    ckt_db_exec(&f->d, "UPDATE checkout_sessions SET updated_at = updated_at - 5000 WHERE id = '%s'", sid);
    sweep_expect(f, 0, 0, 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT credit_used FROM accounts WHERE id = '%s'", f->acct), 0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM balance_ledger WHERE session_id = '%s'"
                                       " AND entry = 'release' AND amount = -%d",
                                sid, TOTAL),
                     1);
    expect_rewound(f, sid);
    sweep_expect(f, 0, 0, 0);
    ckt_finish(&f->d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(capture_partial_then_rest, teardown),
        cmocka_unit_test_teardown(capture_survives_crash, teardown),
        cmocka_unit_test_teardown(capture_refusals, teardown),
        cmocka_unit_test_teardown(order_after_inventory_void_is_capturable, teardown),
        cmocka_unit_test_teardown(sweeper_voids_idle_hold, teardown),
        cmocka_unit_test_teardown(sweeper_voids_abandoned_hold, teardown),
        cmocka_unit_test_teardown(sweeper_retries_when_gateway_down, teardown),
        cmocka_unit_test_teardown(sweeper_expires_hold, teardown),
        cmocka_unit_test_teardown(no_order_on_hold_past_expiry, teardown),
        cmocka_unit_test_teardown(sweeper_releases_idle_credit, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
