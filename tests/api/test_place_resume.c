/* test_place_resume.c: a checkout session between placements (API.md
 * "Checkout session and the checkout transaction", "The payment gateways"):
 * PATCH of the checkout inputs with its version and rewind rules; abandoning
 * a session that holds an authorization; resuming after a transient
 * failure without a second hold; and what becomes of a hold when the inputs
 * change, the stock is gone at create_order, the gateway approves only part,
 * or the hold died behind the session's back (all through the fake HTTP
 * gateway). Every case checks the answer and what the database holds
 * afterwards. */
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
/* A response whose assertions may fail (the teardown frees it then). */
static ckt_resp HELD;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F);
    ckt_free(&HELD);
    return 0;
}

/* ------------------------------------------------------------------ cases */

/* The shop on the fake gateway with these faults, and a checkout (3 x a
 * default product, paid by card) placed once: authorized at the gateway,
 * then create_order fails, 500 INTERNAL_ERROR. */
static void hold_then_fail_at_create_order(ckt_fx *f, const char *faults, po_co *c)
{
    po_fx_setup(f, faults, 1);
    po_co_make(f, c, NULL, 3);
    po_set_inputs(f, c->sid, ADDR_US, f->shm, PAY_CARD("tok_visa"));
    ckt_resp r = ckt_place(f, c->sid);
    po_expect_step_error(&r, 500, "INTERNAL_ERROR", "create_order");
    ckt_free(&r);
}

/* The session's inputsVersion, lastSuccessfulStep ("" for null), state and
 * inputs text, straight from the database. */
static void expect_db_session(ckt_fx *f, const char *sid, long long version, const char *last, const char *st)
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
static void patch_rejected(ckt_fx *f, const char *sid, const char *body, const char *reason, const char *field)
{
    long long v = ckt_db_int(&f->d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", sid);
    long long n0 = ckt_db_int(&f->d, "SELECT length(inputs) FROM checkout_sessions WHERE id = '%s'", sid);
    HELD = po_patch(f, sid, f->bkey, body);
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
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
    ckt_daemon *d = &f->d;
    char path[1024], shm2[64];
    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods", f->store);
    ckt_resp r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, "{\"name\":\"Air\",\"flatFee\":2500,\"perKgFee\":0}", NULL);
    ckt_expect_status(&r, 201);
    snprintf(shm2, sizeof(shm2), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);

    po_co c;
    po_co_make(f, &c, NULL, 3);
    /* Before any step: the version counts, nothing to rewind. */
    po_set_inputs(f, c.sid, ADDR_US, NULL, NULL);
    expect_db_session(f, c.sid, 1, "", "Start");
    po_set_inputs(f, c.sid, NULL, f->shm, PAY_CARD("tok_decline"));
    expect_db_session(f, c.sid, 2, "", "Start");
    r = po_patch(f, c.sid, f->bkey, "{\"shippingMethodId\":\"" UNKNOWN_SHM "\"}");
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "shippingMethodId");
    ckt_free(&r);

    /* Through business_rules, declined at payment. */
    po_place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    expect_db_session(f, c.sid, 2, "business_rules", "payment");

    /* Identical values: no new version, no rewind. */
    char body[2048];
    snprintf(body, sizeof(body), "{\"shippingAddress\":%s,\"shippingMethodId\":\"%s\",\"payment\":%s}", ADDR_US,
             f->shm, PAY_CARD("tok_decline"));
    r = po_patch(f, c.sid, f->bkey, body);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), 2);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "business_rules");
    ckt_free(&r);
    expect_db_session(f, c.sid, 2, "business_rules", "payment");

    /* A new address: rewound to before shipping, the first step that reads it. */
    r = po_patch(f, c.sid, f->bkey, "{\"shippingAddress\":" ADDR_US2 "}");
    ckt_expect_status(&r, 200);
    ckt_expect_keys(r.json, po_session_keys);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), 3);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "pricing");
    assert_string_equal(ckt_str(r.json, "state"), "shipping");
    assert_true(json_is_false(ckt_get(r.json, "isError")));
    assert_string_equal(ckt_str(r.json, "inputs.shippingAddress.city"), "Shelbyville");
    ckt_free(&r);
    expect_db_session(f, c.sid, 3, "pricing", "shipping");
    /* A payment change now rewinds nothing further back (business_rules is after pricing). */
    r = po_patch(f, c.sid, f->bkey, "{\"payment\":" PAY_CARD("tok_decline2") "}");
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), 4);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "pricing");
    assert_string_equal(ckt_str(r.json, "state"), "shipping");
    ckt_free(&r);
    po_set_inputs(f, c.sid, NULL, NULL, PAY_CARD("tok_decline"));
    expect_db_session(f, c.sid, 5, "pricing", "shipping");

    /* Declined again: the run resumed at shipping, and committed through business_rules. */
    po_place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    expect_db_session(f, c.sid, 5, "business_rules", "payment");

    /* A new shipping method: also back to before shipping; the totals follow on the next run. */
    snprintf(body, sizeof(body), "{\"shippingMethodId\":\"%s\"}", shm2);
    r = po_patch(f, c.sid, f->bkey, body);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), 6);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "pricing");
    assert_string_equal(ckt_str(r.json, "state"), "shipping");
    ckt_free(&r);
    po_place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
    json_t *s = po_get_session(f, c.sid);
    /* 5997 + 2500 + 495 */
    po_expect_totals(ckt_get(s, "totals"), 5997, 0, 2500, 495, 8992);
    json_decref(s);

    /* A new card: back to before business_rules, the first step that reads the payment. */
    r = po_patch(f, c.sid, f->bkey, "{\"payment\":" PAY_CARD("tok_decline2") "}");
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), 7);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "tax");
    assert_string_equal(ckt_str(r.json, "state"), "business_rules");
    ckt_free(&r);
    po_set_inputs(f, c.sid, NULL, NULL, PAY_CARD("tok_decline"));
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
    r = po_patch(f, c.sid, f->bkey, "{\"payment\":" PAY_CARD("tok_visa") "}");
    ckt_expect_error(&r, 400, "BAD_REQUEST", "CART_ALREADY_IN_PROGRESS", NULL);
    ckt_free(&r);
    r = ckt_place(f, c.sid);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "CART_ALREADY_IN_PROGRESS", NULL);
    ckt_free(&r);
    s = po_get_session(f, c.sid);
    assert_true(json_is_true(ckt_get(s, "isProcessing")));
    json_decref(s);
    expect_db_session(f, c.sid, 8, "tax", "business_rules");
    ckt_db_exec(d, "UPDATE checkout_sessions SET lease_owner = NULL, lease_expires_at = 0 WHERE id = '%s'", c.sid);

    /* Completed: PATCH is 409 SESSION_COMPLETED and changes nothing. */
    po_set_inputs(f, c.sid, NULL, NULL, PAY_CARD("tok_visa"));
    po_place_ok(f, c.sid, NULL);
    long long v = ckt_db_int(d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", c.sid);
    r = po_patch(f, c.sid, f->bkey, "{\"shippingAddress\":" ADDR_US "}");
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

/* 5b. A detail of another payment method is refused with its field named by
 * its path, like every other nested field ("payment.method",
 * "shippingAddress.country"); the message already says "payment.poNumber". */
static void patch_payment_detail_field(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 0);
    po_co c;
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US2, f->shm, PAY_CARD("tok_decline"));
    patch_rejected(f, c.sid, "{\"payment\":{\"method\":\"card\",\"cardToken\":\"tok_visa\",\"poNumber\":\"P1\"}}",
                   "INVALID_FIELD", "payment.poNumber");
    patch_rejected(f, c.sid, "{\"payment\":{\"method\":\"purchase_order\",\"cardToken\":\"tok_visa\"}}",
                   "INVALID_FIELD", "payment.cardToken");
    ckt_fx_finish(f);
}

/* 7. Abandon a session that holds an authorization. */
static void abandon_voids_hold(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    ckt_daemon *d = &f->d;
    po_co c;
    /* Authorized at the gateway, then create_order fails: 500, resumable, the hold kept. */
    hold_then_fail_at_create_order(f, "step.fail:create_order", &c);
    po_expect_failed_session(f, &c, "INTERNAL_ERROR", "create_order", "payment", 1);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Authorized' AND amount = 7692 AND gateway = 'http'",
                                c.sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 100);

    /* Abandon: archived, cart Active, the hold voided at the gateway. */
    char path[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", c.sid);
    ckt_resp r = ckt_http(d, "DELETE", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_expect_keys(r.json, po_session_keys);
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
    r = po_patch(f, c.sid, f->bkey, "{\"shippingAddress\":" ADDR_US2 "}");
    ckt_expect_error(&r, 409, "CONFLICT", "SESSION_ARCHIVED", NULL);
    ckt_free(&r);
    r = ckt_place(f, c.sid);
    ckt_expect_error(&r, 409, "CONFLICT", "SESSION_ARCHIVED", NULL);
    ckt_free(&r);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);

    /* The cart is editable again and a new session starts for it. */
    char prod2[64];
    po_product(f, 500, 10, 1, NULL, 0, 0, prod2);
    po_add_item(f, c.cart, prod2, 1, NULL);
    char sid2[64];
    po_new_session(f, c.cart, sid2);
    assert_string_not_equal(sid2, c.sid);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE cart_id = '%s'", c.cart), 2);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Checkout'", c.cart), 1);
    ckt_fx_finish(f);
}

/* 7b. A transient failure after payment resumes without a second hold. */
static void resume_after_transient_failure(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    ckt_daemon *d = &f->d;
    po_co c;
    hold_then_fail_at_create_order(f, "step.fail:create_order*1", &c);
    char oid[64];
    po_place_ok(f, c.sid, oid);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    assert_int_equal(fgw_voids(f->gw), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE order_id = '%s'"
                                   " AND status = 'Authorized' AND amount = 7692",
                                oid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 97);
    json_t *s = po_get_session(f, c.sid);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    assert_true(json_is_false(ckt_get(s, "isError")));
    assert_int_equal(json_array_size(ckt_get(s, "errors")), 1);
    json_decref(s);
    ckt_fx_finish(f);
}

/* 7c. Inputs changed after a hold was made: the next run authorizes under
 * the new inputsVersion and voids the earlier hold; the order carries one
 * Authorized authorization. */
static void changed_inputs_after_hold(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    ckt_daemon *d = &f->d;
    po_co c;
    hold_then_fail_at_create_order(f, "step.fail:create_order*1", &c);
    assert_int_equal(fgw_holds(f->gw), 1);
    po_set_inputs(f, c.sid, ADDR_US2, NULL, NULL);
    expect_db_session(f, c.sid, 2, "pricing", "shipping");
    char oid[64];
    po_place_ok(f, c.sid, oid);
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
    ckt_fx *f = &F;
    ckt_daemon *d = &f->d;
    po_co c;
    hold_then_fail_at_create_order(f, "step.fail:create_order*1", &c);
    ckt_db_exec(d, "UPDATE payment_authorizations SET status = 'Voided' WHERE session_id = '%s'", c.sid);
    long long version = ckt_db_int(d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", c.sid);
    ckt_resp r = ckt_place(f, c.sid);
    po_expect_step_error(&r, 500, "PAYMENT_GATEWAY_ERROR", "create_order");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 0);
    po_expect_failed_session(f, &c, "PAYMENT_GATEWAY_ERROR", "create_order", "business_rules", 2);
    assert_int_equal(ckt_db_int(d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", c.sid),
                     version + 1);
    char oid[64];
    po_place_ok(f, c.sid, oid);
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
    ckt_fx *f = &F;
    po_fx_setup(f, NULL, 1);
    ckt_daemon *d = &f->d;
    po_co c;
    po_co_make(f, &c, NULL, 3);
    po_set_inputs(f, c.sid, ADDR_US, f->shm, PAY_CARD("tok_partial"));
    po_place_fails(f, &c, 400, "PAYMENT_DECLINED", "payment");
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
    ckt_fx *f = &F;
    ckt_daemon *d = &f->d;
    po_co c;
    hold_then_fail_at_create_order(f, "step.fail:create_order*1", &c);
    assert_int_equal(fgw_holds(f->gw), 1);

    /* Another order took the stock meanwhile. */
    long long version = ckt_db_int(d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", c.sid);
    ckt_db_exec(d, "UPDATE products SET stock = 2 WHERE id = '%s'", c.prod);
    po_place_fails(f, &c, 400, "INSUFFICIENT_INVENTORY", "create_order");
    /* The hold was voided, so the payment is undone: the session resumes at
     * payment, under a new inputsVersion and so a new idempotency key. */
    po_expect_failed_session(f, &c, "INSUFFICIENT_INVENTORY", "create_order", "business_rules", 2);
    assert_int_equal(ckt_db_int(d, "SELECT inputs_version FROM checkout_sessions WHERE id = '%s'", c.sid),
                     version + 1);
    po_expect_cvo(f, &c, c.item, "Inventory");
    assert_int_equal(fgw_voids(f->gw), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Voided'",
                                c.sid),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE status = 'Authorized'"), 0);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", c.prod), 2);

    /* Restocked: placing again gives an order backed by a live hold. */
    ckt_db_exec(d, "UPDATE products SET stock = 100 WHERE id = '%s'", c.prod);
    ckt_resp r = ckt_place(f, c.sid);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(patch_rules, teardown),
        cmocka_unit_test_teardown(patch_payment_detail_field, teardown),
        cmocka_unit_test_teardown(abandon_voids_hold, teardown),
        cmocka_unit_test_teardown(resume_after_transient_failure, teardown),
        cmocka_unit_test_teardown(changed_inputs_after_hold, teardown),
        cmocka_unit_test_teardown(stock_gone_at_create_order, teardown),
        cmocka_unit_test_teardown(partial_approval_is_declined, teardown),
        cmocka_unit_test_teardown(no_order_on_dead_hold, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
