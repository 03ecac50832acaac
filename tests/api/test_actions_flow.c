/* test_actions_flow.c: the Checkout Flow actions driving whole checkouts
 * (API.md "Checkout Flow actions"; issue 13 "Tests"): the reference flow's
 * order end to end (one order, totals equal to place-order's for the same
 * cart, one authorization); every action called twice in a row (the state
 * after each); a payment change after authorizePaymentAction (a new key, a
 * new hold, the first Voided); the step actions racing place-order (one
 * order, one live hold); updateCheckoutSessionStateAction from a stale
 * second tab, forward moves, and rewinds past payment (the hold voided,
 * credit given back, inputsVersion +1); a crash between actions and the
 * resume after the restart; and configured flows (a Lua step before
 * payment, a flow without tax). All on the fake HTTP gateway, the calls
 * alternating between /v1/... and /services/data/v60.0/... */
#include "api/actions_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRAND_3 7692 /* API.md's worked example: 3 x 1999, 500 g, Ground, US 825 bp */
#define PAY_PO(po) "{\"method\":\"purchase_order\",\"poNumber\":\"" po "\"}"

/* PostgreSQL keeps a dead process's lease for --lease-seconds: one second. */
static const char *const SHORT_LEASE[] = {"--lease-seconds", "1", NULL};

/* Static so that the teardown stops what a failed test left running. */
static ckt_fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F);
    return 0;
}

static void setup(ckt_fx *f, const char *faults)
{
    ckt_fx_opts o = {.faults = faults, .extra = SHORT_LEASE, .fake_gateway = 1, .default_product = 1};
    ckt_fx_setup(f, &o);
}

/* ------------------------------------------------------ the reference flow */

/* One checkout driven by actions: its cart, session, hold and order. */
typedef struct co {
    char cart[64], sid[64], pa[64], oid[64];
    int calls; /* actions called so far: even ones on /v1, odd ones on the reference's path */
} co;

/* The reference flow's actions after the session action, with the session
 * (lastSuccessfulStep, state) each leaves behind. */
typedef struct ref_step {
    const char *action, *last, *state;
} ref_step;

static const ref_step REF[] = {
    {"checkCartInventoryAction", "validate_cart", "pricing"},
    {"priceCart", "pricing", "shipping"},
    {"calcCartPromotionsAction", "pricing", "shipping"},
    {"calcCartShipmentAction", "pricing", "shipping"}, /* no shipping method yet: waits */
    {"setCheckoutDeliveryMethod", "pricing", "shipping"},
    {"calcCartTaxesAction", "tax", "business_rules"},
    {"authorizePaymentAction", "payment", "create_order"},
    {"cartToOrderAction", "close_cart", "Completed"},
    {"activateOrderAction", "close_cart", "Completed"},
    {NULL, NULL, NULL},
};

static int next_ref(co *c)
{
    return c->calls++ % 2;
}

/* One action of the reference flow on c, expected to succeed; records the
 * hold and the order it names. */
static void ref_action(ckt_fx *f, co *c, const char *action)
{
    int ref = next_ref(c);
    ckt_resp r = strcmp(action, "setCheckoutDeliveryMethod") == 0
                     ? ax_post(&f->d, ref, f->bkey, action,
                               json_pack("[{s:s, s:s}]", "cartId", c->cart, "deliveryMethodId", f->shm))
                     : ax_cart(&f->d, ref, f->bkey, action, c->cart);
    ckt_expect_status(&r, 200);
    json_t *ov = ax_ok_at(&r, 0, action);
    if (strcmp(action, "authorizePaymentAction") == 0) {
        const char *pa = ckt_str(ov, "paymentAuthorizationId");
        assert_true(strncmp(pa, "pa_", 3) == 0);
        snprintf(c->pa, sizeof(c->pa), "%s", pa);
    } else if (strcmp(action, "cartToOrderAction") == 0 || strcmp(action, "activateOrderAction") == 0) {
        const char *oid = ckt_str(ov, "orderId");
        assert_true(strncmp(oid, "ord_", 4) == 0);
        if (c->oid[0])
            assert_string_equal(oid, c->oid);
        snprintf(c->oid, sizeof(c->oid), "%s", oid);
        if (action[0] == 'a')
            assert_string_equal(ckt_str(ov, "orderStatus"), "Activated");
    }
    ckt_free(&r);
}

/* The reference flow's beginning: a cart of qty units, cancelCartAsyncOperation
 * (nothing to cancel), checkoutSessionAction with initialState Start, and the
 * PATCH of address and payment (pay). */
static void ref_begin(ckt_fx *f, co *c, int qty, const char *pay)
{
    memset(c, 0, sizeof(*c));
    ax_new_cart(f, f->prod, qty, c->cart);
    ref_action(f, c, "cancelCartAsyncOperation");
    ax_session(f, next_ref(c), c->cart, c->sid);
    ax_expect_state(f, c->sid, NULL, "Start");
    char body[1024];
    snprintf(body, sizeof(body), "{\"shippingAddress\":%s,\"payment\":%s}", ADDR_US, pay);
    ckt_resp r = po_patch(f, c->sid, f->bkey, body);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
}

/* The reference flow's actions from REF[from] through the one named upto
 * (NULL: to the end), each times times in a row, the state checked after
 * each call. Returns the index after the last one run. */
static int ref_run(ckt_fx *f, co *c, int from, const char *upto, int times)
{
    int i = from;
    for (; REF[i].action; i++) {
        for (int k = 0; k < times; k++) {
            ref_action(f, c, REF[i].action);
            ax_expect_state(f, c->sid, REF[i].last, REF[i].state);
        }
        if (upto && strcmp(REF[i].action, upto) == 0)
            return i + 1;
    }
    return i;
}

static int ref_index(const char *action)
{
    for (int i = 0; REF[i].action; i++)
        if (strcmp(REF[i].action, action) == 0)
            return i;
    fail_msg("no reference action %s", action);
    return -1;
}

static json_t *get_order(ckt_fx *f, const char *oid)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/orders/%s", oid);
    return po_get_json(f, path, f->bkey, 200);
}

/* The order of c is the session's only one, backed by exactly one
 * authorization (c->pa, Authorized, its grandTotal), the cart Closed. */
static void expect_one_order(ckt_fx *f, const co *c, long long grand)
{
    assert_int_equal(ax_orders(f, c->sid), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders WHERE cart_id = '%s'", c->cart), 1);
    json_t *o = get_order(f, c->oid);
    assert_string_equal(ckt_str(o, "sessionId"), c->sid);
    assert_int_equal(ckt_int(o, "totals.grandTotal"), grand);
    /* The order lists its session's holds: one live (c->pa), any others Voided. */
    json_t *auths = ckt_get(o, "authorizations"), *a;
    size_t k, live = 0;
    assert_true(json_array_size(auths) >= 1);
    json_array_foreach(auths, k, a) {
        ckt_expect_keys(a, po_auth_keys);
        if (strcmp(ckt_str(a, "status"), "Voided") == 0)
            continue;
        live++;
        assert_string_equal(ckt_str(a, "id"), c->pa);
        assert_string_equal(ckt_str(a, "status"), "Authorized");
        assert_int_equal(ckt_int(a, "amount"), grand);
    }
    assert_int_equal(live, 1);
    assert_int_equal(json_array_size(auths), (size_t)ax_auths(f, c->sid, NULL));
    json_decref(o);
    assert_int_equal(ax_auths(f, c->sid, "Authorized"), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Closed'", c->cart),
                     1);
}

/* 2. The reference flow's order end to end; then the same cart placed with
 * place-order on a second session: the same totals, field by field. */
static void reference_flow_end_to_end(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    co c;
    ref_begin(f, &c, 3, PAY_CARD("tok_visa"));
    ref_run(f, &c, 0, NULL, 1);
    expect_one_order(f, &c, GRAND_3);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                       " AND idempotency_key = '%s:payment:2'",
                                c.sid, c.sid),
                     1);

    char sid2[64], oid2[64];
    ckt_fx_session(f, f->prod, 3, ADDR_US, PAY_CARD("tok_visa"), sid2, NULL);
    ckt_place_ok(f, sid2, GRAND_3, oid2);
    json_t *a = get_order(f, c.oid), *b = get_order(f, oid2);
    for (int i = 0; po_totals_keys[i]; i++) {
        char p[64];
        snprintf(p, sizeof(p), "totals.%s", po_totals_keys[i]);
        assert_int_equal(ckt_int(a, p), ckt_int(b, p));
    }
    ckt_expect_keys(ckt_get(a, "totals"), po_totals_keys);
    assert_int_equal(json_array_size(ckt_get(a, "items")), json_array_size(ckt_get(b, "items")));
    assert_int_equal(ckt_int(a, "items.0.quantity"), ckt_int(b, "items.0.quantity"));
    assert_string_equal(ckt_str(a, "status"), ckt_str(b, "status"));
    assert_string_equal(ckt_str(a, "paymentMethod"), "card");
    json_decref(a);
    json_decref(b);
    assert_int_equal(fgw_holds(f->gw), 2);
    ckt_fx_finish(f);
}

/* 3. Every action twice in a row: the same single order and hold. */
static void every_action_twice(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    co c;
    ref_begin(f, &c, 3, PAY_CARD("tok_visa"));
    /* The session action and the cancel (nothing to cancel yet) twice too. */
    char sid2[64];
    ax_session(f, next_ref(&c), c.cart, sid2);
    assert_string_equal(sid2, c.sid);
    ref_run(f, &c, 0, NULL, 2);
    expect_one_order(f, &c, GRAND_3);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders"), 1);
    ckt_fx_finish(f);
}

/* 4a. The payment changes after authorizePaymentAction (to a purchase
 * order and back to the card): cartToOrderAction authorizes again under
 * the new inputsVersion's key; one order; the first hold Voided. */
static void payment_change_after_authorization(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    co c;
    ref_begin(f, &c, 3, PAY_CARD("tok_visa"));
    int i = ref_run(f, &c, 0, "authorizePaymentAction", 1);
    char first[64];
    snprintf(first, sizeof(first), "%s", c.pa);
    assert_int_equal(ax_inputs_version(f, c.sid), 2);
    po_set_inputs(f, c.sid, NULL, NULL, PAY_PO("PO-77"));
    po_set_inputs(f, c.sid, NULL, NULL, PAY_CARD("tok_visa"));
    assert_int_equal(ax_inputs_version(f, c.sid), 4);
    json_t *s = po_get_session(f, c.sid);
    assert_string_equal(ckt_str(s, "lastSuccessfulStep"), "tax"); /* rewound before business_rules */
    json_decref(s);
    ref_action(f, &c, "cartToOrderAction");
    ax_expect_state(f, c.sid, "close_cart", "Completed");
    ref_run(f, &c, i + 1, NULL, 1);
    /* The order's hold is the second one, under the new key. */
    assert_int_equal(ax_orders(f, c.sid), 1);
    assert_int_equal(ax_auths(f, c.sid, NULL), 2);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE id = '%s'"
                                       " AND status = 'Voided' AND idempotency_key = '%s:payment:2'",
                                first, c.sid),
                     1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE order_id = '%s'"
                                       " AND status = 'Authorized' AND idempotency_key = '%s:payment:4'",
                                c.oid, c.sid),
                     1);
    ckt_db_text(&f->d, c.pa, sizeof(c.pa), "SELECT id FROM payment_authorizations WHERE order_id = '%s'", c.oid);
    assert_string_not_equal(c.pa, first);
    expect_one_order(f, &c, GRAND_3);
    assert_int_equal(fgw_holds(f->gw), 2);
    assert_int_equal(fgw_voids(f->gw), 1);
    ckt_fx_finish(f);
}

/* 4b. The step actions in a loop against place-order, each retried on
 * CART_ALREADY_IN_PROGRESS: one order, one live authorization. */
typedef struct race {
    ckt_fx *f;
    co *c;
    int ref;
    char oid[2][64];
    long status[2]; /* the last answer's HTTP status of each thread */
    char body[2][512];
    int busy[2]; /* CART_ALREADY_IN_PROGRESS answers seen */
} race;

static const char *const LOOP[] = {"checkCartInventoryAction", "priceCart",          "calcCartShipmentAction",
                                   "calcCartTaxesAction",      "authorizePaymentAction", "cartToOrderAction",
                                   "activateOrderAction",      NULL};

static int is_busy(const ckt_resp *r, int action)
{
    json_t *re = ckt_get(r->json, action ? "0.errors.0.reason" : "0.reason");
    return r->status == 400 && json_is_string(re) && strcmp(json_string_value(re), "CART_ALREADY_IN_PROGRESS") == 0;
}

/* Thread 0 runs the step actions, thread 1 places; each retries while the
 * other holds the lease (at most 2000 times, 5 ms apart). The threads
 * record what they saw; the test asserts it afterwards. */
static void race_fn(void *arg, int t)
{
    race *x = arg;
    char path[256];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", x->c->sid);
    for (int i = 0; t == 1 ? i < 1 : LOOP[i] != NULL; i++) {
        for (int attempt = 0; attempt < 2000; attempt++) {
            ckt_resp r = t == 0 ? ax_cart(&x->f->d, x->ref, x->f->bkey, LOOP[i], x->c->cart)
                                : ckt_http(&x->f->d, "POST", path, x->f->bkey, NULL, NULL);
            int busy = is_busy(&r, t == 0);
            x->status[t] = r.status;
            snprintf(x->body[t], sizeof(x->body[t]), "%s", r.body ? r.body : "");
            json_t *oid = ckt_get(r.json, t == 0 ? "0.outputValues.orderId" : "orderId");
            if (json_is_string(oid))
                snprintf(x->oid[t], sizeof(x->oid[t]), "%s", json_string_value(oid));
            ckt_free(&r);
            if (!busy)
                break;
            x->busy[t]++;
            ckt_sleep_ms(5);
        }
        if (x->status[t] != 200 && x->status[t] != 201)
            return;
    }
}

static void actions_race_place_order(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    for (int round = 0; round < 4; round++) {
        co c;
        memset(&c, 0, sizeof(c));
        ckt_fx_session(f, f->prod, 3, ADDR_US, PAY_CARD("tok_visa"), c.sid, c.cart);
        race x;
        memset(&x, 0, sizeof(x));
        x.f = f;
        x.c = &c;
        x.ref = round % 2;
        int holds0 = fgw_holds(f->gw);
        ckt_parallel(2, race_fn, &x);
        for (int t = 0; t < 2; t++) {
            if (x.status[t] != 200 && x.status[t] != 201)
                fprintf(stderr, "round %d thread %d ended with %ld %s\n", round, t, x.status[t], x.body[t]);
            assert_true(x.status[t] == 200 || x.status[t] == 201);
        }
        assert_true(x.oid[0][0] && x.oid[1][0]);
        assert_string_equal(x.oid[0], x.oid[1]);
        snprintf(c.oid, sizeof(c.oid), "%s", x.oid[0]);
        ckt_db_text(&f->d, c.pa, sizeof(c.pa), "SELECT id FROM payment_authorizations WHERE order_id = '%s'", c.oid);
        expect_one_order(f, &c, GRAND_3);
        assert_int_equal(ax_auths(f, c.sid, NULL), 1);
        assert_int_equal(fgw_holds(f->gw), holds0 + 1);
        ax_expect_state(f, c.sid, "close_cart", "Completed");
    }
    ckt_fx_finish(f);
}

/* ---------------------------------------------- the state action, two tabs */

static void expect_state_fails(ckt_fx *f, int ref, const char *sid, const char *exp, const char *next, long http,
                               const char *reason)
{
    ckt_resp r = ax_set_state(f, ref, sid, exp, next);
    ckt_expect_status(&r, http);
    ax_fail_at(&r, 0, "updateCheckoutSessionStateAction", ax_status_code(http), reason, NULL);
    ckt_free(&r);
}

static void expect_state_ok(ckt_fx *f, int ref, const char *sid, const char *exp, const char *next)
{
    ckt_resp r = ax_set_state(f, ref, sid, exp, next);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_object_size(ax_ok_at(&r, 0, "updateCheckoutSessionStateAction")), 0);
    ckt_free(&r);
}

/* 5. Tab A reads the state, tab B moves the session on, tab A's stale
 * expCurrentState: 409 STATE_MISMATCH, nothing changed. Forward moves and
 * unknown states: 400 INVALID_STATE; a held lease: CART_ALREADY_IN_PROGRESS;
 * the same state: nothing changes; a rewind from after payment to tax:
 * the hold Voided (at the gateway too), inputsVersion +1, and the next
 * authorizePaymentAction makes a new hold under the new key. */
static void stale_tab_and_rewind(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    for (int ref = 0; ref < 2; ref++) {
        co c;
        ref_begin(f, &c, 3, PAY_CARD("tok_visa"));
        int i = ref_run(f, &c, 0, "setCheckoutDeliveryMethod", 1);
        /* Tab A reads the session. */
        json_t *s = po_get_session(f, c.sid);
        char tab_a[64];
        snprintf(tab_a, sizeof(tab_a), "%s", ckt_str(s, "state"));
        json_decref(s);
        assert_string_equal(tab_a, "shipping");
        /* Tab B moves it on. */
        i = ref_run(f, &c, i, "calcCartTaxesAction", 1);
        long long v = ax_inputs_version(f, c.sid);
        expect_state_fails(f, ref, c.sid, tab_a, "pricing", 409, "STATE_MISMATCH");
        expect_state_fails(f, ref, c.sid, tab_a, "Start", 409, "STATE_MISMATCH");
        ax_expect_state(f, c.sid, "tax", "business_rules");
        assert_int_equal(ax_inputs_version(f, c.sid), v);
        /* Forward, unknown: INVALID_STATE. */
        expect_state_fails(f, ref, c.sid, "business_rules", "payment", 400, "INVALID_STATE");
        expect_state_fails(f, ref, c.sid, "business_rules", "Completed", 400, "INVALID_STATE");
        expect_state_fails(f, ref, c.sid, "business_rules", "nowhere", 400, "INVALID_STATE");
        /* Another processor holds the lease. */
        ckt_db_exec(&f->d,
                    "UPDATE checkout_sessions SET lease_owner = 'node_other', lease_expires_at = %lld WHERE id = '%s'",
                    ckt_now_ms() + 600000, c.sid);
        expect_state_fails(f, ref, c.sid, "business_rules", "pricing", 400, "CART_ALREADY_IN_PROGRESS");
        ckt_db_exec(&f->d, "UPDATE checkout_sessions SET lease_owner = NULL, lease_expires_at = 0 WHERE id = '%s'",
                    c.sid);
        /* The same state: nothing changes. */
        expect_state_ok(f, !ref, c.sid, "business_rules", "business_rules");
        ax_expect_state(f, c.sid, "tax", "business_rules");
        assert_int_equal(ax_inputs_version(f, c.sid), v);

        /* Past payment, then back to tax. */
        i = ref_run(f, &c, i, "authorizePaymentAction", 1);
        char first[64], gw_first[128];
        snprintf(first, sizeof(first), "%s", c.pa);
        ckt_db_text(&f->d, gw_first, sizeof(gw_first), "SELECT gateway_auth_id FROM payment_authorizations WHERE id = '%s'",
                    first);
        assert_true(gw_first[0] != 0);
        expect_state_ok(f, ref, c.sid, "create_order", "tax");
        ax_expect_state(f, c.sid, "shipping", "tax");
        assert_int_equal(ax_inputs_version(f, c.sid), v + 1);
        assert_int_equal(ax_auths(f, c.sid, "Voided"), 1);
        assert_int_equal(fgw_voided(f->gw, gw_first), 1);
        /* A stale tab still cannot move it. */
        expect_state_fails(f, !ref, c.sid, "create_order", "Start", 409, "STATE_MISMATCH");
        ref_action(f, &c, "authorizePaymentAction");
        ax_expect_state(f, c.sid, "payment", "create_order");
        assert_string_not_equal(c.pa, first);
        char key[160];
        snprintf(key, sizeof(key), "%s:payment:%lld", c.sid, v + 1);
        assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE id = '%s'"
                                           " AND status = 'Authorized' AND idempotency_key = '%s'",
                                    c.pa, key),
                         1);
        ref_run(f, &c, i, NULL, 1);
        expect_one_order(f, &c, GRAND_3);
        assert_int_equal(ax_auths(f, c.sid, NULL), 2);
    }
    assert_int_equal(fgw_holds(f->gw), 4);
    assert_int_equal(fgw_voids(f->gw), 2);
    ckt_fx_finish(f);
}

static long long credit_used(ckt_fx *f, const char *acct)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/accounts/%s", acct);
    json_t *a = po_get_json(f, path, CKT_ADMIN_KEY, 200);
    long long v = ckt_int(a, "creditUsed");
    json_decref(a);
    return v;
}

/* 5b. A purchase-order session rewound from after payment to Start: the
 * credit reservation released (creditUsed back, the ledger reconciles);
 * the next authorizePaymentAction reserves it again, once. */
static void rewind_releases_credit(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    for (int ref = 0; ref < 2; ref++) {
        co c;
        ref_begin(f, &c, 3, ref ? PAY_PO("PO-R1") : PAY_PO("PO-R0"));
        long long used0 = credit_used(f, f->acct);
        ref_run(f, &c, 0, "calcCartTaxesAction", 1);
        json_t *ov = ax_run_ok(f, ref, "authorizePaymentAction", c.cart);
        assert_true(json_is_null(ckt_get(ov, "paymentAuthorizationId")));
        json_decref(ov);
        ax_expect_state(f, c.sid, "payment", "create_order");
        assert_int_equal(credit_used(f, f->acct), used0 + GRAND_3);
        ckt_expect_ledger_reconciles(&f->d);
        long long v = ax_inputs_version(f, c.sid);
        expect_state_ok(f, !ref, c.sid, "create_order", "Start");
        ax_expect_state(f, c.sid, NULL, "Start");
        assert_int_equal(ax_inputs_version(f, c.sid), v + 1);
        assert_int_equal(credit_used(f, f->acct), used0);
        ckt_expect_ledger_reconciles(&f->d);
        /* Again through payment and to the end: reserved once, then spent. */
        json_decref(ax_run_ok(f, !ref, "calcCartTaxesAction", c.cart));
        ax_expect_state(f, c.sid, "tax", "business_rules");
        json_decref(ax_run_ok(f, ref, "authorizePaymentAction", c.cart));
        assert_int_equal(credit_used(f, f->acct), used0 + GRAND_3);
        json_decref(ax_run_ok(f, !ref, "activateOrderAction", c.cart));
        assert_int_equal(ax_orders(f, c.sid), 1);
        assert_int_equal(credit_used(f, f->acct), used0 + GRAND_3);
        ckt_expect_ledger_reconciles(&f->d);
    }
    assert_int_equal(fgw_authorize_calls(f->gw), 0);
    ckt_fx_finish(f);
}

/* ------------------------------------------------------------------ crash */

/* Calls action on c and waits it out while a dead process's lease lives
 * (PostgreSQL keeps it for --lease-seconds; at most 15 s): success. */
static void ref_action_after_restart(ckt_fx *f, co *c, const char *action)
{
    long long until = ckt_mono_ms() + 15000;
    for (;;) {
        ckt_resp r = ax_cart(&f->d, c->calls % 2, f->bkey, action, c->cart);
        int busy = is_busy(&r, 1);
        ckt_free(&r);
        if (!busy || !f->d.pg || ckt_mono_ms() > until)
            break;
        ckt_sleep_ms(100);
    }
    ref_action(f, c, action);
}

/* 6. CHECKOUTD_FAULTS crash.after:<step>: the action of that step dies
 * right after the step's commit (the connection drops, the daemon exits
 * 99); restarted without faults, the session is at the step after it, the
 * next action resumes there and the flow completes: one order, one
 * authorization, the gateway asked once. */
static void crash_between_actions(const char *step, const char *action, const char *last, const char *next)
{
    ckt_fx *f = &F;
    char faults[64], path[256];
    snprintf(faults, sizeof(faults), "crash.after:%s", step);
    setup(f, faults);
    co c;
    ref_begin(f, &c, 3, PAY_CARD("tok_visa"));
    int i = ref_index(action);
    if (i > 0)
        ref_run(f, &c, 0, REF[i - 1].action, 1);
    ax_path(next_ref(&c), action, path, sizeof(path));
    json_t *body = json_pack("{s:[{s:s}]}", "inputs", "cartId", c.cart);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    ckt_resp r = ckt_http_try(&f->d, "POST", path, f->bkey, text, NULL);
    free(text);
    if (r.status != 0)
        fprintf(stderr, "expected the daemon to die in %s, got %ld %s\n", action, r.status, r.body);
    assert_int_equal(r.status, 0);
    ckt_free(&r);
    assert_int_equal(ckt_wait_exit(&f->d, 10000), 99);
    ckt_restart(&f->d, NULL, SHORT_LEASE);
    ax_expect_state(f, c.sid, last, next);
    assert_int_equal(ax_orders(f, c.sid), 0);
    /* The next action resumes (the crashed one again answers at once too). */
    ref_action_after_restart(f, &c, action);
    ax_expect_state(f, c.sid, last, next);
    ref_run(f, &c, i + 1, NULL, 1);
    ckt_db_text(&f->d, c.pa, sizeof(c.pa), "SELECT id FROM payment_authorizations WHERE order_id = '%s'", c.oid);
    expect_one_order(f, &c, GRAND_3);
    assert_int_equal(ax_auths(f, c.sid, NULL), 1);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM checkout_sessions WHERE lease_owner IS NOT NULL"), 0);
    ckt_fx_finish(f);
}

static void crash_after_payment(void **state)
{
    (void)state;
    crash_between_actions("payment", "authorizePaymentAction", "payment", "create_order");
}

static void crash_after_tax(void **state)
{
    (void)state;
    crash_between_actions("tax", "calcCartTaxesAction", "tax", "business_rules");
}

/* ------------------------------------------------------ configured flows */

static json_t *builtin(const char *name)
{
    return json_pack("{s:s, s:s}", "name", name, "kind", "builtin");
}


/* The standard built-ins, leaving out skip (NULL: none), with ins (taken,
 * may be NULL) right after `after`. */
static json_t *std_steps(const char *skip, const char *after, json_t *ins)
{
    static const char *const std[] = {"validate_cart", "pricing", "shipping", "tax", "business_rules",
                                      "payment", "create_order", "confirm", "close_cart", NULL};
    json_t *steps = json_array();
    for (int i = 0; std[i]; i++) {
        if (skip && strcmp(std[i], skip) == 0)
            continue;
        json_array_append_new(steps, builtin(std[i]));
        if (ins && strcmp(std[i], after) == 0)
            json_array_extend(steps, ins);
    }
    json_decref(ins);
    return steps;
}

#define LIMIT_SCRIPT                                                                                              \
    "function check(cart) if cart.totals.grandTotal > 10000 then return false, \"over the 10000 limit\" end "     \
    "return true end"

/* 7a. A Lua step before payment: authorizePaymentAction runs it first; over
 * the limit it rejects (EXTENSION_REJECTED at the Lua step, the gateway
 * never asked); under it the flow goes on to one order. */
static void lua_step_before_payment(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    char flow[64];
    ckt_fx_install_flow(f, f->store,
                 std_steps(NULL, "business_rules",
                           json_pack("[{s:s, s:s, s:{s:s}}]", "name", "limit", "kind", "lua", "config", "script",
                                     LIMIT_SCRIPT)),
                 flow);
    for (int ref = 0; ref < 2; ref++) {
        co big;
        ref_begin(f, &big, 6, PAY_CARD("tok_visa"));
        json_t *s = po_get_session(f, big.sid);
        assert_string_equal(ckt_str(s, "flowId"), flow);
        json_decref(s);
        ref_run(f, &big, 0, "calcCartTaxesAction", 1);
        ax_run_fails(f, ref, "authorizePaymentAction", big.cart, 400, "EXTENSION_REJECTED", "limit");
        ax_run_fails(f, !ref, "cartToOrderAction", big.cart, 400, "EXTENSION_REJECTED", "limit");
        ckt_resp r = ax_cart(&f->d, ref, f->bkey, "authorizePaymentAction", big.cart);
        assert_non_null(strstr(ckt_str(r.json, "0.errors.0.message"), "over the 10000 limit"));
        ckt_free(&r);
        /* The Lua step shares business_rules' commit group: it rolled back
         * whole, the error names the Lua step. */
        ax_expect_state(f, big.sid, "tax", "business_rules");
        json_t *bs = po_get_session(f, big.sid);
        json_t *errs = ckt_get(bs, "errors");
        assert_true(json_array_size(errs) >= 1);
        assert_string_equal(ckt_str(json_array_get(errs, json_array_size(errs) - 1), "step"), "limit");
        assert_true(json_is_true(ckt_get(bs, "isError")));
        json_decref(bs);
        assert_int_equal(ax_auths(f, big.sid, NULL), 0);
        assert_int_equal(fgw_authorize_calls(f->gw), ref ? 1 : 0);

        co ok;
        ref_begin(f, &ok, 3, PAY_CARD("tok_visa"));
        ok.calls = ref;
        ref_run(f, &ok, 0, "calcCartTaxesAction", 1);
        ref_action(f, &ok, "authorizePaymentAction");
        ax_expect_state(f, ok.sid, "payment", "create_order");
        ref_run(f, &ok, ref_index("cartToOrderAction"), NULL, 1);
        expect_one_order(f, &ok, GRAND_3);
    }
    ckt_fx_finish(f);
}

/* 7b. A flow without tax: calcCartTaxesAction still succeeds and stops
 * before business_rules; the order has no tax. */
static void flow_without_tax(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    setup(f, NULL);
    char flow[64];
    ckt_fx_install_flow(f, f->store, std_steps("tax", NULL, NULL), flow);
    for (int ref = 0; ref < 2; ref++) {
        co c;
        ref_begin(f, &c, 3, PAY_CARD("tok_visa"));
        c.calls = ref;
        ref_run(f, &c, 0, "setCheckoutDeliveryMethod", 1);
        json_decref(ax_run_ok(f, ref, "calcCartTaxesAction", c.cart));
        ax_expect_state(f, c.sid, "shipping", "business_rules");
        json_decref(ax_run_ok(f, !ref, "calcCartTaxesAction", c.cart));
        ax_expect_state(f, c.sid, "shipping", "business_rules");
        ref_run(f, &c, ref_index("authorizePaymentAction"), NULL, 1);
        json_t *o = get_order(f, c.oid);
        assert_int_equal(ckt_int(o, "totals.tax"), 0);
        long long grand = ckt_int(o, "totals.grandTotal");
        assert_int_equal(grand, ckt_int(o, "totals.subtotal") + ckt_int(o, "totals.shipping"));
        assert_int_equal(grand, GRAND_3 - 495);
        json_decref(o);
        expect_one_order(f, &c, grand);
    }
    ckt_fx_finish(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(reference_flow_end_to_end, teardown),
        cmocka_unit_test_teardown(every_action_twice, teardown),
        cmocka_unit_test_teardown(payment_change_after_authorization, teardown),
        cmocka_unit_test_teardown(actions_race_place_order, teardown),
        cmocka_unit_test_teardown(stale_tab_and_rewind, teardown),
        cmocka_unit_test_teardown(rewind_releases_credit, teardown),
        cmocka_unit_test_teardown(crash_after_payment, teardown),
        cmocka_unit_test_teardown(crash_after_tax, teardown),
        cmocka_unit_test_teardown(lua_step_before_payment, teardown),
        cmocka_unit_test_teardown(flow_without_tax, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
