/* test_fulfillment.c: what happens after the order (API.md "Fulfillment,
 * cancellation and returns", issue 14's design): the fulfillment order made
 * at release, fulfilments that capture a card's share (shipping with the
 * first), cancellations that shrink or void the hold and give balances back,
 * returns that refund through the gateway or release balance, each with its
 * ledger row; a manual capture counted by later fulfilments; every refusal
 * of the routes; the fulfillment-order list; and the four events at a
 * webhook. Worked example of API.md: 3 x 1999 @ 500 g to the US, shipping
 * 1000 + 100/kg, tax 825 bp: grandTotal 7692, line total 6492 (shares 2164
 * a unit, the last unit the remainder), shipping 1200. Runs on SQLite and
 * PostgreSQL. */
#include "api/fake_webhook.h"
#include "api/fixtures.h"
#include "api/place_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOTAL 7692
#define LINE 6492
#define SHIP 1200
#define ONE 2164  /* round_half_up(6492 x 1 / 3) */
#define TWO 4328  /* round_half_up(6492 x 2 / 3) */
#define STOCK 100
#define UNKNOWN_FO "fo_01M80V5EQG4YHAXXJRNX68ZH9P"
#define UNKNOWN_ORD "ord_01M80V5EQG4YHAXXJRNX68ZH9P"
#define BODY_CAP (256 * 1024)

/* ---------------------------------------------------------------- fixture */

typedef struct fx {
    CKT_FX_BASE;
    char ful[64], fkey[128], ctr[64];
    fake_webhook *wh;
} fx;

static fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F.base);
    fwh_stop(F.wh);
    memset(&F, 0, sizeof(F));
    return 0;
}

/* The standard shop (on the fake HTTP gateway when fake_gw, else the
 * built-in test gateway); the buyer account with credit limit 1000000 and
 * prepaid balance 100000 and a contract of 100000; a fulfillment user; a
 * 1999 / 500 g product with stock 100. */
static void fx_setup(fx *f, int fake_gw)
{
    memset(f, 0, sizeof(*f));
    ckt_fx_opts o = {.fake_gateway = fake_gw,
                     .balances = 1,
                     .credit_limit = 1000000,
                     .prepaid = 100000,
                     .sku_prefix = "FUL",
                     .stock = STOCK};
    ckt_fx_setup(&f->base, &o);
    ckt_user(&f->d, "[\"fulfillment\"]", f->ful, f->fkey);
    ckt_resp r = ckt_httpf(&f->d, "POST", "/v1/contracts", CKT_ADMIN_KEY, "{\"accountId\":\"%s\",\"amount\":100000}",
                           f->acct);
    ckt_expect_status(&r, 201);
    snprintf(f->ctr, sizeof(f->ctr), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
}

static char *dump(json_t *j)
{
    return j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(null)");
}

/* One placed order of 3 units and what the tests refer to. */
typedef struct ord {
    char id[64], sid[64], item[64], fo[64];
    char auth[64], gw_auth[128]; /* card orders */
} ord;

static json_t *get_json(fx *f, const char *key, const char *path)
{
    ckt_resp r = ckt_http(&f->d, "GET", path, key, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *j = json_incref(r.json);
    ckt_free(&r);
    return j;
}

static json_t *get_order(fx *f, const char *oid)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/orders/%s", oid);
    return get_json(f, CKT_ADMIN_KEY, path);
}

static json_t *get_fo(fx *f, const char *fo)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/fulfillment-orders/%s", fo);
    return get_json(f, f->fkey, path);
}

/* Reads the order's item, fulfillment order and authorization ids into o. */
static void read_order(fx *f, ord *o)
{
    json_t *j = get_order(f, o->id);
    snprintf(o->item, sizeof(o->item), "%s", ckt_str(j, "items.0.id"));
    json_t *fo = ckt_get(j, "fulfillmentOrderId");
    snprintf(o->fo, sizeof(o->fo), "%s", json_is_string(fo) ? json_string_value(fo) : "");
    if (json_array_size(ckt_get(j, "authorizations")) > 0) {
        snprintf(o->auth, sizeof(o->auth), "%s", ckt_str(j, "authorizations.0.id"));
        snprintf(o->gw_auth, sizeof(o->gw_auth), "%s", ckt_str(j, "authorizations.0.gatewayAuthId"));
    }
    json_decref(j);
}

/* Places 3 units paid with pay (7692); the ids into o. */
static void place(fx *f, const char *pay, ord *o)
{
    memset(o, 0, sizeof(*o));
    ckt_fx_session(&f->base, f->prod, 3, ADDR_US, pay, o->sid, NULL);
    ckt_place_ok(&f->base, o->sid, TOTAL, o->id);
    read_order(f, o);
}

static void place_card(fx *f, ord *o)
{
    place(f, PAY_CARD("tok_visa"), o);
    assert_true(strncmp(o->fo, "fo_", 3) == 0);
    assert_true(strncmp(o->auth, "pa_", 3) == 0);
}

static void items_body(char *out, size_t n, const char *item, int qty)
{
    snprintf(out, n, "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":%d}]}", item, qty);
}

static ckt_resp fulfil_raw(fx *f, const char *key, const char *fo, const char *body)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/fulfillment-orders/%s/fulfill", fo);
    return ckt_http(&f->d, "POST", path, key, body, NULL);
}

static ckt_resp cancel_raw(fx *f, const char *key, const char *oid, const char *body)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/orders/%s/cancel", oid);
    return ckt_http(&f->d, "POST", path, key, body, NULL);
}

static ckt_resp returns_raw(fx *f, const char *key, const char *oid, const char *body)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/orders/%s/returns", oid);
    return ckt_http(&f->d, "POST", path, key, body, NULL);
}

/* Fulfils qty units of the order's line as the fulfillment user: 200; the fo (owned). */
static json_t *fulfil_ok(fx *f, const ord *o, int qty)
{
    char body[256];
    items_body(body, sizeof(body), o->item, qty);
    ckt_resp r = fulfil_raw(f, f->fkey, o->fo, body);
    ckt_expect_status(&r, 200);
    json_t *j = json_incref(r.json);
    ckt_free(&r);
    return j;
}

/* Cancels qty units (0: no body, everything unfulfilled) as the admin: 200; the order (owned). */
static json_t *cancel_ok(fx *f, const ord *o, int qty)
{
    char body[256];
    if (qty > 0)
        items_body(body, sizeof(body), o->item, qty);
    ckt_resp r = cancel_raw(f, CKT_ADMIN_KEY, o->id, qty > 0 ? body : NULL);
    ckt_expect_status(&r, 200);
    json_t *j = json_incref(r.json);
    ckt_free(&r);
    return j;
}

/* Returns qty units as the admin: 201; the order (owned). */
static json_t *return_ok(fx *f, const ord *o, int qty)
{
    char body[256];
    items_body(body, sizeof(body), o->item, qty);
    ckt_resp r = returns_raw(f, CKT_ADMIN_KEY, o->id, body);
    ckt_expect_status(&r, 201);
    json_t *j = json_incref(r.json);
    ckt_free(&r);
    return j;
}

static const char *const fo_keys[] = {"id", "orderId", "storeId", "status", "items", "fulfillments",
                                      "createdAt", "updatedAt", NULL};
static const char *const fo_item_keys[] = {"orderItemId", "sku", "quantity", "quantityFulfilled",
                                           "quantityCancelled", NULL};
static const char *const ful_keys[] = {"id", "items", "trackingNumber", "amount", "capturedAmount", "paymentId",
                                       "status", "createdAt", NULL};
static const char *const ful_item_keys[] = {"orderItemId", "quantity", "amount", NULL};
static const char *const refund_keys[] = {"id", "amount", "paymentId", "createdAt", NULL};

/* The fulfillment order of o, exactly: this status, its one line with these
 * quantities, nful fulfilments. */
static void expect_fo(fx *f, json_t *fo, const ord *o, const char *status, int64_t fulfilled, int64_t cancelled,
                      size_t nful)
{
    if (!json_is_object(fo) || !json_is_string(ckt_get(fo, "status")) || strcmp(ckt_str(fo, "status"), status) ||
        json_array_size(ckt_get(fo, "fulfillments")) != nful) {
        char *s = dump(fo);
        fprintf(stderr, "expected fo %s with %zu fulfilments: %s\n", status, nful, s);
        free(s);
    }
    ckt_expect_keys(fo, fo_keys);
    assert_string_equal(ckt_str(fo, "id"), o->fo);
    assert_string_equal(ckt_str(fo, "orderId"), o->id);
    assert_string_equal(ckt_str(fo, "storeId"), f->store);
    assert_string_equal(ckt_str(fo, "status"), status);
    ckt_expect_time(fo, "createdAt");
    ckt_expect_time(fo, "updatedAt");
    json_t *items = ckt_get(fo, "items");
    assert_int_equal(json_array_size(items), 1);
    json_t *it = json_array_get(items, 0);
    ckt_expect_keys(it, fo_item_keys);
    assert_string_equal(ckt_str(it, "orderItemId"), o->item);
    assert_string_equal(ckt_str(it, "sku"), f->sku);
    assert_int_equal(ckt_int(it, "quantity"), 3);
    assert_int_equal(ckt_int(it, "quantityFulfilled"), fulfilled);
    assert_int_equal(ckt_int(it, "quantityCancelled"), cancelled);
    assert_true(json_is_array(ckt_get(fo, "fulfillments")));
    assert_int_equal(json_array_size(ckt_get(fo, "fulfillments")), nful);
}

/* Fulfilment i of fo: qty units of o's line worth item_amount, the
 * fulfilment worth amount, captured (pay: a pay_ id is expected when
 * captured > 0, else null), status Completed; its payment id into pay_out
 * unless NULL. */
static void expect_fulfilment(json_t *fo, size_t i, const ord *o, int64_t qty, int64_t item_amount, int64_t amount,
                              int64_t captured, char pay_out[64])
{
    json_t *fl = json_array_get(ckt_get(fo, "fulfillments"), i);
    if (!json_is_object(fl) || !json_is_integer(ckt_get(fl, "amount")) || ckt_int(fl, "amount") != amount ||
        ckt_int(fl, "capturedAmount") != captured) {
        char *s = dump(fo);
        fprintf(stderr, "fulfilment %zu: expected amount %lld captured %lld in %s\n", i, (long long)amount,
                (long long)captured, s);
        free(s);
    }
    assert_non_null(fl);
    ckt_expect_keys(fl, ful_keys);
    assert_true(strncmp(ckt_str(fl, "id"), "ful_", 4) == 0);
    assert_string_equal(ckt_str(fl, "status"), "Completed");
    ckt_expect_time(fl, "createdAt");
    json_t *items = ckt_get(fl, "items");
    assert_int_equal(json_array_size(items), 1);
    ckt_expect_keys(json_array_get(items, 0), ful_item_keys);
    assert_string_equal(ckt_str(items, "0.orderItemId"), o->item);
    assert_int_equal(ckt_int(items, "0.quantity"), qty);
    assert_int_equal(ckt_int(items, "0.amount"), item_amount);
    assert_int_equal(ckt_int(fl, "amount"), amount);
    assert_int_equal(ckt_int(fl, "capturedAmount"), captured);
    json_t *pay = ckt_get(fl, "paymentId");
    if (captured > 0) {
        assert_true(json_is_string(pay));
        assert_true(strncmp(json_string_value(pay), "pay_", 4) == 0);
        if (pay_out)
            snprintf(pay_out, 64, "%s", json_string_value(pay));
    } else {
        assert_true(json_is_null(pay));
        if (pay_out)
            pay_out[0] = '\0';
    }
}

/* The order's summary line: 3 ordered and these quantities. */
static void expect_summary(json_t *order, const ord *o, int64_t fulfilled, int64_t cancelled, int64_t returned)
{
    json_t *items = ckt_get(order, "summary.items");
    json_t *it = json_array_get(items, 0);
    if (json_array_size(items) != 1 || !json_is_object(it) || ckt_int(it, "quantityFulfilled") != fulfilled ||
        ckt_int(it, "quantityCancelled") != cancelled || ckt_int(it, "quantityReturned") != returned) {
        char *s = dump(ckt_get(order, "summary"));
        fprintf(stderr, "expected summary (3,%lld,%lld,%lld): %s\n", (long long)fulfilled, (long long)cancelled,
                (long long)returned, s);
        free(s);
    }
    assert_int_equal(json_array_size(items), 1);
    ckt_expect_keys(it, po_item_summary_keys);
    assert_string_equal(ckt_str(it, "orderItemId"), o->item);
    assert_int_equal(ckt_int(it, "quantityOrdered"), 3);
    assert_int_equal(ckt_int(it, "quantityFulfilled"), fulfilled);
    assert_int_equal(ckt_int(it, "quantityCancelled"), cancelled);
    assert_int_equal(ckt_int(it, "quantityReturned"), returned);
}

/* The order's one authorization has this status and captured amount. */
static void expect_auth(json_t *order, const char *status, int64_t captured)
{
    json_t *a = json_array_get(ckt_get(order, "authorizations"), 0);
    if (json_array_size(ckt_get(order, "authorizations")) != 1 || !json_is_object(a) ||
        strcmp(ckt_str(a, "status"), status) || ckt_int(a, "capturedAmount") != captured) {
        char *s = dump(ckt_get(order, "authorizations"));
        fprintf(stderr, "expected one authorization %s captured %lld: %s\n", status, (long long)captured, s);
        free(s);
    }
    assert_int_equal(json_array_size(ckt_get(order, "authorizations")), 1);
    ckt_expect_keys(a, po_auth_keys);
    assert_string_equal(ckt_str(a, "status"), status);
    assert_int_equal(ckt_int(a, "amount"), TOTAL);
    assert_int_equal(ckt_int(a, "capturedAmount"), captured);
}

/* The sum of the order's payments, asserting there are n of them. */
static int64_t payments_sum(json_t *order, size_t n)
{
    json_t *p = ckt_get(order, "payments");
    if (json_array_size(p) != n) {
        char *s = dump(p);
        fprintf(stderr, "expected %zu payments: %s\n", n, s);
        free(s);
    }
    assert_int_equal(json_array_size(p), n);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ckt_int(json_array_get(p, i), "amount");
    return sum;
}

/* The order's refunds: exactly n; refund i checked by expect_refund. */
static void expect_refunds(json_t *order, size_t n)
{
    json_t *r = ckt_get(order, "refunds");
    if (!json_is_array(r) || json_array_size(r) != n) {
        char *s = dump(r);
        fprintf(stderr, "expected %zu refunds: %s\n", n, s);
        free(s);
    }
    assert_true(json_is_array(r));
    assert_int_equal(json_array_size(r), n);
}

/* Refund i: this amount, and paymentId pay (NULL: JSON null). */
static void expect_refund(json_t *order, size_t i, int64_t amount, const char *pay)
{
    json_t *r = json_array_get(ckt_get(order, "refunds"), i);
    assert_non_null(r);
    ckt_expect_keys(r, refund_keys);
    assert_true(strncmp(ckt_str(r, "id"), "ref_", 4) == 0);
    assert_int_equal(ckt_int(r, "amount"), amount);
    ckt_expect_time(r, "createdAt");
    if (pay)
        assert_string_equal(ckt_str(r, "paymentId"), pay);
    else
        assert_true(json_is_null(ckt_get(r, "paymentId")));
}

static int64_t stock(fx *f)
{
    return ckt_db_int(&f->d, "SELECT stock FROM products WHERE id = '%s'", f->prod);
}

static int64_t payment_rows(fx *f, const char *oid)
{
    return ckt_db_int(&f->d, "SELECT count(*) FROM payments WHERE order_id = '%s'", oid);
}

/* The gateway's payment id of our pay_ id. */
static void gw_payment(fx *f, const char *pay, char out[128])
{
    ckt_db_text(&f->d, out, 128, "SELECT gateway_payment_id FROM payments WHERE id = '%s'", pay);
    assert_true(out[0] != '\0');
}

/* Rows of the built-in test gateway's ledger for op (approved ones). */
static int64_t testgw_ops(fx *f, const char *op)
{
    return ckt_db_int(&f->d, "SELECT count(*) FROM gateway_test_ledger WHERE op = '%s' AND result = 'approved'", op);
}

static int64_t testgw_amount(fx *f, const char *op)
{
    return ckt_db_int(&f->d,
                      "SELECT COALESCE(SUM(amount), 0) FROM gateway_test_ledger WHERE op = '%s' AND result = 'approved'",
                      op);
}

/* The idempotency key the fake gateway saw last. */
static void expect_gw_key(fx *f, const char *want)
{
    char key[256];
    fgw_last_idem_key(f->gw, key, sizeof(key));
    if (strcmp(key, want))
        fprintf(stderr, "gateway key: expected %s, got %s\n", want, key);
    assert_string_equal(key, want);
}

/* ------------------------------------------------------- the worked example */

/* (a) The release made the fulfillment order; fulfilling all 3 captures 7692 once. */
static void run_fulfil_all(int fake)
{
    fx *f = &F;
    fx_setup(f, fake);
    ord o;
    place_card(f, &o);
    json_t *order = get_order(f, o.id);
    ckt_expect_keys(order, po_order_keys);
    assert_string_equal(ckt_str(order, "fulfillmentOrderId"), o.fo);
    expect_refunds(order, 0);
    expect_auth(order, "Authorized", 0);
    expect_summary(order, &o, 0, 0, 0);
    json_decref(order);
    assert_int_equal(stock(f), STOCK - 3);

    json_t *fo = get_fo(f, o.fo);
    expect_fo(f, fo, &o, "Allocated", 0, 0, 0);
    json_decref(fo);
    /* The admin sees it too. */
    char path[256];
    snprintf(path, sizeof(path), "/v1/fulfillment-orders/%s", o.fo);
    fo = get_json(f, CKT_ADMIN_KEY, path);
    expect_fo(f, fo, &o, "Allocated", 0, 0, 0);
    json_decref(fo);

    char body[512];
    snprintf(body, sizeof(body), "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":3}],\"trackingNumber\":\"1Z999\"}",
             o.item);
    ckt_resp r = fulfil_raw(f, f->fkey, o.fo, body);
    ckt_expect_status(&r, 200);
    char pay[64];
    expect_fo(f, r.json, &o, "Fulfilled", 3, 0, 1);
    expect_fulfilment(r.json, 0, &o, 3, LINE, TOTAL, TOTAL, pay);
    assert_string_equal(ckt_str(r.json, "fulfillments.0.trackingNumber"), "1Z999");
    ckt_free(&r);

    order = get_order(f, o.id);
    expect_auth(order, "Captured", TOTAL);
    assert_int_equal(payments_sum(order, 1), TOTAL);
    assert_string_equal(ckt_str(order, "payments.0.id"), pay);
    assert_string_equal(ckt_str(order, "payments.0.authorizationId"), o.auth);
    expect_summary(order, &o, 3, 0, 0);
    assert_string_equal(ckt_str(order, "status"), "Activated");
    json_decref(order);
    assert_int_equal(payment_rows(f, o.id), 1);
    assert_int_equal(stock(f), STOCK - 3);
    if (fake) {
        assert_int_equal(fgw_captures(f->gw), 1);
        assert_int_equal(fgw_captured_amount(f->gw, o.gw_auth), TOTAL);
        char key[128];
        snprintf(key, sizeof(key), "%s:fulfill:1", o.fo);
        expect_gw_key(f, key);
    } else {
        char op[192];
        snprintf(op, sizeof(op), "capture:%s", o.gw_auth);
        assert_int_equal(testgw_ops(f, op), 1);
        assert_int_equal(testgw_amount(f, op), TOTAL);
    }
    /* The GET agrees with the answer. */
    fo = get_fo(f, o.fo);
    expect_fo(f, fo, &o, "Fulfilled", 3, 0, 1);
    expect_fulfilment(fo, 0, &o, 3, LINE, TOTAL, TOTAL, NULL);
    json_decref(fo);
    ckt_fx_finish(&f->base);
}

static void fulfil_all_test_gateway(void **state)
{
    (void)state;
    run_fulfil_all(0);
}

static void fulfil_all_http_gateway(void **state)
{
    (void)state;
    run_fulfil_all(1);
}

/* (b) fulfil 2 -> 5528; cancel 1 -> 2164 voided, the hold released;
 * (c) return 1 -> 2164 refunded through the gateway. */
static void run_fulfil_cancel_return(int fake)
{
    fx *f = &F;
    fx_setup(f, fake);
    ord o;
    place_card(f, &o);

    json_t *fo = fulfil_ok(f, &o, 2);
    char pay[64];
    expect_fo(f, fo, &o, "PartiallyFulfilled", 2, 0, 1);
    expect_fulfilment(fo, 0, &o, 2, TWO, TWO + SHIP, TWO + SHIP, pay);
    assert_true(json_is_null(ckt_get(fo, "fulfillments.0.trackingNumber")));
    json_decref(fo);
    json_t *order = get_order(f, o.id);
    expect_auth(order, "PartiallyCaptured", TWO + SHIP);
    assert_int_equal(payments_sum(order, 1), TWO + SHIP);
    expect_summary(order, &o, 2, 0, 0);
    json_decref(order);
    if (fake)
        assert_int_equal(fgw_captured_amount(f->gw, o.gw_auth), TWO + SHIP);

    /* Cancel the last unit: the hold's remainder is 0, so it is released. */
    int64_t before = stock(f);
    order = cancel_ok(f, &o, 1);
    ckt_expect_keys(order, po_order_keys);
    assert_string_equal(ckt_str(order, "id"), o.id);
    assert_string_equal(ckt_str(order, "status"), "Activated");
    expect_summary(order, &o, 2, 1, 0);
    expect_auth(order, "Captured", TWO + SHIP);
    assert_int_equal(payments_sum(order, 1), TWO + SHIP);
    expect_refunds(order, 0);
    json_decref(order);
    assert_int_equal(stock(f), before + 1);
    if (fake) {
        assert_int_equal(fgw_voided(f->gw, o.gw_auth), 1);
        assert_int_equal(fgw_voids(f->gw), 1);
        assert_int_equal(fgw_captures(f->gw), 1);
        assert_int_equal(fgw_captured_amount(f->gw, o.gw_auth), TWO + SHIP);
    } else {
        char op[192];
        snprintf(op, sizeof(op), "void:%s", o.gw_auth);
        assert_int_equal(testgw_ops(f, op), 1);
    }
    fo = get_fo(f, o.fo);
    expect_fo(f, fo, &o, "Fulfilled", 2, 1, 1);
    json_decref(fo);

    /* Return one of the two fulfilled units: 2164 back through the gateway. */
    order = return_ok(f, &o, 1);
    ckt_expect_keys(order, po_order_keys);
    expect_summary(order, &o, 2, 1, 1);
    expect_refunds(order, 1);
    expect_refund(order, 0, ONE, pay);
    json_decref(order);
    /* A return does not restock. */
    assert_int_equal(stock(f), before + 1);
    char gwpay[128];
    gw_payment(f, pay, gwpay);
    if (fake) {
        assert_int_equal(fgw_refunds(f->gw), 1);
        assert_int_equal(fgw_refunded_amount(f->gw, gwpay), ONE);
        /* The return's only gateway call is its refund, keyed
         * <changeId>:refund:<paymentId> (the hold was released by the cancel
         * already: nothing is voided again). */
        char key[256], tail[128];
        fgw_last_idem_key(f->gw, key, sizeof(key));
        snprintf(tail, sizeof(tail), ":refund:%s", pay);
        size_t kl = strlen(key), tl = strlen(tail);
        int ok = kl > tl && strcmp(key + kl - tl, tail) == 0;
        if (!ok)
            fprintf(stderr, "the last gateway call of the return has key %s, expected <changeId>%s\n", key, tail);
        assert_true(ok);
    } else {
        char op[192];
        snprintf(op, sizeof(op), "refund:%s", gwpay);
        assert_int_equal(testgw_ops(f, op), 1);
        assert_int_equal(testgw_amount(f, op), ONE);
    }
    order = get_order(f, o.id);
    expect_summary(order, &o, 2, 1, 1);
    expect_refunds(order, 1);
    expect_refund(order, 0, ONE, pay);
    assert_int_equal(payments_sum(order, 1), TWO + SHIP);
    /* A refund is not a capture undone: the authorization stays as it was. */
    expect_auth(order, "Captured", TWO + SHIP);
    json_decref(order);

    /* The other fulfilled unit may be returned too (the remainder of what was fulfilled). */
    order = return_ok(f, &o, 1);
    expect_summary(order, &o, 2, 1, 2);
    expect_refunds(order, 2);
    expect_refund(order, 1, TWO - ONE, pay);
    json_decref(order);
    if (fake)
        assert_int_equal(fgw_refunded_amount(f->gw, gwpay), TWO);
    /* Nothing is left to return. */
    char body[256];
    items_body(body, sizeof(body), o.item, 1);
    ckt_resp r = returns_raw(f, CKT_ADMIN_KEY, o.id, body);
    ckt_expect_error(&r, 409, "CONFLICT", "NOTHING_TO_RETURN", NULL);
    ckt_free(&r);
    if (fake)
        assert_int_equal(fgw_refunds(f->gw), 2);
    ckt_fx_finish(&f->base);
}

static void fulfil_cancel_return_test_gateway(void **state)
{
    (void)state;
    run_fulfil_cancel_return(0);
}

static void fulfil_cancel_return_http_gateway(void **state)
{
    (void)state;
    run_fulfil_cancel_return(1);
}

/* (d) fulfil 1, 1, 1 -> captures 3364 (2164 + shipping), 2164, 2164 (the
 * remainder), each under its own gateway key. */
static void run_fulfil_one_by_one(int fake)
{
    fx *f = &F;
    fx_setup(f, fake);
    ord o;
    place_card(f, &o);
    const int64_t want[3] = {ONE + SHIP, ONE, LINE - 2 * ONE};
    const int64_t item[3] = {ONE, ONE, LINE - 2 * ONE};
    int64_t sum = 0;
    for (int i = 0; i < 3; i++) {
        json_t *fo = fulfil_ok(f, &o, 1);
        expect_fo(f, fo, &o, i < 2 ? "PartiallyFulfilled" : "Fulfilled", i + 1, 0, (size_t)i + 1);
        expect_fulfilment(fo, (size_t)i, &o, 1, item[i], want[i], want[i], NULL);
        /* Earlier fulfilments stay as they were. */
        for (int k = 0; k < i; k++)
            expect_fulfilment(fo, (size_t)k, &o, 1, item[k], want[k], want[k], NULL);
        json_decref(fo);
        sum += want[i];
        json_t *order = get_order(f, o.id);
        expect_auth(order, i < 2 ? "PartiallyCaptured" : "Captured", sum);
        assert_int_equal(payments_sum(order, (size_t)i + 1), sum);
        json_decref(order);
        if (fake) {
            char key[128];
            snprintf(key, sizeof(key), "%s:fulfill:%d", o.fo, i + 1);
            expect_gw_key(f, key);
            assert_int_equal(fgw_captures(f->gw), i + 1);
            assert_int_equal(fgw_captured_amount(f->gw, o.gw_auth), sum);
        }
    }
    assert_int_equal(sum, TOTAL);
    /* Nothing is open: a fourth is over-fulfilment. */
    char body[256];
    items_body(body, sizeof(body), o.item, 1);
    ckt_resp r = fulfil_raw(f, f->fkey, o.fo, body);
    ckt_expect_error(&r, 409, "CONFLICT", "OVER_FULFILLMENT", NULL);
    ckt_free(&r);
    assert_int_equal(payment_rows(f, o.id), 3);
    if (fake)
        assert_int_equal(fgw_captures(f->gw), 3);
    ckt_fx_finish(&f->base);
}

static void fulfil_one_by_one_test_gateway(void **state)
{
    (void)state;
    run_fulfil_one_by_one(0);
}

static void fulfil_one_by_one_http_gateway(void **state)
{
    (void)state;
    run_fulfil_one_by_one(1);
}

/* (e) Cancelling everything before any fulfilment (no body, and "{}"):
 * the order and its fulfillment order Cancelled, the hold voided, the stock back. */
static void run_cancel_everything(int fake)
{
    fx *f = &F;
    fx_setup(f, fake);
    for (int v = 0; v < 2; v++) {
        ord o;
        place_card(f, &o);
        int64_t before = stock(f);
        ckt_resp r = cancel_raw(f, CKT_ADMIN_KEY, o.id, v == 0 ? NULL : "{}");
        ckt_expect_status(&r, 200);
        json_t *order = json_incref(r.json);
        ckt_free(&r);
        ckt_expect_keys(order, po_order_keys);
        assert_string_equal(ckt_str(order, "status"), "Cancelled");
        expect_summary(order, &o, 0, 3, 0);
        expect_auth(order, "Voided", 0);
        assert_int_equal(payments_sum(order, 0), 0);
        expect_refunds(order, 0);
        json_decref(order);
        assert_int_equal(stock(f), before + 3);
        json_t *fo = get_fo(f, o.fo);
        expect_fo(f, fo, &o, "Cancelled", 0, 3, 0);
        json_decref(fo);
        order = get_order(f, o.id);
        assert_string_equal(ckt_str(order, "status"), "Cancelled");
        expect_auth(order, "Voided", 0);
        json_decref(order);
        if (fake) {
            assert_int_equal(fgw_voided(f->gw, o.gw_auth), 1);
            assert_int_equal(fgw_captured_amount(f->gw, o.gw_auth), 0);
            assert_int_equal(fgw_voids(f->gw), v + 1);
            assert_int_equal(fgw_captures(f->gw), 0);
        } else {
            char op[192];
            snprintf(op, sizeof(op), "void:%s", o.gw_auth);
            assert_int_equal(testgw_ops(f, op), 1);
        }
        /* Nothing is left: another cancel, a fulfil and a return are refused. */
        r = cancel_raw(f, CKT_ADMIN_KEY, o.id, NULL);
        ckt_expect_error(&r, 409, "CONFLICT", "NOTHING_TO_CANCEL", NULL);
        ckt_free(&r);
        char body[256];
        items_body(body, sizeof(body), o.item, 1);
        r = fulfil_raw(f, f->fkey, o.fo, body);
        ckt_expect_error(&r, 409, "CONFLICT", "OVER_FULFILLMENT", NULL);
        ckt_free(&r);
        r = returns_raw(f, CKT_ADMIN_KEY, o.id, body);
        ckt_expect_error(&r, 409, "CONFLICT", "NOTHING_TO_RETURN", NULL);
        ckt_free(&r);
        assert_int_equal(stock(f), before + 3);
        assert_int_equal(payment_rows(f, o.id), 0);
    }
    ckt_fx_finish(&f->base);
}

static void cancel_everything_test_gateway(void **state)
{
    (void)state;
    run_cancel_everything(0);
}

static void cancel_everything_http_gateway(void **state)
{
    (void)state;
    run_cancel_everything(1);
}

/* ---------------------------------------------------- the other methods */

static int64_t acct_int(fx *f, const char *field)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/accounts/%s", f->acct);
    json_t *a = get_json(f, CKT_ADMIN_KEY, path);
    int64_t v = ckt_int(a, field);
    json_decref(a);
    return v;
}

static int64_t contract_remaining(fx *f)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/contracts/%s", f->ctr);
    json_t *c = get_json(f, CKT_ADMIN_KEY, path);
    int64_t v = ckt_int(c, "remaining");
    json_decref(c);
    return v;
}

/* GET /v1/accounts/{id}/ledger (every row); asserts that its sums are the
 * balances the API shows: credit rows = creditUsed, prepaid rows =
 * prepaidBalance, the contract's rows = its remaining; and the database
 * invariant. Returns the rows (owned). */
static json_t *ledger_matches_balances(fx *f)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/accounts/%s/ledger?limit=500", f->acct);
    json_t *l = get_json(f, CKT_ADMIN_KEY, path);
    assert_true(json_is_null(ckt_get(l, "nextPageToken")));
    json_t *items = json_incref(ckt_get(l, "items"));
    json_decref(l);
    int64_t credit = 0, prepaid = 0, contract = 0;
    size_t i;
    json_t *e;
    json_array_foreach(items, i, e)
    {
        const char *kind = ckt_str(e, "kind");
        if (strcmp(kind, "credit") == 0)
            credit += ckt_int(e, "amount");
        else if (strcmp(kind, "prepaid") == 0)
            prepaid += ckt_int(e, "amount");
        else if (strcmp(kind, "contract") == 0 && json_is_string(ckt_get(e, "contractId")) &&
                 strcmp(ckt_str(e, "contractId"), f->ctr) == 0)
            contract += ckt_int(e, "amount");
    }
    assert_int_equal(credit, acct_int(f, "creditUsed"));
    assert_int_equal(prepaid, acct_int(f, "prepaidBalance"));
    assert_int_equal(contract, contract_remaining(f));
    ckt_expect_ledger_reconciles(&f->d);
    return items;
}

/* How many `release` rows of kind for the order there are, each of amount. */
static int release_rows(json_t *ledger, const char *kind, const char *oid, int64_t amount)
{
    int n = 0, other = 0;
    size_t i;
    json_t *e;
    json_array_foreach(ledger, i, e)
    {
        json_t *o = ckt_get(e, "orderId");
        if (strcmp(ckt_str(e, "entry"), "release") || !json_is_string(o) || strcmp(json_string_value(o), oid))
            continue;
        if (strcmp(ckt_str(e, "kind"), kind) == 0 && ckt_int(e, "amount") == amount) {
            assert_true(strncmp(ckt_str(e, "id"), "led_", 4) == 0);
            n++;
        } else {
            other++;
        }
    }
    if (other) {
        char *s = dump(ledger);
        fprintf(stderr, "release rows of %s other than %s %lld: %s\n", oid, kind, (long long)amount, s);
        free(s);
    }
    assert_int_equal(other, 0);
    return n;
}

typedef struct method {
    const char *name, *pay, *kind;
    int sign; /* +1: the balance grows with an order (credit used); -1: it falls */
} method;

static int64_t balance_of(fx *f, const method *m)
{
    if (strcmp(m->kind, "credit") == 0)
        return acct_int(f, "creditUsed");
    if (strcmp(m->kind, "prepaid") == 0)
        return acct_int(f, "prepaidBalance");
    return contract_remaining(f);
}

/* Has the list of fulfillment orders one for this order? */
static int listed(fx *f, const char *oid)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/fulfillment-orders?storeId=%s&limit=500", f->store);
    json_t *l = get_json(f, f->fkey, path);
    int n = 0;
    size_t i;
    json_t *fo;
    json_array_foreach(ckt_get(l, "items"), i, fo) n += strcmp(ckt_str(fo, "orderId"), oid) == 0;
    json_decref(l);
    return n;
}

static void run_method(fx *f, const method *m)
{
    int64_t b0 = balance_of(f, m);
    ord o;
    place(f, m->pay, &o);
    assert_int_equal(balance_of(f, m), b0 + m->sign * TOTAL);
    int net_terms = strcmp(m->name, "net_terms") == 0;
    if (net_terms) {
        /* Not released until approved: no fulfillment order yet. */
        json_t *order = get_order(f, o.id);
        assert_string_equal(ckt_str(order, "status"), "PendingApproval");
        assert_true(json_is_null(ckt_get(order, "fulfillmentOrderId")));
        json_decref(order);
        assert_string_equal(o.fo, "");
        assert_int_equal(listed(f, o.id), 0);
        char path[256];
        snprintf(path, sizeof(path), "/v1/orders/%s/approve", o.id);
        ckt_resp r = ckt_http(&f->d, "POST", path, CKT_ADMIN_KEY, NULL, NULL);
        ckt_expect_status(&r, 200);
        assert_string_equal(ckt_str(r.json, "status"), "Activated");
        ckt_free(&r);
        read_order(f, &o);
    }
    if (strncmp(o.fo, "fo_", 3) != 0)
        fprintf(stderr, "%s order %s has no fulfillment order\n", m->name, o.id);
    assert_true(strncmp(o.fo, "fo_", 3) == 0);
    assert_int_equal(listed(f, o.id), 1);
    json_t *fo = get_fo(f, o.fo);
    expect_fo(f, fo, &o, "Allocated", 0, 0, 0);
    json_decref(fo);

    /* Fulfil 2: no money moves. */
    fo = fulfil_ok(f, &o, 2);
    expect_fo(f, fo, &o, "PartiallyFulfilled", 2, 0, 1);
    expect_fulfilment(fo, 0, &o, 2, TWO, TWO + SHIP, 0, NULL);
    json_decref(fo);
    assert_int_equal(balance_of(f, m), b0 + m->sign * TOTAL);
    assert_int_equal(payment_rows(f, o.id), 0);
    json_t *l = ledger_matches_balances(f);
    assert_int_equal(release_rows(l, m->kind, o.id, -m->sign * ONE), 0);
    json_decref(l);

    /* Cancel 1: 2164 back, with its release row; the unit back in stock. */
    int64_t st = stock(f);
    json_t *order = cancel_ok(f, &o, 1);
    expect_summary(order, &o, 2, 1, 0);
    assert_string_equal(ckt_str(order, "status"), "Activated");
    expect_refunds(order, 0);
    json_decref(order);
    assert_int_equal(stock(f), st + 1);
    assert_int_equal(balance_of(f, m), b0 + m->sign * (TOTAL - ONE));
    l = ledger_matches_balances(f);
    assert_int_equal(release_rows(l, m->kind, o.id, -m->sign * ONE), 1);
    json_decref(l);
    fo = get_fo(f, o.fo);
    expect_fo(f, fo, &o, "Fulfilled", 2, 1, 1);
    json_decref(fo);

    /* Return 1: 2164 back again; a refunds row without a payment; no restock. */
    order = return_ok(f, &o, 1);
    expect_summary(order, &o, 2, 1, 1);
    expect_refunds(order, 1);
    expect_refund(order, 0, ONE, NULL);
    json_decref(order);
    assert_int_equal(stock(f), st + 1);
    assert_int_equal(balance_of(f, m), b0 + m->sign * (TOTAL - 2 * ONE));
    l = ledger_matches_balances(f);
    assert_int_equal(release_rows(l, m->kind, o.id, -m->sign * ONE), 2);
    json_decref(l);
    order = get_order(f, o.id);
    expect_refunds(order, 1);
    expect_refund(order, 0, ONE, NULL);
    assert_int_equal(payments_sum(order, 0), 0);
    assert_int_equal(json_array_size(ckt_get(order, "authorizations")), 0);
    json_decref(order);
}

static void balances_by_method(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, 0);
    char pay_ctr[256];
    snprintf(pay_ctr, sizeof(pay_ctr), "{\"method\":\"contract\",\"contractId\":\"%s\"}", f->ctr);
    const method ms[] = {
        {"purchase_order", "{\"method\":\"purchase_order\",\"poNumber\":\"PO-FUL-1\"}", "credit", +1},
        {"net_terms", "{\"method\":\"net_terms\",\"poNumber\":\"NT-FUL-1\"}", "credit", +1},
        {"prepaid", "{\"method\":\"prepaid\"}", "prepaid", -1},
        {"contract", pay_ctr, "contract", -1},
    };
    for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
        run_method(f, &ms[i]);
    ckt_fx_finish(&f->base);
}

/* Cancelling every unit of a credit order gives the whole total back,
 * shipping included (nothing was ever fulfilled). */
static void cancel_everything_releases_all_credit(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, 0);
    int64_t used0 = acct_int(f, "creditUsed"), pre0 = acct_int(f, "prepaidBalance");
    ord po, pp;
    place(f, "{\"method\":\"purchase_order\",\"poNumber\":\"PO-FUL-ALL\"}", &po);
    place(f, "{\"method\":\"prepaid\"}", &pp);
    json_t *order = cancel_ok(f, &po, 0);
    assert_string_equal(ckt_str(order, "status"), "Cancelled");
    expect_summary(order, &po, 0, 3, 0);
    json_decref(order);
    order = cancel_ok(f, &pp, 0);
    assert_string_equal(ckt_str(order, "status"), "Cancelled");
    json_decref(order);
    assert_int_equal(acct_int(f, "creditUsed"), used0);
    assert_int_equal(acct_int(f, "prepaidBalance"), pre0);
    json_t *l = ledger_matches_balances(f);
    assert_int_equal(release_rows(l, "credit", po.id, -TOTAL), 1);
    assert_int_equal(release_rows(l, "prepaid", pp.id, TOTAL), 1);
    json_decref(l);
    assert_int_equal(stock(f), STOCK);
    ckt_fx_finish(&f->base);
}

/* ----------------------------------------------------------- manual capture */

static ckt_resp capture(fx *f, const char *oid, const char *body)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/orders/%s/capture", oid);
    return ckt_http(&f->d, "POST", path, f->fkey, body, NULL);
}

/* A gateway's own text never reaches the caller (docs/security.md,
 * "Outside text: gateways"): a capture the gateway answers with an error
 * whose message holds a quote, a newline and a JSON record is 500
 * PAYMENT_GATEWAY_ERROR with our sentence and the plain-token code; the
 * message is in one log record, as a value, and forges none. */
static void capture_gateway_text_not_shown(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, 1);
    ord a;
    place_card(f, &a);
    fgw_error_text_next(f->gw, 1);
    ckt_resp r = capture(f, a.id, NULL);
    ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "PAYMENT_GATEWAY_ERROR", NULL);
    assert_null(strstr(r.body, "acquirer"));
    assert_null(strstr(r.body, "forged"));
    assert_non_null(strstr(ckt_str(json_array_get(r.json, 0), "message"), "(processing_error)"));
    ckt_free(&r);
    json_t *recs = ckt_log_records(f->d.log_path);
    int holding = 0, forged = 0;
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec) {
        const char *e = json_string_value(json_object_get(rec, "error"));
        holding += e && strstr(e, "acquirer said \"no\"") != NULL;
        forged += strcmp(json_string_value(json_object_get(rec, "msg")), "forged") == 0;
    }
    json_decref(recs);
    assert_int_equal(holding, 1);
    assert_int_equal(forged, 0);
    assert_int_equal(fgw_captures(f->gw), 0);
    ckt_fx_finish(&f->base);
}

/* A manual capture counts: a fulfilment captures only what its value adds
 * beyond what was captured, never more than the authorization. */
static void manual_capture_counts(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, 1);
    /* 1000 by hand, then all 3 fulfilled: the fulfilment takes 6692. */
    ord a;
    place_card(f, &a);
    ckt_resp r = capture(f, a.id, "{\"amount\":1000}");
    ckt_expect_status(&r, 201);
    char manual[64];
    snprintf(manual, sizeof(manual), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
    json_t *fo = fulfil_ok(f, &a, 3);
    char pay[64];
    expect_fulfilment(fo, 0, &a, 3, LINE, TOTAL, TOTAL - 1000, pay);
    assert_string_not_equal(pay, manual);
    json_decref(fo);
    json_t *order = get_order(f, a.id);
    expect_auth(order, "Captured", TOTAL);
    assert_int_equal(payments_sum(order, 2), TOTAL);
    json_decref(order);
    assert_int_equal(fgw_captures(f->gw), 2);
    assert_int_equal(fgw_captured_amount(f->gw, a.gw_auth), TOTAL);
    r = capture(f, a.id, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "NOTHING_TO_CAPTURE", NULL);
    ckt_free(&r);

    /* Everything by hand: the fulfilments capture nothing more. */
    ord b;
    place_card(f, &b);
    r = capture(f, b.id, NULL);
    ckt_expect_status(&r, 201);
    assert_int_equal(ckt_int(r.json, "amount"), TOTAL);
    ckt_free(&r);
    fo = fulfil_ok(f, &b, 2);
    expect_fulfilment(fo, 0, &b, 2, TWO, TWO + SHIP, 0, NULL);
    json_decref(fo);
    fo = fulfil_ok(f, &b, 1);
    expect_fo(f, fo, &b, "Fulfilled", 3, 0, 2);
    expect_fulfilment(fo, 1, &b, 1, LINE - TWO, LINE - TWO, 0, NULL);
    json_decref(fo);
    order = get_order(f, b.id);
    expect_auth(order, "Captured", TOTAL);
    assert_int_equal(payments_sum(order, 1), TOTAL);
    json_decref(order);
    assert_int_equal(fgw_captures(f->gw), 3);
    assert_int_equal(fgw_captured_amount(f->gw, b.gw_auth), TOTAL);

    /* 6000 by hand: fulfilling 2 (5528) adds nothing, the last unit the rest (1692). */
    ord c;
    place_card(f, &c);
    r = capture(f, c.id, "{\"amount\":6000}");
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    fo = fulfil_ok(f, &c, 2);
    expect_fulfilment(fo, 0, &c, 2, TWO, TWO + SHIP, 0, NULL);
    json_decref(fo);
    fo = fulfil_ok(f, &c, 1);
    expect_fulfilment(fo, 1, &c, 1, LINE - TWO, LINE - TWO, TOTAL - 6000, NULL);
    json_decref(fo);
    order = get_order(f, c.id);
    expect_auth(order, "Captured", TOTAL);
    assert_int_equal(payments_sum(order, 2), TOTAL);
    json_decref(order);
    assert_int_equal(fgw_captured_amount(f->gw, c.gw_auth), TOTAL);
    assert_int_equal(fgw_captures(f->gw), 5);

    /* Everything by hand, then a unit cancelled: the capture took more than
     * can remain (5528), so the cancel refunds the difference (2164). */
    ord d;
    place_card(f, &d);
    r = capture(f, d.id, NULL);
    ckt_expect_status(&r, 201);
    char dpay[64], gwpay[128];
    snprintf(dpay, sizeof(dpay), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
    order = cancel_ok(f, &d, 1);
    expect_summary(order, &d, 0, 1, 0);
    expect_refunds(order, 1);
    expect_refund(order, 0, ONE, dpay);
    json_decref(order);
    gw_payment(f, dpay, gwpay);
    assert_int_equal(fgw_refunds(f->gw), 1);
    assert_int_equal(fgw_refunded_amount(f->gw, gwpay), ONE);
    assert_int_equal(fgw_captured_amount(f->gw, d.gw_auth), TOTAL);
    ckt_fx_finish(&f->base);
}

/* ------------------------------------------------------------------ errors */

/* The fo, order and gateway as they were: nothing changed. */
static void expect_untouched(fx *f, const ord *o, const char *status, int64_t fulfilled, int64_t cancelled,
                             int64_t returned, size_t nful, int64_t npay, int captures, int64_t stock_want)
{
    json_t *fo = get_fo(f, o->fo);
    expect_fo(f, fo, o, status, fulfilled, cancelled, nful);
    json_decref(fo);
    json_t *order = get_order(f, o->id);
    expect_summary(order, o, fulfilled, cancelled, returned);
    json_decref(order);
    assert_int_equal(payment_rows(f, o->id), npay);
    assert_int_equal(fgw_captures(f->gw), captures);
    assert_int_equal(stock(f), stock_want);
}

static void refusals(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, 1);
    ord o, other;
    place_card(f, &o);
    place_card(f, &other);
    int64_t st = stock(f);
    char body[1024];
    ckt_resp r;

    /* Over-fulfilment: the whole request refused, nothing captured. */
    items_body(body, sizeof(body), o.item, 4);
    r = fulfil_raw(f, f->fkey, o.fo, body);
    ckt_expect_error(&r, 409, "CONFLICT", "OVER_FULFILLMENT", NULL);
    ckt_free(&r);
    expect_untouched(f, &o, "Allocated", 0, 0, 0, 0, 0, 0, st);

    /* Returning unfulfilled units. */
    items_body(body, sizeof(body), o.item, 1);
    r = returns_raw(f, CKT_ADMIN_KEY, o.id, body);
    ckt_expect_error(&r, 409, "CONFLICT", "NOTHING_TO_RETURN", NULL);
    ckt_free(&r);
    expect_untouched(f, &o, "Allocated", 0, 0, 0, 0, 0, 0, st);

    /* Cancelling more than is open. */
    items_body(body, sizeof(body), o.item, 4);
    r = cancel_raw(f, CKT_ADMIN_KEY, o.id, body);
    ckt_expect_error(&r, 409, "CONFLICT", "NOTHING_TO_CANCEL", NULL);
    ckt_free(&r);
    expect_untouched(f, &o, "Allocated", 0, 0, 0, 0, 0, 0, st);

    /* Fulfil 2, then: fulfilling 2 more is over-fulfilment; cancelling 2 takes a fulfilled unit. */
    json_t *fo = fulfil_ok(f, &o, 2);
    json_decref(fo);
    items_body(body, sizeof(body), o.item, 2);
    r = fulfil_raw(f, f->fkey, o.fo, body);
    ckt_expect_error(&r, 409, "CONFLICT", "OVER_FULFILLMENT", NULL);
    ckt_free(&r);
    r = cancel_raw(f, CKT_ADMIN_KEY, o.id, body);
    ckt_expect_error(&r, 409, "CONFLICT", "NOTHING_TO_CANCEL", NULL);
    ckt_free(&r);
    /* Returning more than was fulfilled. */
    items_body(body, sizeof(body), o.item, 3);
    r = returns_raw(f, CKT_ADMIN_KEY, o.id, body);
    ckt_expect_error(&r, 409, "CONFLICT", "NOTHING_TO_RETURN", NULL);
    ckt_free(&r);
    expect_untouched(f, &o, "PartiallyFulfilled", 2, 0, 0, 1, 1, 1, st);
    assert_int_equal(fgw_voids(f->gw), 0);
    assert_int_equal(fgw_refunds(f->gw), 0);

    /* The last unit fulfilled: nothing is left to cancel, with or without a body. */
    fo = fulfil_ok(f, &o, 1);
    json_decref(fo);
    r = cancel_raw(f, CKT_ADMIN_KEY, o.id, NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "NOTHING_TO_CANCEL", NULL);
    ckt_free(&r);
    items_body(body, sizeof(body), o.item, 1);
    r = cancel_raw(f, CKT_ADMIN_KEY, o.id, body);
    ckt_expect_error(&r, 409, "CONFLICT", "NOTHING_TO_CANCEL", NULL);
    ckt_free(&r);
    expect_untouched(f, &o, "Fulfilled", 3, 0, 0, 2, 2, 2, st);
    assert_int_equal(fgw_voids(f->gw), 0);

    /* Bodies the three routes refuse alike (the other order is untouched
     * throughout: its fo stays Allocated). */
    char unknown_item[96], dup[512], foreign[512], big_track[300], long_track[1024];
    snprintf(unknown_item, sizeof(unknown_item), "{\"items\":[{\"orderItemId\":\"oi_nope\",\"quantity\":1}]}");
    items_body(foreign, sizeof(foreign), o.item, 1); /* o's item, sent to `other` */
    snprintf(dup, sizeof(dup),
             "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":1},{\"orderItemId\":\"%s\",\"quantity\":1}]}",
             other.item, other.item);
    memset(big_track, 'x', 256);
    big_track[256] = '\0';
    snprintf(long_track, sizeof(long_track), "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":1}],\"trackingNumber\":\"%s\"}",
             other.item, big_track);
    char q0[256], qs[256], qneg[256], qfrac[256], idnum[128], extra[256], notobj[64], track_num[256];
    snprintf(q0, sizeof(q0), "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":0}]}", other.item);
    snprintf(qs, sizeof(qs), "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":\"2\"}]}", other.item);
    snprintf(qneg, sizeof(qneg), "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":-1}]}", other.item);
    snprintf(qfrac, sizeof(qfrac), "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":1.5}]}", other.item);
    snprintf(idnum, sizeof(idnum), "{\"items\":[{\"orderItemId\":7,\"quantity\":1}]}");
    snprintf(extra, sizeof(extra), "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":1}],\"bogus\":1}", other.item);
    snprintf(notobj, sizeof(notobj), "{\"items\":[5]}");
    snprintf(track_num, sizeof(track_num), "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":1}],\"trackingNumber\":5}",
             other.item);
    typedef struct bad {
        const char *body;
        long status;
        const char *code, *reason, *field;
        int routes; /* 1 fulfil, 2 cancel, 4 returns */
    } bad;
    const bad cases[] = {
        {"{\"items\":", 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL, 7},
        {"[]", 400, "BAD_REQUEST", "INVALID_BODY", NULL, 7},
        {"{}", 400, "BAD_REQUEST", "MISSING_FIELD", "items", 1 | 4},
        {"{\"items\":{}}", 400, "BAD_REQUEST", "INVALID_FIELD", "items", 7},
        {"{\"items\":[]}", 400, "BAD_REQUEST", "INVALID_FIELD", "items", 7},
        {notobj, 400, "BAD_REQUEST", "INVALID_FIELD", "items", 7},
        {q0, 400, "BAD_REQUEST", "INVALID_FIELD", "items", 7},
        {qs, 400, "BAD_REQUEST", "INVALID_FIELD", "items", 7},
        {qneg, 400, "BAD_REQUEST", "INVALID_FIELD", "items", 7},
        {qfrac, 400, "BAD_REQUEST", "INVALID_FIELD", "items", 7},
        {idnum, 400, "BAD_REQUEST", "INVALID_FIELD", "items", 7},
        {extra, 400, "BAD_REQUEST", "UNKNOWN_FIELD", "bogus", 7},
        {unknown_item, 400, "BAD_REQUEST", "UNKNOWN_ORDER_ITEM", "items", 7},
        {foreign, 400, "BAD_REQUEST", "UNKNOWN_ORDER_ITEM", "items", 7},
        {dup, 400, "BAD_REQUEST", "DUPLICATE_ORDER_ITEM", "items", 7},
        {track_num, 400, "BAD_REQUEST", "INVALID_FIELD", "trackingNumber", 1},
        {long_track, 400, "BAD_REQUEST", "INVALID_FIELD", "trackingNumber", 1},
    };
    int64_t st_other = stock(f);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int k = 0; k < 3; k++) {
            if (!(cases[i].routes & (1 << k)))
                continue;
            r = k == 0 ? fulfil_raw(f, f->fkey, other.fo, cases[i].body)
                : k == 1 ? cancel_raw(f, CKT_ADMIN_KEY, other.id, cases[i].body)
                         : returns_raw(f, CKT_ADMIN_KEY, other.id, cases[i].body);
            if (r.status != cases[i].status)
                fprintf(stderr, "%s %s: expected %ld, got %ld %s\n", k == 0 ? "fulfil" : k == 1 ? "cancel" : "returns",
                        cases[i].body, cases[i].status, r.status, r.body);
            ckt_expect_error(&r, cases[i].status, cases[i].code, cases[i].reason, cases[i].field);
            ckt_free(&r);
        }
    }
    expect_untouched(f, &other, "Allocated", 0, 0, 0, 0, 0, 2, st_other);

    /* A tracking number of 255 characters is fine. */
    big_track[255] = '\0';
    snprintf(long_track, sizeof(long_track), "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":1}],\"trackingNumber\":\"%s\"}",
             other.item, big_track);
    r = fulfil_raw(f, f->fkey, other.fo, long_track);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "fulfillments.0.trackingNumber"), big_track);
    ckt_free(&r);

    /* Unknown fulfillment order / order. */
    items_body(body, sizeof(body), other.item, 1);
    r = fulfil_raw(f, f->fkey, UNKNOWN_FO, body);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", "/v1/fulfillment-orders/" UNKNOWN_FO, f->fkey, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = cancel_raw(f, CKT_ADMIN_KEY, UNKNOWN_ORD, body);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = returns_raw(f, CKT_ADMIN_KEY, UNKNOWN_ORD, body);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);

    /* Permissions: a buyer may do none of it; the fulfillment user neither
     * cancels nor returns; no key is 401. */
    char path[256];
    snprintf(path, sizeof(path), "/v1/fulfillment-orders/%s", other.fo);
    r = fulfil_raw(f, f->bkey, other.fo, body);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", path, f->bkey, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", "/v1/fulfillment-orders", f->bkey, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    const char *no_cancel[] = {f->bkey, f->fkey};
    char body_o[256];
    items_body(body_o, sizeof(body_o), o.item, 1);
    for (int k = 0; k < 2; k++) {
        r = cancel_raw(f, no_cancel[k], other.id, body);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
        r = cancel_raw(f, no_cancel[k], other.id, NULL);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
        r = returns_raw(f, no_cancel[k], o.id, body_o);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
    }
    r = fulfil_raw(f, NULL, other.fo, body);
    ckt_expect_status(&r, 401);
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", path, NULL, NULL, NULL);
    ckt_expect_status(&r, 401);
    ckt_free(&r);
    /* None of it changed anything. */
    expect_untouched(f, &other, "PartiallyFulfilled", 1, 0, 0, 1, 1, 3, st_other);
    expect_untouched(f, &o, "Fulfilled", 3, 0, 0, 2, 2, 3, st_other);
    assert_int_equal(fgw_voids(f->gw), 0);
    assert_int_equal(fgw_refunds(f->gw), 0);
    ckt_fx_finish(&f->base);
}

/* -------------------------------------------------------------------- list */

/* GET /v1/fulfillment-orders<query> as the fulfillment user: this status; the body (owned). */
static json_t *list(fx *f, const char *query, long status)
{
    char path[1200];
    snprintf(path, sizeof(path), "/v1/fulfillment-orders%s", query);
    ckt_resp r = ckt_http(&f->d, "GET", path, f->fkey, NULL, NULL);
    ckt_expect_status(&r, status);
    json_t *j = json_incref(r.json);
    ckt_free(&r);
    return j;
}

static void list_filters(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, 0);
    ord a, b, c;
    place_card(f, &a);
    place_card(f, &b);
    place_card(f, &c);
    json_decref(fulfil_ok(f, &b, 3)); /* b Fulfilled */
    json_decref(fulfil_ok(f, &c, 1)); /* c PartiallyFulfilled */
    /* Another store with an order of its own. */
    char store2[64], shm2[64], acct2[64], buyer2[64], bkey2[128], prod2[64], sid2[64], oid2[64];
    ckt_shop_setup(&f->d, NULL, store2, shm2, acct2, buyer2, bkey2);
    ckt_product(&f->d, store2, NULL, prod2);
    ckt_session_ready(&f->d, bkey2, store2, acct2, prod2, 3, ADDR_US, shm2, PAY_CARD("tok_visa"), sid2, NULL);
    ckt_resp r = ckt_place_as(&f->d, bkey2, sid2, 0);
    ckt_expect_status(&r, 201);
    snprintf(oid2, sizeof(oid2), "%s", ckt_str(r.json, "orderId"));
    ckt_free(&r);

    /* Everything, oldest first, each a whole fulfillment order. */
    json_t *l = list(f, "", 200);
    json_t *items = ckt_get(l, "items");
    assert_int_equal(json_array_size(items), 4);
    assert_true(json_is_null(ckt_get(l, "nextPageToken")));
    assert_string_equal(ckt_str(items, "0.id"), a.fo);
    assert_string_equal(ckt_str(items, "1.id"), b.fo);
    assert_string_equal(ckt_str(items, "2.id"), c.fo);
    assert_string_equal(ckt_str(items, "3.orderId"), oid2);
    assert_string_equal(ckt_str(items, "3.storeId"), store2);
    expect_fo(f, json_array_get(items, 0), &a, "Allocated", 0, 0, 0);
    expect_fo(f, json_array_get(items, 1), &b, "Fulfilled", 3, 0, 1);
    expect_fo(f, json_array_get(items, 2), &c, "PartiallyFulfilled", 1, 0, 1);
    json_decref(l);

    char q[1024];
    snprintf(q, sizeof(q), "?storeId=%s", f->store);
    l = list(f, q, 200);
    assert_int_equal(json_array_size(ckt_get(l, "items")), 3);
    json_decref(l);
    snprintf(q, sizeof(q), "?storeId=%s", store2);
    l = list(f, q, 200);
    assert_int_equal(json_array_size(ckt_get(l, "items")), 1);
    assert_string_equal(ckt_str(l, "items.0.orderId"), oid2);
    json_decref(l);
    l = list(f, "?storeId=store_01M80V5EQG4YHAXXJRNX68ZH9P", 200);
    assert_int_equal(json_array_size(ckt_get(l, "items")), 0);
    json_decref(l);

    const char *st[] = {"Allocated", "PartiallyFulfilled", "Fulfilled", "Cancelled"};
    const char *want[] = {a.fo, c.fo, b.fo, NULL};
    for (int i = 0; i < 4; i++) {
        snprintf(q, sizeof(q), "?storeId=%s&status=%s", f->store, st[i]);
        l = list(f, q, 200);
        items = ckt_get(l, "items");
        assert_int_equal(json_array_size(items), want[i] ? 1 : 0);
        if (want[i]) {
            assert_string_equal(ckt_str(items, "0.id"), want[i]);
            assert_string_equal(ckt_str(items, "0.status"), st[i]);
        }
        json_decref(l);
    }
    /* Cancel a: it moves to Cancelled. */
    json_decref(cancel_ok(f, &a, 0));
    snprintf(q, sizeof(q), "?status=Cancelled");
    l = list(f, q, 200);
    assert_int_equal(json_array_size(ckt_get(l, "items")), 1);
    assert_string_equal(ckt_str(l, "items.0.id"), a.fo);
    json_decref(l);
    /* Allocated across stores: only the other store's. */
    l = list(f, "?status=Allocated", 200);
    assert_int_equal(json_array_size(ckt_get(l, "items")), 1);
    assert_string_equal(ckt_str(l, "items.0.orderId"), oid2);
    json_decref(l);

    /* A bad status. */
    r = ckt_http(&f->d, "GET", "/v1/fulfillment-orders?status=Shipped", f->fkey, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "status");
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", "/v1/fulfillment-orders?status=allocated", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "status");
    ckt_free(&r);

    /* Pages of one. */
    snprintf(q, sizeof(q), "?storeId=%s&limit=1", f->store);
    const char *order_ids[] = {a.fo, b.fo, c.fo};
    char token[64] = "";
    for (int i = 0; i < 3; i++) {
        if (token[0])
            snprintf(q, sizeof(q), "?storeId=%s&limit=1&pageToken=%s", f->store, token);
        l = list(f, q, 200);
        assert_int_equal(json_array_size(ckt_get(l, "items")), 1);
        assert_string_equal(ckt_str(l, "items.0.id"), order_ids[i]);
        json_t *t = ckt_get(l, "nextPageToken");
        if (i < 2) {
            assert_true(json_is_string(t));
            snprintf(token, sizeof(token), "%s", json_string_value(t));
        } else {
            /* The last page may or may not know it is the last; if it
             * gives a token, the page after it is empty. */
            if (json_is_string(t)) {
                snprintf(q, sizeof(q), "?storeId=%s&limit=1&pageToken=%s", f->store, json_string_value(t));
                json_t *l2 = list(f, q, 200);
                assert_int_equal(json_array_size(ckt_get(l2, "items")), 0);
                json_decref(l2);
            }
        }
        json_decref(l);
    }
    r = ckt_http(&f->d, "GET", "/v1/fulfillment-orders?pageToken=not-a-token", f->fkey, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_PAGE_TOKEN", "pageToken");
    ckt_free(&r);
    ckt_fx_finish(&f->base);
}

/* ------------------------------------------------------------------ events */

static void subscribe(fx *f, const char *events, char out[64])
{
    char url[128];
    fwh_url(f->wh, url, sizeof(url));
    ckt_resp r = ckt_httpf(&f->d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                           "{\"kind\":\"webhook\",\"url\":\"%s\",\"secret\":\"whsec-ful-%ld\",\"events\":%s,"
                           "\"maxAttempts\":5,\"backoffBaseMs\":50}",
                           url, (long)getpid(), events);
    ckt_expect_status(&r, 201);
    snprintf(out, 64, "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
}

/* The index of the first request of this event about order oid at the
 * webhook, waiting up to 20 s for it; its parsed body into out (owned). */
static int wait_request(fx *f, const char *event, const char *oid, json_t **out)
{
    static char body[BODY_CAP];
    long long until = ckt_mono_ms() + 20000;
    for (;;) {
        int n = fwh_count(f->wh);
        for (int i = 0; i < n; i++) {
            char ev[64];
            fwh_event(f->wh, i, ev, sizeof(ev));
            if (strcmp(ev, event))
                continue;
            fwh_body(f->wh, i, body, sizeof(body));
            json_t *j = json_loads(body, 0, NULL);
            json_t *o = ckt_get(j, "data.order.id");
            if (json_is_string(o) && strcmp(json_string_value(o), oid) == 0) {
                *out = j;
                return i;
            }
            json_decref(j);
        }
        if (ckt_mono_ms() > until)
            fail_msg("no %s request for %s at the webhook in 20 s (%d requests)", event, oid, n);
        ckt_sleep_ms(50);
    }
}

/* The order's delivery to sub of event becomes Delivered (20 s at most). */
static void wait_delivered(fx *f, const char *oid, const char *sub, const char *event)
{
    long long until = ckt_mono_ms() + 20000;
    for (;;) {
        json_t *o = get_order(f, oid);
        size_t i;
        json_t *d;
        int ok = 0;
        json_array_foreach(ckt_get(o, "deliveries"), i, d)
        {
            ok |= strcmp(ckt_str(d, "subscriberId"), sub) == 0 && strcmp(ckt_str(d, "event"), event) == 0 &&
                  strcmp(ckt_str(d, "status"), "Delivered") == 0;
        }
        if (ok) {
            json_decref(o);
            return;
        }
        if (ckt_mono_ms() > until) {
            char *s = dump(ckt_get(o, "deliveries"));
            fprintf(stderr, "deliveries of %s: %s\n", oid, s);
            free(s);
            json_decref(o);
            fail_msg("the %s delivery of %s never became Delivered", event, oid);
        }
        json_decref(o);
        ckt_sleep_ms(50);
    }
}

static void expect_event(json_t *ev, const char *type)
{
    assert_true(json_is_object(ev));
    assert_true(strncmp(ckt_str(ev, "id"), "evt_", 4) == 0);
    assert_string_equal(ckt_str(ev, "type"), type);
    ckt_expect_time(ev, "createdAt");
}

static void events_created_and_fulfilled(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, 0);
    f->wh = fwh_start(0);
    assert_non_null(f->wh);
    char sub[64];
    subscribe(f, "[\"FulfillmentOrderCreated\",\"OrderFulfilled\"]", sub);
    ord o;
    place_card(f, &o);
    /* The release commit wrote FulfillmentOrderCreated after OrderReleased. */
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM outbox_events WHERE order_id = '%s'"
                                       " AND type = 'FulfillmentOrderCreated'",
                                o.id),
                     1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM outbox_events r JOIN outbox_events c"
                                       " ON c.order_id = r.order_id WHERE r.order_id = '%s'"
                                       " AND r.type = 'OrderReleased' AND c.type = 'FulfillmentOrderCreated'"
                                       " AND r.id < c.id",
                                o.id),
                     1);
    json_t *created = NULL, *fulfilled = NULL;
    int ic = wait_request(f, "FulfillmentOrderCreated", o.id, &created);
    expect_event(created, "FulfillmentOrderCreated");
    assert_string_equal(ckt_str(created, "data.fulfillmentOrder.id"), o.fo);
    assert_string_equal(ckt_str(created, "data.fulfillmentOrder.status"), "Allocated");
    assert_string_equal(ckt_str(created, "data.fulfillmentOrder.orderId"), o.id);
    assert_int_equal(ckt_int(created, "data.fulfillmentOrder.items.0.quantity"), 3);
    assert_string_equal(ckt_str(created, "data.order.id"), o.id);
    assert_int_equal(fwh_count_event(f->wh, "OrderFulfilled"), 0);

    json_decref(fulfil_ok(f, &o, 3));
    int ifl = wait_request(f, "OrderFulfilled", o.id, &fulfilled);
    expect_event(fulfilled, "OrderFulfilled");
    assert_true(ic < ifl);
    assert_true(strcmp(ckt_str(created, "id"), ckt_str(fulfilled, "id")) < 0);
    assert_string_equal(ckt_str(fulfilled, "data.fulfillmentOrder.id"), o.fo);
    assert_string_equal(ckt_str(fulfilled, "data.fulfillmentOrder.status"), "Fulfilled");
    assert_string_equal(ckt_str(fulfilled, "data.order.id"), o.id);
    assert_true(strncmp(ckt_str(fulfilled, "data.fulfillment.id"), "ful_", 4) == 0);
    assert_int_equal(ckt_int(fulfilled, "data.fulfillment.amount"), TOTAL);
    assert_int_equal(ckt_int(fulfilled, "data.fulfillment.capturedAmount"), TOTAL);
    json_decref(created);
    json_decref(fulfilled);
    wait_delivered(f, o.id, sub, "FulfillmentOrderCreated");
    wait_delivered(f, o.id, sub, "OrderFulfilled");
    /* Once each: nothing else for this order came (the subscriber takes no other events). */
    assert_int_equal(fwh_count_event(f->wh, "FulfillmentOrderCreated"), 1);
    assert_int_equal(fwh_count_event(f->wh, "OrderFulfilled"), 1);
    assert_int_equal(fwh_count(f->wh), 2);
    ckt_fx_finish(&f->base);
}

static void events_cancelled_and_returned(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, 1);
    f->wh = fwh_start(0);
    assert_non_null(f->wh);
    char sub[64];
    subscribe(f, "[\"OrderCancelled\",\"OrderReturned\"]", sub);
    ord o;
    place_card(f, &o);
    json_decref(fulfil_ok(f, &o, 2));
    json_decref(cancel_ok(f, &o, 1));
    json_t *order = return_ok(f, &o, 1);
    char ref[64];
    snprintf(ref, sizeof(ref), "%s", ckt_str(order, "refunds.0.id"));
    json_decref(order);

    json_t *c = NULL, *rt = NULL;
    int ic = wait_request(f, "OrderCancelled", o.id, &c);
    expect_event(c, "OrderCancelled");
    assert_string_equal(ckt_str(c, "data.order.id"), o.id);
    assert_true(strlen(ckt_str(c, "data.cancellation.id")) > 0);
    assert_int_equal(ckt_int(c, "data.cancellation.amount"), ONE);
    assert_int_equal(json_array_size(ckt_get(c, "data.cancellation.items")), 1);
    assert_string_equal(ckt_str(c, "data.cancellation.items.0.orderItemId"), o.item);
    assert_int_equal(ckt_int(c, "data.cancellation.items.0.quantity"), 1);
    assert_int_equal(ckt_int(c, "data.cancellation.items.0.amount"), ONE);
    int ir = wait_request(f, "OrderReturned", o.id, &rt);
    (void)ic;
    (void)ir;
    expect_event(rt, "OrderReturned");
    assert_true(strcmp(ckt_str(c, "id"), ckt_str(rt, "id")) < 0);
    assert_string_equal(ckt_str(rt, "data.order.id"), o.id);
    assert_true(strlen(ckt_str(rt, "data.return.id")) > 0);
    assert_int_equal(ckt_int(rt, "data.return.amount"), ONE);
    assert_int_equal(json_array_size(ckt_get(rt, "data.return.items")), 1);
    assert_string_equal(ckt_str(rt, "data.return.items.0.orderItemId"), o.item);
    assert_int_equal(ckt_int(rt, "data.return.items.0.quantity"), 1);
    assert_int_equal(ckt_int(rt, "data.return.items.0.amount"), ONE);
    assert_int_equal(json_array_size(ckt_get(rt, "data.return.refunds")), 1);
    assert_string_equal(ckt_str(rt, "data.return.refunds.0.id"), ref);
    assert_int_equal(ckt_int(rt, "data.return.refunds.0.amount"), ONE);
    /* The event's order shows the change it reports. */
    assert_int_equal(ckt_int(rt, "data.order.summary.items.0.quantityReturned"), 1);
    assert_int_equal(ckt_int(c, "data.order.summary.items.0.quantityCancelled"), 1);
    json_decref(c);
    json_decref(rt);
    wait_delivered(f, o.id, sub, "OrderCancelled");
    wait_delivered(f, o.id, sub, "OrderReturned");
    assert_int_equal(fwh_count_event(f->wh, "OrderCancelled"), 1);
    assert_int_equal(fwh_count_event(f->wh, "OrderReturned"), 1);
    assert_int_equal(fwh_count(f->wh), 2);
    ckt_fx_finish(&f->base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(fulfil_all_test_gateway, teardown),
        cmocka_unit_test_teardown(fulfil_all_http_gateway, teardown),
        cmocka_unit_test_teardown(fulfil_cancel_return_test_gateway, teardown),
        cmocka_unit_test_teardown(fulfil_cancel_return_http_gateway, teardown),
        cmocka_unit_test_teardown(fulfil_one_by_one_test_gateway, teardown),
        cmocka_unit_test_teardown(fulfil_one_by_one_http_gateway, teardown),
        cmocka_unit_test_teardown(cancel_everything_test_gateway, teardown),
        cmocka_unit_test_teardown(cancel_everything_http_gateway, teardown),
        cmocka_unit_test_teardown(balances_by_method, teardown),
        cmocka_unit_test_teardown(cancel_everything_releases_all_credit, teardown),
        cmocka_unit_test_teardown(manual_capture_counts, teardown),
        cmocka_unit_test_teardown(capture_gateway_text_not_shown, teardown),
        cmocka_unit_test_teardown(refusals, teardown),
        cmocka_unit_test_teardown(list_filters, teardown),
        cmocka_unit_test_teardown(events_created_and_fulfilled, teardown),
        cmocka_unit_test_teardown(events_cancelled_and_returned, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
