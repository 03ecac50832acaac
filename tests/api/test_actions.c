/* test_actions.c: the Checkout Flow actions one by one (API.md "Checkout
 * Flow actions"; issue 13 "Tests"): the list and describe calls against
 * the table, unknown actions and API versions, no key; the precondition
 * rows of every action in the session action's order (CANNOT_INVOKE_ACTION,
 * INVALID_CART_ID, NO_ACCESS_TO_EFFECTIVE_ACCOUNT, ACCOUNT_NOT_STORE_MEMBER,
 * then NO_CHECKOUT_SESSION); INVALID_INPUT; each action's success; step
 * failures with reason, step and place-order's status (a missing address,
 * a missing payment, a declined card, an injected fault that resumes);
 * several inputs in one call. Every case runs on both paths, /v1/... and
 * /services/data/v60.0/...; the end-to-end, concurrency and crash cases
 * are in test_actions_flow.c. */
#include "api/actions_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN_CART "cart_01M80V5EQG4YHAXXJRNX68ZH9P"
#define UNKNOWN_CS "cs_01M80V5EQG4YHAXXJRNX68ZH9P"

/* Static so that the teardown stops the daemon of a test that failed half-way. */
static ckt_fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F);
    return 0;
}

static void setup(ckt_fx *f, const char *faults)
{
    ckt_fx_opts o = {.faults = faults, .default_product = 1};
    ckt_fx_setup(f, &o);
}

/* The one input of a cart action on cart (cartId left out when cart is
 * NULL; deliveryMethodId added for setCheckoutDeliveryMethod). */
static json_t *cart_input(ckt_fx *f, const char *name, const char *cart)
{
    json_t *in = json_object();
    if (cart)
        json_object_set_new(in, "cartId", json_string(cart));
    if (strcmp(name, "setCheckoutDeliveryMethod") == 0)
        json_object_set_new(in, "deliveryMethodId", json_string(f->shm));
    return in;
}

/* Every action but updateCheckoutSessionStateAction (the cart actions and
 * setCheckoutDeliveryMethod). */
static const char *const CARTISH[] = {"checkoutSessionAction",  "cancelCartAsyncOperation", "checkCartInventoryAction",
                                      "priceCart",              "calcCartPromotionsAction", "calcCartShipmentAction",
                                      "setCheckoutDeliveryMethod", "calcCartTaxesAction",   "authorizePaymentAction",
                                      "cartToOrderAction",      "activateOrderAction",      NULL};

/* ------------------------------------------------------ list and describe */

typedef struct io_spec {
    const char *name;
    const char *inputs[4]; /* names; required ones first, optional marked by '?' */
    const char *outputs[3];
} io_spec;

/* API.md's table. */
static const io_spec TABLE[] = {
    {"checkoutSessionAction", {"cartId", "?initialState"}, {"requestId"}},
    {"cancelCartAsyncOperation", {"cartId"}, {0}},
    {"checkCartInventoryAction", {"cartId"}, {0}},
    {"priceCart", {"cartId"}, {0}},
    {"calcCartPromotionsAction", {"cartId"}, {0}},
    {"calcCartShipmentAction", {"cartId"}, {0}},
    {"setCheckoutDeliveryMethod", {"cartId", "deliveryMethodId"}, {0}},
    {"calcCartTaxesAction", {"cartId"}, {0}},
    {"authorizePaymentAction", {"cartId"}, {"paymentAuthorizationId"}},
    {"cartToOrderAction", {"cartId"}, {"orderId"}},
    {"activateOrderAction", {"cartId"}, {"orderId", "orderStatus"}},
    {"updateCheckoutSessionStateAction", {"checkoutSessionId", "expCurrentState", "nextState"}, {0}},
};
#define NTABLE (sizeof(TABLE) / sizeof(TABLE[0]))

static void expect_params(json_t *arr, const char *const *names, size_t max, int outputs)
{
    size_t n = 0;
    while (n < max && names[n])
        n++;
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), n);
    static const char *const keys[] = {"name", "type", "required", "description", NULL};
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(arr, i);
        ckt_expect_keys(p, keys);
        int optional = names[i][0] == '?';
        assert_string_equal(ckt_str(p, "name"), names[i] + optional);
        assert_string_equal(ckt_str(p, "type"), "STRING");
        assert_true(json_is_boolean(ckt_get(p, "required")));
        assert_int_equal(json_is_true(ckt_get(p, "required")), !optional && !outputs);
        assert_true(strlen(ckt_str(p, "description")) > 0);
    }
}

static void list_and_describe(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    ckt_daemon *d = &f->d;
    char path[256];
    for (int ref = 0; ref < 2; ref++) {
        ax_path(ref, NULL, path, sizeof(path));
        ckt_resp r = ckt_http(d, "GET", path, f->bkey, NULL, NULL);
        ckt_expect_status(&r, 200);
        static const char *const top[] = {"actions", NULL};
        ckt_expect_keys(r.json, top);
        json_t *arr = ckt_get(r.json, "actions");
        assert_int_equal(json_array_size(arr), NTABLE);
        for (size_t i = 0; i < NTABLE; i++) {
            static const char *const keys[] = {"name", "label", "type", NULL};
            json_t *a = json_array_get(arr, i);
            ckt_expect_keys(a, keys);
            assert_string_equal(ckt_str(a, "name"), TABLE[i].name);
            assert_string_equal(ckt_str(a, "name"), ax_actions[i]);
            assert_true(strlen(ckt_str(a, "label")) > 0);
            assert_string_equal(ckt_str(a, "type"), "STANDARD_INVOCABLE_ACTION");
        }
        ckt_free(&r);
        for (size_t i = 0; i < NTABLE; i++) {
            ax_path(ref, TABLE[i].name, path, sizeof(path));
            r = ckt_http(d, "GET", path, f->bkey, NULL, NULL);
            ckt_expect_status(&r, 200);
            /* API.md's describe shape: no "type" (that is the list's). */
            static const char *const keys[] = {"name", "label", "inputs", "outputs", NULL};
            ckt_expect_keys(r.json, keys);
            assert_string_equal(ckt_str(r.json, "name"), TABLE[i].name);
            expect_params(ckt_get(r.json, "inputs"), TABLE[i].inputs, 4, 0);
            expect_params(ckt_get(r.json, "outputs"), TABLE[i].outputs, 3, 1);
            ckt_free(&r);
        }
        /* An unknown action: 404 for describe and invoke. */
        ax_path(ref, "placeOrderAction", path, sizeof(path));
        r = ckt_http(d, "GET", path, f->bkey, NULL, NULL);
        ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
        ckt_free(&r);
        r = ax_cart(d, ref, f->bkey, "placeOrderAction", UNKNOWN_CART);
        ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
        ckt_free(&r);
        /* No key: 401 on all three. */
        ax_path(ref, NULL, path, sizeof(path));
        r = ckt_http(d, "GET", path, NULL, NULL, NULL);
        ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
        ckt_free(&r);
        ax_path(ref, "priceCart", path, sizeof(path));
        r = ckt_http(d, "GET", path, NULL, NULL, NULL);
        ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
        ckt_free(&r);
        r = ax_cart(d, ref, NULL, "priceCart", UNKNOWN_CART);
        ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
        ckt_free(&r);
    }
    /* The reference's versions: v50.0 .. v99.0; others 404 ROUTE_NOT_FOUND. */
    static const char *const good[] = {"v50.0", "v99.0"};
    static const char *const bad[] = {"v49.0", "v100.0", "v60.1", "60.0"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "/services/data/%s/actions/standard", good[i]);
        ckt_resp r = ckt_http(d, "GET", path, f->bkey, NULL, NULL);
        ckt_expect_status(&r, 200);
        assert_int_equal(json_array_size(ckt_get(r.json, "actions")), NTABLE);
        ckt_free(&r);
    }
    for (size_t i = 0; i < 4; i++) {
        const char *suffix[] = {"", "/priceCart"};
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof(path), "/services/data/%s/actions/standard%s", bad[i], suffix[k]);
            ckt_resp r = ckt_http(d, "GET", path, f->bkey, NULL, NULL);
            ckt_expect_error(&r, 404, "NOT_FOUND", "ROUTE_NOT_FOUND", NULL);
            ckt_free(&r);
        }
        snprintf(path, sizeof(path), "/services/data/%s/actions/standard/priceCart", bad[i]);
        ckt_resp r = ckt_httpf(d, "POST", path, f->bkey, "{\"inputs\":[{\"cartId\":\"%s\"}]}", UNKNOWN_CART);
        ckt_expect_error(&r, 404, "NOT_FOUND", "ROUTE_NOT_FOUND", NULL);
        ckt_free(&r);
    }
    ckt_fx_finish(f);
}

/* -------------------------------------------------------- preconditions */

static void expect_row(ckt_fx *f, int ref, const char *key, const char *name, const char *cart, long http,
                       const char *reason)
{
    ax_input_fails(&f->d, ref, key, name, cart_input(f, name, cart), http, reason);
}

static long long sessions_of(ckt_fx *f, const char *cart)
{
    return ckt_db_int(&f->d, "SELECT count(*) FROM checkout_sessions WHERE cart_id = '%s'", cart);
}

/* The table's rows in order, for every action on both paths. */
static void precondition_rows(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    ckt_daemon *d = &f->d;
    char uid[64], approver[128], stranger[64], skey[128], acme[64], acart[64], bare[64], cart[64], sid[64], path[1024];
    ckt_user(d, "[\"approver\"]", uid, approver);
    ckt_give_account(d, uid, f->acct);
    ckt_user(d, "[\"buyer\"]", stranger, skey);
    /* A cart with a session (the buyer's), one without, and one of an
     * account that then leaves the store (also without a session). */
    ax_new_cart(f, f->prod, 2, cart);
    ax_session(f, 0, cart, sid);
    ax_new_cart(f, f->prod, 1, bare);
    ckt_fx_account(f, 100000, 0, acme);
    ckt_cart(d, f->bkey, f->store, acme, acart);
    snprintf(path, sizeof(path), "/v1/stores/%s/members/%s", f->store, acme);
    ckt_resp r = ckt_http(d, "DELETE", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 204);
    ckt_free(&r);

    for (int ref = 0; ref < 2; ref++) {
        for (int i = 0; CARTISH[i]; i++) {
            const char *a = CARTISH[i];
            /* Permission first: even an unknown or a missing cart id. */
            expect_row(f, ref, approver, a, cart, 400, "CANNOT_INVOKE_ACTION");
            expect_row(f, ref, approver, a, UNKNOWN_CART, 400, "CANNOT_INVOKE_ACTION");
            expect_row(f, ref, approver, a, NULL, 400, "CANNOT_INVOKE_ACTION");
            /* The cart id: unknown, malformed, missing. */
            expect_row(f, ref, f->bkey, a, UNKNOWN_CART, 500, "INVALID_CART_ID");
            expect_row(f, ref, f->bkey, a, "cart_x", 500, "INVALID_CART_ID");
            expect_row(f, ref, f->bkey, a, NULL, 500, "INVALID_CART_ID");
            /* Another buyer's cart, before its missing session. */
            expect_row(f, ref, skey, a, cart, 400, "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");
            expect_row(f, ref, skey, a, bare, 400, "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");
            /* Not a member, before the missing session. */
            expect_row(f, ref, f->bkey, a, acart, 400, "ACCOUNT_NOT_STORE_MEMBER");
            expect_row(f, ref, CKT_ADMIN_KEY, a, acart, 400, "ACCOUNT_NOT_STORE_MEMBER");
            /* No session: all but the first two. */
            if (i >= 2)
                expect_row(f, ref, f->bkey, a, bare, 400, "NO_CHECKOUT_SESSION");
        }
        /* cancelCartAsyncOperation without a session: success, nothing made. */
        json_t *ov = ax_run_ok(f, ref, "cancelCartAsyncOperation", bare);
        assert_int_equal(json_object_size(ov), 0);
        json_decref(ov);
        assert_int_equal(sessions_of(f, bare), 0);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Active'", bare), 1);

        /* updateCheckoutSessionStateAction: permission, inputs, visibility. */
        const char *st = "updateCheckoutSessionStateAction";
        ax_input_fails(d, ref, approver, st,
                       json_pack("{s:s, s:s, s:s}", "checkoutSessionId", sid, "expCurrentState", "Start", "nextState",
                                 "Start"),
                       400, "CANNOT_INVOKE_ACTION");
        ax_input_fails(d, ref, f->bkey, st,
                       json_pack("{s:s, s:s, s:s}", "checkoutSessionId", UNKNOWN_CS, "expCurrentState", "Start",
                                 "nextState", "Start"),
                       404, "NOT_FOUND");
        /* Another account's session: the table's account-access row, as for every other action. */
        ax_input_fails(d, ref, skey, st,
                       json_pack("{s:s, s:s, s:s}", "checkoutSessionId", sid, "expCurrentState", "Start", "nextState",
                                 "Start"),
                       400, "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");
        ax_input_fails(d, ref, f->bkey, st, json_pack("{s:s, s:s}", "checkoutSessionId", sid, "nextState", "Start"),
                       400, "INVALID_INPUT");
        ax_input_fails(d, ref, f->bkey, st,
                       json_pack("{s:s, s:s}", "checkoutSessionId", sid, "expCurrentState", "Start"), 400,
                       "INVALID_INPUT");
        ax_input_fails(d, ref, f->bkey, st,
                       json_pack("{s:s, s:s}", "expCurrentState", "Start", "nextState", "Start"), 400,
                       "INVALID_INPUT");
        ax_input_fails(d, ref, f->bkey, st,
                       json_pack("{s:s, s:s, s:s}", "checkoutSessionId", "cs_x", "expCurrentState", "Start",
                                 "nextState", "Start"),
                       400, "INVALID_INPUT");
    }
    /* Nothing of this made a session or moved one. */
    assert_int_equal(sessions_of(f, cart), 1);
    assert_int_equal(sessions_of(f, bare), 0);
    assert_int_equal(sessions_of(f, acart), 0);
    ax_expect_state(f, sid, NULL, "Start");
    ckt_fx_finish(f);
}

/* ----------------------------------------------------------------- inputs */

static void input_checks(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    ckt_daemon *d = &f->d;
    char cart[64], sid[64];
    ax_new_cart(f, f->prod, 2, cart);
    ax_session(f, 0, cart, sid);
    long long v0 = ax_inputs_version(f, sid);
    for (int ref = 0; ref < 2; ref++) {
        for (int i = 0; ax_actions[i]; i++) {
            const char *a = ax_actions[i];
            /* Not an object; a key that is not an input of the action. */
            ax_input_fails(d, ref, f->bkey, a, json_string(cart), 400, "INVALID_INPUT");
            ax_input_fails(d, ref, f->bkey, a, json_integer(1), 400, "INVALID_INPUT");
            json_t *in = strcmp(a, "updateCheckoutSessionStateAction") == 0
                             ? json_pack("{s:s, s:s, s:s}", "checkoutSessionId", sid, "expCurrentState", "Start",
                                         "nextState", "Start")
                             : cart_input(f, a, cart);
            json_object_set_new(in, "poNumber", json_string("PO-1"));
            ax_input_fails(d, ref, f->bkey, a, in, 400, "INVALID_INPUT");
        }
        /* Non-string values of the string inputs. */
        ax_input_fails(d, ref, f->bkey, "setCheckoutDeliveryMethod",
                       json_pack("{s:s, s:i}", "cartId", cart, "deliveryMethodId", 7), 400, "INVALID_INPUT");
        ax_input_fails(d, ref, f->bkey, "checkoutSessionAction",
                       json_pack("{s:s, s:b}", "cartId", cart, "initialState", 1), 400, "INVALID_INPUT");
        ax_input_fails(d, ref, f->bkey, "updateCheckoutSessionStateAction",
                       json_pack("{s:s, s:s, s:[]}", "checkoutSessionId", sid, "expCurrentState", "Start", "nextState"),
                       400, "INVALID_INPUT");
        /* setCheckoutDeliveryMethod: missing or malformed id, a method the store does not offer. */
        ax_input_fails(d, ref, f->bkey, "setCheckoutDeliveryMethod", json_pack("{s:s}", "cartId", cart), 400,
                       "INVALID_INPUT");
        ax_input_fails(d, ref, f->bkey, "setCheckoutDeliveryMethod",
                       json_pack("{s:s, s:s}", "cartId", cart, "deliveryMethodId", "ground"), 400, "INVALID_INPUT");
        ax_input_fails(d, ref, f->bkey, "setCheckoutDeliveryMethod",
                       json_pack("{s:s, s:s}", "cartId", cart, "deliveryMethodId", UNKNOWN_SHM), 400,
                       "INVALID_FIELD");
        /* initialState: only Start. */
        ax_input_fails(d, ref, f->bkey, "checkoutSessionAction",
                       json_pack("{s:s, s:s}", "cartId", cart, "initialState", "pricing"), 400, "INVALID_STATE");
        /* The inputs array: 1..100, else the REST envelope. */
        ckt_resp r = ax_post(d, ref, f->bkey, "priceCart", json_array());
        ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "inputs");
        ckt_free(&r);
        json_t *many = json_array();
        for (int i = 0; i < 101; i++)
            json_array_append_new(many, json_pack("{s:s}", "cartId", cart));
        r = ax_post(d, ref, f->bkey, "priceCart", many);
        ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "inputs");
        ckt_free(&r);
    }
    /* None of it touched the session. */
    assert_int_equal(sessions_of(f, cart), 1);
    assert_int_equal(ax_inputs_version(f, sid), v0);
    ax_expect_state(f, sid, NULL, "Start");
    json_t *s = po_get_session(f, sid);
    assert_true(json_is_null(ckt_get(s, "inputs.shippingMethodId")) || !ckt_get(s, "inputs.shippingMethodId"));
    json_decref(s);
    ckt_fx_finish(f);
}

/* ------------------------------------------------------------- successes */

/* Every action's success, the reference's order, once per path; the step
 * failures along the way (no address, no payment, a declined card) with
 * their reason, step and place-order's status. */
static void each_action_and_step_errors(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    ckt_daemon *d = &f->d;
    for (int ref = 0; ref < 2; ref++) {
        char cart[64], sid[64], sid2[64], oid[64], pa[64];
        ax_new_cart(f, f->prod, 3, cart);
        json_t *ov = ax_run_ok(f, ref, "cancelCartAsyncOperation", cart);
        json_decref(ov);
        ax_session(f, ref, cart, sid);
        /* The same session again (get or create), with initialState left out. */
        ov = ax_run_ok(f, ref, "checkoutSessionAction", cart);
        assert_true(strncmp(ckt_str(ov, "requestId"), "req_", 4) == 0);
        json_decref(ov);
        ax_session(f, ref, cart, sid2);
        assert_string_equal(sid, sid2);
        ax_expect_state(f, sid, NULL, "Start");

        json_decref(ax_run_ok(f, ref, "checkCartInventoryAction", cart));
        ax_expect_state(f, sid, "validate_cart", "pricing");
        json_decref(ax_run_ok(f, ref, "priceCart", cart));
        ax_expect_state(f, sid, "pricing", "shipping");
        json_decref(ax_run_ok(f, ref, "calcCartPromotionsAction", cart));
        ax_expect_state(f, sid, "pricing", "shipping");
        /* No shipping method yet: waits before shipping. */
        json_decref(ax_run_ok(f, ref, "calcCartShipmentAction", cart));
        ax_expect_state(f, sid, "pricing", "shipping");

        /* No address: shipping fails, 400 SHIPPING_ADDRESS_REQUIRED. */
        ckt_resp r = ax_post(d, ref, f->bkey, "setCheckoutDeliveryMethod",
                             json_pack("[{s:s, s:s}]", "cartId", cart, "deliveryMethodId", f->shm));
        ckt_expect_status(&r, 200);
        ov = ax_ok_at(&r, 0, "setCheckoutDeliveryMethod");
        assert_int_equal(json_object_size(ov), 0);
        ckt_free(&r);
        json_t *s = po_get_session(f, sid);
        assert_string_equal(ckt_str(s, "inputs.shippingMethodId"), f->shm);
        assert_int_equal(ckt_int(s, "inputsVersion"), 1);
        json_decref(s);
        ax_run_fails(f, ref, "calcCartTaxesAction", cart, 400, "SHIPPING_ADDRESS_REQUIRED", "shipping");
        ax_expect_state(f, sid, "pricing", "shipping");
        ax_run_fails(f, ref, "calcCartShipmentAction", cart, 400, "SHIPPING_ADDRESS_REQUIRED", "shipping");
        po_set_inputs(f, sid, ADDR_US, NULL, NULL);
        json_decref(ax_run_ok(f, ref, "calcCartShipmentAction", cart));
        ax_expect_state(f, sid, "shipping", "tax");
        json_decref(ax_run_ok(f, ref, "calcCartTaxesAction", cart));
        ax_expect_state(f, sid, "tax", "business_rules");

        /* No payment, then a declined card: 400 at payment. */
        ax_run_fails(f, ref, "authorizePaymentAction", cart, 400, "PAYMENT_METHOD_REQUIRED", "payment");
        ax_expect_state(f, sid, "business_rules", "payment");
        po_set_inputs(f, sid, NULL, NULL, PAY_CARD("tok_decline"));
        ax_run_fails(f, ref, "authorizePaymentAction", cart, 400, "PAYMENT_DECLINED", "payment");
        ax_run_fails(f, ref, "cartToOrderAction", cart, 400, "PAYMENT_DECLINED", "payment");
        assert_int_equal(ax_orders(f, sid), 0);
        po_set_inputs(f, sid, NULL, NULL, PAY_CARD("tok_visa"));
        ov = ax_run_ok(f, ref, "authorizePaymentAction", cart);
        static const char *const auth_keys[] = {"paymentAuthorizationId", NULL};
        ckt_expect_keys(ov, auth_keys);
        snprintf(pa, sizeof(pa), "%s", ckt_str(ov, "paymentAuthorizationId"));
        json_decref(ov);
        assert_true(strncmp(pa, "pa_", 3) == 0);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE id = '%s'"
                                       " AND session_id = '%s' AND status = 'Authorized' AND amount = 7692",
                                    pa, sid),
                         1);
        ax_expect_state(f, sid, "payment", "create_order");

        ov = ax_run_ok(f, ref, "cartToOrderAction", cart);
        static const char *const order_keys[] = {"orderId", NULL};
        ckt_expect_keys(ov, order_keys);
        snprintf(oid, sizeof(oid), "%s", ckt_str(ov, "orderId"));
        json_decref(ov);
        assert_true(strncmp(oid, "ord_", 4) == 0);
        ax_expect_state(f, sid, "close_cart", "Completed");
        ov = ax_run_ok(f, ref, "activateOrderAction", cart);
        static const char *const act_keys[] = {"orderId", "orderStatus", NULL};
        ckt_expect_keys(ov, act_keys);
        assert_string_equal(ckt_str(ov, "orderId"), oid);
        assert_string_equal(ckt_str(ov, "orderStatus"), "Activated");
        json_decref(ov);
        /* The Closed cart answers its order; the session is over. */
        ov = ax_run_ok(f, ref, "cartToOrderAction", cart);
        assert_string_equal(ckt_str(ov, "orderId"), oid);
        json_decref(ov);
        ov = ax_run_ok(f, ref, "authorizePaymentAction", cart);
        assert_string_equal(ckt_str(ov, "paymentAuthorizationId"), pa);
        json_decref(ov);
        ax_run_fails(f, ref, "cancelCartAsyncOperation", cart, 409, "SESSION_COMPLETED", NULL);
        r = ax_set_state(f, ref, sid, "Completed", "tax");
        ckt_expect_status(&r, 409);
        ax_fail_at(&r, 0, "updateCheckoutSessionStateAction", "CONFLICT", "SESSION_COMPLETED", NULL);
        ckt_free(&r);
        assert_int_equal(ax_orders(f, sid), 1);
        assert_int_equal(ax_auths(f, sid, NULL), 1);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE id = '%s' AND grand_total = 7692", oid), 1);
    }
    ckt_fx_finish(f);
}

/* cancelCartAsyncOperation on a session: abandoned as DELETE would (the
 * session archived, the cart Active again, the hold voided); a new
 * session afterwards is another one. net_terms: activateOrderAction
 * answers PendingApproval. */
static void cancel_and_order_status(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    ckt_daemon *d = &f->d;
    for (int ref = 0; ref < 2; ref++) {
        char cart[64], sid[64], sid2[64];
        ax_new_cart(f, f->prod, 3, cart);
        ax_session(f, ref, cart, sid);
        po_set_inputs(f, sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
        json_t *ov = ax_run_ok(f, ref, "authorizePaymentAction", cart);
        char pa[64];
        snprintf(pa, sizeof(pa), "%s", ckt_str(ov, "paymentAuthorizationId"));
        json_decref(ov);
        ax_expect_state(f, sid, "payment", "create_order");
        ov = ax_run_ok(f, ref, "cancelCartAsyncOperation", cart);
        assert_int_equal(json_object_size(ov), 0);
        json_decref(ov);
        json_t *s = po_get_session(f, sid);
        assert_true(json_is_true(ckt_get(s, "isArchived")));
        json_decref(s);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Active'", cart), 1);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE id = '%s'"
                                       " AND status = 'Voided'",
                                    pa),
                         1);
        /* No unarchived session now: the step actions say so, cancel succeeds. */
        ax_run_fails(f, ref, "priceCart", cart, 400, "NO_CHECKOUT_SESSION", NULL);
        json_decref(ax_run_ok(f, ref, "cancelCartAsyncOperation", cart));
        ax_session(f, ref, cart, sid2);
        assert_string_not_equal(sid, sid2);
        ax_expect_state(f, sid2, NULL, "Start");

        /* net_terms: the order waits for approval. */
        po_set_inputs(f, sid2, ADDR_US, f->shm, ref ? "{\"method\":\"net_terms\",\"poNumber\":\"NT-2\"}"
                                                    : "{\"method\":\"net_terms\",\"poNumber\":\"NT-1\"}");
        ov = ax_run_ok(f, ref, "authorizePaymentAction", cart);
        assert_true(json_is_null(ckt_get(ov, "paymentAuthorizationId")));
        json_decref(ov);
        ov = ax_run_ok(f, ref, "activateOrderAction", cart);
        assert_string_equal(ckt_str(ov, "orderStatus"), "PendingApproval");
        assert_true(strncmp(ckt_str(ov, "orderId"), "ord_", 4) == 0);
        json_decref(ov);
        ax_expect_state(f, sid2, "close_cart", "Completed");
    }
    ckt_expect_ledger_reconciles(d);
    ckt_fx_finish(f);
}

/* step.fail:payment*1: authorizePaymentAction fails 500 UNKNOWN_EXCEPTION
 * INTERNAL_ERROR at payment, and the next call (on the other path)
 * resumes; then the same again, the paths swapped, on a restarted daemon
 * armed once more. */
static void injected_fault_resumes(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, "step.fail:payment*1");
    for (int ref = 0; ref < 2; ref++) {
        char cart[64], sid[64];
        if (ref) {
            assert_int_equal(ckt_stop(&f->d), 0);
            ckt_restart(&f->d, "step.fail:payment*1", NULL);
        }
        ax_new_cart(f, f->prod, 3, cart);
        ax_session(f, ref, cart, sid);
        po_set_inputs(f, sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
        ax_run_fails(f, ref, "authorizePaymentAction", cart, 500, "INTERNAL_ERROR", "payment");
        json_t *s = po_get_session(f, sid);
        assert_true(json_is_true(ckt_get(s, "isError")));
        assert_string_equal(ckt_str(s, "state"), "payment");
        json_decref(s);
        assert_int_equal(ax_auths(f, sid, NULL), 0);
        json_t *ov = ax_run_ok(f, !ref, "authorizePaymentAction", cart);
        assert_true(strncmp(ckt_str(ov, "paymentAuthorizationId"), "pa_", 3) == 0);
        json_decref(ov);
        ax_expect_state(f, sid, "payment", "create_order");
        assert_int_equal(ax_auths(f, sid, "Authorized"), 1);
    }
    ckt_fx_finish(f);
}

/* Several inputs in one call: each on its own, results in order, HTTP
 * status of the first failure. */
static void several_inputs(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    ckt_daemon *d = &f->d;
    char a[64], b[64], bare[64], sa[64], sb[64];
    ax_new_cart(f, f->prod, 1, a);
    ax_new_cart(f, f->prod, 2, b);
    ax_new_cart(f, f->prod, 1, bare);
    ax_session(f, 0, a, sa);
    ax_session(f, 1, b, sb);
    /* All succeed: 200. */
    ckt_resp r = ax_post(d, 0, f->bkey, "checkCartInventoryAction", json_pack("[{s:s}, {s:s}]", "cartId", a, "cartId", b));
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(r.json), 2);
    ax_ok_at(&r, 0, "checkCartInventoryAction");
    ax_ok_at(&r, 1, "checkCartInventoryAction");
    ckt_free(&r);
    ax_expect_state(f, sa, "validate_cart", "pricing");
    ax_expect_state(f, sb, "validate_cart", "pricing");
    /* A success, a 500 then a 400: HTTP 500. */
    r = ax_post(d, 1, f->bkey, "priceCart",
                json_pack("[{s:s}, {s:s}, {s:s}]", "cartId", a, "cartId", UNKNOWN_CART, "cartId", bare));
    ckt_expect_status(&r, 500);
    assert_int_equal(json_array_size(r.json), 3);
    ax_ok_at(&r, 0, "priceCart");
    ax_fail_at(&r, 1, "priceCart", "UNKNOWN_EXCEPTION", "INVALID_CART_ID", NULL);
    ax_fail_at(&r, 2, "priceCart", "BAD_REQUEST", "NO_CHECKOUT_SESSION", NULL);
    ckt_free(&r);
    ax_expect_state(f, sa, "pricing", "shipping");
    /* A 400, a 500, then a success: HTTP 400, and the last input still ran. */
    r = ax_post(d, 0, f->bkey, "priceCart",
                json_pack("[{s:s}, {s:s}, {s:s}]", "cartId", bare, "cartId", "cart_x", "cartId", b));
    ckt_expect_status(&r, 400);
    assert_int_equal(json_array_size(r.json), 3);
    ax_fail_at(&r, 0, "priceCart", "BAD_REQUEST", "NO_CHECKOUT_SESSION", NULL);
    ax_fail_at(&r, 1, "priceCart", "UNKNOWN_EXCEPTION", "INVALID_CART_ID", NULL);
    ax_ok_at(&r, 2, "priceCart");
    ckt_free(&r);
    ax_expect_state(f, sb, "pricing", "shipping");
    /* A bad input among good ones: only it fails. */
    r = ax_post(d, 1, f->bkey, "checkoutSessionAction",
                json_pack("[{s:s}, {s:s, s:s}, i]", "cartId", bare, "cartId", a, "initialState", "tax", 5));
    ckt_expect_status(&r, 400);
    assert_int_equal(json_array_size(r.json), 3);
    ax_ok_at(&r, 0, "checkoutSessionAction");
    ax_fail_at(&r, 1, "checkoutSessionAction", "BAD_REQUEST", "INVALID_STATE", NULL);
    ax_fail_at(&r, 2, "checkoutSessionAction", "BAD_REQUEST", "INVALID_INPUT", NULL);
    ckt_free(&r);
    assert_int_equal(sessions_of(f, bare), 1);
    ckt_fx_finish(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(list_and_describe, teardown),
        cmocka_unit_test_teardown(precondition_rows, teardown),
        cmocka_unit_test_teardown(input_checks, teardown),
        cmocka_unit_test_teardown(each_action_and_step_errors, teardown),
        cmocka_unit_test_teardown(cancel_and_order_status, teardown),
        cmocka_unit_test_teardown(injected_fault_resumes, teardown),
        cmocka_unit_test_teardown(several_inputs, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
