/* test_place_order.c: the checkout transaction (API.md "Checkout session and
 * the checkout transaction", "Orders", "The payment gateways"):
 * POST /v1/checkouts/{id}/place-order (sync, async and replay), every
 * buyer-fixable step reason with its session, CVO and database effects, the
 * decline-then-retry path, concurrent placements, and visibility. Every case
 * checks the answer and what the database holds afterwards. PATCH with its
 * rewind rules, and resuming after a failure, are test_place_resume.c's. */
#include "api/place_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- fixture */

/* Static so that the teardown can stop the daemon and the gateway of a test
 * that failed half-way (cmocka leaves the test by longjmp). */
static ckt_fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F);
    return 0;
}

/* ------------------------------------------------------------------ cases */

/* Nothing was taken: no authorization of the session at all, stock as given. */
static void expect_nothing_taken(ckt_fx *f, const po_co *c, long long stock)
{
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'", c->sid),
                     0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT stock FROM products WHERE id = '%s'", c->prod), stock);
}

static void expect_no_cvo(ckt_fx *f, const po_co *c)
{
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM cart_validation_outputs WHERE cart_id = '%s'", c->cart),
                     0);
}

/* Polls GET /v1/requests/{id} (50 ms apart, 10 s at most) until it is
 * Succeeded or Failed; returns the request (owned). */
static json_t *poll_request(ckt_fx *f, const char *rid)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/requests/%s", rid);
    for (int i = 0; i < 200; i++) {
        json_t *q = po_get_json(f, path, f->bkey, 200);
        ckt_expect_keys(q, po_request_keys);
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

/* 1. API.md's worked example, end to end. */
static void happy_path(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
    po_co c;
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));

    ckt_resp r = ckt_place(f, c.sid);
    ckt_expect_status(&r, 201);
    static const char *const keys[] = {"requestId", "orderId", "order", NULL};
    ckt_expect_keys(r.json, keys);
    char oid[64], rid[64];
    snprintf(oid, sizeof(oid), "%s", ckt_str(r.json, "orderId"));
    snprintf(rid, sizeof(rid), "%s", ckt_str(r.json, "requestId"));
    assert_int_equal(strncmp(oid, "ord_", 4), 0);
    assert_int_equal(strncmp(rid, "req_", 4), 0);

    json_t *o = ckt_get(r.json, "order");
    ckt_expect_keys(o, po_order_keys);
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
    po_expect_totals(ckt_get(o, "totals"), 5997, 0, 1200, 495, 7692);
    json_t *want_addr = json_loads(ADDR_US, 0, NULL);
    assert_true(json_equal(ckt_get(o, "shippingAddress"), want_addr));
    json_decref(want_addr);

    assert_int_equal(json_array_size(ckt_get(o, "items")), 1);
    json_t *it = ckt_get(o, "items.0");
    ckt_expect_keys(it, po_item_keys);
    assert_string_equal(ckt_str(it, "productId"), c.prod);
    assert_int_equal(ckt_int(it, "quantity"), 3);
    assert_int_equal(ckt_int(it, "unitPrice"), 1999);
    assert_int_equal(ckt_int(it, "adjustment"), 0);
    assert_int_equal(ckt_int(it, "tax"), 495);
    assert_int_equal(ckt_int(it, "total"), 5997 + 495);

    assert_int_equal(json_array_size(ckt_get(o, "summary.items")), 1);
    json_t *si = ckt_get(o, "summary.items.0");
    ckt_expect_keys(si, po_item_summary_keys);
    assert_string_equal(ckt_str(si, "orderItemId"), ckt_str(it, "id"));
    assert_int_equal(ckt_int(si, "quantityOrdered"), 3);
    assert_int_equal(ckt_int(si, "quantityFulfilled"), 0);
    assert_int_equal(ckt_int(si, "quantityCancelled"), 0);
    assert_int_equal(ckt_int(si, "quantityReturned"), 0);

    assert_int_equal(json_array_size(ckt_get(o, "authorizations")), 1);
    json_t *a = ckt_get(o, "authorizations.0");
    ckt_expect_keys(a, po_auth_keys);
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
    json_t *o2 = po_get_json(f, path, f->bkey, 200);
    assert_true(json_equal(o2, o));
    json_decref(o2);
    ckt_free(&r);

    /* The session: Completed, its totals the order's. */
    json_t *s = po_get_session(f, c.sid);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    assert_true(json_is_null(ckt_get(s, "nextState")));
    assert_string_equal(ckt_str(s, "lastSuccessfulStep"), "close_cart");
    assert_string_equal(ckt_str(s, "orderId"), oid);
    assert_true(json_is_false(ckt_get(s, "isError")));
    assert_true(json_is_false(ckt_get(s, "isProcessing")));
    assert_int_equal(ckt_int(s, "inputsVersion"), 1);
    assert_int_equal(json_array_size(ckt_get(s, "errors")), 0);
    po_expect_totals(ckt_get(s, "totals"), 5997, 0, 1200, 495, 7692);
    json_decref(s);

    /* The cart: Closed, with the same totals and priced lines. */
    snprintf(path, sizeof(path), "/v1/carts/%s", c.cart);
    json_t *cart = po_get_json(f, path, f->bkey, 200);
    assert_string_equal(ckt_str(cart, "status"), "Closed");
    po_expect_totals(ckt_get(cart, "totals"), 5997, 0, 1200, 495, 7692);
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
    json_t *q = po_get_json(f, path, f->bkey, 200);
    ckt_expect_keys(q, po_request_keys);
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
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
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
    po_product(f, 1999, 100, 1, "[{\"minQuantity\":5,\"unitPrice\":1899},{\"minQuantity\":10,\"unitPrice\":1799},"
                             "{\"minQuantity\":50,\"unitPrice\":1599}]",
            0, 0, prod);
    po_co c;
    po_co_make(f, &c, prod, 10);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));

    ckt_resp r = ckt_place(f, c.sid);
    ckt_expect_status(&r, 201);
    char oid[64];
    snprintf(oid, sizeof(oid), "%s", ckt_str(r.json, "orderId"));
    json_t *o = ckt_get(r.json, "order");
    po_expect_totals(ckt_get(o, "totals"), 17990, -900, 1500, 1410, 20000);
    assert_int_equal(json_array_size(ckt_get(o, "items")), 1);
    assert_int_equal(ckt_int(o, "items.0.quantity"), 10);
    assert_int_equal(ckt_int(o, "items.0.unitPrice"), 1799);
    assert_int_equal(ckt_int(o, "items.0.adjustment"), -900);
    assert_int_equal(ckt_int(o, "items.0.tax"), 1410);
    assert_int_equal(ckt_int(o, "items.0.total"), 17990 - 900 + 1410);
    assert_int_equal(ckt_int(o, "authorizations.0.amount"), 20000);
    ckt_free(&r);

    json_t *s = po_get_session(f, c.sid);
    po_expect_totals(ckt_get(s, "totals"), 17990, -900, 1500, 1410, 20000);
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
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    char path[512];

    /* CART_EMPTY: a session of an empty cart. */
    po_co c;
    po_co_make(f, &c, NULL, 0);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    po_place_fails(f, &c, 400, "CART_EMPTY", "validate_cart");
    po_expect_failed_session(f, &c, "CART_EMPTY", "validate_cart", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    po_expect_cvo(f, &c, c.cart, "Other");
    /* The session action (get or create) clears the cart's Error CVOs. */
    ckt_resp r = ckt_httpf(d, "POST", "/v1/checkouts", f->bkey, "{\"cartId\":\"%s\"}", c.cart);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "session.id"), c.sid);
    ckt_free(&r);
    expect_no_cvo(f, &c);

    /* CART_EMPTY again: items deleted behind the API's back after the session started. */
    po_co_make(f, &c, NULL, 2);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    ckt_db_exec(d, "DELETE FROM cart_items WHERE cart_id = '%s'", c.cart);
    po_place_fails(f, &c, 400, "CART_EMPTY", "validate_cart");
    po_expect_failed_session(f, &c, "CART_EMPTY", "validate_cart", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    po_expect_cvo(f, &c, c.cart, "Other");

    /* PRODUCT_INACTIVE: the product went off sale after it was added. */
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    snprintf(path, sizeof(path), "/v1/products/%s", c.prod);
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"active\":false}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    po_place_fails(f, &c, 400, "PRODUCT_INACTIVE", "validate_cart");
    po_expect_failed_session(f, &c, "PRODUCT_INACTIVE", "validate_cart", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    po_expect_cvo(f, &c, c.item, "Entitlement");

    /* MINIMUM_QUANTITY_NOT_MET: 2 of a product sold in 5s. */
    char prod[64];
    po_product(f, 1999, 100, 5, NULL, 0, 0, prod);
    po_co_make(f, &c, prod, 2);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    po_place_fails(f, &c, 400, "MINIMUM_QUANTITY_NOT_MET", "validate_cart");
    po_expect_failed_session(f, &c, "MINIMUM_QUANTITY_NOT_MET", "validate_cart", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    po_expect_cvo(f, &c, c.item, "Inventory");

    /* INSUFFICIENT_INVENTORY: stock fell to 2 below the line's 3. */
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    snprintf(path, sizeof(path), "/v1/products/%s", c.prod);
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"stock\":2}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    po_place_fails(f, &c, 400, "INSUFFICIENT_INVENTORY", "validate_cart");
    po_expect_failed_session(f, &c, "INSUFFICIENT_INVENTORY", "validate_cart", NULL, 1);
    expect_nothing_taken(f, &c, 2);
    po_expect_cvo(f, &c, c.item, "Inventory");
    /* Restocked, the same session places the order (a buyer-fixable failure is fixable). */
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"stock\":3}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    po_place_ok(f, c.sid, NULL);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);
    ckt_fx_finish(f);
}

/* 3b. Missing inputs and the card's answers. */
static void reasons_inputs_and_payment(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    po_co c;

    /* SHIPPING_ADDRESS_REQUIRED */
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, NULL, f->shm, PAY_CARD("tok_visa"));
    po_place_fails(f, &c, 400, "SHIPPING_ADDRESS_REQUIRED", "shipping");
    po_expect_failed_session(f, &c, "SHIPPING_ADDRESS_REQUIRED", "shipping", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);

    /* SHIPPING_METHOD_REQUIRED */
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, NULL, PAY_CARD("tok_visa"));
    po_place_fails(f, &c, 400, "SHIPPING_METHOD_REQUIRED", "shipping");
    po_expect_failed_session(f, &c, "SHIPPING_METHOD_REQUIRED", "shipping", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);

    /* PAYMENT_METHOD_REQUIRED: everything up to business_rules commits. */
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, NULL);
    po_place_fails(f, &c, 400, "PAYMENT_METHOD_REQUIRED", "payment");
    po_expect_failed_session(f, &c, "PAYMENT_METHOD_REQUIRED", "payment", "business_rules", 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);
    json_t *s = po_get_session(f, c.sid);
    po_expect_totals(ckt_get(s, "totals"), 5997, 0, 1200, 495, 7692);
    json_decref(s);

    /* PAYMENT_DECLINED: no authorization recorded. */
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_decline"));
    po_place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    po_expect_failed_session(f, &c, "PAYMENT_DECLINED", "payment", "business_rules", 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);
    /* Placing again unchanged is declined again (resuming at payment); errors accumulate. */
    po_place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    po_expect_failed_session(f, &c, "PAYMENT_DECLINED", "payment", "business_rules", 2);
    expect_nothing_taken(f, &c, 100);

    /* PAYMENT_GATEWAY_ERROR: 500, resumable. */
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_error"));
    po_place_fails(f, &c, 500, "PAYMENT_GATEWAY_ERROR", "payment");
    po_expect_failed_session(f, &c, "PAYMENT_GATEWAY_ERROR", "payment", "business_rules", 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);
    assert_int_equal(ckt_db_int(d, "SELECT http_status FROM checkout_requests WHERE session_id = '%s'"
                                   " AND kind = 'PlaceOrder'",
                                c.sid),
                     500);
    /* Another card, and the order goes through. */
    po_set_inputs(f, c.sid, NULL, NULL, PAY_CARD("tok_visa"));
    po_place_ok(f, c.sid, NULL);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), 1);
    ckt_fx_finish(f);
}

/* A prior order of account with this PO number (session and order rows). */
static void insert_prior_order(ckt_fx *f, const char *account, const char *po, const char *tag)
{
    char cart[64];
    if (strcmp(account, f->acct) == 0) {
        po_new_cart(f, cart);
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
static void expect_past_business_rules(ckt_fx *f, const po_co *c)
{
    ckt_resp r = ckt_place(f, c->sid);
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
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    char path[512], prod[64];
    po_co c;

    /* HAZMAT_APPROVAL_REQUIRED */
    po_co hz;
    po_product(f, 1999, 100, 1, NULL, 1, 0, prod);
    po_co_make(f, &hz, prod, 3);
    po_set_inputs(f, hz.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    po_place_fails(f, &hz, 400, "HAZMAT_APPROVAL_REQUIRED", "business_rules");
    po_expect_failed_session(f, &hz, "HAZMAT_APPROVAL_REQUIRED", "business_rules", NULL, 1);
    expect_nothing_taken(f, &hz, 100);
    po_expect_cvo(f, &hz, hz.item, "Entitlement");

    /* EXPORT_RESTRICTED: export-controlled goods to KP, which the store embargoes. */
    po_product(f, 1999, 100, 1, NULL, 0, 1, prod);
    po_co_make(f, &c, prod, 3);
    po_set_inputs(f, c.sid, ADDR_KP, f->shm, PAY_CARD("tok_visa"));
    po_place_fails(f, &c, 400, "EXPORT_RESTRICTED", "business_rules");
    po_expect_failed_session(f, &c, "EXPORT_RESTRICTED", "business_rules", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    po_expect_cvo(f, &c, c.item, "Entitlement");
    /* Shipped to the US instead, the order goes through. */
    po_set_inputs(f, c.sid, ADDR_US, NULL, NULL);
    po_place_ok(f, c.sid, NULL);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", prod), 97);

    /* PO_NUMBER_REQUIRED: a purchase order without its number. */
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, "{\"method\":\"purchase_order\"}");
    po_place_fails(f, &c, 400, "PO_NUMBER_REQUIRED", "business_rules");
    po_expect_failed_session(f, &c, "PO_NUMBER_REQUIRED", "business_rules", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);

    /* DUPLICATE_PO_NUMBER: PO-7 was used on an earlier order of this account. */
    insert_prior_order(f, f->acct, "PO-7", "a");
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, "{\"method\":\"purchase_order\",\"poNumber\":\"PO-7\"}");
    po_place_fails(f, &c, 400, "DUPLICATE_PO_NUMBER", "business_rules");
    po_expect_failed_session(f, &c, "DUPLICATE_PO_NUMBER", "business_rules", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);
    /* Unique per account: another account's PO-8 does not count. */
    char other[64];
    ckt_account(d, NULL, other);
    insert_prior_order(f, other, "PO-8", "b");
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, "{\"method\":\"purchase_order\",\"poNumber\":\"PO-8\"}");
    expect_past_business_rules(f, &c);

    /* CREDIT_LIMIT_EXCEEDED: 3000 used of 10000; 7692 more is too much. */
    snprintf(path, sizeof(path), "/v1/accounts/%s", f->acct);
    ckt_resp r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"creditLimit\":10000}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    ckt_db_exec(d, "UPDATE accounts SET credit_used = 3000 WHERE id = '%s'", f->acct);
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, "{\"method\":\"purchase_order\",\"poNumber\":\"PO-9\"}");
    po_place_fails(f, &c, 400, "CREDIT_LIMIT_EXCEEDED", "business_rules");
    po_expect_failed_session(f, &c, "CREDIT_LIMIT_EXCEEDED", "business_rules", NULL, 1);
    expect_nothing_taken(f, &c, 100);
    expect_no_cvo(f, &c);
    assert_int_equal(ckt_db_int(d, "SELECT credit_used FROM accounts WHERE id = '%s'", f->acct), 3000);
    /* net_terms is held to the same credit check (its PO number is optional). */
    po_co net;
    po_co_make(f, &net, NULL, 3);
    po_set_inputs(f, net.sid, ADDR_US, f->shm, "{\"method\":\"net_terms\"}");
    po_place_fails(f, &net, 400, "CREDIT_LIMIT_EXCEEDED", "business_rules");
    po_expect_failed_session(f, &net, "CREDIT_LIMIT_EXCEEDED", "business_rules", NULL, 1);
    /* Exactly at the limit (2308 + 7692 = 10000) is allowed. */
    ckt_db_exec(d, "UPDATE accounts SET credit_used = 2308 WHERE id = '%s'", f->acct);
    expect_past_business_rules(f, &c);

    /* The hazmat checkout, once the account is approved, goes through. */
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"hazmatApproved\":true}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    po_place_ok(f, hz.sid, NULL);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Closed'", hz.cart), 1);
    ckt_fx_finish(f);
}

/* 4. Declined, another card, placed: one authorization under the new key. */
static void decline_then_new_card(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    po_co c;
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_decline"));
    po_place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    json_t *s = po_get_session(f, c.sid);
    long long v1 = ckt_int(s, "inputsVersion");
    json_decref(s);

    ckt_resp r = po_patch(f, c.sid, f->bkey, "{\"payment\":" PAY_CARD("tok_visa") "}");
    ckt_expect_status(&r, 200);
    long long v2 = ckt_int(r.json, "inputsVersion");
    assert_int_equal(v2, v1 + 1);
    assert_true(json_is_false(ckt_get(r.json, "isError")));
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "tax");
    assert_string_equal(ckt_str(r.json, "inputs.payment.cardToken"), "tok_visa");
    ckt_free(&r);

    char oid[64];
    po_place_ok(f, c.sid, oid);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Authorized' AND amount = 7692 AND order_id = '%s'"
                                   " AND idempotency_key = '%s:payment:%lld'",
                                c.sid, oid, c.sid, v2),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE session_id = '%s'", c.sid), 1);
    s = po_get_session(f, c.sid);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    assert_true(json_is_false(ckt_get(s, "isError")));
    /* The earlier decline stays in the session's history. */
    assert_int_equal(json_array_size(ckt_get(s, "errors")), 1);
    assert_string_equal(ckt_str(s, "errors.0.reason"), "PAYMENT_DECLINED");
    json_decref(s);
    ckt_fx_finish(f);
}

/* 6. Prefer: respond-async. */
static void async_placement(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    po_co c;
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    ckt_resp r = ckt_place_as(&f->d, f->bkey, c.sid, 1);
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
    json_t *s = po_get_session(f, c.sid);
    assert_string_equal(ckt_str(s, "orderId"), oid);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    po_expect_totals(ckt_get(s, "totals"), 5997, 0, 1200, 495, 7692);
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
    r = ckt_place_as(&f->d, f->bkey, c.sid, 1);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "orderId"), oid);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);

    /* An async placement that fails ends Failed with the step error. */
    po_co c2;
    po_co_make(f, &c2, NULL, 3);
    po_set_inputs(f, c2.sid, ADDR_US, f->shm, PAY_CARD("tok_decline"));
    r = ckt_place_as(&f->d, f->bkey, c2.sid, 1);
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
    po_expect_failed_session(f, &c2, "PAYMENT_DECLINED", "payment", "business_rules", 1);
    expect_nothing_taken(f, &c2, 100);
    ckt_fx_finish(f);
}

/* 8. Another account's buyer sees none of it; no key is 401. */
static void visibility(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    char acct2[64], other[64], okey[128];
    ckt_account(d, NULL, acct2);
    ckt_member(d, f->store, acct2);
    ckt_user(d, "[\"buyer\"]", other, okey);
    ckt_give_account(d, other, acct2);
    po_co c;
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));

    char path[128], ppath[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", c.sid);
    snprintf(ppath, sizeof(ppath), "/v1/checkouts/%s/place-order", c.sid);
    /* A buyer not given the account: the session is invisible to reads and
     * to abandoning (404), and the checkout operations (session updates,
     * place-order) answer with the session action's table (API.md
     * Conventions): 400 NO_ACCESS_TO_EFFECTIVE_ACCOUNT, before any body
     * check. No key: 401 everywhere. */
    const char *keys[] = {okey, NULL};
    for (int k = 0; k < 2; k++) {
        long st = keys[k] ? 404 : 401, op_st = keys[k] ? 400 : 401;
        const char *code = keys[k] ? "NOT_FOUND" : "UNAUTHORIZED";
        const char *op_code = keys[k] ? "BAD_REQUEST" : "UNAUTHORIZED";
        const char *op_reason = keys[k] ? "NO_ACCESS_TO_EFFECTIVE_ACCOUNT" : "UNAUTHORIZED";
        ckt_resp r = ckt_http(d, "GET", path, keys[k], NULL, NULL);
        ckt_expect_error(&r, st, code, code, NULL);
        ckt_free(&r);
        r = ckt_http(d, "PATCH", path, keys[k], "{\"shippingAddress\":" ADDR_US2 "}", NULL);
        ckt_expect_error(&r, op_st, op_code, op_reason, NULL);
        ckt_free(&r);
        r = ckt_http(d, "PATCH", path, keys[k], "{\"payment\":{\"method\":\"cash\"},\"bogus\":1}", NULL);
        ckt_expect_error(&r, op_st, op_code, op_reason, NULL);
        ckt_free(&r);
        r = ckt_http(d, "DELETE", path, keys[k], NULL, NULL);
        ckt_expect_error(&r, st, code, code, NULL);
        ckt_free(&r);
        r = ckt_http(d, "POST", ppath, keys[k], NULL, NULL);
        ckt_expect_error(&r, op_st, op_code, op_reason, NULL);
        ckt_free(&r);
        r = ckt_place_as(&f->d, keys[k], c.sid, 1);
        ckt_expect_error(&r, op_st, op_code, op_reason, NULL);
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
    ckt_resp r = ckt_place(f, c.sid);
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
        /* Placing the completed session again is still a checkout
         * operation: the table's account-access row, no replay of the order. */
        r = ckt_http(d, "POST", ppath, keys[k], NULL, NULL);
        ckt_expect_error(&r, keys[k] ? 400 : 401, keys[k] ? "BAD_REQUEST" : code,
                         keys[k] ? "NO_ACCESS_TO_EFFECTIVE_ACCOUNT" : code, NULL);
        assert_null(strstr(r.body, oid));
        ckt_free(&r);
    }
    json_t *o = po_get_json(f, opath, f->bkey, 200);
    assert_string_equal(ckt_str(o, "id"), oid);
    json_decref(o);
    o = po_get_json(f, opath, CKT_ADMIN_KEY, 200);
    json_decref(o);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_requests WHERE kind = 'PlaceOrder'"), 1);
    ckt_fx_finish(f);
}

/* 9. Placing a completed session again replays it. */
static void replay_completed(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    po_co c;
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    ckt_resp r1 = ckt_place(f, c.sid);
    ckt_expect_status(&r1, 201);
    ckt_resp r2 = ckt_place(f, c.sid);
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
    json_t *q = po_get_json(f, path, f->bkey, 200);
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

/* 10. Two placements of one session at once: one order, one hold. */
typedef struct race {
    ckt_fx *f;
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
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    po_co c;
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
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
        cmocka_unit_test_teardown(async_placement, teardown),
        cmocka_unit_test_teardown(visibility, teardown),
        cmocka_unit_test_teardown(replay_completed, teardown),
        cmocka_unit_test_teardown(concurrent_placements, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
