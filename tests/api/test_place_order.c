/* test_place_order.c: the checkout transaction (API.md "Checkout session and
 * the checkout transaction", "Orders", "The payment gateways"): PATCH of the
 * checkout inputs with its rewind rules, POST /v1/checkouts/{id}/place-order
 * (sync, async and replay), every buyer-fixable step reason with its session,
 * CVO and database effects, the decline-then-retry path, abandoning a session
 * that holds an authorization (through the fake HTTP gateway), resuming after
 * a transient failure, and visibility. Every case checks the answer and what
 * the database holds afterwards. */
#include "api/fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ADDR_US                                                                                                  \
    "{\"name\":\"Ann Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"region\":\"IL\","            \
    "\"postalCode\":\"62701\",\"country\":\"US\"}"
#define ADDR_US2                                                                                                 \
    "{\"name\":\"Ann Buyer\",\"street\":\"9 Elm St\",\"city\":\"Shelbyville\",\"region\":\"IL\","             \
    "\"postalCode\":\"62565\",\"country\":\"US\"}"
#define ADDR_KP                                                                                                  \
    "{\"name\":\"Kim\",\"street\":\"1 Harbour Rd\",\"city\":\"Nampo\",\"postalCode\":\"0001\",\"country\":\"KP\"}"
#define PAY_CARD(tok) "{\"method\":\"card\",\"cardToken\":\"" tok "\"}"
#define UNKNOWN_SHM "shm_01M80V5EQG4YHAXXJRNX68ZH9P"

/* ---------------------------------------------------------------- fixture */

/* Store with shipping 1000 + 100/kg and US tax 825 bp; a buyer account
 * (member); a buyer user given the account; the fake gateway when asked. */
typedef ckt_fx fx;

/* One checkout: a product, a cart of the buyer's holding it, the session. */
typedef struct co {
    char prod[64], cart[64], item[64], sid[64];
} co;

/* Static so that the teardown can stop the daemon and the gateway of a test
 * that failed half-way (cmocka leaves the test by longjmp). */
static fx F;
/* A response whose assertions may fail (the teardown frees it then). */
static ckt_resp HELD;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F);
    ckt_free(&HELD);
    return 0;
}

static const char *const session_keys[] = {
    "id",           "cartId",  "buyerId",   "accountId",     "storeId", "flowId", "flowVersion",
    "state",        "nextState", "lastSuccessfulStep", "isProcessing", "isError", "isArchived", "orderId",
    "inputsVersion", "inputs", "totals",    "errors",        "createdAt", "updatedAt", NULL};
static const char *const totals_keys[] = {"subtotal", "adjustments", "shipping", "tax", "grandTotal", NULL};
static const char *const order_keys[] = {
    "id",      "orderNumber", "cartId",  "sessionId", "storeId", "accountId", "status",  "currency",
    "paymentMethod", "poNumber", "totals", "items",   "summary", "authorizations", "payments", "deliveries",
    "createdAt",
    /* extras beyond API.md, as GET /v1/orders/{id} gives them */
    "buyerId", "shippingAddress", "updatedAt", NULL};
static const char *const item_keys[] = {"id",        "productId",  "sku", "quantity",
                                        "unitPrice", "adjustment", "tax", "total", NULL};
static const char *const item_summary_keys[] = {"orderItemId", "quantityOrdered", "quantityFulfilled",
                                                "quantityCancelled", "quantityReturned", NULL};
static const char *const auth_keys[] = {"id", "status", "amount", "capturedAmount", "gatewayAuthId", NULL};
static const char *const session_error_keys[] = {"step", "reason", "message", "at", NULL};
static const char *const request_keys[] = {"id",     "kind",      "status",    "sessionId",
                                           "orderId", "errors",   "createdAt", "completedAt", NULL};

static void expect_totals(json_t *t, long long sub, long long adj, long long ship, long long tax, long long grand)
{
    ckt_expect_keys(t, totals_keys);
    assert_int_equal(ckt_int(t, "subtotal"), sub);
    assert_int_equal(ckt_int(t, "adjustments"), adj);
    assert_int_equal(ckt_int(t, "shipping"), ship);
    assert_int_equal(ckt_int(t, "tax"), tax);
    assert_int_equal(ckt_int(t, "grandTotal"), grand);
}

/* GET path with key; asserts the status; returns the body (owned). */
static json_t *get_json(fx *f, const char *path, const char *key, long status)
{
    ckt_resp r = ckt_http(&f->d, "GET", path, key, NULL, NULL);
    ckt_expect_status(&r, status);
    json_t *j = json_incref(r.json);
    ckt_free(&r);
    assert_non_null(j);
    return j;
}

static json_t *get_session(fx *f, const char *sid)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    json_t *s = get_json(f, path, f->bkey, 200);
    ckt_expect_keys(s, session_keys);
    return s;
}

static void expect_str_or_null(json_t *j, const char *path, const char *want)
{
    json_t *v = ckt_get(j, path);
    if (!want) {
        if (!json_is_null(v)) {
            char *s = json_dumps(j, JSON_COMPACT);
            fprintf(stderr, "'%s' should be null in %s\n", path, s ? s : "?");
            free(s);
        }
        assert_true(json_is_null(v));
    } else {
        assert_string_equal(ckt_str(j, path), want);
    }
}

/* Store (embargoes KP), shipping method flat 1000 + 100/kg, US tax 825 bp, a
 * buyer account (credit limit 100000, not hazmat approved) that is a member,
 * a buyer user given the account; the store on the fake HTTP gateway
 * (f->gw) when fake_gw. faults as for ckt_start. */
static void fx_setup(fx *f, const char *faults, int fake_gw)
{
    ckt_fx_opts o = {.faults = faults, .fake_gateway = fake_gw};
    ckt_fx_setup(f, &o);
}

/* A product of 500 g with these settings; tiers: JSON array text. */
static void product(fx *f, long long price, long long stock, long long minq, const char *tiers, int hazmat,
                    int export_controlled, char out[64])
{
    static int seq;
    char sku[64];
    snprintf(sku, sizeof(sku), "PO-SKU-%d", ++seq);
    ckt_product_spec p = {sku, price, stock, minq, tiers, hazmat, export_controlled};
    ckt_fx_product(f, &p, out);
}

static void new_cart(fx *f, char out[64])
{
    ckt_cart(&f->d, f->bkey, f->store, f->acct, out);
}

static void add_item(fx *f, const char *cart, const char *prod, int qty, char out[64])
{
    ckt_cart_item(&f->d, f->bkey, cart, prod, qty, out);
}

/* POST /v1/checkouts for the cart: 201, a fresh session. */
static void new_session(fx *f, const char *cart, char out[64])
{
    ckt_resp r = ckt_httpf(&f->d, "POST", "/v1/checkouts", f->bkey, "{\"cartId\":\"%s\"}", cart);
    ckt_expect_status(&r, 201);
    json_t *s = ckt_get(r.json, "session");
    ckt_expect_keys(s, session_keys);
    assert_string_equal(ckt_str(s, "state"), "Start");
    assert_true(json_is_null(ckt_get(s, "lastSuccessfulStep")));
    assert_int_equal(ckt_int(s, "inputsVersion"), 0);
    assert_true(json_is_false(ckt_get(s, "isArchived")));
    snprintf(out, 64, "%s", ckt_str(s, "id"));
    ckt_free(&r);
}

/* A checkout: prod (a default 1999 / stock 100 product when prod is NULL)
 * x qty in a new cart (no item when qty is 0), and its session. */
static void co_make(fx *f, co *c, const char *prod, int qty)
{
    memset(c, 0, sizeof(*c));
    if (prod)
        snprintf(c->prod, sizeof(c->prod), "%s", prod);
    else
        product(f, 1999, 100, 1, NULL, 0, 0, c->prod);
    new_cart(f, c->cart);
    if (qty > 0)
        add_item(f, c->cart, c->prod, qty, c->item);
    new_session(f, c->cart, c->sid);
}

/* PATCH /v1/checkouts/{sid} with the raw body; returns the response. */
static ckt_resp patch(fx *f, const char *sid, const char *key, const char *body)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    return ckt_http(&f->d, "PATCH", path, key, body, NULL);
}

/* PATCH the given inputs (raw JSON texts; NULL leaves one out): 200. */
static void set_inputs(fx *f, const char *sid, const char *addr, const char *shm, const char *pay)
{
    char body[2048];
    int n = snprintf(body, sizeof(body), "{");
    if (addr)
        n += snprintf(body + n, sizeof(body) - (size_t)n, "\"shippingAddress\":%s", addr);
    if (shm)
        n += snprintf(body + n, sizeof(body) - (size_t)n, "%s\"shippingMethodId\":\"%s\"", n > 1 ? "," : "", shm);
    if (pay)
        n += snprintf(body + n, sizeof(body) - (size_t)n, "%s\"payment\":%s", n > 1 ? "," : "", pay);
    snprintf(body + n, sizeof(body) - (size_t)n, "}");
    ckt_resp r = patch(f, sid, f->bkey, body);
    ckt_expect_status(&r, 200);
    ckt_expect_keys(r.json, session_keys);
    assert_true(json_is_false(ckt_get(r.json, "isError")));
    ckt_free(&r);
}

static ckt_resp place_as(fx *f, const char *sid, const char *key, int async)
{
    return ckt_place_as(&f->d, key, sid, async);
}

static ckt_resp place(fx *f, const char *sid)
{
    return ckt_place(f, sid);
}

/* Places and expects 201; the order id goes to order_out. */
static void place_ok(fx *f, const char *sid, char order_out[64])
{
    ckt_resp r = place(f, sid);
    ckt_expect_status(&r, 201);
    static const char *const keys[] = {"requestId", "orderId", "order", NULL};
    ckt_expect_keys(r.json, keys);
    assert_string_equal(ckt_str(r.json, "order.id"), ckt_str(r.json, "orderId"));
    if (order_out)
        snprintf(order_out, 64, "%s", ckt_str(r.json, "orderId"));
    ckt_free(&r);
}

/* The step failure envelope: one error with errorCode (by status), reason,
 * a message and the step; no field. */
static void expect_step_error(const ckt_resp *r, long status, const char *reason, const char *step)
{
    ckt_expect_step_error(r, status, reason, step);
    assert_null(json_object_get(json_array_get(r->json, 0), "field"));
}

/* A session's state follows from its lastSuccessfulStep: Start when none,
 * else the step after it (a failed commit group rolls back whole, so the
 * resume may start before the failed step). */
static const char *resume_step(const char *last)
{
    static const char *const steps[] = {"validate_cart", "pricing", "shipping", "tax", "business_rules",
                                        "payment", "create_order", "confirm", "close_cart", NULL};
    if (!last)
        return "Start";
    for (int i = 0; steps[i]; i++)
        if (strcmp(steps[i], last) == 0)
            return steps[i + 1] ? steps[i + 1] : "Completed";
    return "?";
}

/* After a failed placement: the session has isError, state = the step a
 * resume runs first, lastSuccessfulStep = last (NULL: null), nerrors entries
 * in errors with the last one describing this failure (at `step`); no order;
 * the cart still in Checkout. */
static void expect_failed_session(fx *f, const co *c, const char *reason, const char *step, const char *last,
                                  size_t nerrors)
{
    json_t *s = get_session(f, c->sid);
    assert_true(json_is_true(ckt_get(s, "isError")));
    assert_true(json_is_false(ckt_get(s, "isProcessing")));
    assert_true(json_is_false(ckt_get(s, "isArchived")));
    assert_string_equal(ckt_str(s, "state"), resume_step(last));
    expect_str_or_null(s, "lastSuccessfulStep", last);
    assert_true(json_is_null(ckt_get(s, "orderId")));
    json_t *errs = ckt_get(s, "errors");
    assert_true(json_is_array(errs));
    if (json_array_size(errs) != nerrors)
        fprintf(stderr, "expected %zu session errors: %s\n", nerrors, json_dumps(errs, JSON_COMPACT));
    assert_int_equal(json_array_size(errs), nerrors);
    json_t *e = json_array_get(errs, nerrors - 1);
    ckt_expect_keys(e, session_error_keys);
    assert_string_equal(ckt_str(e, "step"), step);
    assert_string_equal(ckt_str(e, "reason"), reason);
    assert_true(strlen(ckt_str(e, "message")) > 0);
    ckt_expect_time(e, "at");
    json_decref(s);

    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Checkout'", c->cart),
                     1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders WHERE session_id = '%s' OR cart_id = '%s'",
                                c->sid, c->cart),
                     0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s' AND is_error = 1"
                                       " AND lease_owner IS NULL AND order_id IS NULL",
                                c->sid),
                     1);
    /* The failure is recorded on the latest request and as an event. */
    assert_int_equal(ckt_db_int(&f->d,
                                "SELECT count(*) FROM checkout_requests WHERE id = (SELECT max(id) FROM"
                                " checkout_requests WHERE session_id = '%s' AND kind = 'PlaceOrder')"
                                " AND status = 'Failed' AND json_extract(errors, '$[0].reason') = '%s'"
                                " AND json_extract(errors, '$[0].step') = '%s'",
                                c->sid, reason, step),
                     1);
    assert_true(ckt_db_int(&f->d,
                           "SELECT count(*) FROM outbox_events WHERE type = 'CheckoutFailed' AND session_id = '%s'"
                           " AND json_extract(payload, '$.data.reason') = '%s'",
                           c->sid, reason) >= 1);
}

/* Nothing was taken: no authorization of the session at all, stock as given. */
static void expect_nothing_taken(fx *f, const co *c, long long stock)
{
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'", c->sid),
                     0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT stock FROM products WHERE id = '%s'", c->prod), stock);
}

/* Exactly one Error CVO of the cart, for related with this type, in the
 * database and in GET /v1/carts/{id}/validation-outputs. */
static void expect_cvo(fx *f, const co *c, const char *related, const char *type)
{
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM cart_validation_outputs WHERE cart_id = '%s'"
                                       " AND level = 'Error'",
                                c->cart),
                     1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM cart_validation_outputs WHERE cart_id = '%s'"
                                       " AND level = 'Error' AND related_entity_id = '%s' AND type = '%s'"
                                       " AND length(message) > 0",
                                c->cart, related, type),
                     1);
    char path[128];
    snprintf(path, sizeof(path), "/v1/carts/%s/validation-outputs", c->cart);
    json_t *l = get_json(f, path, f->bkey, 200);
    assert_int_equal(json_array_size(ckt_get(l, "items")), 1);
    assert_string_equal(ckt_str(l, "items.0.relatedEntityId"), related);
    assert_string_equal(ckt_str(l, "items.0.type"), type);
    assert_string_equal(ckt_str(l, "items.0.level"), "Error");
    json_decref(l);
}

static void expect_no_cvo(fx *f, const co *c)
{
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM cart_validation_outputs WHERE cart_id = '%s'", c->cart),
                     0);
}

/* Places c and expects this step failure; returns nothing. */
static void place_fails(fx *f, const co *c, long status, const char *reason, const char *step)
{
    ckt_resp r = place(f, c->sid);
    expect_step_error(&r, status, reason, step);
    ckt_free(&r);
}

/* Polls GET /v1/requests/{id} (50 ms apart, 10 s at most) until it is
 * Succeeded or Failed; returns the request (owned). */
static json_t *poll_request(fx *f, const char *rid)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/requests/%s", rid);
    for (int i = 0; i < 200; i++) {
        json_t *q = get_json(f, path, f->bkey, 200);
        ckt_expect_keys(q, request_keys);
        const char *st = ckt_str(q, "status");
        if (!strcmp(st, "Succeeded") || !strcmp(st, "Failed"))
            return q;
        if (strcmp(st, "Queued") && strcmp(st, "Running"))
            fprintf(stderr, "unexpected request status %s\n", st);
        assert_true(!strcmp(st, "Queued") || !strcmp(st, "Running"));
        json_decref(q);
        ckt_sleep_ms(50);
    }
    fail_msg("request %s did not finish within 10 s", rid);
    return NULL;
}

/* ------------------------------------------------------------------ cases */

/* 1. API.md's worked example, end to end. */
static void happy_path(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));

    ckt_resp r = place(f, c.sid);
    ckt_expect_status(&r, 201);
    static const char *const keys[] = {"requestId", "orderId", "order", NULL};
    ckt_expect_keys(r.json, keys);
    char oid[64], rid[64];
    snprintf(oid, sizeof(oid), "%s", ckt_str(r.json, "orderId"));
    snprintf(rid, sizeof(rid), "%s", ckt_str(r.json, "requestId"));
    assert_int_equal(strncmp(oid, "ord_", 4), 0);
    assert_int_equal(strncmp(rid, "req_", 4), 0);

    json_t *o = ckt_get(r.json, "order");
    ckt_expect_keys(o, order_keys);
    assert_string_equal(ckt_str(o, "id"), oid);
    assert_true(strlen(ckt_str(o, "orderNumber")) > 0);
    assert_string_equal(ckt_str(o, "cartId"), c.cart);
    assert_string_equal(ckt_str(o, "sessionId"), c.sid);
    assert_string_equal(ckt_str(o, "storeId"), f->store);
    assert_string_equal(ckt_str(o, "accountId"), f->acct);
    assert_string_equal(ckt_str(o, "buyerId"), f->buyer);
    assert_string_equal(ckt_str(o, "status"), "Activated");
    assert_string_equal(ckt_str(o, "currency"), "USD");
    assert_string_equal(ckt_str(o, "paymentMethod"), "card");
    assert_true(json_is_null(ckt_get(o, "poNumber")));
    expect_totals(ckt_get(o, "totals"), 5997, 0, 1200, 495, 7692);
    json_t *want_addr = json_loads(ADDR_US, 0, NULL);
    assert_true(json_equal(ckt_get(o, "shippingAddress"), want_addr));
    json_decref(want_addr);

    assert_int_equal(json_array_size(ckt_get(o, "items")), 1);
    json_t *it = ckt_get(o, "items.0");
    ckt_expect_keys(it, item_keys);
    assert_string_equal(ckt_str(it, "productId"), c.prod);
    assert_int_equal(ckt_int(it, "quantity"), 3);
    assert_int_equal(ckt_int(it, "unitPrice"), 1999);
    assert_int_equal(ckt_int(it, "adjustment"), 0);
    assert_int_equal(ckt_int(it, "tax"), 495);
    assert_int_equal(ckt_int(it, "total"), 5997 + 495);

    assert_int_equal(json_array_size(ckt_get(o, "summary.items")), 1);
    json_t *si = ckt_get(o, "summary.items.0");
    ckt_expect_keys(si, item_summary_keys);
    assert_string_equal(ckt_str(si, "orderItemId"), ckt_str(it, "id"));
    assert_int_equal(ckt_int(si, "quantityOrdered"), 3);
    assert_int_equal(ckt_int(si, "quantityFulfilled"), 0);
    assert_int_equal(ckt_int(si, "quantityCancelled"), 0);
    assert_int_equal(ckt_int(si, "quantityReturned"), 0);

    assert_int_equal(json_array_size(ckt_get(o, "authorizations")), 1);
    json_t *a = ckt_get(o, "authorizations.0");
    ckt_expect_keys(a, auth_keys);
    assert_int_equal(strncmp(ckt_str(a, "id"), "pa_", 3), 0);
    assert_string_equal(ckt_str(a, "status"), "Authorized");
    assert_int_equal(ckt_int(a, "amount"), 7692);
    assert_int_equal(ckt_int(a, "capturedAmount"), 0);
    assert_true(strlen(ckt_str(a, "gatewayAuthId")) > 0);
    assert_int_equal(json_array_size(ckt_get(o, "payments")), 0);
    assert_true(json_is_array(ckt_get(o, "deliveries")));

    /* GET /v1/orders/{id} is the same order. */
    char path[128];
    snprintf(path, sizeof(path), "/v1/orders/%s", oid);
    json_t *o2 = get_json(f, path, f->bkey, 200);
    assert_true(json_equal(o2, o));
    json_decref(o2);
    ckt_free(&r);

    /* The session: Completed, its totals the order's. */
    json_t *s = get_session(f, c.sid);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    assert_true(json_is_null(ckt_get(s, "nextState")));
    assert_string_equal(ckt_str(s, "lastSuccessfulStep"), "close_cart");
    assert_string_equal(ckt_str(s, "orderId"), oid);
    assert_true(json_is_false(ckt_get(s, "isError")));
    assert_true(json_is_false(ckt_get(s, "isProcessing")));
    assert_int_equal(ckt_int(s, "inputsVersion"), 1);
    assert_int_equal(json_array_size(ckt_get(s, "errors")), 0);
    expect_totals(ckt_get(s, "totals"), 5997, 0, 1200, 495, 7692);
    json_decref(s);

    /* The cart: Closed, with the same totals and priced lines. */
    snprintf(path, sizeof(path), "/v1/carts/%s", c.cart);
    json_t *cart = get_json(f, path, f->bkey, 200);
    assert_string_equal(ckt_str(cart, "status"), "Closed");
    expect_totals(ckt_get(cart, "totals"), 5997, 0, 1200, 495, 7692);
    assert_int_equal(ckt_int(cart, "items.0.salesPrice"), 1999);
    assert_int_equal(ckt_int(cart, "items.0.tax"), 495);
    assert_int_equal(ckt_int(cart, "items.0.total"), 6492);
    json_decref(cart);

    /* The database. */
    ckt_daemon *d = &f->d;
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 97);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE id = '%s' AND session_id = '%s'"
                                   " AND cart_id = '%s' AND status = 'Activated' AND subtotal = 5997"
                                   " AND adjustments = 0 AND shipping = 1200 AND tax = 495 AND grand_total = 7692"
                                   " AND shipping_method_id = '%s' AND payment_method = 'card'",
                                oid, c.sid, c.cart, f->shm),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM order_items WHERE order_id = '%s'", oid), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM order_item_summaries ois JOIN order_summaries os"
                                   " ON os.id = ois.summary_id WHERE os.order_id = '%s' AND ois.quantity_ordered = 3",
                                oid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND order_id = '%s' AND status = 'Authorized' AND amount = 7692"
                                   " AND method = 'card' AND idempotency_key = '%s:payment:1'",
                                c.sid, oid, c.sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM outbox_events WHERE order_id = '%s'"
                                   " AND type = 'OrderCreated'",
                                oid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM outbox_events WHERE order_id = '%s'"
                                   " AND type = 'OrderReleased'",
                                oid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM outbox_events WHERE type = 'OrderCreated'"
                                   " AND json_extract(payload, '$.data.order.id') = '%s'"
                                   " AND CAST(json_extract(payload, '$.data.order.totals.grandTotal') AS INTEGER) = 7692",
                                oid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM outbox_events WHERE type = 'CheckoutFailed'"), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_requests WHERE id = '%s' AND kind = 'PlaceOrder'"
                                   " AND status = 'Succeeded' AND order_id = '%s' AND session_id = '%s'"
                                   " AND completed_at IS NOT NULL",
                                rid, oid, c.sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s' AND state = 'Completed'"
                                   " AND last_successful_step = 'close_cart' AND order_id = '%s'"
                                   " AND lease_owner IS NULL AND is_error = 0",
                                c.sid, oid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM cart_validation_outputs"), 0);

    /* The request view. */
    snprintf(path, sizeof(path), "/v1/requests/%s", rid);
    json_t *q = get_json(f, path, f->bkey, 200);
    ckt_expect_keys(q, request_keys);
    assert_string_equal(ckt_str(q, "kind"), "PlaceOrder");
    assert_string_equal(ckt_str(q, "status"), "Succeeded");
    assert_string_equal(ckt_str(q, "sessionId"), c.sid);
    assert_string_equal(ckt_str(q, "orderId"), oid);
    assert_int_equal(json_array_size(ckt_get(q, "errors")), 0);
    ckt_expect_time(q, "completedAt");
    json_decref(q);

    /* A closed cart takes no edits and no new session. */
    snprintf(path, sizeof(path), "/v1/carts/%s/items", c.cart);
    r = ckt_httpf(d, "POST", path, f->bkey, "{\"productId\":\"%s\",\"quantity\":1}", c.prod);
    ckt_expect_error(&r, 409, "CONFLICT", "CART_NOT_EDITABLE", NULL);
    ckt_free(&r);
    r = ckt_httpf(d, "POST", "/v1/checkouts", f->bkey, "{\"cartId\":\"%s\"}", c.cart);
    ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID", NULL);
    ckt_free(&r);
    ckt_fx_finish(f);
}

/* 2. API.md's second example: a tier price and the best promotion. */
static void tiers_and_promotion(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    char path[1024];
    snprintf(path, sizeof(path), "/v1/stores/%s/promotions", f->store);
    /* The best applicable one is 5% over 15000; 2% over 10000 is worse, 10% over 50000 does not apply. */
    static const char *const promos[] = {
        "{\"name\":\"Two\",\"minSubtotal\":10000,\"percentOffBasisPoints\":200}",
        "{\"name\":\"Five\",\"minSubtotal\":15000,\"percentOffBasisPoints\":500}",
        "{\"name\":\"Ten\",\"minSubtotal\":50000,\"percentOffBasisPoints\":1000}",
    };
    for (size_t i = 0; i < 3; i++) {
        ckt_resp r = ckt_http(&f->d, "POST", path, CKT_ADMIN_KEY, promos[i], NULL);
        ckt_expect_status(&r, 201);
        ckt_free(&r);
    }
    char prod[64];
    product(f, 1999, 100, 1, "[{\"minQuantity\":5,\"unitPrice\":1899},{\"minQuantity\":10,\"unitPrice\":1799},"
                             "{\"minQuantity\":50,\"unitPrice\":1599}]",
            0, 0, prod);
    co c;
    co_make(f, &c, prod, 10);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));

    ckt_resp r = place(f, c.sid);
    ckt_expect_status(&r, 201);
    char oid[64];
    snprintf(oid, sizeof(oid), "%s", ckt_str(r.json, "orderId"));
    json_t *o = ckt_get(r.json, "order");
    expect_totals(ckt_get(o, "totals"), 17990, -900, 1500, 1410, 20000);
    assert_int_equal(json_array_size(ckt_get(o, "items")), 1);
    assert_int_equal(ckt_int(o, "items.0.quantity"), 10);
    assert_int_equal(ckt_int(o, "items.0.unitPrice"), 1799);
    assert_int_equal(ckt_int(o, "items.0.adjustment"), -900);
    assert_int_equal(ckt_int(o, "items.0.tax"), 1410);
    assert_int_equal(ckt_int(o, "items.0.total"), 17990 - 900 + 1410);
    assert_int_equal(ckt_int(o, "authorizations.0.amount"), 20000);
    ckt_free(&r);

    json_t *s = get_session(f, c.sid);
    expect_totals(ckt_get(s, "totals"), 17990, -900, 1500, 1410, 20000);
    json_decref(s);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                       " AND status = 'Authorized' AND amount = 20000",
                                c.sid),
                     1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT grand_total FROM orders WHERE id = '%s'", oid), 20000);
    assert_int_equal(ckt_db_int(&f->d, "SELECT stock FROM products WHERE id = '%s'", prod), 90);
    ckt_fx_finish(f);
}

/* 3a. Cart problems, found by validate_cart: CVO on the cart or the item. */
static void reasons_cart(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    char path[512];

    /* CART_EMPTY: a session of an empty cart. */
    co c;
    co_make(f, &c, NULL, 0);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    place_fails(f, &c, 400, "CART_EMPTY", "validate_cart");
    expect_failed_session(f, &c, "CART_EMPTY", "validate_cart", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_cvo(f, &c, c.cart, "Other");
    /* The session action (get or create) clears the cart's Error CVOs. */
    ckt_resp r = ckt_httpf(d, "POST", "/v1/checkouts", f->bkey, "{\"cartId\":\"%s\"}", c.cart);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "session.id"), c.sid);
    ckt_free(&r);
    expect_no_cvo(f, &c);

    /* CART_EMPTY again: items deleted behind the API's back after the session started. */
    co_make(f, &c, NULL, 2);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    ckt_db_exec(d, "DELETE FROM cart_items WHERE cart_id = '%s'", c.cart);
    place_fails(f, &c, 400, "CART_EMPTY", "validate_cart");
    expect_failed_session(f, &c, "CART_EMPTY", "validate_cart", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_cvo(f, &c, c.cart, "Other");

    /* PRODUCT_INACTIVE: the product went off sale after it was added. */
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    snprintf(path, sizeof(path), "/v1/products/%s", c.prod);
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"active\":false}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    place_fails(f, &c, 400, "PRODUCT_INACTIVE", "validate_cart");
    expect_failed_session(f, &c, "PRODUCT_INACTIVE", "validate_cart", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_cvo(f, &c, c.item, "Entitlement");

    /* MINIMUM_QUANTITY_NOT_MET: 2 of a product sold in 5s. */
    char prod[64];
    product(f, 1999, 100, 5, NULL, 0, 0, prod);
    co_make(f, &c, prod, 2);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    place_fails(f, &c, 400, "MINIMUM_QUANTITY_NOT_MET", "validate_cart");
    expect_failed_session(f, &c, "MINIMUM_QUANTITY_NOT_MET", "validate_cart", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_cvo(f, &c, c.item, "Inventory");

    /* INSUFFICIENT_INVENTORY: stock fell to 2 below the line's 3. */
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    snprintf(path, sizeof(path), "/v1/products/%s", c.prod);
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"stock\":2}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    place_fails(f, &c, 400, "INSUFFICIENT_INVENTORY", "validate_cart");
    expect_failed_session(f, &c, "INSUFFICIENT_INVENTORY", "validate_cart", NULL, 1);
    expect_nothing_taken(f, &c, 2);
    expect_cvo(f, &c, c.item, "Inventory");
    /* Restocked, the same session places the order (a buyer-fixable failure is fixable). */
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"stock\":3}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    place_ok(f, c.sid, NULL);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);
    ckt_fx_finish(f);
}

/* 3b. Missing inputs and the card's answers. */
static void reasons_inputs_and_payment(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    co c;

    /* SHIPPING_ADDRESS_REQUIRED */
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, NULL, f->shm, PAY_CARD("tok_visa"));
    place_fails(f, &c, 400, "SHIPPING_ADDRESS_REQUIRED", "shipping");
    expect_failed_session(f, &c, "SHIPPING_ADDRESS_REQUIRED", "shipping", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);

    /* SHIPPING_METHOD_REQUIRED */
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, NULL, PAY_CARD("tok_visa"));
    place_fails(f, &c, 400, "SHIPPING_METHOD_REQUIRED", "shipping");
    expect_failed_session(f, &c, "SHIPPING_METHOD_REQUIRED", "shipping", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);

    /* PAYMENT_METHOD_REQUIRED: everything up to business_rules commits. */
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, NULL);
    place_fails(f, &c, 400, "PAYMENT_METHOD_REQUIRED", "payment");
    expect_failed_session(f, &c, "PAYMENT_METHOD_REQUIRED", "payment", "business_rules", 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);
    json_t *s = get_session(f, c.sid);
    expect_totals(ckt_get(s, "totals"), 5997, 0, 1200, 495, 7692);
    json_decref(s);

    /* PAYMENT_DECLINED: no authorization recorded. */
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_decline"));
    place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    expect_failed_session(f, &c, "PAYMENT_DECLINED", "payment", "business_rules", 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);
    /* Placing again unchanged is declined again (resuming at payment); errors accumulate. */
    place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    expect_failed_session(f, &c, "PAYMENT_DECLINED", "payment", "business_rules", 2);
    expect_nothing_taken(f, &c, 100);

    /* PAYMENT_GATEWAY_ERROR: 500, resumable. */
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_error"));
    place_fails(f, &c, 500, "PAYMENT_GATEWAY_ERROR", "payment");
    expect_failed_session(f, &c, "PAYMENT_GATEWAY_ERROR", "payment", "business_rules", 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);
    assert_int_equal(ckt_db_int(d, "SELECT http_status FROM checkout_requests WHERE session_id = '%s'"
                                   " AND kind = 'PlaceOrder'",
                                c.sid),
                     500);
    /* Another card, and the order goes through. */
    set_inputs(f, c.sid, NULL, NULL, PAY_CARD("tok_visa"));
    place_ok(f, c.sid, NULL);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), 1);
    ckt_fx_finish(f);
}

/* A prior order of account with this PO number (session and order rows). */
static void insert_prior_order(fx *f, const char *account, const char *po, const char *tag)
{
    char cart[64];
    if (strcmp(account, f->acct) == 0) {
        new_cart(f, cart);
    } else {
        snprintf(cart, sizeof(cart), "cart_prior_%s", tag);
        ckt_db_exec(&f->d,
                    "INSERT INTO carts (id, store_id, account_id, owner_id, status, currency, created_at, updated_at)"
                    " VALUES ('%s', '%s', '%s', '%s', 'Closed', 'USD', 1, 1)",
                    cart, f->store, account, f->buyer);
    }
    ckt_db_exec(&f->d,
                "INSERT INTO checkout_sessions (id, cart_id, buyer_id, account_id, store_id, flow_id, flow_version,"
                " state, last_successful_step, is_archived, order_id, inputs_version, inputs, created_at,"
                " updated_at) VALUES ('cs_prior_%s', '%s', '%s', '%s', '%s', 'flow_standard', 1, 'Completed',"
                " 'close_cart', 1, 'ord_prior_%s', 1, '{}', 1, 1)",
                tag, cart, f->buyer, account, f->store, tag);
    ckt_db_exec(&f->d,
                "INSERT INTO orders (id, order_number, cart_id, session_id, store_id, account_id, buyer_id, status,"
                " currency, payment_method, po_number, subtotal, adjustments, shipping, tax, grand_total,"
                " shipping_address, shipping_method_id, created_at, updated_at) VALUES ('ord_prior_%s',"
                " 'CK-PRIOR-%s', '%s', 'cs_prior_%s', '%s', '%s', '%s', 'Activated', 'USD', 'purchase_order',"
                " '%s', 100, 0, 0, 0, 100, '{}', '%s', 1, 1)",
                tag, tag, cart, tag, f->store, account, f->buyer, po, f->shm);
}

/* Asserts the placement got past business_rules (what the payment step then
 * does with a purchase order is not this test's business). */
static void expect_past_business_rules(fx *f, const co *c)
{
    ckt_resp r = place(f, c->sid);
    if (r.status >= 400) {
        json_t *e = json_array_get(r.json, 0);
        const char *step = json_string_value(json_object_get(e, "step"));
        if (!step || !strcmp(step, "business_rules"))
            fprintf(stderr, "expected to get past business_rules: %s\n", r.body);
        assert_non_null(step);
        assert_string_not_equal(step, "business_rules");
    }
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s'"
                                       " AND last_successful_step IN ('business_rules', 'payment', 'create_order',"
                                       " 'confirm', 'close_cart')",
                                c->sid),
                     1);
}

/* 3c. business_rules: hazmat, export control, PO number, credit limit. */
static void reasons_business_rules(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    char path[512], prod[64];
    co c;

    /* HAZMAT_APPROVAL_REQUIRED */
    co hz;
    product(f, 1999, 100, 1, NULL, 1, 0, prod);
    co_make(f, &hz, prod, 3);
    set_inputs(f, hz.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    place_fails(f, &hz, 400, "HAZMAT_APPROVAL_REQUIRED", "business_rules");
    expect_failed_session(f, &hz, "HAZMAT_APPROVAL_REQUIRED", "business_rules", NULL, 1);
    expect_nothing_taken(f, &hz, 100);
    expect_cvo(f, &hz, hz.item, "Entitlement");

    /* EXPORT_RESTRICTED: export-controlled goods to KP, which the store embargoes. */
    product(f, 1999, 100, 1, NULL, 0, 1, prod);
    co_make(f, &c, prod, 3);
    set_inputs(f, c.sid, ADDR_KP, f->shm, PAY_CARD("tok_visa"));
    place_fails(f, &c, 400, "EXPORT_RESTRICTED", "business_rules");
    expect_failed_session(f, &c, "EXPORT_RESTRICTED", "business_rules", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_cvo(f, &c, c.item, "Entitlement");
    /* Shipped to the US instead, the order goes through. */
    set_inputs(f, c.sid, ADDR_US, NULL, NULL);
    place_ok(f, c.sid, NULL);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", prod), 97);

    /* PO_NUMBER_REQUIRED: a purchase order without its number. */
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, "{\"method\":\"purchase_order\"}");
    place_fails(f, &c, 400, "PO_NUMBER_REQUIRED", "business_rules");
    expect_failed_session(f, &c, "PO_NUMBER_REQUIRED", "business_rules", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);

    /* DUPLICATE_PO_NUMBER: PO-7 was used on an earlier order of this account. */
    insert_prior_order(f, f->acct, "PO-7", "a");
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, "{\"method\":\"purchase_order\",\"poNumber\":\"PO-7\"}");
    place_fails(f, &c, 400, "DUPLICATE_PO_NUMBER", "business_rules");
    expect_failed_session(f, &c, "DUPLICATE_PO_NUMBER", "business_rules", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);
    /* Unique per account: another account's PO-8 does not count. */
    char other[64];
    ckt_account(d, NULL, other);
    insert_prior_order(f, other, "PO-8", "b");
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, "{\"method\":\"purchase_order\",\"poNumber\":\"PO-8\"}");
    expect_past_business_rules(f, &c);

    /* CREDIT_LIMIT_EXCEEDED: 3000 used of 10000; 7692 more is too much. */
    snprintf(path, sizeof(path), "/v1/accounts/%s", f->acct);
    ckt_resp r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"creditLimit\":10000}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    ckt_db_exec(d, "UPDATE accounts SET credit_used = 3000 WHERE id = '%s'", f->acct);
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, "{\"method\":\"purchase_order\",\"poNumber\":\"PO-9\"}");
    place_fails(f, &c, 400, "CREDIT_LIMIT_EXCEEDED", "business_rules");
    expect_failed_session(f, &c, "CREDIT_LIMIT_EXCEEDED", "business_rules", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);
    assert_int_equal(ckt_db_int(d, "SELECT credit_used FROM accounts WHERE id = '%s'", f->acct), 3000);
    /* net_terms is held to the same credit check (its PO number is optional). */
    co net;
    co_make(f, &net, NULL, 3);
    set_inputs(f, net.sid, ADDR_US, f->shm, "{\"method\":\"net_terms\"}");
    place_fails(f, &net, 400, "CREDIT_LIMIT_EXCEEDED", "business_rules");
    expect_failed_session(f, &net, "CREDIT_LIMIT_EXCEEDED", "business_rules", NULL, 1);
    /* Exactly at the limit (2308 + 7692 = 10000) is allowed. */
    ckt_db_exec(d, "UPDATE accounts SET credit_used = 2308 WHERE id = '%s'", f->acct);
    expect_past_business_rules(f, &c);

    /* The hazmat checkout, once the account is approved, goes through. */
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"hazmatApproved\":true}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    place_ok(f, hz.sid, NULL);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Closed'", hz.cart), 1);
    ckt_fx_finish(f);
}

/* 4. Declined, another card, placed: one authorization under the new key. */
static void decline_then_new_card(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_decline"));
    place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    json_t *s = get_session(f, c.sid);
    long long v1 = ckt_int(s, "inputsVersion");
    json_decref(s);

    ckt_resp r = patch(f, c.sid, f->bkey, "{\"payment\":" PAY_CARD("tok_visa") "}");
    ckt_expect_status(&r, 200);
    long long v2 = ckt_int(r.json, "inputsVersion");
    assert_int_equal(v2, v1 + 1);
    assert_true(json_is_false(ckt_get(r.json, "isError")));
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "tax");
    assert_string_equal(ckt_str(r.json, "inputs.payment.cardToken"), "tok_visa");
    ckt_free(&r);

    char oid[64];
    place_ok(f, c.sid, oid);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Authorized' AND amount = 7692 AND order_id = '%s'"
                                   " AND idempotency_key = '%s:payment:%lld'",
                                c.sid, oid, c.sid, v2),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE session_id = '%s'", c.sid), 1);
    s = get_session(f, c.sid);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    assert_true(json_is_false(ckt_get(s, "isError")));
    /* The earlier decline stays in the session's history. */
    assert_int_equal(json_array_size(ckt_get(s, "errors")), 1);
    assert_string_equal(ckt_str(s, "errors.0.reason"), "PAYMENT_DECLINED");
    json_decref(s);
    ckt_fx_finish(f);
}

/* The session's inputsVersion, lastSuccessfulStep ("" for null), state and
 * inputs text, straight from the database. */
static void expect_db_session(fx *f, const char *sid, long long version, const char *last, const char *st)
{
    assert_int_equal(ckt_db_int(&f->d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", sid),
                     version);
    assert_int_equal(ckt_db_int(&f->d,
                                "SELECT count(*) FROM checkout_sessions WHERE id = '%s'"
                                " AND COALESCE(last_successful_step, '') = '%s' AND state = '%s'",
                                sid, last, st),
                     1);
}

/* A bad PATCH: 400 with reason and field, and the session unchanged. */
static void patch_rejected(fx *f, const char *sid, const char *body, const char *reason, const char *field)
{
    long long v = ckt_db_int(&f->d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", sid);
    long long n0 = ckt_db_int(&f->d, "SELECT length(inputs) FROM checkout_sessions WHERE id = '%s'", sid);
    HELD = patch(f, sid, f->bkey, body);
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", reason, field);
    ckt_free(&HELD);
    assert_int_equal(ckt_db_int(&f->d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", sid), v);
    assert_int_equal(ckt_db_int(&f->d, "SELECT length(inputs) FROM checkout_sessions WHERE id = '%s'", sid), n0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s'"
                                       " AND json_extract(inputs, '$.shippingAddress.city') = 'Shelbyville'"
                                       " AND json_extract(inputs, '$.payment.cardToken') = 'tok_decline'",
                                sid),
                     1);
}

/* 5. PATCH: version, rewind, conflicts, bad inputs. */
static void patch_rules(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    char path[1024], shm2[64];
    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods", f->store);
    ckt_resp r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, "{\"name\":\"Air\",\"flatFee\":2500,\"perKgFee\":0}", NULL);
    ckt_expect_status(&r, 201);
    snprintf(shm2, sizeof(shm2), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);

    co c;
    co_make(f, &c, NULL, 3);
    /* Before any step: the version counts, nothing to rewind. */
    set_inputs(f, c.sid, ADDR_US, NULL, NULL);
    expect_db_session(f, c.sid, 1, "", "Start");
    set_inputs(f, c.sid, NULL, f->shm, PAY_CARD("tok_decline"));
    expect_db_session(f, c.sid, 2, "", "Start");
    r = patch(f, c.sid, f->bkey, "{\"shippingMethodId\":\"" UNKNOWN_SHM "\"}");
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "shippingMethodId");
    ckt_free(&r);

    /* Through business_rules, declined at payment. */
    place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    expect_db_session(f, c.sid, 2, "business_rules", "payment");

    /* Identical values: no new version, no rewind. */
    char body[2048];
    snprintf(body, sizeof(body), "{\"shippingAddress\":%s,\"shippingMethodId\":\"%s\",\"payment\":%s}", ADDR_US,
             f->shm, PAY_CARD("tok_decline"));
    r = patch(f, c.sid, f->bkey, body);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), 2);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "business_rules");
    ckt_free(&r);
    expect_db_session(f, c.sid, 2, "business_rules", "payment");

    /* A new address: rewound to before shipping, the first step that reads it. */
    r = patch(f, c.sid, f->bkey, "{\"shippingAddress\":" ADDR_US2 "}");
    ckt_expect_status(&r, 200);
    ckt_expect_keys(r.json, session_keys);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), 3);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "pricing");
    assert_string_equal(ckt_str(r.json, "state"), "shipping");
    assert_true(json_is_false(ckt_get(r.json, "isError")));
    assert_string_equal(ckt_str(r.json, "inputs.shippingAddress.city"), "Shelbyville");
    ckt_free(&r);
    expect_db_session(f, c.sid, 3, "pricing", "shipping");
    /* A payment change now rewinds nothing further back (business_rules is after pricing). */
    r = patch(f, c.sid, f->bkey, "{\"payment\":" PAY_CARD("tok_decline2") "}");
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), 4);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "pricing");
    assert_string_equal(ckt_str(r.json, "state"), "shipping");
    ckt_free(&r);
    set_inputs(f, c.sid, NULL, NULL, PAY_CARD("tok_decline"));
    expect_db_session(f, c.sid, 5, "pricing", "shipping");

    /* Declined again: the run resumed at shipping, and committed through business_rules. */
    place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    expect_db_session(f, c.sid, 5, "business_rules", "payment");

    /* A new shipping method: also back to before shipping; the totals follow on the next run. */
    snprintf(body, sizeof(body), "{\"shippingMethodId\":\"%s\"}", shm2);
    r = patch(f, c.sid, f->bkey, body);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), 6);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "pricing");
    assert_string_equal(ckt_str(r.json, "state"), "shipping");
    ckt_free(&r);
    place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    json_t *s = get_session(f, c.sid);
    /* 5997 + 2500 + 495 */
    expect_totals(ckt_get(s, "totals"), 5997, 0, 2500, 495, 8992);
    json_decref(s);

    /* A new card: back to before business_rules, the first step that reads the payment. */
    r = patch(f, c.sid, f->bkey, "{\"payment\":" PAY_CARD("tok_decline2") "}");
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), 7);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "tax");
    assert_string_equal(ckt_str(r.json, "state"), "business_rules");
    ckt_free(&r);
    set_inputs(f, c.sid, NULL, NULL, PAY_CARD("tok_decline"));
    expect_db_session(f, c.sid, 8, "tax", "business_rules");

    /* Bad inputs: 400 with the field, and nothing changed (not even the valid parts). */
    patch_rejected(f, c.sid,
                   "{\"shippingAddress\":{\"name\":\"A\",\"street\":\"S\",\"city\":\"C\",\"postalCode\":\"1\","
                   "\"country\":\"usa\"}}",
                   "INVALID_FIELD", "shippingAddress.country");
    patch_rejected(f, c.sid, "{\"shippingAddress\":{\"name\":\"A\",\"city\":\"C\",\"postalCode\":\"1\","
                             "\"country\":\"US\"}}",
                   "MISSING_FIELD", "shippingAddress.street");
    patch_rejected(f, c.sid, "{\"shippingAddress\":" ADDR_US ",\"payment\":{\"method\":\"bitcoin\"}}",
                   "INVALID_FIELD", "payment.method");
    patch_rejected(f, c.sid, "{\"payment\":{\"cardToken\":\"tok_visa\"}}", "MISSING_FIELD", "payment.method");
    patch_rejected(f, c.sid, "{\"shippingAddress\":" ADDR_US ",\"shippingMethodId\":\"" UNKNOWN_SHM "\"}",
                   "INVALID_FIELD", "shippingMethodId");
    patch_rejected(f, c.sid, "{\"shippingMethodId\":\"prod_01M80V5EQG4YHAXXJRNX68ZH9P\"}", "INVALID_FIELD",
                   "shippingMethodId");
    patch_rejected(f, c.sid, "{\"coupon\":\"X\"}", "UNKNOWN_FIELD", "coupon");
    patch_rejected(f, c.sid, "{\"shippingAddress\":\"1 Main St\"}", "INVALID_FIELD", "shippingAddress");
    /* A shipping method of another store is unknown here. */
    char store2[64], shm_other[64];
    ckt_store(d, store2);
    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods", store2);
    r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, "{\"name\":\"Other\",\"flatFee\":1,\"perKgFee\":0}", NULL);
    ckt_expect_status(&r, 201);
    snprintf(shm_other, sizeof(shm_other), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
    snprintf(body, sizeof(body), "{\"shippingMethodId\":\"%s\"}", shm_other);
    patch_rejected(f, c.sid, body, "INVALID_FIELD", "shippingMethodId");
    expect_db_session(f, c.sid, 8, "tax", "business_rules");

    /* Lease held by another processor: 400 CART_ALREADY_IN_PROGRESS for PATCH and place-order. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ckt_db_exec(d, "UPDATE checkout_sessions SET lease_owner = 'node-x:req_x', lease_expires_at = %lld WHERE id = '%s'",
                (long long)now.tv_sec * 1000 + 60000, c.sid);
    r = patch(f, c.sid, f->bkey, "{\"payment\":" PAY_CARD("tok_visa") "}");
    ckt_expect_error(&r, 400, "BAD_REQUEST", "CART_ALREADY_IN_PROGRESS", NULL);
    ckt_free(&r);
    r = place(f, c.sid);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "CART_ALREADY_IN_PROGRESS", NULL);
    ckt_free(&r);
    s = get_session(f, c.sid);
    assert_true(json_is_true(ckt_get(s, "isProcessing")));
    json_decref(s);
    expect_db_session(f, c.sid, 8, "tax", "business_rules");
    ckt_db_exec(d, "UPDATE checkout_sessions SET lease_owner = NULL, lease_expires_at = 0 WHERE id = '%s'", c.sid);

    /* Completed: PATCH is 409 SESSION_COMPLETED and changes nothing. */
    set_inputs(f, c.sid, NULL, NULL, PAY_CARD("tok_visa"));
    place_ok(f, c.sid, NULL);
    long long v = ckt_db_int(d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", c.sid);
    r = patch(f, c.sid, f->bkey, "{\"shippingAddress\":" ADDR_US "}");
    ckt_expect_error(&r, 409, "CONFLICT", "SESSION_COMPLETED", NULL);
    ckt_free(&r);
    expect_db_session(f, c.sid, v, "close_cart", "Completed");
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s'"
                                   " AND json_extract(inputs, '$.shippingAddress.city') = 'Shelbyville'",
                                c.sid),
                     1);
    /* ... and it cannot be abandoned either. */
    snprintf(path, sizeof(path), "/v1/checkouts/%s", c.sid);
    r = ckt_http(d, "DELETE", path, f->bkey, NULL, NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "SESSION_COMPLETED", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Closed'", c.cart), 1);
    ckt_fx_finish(f);
}

/* 6. Prefer: respond-async. */
static void async_placement(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    ckt_resp r = place_as(f, c.sid, f->bkey, 1);
    ckt_expect_status(&r, 202);
    static const char *const rk[] = {"requestId", NULL};
    ckt_expect_keys(r.json, rk);
    char rid[64];
    snprintf(rid, sizeof(rid), "%s", ckt_str(r.json, "requestId"));
    ckt_free(&r);
    json_t *q = poll_request(f, rid);
    assert_string_equal(ckt_str(q, "status"), "Succeeded");
    assert_string_equal(ckt_str(q, "kind"), "PlaceOrder");
    assert_string_equal(ckt_str(q, "sessionId"), c.sid);
    assert_int_equal(json_array_size(ckt_get(q, "errors")), 0);
    ckt_expect_time(q, "completedAt");
    char oid[64];
    snprintf(oid, sizeof(oid), "%s", ckt_str(q, "orderId"));
    json_decref(q);
    json_t *s = get_session(f, c.sid);
    assert_string_equal(ckt_str(s, "orderId"), oid);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    expect_totals(ckt_get(s, "totals"), 5997, 0, 1200, 495, 7692);
    json_decref(s);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE id = '%s' AND session_id = '%s'"
                                   " AND grand_total = 7692",
                                oid, c.sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_requests WHERE id = '%s' AND status = 'Succeeded'"
                                   " AND order_id = '%s'",
                                rid, oid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Closed'", c.cart), 1);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 97);

    /* Asking again on the completed session: answered at once as a replay. */
    r = place_as(f, c.sid, f->bkey, 1);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "orderId"), oid);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);

    /* An async placement that fails ends Failed with the step error. */
    co c2;
    co_make(f, &c2, NULL, 3);
    set_inputs(f, c2.sid, ADDR_US, f->shm, PAY_CARD("tok_decline"));
    r = place_as(f, c2.sid, f->bkey, 1);
    ckt_expect_status(&r, 202);
    snprintf(rid, sizeof(rid), "%s", ckt_str(r.json, "requestId"));
    ckt_free(&r);
    q = poll_request(f, rid);
    assert_string_equal(ckt_str(q, "status"), "Failed");
    assert_true(json_is_null(ckt_get(q, "orderId")));
    assert_int_equal(json_array_size(ckt_get(q, "errors")), 1);
    assert_string_equal(ckt_str(q, "errors.0.errorCode"), "BAD_REQUEST");
    assert_string_equal(ckt_str(q, "errors.0.reason"), "PAYMENT_DECLINED");
    assert_string_equal(ckt_str(q, "errors.0.step"), "payment");
    ckt_expect_time(q, "completedAt");
    json_decref(q);
    expect_failed_session(f, &c2, "PAYMENT_DECLINED", "payment", "business_rules", 1);
    expect_nothing_taken(f, &c2, 100);
    ckt_fx_finish(f);
}

/* 7. Abandon a session that holds an authorization. */
static void abandon_voids_hold(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order", 1);
    ckt_daemon *d = &f->d;
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));

    /* Authorized at the gateway, then create_order fails: 500, resumable, the hold kept. */
    ckt_resp r = place(f, c.sid);
    expect_step_error(&r, 500, "INTERNAL_ERROR", "create_order");
    ckt_free(&r);
    expect_failed_session(f, &c, "INTERNAL_ERROR", "create_order", "payment", 1);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Authorized' AND amount = 7692 AND gateway = 'http'",
                                c.sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 100);

    /* Abandon: archived, cart Active, the hold voided at the gateway. */
    char path[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", c.sid);
    r = ckt_http(d, "DELETE", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_expect_keys(r.json, session_keys);
    assert_string_equal(ckt_str(r.json, "id"), c.sid);
    assert_true(json_is_true(ckt_get(r.json, "isArchived")));
    assert_true(json_is_false(ckt_get(r.json, "isProcessing")));
    assert_true(json_is_null(ckt_get(r.json, "orderId")));
    ckt_free(&r);
    assert_int_equal(fgw_voids(f->gw), 1);
    char key[256];
    fgw_last_idem_key(f->gw, key, sizeof(key));
    assert_true(strlen(key) > 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Voided'",
                                c.sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE status = 'Authorized'"), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Active'", c.cart), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s' AND is_archived = 1"
                                   " AND lease_owner IS NULL",
                                c.sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 0);

    /* Again: 200, nothing more voided. */
    r = ckt_http(d, "DELETE", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_true(json_is_true(ckt_get(r.json, "isArchived")));
    ckt_free(&r);
    assert_int_equal(fgw_voids(f->gw), 1);

    /* Archived: PATCH and place-order are 409 SESSION_ARCHIVED. */
    r = patch(f, c.sid, f->bkey, "{\"shippingAddress\":" ADDR_US2 "}");
    ckt_expect_error(&r, 409, "CONFLICT", "SESSION_ARCHIVED", NULL);
    ckt_free(&r);
    r = place(f, c.sid);
    ckt_expect_error(&r, 409, "CONFLICT", "SESSION_ARCHIVED", NULL);
    ckt_free(&r);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);

    /* The cart is editable again and a new session starts for it. */
    char prod2[64];
    product(f, 500, 10, 1, NULL, 0, 0, prod2);
    add_item(f, c.cart, prod2, 1, NULL);
    char sid2[64];
    new_session(f, c.cart, sid2);
    assert_string_not_equal(sid2, c.sid);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE cart_id = '%s'", c.cart), 2);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Checkout'", c.cart), 1);
    ckt_fx_finish(f);
}

/* 7b. A transient failure after payment resumes without a second hold. */
static void resume_after_transient_failure(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*1", 1);
    ckt_daemon *d = &f->d;
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    ckt_resp r = place(f, c.sid);
    expect_step_error(&r, 500, "INTERNAL_ERROR", "create_order");
    ckt_free(&r);
    char oid[64];
    place_ok(f, c.sid, oid);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    assert_int_equal(fgw_voids(f->gw), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE order_id = '%s'"
                                   " AND status = 'Authorized' AND amount = 7692",
                                oid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 97);
    json_t *s = get_session(f, c.sid);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    assert_true(json_is_false(ckt_get(s, "isError")));
    assert_int_equal(json_array_size(ckt_get(s, "errors")), 1);
    json_decref(s);
    ckt_fx_finish(f);
}

/* 8. Another account's buyer sees none of it; no key is 401. */
static void visibility(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    char acct2[64], other[64], okey[128];
    ckt_account(d, NULL, acct2);
    ckt_member(d, f->store, acct2);
    ckt_user(d, "[\"buyer\"]", other, okey);
    ckt_give_account(d, other, acct2);
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));

    char path[128], ppath[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", c.sid);
    snprintf(ppath, sizeof(ppath), "/v1/checkouts/%s/place-order", c.sid);
    const char *keys[] = {okey, NULL};
    for (int k = 0; k < 2; k++) {
        long st = keys[k] ? 404 : 401;
        const char *code = keys[k] ? "NOT_FOUND" : "UNAUTHORIZED";
        ckt_resp r = ckt_http(d, "GET", path, keys[k], NULL, NULL);
        ckt_expect_error(&r, st, code, code, NULL);
        ckt_free(&r);
        r = ckt_http(d, "PATCH", path, keys[k], "{\"shippingAddress\":" ADDR_US2 "}", NULL);
        ckt_expect_error(&r, st, code, code, NULL);
        ckt_free(&r);
        /* Visibility comes before body checks: a bad body is still 404. */
        r = ckt_http(d, "PATCH", path, keys[k], "{\"payment\":{\"method\":\"cash\"},\"bogus\":1}", NULL);
        ckt_expect_error(&r, st, code, code, NULL);
        ckt_free(&r);
        r = ckt_http(d, "DELETE", path, keys[k], NULL, NULL);
        ckt_expect_error(&r, st, code, code, NULL);
        ckt_free(&r);
        r = ckt_http(d, "POST", ppath, keys[k], NULL, NULL);
        ckt_expect_error(&r, st, code, code, NULL);
        ckt_free(&r);
        r = place_as(f, c.sid, keys[k], 1);
        ckt_expect_error(&r, st, code, code, NULL);
        ckt_free(&r);
    }
    /* Nothing happened to the session. */
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s' AND is_archived = 0"
                                   " AND inputs_version = 1 AND state = 'Start' AND last_successful_step IS NULL",
                                c.sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_requests WHERE kind = 'PlaceOrder'"), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Checkout'", c.cart), 1);

    /* The owner places it; the order and the request stay invisible to the other buyer. */
    ckt_resp r = place(f, c.sid);
    ckt_expect_status(&r, 201);
    char oid[64], rid[64];
    snprintf(oid, sizeof(oid), "%s", ckt_str(r.json, "orderId"));
    snprintf(rid, sizeof(rid), "%s", ckt_str(r.json, "requestId"));
    ckt_free(&r);
    char opath[128], rpath[128];
    snprintf(opath, sizeof(opath), "/v1/orders/%s", oid);
    snprintf(rpath, sizeof(rpath), "/v1/requests/%s", rid);
    for (int k = 0; k < 2; k++) {
        long st = keys[k] ? 404 : 401;
        const char *code = keys[k] ? "NOT_FOUND" : "UNAUTHORIZED";
        r = ckt_http(d, "GET", opath, keys[k], NULL, NULL);
        ckt_expect_error(&r, st, code, code, NULL);
        ckt_free(&r);
        r = ckt_http(d, "GET", rpath, keys[k], NULL, NULL);
        ckt_expect_error(&r, st, code, code, NULL);
        ckt_free(&r);
        r = ckt_http(d, "POST", ppath, keys[k], NULL, NULL);
        ckt_expect_error(&r, st, code, code, NULL);
        ckt_free(&r);
    }
    json_t *o = get_json(f, opath, f->bkey, 200);
    assert_string_equal(ckt_str(o, "id"), oid);
    json_decref(o);
    o = get_json(f, opath, CKT_ADMIN_KEY, 200);
    json_decref(o);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_requests WHERE kind = 'PlaceOrder'"), 1);
    ckt_fx_finish(f);
}

/* 9. Placing a completed session again replays it. */
static void replay_completed(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    ckt_resp r1 = place(f, c.sid);
    ckt_expect_status(&r1, 201);
    ckt_resp r2 = place(f, c.sid);
    ckt_expect_status(&r2, 200);
    static const char *const keys[] = {"requestId", "orderId", "order", NULL};
    ckt_expect_keys(r2.json, keys);
    assert_string_equal(ckt_str(r2.json, "orderId"), ckt_str(r1.json, "orderId"));
    assert_string_not_equal(ckt_str(r2.json, "requestId"), ckt_str(r1.json, "requestId"));
    /* The same order (its view may only differ in nothing). */
    assert_true(json_equal(ckt_get(r2.json, "order"), ckt_get(r1.json, "order")));
    char oid[64], rid2[64];
    snprintf(oid, sizeof(oid), "%s", ckt_str(r1.json, "orderId"));
    snprintf(rid2, sizeof(rid2), "%s", ckt_str(r2.json, "requestId"));
    ckt_free(&r1);
    ckt_free(&r2);

    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM order_items"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM gateway_test_ledger WHERE op = 'authorize'"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM outbox_events WHERE type = 'OrderCreated'"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM outbox_events WHERE type = 'OrderReleased'"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 97);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_requests WHERE kind = 'PlaceOrder'"
                                   " AND session_id = '%s' AND status = 'Succeeded' AND order_id = '%s'",
                                c.sid, oid),
                     2);
    char path[128];
    snprintf(path, sizeof(path), "/v1/requests/%s", rid2);
    json_t *q = get_json(f, path, f->bkey, 200);
    assert_string_equal(ckt_str(q, "kind"), "PlaceOrder");
    assert_string_equal(ckt_str(q, "status"), "Succeeded");
    assert_string_equal(ckt_str(q, "orderId"), oid);
    json_decref(q);

    /* With an Idempotency-Key the same call is answered from the stored reply. */
    static const char *const idem[] = {"Idempotency-Key: place-once-1", NULL};
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", c.sid);
    ckt_resp r3 = ckt_http(d, "POST", path, f->bkey, NULL, idem);
    ckt_expect_status(&r3, 200);
    ckt_resp r4 = ckt_http(d, "POST", path, f->bkey, NULL, idem);
    ckt_expect_status(&r4, 200);
    char hv[64] = "";
    assert_true(ckt_header(&r4, "Idempotent-Replayed", hv, sizeof(hv)));
    assert_string_equal(hv, "true");
    assert_string_equal(ckt_str(r4.json, "requestId"), ckt_str(r3.json, "requestId"));
    assert_string_equal(ckt_str(r4.json, "orderId"), oid);
    ckt_free(&r3);
    ckt_free(&r4);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_requests WHERE kind = 'PlaceOrder'"), 3);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);
    ckt_fx_finish(f);
}

/* 5b. A detail of another payment method is refused with its field named by
 * its path, like every other nested field ("payment.method",
 * "shippingAddress.country"); the message already says "payment.poNumber". */
static void patch_payment_detail_field(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US2, f->shm, PAY_CARD("tok_decline"));
    patch_rejected(f, c.sid, "{\"payment\":{\"method\":\"card\",\"cardToken\":\"tok_visa\",\"poNumber\":\"P1\"}}",
                   "INVALID_FIELD", "payment.poNumber");
    patch_rejected(f, c.sid, "{\"payment\":{\"method\":\"purchase_order\",\"cardToken\":\"tok_visa\"}}",
                   "INVALID_FIELD", "payment.cardToken");
    ckt_fx_finish(f);
}

/* 7c. Inputs changed after a hold was made: the next run authorizes under
 * the new inputsVersion and voids the earlier hold; the order carries one
 * Authorized authorization. */
static void changed_inputs_after_hold(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*1", 1);
    ckt_daemon *d = &f->d;
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    ckt_resp r = place(f, c.sid);
    expect_step_error(&r, 500, "INTERNAL_ERROR", "create_order");
    ckt_free(&r);
    assert_int_equal(fgw_holds(f->gw), 1);
    set_inputs(f, c.sid, ADDR_US2, NULL, NULL);
    expect_db_session(f, c.sid, 2, "pricing", "shipping");
    char oid[64];
    place_ok(f, c.sid, oid);
    assert_int_equal(fgw_holds(f->gw), 2);
    assert_int_equal(fgw_voids(f->gw), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'", c.sid), 2);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Voided' AND idempotency_key = '%s:payment:1'",
                                c.sid, c.sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE order_id = '%s'"
                                   " AND status = 'Authorized' AND amount = 7692"
                                   " AND idempotency_key = '%s:payment:2'",
                                oid, c.sid),
                     1);
    ckt_fx_finish(f);
}

/* A session that resumes at create_order after its hold was voided behind
 * its back (a crash mid give-back, an operator) is sent back to pay: no
 * order is made on a dead hold, and the next placement authorizes anew. */
static void no_order_on_dead_hold(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*1", 1);
    ckt_daemon *d = &f->d;
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    ckt_resp r = place(f, c.sid);
    expect_step_error(&r, 500, "INTERNAL_ERROR", "create_order");
    ckt_free(&r);
    ckt_db_exec(d, "UPDATE payment_authorizations SET status = 'Voided' WHERE session_id = '%s'", c.sid);
    long long version = ckt_db_int(d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", c.sid);
    r = place(f, c.sid);
    expect_step_error(&r, 500, "PAYMENT_GATEWAY_ERROR", "create_order");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 0);
    expect_failed_session(f, &c, "PAYMENT_GATEWAY_ERROR", "create_order", "business_rules", 2);
    assert_int_equal(ckt_db_int(d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", c.sid),
                     version + 1);
    char oid[64];
    place_ok(f, c.sid, oid);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE order_id = '%s'"
                                   " AND status = 'Authorized' AND amount = 7692",
                                oid),
                     1);
    assert_int_equal(fgw_holds(f->gw), 2);
    ckt_fx_finish(f);
}

/* A gateway that approves less than the grand total: the partial hold is
 * voided at once, the step fails PAYMENT_DECLINED and no hold is left. */
static void partial_approval_is_declined(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 1);
    ckt_daemon *d = &f->d;
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_partial"));
    place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(fgw_voids(f->gw), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'", c.sid), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 0);
    ckt_fx_finish(f);
}

/* 7d. API.md: when the stock is gone by the time create_order runs, the step
 * fails INSUFFICIENT_INVENTORY and the authorization is voided. Once
 * restocked, the order placed from that session must again be backed by an
 * Authorized hold for its grand total (not by the voided one). */
static void stock_gone_at_create_order(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*1", 1);
    ckt_daemon *d = &f->d;
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    ckt_resp r = place(f, c.sid);
    expect_step_error(&r, 500, "INTERNAL_ERROR", "create_order");
    ckt_free(&r);
    assert_int_equal(fgw_holds(f->gw), 1);

    /* Another order took the stock meanwhile. */
    long long version = ckt_db_int(d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", c.sid);
    ckt_db_exec(d, "UPDATE products SET stock = 2 WHERE id = '%s'", c.prod);
    place_fails(f, &c, 400, "INSUFFICIENT_INVENTORY", "create_order");
    /* The hold was voided, so the payment is undone: the session resumes at
     * payment, under a new inputsVersion and so a new idempotency key. */
    expect_failed_session(f, &c, "INSUFFICIENT_INVENTORY", "create_order", "business_rules", 2);
    assert_int_equal(ckt_db_int(d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", c.sid),
                     version + 1);
    expect_cvo(f, &c, c.item, "Inventory");
    assert_int_equal(fgw_voids(f->gw), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Voided'",
                                c.sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE status = 'Authorized'"), 0);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 2);

    /* Restocked: placing again gives an order backed by a live hold. */
    ckt_db_exec(d, "UPDATE products SET stock = 100 WHERE id = '%s'", c.prod);
    r = place(f, c.sid);
    ckt_expect_status(&r, 201);
    char oid[64];
    snprintf(oid, sizeof(oid), "%s", ckt_str(r.json, "orderId"));
    ckt_free(&r);
    long long live = ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Authorized' AND amount = 7692",
                                c.sid);
    if (live != 1)
        fprintf(stderr, "order %s was created with %lld Authorized authorizations (gateway holds %d, voids %d)\n",
                oid, live, fgw_holds(f->gw), fgw_voids(f->gw));
    assert_int_equal(live, 1);
    assert_int_equal(fgw_holds(f->gw) - fgw_voids(f->gw), 1);
    ckt_fx_finish(f);
}

/* 10. Two placements of one session at once: one order, one hold. */
typedef struct race {
    fx *f;
    const char *sid;
    long status[2];
    char order[2][64];
} race;

static void race_place(void *arg, int i)
{
    race *rc = arg;
    ckt_resp r = ckt_place(rc->f, rc->sid);
    rc->status[i] = r.status;
    const char *o = json_string_value(json_object_get(r.json, "orderId"));
    const char *reason = json_string_value(json_object_get(json_array_get(r.json, 0), "reason"));
    snprintf(rc->order[i], 64, "%s", o ? o : reason ? reason : "?");
    ckt_free(&r);
}

static void concurrent_placements(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    co c;
    co_make(f, &c, NULL, 3);
    set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    race rc = {.f = f, .sid = c.sid};
    ckt_parallel(2, race_place, &rc);
    int created = (rc.status[0] == 201) + (rc.status[1] == 201);
    if (created != 1)
        fprintf(stderr, "statuses %ld %ld (%s, %s)\n", rc.status[0], rc.status[1], rc.order[0], rc.order[1]);
    assert_int_equal(created, 1);
    for (int i = 0; i < 2; i++) {
        if (rc.status[i] == 400)
            assert_string_equal(rc.order[i], "CART_ALREADY_IN_PROGRESS");
        else if (rc.status[i] == 200)
            assert_string_equal(rc.order[i], rc.order[1 - i]);
        else
            assert_int_equal(rc.status[i], 201);
    }
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 97);
    ckt_fx_finish(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(happy_path, teardown),
        cmocka_unit_test_teardown(tiers_and_promotion, teardown),
        cmocka_unit_test_teardown(reasons_cart, teardown),
        cmocka_unit_test_teardown(reasons_inputs_and_payment, teardown),
        cmocka_unit_test_teardown(reasons_business_rules, teardown),
        cmocka_unit_test_teardown(decline_then_new_card, teardown),
        cmocka_unit_test_teardown(patch_rules, teardown),
        cmocka_unit_test_teardown(patch_payment_detail_field, teardown),
        cmocka_unit_test_teardown(async_placement, teardown),
        cmocka_unit_test_teardown(abandon_voids_hold, teardown),
        cmocka_unit_test_teardown(resume_after_transient_failure, teardown),
        cmocka_unit_test_teardown(changed_inputs_after_hold, teardown),
        cmocka_unit_test_teardown(stock_gone_at_create_order, teardown),
        cmocka_unit_test_teardown(partial_approval_is_declined, teardown),
        cmocka_unit_test_teardown(no_order_on_dead_hold, teardown),
        cmocka_unit_test_teardown(visibility, teardown),
        cmocka_unit_test_teardown(replay_completed, teardown),
        cmocka_unit_test_teardown(concurrent_placements, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
