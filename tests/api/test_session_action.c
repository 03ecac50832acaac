/* test_session_action.c: the checkout session action (API.md "Checkout
 * session action"): POST /v1/actions/standard/checkoutSessionAction and its
 * resource form POST /v1/checkouts, the error table and its order, the
 * effects of a success (one transaction), get or create under concurrency,
 * bulk inputs, the session.create fault point, the session and request
 * views, and the SQLite start-up lease release. */
#include "api/fixtures.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ACTION "/v1/actions/standard/checkoutSessionAction"
#define UNKNOWN_CART "cart_01M80V5EQG4YHAXXJRNX68ZH9P"

/* ---------------------------------------------------------------- helpers */

typedef struct fx {
    CKT_FX_BASE;
    char cart[64], item[64];
} fx;

/* One fixture at a time, static so that the teardown can stop the daemon of
 * a test that failed half-way (cmocka leaves the test by longjmp). */
static fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F.base);
    memset(&F, 0, sizeof(F));
    return 0;
}

static void new_cart(ckt_daemon *d, const char *store, const char *acct, const char *key, char out[64])
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/stores/%s/carts", store);
    ckt_resp r = ckt_httpf(d, "POST", path, key, "{\"accountId\":\"%s\"}", acct);
    ckt_expect_status(&r, 201);
    assert_string_equal(ckt_str(r.json, "status"), "Active");
    snprintf(out, 64, "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
}

/* A CVO written by the admin; returns its id in out. */
static void add_cvo(ckt_daemon *d, const char *cart, const char *related, const char *level, char out[64])
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/carts/%s/validation-outputs", cart);
    ckt_resp r = ckt_httpf(d, "POST", path, CKT_ADMIN_KEY,
                           "{\"relatedEntityId\":\"%s\",\"type\":\"Other\",\"level\":\"%s\",\"message\":\"m\"}",
                           related, level);
    ckt_expect_status(&r, 201);
    snprintf(out, 64, "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
}

/* Store, buyer account (member of the store), buyer user given the account,
 * a product, an Active cart of the buyer's with one item. */
static void fx_setup(fx *f, const char *faults)
{
    memset(f, 0, sizeof(*f));
    ckt_fx_opts o = {.faults = faults, .no_shipping_tax = 1, .default_product = 1};
    ckt_fx_setup(&f->base, &o);
    new_cart(&f->d, f->store, f->acct, f->bkey, f->cart);
    ckt_cart_item(&f->d, f->bkey, f->cart, f->prod, 2, f->item);
}

/* POST the action with one input whose cartId is the raw JSON text cart_json
 * (NULL: an input without cartId). */
static ckt_resp action1(ckt_daemon *d, const char *key, const char *cart_json)
{
    if (!cart_json)
        return ckt_http(d, "POST", ACTION, key, "{\"inputs\":[{}]}", NULL);
    return ckt_httpf(d, "POST", ACTION, key, "{\"inputs\":[{\"cartId\":%s}]}", cart_json);
}

static ckt_resp action_cart(ckt_daemon *d, const char *key, const char *cart_id)
{
    return ckt_httpf(d, "POST", ACTION, key, "{\"inputs\":[{\"cartId\":\"%s\"}]}", cart_id);
}

static ckt_resp checkouts_cart(ckt_daemon *d, const char *key, const char *cart_id)
{
    return ckt_httpf(d, "POST", "/v1/checkouts", key, "{\"cartId\":\"%s\"}", cart_id);
}

/* Result i of an action reply is a failure with this statusCode and reason. */
static void expect_result_fail(const ckt_resp *r, size_t i, const char *status_code, const char *reason)
{
    json_t *res = json_array_get(r->json, i);
    static const char *const keys[] = {"actionName", "isSuccess", "outputValues", "errors", NULL};
    if (!json_is_object(res))
        fprintf(stderr, "no result %zu in %s\n", i, r->body);
    ckt_expect_keys(res, keys);
    assert_string_equal(ckt_str(res, "actionName"), "checkoutSessionAction");
    assert_true(json_is_false(json_object_get(res, "isSuccess")));
    assert_true(json_is_null(json_object_get(res, "outputValues")));
    json_t *errs = json_object_get(res, "errors");
    assert_true(json_is_array(errs));
    assert_int_equal(json_array_size(errs), 1);
    const char *sc = ckt_str(res, "errors.0.statusCode"), *re = ckt_str(res, "errors.0.reason");
    if (strcmp(sc, status_code) || strcmp(re, reason))
        fprintf(stderr, "result %zu: expected %s/%s, got %s\n", i, status_code, reason, r->body);
    assert_string_equal(sc, status_code);
    assert_string_equal(re, reason);
    assert_true(strlen(ckt_str(res, "errors.0.message")) > 0);
}

/* Result i is a success; its requestId goes to req_out (may be NULL). */
static void expect_result_ok(const ckt_resp *r, size_t i, char req_out[64])
{
    json_t *res = json_array_get(r->json, i);
    static const char *const keys[] = {"actionName", "isSuccess", "outputValues", "errors", NULL};
    if (!json_is_object(res) || !json_is_true(json_object_get(res, "isSuccess")))
        fprintf(stderr, "result %zu is not a success: %s\n", i, r->body);
    ckt_expect_keys(res, keys);
    assert_string_equal(ckt_str(res, "actionName"), "checkoutSessionAction");
    assert_true(json_is_true(json_object_get(res, "isSuccess")));
    static const char *const ov[] = {"requestId", NULL};
    ckt_expect_keys(json_object_get(res, "outputValues"), ov);
    const char *rid = ckt_str(res, "outputValues.requestId");
    assert_true(strncmp(rid, "req_", 4) == 0);
    assert_true(json_is_array(json_object_get(res, "errors")));
    assert_int_equal(json_array_size(json_object_get(res, "errors")), 0);
    if (req_out)
        snprintf(req_out, 64, "%s", rid);
}

/* A one-input action call that fails with this row of the table. */
static void expect_action_fail(ckt_daemon *d, const char *key, const char *cart_json, long http,
                               const char *status_code, const char *reason)
{
    ckt_resp r = action1(d, key, cart_json);
    ckt_expect_status(&r, http);
    assert_true(json_is_array(r.json));
    assert_int_equal(json_array_size(r.json), 1);
    expect_result_fail(&r, 0, status_code, reason);
    ckt_free(&r);
}

/* The same condition through POST /v1/checkouts: the REST envelope. */
static void expect_checkouts_fail(ckt_daemon *d, const char *key, const char *cart_json, long http,
                                  const char *status_code, const char *reason)
{
    ckt_resp r = cart_json ? ckt_httpf(d, "POST", "/v1/checkouts", key, "{\"cartId\":%s}", cart_json)
                           : ckt_http(d, "POST", "/v1/checkouts", key, "{}", NULL);
    ckt_expect_error(&r, http, status_code, reason, NULL);
    ckt_free(&r);
}

static void expect_both_fail(ckt_daemon *d, const char *key, const char *cart_json, long http,
                             const char *status_code, const char *reason)
{
    expect_action_fail(d, key, cart_json, http, status_code, reason);
    expect_checkouts_fail(d, key, cart_json, http, status_code, reason);
}

/* Session id of a request, through GET /v1/requests/{id} as the admin. */
static void session_of(ckt_daemon *d, const char *req_id, char out[64])
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/requests/%s", req_id);
    ckt_resp r = ckt_http(d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    snprintf(out, 64, "%s", ckt_str(r.json, "sessionId"));
    ckt_free(&r);
}

static int64_t live_sessions(ckt_daemon *d, const char *cart)
{
    return ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE cart_id = '%s' AND is_archived = 0", cart);
}

static int64_t cart_status_is(ckt_daemon *d, const char *cart, const char *status)
{
    return ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = '%s'", cart, status);
}

static int64_t requests(ckt_daemon *d)
{
    return ckt_db_int(d, "SELECT count(*) FROM checkout_requests");
}

static int64_t cvo_exists(ckt_daemon *d, const char *id)
{
    return ckt_db_int(d, "SELECT count(*) FROM cart_validation_outputs WHERE id = '%s'", id);
}

static void hold_lease(ckt_daemon *d, const char *sid)
{
    ckt_db_exec(d, "UPDATE checkout_sessions SET lease_owner = 'node_other', lease_expires_at = %lld WHERE id = '%s'",
                ckt_now_ms() + 600000, sid);
}

/* Runs the action once for the fixture cart and returns the session id. */
static void start_session(fx *f, char sid[64])
{
    ckt_resp r = action_cart(&f->d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    char rid[64];
    expect_result_ok(&r, 0, rid);
    ckt_free(&r);
    session_of(&f->d, rid, sid);
}

/* ------------------------------------------------------------------ tests */

static void success_effects(void **state)
{
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    char other_cart[64], cvo_err[64], cvo_warn[64], cvo_item[64], cvo_info[64], cvo_other[64];
    new_cart(d, f->store, f->acct, f->bkey, other_cart);
    add_cvo(d, f->cart, f->cart, "Error", cvo_err);
    add_cvo(d, f->cart, f->cart, "Warning", cvo_warn);
    add_cvo(d, f->cart, f->item, "Error", cvo_item);
    add_cvo(d, f->cart, f->cart, "Info", cvo_info);
    add_cvo(d, other_cart, other_cart, "Error", cvo_other);

    ckt_resp r = action_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    assert_true(json_is_array(r.json));
    assert_int_equal(json_array_size(r.json), 1);
    char rid[64];
    expect_result_ok(&r, 0, rid);
    ckt_free(&r);

    /* The cart is in Checkout, with exactly one live session. */
    assert_int_equal(cart_status_is(d, f->cart, "Checkout"), 1);
    assert_int_equal(live_sessions(d, f->cart), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions"), 1);
    char sid[64];
    session_of(d, rid, sid);
    assert_true(strncmp(sid, "cs_", 3) == 0);
    assert_int_equal(ckt_db_int(d,
                                "SELECT count(*) FROM checkout_sessions WHERE id = '%s' AND cart_id = '%s'"
                                " AND buyer_id = '%s' AND account_id = '%s' AND store_id = '%s'"
                                " AND flow_id = 'flow_standard' AND flow_version = 1 AND state = 'Start'"
                                " AND last_successful_step IS NULL AND lease_owner IS NULL AND is_error = 0"
                                " AND is_archived = 0 AND order_id IS NULL",
                                sid, f->cart, f->buyer, f->acct, f->store),
                     1);
    /* One request row, Succeeded, naming the session. */
    assert_int_equal(requests(d), 1);
    assert_int_equal(ckt_db_int(d,
                                "SELECT count(*) FROM checkout_requests WHERE id = '%s' AND kind = 'CheckoutSession'"
                                " AND status = 'Succeeded' AND session_id = '%s' AND user_id = '%s'"
                                " AND order_id IS NULL AND completed_at IS NOT NULL",
                                rid, sid, f->buyer),
                     1);
    /* Only the cart-level Error CVO is gone. */
    assert_int_equal(cvo_exists(d, cvo_err), 0);
    assert_int_equal(cvo_exists(d, cvo_warn), 1);
    assert_int_equal(cvo_exists(d, cvo_item), 1);
    assert_int_equal(cvo_exists(d, cvo_info), 1);
    assert_int_equal(cvo_exists(d, cvo_other), 1);
    char path[1024];
    snprintf(path, sizeof(path), "/v1/carts/%s/validation-outputs", f->cart);
    r = ckt_http(d, "GET", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 3);
    ckt_free(&r);
    /* The other cart is untouched. */
    assert_int_equal(cart_status_is(d, other_cart, "Active"), 1);
    assert_int_equal(live_sessions(d, other_cart), 0);

    /* The API shows the new status, and item edits are refused. */
    snprintf(path, sizeof(path), "/v1/carts/%s", f->cart);
    r = ckt_http(d, "GET", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "status"), "Checkout");
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/carts/%s/items", f->cart);
    r = ckt_httpf(d, "POST", path, f->bkey, "{\"productId\":\"%s\",\"quantity\":1}", f->prod);
    ckt_expect_error(&r, 409, "CONFLICT", "CART_NOT_EDITABLE", NULL);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/carts/%s/items/%s", f->cart, f->item);
    r = ckt_http(d, "PATCH", path, f->bkey, "{\"quantity\":5}", NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "CART_NOT_EDITABLE", NULL);
    ckt_free(&r);
    r = ckt_http(d, "DELETE", path, f->bkey, NULL, NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "CART_NOT_EDITABLE", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT quantity FROM cart_items WHERE id = '%s'", f->item), 2);
    ckt_finish(d);
}

static void get_or_create(void **state)
{
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    ckt_resp r = checkouts_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 201);
    char sid[64], rid1[64];
    snprintf(sid, sizeof(sid), "%s", ckt_str(r.json, "session.id"));
    snprintf(rid1, sizeof(rid1), "%s", ckt_str(r.json, "requestId"));
    static const char *const top[] = {"requestId", "session", NULL};
    ckt_expect_keys(r.json, top);
    assert_true(strncmp(rid1, "req_", 4) == 0);
    assert_string_equal(ckt_str(r.json, "session.cartId"), f->cart);
    assert_string_equal(ckt_str(r.json, "session.state"), "Start");
    ckt_free(&r);

    /* A cart-level Error written while in Checkout is cleared by the "get" path too. */
    char cvo[64];
    add_cvo(d, f->cart, f->cart, "Error", cvo);

    r = checkouts_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "session.id"), sid);
    assert_string_not_equal(ckt_str(r.json, "requestId"), rid1);
    ckt_free(&r);
    assert_int_equal(cvo_exists(d, cvo), 0);

    /* The action form returns the same session. */
    r = action_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    char rid3[64], sid3[64];
    expect_result_ok(&r, 0, rid3);
    ckt_free(&r);
    session_of(d, rid3, sid3);
    assert_string_equal(sid3, sid);
    assert_int_equal(live_sessions(d, f->cart), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_requests WHERE session_id = '%s'"
                                   " AND status = 'Succeeded' AND kind = 'CheckoutSession'", sid),
                     3);
    assert_int_equal(cart_status_is(d, f->cart, "Checkout"), 1);

    /* An archived session does not count: a new one is created. */
    ckt_db_exec(d, "UPDATE checkout_sessions SET is_archived = 1 WHERE id = '%s'", sid);
    r = checkouts_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 201);
    assert_string_not_equal(ckt_str(r.json, "session.id"), sid);
    assert_true(json_is_false(ckt_get(r.json, "session.isArchived")));
    ckt_free(&r);
    assert_int_equal(live_sessions(d, f->cart), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE cart_id = '%s'", f->cart), 2);

    /* Idempotency-Key on the action: the first reply is replayed, nothing new is written. */
    const char *hdr[] = {"Idempotency-Key: sess-action-1", NULL};
    char body[1024];
    snprintf(body, sizeof(body), "{\"inputs\":[{\"cartId\":\"%s\"}]}", f->cart);
    r = ckt_http(d, "POST", ACTION, f->bkey, body, hdr);
    ckt_expect_status(&r, 200);
    char rid_a[64];
    expect_result_ok(&r, 0, rid_a);
    ckt_free(&r);
    int64_t before = requests(d);
    r = ckt_http(d, "POST", ACTION, f->bkey, body, hdr);
    ckt_expect_status(&r, 200);
    char rid_b[64], replayed[16] = "";
    expect_result_ok(&r, 0, rid_b);
    assert_string_equal(rid_a, rid_b);
    assert_true(ckt_header(&r, "Idempotent-Replayed", replayed, sizeof(replayed)));
    assert_string_equal(replayed, "true");
    ckt_free(&r);
    assert_int_equal(requests(d), before);
    ckt_finish(d);
}

static void session_and_request_views(void **state)
{
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    ckt_resp c = checkouts_cart(d, f->bkey, f->cart);
    ckt_expect_status(&c, 201);
    char sid[64], rid[64], path[1024], rpath[1024];
    snprintf(sid, sizeof(sid), "%s", ckt_str(c.json, "session.id"));
    snprintf(rid, sizeof(rid), "%s", ckt_str(c.json, "requestId"));
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    snprintf(rpath, sizeof(rpath), "/v1/requests/%s", rid);

    ckt_resp r = ckt_http(d, "GET", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    static const char *const keys[] = {"id", "cartId", "buyerId", "accountId", "storeId", "flowId", "flowVersion",
                                       "state", "nextState", "lastSuccessfulStep", "isProcessing", "isError",
                                       "isArchived", "orderId", "inputsVersion", "inputs", "totals", "errors",
                                       "createdAt", "updatedAt", NULL};
    ckt_expect_keys(r.json, keys);
    static const char *const inputs[] = {"shippingAddress", "shippingMethodId", "payment", NULL};
    ckt_expect_keys(json_object_get(r.json, "inputs"), inputs);
    static const char *const totals[] = {"subtotal", "adjustments", "shipping", "tax", "grandTotal", NULL};
    ckt_expect_keys(json_object_get(r.json, "totals"), totals);
    for (int i = 0; totals[i]; i++) {
        char p[64];
        snprintf(p, sizeof(p), "totals.%s", totals[i]);
        (void)ckt_int(r.json, p);
    }
    assert_string_equal(ckt_str(r.json, "id"), sid);
    assert_string_equal(ckt_str(r.json, "cartId"), f->cart);
    assert_string_equal(ckt_str(r.json, "buyerId"), f->buyer);
    assert_string_equal(ckt_str(r.json, "accountId"), f->acct);
    assert_string_equal(ckt_str(r.json, "storeId"), f->store);
    assert_string_equal(ckt_str(r.json, "flowId"), "flow_standard");
    assert_int_equal(ckt_int(r.json, "flowVersion"), 1);
    assert_string_equal(ckt_str(r.json, "state"), "Start");
    assert_string_equal(ckt_str(r.json, "nextState"), "validate_cart");
    assert_true(json_is_null(json_object_get(r.json, "lastSuccessfulStep")));
    assert_true(json_is_false(json_object_get(r.json, "isProcessing")));
    assert_true(json_is_false(json_object_get(r.json, "isError")));
    assert_true(json_is_false(json_object_get(r.json, "isArchived")));
    assert_true(json_is_null(json_object_get(r.json, "orderId")));
    assert_int_equal(ckt_int(r.json, "inputsVersion"), 0);
    assert_true(json_is_array(json_object_get(r.json, "errors")));
    assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 0);
    ckt_expect_time(r.json, "createdAt");
    ckt_expect_time(r.json, "updatedAt");
    /* POST /v1/checkouts answered with the same view. */
    assert_true(json_equal(r.json, json_object_get(c.json, "session")));
    ckt_free(&r);
    ckt_free(&c);

    r = ckt_http(d, "GET", rpath, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    static const char *const rkeys[] = {"id", "kind", "status", "sessionId", "orderId",
                                        "errors", "createdAt", "completedAt", NULL};
    ckt_expect_keys(r.json, rkeys);
    assert_string_equal(ckt_str(r.json, "id"), rid);
    assert_string_equal(ckt_str(r.json, "kind"), "CheckoutSession");
    assert_string_equal(ckt_str(r.json, "status"), "Succeeded");
    assert_string_equal(ckt_str(r.json, "sessionId"), sid);
    assert_true(json_is_null(json_object_get(r.json, "orderId")));
    assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 0);
    ckt_expect_time(r.json, "createdAt");
    ckt_expect_time(r.json, "completedAt");
    ckt_free(&r);

    /* Admin: both visible. */
    r = ckt_http(d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    r = ckt_http(d, "GET", rpath, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);

    /* A buyer who was not given the account: 404 on both. */
    char foreign[64], fkey[128];
    ckt_user(d, "[\"buyer\"]", foreign, fkey);
    r = ckt_http(d, "GET", path, fkey, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(d, "GET", rpath, fkey, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);

    /* A second buyer of the same account sees the session, not the request. */
    char mate[64], mkey[128];
    ckt_user(d, "[\"buyer\"]", mate, mkey);
    ckt_give_account(d, mate, f->acct);
    r = ckt_http(d, "GET", path, mkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    r = ckt_http(d, "GET", rpath, mkey, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);

    /* An integrator sees any buyer account's session, but not others' requests. */
    char integ[64], ikey[128];
    ckt_user(d, "[\"integrator\"]", integ, ikey);
    r = ckt_http(d, "GET", path, ikey, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    r = ckt_http(d, "GET", rpath, ikey, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);

    /* A held lease shows as isProcessing. */
    hold_lease(d, sid);
    r = ckt_http(d, "GET", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "isProcessing")));
    ckt_free(&r);

    /* Unknown ids. */
    r = ckt_http(d, "GET", "/v1/checkouts/cs_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(d, "GET", "/v1/requests/req_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(d, "GET", path, NULL, NULL, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    r = ckt_http(d, "GET", rpath, NULL, NULL, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    ckt_finish(d);
}

static void row_cannot_invoke(void **state)
{
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    char uid[64], approver[128], fulfil[128], both[128], q[256];
    ckt_user(d, "[\"approver\"]", uid, approver);
    ckt_give_account(d, uid, f->acct);
    ckt_user(d, "[\"fulfillment\"]", uid, fulfil);
    ckt_user(d, "[\"approver\",\"fulfillment\"]", uid, both);
    snprintf(q, sizeof(q), "\"%s\"", f->cart);
    const char *keys[] = {approver, fulfil, both};
    for (int i = 0; i < 3; i++) {
        expect_both_fail(d, keys[i], q, 400, "BAD_REQUEST", "CANNOT_INVOKE_ACTION");
        /* Before the cart is looked at: an unknown, a malformed and a missing cart id. */
        expect_both_fail(d, keys[i], "\"" UNKNOWN_CART "\"", 400, "BAD_REQUEST", "CANNOT_INVOKE_ACTION");
        expect_both_fail(d, keys[i], "\"cart_x\"", 400, "BAD_REQUEST", "CANNOT_INVOKE_ACTION");
        expect_both_fail(d, keys[i], NULL, 400, "BAD_REQUEST", "CANNOT_INVOKE_ACTION");
    }
    assert_int_equal(requests(d), 0);
    assert_int_equal(cart_status_is(d, f->cart, "Active"), 1);
    assert_int_equal(live_sessions(d, f->cart), 0);

    /* buyer, integrator and admin may invoke it; an integrator needs no account access. */
    char integ[64], ikey[128], c2[64], c3[64];
    ckt_user(d, "[\"integrator\"]", integ, ikey);
    new_cart(d, f->store, f->acct, ikey, c2);
    new_cart(d, f->store, f->acct, CKT_ADMIN_KEY, c3);
    ckt_resp r = action_cart(d, ikey, c2);
    ckt_expect_status(&r, 200);
    expect_result_ok(&r, 0, NULL);
    ckt_free(&r);
    r = action_cart(d, CKT_ADMIN_KEY, c3);
    ckt_expect_status(&r, 200);
    expect_result_ok(&r, 0, NULL);
    ckt_free(&r);
    r = action_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    expect_result_ok(&r, 0, NULL);
    ckt_free(&r);
    assert_int_equal(requests(d), 3);
    ckt_finish(d);
}

static void row_invalid_cart(void **state)
{
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    const char *bad[] = {NULL, "null", "42", "\"cart_x\"", "\"\"", "[\"" UNKNOWN_CART "\"]",
                         "\"acct_01M80V5EQG4YHAXXJRNX68ZH9P\"", "\"" UNKNOWN_CART "\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_both_fail(d, f->bkey, bad[i], 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");
        expect_both_fail(d, CKT_ADMIN_KEY, bad[i], 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");
    }
    /* The REST form names the field. */
    ckt_resp r = ckt_http(d, "POST", "/v1/checkouts", f->bkey, "{\"cartId\":\"cart_x\"}", NULL);
    ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID", "cartId");
    ckt_free(&r);

    /* A Closed cart. */
    ckt_db_exec(d, "UPDATE carts SET status = 'Closed' WHERE id = '%s'", f->cart);
    char q[256];
    snprintf(q, sizeof(q), "\"%s\"", f->cart);
    expect_both_fail(d, f->bkey, q, 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");
    expect_both_fail(d, CKT_ADMIN_KEY, q, 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");

    /* Before the account checks: a buyer without the account, an unknown or Closed cart. */
    char foreign[64], fkey[128];
    ckt_user(d, "[\"buyer\"]", foreign, fkey);
    expect_both_fail(d, fkey, "\"" UNKNOWN_CART "\"", 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");
    expect_both_fail(d, fkey, q, 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");
    /* A Closed cart of a non-buyer account whose store membership is gone. */
    char acct2[64], c2[64], path[1024];
    ckt_account(d, "{\"name\":\"Seller\",\"isBuyer\":false,\"country\":\"US\"}", acct2);
    ckt_member(d, f->store, acct2);
    new_cart(d, f->store, acct2, CKT_ADMIN_KEY, c2);
    ckt_db_exec(d, "UPDATE carts SET status = 'Closed' WHERE id = '%s'", c2);
    snprintf(path, sizeof(path), "/v1/stores/%s/members/%s", f->store, acct2);
    r = ckt_http(d, "DELETE", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 204);
    ckt_free(&r);
    snprintf(q, sizeof(q), "\"%s\"", c2);
    expect_both_fail(d, CKT_ADMIN_KEY, q, 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");

    assert_int_equal(cart_status_is(d, f->cart, "Closed"), 1);
    assert_int_equal(requests(d), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions"), 0);
    ckt_finish(d);
}

static void row_no_access(void **state)
{
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    char q[256];

    /* A buyer not given the cart's account (the cart itself exists and is fine). */
    char foreign[64], fkey[128];
    ckt_user(d, "[\"buyer\"]", foreign, fkey);
    snprintf(q, sizeof(q), "\"%s\"", f->cart);
    expect_both_fail(d, fkey, q, 400, "BAD_REQUEST", "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");
    /* ... and with a buyer+approver who has another account only. */
    char other_acct[64], multi[64], mkey[128];
    ckt_account(d, NULL, other_acct);
    ckt_user(d, "[\"buyer\",\"approver\"]", multi, mkey);
    ckt_give_account(d, multi, other_acct);
    expect_both_fail(d, mkey, q, 400, "BAD_REQUEST", "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");

    /* A non-buyer account: even the admin and an integrator get it, and a buyer given it. */
    char seller[64], c2[64], integ[64], ikey[128];
    ckt_account(d, "{\"name\":\"Seller\",\"isBuyer\":false,\"country\":\"US\"}", seller);
    ckt_member(d, f->store, seller);
    ckt_give_account(d, f->buyer, seller);
    new_cart(d, f->store, seller, CKT_ADMIN_KEY, c2);
    ckt_user(d, "[\"integrator\"]", integ, ikey);
    snprintf(q, sizeof(q), "\"%s\"", c2);
    expect_both_fail(d, CKT_ADMIN_KEY, q, 400, "BAD_REQUEST", "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");
    expect_both_fail(d, ikey, q, 400, "BAD_REQUEST", "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");
    expect_both_fail(d, f->bkey, q, 400, "BAD_REQUEST", "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");

    /* Before membership: a non-buyer account that is not a member either. */
    char path[1024];
    snprintf(path, sizeof(path), "/v1/stores/%s/members/%s", f->store, seller);
    ckt_resp r = ckt_http(d, "DELETE", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 204);
    ckt_free(&r);
    expect_both_fail(d, CKT_ADMIN_KEY, q, 400, "BAD_REQUEST", "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");
    /* ... and a buyer without the account, on a cart whose account is not a member. */
    char c3[64];
    new_cart(d, f->store, other_acct, CKT_ADMIN_KEY, c3);
    snprintf(q, sizeof(q), "\"%s\"", c3);
    expect_both_fail(d, fkey, q, 400, "BAD_REQUEST", "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");

    /* Turning isBuyer off later has the same effect on an existing cart. */
    snprintf(path, sizeof(path), "/v1/accounts/%s", f->acct);
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"isBuyer\":false}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    snprintf(q, sizeof(q), "\"%s\"", f->cart);
    expect_both_fail(d, f->bkey, q, 400, "BAD_REQUEST", "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");

    assert_int_equal(cart_status_is(d, f->cart, "Active"), 1);
    assert_int_equal(cart_status_is(d, c2, "Active"), 1);
    assert_int_equal(requests(d), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions"), 0);
    ckt_finish(d);
}

static void row_not_member_and_in_progress(void **state)
{
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    char q[256], path[1280];
    snprintf(q, sizeof(q), "\"%s\"", f->cart);

    /* A session exists and its lease is held by another node. */
    char sid[64];
    start_session(f, sid);
    hold_lease(d, sid);
    char cvo[64];
    add_cvo(d, f->cart, f->cart, "Error", cvo);
    int64_t before = requests(d);
    expect_both_fail(d, f->bkey, q, 400, "BAD_REQUEST", "CART_ALREADY_IN_PROGRESS");
    expect_both_fail(d, CKT_ADMIN_KEY, q, 400, "BAD_REQUEST", "CART_ALREADY_IN_PROGRESS");
    /* Nothing was written: no request, the CVO stays, the lease is untouched. */
    assert_int_equal(requests(d), before);
    assert_int_equal(cvo_exists(d, cvo), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s'"
                                   " AND lease_owner = 'node_other'", sid),
                     1);

    /* Membership is checked before the lease. */
    snprintf(path, sizeof(path), "/v1/stores/%s/members/%s", f->store, f->acct);
    ckt_resp r = ckt_http(d, "DELETE", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 204);
    ckt_free(&r);
    expect_both_fail(d, f->bkey, q, 400, "BAD_REQUEST", "ACCOUNT_NOT_STORE_MEMBER");
    expect_both_fail(d, CKT_ADMIN_KEY, q, 400, "BAD_REQUEST", "ACCOUNT_NOT_STORE_MEMBER");
    /* Not a member and no session at all: a fresh cart of the same account. */
    char c2[64];
    new_cart(d, f->store, f->acct, f->bkey, c2);
    snprintf(q, sizeof(q), "\"%s\"", c2);
    expect_both_fail(d, f->bkey, q, 400, "BAD_REQUEST", "ACCOUNT_NOT_STORE_MEMBER");
    assert_int_equal(cart_status_is(d, c2, "Active"), 1);
    assert_int_equal(live_sessions(d, c2), 0);
    /* A member of another store only is still not a member of this one. */
    char store2[64];
    ckt_store(d, store2);
    ckt_member(d, store2, f->acct);
    expect_both_fail(d, f->bkey, q, 400, "BAD_REQUEST", "ACCOUNT_NOT_STORE_MEMBER");
    assert_int_equal(requests(d), before);

    /* Member again: the lease is what stops it now. */
    ckt_member(d, f->store, f->acct);
    snprintf(q, sizeof(q), "\"%s\"", f->cart);
    expect_both_fail(d, f->bkey, q, 400, "BAD_REQUEST", "CART_ALREADY_IN_PROGRESS");

    /* An expired lease is not held. */
    ckt_db_exec(d, "UPDATE checkout_sessions SET lease_expires_at = %lld WHERE id = '%s'", ckt_now_ms() - 1000, sid);
    r = action_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    expect_result_ok(&r, 0, NULL);
    ckt_free(&r);
    assert_int_equal(cvo_exists(d, cvo), 0);
    /* Nor is a future expiry without an owner. */
    ckt_db_exec(d, "UPDATE checkout_sessions SET lease_owner = NULL, lease_expires_at = %lld WHERE id = '%s'",
                ckt_now_ms() + 600000, sid);
    r = checkouts_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "session.id"), sid);
    ckt_free(&r);
    assert_int_equal(requests(d), before + 2);
    ckt_finish(d);
}

static void bulk_inputs(void **state)
{
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    char b[64], c[64], e[64], g[64], foreign_cart[64], other_acct[64];
    new_cart(d, f->store, f->acct, f->bkey, b);
    new_cart(d, f->store, f->acct, f->bkey, c);
    new_cart(d, f->store, f->acct, f->bkey, e);
    new_cart(d, f->store, f->acct, f->bkey, g);
    ckt_account(d, NULL, other_acct);
    ckt_member(d, f->store, other_acct);
    new_cart(d, f->store, other_acct, CKT_ADMIN_KEY, foreign_cart);

    /* [good, malformed, good]: 500 (the first failure), results in order. */
    ckt_resp r = ckt_httpf(d, "POST", ACTION, f->bkey,
                           "{\"inputs\":[{\"cartId\":\"%s\"},{\"cartId\":\"cart_x\"},{\"cartId\":\"%s\"}]}", f->cart, b);
    ckt_expect_status(&r, 500);
    assert_int_equal(json_array_size(r.json), 3);
    char r0[64], r2[64], s0[64], s2[64];
    expect_result_ok(&r, 0, r0);
    expect_result_fail(&r, 1, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");
    expect_result_ok(&r, 2, r2);
    ckt_free(&r);
    assert_int_equal(cart_status_is(d, f->cart, "Checkout"), 1);
    assert_int_equal(cart_status_is(d, b, "Checkout"), 1);
    session_of(d, r0, s0);
    session_of(d, r2, s2);
    assert_string_not_equal(s0, s2);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s' AND cart_id = '%s'", s0,
                                f->cart),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s' AND cart_id = '%s'", s2, b),
                     1);
    assert_int_equal(requests(d), 2);

    /* The FIRST failure's status, not the worst: [good, 400, 500] is 400. */
    r = ckt_httpf(d, "POST", ACTION, f->bkey,
                  "{\"inputs\":[{\"cartId\":\"%s\"},{\"cartId\":\"%s\"},{\"cartId\":\"" UNKNOWN_CART "\"}]}", c,
                  foreign_cart);
    ckt_expect_status(&r, 400);
    assert_int_equal(json_array_size(r.json), 3);
    expect_result_ok(&r, 0, NULL);
    expect_result_fail(&r, 1, "BAD_REQUEST", "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");
    expect_result_fail(&r, 2, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");
    ckt_free(&r);
    assert_int_equal(cart_status_is(d, c, "Checkout"), 1);
    assert_int_equal(cart_status_is(d, foreign_cart, "Active"), 1);

    /* [500, 400]: 500. */
    r = ckt_httpf(d, "POST", ACTION, f->bkey, "{\"inputs\":[{},{\"cartId\":\"%s\"}]}", foreign_cart);
    ckt_expect_status(&r, 500);
    assert_int_equal(json_array_size(r.json), 2);
    expect_result_fail(&r, 0, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");
    expect_result_fail(&r, 1, "BAD_REQUEST", "NO_ACCESS_TO_EFFECTIVE_ACCOUNT");
    ckt_free(&r);

    /* All good: 200; the same cart twice gets the same session. */
    r = ckt_httpf(d, "POST", ACTION, f->bkey, "{\"inputs\":[{\"cartId\":\"%s\"},{\"cartId\":\"%s\"},{\"cartId\":\"%s\"}]}",
                  e, g, e);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(r.json), 3);
    char q0[64], q1[64], q2[64], t0[64], t1[64], t2[64];
    expect_result_ok(&r, 0, q0);
    expect_result_ok(&r, 1, q1);
    expect_result_ok(&r, 2, q2);
    ckt_free(&r);
    session_of(d, q0, t0);
    session_of(d, q1, t1);
    session_of(d, q2, t2);
    assert_string_equal(t0, t2);
    assert_string_not_equal(t0, t1);
    assert_int_equal(live_sessions(d, e), 1);
    assert_int_equal(live_sessions(d, g), 1);

    /* A permission failure is per input too. */
    char uid[64], akey[128];
    ckt_user(d, "[\"approver\"]", uid, akey);
    r = ckt_httpf(d, "POST", ACTION, akey, "{\"inputs\":[{\"cartId\":\"%s\"},{\"cartId\":\"%s\"}]}", e, g);
    ckt_expect_status(&r, 400);
    assert_int_equal(json_array_size(r.json), 2);
    expect_result_fail(&r, 0, "BAD_REQUEST", "CANNOT_INVOKE_ACTION");
    expect_result_fail(&r, 1, "BAD_REQUEST", "CANNOT_INVOKE_ACTION");
    ckt_free(&r);
    ckt_finish(d);
}

typedef struct race {
    ckt_daemon *d;
    const char *key, *cart;
    long status[50];
    char sid[50][64];
    char rid[50][64];
} race;

static void race_one(void *arg, int i)
{
    race *x = arg;
    ckt_resp r = checkouts_cart(x->d, x->key, x->cart);
    x->status[i] = r.status;
    const char *s = json_string_value(ckt_get(r.json, "session.id"));
    const char *q = json_string_value(ckt_get(r.json, "requestId"));
    snprintf(x->sid[i], 64, "%s", s ? s : "");
    snprintf(x->rid[i], 64, "%s", q ? q : "");
    if (r.status != 200 && r.status != 201)
        fprintf(stderr, "concurrent call %d: HTTP %ld %s\n", i, r.status, r.body);
    ckt_free(&r);
}

static void concurrent_get_or_create(void **state)
{
    fx *f = &F;
    fx_setup(f, NULL);
    race x;
    memset(&x, 0, sizeof(x));
    x.d = &f->d;
    x.key = f->bkey;
    x.cart = f->cart;
    ckt_parallel(50, race_one, &x);
    int created = 0;
    for (int i = 0; i < 50; i++) {
        assert_true(x.status[i] == 200 || x.status[i] == 201);
        created += x.status[i] == 201;
        assert_true(strncmp(x.sid[i], "cs_", 3) == 0);
        assert_string_equal(x.sid[i], x.sid[0]);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(x.rid[i], x.rid[j]);
    }
    assert_int_equal(created, 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM checkout_sessions"), 1);
    assert_int_equal(live_sessions(&f->d, f->cart), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM checkout_requests WHERE status = 'Succeeded'"
                                      " AND session_id = '%s'", x.sid[0]),
                     50);
    assert_int_equal(cart_status_is(&f->d, f->cart, "Checkout"), 1);
    ckt_finish(&f->d);
}

static void fault_session_create(void **state)
{
    fx *f = &F;
    fx_setup(f, "session.create");
    ckt_daemon *d = &f->d;
    char cvo[64], q[256];
    add_cvo(d, f->cart, f->cart, "Error", cvo);
    snprintf(q, sizeof(q), "\"%s\"", f->cart);
    expect_both_fail(d, f->bkey, q, 500, "UNKNOWN_EXCEPTION", "SESSION_NOT_CREATED");
    expect_both_fail(d, CKT_ADMIN_KEY, q, 500, "UNKNOWN_EXCEPTION", "SESSION_NOT_CREATED");
    /* Nothing was written. */
    assert_int_equal(cart_status_is(d, f->cart, "Active"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions"), 0);
    assert_int_equal(requests(d), 0);
    assert_int_equal(cvo_exists(d, cvo), 1);
    /* The cart is still editable. */
    ckt_cart_item(d, f->bkey, f->cart, f->prod, 1, NULL);
    /* Earlier rows of the table still come first. */
    expect_both_fail(d, f->bkey, "\"" UNKNOWN_CART "\"", 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");
    char uid[64], akey[128];
    ckt_user(d, "[\"approver\"]", uid, akey);
    expect_both_fail(d, akey, q, 400, "BAD_REQUEST", "CANNOT_INVOKE_ACTION");
    ckt_finish(d);
}

static void fault_session_create_once(void **state)
{
    fx *f = &F;
    fx_setup(f, "session.create*1");
    ckt_daemon *d = &f->d;
    char q[256];
    snprintf(q, sizeof(q), "\"%s\"", f->cart);
    /* A call that stops earlier in the table does not use the fault up. */
    expect_action_fail(d, f->bkey, "\"" UNKNOWN_CART "\"", 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID");
    expect_action_fail(d, f->bkey, q, 500, "UNKNOWN_EXCEPTION", "SESSION_NOT_CREATED");
    assert_int_equal(cart_status_is(d, f->cart, "Active"), 1);
    assert_int_equal(requests(d), 0);
    /* The retry succeeds. */
    ckt_resp r = action_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    expect_result_ok(&r, 0, NULL);
    ckt_free(&r);
    assert_int_equal(cart_status_is(d, f->cart, "Checkout"), 1);
    assert_int_equal(live_sessions(d, f->cart), 1);
    assert_int_equal(requests(d), 1);
    ckt_finish(d);
}

/* The harness turns --enable-fault-injection on whenever it sets
 * CHECKOUTD_FAULTS, so this test starts the daemon itself: the variable set,
 * the flag absent. */
static void spawn_without_flag(ckt_daemon *d, const char *faults)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "/tmp/checkoutd-test-XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->db_path, sizeof(d->db_path), "%s/checkout.db", d->dir);
    snprintf(d->log_path, sizeof(d->log_path), "%s/checkoutd.log", d->dir);
    char db_url[400];
    snprintf(db_url, sizeof(db_url), "sqlite:%s", d->db_path);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 1);
        int logfd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (logfd >= 0)
            dup2(logfd, 2);
        close(pipefd[0]);
        close(pipefd[1]);
        setenv("CHECKOUTD_ADMIN_KEY", CKT_ADMIN_KEY, 1);
        setenv("CHECKOUTD_FAULTS", faults, 1);
        execl(CHECKOUTD_BIN, CHECKOUTD_BIN, "--listen", "127.0.0.1:0", "--db", db_url, "--workers", "4",
              (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    d->pid = pid;
    char line[256] = "";
    size_t len = 0;
    struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
    for (int waited = 0; waited < 10000 && !strchr(line, '\n'); waited += 100) {
        if (poll(&pfd, 1, 100) > 0) {
            ssize_t n = read(pipefd[0], line + len, sizeof(line) - 1 - len);
            if (n <= 0)
                break;
            len += (size_t)n;
            line[len] = '\0';
        }
    }
    close(pipefd[0]);
    int port = 0;
    if (sscanf(line, "checkoutd listening on http://127.0.0.1:%d", &port) != 1 || port <= 0) {
        fprintf(stderr, "checkoutd did not start: '%s'\n", line);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        d->pid = 0;
        fail_msg("checkoutd did not start");
    }
    d->port = port;
    snprintf(d->base, sizeof(d->base), "http://127.0.0.1:%d", port);
}

static void faults_ignored_without_flag(void **state)
{
    fx *f = &F;
    memset(f, 0, sizeof(*f));
    spawn_without_flag(&f->d, "session.create");
    ckt_daemon *d = &f->d;
    ckt_store(d, f->store);
    ckt_account(d, NULL, f->acct);
    ckt_member(d, f->store, f->acct);
    ckt_user(d, "[\"buyer\"]", f->buyer, f->bkey);
    ckt_give_account(d, f->buyer, f->acct);
    new_cart(d, f->store, f->acct, f->bkey, f->cart);
    ckt_resp r = action_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    expect_result_ok(&r, 0, NULL);
    ckt_free(&r);
    assert_int_equal(cart_status_is(d, f->cart, "Checkout"), 1);
    assert_int_equal(live_sessions(d, f->cart), 1);
    ckt_finish(d);
}

/* A write that fails after others in the same action rolls them all back:
 * the request row is the action's last write. */
static void failed_write_rolls_back(void **state)
{
    if (ckt_backend_pg())
        skip(); /* the failure is made with an SQLite trigger */
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    char cvo[64], q[256];
    add_cvo(d, f->cart, f->cart, "Error", cvo);
    ckt_db_exec(d, "CREATE TRIGGER no_requests BEFORE INSERT ON checkout_requests"
                   " BEGIN SELECT RAISE(ABORT, 'test: no requests'); END");
    snprintf(q, sizeof(q), "\"%s\"", f->cart);
    expect_both_fail(d, f->bkey, q, 500, "UNKNOWN_EXCEPTION", "SESSION_NOT_CREATED");
    assert_int_equal(cart_status_is(d, f->cart, "Active"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions"), 0);
    assert_int_equal(cvo_exists(d, cvo), 1);
    assert_int_equal(requests(d), 0);
    ckt_db_exec(d, "DROP TRIGGER no_requests");
    ckt_resp r = action_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    expect_result_ok(&r, 0, NULL);
    ckt_free(&r);
    assert_int_equal(cvo_exists(d, cvo), 0);
    assert_int_equal(requests(d), 1);
    ckt_finish(d);
}

/* A storage failure while checking (not a row of the table) is the table's
 * last row, SESSION_NOT_CREATED, never a reason outside the table; and like
 * every internal 5xx it does not show the internal details (conventions.md). */
static void failed_read_is_session_not_created(void **state)
{
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    ckt_db_exec(d, "ALTER TABLE store_members RENAME TO store_members_gone");
    /* Read everything first and assert after freeing, so that a failure here
     * leaves no leak for the sanitizer build to report on top. */
    ckt_resp r = action_cart(d, f->bkey, f->cart);
    long a_status = r.status;
    char a_code[64], a_reason[64];
    snprintf(a_code, sizeof(a_code), "%s", json_string_value(ckt_get(r.json, "0.errors.0.statusCode")) ?: "");
    snprintf(a_reason, sizeof(a_reason), "%s", json_string_value(ckt_get(r.json, "0.errors.0.reason")) ?: "");
    int a_leak = strstr(r.body, "store_members") != NULL;
    fprintf(stderr, "action: HTTP %ld %s\n", r.status, r.body);
    ckt_free(&r);
    r = checkouts_cart(d, f->bkey, f->cart);
    long c_status = r.status;
    char c_code[64], c_reason[64];
    snprintf(c_code, sizeof(c_code), "%s", json_string_value(ckt_get(r.json, "0.errorCode")) ?: "");
    snprintf(c_reason, sizeof(c_reason), "%s", json_string_value(ckt_get(r.json, "0.reason")) ?: "");
    int c_leak = strstr(r.body, "store_members") != NULL;
    fprintf(stderr, "checkouts: HTTP %ld %s\n", r.status, r.body);
    ckt_free(&r);
    ckt_db_exec(d, "ALTER TABLE store_members_gone RENAME TO store_members");
    assert_int_equal(cart_status_is(d, f->cart, "Active"), 1);
    assert_int_equal(requests(d), 0);

    assert_int_equal(a_status, 500);
    assert_string_equal(a_code, "UNKNOWN_EXCEPTION");
    assert_int_equal(c_status, 500);
    assert_string_equal(c_code, "UNKNOWN_EXCEPTION");
    assert_false(c_leak);
    assert_string_equal(a_reason, "SESSION_NOT_CREATED");
    assert_string_equal(c_reason, "SESSION_NOT_CREATED");
    assert_false(a_leak);

    r = action_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    expect_result_ok(&r, 0, NULL);
    ckt_free(&r);
    ckt_finish(d);
}

static void auth_and_bad_bodies(void **state)
{
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    char body[1024];
    snprintf(body, sizeof(body), "{\"inputs\":[{\"cartId\":\"%s\"}]}", f->cart);
    ckt_resp r = ckt_http(d, "POST", ACTION, NULL, body, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    r = ckt_http(d, "POST", ACTION, "ck_not_a_key", body, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    snprintf(body, sizeof(body), "{\"cartId\":\"%s\"}", f->cart);
    r = ckt_http(d, "POST", "/v1/checkouts", NULL, body, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    r = ckt_http(d, "POST", "/v1/checkouts", "ck_not_a_key", body, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);

    /* Malformed JSON and no body. */
    r = ckt_http(d, "POST", ACTION, f->bkey, "{\"inputs\":[", NULL);
    ckt_expect_error(&r, 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL);
    ckt_free(&r);
    r = ckt_http(d, "POST", ACTION, f->bkey, NULL, NULL);
    ckt_expect_error(&r, 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL);
    ckt_free(&r);
    r = ckt_http(d, "POST", "/v1/checkouts", f->bkey, "{\"cartId\":", NULL);
    ckt_expect_error(&r, 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL);
    ckt_free(&r);
    /* inputs missing, null, empty, not an array. */
    r = ckt_http(d, "POST", ACTION, f->bkey, "{}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "MISSING_FIELD", "inputs");
    ckt_free(&r);
    r = ckt_http(d, "POST", ACTION, f->bkey, "{\"inputs\":null}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "MISSING_FIELD", "inputs");
    ckt_free(&r);
    r = ckt_http(d, "POST", ACTION, f->bkey, "{\"inputs\":[]}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "inputs");
    ckt_free(&r);
    snprintf(body, sizeof(body), "{\"inputs\":{\"cartId\":\"%s\"}}", f->cart);
    r = ckt_http(d, "POST", ACTION, f->bkey, body, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "inputs");
    ckt_free(&r);
    r = ckt_http(d, "POST", ACTION, f->bkey, "{\"inputs\":\"x\"}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "inputs");
    ckt_free(&r);
    r = ckt_http(d, "POST", ACTION, f->bkey, "[1]", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_BODY", NULL);
    ckt_free(&r);
    /* Wrong method on the action route (GET describes it: API.md "Checkout
     * Flow actions"). */
    r = ckt_http(d, "PUT", ACTION, f->bkey, "{}", NULL);
    ckt_expect_error(&r, 405, "METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED", NULL);
    ckt_free(&r);
    r = ckt_http(d, "GET", ACTION, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "name"), "checkoutSessionAction");
    assert_string_equal(ckt_str(r.json, "inputs.0.name"), "cartId");
    ckt_free(&r);

    assert_int_equal(requests(d), 0);
    assert_int_equal(cart_status_is(d, f->cart, "Active"), 1);
    ckt_finish(d);
}

static void lease_released_on_restart(void **state)
{
    if (ckt_backend_pg())
        skip(); /* SQLite start-up releases leases; PostgreSQL's expire after --lease-seconds */
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    char sid[64], q[256];
    snprintf(q, sizeof(q), "\"%s\"", f->cart);
    start_session(f, sid);

    /* After a clean stop. */
    hold_lease(d, sid);
    expect_action_fail(d, f->bkey, q, 400, "BAD_REQUEST", "CART_ALREADY_IN_PROGRESS");
    assert_int_equal(ckt_stop(d), 0);
    ckt_restart(d, NULL, NULL);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE lease_owner IS NOT NULL"), 0);
    ckt_resp r = action_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    char rid[64], sid2[64];
    expect_result_ok(&r, 0, rid);
    ckt_free(&r);
    session_of(d, rid, sid2);
    assert_string_equal(sid2, sid);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s'"
                                   " AND lease_owner IS NULL", sid),
                     1);

    /* After a crash (SIGKILL). */
    hold_lease(d, sid);
    expect_action_fail(d, f->bkey, q, 400, "BAD_REQUEST", "CART_ALREADY_IN_PROGRESS");
    ckt_kill(d);
    ckt_restart(d, NULL, NULL);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE lease_owner IS NOT NULL"), 0);
    r = checkouts_cart(d, f->bkey, f->cart);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "session.id"), sid);
    assert_true(json_is_false(ckt_get(r.json, "session.isProcessing")));
    ckt_free(&r);
    ckt_finish(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(success_effects, teardown),
        cmocka_unit_test_teardown(get_or_create, teardown),
        cmocka_unit_test_teardown(session_and_request_views, teardown),
        cmocka_unit_test_teardown(row_cannot_invoke, teardown),
        cmocka_unit_test_teardown(row_invalid_cart, teardown),
        cmocka_unit_test_teardown(row_no_access, teardown),
        cmocka_unit_test_teardown(row_not_member_and_in_progress, teardown),
        cmocka_unit_test_teardown(bulk_inputs, teardown),
        cmocka_unit_test_teardown(concurrent_get_or_create, teardown),
        cmocka_unit_test_teardown(fault_session_create, teardown),
        cmocka_unit_test_teardown(fault_session_create_once, teardown),
        cmocka_unit_test_teardown(faults_ignored_without_flag, teardown),
        cmocka_unit_test_teardown(failed_write_rolls_back, teardown),
        cmocka_unit_test_teardown(failed_read_is_session_not_created, teardown),
        cmocka_unit_test_teardown(auth_and_bad_bodies, teardown),
        cmocka_unit_test_teardown(lease_released_on_restart, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
