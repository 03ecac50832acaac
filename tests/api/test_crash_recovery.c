/* test_crash_recovery.c: the checkout transaction survives a crash (API.md
 * "Checkout session and the checkout transaction", "The payment gateways",
 * "Fault injection"; ARCHITECTURE.md "The flow engine"). The daemon is
 * started with a crash point (crash.after:<step>, crash.gateway) or a step
 * fault (step.fail:<step>*1), the order is placed, the daemon restarted
 * without faults, and the order placed again: exactly one order, one
 * authorization, one hold at the (fake, idempotent) gateway, stock taken
 * once, one OrderCreated event, the lease released and the cart Closed. */
#include "api/fixtures.h"

#include <curl/curl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ADDRESS                                                                                             \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\","  \
    "\"country\":\"US\"}"
#define GRAND_TOTAL 7692 /* API.md's worked example: 3 x 1999, 500 g, 1000 + 100/kg, US 825 bp */
#define STOCK 100
#define QTY 3

/* ---------------------------------------------------------------- helpers */

typedef struct fx {
    CKT_FX_BASE;
    char cart[64], sid[64];
} fx;

/* One fixture at a time, static so that the teardown can stop the daemon and
 * the gateway of a test that failed half-way (cmocka leaves by longjmp). */
static fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F.base);
    memset(&F, 0, sizeof(F));
    return 0;
}

/* A raw request that tolerates the daemon dying under it (ckt_http asserts
 * CURLE_OK). cc is the transfer's result; status and json only when it
 * completed. */
typedef struct raw_resp {
    CURLcode cc;
    long status;
    char *body;
    json_t *json;
} raw_resp;

static size_t raw_on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    raw_resp *r = ud;
    size_t n = size * nmemb, have = r->body ? strlen(r->body) : 0;
    char *np = realloc(r->body, have + n + 1);
    if (!np)
        return 0;
    memcpy(np + have, ptr, n);
    np[have + n] = '\0';
    r->body = np;
    return n;
}

static raw_resp raw_http(ckt_daemon *d, const char *method, const char *path, const char *key, const char *header)
{
    raw_resp r = {0};
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[1024], auth[512];
    snprintf(url, sizeof(url), "%s%s", d->base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    hl = curl_slist_append(hl, "Expect:");
    if (header)
        hl = curl_slist_append(hl, header);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, raw_on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    r.cc = curl_easy_perform(c);
    if (r.cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    r.json = r.body ? json_loads(r.body, JSON_DECODE_ANY, NULL) : NULL;
    return r;
}

static void raw_free(raw_resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* A text value read straight from the database ("" when no row). */
static void db_text(ckt_daemon *d, char *out, size_t n, const char *sql)
{
    ckt_db_text(d, out, n, "%s", sql);
}

/* The store (on the fake gateway), Ground shipping, US tax, a buyer account,
 * a buyer given it, a product (stock 100, 1999, 500 g), a cart with 3 units
 * and its session with every checkout input set. */
static void fx_setup(fx *f, const char *faults)
{
    memset(f, 0, sizeof(*f));
    ckt_fx_opts o = {.faults = faults, .fake_gateway = 1, .default_product = 1};
    ckt_fx_setup(&f->base, &o);
    ckt_fx_session(&f->base, f->prod, QTY, ADDRESS, "{\"method\":\"card\",\"cardToken\":\"tok_visa\"}", f->sid,
                   f->cart);
}

static ckt_resp place(fx *f)
{
    return ckt_place(&f->base, f->sid);
}

/* Places the order on a daemon armed to crash: the connection drops, the
 * daemon exits 99 by itself. */
static void place_and_crash(fx *f)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", f->sid);
    raw_resp r = raw_http(&f->d, "POST", path, f->bkey, NULL);
    if (r.cc == CURLE_OK)
        fprintf(stderr, "expected the daemon to die during place-order, got HTTP %ld %s\n", r.status,
                r.body ? r.body : "");
    assert_int_not_equal(r.cc, CURLE_OK);
    raw_free(&r);
    assert_int_equal(ckt_wait_exit(&f->d, 10000), 99);
}

static json_t *get_session(fx *f)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", f->sid);
    ckt_resp r = ckt_http(&f->d, "GET", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *j = json_incref(r.json);
    ckt_free(&r);
    return j;
}

static int64_t count_orders(fx *f)
{
    return ckt_db_int(&f->d, "SELECT count(*) FROM orders WHERE session_id = '%s'", f->sid);
}

static int64_t count_auths(fx *f, const char *status)
{
    if (!status)
        return ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'", f->sid);
    return ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s' AND status = '%s'",
                      f->sid, status);
}

static int64_t stock(fx *f)
{
    return ckt_db_int(&f->d, "SELECT stock FROM products WHERE id = '%s'", f->prod);
}

static int64_t events(fx *f, const char *type)
{
    return ckt_db_int(&f->d, "SELECT count(*) FROM outbox_events WHERE type = '%s'", type);
}

/* Everything that must hold once the order exists: one order for the
 * session with the right total, one authorization for it, one hold at the
 * gateway, stock taken once, one OrderCreated for this order, no lease, the
 * cart Closed, the session Completed and naming the order, nothing left
 * Running. */
static void expect_placed_once(fx *f, const char *order_id)
{
    ckt_daemon *d = &f->d;
    assert_true(strncmp(order_id, "ord_", 4) == 0);
    assert_int_equal(count_orders(f), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE id = '%s' AND session_id = '%s'"
                                   " AND grand_total = %d",
                                order_id, f->sid, GRAND_TOTAL),
                     1);
    assert_int_equal(count_auths(f, NULL), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Authorized' AND order_id = '%s' AND amount = %d",
                                f->sid, order_id, GRAND_TOTAL),
                     1);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(stock(f), STOCK - QTY);
    assert_int_equal(events(f, "OrderCreated"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM outbox_events WHERE type = 'OrderCreated'"
                                   " AND order_id = '%s'",
                                order_id),
                     1);
    assert_int_equal(events(f, "OrderReleased"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s'"
                                   " AND lease_owner IS NULL",
                                f->sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Closed'", f->cart), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_requests WHERE status IN ('Running', 'Queued')"), 0);
    json_t *s = get_session(f);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    assert_string_equal(ckt_str(s, "orderId"), order_id);
    assert_true(json_is_false(ckt_get(s, "isProcessing")));
    assert_true(json_is_false(ckt_get(s, "isError")));
    json_decref(s);
}

/* Places the session, expects 201 and everything expect_placed_once checks;
 * order gets its id. */
static void place_created(fx *f, char order[64])
{
    ckt_resp r = place(f);
    ckt_expect_status(&r, 201);
    snprintf(order, 64, "%s", ckt_str(r.json, "orderId"));
    ckt_free(&r);
    expect_placed_once(f, order);
}

/* Places again on a completed session: 200, the same order, nothing new. */
static void expect_replay(fx *f, const char *order_id)
{
    ckt_resp r = place(f);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "orderId"), order_id);
    ckt_free(&r);
    assert_int_equal(count_orders(f), 1);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(stock(f), STOCK - QTY);
}

/* Stops the daemon that made the fixture and starts it again armed with
 * faults (the fixture's own requests sync their commits; armed from the
 * start, crash.sync would fire at the first of them). */
static void rearm(fx *f, const char *faults)
{
    assert_int_equal(ckt_stop(&f->d), 0);
    ckt_restart(&f->d, faults, NULL);
}

/* ------------------------------------------------------------------ tests */

/* Group commit (SQLite): COMMIT returns before its fsync; the fsync runs
 * before the gateway hears of the placement. crash.sync dies at that
 * fsync: the gateway was never called, and the session resumes. */
static void crash_sync_before_gateway_call(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    if (f->d.pg)
        skip(); /* PostgreSQL's COMMIT is durable when it returns: no group commit of ours */
    rearm(f, "crash.sync");
    place_and_crash(f);
    assert_int_equal(fgw_authorize_calls(f->gw), 0);
    assert_int_equal(count_auths(f, NULL), 0);

    ckt_restart(&f->d, NULL, NULL);
    char order[64];
    place_created(f, order);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
}

/* On the built-in test gateway nothing leaves the process before the
 * answer: the placement commits, and the 201 waits for the fsync. The
 * crash there leaves no answer; the order the commits made is the one a
 * retry is told of. */
static void crash_sync_before_answer(void **state)
{
    (void)state;
    fx *f = &F;
    memset(f, 0, sizeof(*f));
    ckt_fx_opts o = {.default_product = 1};
    ckt_fx_setup(&f->base, &o);
    if (f->d.pg)
        skip();
    ckt_fx_session(&f->base, f->prod, QTY, ADDRESS, "{\"method\":\"card\",\"cardToken\":\"tok_visa\"}", f->sid,
                   f->cart);
    rearm(f, "crash.sync");
    place_and_crash(f);

    ckt_restart(&f->d, NULL, NULL);
    assert_int_equal(count_orders(f), 1);
    char order[64];
    ckt_db_text(&f->d, order, sizeof(order), "SELECT id FROM orders WHERE session_id = '%s'", f->sid);
    ckt_resp r = place(f);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "orderId"), order);
    ckt_free(&r);
    assert_int_equal(count_orders(f), 1);
    assert_int_equal(count_auths(f, "Authorized"), 1);
    assert_int_equal(stock(f), STOCK - QTY);
}

/* crash.after:payment: the authorization is committed with the payment
 * step; the restart resumes at create_order without calling the gateway. */
static void crash_after_payment(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "crash.after:payment");
    place_and_crash(f);
    /* The crash came where it should: after payment's commit, before the order. */
    assert_int_equal(count_auths(f, "Authorized"), 1);
    assert_int_equal(count_orders(f), 0);
    assert_int_equal(stock(f), STOCK);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);

    ckt_restart(&f->d, NULL, NULL);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM checkout_sessions WHERE lease_owner IS NOT NULL"), 0);
    json_t *s = get_session(f);
    assert_string_equal(ckt_str(s, "lastSuccessfulStep"), "payment");
    assert_true(json_is_false(ckt_get(s, "isProcessing")));
    json_decref(s);

    ckt_resp r = place(f);
    ckt_expect_status(&r, 201);
    char order[64];
    snprintf(order, sizeof(order), "%s", ckt_str(r.json, "orderId"));
    assert_string_equal(ckt_str(r.json, "order.id"), order);
    ckt_free(&r);
    expect_placed_once(f, order);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    expect_replay(f, order);
    ckt_finish(&f->d);
}

/* crash.gateway: the gateway approved, nothing was committed; the retry
 * sends the same idempotency key and gets the same hold back. */
static void crash_gateway(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "crash.gateway");
    place_and_crash(f);
    assert_int_equal(count_auths(f, NULL), 0);
    assert_int_equal(count_orders(f), 0);
    assert_int_equal(stock(f), STOCK);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    char first_key[256], key[256];
    fgw_last_idem_key(f->gw, first_key, sizeof(first_key));
    char want[128];
    snprintf(want, sizeof(want), "%s:payment:", f->sid);
    assert_int_equal(strncmp(first_key, want, strlen(want)), 0);

    ckt_restart(&f->d, NULL, NULL);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM checkout_sessions WHERE lease_owner IS NOT NULL"), 0);
    char order[64];
    place_created(f, order);
    /* The gateway was asked again, with the same key: a replay, no new hold. */
    assert_int_equal(fgw_authorize_calls(f->gw), 2);
    fgw_last_idem_key(f->gw, key, sizeof(key));
    assert_string_equal(key, first_key);
    expect_replay(f, order);
    ckt_finish(&f->d);
}

/* crash.after:create_order: the order, confirm and close_cart commit
 * together, so the session is Completed before the crash: placing again is
 * a 200 replay of that order. */
static void crash_after_create_order(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "crash.after:create_order");
    place_and_crash(f);
    assert_int_equal(count_orders(f), 1);
    char order[64];
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT id FROM orders WHERE session_id = '%s'", f->sid);
    db_text(&f->d, order, sizeof(order), sql);
    assert_true(strncmp(order, "ord_", 4) == 0);

    ckt_restart(&f->d, NULL, NULL);
    ckt_resp r = place(f);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "orderId"), order);
    ckt_free(&r);
    expect_placed_once(f, order);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    ckt_finish(&f->d);
}

/* step.fail:create_order*1: a resumable 500 after payment; the resume runs
 * from create_order and does not call the gateway again. */
static void step_fail_create_order_resumes(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*1");
    ckt_resp r = place(f);
    ckt_expect_step_error(&r, 500, "INTERNAL_ERROR", "create_order");
    ckt_free(&r);
    json_t *s = get_session(f);
    assert_true(json_is_true(ckt_get(s, "isError")));
    assert_true(json_is_false(ckt_get(s, "isProcessing")));
    assert_string_equal(ckt_str(s, "lastSuccessfulStep"), "payment");
    assert_true(json_is_null(ckt_get(s, "orderId")));
    assert_int_equal(json_array_size(ckt_get(s, "errors")), 1);
    assert_string_equal(ckt_str(s, "errors.0.step"), "create_order");
    assert_string_equal(ckt_str(s, "errors.0.reason"), "INTERNAL_ERROR");
    json_decref(s);
    assert_int_equal(count_auths(f, NULL), 1);
    assert_int_equal(count_auths(f, "Authorized"), 1);
    assert_int_equal(count_orders(f), 0);
    assert_int_equal(stock(f), STOCK);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Checkout'", f->cart),
                     1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s'"
                                       " AND lease_owner IS NULL",
                                f->sid),
                     1);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);

    char order[64];
    place_created(f, order);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    ckt_finish(&f->d);
}

/* step.fail:validate_cart*1: fails before any step succeeded. */
static void step_fail_validate_cart_resumes(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:validate_cart*1");
    ckt_resp r = place(f);
    ckt_expect_step_error(&r, 500, "INTERNAL_ERROR", "validate_cart");
    ckt_free(&r);
    json_t *s = get_session(f);
    assert_true(json_is_true(ckt_get(s, "isError")));
    assert_true(json_is_null(ckt_get(s, "lastSuccessfulStep")));
    assert_true(json_is_null(ckt_get(s, "orderId")));
    json_decref(s);
    assert_int_equal(count_auths(f, NULL), 0);
    assert_int_equal(fgw_authorize_calls(f->gw), 0);
    assert_int_equal(count_orders(f), 0);

    char order[64];
    place_created(f, order);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    ckt_finish(&f->d);
}

/* A lease left by a process killed mid-flight (another owner, far-future
 * expiry) blocks placement while it runs and is released on restart. */
static void sigkill_lease_released_on_restart(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_db_exec(&f->d,
                "UPDATE checkout_sessions SET lease_owner = 'node_dead:req_dead', lease_expires_at = %lld"
                " WHERE id = '%s'",
                ckt_now_ms() + 3600 * 1000LL, f->sid);
    ckt_resp r = place(f);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "CART_ALREADY_IN_PROGRESS", NULL);
    ckt_free(&r);
    assert_int_equal(fgw_authorize_calls(f->gw), 0);
    ckt_kill(&f->d);
    ckt_restart(&f->d, NULL, NULL);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM checkout_sessions WHERE lease_owner IS NOT NULL"), 0);
    char order[64];
    place_created(f, order);
    ckt_finish(&f->d);
}

/* An async placement whose runner crashes at the gateway is run again after
 * the restart and succeeds, with one hold. */
static void async_request_survives_restart(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "crash.gateway");
    char path[256], rid[64] = "";
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", f->sid);
    raw_resp a = raw_http(&f->d, "POST", path, f->bkey, "Prefer: respond-async");
    if (a.cc == CURLE_OK) {
        if (a.status != 202)
            fprintf(stderr, "expected 202: HTTP %ld %s\n", a.status, a.body ? a.body : "");
        assert_int_equal(a.status, 202);
        const char *s = json_string_value(ckt_get(a.json, "requestId"));
        assert_non_null(s);
        snprintf(rid, sizeof(rid), "%s", s);
    }
    raw_free(&a);
    assert_int_equal(ckt_wait_exit(&f->d, 10000), 99);
    /* (Should the runner have crashed before the 202 went out, the request is in the database.) */
    if (!rid[0]) {
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT id FROM checkout_requests WHERE kind = 'PlaceOrder' AND session_id = '%s'",
                 f->sid);
        db_text(&f->d, rid, sizeof(rid), sql);
    }
    assert_true(strncmp(rid, "req_", 4) == 0);
    assert_int_equal(count_orders(f), 0);
    assert_int_equal(fgw_holds(f->gw), 1);

    ckt_restart(&f->d, NULL, NULL);
    snprintf(path, sizeof(path), "/v1/requests/%s", rid);
    char status[32] = "";
    char order[64] = "";
    for (int waited = 0; waited <= 10000; waited += 50) {
        ckt_resp r = ckt_http(&f->d, "GET", path, f->bkey, NULL, NULL);
        ckt_expect_status(&r, 200);
        snprintf(status, sizeof(status), "%s", ckt_str(r.json, "status"));
        if (strcmp(status, "Failed") == 0)
            fprintf(stderr, "the request failed: %s\n", r.body);
        if (strcmp(status, "Succeeded") == 0)
            snprintf(order, sizeof(order), "%s", ckt_str(r.json, "orderId"));
        ckt_free(&r);
        if (strcmp(status, "Succeeded") == 0 || strcmp(status, "Failed") == 0)
            break;
        usleep(50000);
    }
    assert_string_equal(status, "Succeeded");
    expect_placed_once(f, order);
    assert_int_equal(fgw_authorize_calls(f->gw), 2);
    expect_replay(f, order);
    ckt_finish(&f->d);
}

/* A failed create_order leaves no OrderCreated (no event without an order);
 * the failure is a CheckoutFailed event naming no order. */
static void no_event_without_order(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*1");
    ckt_resp r = place(f);
    ckt_expect_step_error(&r, 500, "INTERNAL_ERROR", "create_order");
    ckt_free(&r);
    assert_int_equal(count_orders(f), 0);
    assert_int_equal(events(f, "OrderCreated"), 0);
    assert_int_equal(events(f, "OrderReleased"), 0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM outbox_events WHERE order_id IS NOT NULL"), 0);
    assert_int_equal(events(f, "CheckoutFailed"), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM outbox_events WHERE type = 'CheckoutFailed'"
                                       " AND session_id = '%s' AND order_id IS NULL",
                                f->sid),
                     1);

    /* The resume creates the order and its one event; the failure event stays orderless. */
    char order[64];
    place_created(f, order);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM outbox_events WHERE type = 'CheckoutFailed'"
                                       " AND order_id IS NULL"),
                     1);
    ckt_finish(&f->d);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(crash_after_payment, teardown),
        cmocka_unit_test_teardown(crash_gateway, teardown),
        cmocka_unit_test_teardown(crash_after_create_order, teardown),
        cmocka_unit_test_teardown(step_fail_create_order_resumes, teardown),
        cmocka_unit_test_teardown(step_fail_validate_cart_resumes, teardown),
        cmocka_unit_test_teardown(sigkill_lease_released_on_restart, teardown),
        cmocka_unit_test_teardown(async_request_survives_restart, teardown),
        cmocka_unit_test_teardown(no_event_without_order, teardown),
        cmocka_unit_test_teardown(crash_sync_before_gateway_call, teardown),
        cmocka_unit_test_teardown(crash_sync_before_answer, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
