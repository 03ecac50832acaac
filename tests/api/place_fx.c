/* place_fx.c: the place-order suites' helpers of place_fx.h. */
#include "api/place_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const po_session_keys[] = {
    "id",           "cartId",  "buyerId",   "accountId",     "storeId", "flowId", "flowVersion",
    "state",        "nextState", "lastSuccessfulStep", "isProcessing", "isError", "isArchived", "orderId",
    "inputsVersion", "inputs", "totals",    "errors",        "createdAt", "updatedAt", NULL};
const char *const po_totals_keys[] = {"subtotal", "adjustments", "shipping", "tax", "grandTotal", NULL};
const char *const po_order_keys[] = {
    "id",      "orderNumber", "cartId",  "sessionId", "storeId", "accountId", "status",  "currency",
    "paymentMethod", "poNumber", "totals", "items",   "summary", "authorizations", "payments", "deliveries",
    "createdAt", "refunds",
    /* extras beyond API.md, as GET /v1/orders/{id} gives them */
    "buyerId", "shippingAddress", "updatedAt", "fulfillmentOrderId", NULL};
const char *const po_item_keys[] = {"id",        "productId",  "sku", "quantity",
                                        "unitPrice", "adjustment", "tax", "total", NULL};
const char *const po_item_summary_keys[] = {"orderItemId", "quantityOrdered", "quantityFulfilled",
                                                "quantityCancelled", "quantityReturned", NULL};
const char *const po_auth_keys[] = {"id", "status", "amount", "capturedAmount", "gatewayAuthId", NULL};
const char *const po_session_error_keys[] = {"step", "reason", "message", "at", NULL};
const char *const po_request_keys[] = {"id",     "kind",      "status",    "sessionId",
                                           "orderId", "errors",   "createdAt", "completedAt", NULL};

void po_expect_totals(json_t *t, long long sub, long long adj, long long ship, long long tax, long long grand)
{
    ckt_expect_keys(t, po_totals_keys);
    assert_int_equal(ckt_int(t, "subtotal"), sub);
    assert_int_equal(ckt_int(t, "adjustments"), adj);
    assert_int_equal(ckt_int(t, "shipping"), ship);
    assert_int_equal(ckt_int(t, "tax"), tax);
    assert_int_equal(ckt_int(t, "grandTotal"), grand);
}

/* GET path with key; asserts the status; returns the body (owned). */
json_t *po_get_json(ckt_fx *f, const char *path, const char *key, long status)
{
    ckt_resp r = ckt_http(&f->d, "GET", path, key, NULL, NULL);
    ckt_expect_status(&r, status);
    json_t *j = json_incref(r.json);
    ckt_free(&r);
    assert_non_null(j);
    return j;
}

json_t *po_get_session(ckt_fx *f, const char *sid)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    json_t *s = po_get_json(f, path, f->bkey, 200);
    ckt_expect_keys(s, po_session_keys);
    return s;
}

void po_expect_str_or_null(json_t *j, const char *path, const char *want)
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
void po_fx_setup(ckt_fx *f, const char *faults, int fake_gw)
{
    ckt_fx_opts o = {.faults = faults, .fake_gateway = fake_gw};
    ckt_fx_setup(f, &o);
}

/* A product of 500 g with these settings; tiers: JSON array text. */
void po_product(ckt_fx *f, long long price, long long stock, long long minq, const char *tiers, int hazmat,
                int export_controlled, char out[64])
{
    static int seq;
    char sku[64];
    snprintf(sku, sizeof(sku), "PO-SKU-%d", ++seq);
    ckt_product_spec p = {sku, price, stock, minq, tiers, hazmat, export_controlled};
    ckt_fx_product(f, &p, out);
}

void po_new_cart(ckt_fx *f, char out[64])
{
    ckt_cart(&f->d, f->bkey, f->store, f->acct, out);
}

void po_add_item(ckt_fx *f, const char *cart, const char *prod, int qty, char out[64])
{
    ckt_cart_item(&f->d, f->bkey, cart, prod, qty, out);
}

/* POST /v1/checkouts for the cart: 201, a fresh session. */
void po_new_session(ckt_fx *f, const char *cart, char out[64])
{
    ckt_resp r = ckt_httpf(&f->d, "POST", "/v1/checkouts", f->bkey, "{\"cartId\":\"%s\"}", cart);
    ckt_expect_status(&r, 201);
    json_t *s = ckt_get(r.json, "session");
    ckt_expect_keys(s, po_session_keys);
    assert_string_equal(ckt_str(s, "state"), "Start");
    assert_true(json_is_null(ckt_get(s, "lastSuccessfulStep")));
    assert_int_equal(ckt_int(s, "inputsVersion"), 0);
    assert_true(json_is_false(ckt_get(s, "isArchived")));
    snprintf(out, 64, "%s", ckt_str(s, "id"));
    ckt_free(&r);
}

/* A checkout: prod (a default 1999 / stock 100 product when prod is NULL)
 * x qty in a new cart (no item when qty is 0), and its session. */
void po_co_make(ckt_fx *f, po_co *c, const char *prod, int qty)
{
    memset(c, 0, sizeof(*c));
    if (prod)
        snprintf(c->prod, sizeof(c->prod), "%s", prod);
    else
        po_product(f, 1999, 100, 1, NULL, 0, 0, c->prod);
    po_new_cart(f, c->cart);
    if (qty > 0)
        po_add_item(f, c->cart, c->prod, qty, c->item);
    po_new_session(f, c->cart, c->sid);
}

/* PATCH /v1/checkouts/{sid} with the raw body; returns the response. */
ckt_resp po_patch(ckt_fx *f, const char *sid, const char *key, const char *body)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    return ckt_http(&f->d, "PATCH", path, key, body, NULL);
}

/* PATCH the given inputs (raw JSON texts; NULL leaves one out): 200. */
void po_set_inputs(ckt_fx *f, const char *sid, const char *addr, const char *shm, const char *pay)
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
    ckt_resp r = po_patch(f, sid, f->bkey, body);
    ckt_expect_status(&r, 200);
    ckt_expect_keys(r.json, po_session_keys);
    assert_true(json_is_false(ckt_get(r.json, "isError")));
    ckt_free(&r);
}

/* Places and expects 201; the order id goes to order_out. */
void po_place_ok(ckt_fx *f, const char *sid, char order_out[64])
{
    ckt_resp r = ckt_place(f, sid);
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
void po_expect_step_error(const ckt_resp *r, long status, const char *reason, const char *step)
{
    ckt_expect_step_error(r, status, reason, step);
    assert_null(json_object_get(json_array_get(r->json, 0), "field"));
}

/* A session's state follows from its lastSuccessfulStep: Start when none,
 * else the step after it (a failed commit group rolls back whole, so the
 * resume may start before the failed step). */
const char *po_resume_step(const char *last)
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
void po_expect_failed_session(ckt_fx *f, const po_co *c, const char *reason, const char *step, const char *last,
                              size_t nerrors)
{
    json_t *s = po_get_session(f, c->sid);
    assert_true(json_is_true(ckt_get(s, "isError")));
    assert_true(json_is_false(ckt_get(s, "isProcessing")));
    assert_true(json_is_false(ckt_get(s, "isArchived")));
    assert_string_equal(ckt_str(s, "state"), po_resume_step(last));
    po_expect_str_or_null(s, "lastSuccessfulStep", last);
    assert_true(json_is_null(ckt_get(s, "orderId")));
    json_t *errs = ckt_get(s, "errors");
    assert_true(json_is_array(errs));
    if (json_array_size(errs) != nerrors)
        fprintf(stderr, "expected %zu session errors: %s\n", nerrors, json_dumps(errs, JSON_COMPACT));
    assert_int_equal(json_array_size(errs), nerrors);
    json_t *e = json_array_get(errs, nerrors - 1);
    ckt_expect_keys(e, po_session_error_keys);
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

/* Exactly one Error CVO of the cart, for related with this type, in the
 * database and in GET /v1/carts/{id}/validation-outputs. */
void po_expect_cvo(ckt_fx *f, const po_co *c, const char *related, const char *type)
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
    json_t *l = po_get_json(f, path, f->bkey, 200);
    assert_int_equal(json_array_size(ckt_get(l, "items")), 1);
    assert_string_equal(ckt_str(l, "items.0.relatedEntityId"), related);
    assert_string_equal(ckt_str(l, "items.0.type"), type);
    assert_string_equal(ckt_str(l, "items.0.level"), "Error");
    json_decref(l);
}

/* Places c and expects this step failure; returns nothing. */
void po_place_fails(ckt_fx *f, const po_co *c, long status, const char *reason, const char *step)
{
    ckt_resp r = ckt_place(f, c->sid);
    po_expect_step_error(&r, status, reason, step);
    ckt_free(&r);
}
