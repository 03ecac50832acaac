/* test_fulfillment_races.c: fulfilment, cancellation and returns racing
 * each other and surviving crashes (issue 14's design: "Money by method",
 * "Fault points"). Two requests on the same units are released at once
 * (ckt_parallel's barrier), over several orders, and whatever the
 * interleaving exactly one wins, and the fake HTTP gateway (where the money
 * is) agrees with the order: one capture, one refund, a void only when the
 * cancel won. Then crashes: crash.gateway after the gateway captured a
 * fulfilment and before its commit (the retry captures nothing new), and
 * crash.after:fulfill after the commit (a retry without a key is
 * over-fulfilment; with the same Idempotency-Key it replays the first
 * answer). Worked example: 3 x 1999 @ 500 g to the US -> 7692, line 6492,
 * shipping 1200. Runs on SQLite and PostgreSQL. */
#include "api/fixtures.h"
#include "api/place_fx.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOTAL 7692
#define LINE 6492
#define SHIP 1200
#define ONE 2164
#define STOCK 1000
#define ROUNDS 8
/* Half of the rounds make the gateway slow (its answer waits this long), so
 * that the second request surely comes while the first one's change is
 * still waiting for the gateway; the other half race unhindered. */
#define SLOW_GATEWAY_MS 300

/* ---------------------------------------------------------------- fixture */

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

/* The standard shop on the fake HTTP gateway, a fulfillment user, a 1999 /
 * 500 g product with plenty of stock. faults as for ckt_start. */
static void fx_setup(fx *f, const char *faults)
{
    memset(f, 0, sizeof(*f));
    ckt_fx_opts o = {.faults = faults, .fake_gateway = 1, .sku_prefix = "FULR", .stock = STOCK};
    ckt_fx_setup(&f->base, &o);
    ckt_user(&f->d, "[\"fulfillment\"]", f->ful, f->fkey);
}

typedef struct ord {
    char id[64], item[64], fo[64], gw_auth[128];
} ord;

static json_t *get_json(fx *f, const char *path)
{
    ckt_resp r = ckt_http(&f->d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *j = json_incref(r.json);
    ckt_free(&r);
    return j;
}

static json_t *get_order(fx *f, const char *oid)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/orders/%s", oid);
    return get_json(f, path);
}

static json_t *get_fo(fx *f, const char *fo)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/fulfillment-orders/%s", fo);
    return get_json(f, path);
}

/* A card order of 3 units (7692) and its ids. */
static void place_card(fx *f, ord *o)
{
    memset(o, 0, sizeof(*o));
    char sid[64];
    ckt_fx_session(&f->base, f->prod, 3, ADDR_US, PAY_CARD("tok_visa"), sid, NULL);
    ckt_place_ok(&f->base, sid, TOTAL, o->id);
    json_t *j = get_order(f, o->id);
    snprintf(o->item, sizeof(o->item), "%s", ckt_str(j, "items.0.id"));
    snprintf(o->fo, sizeof(o->fo), "%s", ckt_str(j, "fulfillmentOrderId"));
    snprintf(o->gw_auth, sizeof(o->gw_auth), "%s", ckt_str(j, "authorizations.0.gatewayAuthId"));
    json_decref(j);
    assert_true(strncmp(o->fo, "fo_", 3) == 0);
}

static void items_body(char *out, size_t n, const char *item, int qty)
{
    snprintf(out, n, "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":%d}]}", item, qty);
}

static void fulfil_path(const ord *o, char *out, size_t n)
{
    snprintf(out, n, "/v1/fulfillment-orders/%s/fulfill", o->fo);
}

static const char *reason_of(const ckt_resp *r)
{
    json_t *v = ckt_get(r->json, "0.reason");
    return json_is_string(v) ? json_string_value(v) : "";
}

static int64_t stock(fx *f)
{
    return ckt_db_int(&f->d, "SELECT stock FROM products WHERE id = '%s'", f->prod);
}

static int64_t payment_rows(fx *f, const char *oid)
{
    return ckt_db_int(&f->d, "SELECT count(*) FROM payments WHERE order_id = '%s'", oid);
}

/* The order's summary line: 3 ordered and these quantities. */
static void expect_summary(json_t *order, int64_t fulfilled, int64_t cancelled, int64_t returned)
{
    json_t *it = ckt_get(order, "summary.items.0");
    if (!json_is_object(it) || ckt_int(it, "quantityFulfilled") != fulfilled ||
        ckt_int(it, "quantityCancelled") != cancelled || ckt_int(it, "quantityReturned") != returned) {
        char *s = json_dumps(ckt_get(order, "summary"), JSON_COMPACT);
        fprintf(stderr, "expected summary (3,%lld,%lld,%lld): %s\n", (long long)fulfilled, (long long)cancelled,
                (long long)returned, s ? s : "");
        free(s);
    }
    assert_int_equal(json_array_size(ckt_get(order, "summary.items")), 1);
    assert_int_equal(ckt_int(it, "quantityOrdered"), 3);
    assert_int_equal(ckt_int(it, "quantityFulfilled"), fulfilled);
    assert_int_equal(ckt_int(it, "quantityCancelled"), cancelled);
    assert_int_equal(ckt_int(it, "quantityReturned"), returned);
}

/* ------------------------------------------------------------ the racers */

/* Two requests released together; each thread records its answer (the
 * checks run on the main thread afterwards). */
typedef struct duel {
    fx *f;
    const char *method[2], *key[2];
    char path[2][256], body[2][512];
    long status[2];
    char reason[2][64];
    char text[2][4096];
} duel;

static void duel_one(void *arg, int i)
{
    duel *x = arg;
    ckt_resp r = ckt_http(&x->f->d, x->method[i], x->path[i], x->key[i], x->body[i][0] ? x->body[i] : NULL, NULL);
    x->status[i] = r.status;
    snprintf(x->reason[i], sizeof(x->reason[i]), "%s", reason_of(&r));
    snprintf(x->text[i], sizeof(x->text[i]), "%s", r.body ? r.body : "");
    ckt_free(&r);
}

static void duel_run(duel *x, int slow_gateway)
{
    fgw_set_delay_ms(x->f->gw, slow_gateway ? SLOW_GATEWAY_MS : 0);
    ckt_parallel(2, duel_one, x);
    fgw_set_delay_ms(x->f->gw, 0);
}

static void duel_print(const duel *x, const char *what, int round)
{
    for (int i = 0; i < 2; i++)
        fprintf(stderr, "%s, round %d, request %d (%s %s): HTTP %ld %s\n", what, round, i, x->method[i], x->path[i],
                x->status[i], x->text[i]);
}

/* --------------------------------------------------------- fulfil vs fulfil */

/* Two fulfilments of the same 3 units at once: one 200, one 409
 * OVER_FULFILLMENT; one capture of 7692 at the gateway, one payments row. */
static void two_fulfils_of_the_same_units(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    for (int round = 0; round < ROUNDS; round++) {
        ord o;
        place_card(f, &o);
        static duel x;
        memset(&x, 0, sizeof(x));
        x.f = f;
        for (int i = 0; i < 2; i++) {
            x.method[i] = "POST";
            x.key[i] = f->fkey;
            fulfil_path(&o, x.path[i], sizeof(x.path[i]));
            items_body(x.body[i], sizeof(x.body[i]), o.item, 3);
        }
        int captures0 = fgw_captures(f->gw);
        duel_run(&x, round % 2);
        int ok = 0, over = 0;
        for (int i = 0; i < 2; i++) {
            ok += x.status[i] == 200;
            over += x.status[i] == 409 && strcmp(x.reason[i], "OVER_FULFILLMENT") == 0;
        }
        if (ok != 1 || over != 1)
            duel_print(&x, "fulfil vs fulfil", round);
        assert_int_equal(ok, 1);
        assert_int_equal(over, 1);
        assert_int_equal(fgw_captures(f->gw), captures0 + 1);
        assert_int_equal(fgw_captured_amount(f->gw, o.gw_auth), TOTAL);
        assert_int_equal(payment_rows(f, o.id), 1);
        json_t *order = get_order(f, o.id);
        expect_summary(order, 3, 0, 0);
        assert_string_equal(ckt_str(order, "authorizations.0.status"), "Captured");
        assert_int_equal(ckt_int(order, "authorizations.0.capturedAmount"), TOTAL);
        json_decref(order);
        json_t *fo = get_fo(f, o.fo);
        assert_string_equal(ckt_str(fo, "status"), "Fulfilled");
        assert_int_equal(ckt_int(fo, "items.0.quantityFulfilled"), 3);
        assert_int_equal(json_array_size(ckt_get(fo, "fulfillments")), 1);
        assert_int_equal(ckt_int(fo, "fulfillments.0.capturedAmount"), TOTAL);
        json_decref(fo);
    }
    ckt_fx_finish(&f->base);
}

/* --------------------------------------------------------- cancel vs fulfil */

/* A cancel of everything and a fulfilment of all 3 at once: exactly one
 * wins, and everything agrees with the winner. Fulfil won: 3 fulfilled,
 * 7692 captured, nothing voided, the stock still out. Cancel won: 3
 * cancelled, the order Cancelled, nothing captured, the hold voided at the
 * gateway, the stock back. Either way captured + voided = the authorization. */
static void cancel_races_fulfil(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    int fulfil_won = 0, cancel_won = 0;
    for (int round = 0; round < ROUNDS; round++) {
        ord o;
        place_card(f, &o);
        int64_t st = stock(f);
        static duel x;
        memset(&x, 0, sizeof(x));
        x.f = f;
        /* Alternate which thread does which, so neither always starts first,
         * and (every other pair of rounds) a slow gateway. */
        int fi = round % 2, ci = 1 - fi;
        x.method[fi] = "POST";
        x.key[fi] = f->fkey;
        fulfil_path(&o, x.path[fi], sizeof(x.path[fi]));
        items_body(x.body[fi], sizeof(x.body[fi]), o.item, 3);
        x.method[ci] = "POST";
        x.key[ci] = CKT_ADMIN_KEY;
        snprintf(x.path[ci], sizeof(x.path[ci]), "/v1/orders/%s/cancel", o.id);
        items_body(x.body[ci], sizeof(x.body[ci]), o.item, 3);
        duel_run(&x, (round / 2) % 2);

        int f_ok = x.status[fi] == 200, c_ok = x.status[ci] == 200;
        int f_refused = x.status[fi] == 409 && strcmp(x.reason[fi], "OVER_FULFILLMENT") == 0;
        int c_refused = x.status[ci] == 409 && strcmp(x.reason[ci], "NOTHING_TO_CANCEL") == 0;
        if (!((f_ok && c_refused) || (c_ok && f_refused)))
            duel_print(&x, "cancel vs fulfil", round);
        assert_true((f_ok && c_refused) || (c_ok && f_refused));
        json_t *order = get_order(f, o.id);
        json_t *fo = get_fo(f, o.fo);
        int64_t captured = fgw_captured_amount(f->gw, o.gw_auth);
        int voided = fgw_voided(f->gw, o.gw_auth);
        if (f_ok) {
            fulfil_won++;
            expect_summary(order, 3, 0, 0);
            assert_string_equal(ckt_str(order, "status"), "Activated");
            assert_string_equal(ckt_str(order, "authorizations.0.status"), "Captured");
            assert_int_equal(ckt_int(order, "authorizations.0.capturedAmount"), TOTAL);
            assert_string_equal(ckt_str(fo, "status"), "Fulfilled");
            assert_int_equal(ckt_int(fo, "items.0.quantityCancelled"), 0);
            assert_int_equal(captured, TOTAL);
            assert_int_equal(voided, 0);
            assert_int_equal(payment_rows(f, o.id), 1);
            assert_int_equal(stock(f), st);
        } else {
            cancel_won++;
            expect_summary(order, 0, 3, 0);
            assert_string_equal(ckt_str(order, "status"), "Cancelled");
            assert_string_equal(ckt_str(order, "authorizations.0.status"), "Voided");
            assert_int_equal(ckt_int(order, "authorizations.0.capturedAmount"), 0);
            assert_string_equal(ckt_str(fo, "status"), "Cancelled");
            assert_int_equal(ckt_int(fo, "items.0.quantityFulfilled"), 0);
            assert_int_equal(json_array_size(ckt_get(fo, "fulfillments")), 0);
            assert_int_equal(captured, 0);
            assert_int_equal(voided, 1);
            assert_int_equal(payment_rows(f, o.id), 0);
            assert_int_equal(stock(f), st + 3);
        }
        /* captured + what the gateway released = the authorization, once. */
        assert_int_equal(captured + (voided ? TOTAL - captured : 0), TOTAL);
        json_decref(order);
        json_decref(fo);
    }
    fprintf(stderr, "cancel vs fulfil: the fulfil won %d times, the cancel %d\n", fulfil_won, cancel_won);
    assert_int_equal(fgw_captures(f->gw), fulfil_won);
    assert_int_equal(fgw_voids(f->gw), cancel_won);
    ckt_fx_finish(&f->base);
}

/* --------------------------------------------------------- return vs return */

/* One unit fulfilled (3364 captured); two returns of it at once: one 201,
 * one 409 NOTHING_TO_RETURN; one refund of 2164 at the gateway. */
static void two_returns_of_one_unit(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    for (int round = 0; round < ROUNDS; round++) {
        ord o;
        place_card(f, &o);
        char path[256], body[512];
        fulfil_path(&o, path, sizeof(path));
        items_body(body, sizeof(body), o.item, 1);
        ckt_resp r = ckt_http(&f->d, "POST", path, f->fkey, body, NULL);
        ckt_expect_status(&r, 200);
        char pay[64], gwpay[128];
        snprintf(pay, sizeof(pay), "%s", ckt_str(r.json, "fulfillments.0.paymentId"));
        assert_int_equal(ckt_int(r.json, "fulfillments.0.capturedAmount"), ONE + SHIP);
        ckt_free(&r);
        ckt_db_text(&f->d, gwpay, sizeof(gwpay), "SELECT gateway_payment_id FROM payments WHERE id = '%s'", pay);
        assert_true(gwpay[0] != '\0');

        static duel x;
        memset(&x, 0, sizeof(x));
        x.f = f;
        for (int i = 0; i < 2; i++) {
            x.method[i] = "POST";
            x.key[i] = CKT_ADMIN_KEY;
            snprintf(x.path[i], sizeof(x.path[i]), "/v1/orders/%s/returns", o.id);
            items_body(x.body[i], sizeof(x.body[i]), o.item, 1);
        }
        int refunds0 = fgw_refunds(f->gw);
        duel_run(&x, round % 2);
        int ok = 0, refused = 0;
        for (int i = 0; i < 2; i++) {
            ok += x.status[i] == 201;
            refused += x.status[i] == 409 && strcmp(x.reason[i], "NOTHING_TO_RETURN") == 0;
        }
        if (ok != 1 || refused != 1)
            duel_print(&x, "return vs return", round);
        assert_int_equal(ok, 1);
        assert_int_equal(refused, 1);
        assert_int_equal(fgw_refunds(f->gw), refunds0 + 1);
        assert_int_equal(fgw_refunded_amount(f->gw, gwpay), ONE);
        json_t *order = get_order(f, o.id);
        expect_summary(order, 1, 0, 1);
        assert_int_equal(json_array_size(ckt_get(order, "refunds")), 1);
        assert_int_equal(ckt_int(order, "refunds.0.amount"), ONE);
        assert_string_equal(ckt_str(order, "refunds.0.paymentId"), pay);
        json_decref(order);
    }
    ckt_fx_finish(&f->base);
}

/* ------------------------------------------------------------------ crashes */

/* The POST dies with the daemon, which exits 99. */
static void expect_crash(fx *f, const char *path, const char *body, const char *header)
{
    const char *const headers[] = {header, NULL};
    ckt_resp r = ckt_http_try(&f->d, "POST", path, f->fkey, body, header ? headers : NULL);
    if (r.status != 0)
        fprintf(stderr, "expected the daemon to die, got HTTP %ld %s\n", r.status, r.body ? r.body : "");
    assert_int_equal(r.status, 0);
    ckt_free(&r);
    assert_int_equal(ckt_wait_exit(&f->d, 10000), 99);
}

/* crash.gateway after the gateway captured a fulfilment, before the commit
 * that records it: the money moved once, no row says so; the retry with
 * the same body (the same gateway key) gets the capture back, records it
 * once and completes the fulfilment. */
static void crash_at_fulfil_capture(void **state)
{
    (void)state;
    fx *f = &F;
    /* Placed without faults: crash.gateway also fires at the authorization. */
    fx_setup(f, NULL);
    ord o;
    place_card(f, &o);
    assert_int_equal(ckt_stop(&f->d), 0);
    /* The lease of the change the crash leaves Pending runs out after 1 s:
     * on PostgreSQL the retry waits that long, then takes it over (SQLite
     * start-up ends it at once). */
    static const char *const short_lease[] = {"--lease-seconds", "1", NULL};
    ckt_restart(&f->d, "crash.gateway*1", short_lease);

    char path[256], body[512];
    fulfil_path(&o, path, sizeof(path));
    items_body(body, sizeof(body), o.item, 3);
    expect_crash(f, path, body, NULL);
    assert_int_equal(fgw_captures(f->gw), 1); /* the money moved at the gateway... */
    assert_int_equal(fgw_captured_amount(f->gw, o.gw_auth), TOTAL);
    assert_int_equal(payment_rows(f, o.id), 0); /* ...but no row says so */

    ckt_restart(&f->d, NULL, NULL);
    ckt_resp r = ckt_http(&f->d, "POST", path, f->fkey, body, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "status"), "Fulfilled");
    assert_int_equal(ckt_int(r.json, "items.0.quantityFulfilled"), 3);
    /* The interrupted fulfilment completed: one, not two. */
    assert_int_equal(json_array_size(ckt_get(r.json, "fulfillments")), 1);
    assert_string_equal(ckt_str(r.json, "fulfillments.0.status"), "Completed");
    assert_int_equal(ckt_int(r.json, "fulfillments.0.amount"), TOTAL);
    assert_int_equal(ckt_int(r.json, "fulfillments.0.capturedAmount"), TOTAL);
    char pay[64];
    snprintf(pay, sizeof(pay), "%s", ckt_str(r.json, "fulfillments.0.paymentId"));
    ckt_free(&r);
    assert_int_equal(fgw_captures(f->gw), 1);
    assert_int_equal(fgw_captured_amount(f->gw, o.gw_auth), TOTAL);
    assert_int_equal(payment_rows(f, o.id), 1);
    json_t *order = get_order(f, o.id);
    expect_summary(order, 3, 0, 0);
    assert_string_equal(ckt_str(order, "payments.0.id"), pay);
    assert_int_equal(ckt_int(order, "payments.0.amount"), TOTAL);
    assert_string_equal(ckt_str(order, "authorizations.0.status"), "Captured");
    json_decref(order);
    /* And once more: over-fulfilment, still one capture. */
    r = ckt_http(&f->d, "POST", path, f->fkey, body, NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "OVER_FULFILLMENT", NULL);
    ckt_free(&r);
    assert_int_equal(fgw_captures(f->gw), 1);
    ckt_fx_finish(&f->base);
}

/* crash.after:fulfill: the fulfilment's commit is there after the crash.
 * A retry without a key is a new request: over-fulfilment, no second
 * capture. With an Idempotency-Key (SQLite only, see below) the retry
 * replays the first answer. */
static void crash_after_fulfil_commit(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "crash.after:fulfill*1");
    ord o;
    place_card(f, &o);
    char path[256], body[512];
    fulfil_path(&o, path, sizeof(path));
    items_body(body, sizeof(body), o.item, 3);
    expect_crash(f, path, body, NULL);
    /* The commit is there. */
    assert_int_equal(fgw_captures(f->gw), 1);
    assert_int_equal(payment_rows(f, o.id), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT s.quantity_fulfilled FROM order_item_summaries s"
                                       " WHERE s.order_item_id = '%s'",
                                o.item),
                     3);

    ckt_restart(&f->d, NULL, NULL);
    json_t *fo = get_fo(f, o.fo);
    assert_string_equal(ckt_str(fo, "status"), "Fulfilled");
    assert_int_equal(json_array_size(ckt_get(fo, "fulfillments")), 1);
    assert_string_equal(ckt_str(fo, "fulfillments.0.status"), "Completed");
    json_decref(fo);
    ckt_resp r = ckt_http(&f->d, "POST", path, f->fkey, body, NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "OVER_FULFILLMENT", NULL);
    ckt_free(&r);
    assert_int_equal(fgw_captures(f->gw), 1);
    assert_int_equal(payment_rows(f, o.id), 1);
    json_t *order = get_order(f, o.id);
    expect_summary(order, 3, 0, 0);
    json_decref(order);

    /* The same with an Idempotency-Key: the retry replays the first result.
     * SQLite only: on PostgreSQL the crashed process's claim of the key
     * stays "in use" for 5 minutes (409 IDEMPOTENCY_KEY_IN_USE until then). */
    if (ckt_backend_pg()) {
        ckt_fx_finish(&f->base);
        return;
    }
    ord k;
    place_card(f, &k);
    assert_int_equal(ckt_stop(&f->d), 0);
    ckt_restart(&f->d, "crash.after:fulfill*1", NULL);
    static const char key_line[] = "Idempotency-Key: ful-crash-1";
    char kpath[256], kbody[512];
    fulfil_path(&k, kpath, sizeof(kpath));
    items_body(kbody, sizeof(kbody), k.item, 3);
    expect_crash(f, kpath, kbody, key_line);
    assert_int_equal(fgw_captures(f->gw), 2);
    assert_int_equal(payment_rows(f, k.id), 1);
    ckt_restart(&f->d, NULL, NULL);
    fo = get_fo(f, k.fo);
    assert_int_equal(json_array_size(ckt_get(fo, "fulfillments")), 1);
    char ful_id[64];
    snprintf(ful_id, sizeof(ful_id), "%s", ckt_str(fo, "fulfillments.0.id"));
    json_decref(fo);
    const char *hdrs[] = {key_line, NULL};
    r = ckt_http(&f->d, "POST", kpath, f->fkey, kbody, hdrs);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), k.fo);
    assert_string_equal(ckt_str(r.json, "status"), "Fulfilled");
    assert_int_equal(json_array_size(ckt_get(r.json, "fulfillments")), 1);
    assert_string_equal(ckt_str(r.json, "fulfillments.0.id"), ful_id);
    ckt_free(&r);
    /* Again: the same answer, and still no second capture. */
    r = ckt_http(&f->d, "POST", kpath, f->fkey, kbody, hdrs);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "fulfillments.0.id"), ful_id);
    ckt_free(&r);
    assert_int_equal(fgw_captures(f->gw), 2);
    assert_int_equal(payment_rows(f, k.id), 1);
    ckt_fx_finish(&f->base);
}

/* The gateway fails the fulfilment's capture (HTTP 500): the answer is 500
 * PAYMENT_GATEWAY_ERROR, the fulfilment stays Pending with nothing applied
 * (no unit fulfilled, no payment), and another change of the order waits
 * for nothing: the caller gave its lease up. Nobody retries it, so the
 * sweeper settles it: the capture is asked again under the same key, and
 * the fulfilment completes once. */
static void gateway_error_settled_by_sweeper(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    ord o;
    place_card(f, &o);
    char path[256], body[512];
    fulfil_path(&o, path, sizeof(path));
    items_body(body, sizeof(body), o.item, 2);
    fgw_fail_next(f->gw, 1);
    ckt_resp r = ckt_http(&f->d, "POST", path, f->fkey, body, NULL);
    ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "PAYMENT_GATEWAY_ERROR", NULL);
    ckt_free(&r);
    assert_int_equal(fgw_captures(f->gw), 0);
    assert_int_equal(payment_rows(f, o.id), 0);
    json_t *fo = get_fo(f, o.fo);
    assert_string_equal(ckt_str(fo, "status"), "Allocated");
    assert_int_equal(ckt_int(fo, "items.0.quantityFulfilled"), 0);
    assert_int_equal(json_array_size(ckt_get(fo, "fulfillments")), 1);
    assert_string_equal(ckt_str(fo, "fulfillments.0.status"), "Pending");
    assert_int_equal(ckt_int(fo, "fulfillments.0.capturedAmount"), 0);
    assert_true(json_is_null(ckt_get(fo, "fulfillments.0.paymentId")));
    json_decref(fo);

    r = ckt_http(&f->d, "POST", "/v1/admin/jobs/sweeper", CKT_ADMIN_KEY, "{}", NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "settled"), 1);
    ckt_free(&r);
    fo = get_fo(f, o.fo);
    assert_string_equal(ckt_str(fo, "status"), "PartiallyFulfilled");
    assert_int_equal(ckt_int(fo, "items.0.quantityFulfilled"), 2);
    assert_string_equal(ckt_str(fo, "fulfillments.0.status"), "Completed");
    assert_int_equal(ckt_int(fo, "fulfillments.0.capturedAmount"), 2 * ONE + SHIP);
    json_decref(fo);
    assert_int_equal(fgw_captures(f->gw), 1);
    assert_int_equal(fgw_captured_amount(f->gw, o.gw_auth), 2 * ONE + SHIP);
    assert_int_equal(payment_rows(f, o.id), 1);

    /* Settled: the next run has nothing left, and the order takes changes again. */
    r = ckt_http(&f->d, "POST", "/v1/admin/jobs/sweeper", CKT_ADMIN_KEY, "{}", NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "settled"), 0);
    ckt_free(&r);
    items_body(body, sizeof(body), o.item, 1);
    r = ckt_http(&f->d, "POST", path, f->fkey, body, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "status"), "Fulfilled");
    ckt_free(&r);
    assert_int_equal(fgw_captured_amount(f->gw, o.gw_auth), TOTAL);
    ckt_fx_finish(&f->base);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(two_fulfils_of_the_same_units, teardown),
        cmocka_unit_test_teardown(cancel_races_fulfil, teardown),
        cmocka_unit_test_teardown(two_returns_of_one_unit, teardown),
        cmocka_unit_test_teardown(crash_at_fulfil_capture, teardown),
        cmocka_unit_test_teardown(crash_after_fulfil_commit, teardown),
        cmocka_unit_test_teardown(gateway_error_settled_by_sweeper, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
