/* actions_fx.c: the helpers of the Checkout Flow action suites: calling an
 * action on either path, asserting one result of the action envelope, and
 * reading a session's progress back (see actions_fx.h). */
#include "api/actions_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ax_actions[] = {"checkoutSessionAction",
                                  "cancelCartAsyncOperation",
                                  "checkCartInventoryAction",
                                  "priceCart",
                                  "calcCartPromotionsAction",
                                  "calcCartShipmentAction",
                                  "setCheckoutDeliveryMethod",
                                  "calcCartTaxesAction",
                                  "authorizePaymentAction",
                                  "cartToOrderAction",
                                  "activateOrderAction",
                                  "updateCheckoutSessionStateAction",
                                  NULL};

const char *const ax_cart_actions[] = {"checkoutSessionAction",  "cancelCartAsyncOperation", "checkCartInventoryAction",
                                       "priceCart",              "calcCartPromotionsAction", "calcCartShipmentAction",
                                       "calcCartTaxesAction",    "authorizePaymentAction",   "cartToOrderAction",
                                       "activateOrderAction",    NULL};

void ax_path(int ref, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/actions/standard%s%s", ref ? "/services/data/" AX_REF_VERSION : "/v1", name ? "/" : "",
             name ? name : "");
}

ckt_resp ax_post(ckt_daemon *d, int ref, const char *key, const char *name, json_t *inputs)
{
    char path[256];
    ax_path(ref, name, path, sizeof(path));
    json_t *body = json_pack("{s:o}", "inputs", inputs);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    ckt_resp r = ckt_http(d, "POST", path, key, text, NULL);
    free(text);
    return r;
}

ckt_resp ax_cart(ckt_daemon *d, int ref, const char *key, const char *name, const char *cart)
{
    return ax_post(d, ref, key, name, json_pack("[{s:s}]", "cartId", cart));
}

static json_t *result_at(const ckt_resp *r, size_t i, const char *name)
{
    static const char *const keys[] = {"actionName", "isSuccess", "outputValues", "errors", NULL};
    json_t *res = json_array_get(r->json, i);
    if (!json_is_object(res))
        fprintf(stderr, "no result %zu in %s\n", i, r->body);
    ckt_expect_keys(res, keys);
    assert_string_equal(ckt_str(res, "actionName"), name);
    assert_true(json_is_array(json_object_get(res, "errors")));
    return res;
}

json_t *ax_ok_at(const ckt_resp *r, size_t i, const char *name)
{
    json_t *res = result_at(r, i, name);
    if (!json_is_true(json_object_get(res, "isSuccess")))
        fprintf(stderr, "%s: result %zu is not a success: %s\n", name, i, r->body);
    assert_true(json_is_true(json_object_get(res, "isSuccess")));
    assert_int_equal(json_array_size(json_object_get(res, "errors")), 0);
    json_t *ov = json_object_get(res, "outputValues");
    assert_true(json_is_object(ov));
    return ov;
}

void ax_fail_at(const ckt_resp *r, size_t i, const char *name, const char *status_code, const char *reason,
                const char *step)
{
    static const char *const keys[] = {"statusCode", "reason", "message", NULL};
    static const char *const step_keys[] = {"statusCode", "reason", "message", "step", NULL};
    json_t *res = result_at(r, i, name);
    assert_true(json_is_false(json_object_get(res, "isSuccess")));
    assert_true(json_is_null(json_object_get(res, "outputValues")));
    json_t *errs = json_object_get(res, "errors");
    assert_int_equal(json_array_size(errs), 1);
    json_t *e = json_array_get(errs, 0);
    const char *sc = ckt_str(e, "statusCode"), *re = ckt_str(e, "reason");
    if (strcmp(sc, status_code) || strcmp(re, reason))
        fprintf(stderr, "%s: result %zu: expected %s/%s, got %s\n", name, i, status_code, reason, r->body);
    assert_string_equal(sc, status_code);
    assert_string_equal(re, reason);
    assert_true(strlen(ckt_str(e, "message")) > 0);
    ckt_expect_keys(e, step ? step_keys : keys);
    if (step)
        assert_string_equal(ckt_str(e, "step"), step);
}

const char *ax_status_code(long http)
{
    switch (http) {
    case 400: return "BAD_REQUEST";
    case 404: return "NOT_FOUND";
    case 409: return "CONFLICT";
    default: return "UNKNOWN_EXCEPTION";
    }
}

json_t *ax_run_ok(ckt_fx *f, int ref, const char *name, const char *cart)
{
    ckt_resp r = ax_cart(&f->d, ref, f->bkey, name, cart);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(r.json), 1);
    json_t *ov = json_incref(ax_ok_at(&r, 0, name));
    ckt_free(&r);
    return ov;
}

void ax_run_fails(ckt_fx *f, int ref, const char *name, const char *cart, long http, const char *reason,
                  const char *step)
{
    ckt_resp r = ax_cart(&f->d, ref, f->bkey, name, cart);
    ckt_expect_status(&r, http);
    assert_int_equal(json_array_size(r.json), 1);
    ax_fail_at(&r, 0, name, ax_status_code(http), reason, step);
    ckt_free(&r);
}

void ax_input_fails(ckt_daemon *d, int ref, const char *key, const char *name, json_t *input, long http,
                    const char *reason)
{
    ckt_resp r = ax_post(d, ref, key, name, json_pack("[o]", input));
    ckt_expect_status(&r, http);
    assert_int_equal(json_array_size(r.json), 1);
    ax_fail_at(&r, 0, name, ax_status_code(http), reason, NULL);
    ckt_free(&r);
}

void ax_session(ckt_fx *f, int ref, const char *cart, char sid[64])
{
    ckt_resp r = ax_post(&f->d, ref, f->bkey, "checkoutSessionAction",
                         json_pack("[{s:s, s:s}]", "cartId", cart, "initialState", "Start"));
    ckt_expect_status(&r, 200);
    json_t *ov = ax_ok_at(&r, 0, "checkoutSessionAction");
    static const char *const keys[] = {"requestId", NULL};
    ckt_expect_keys(ov, keys);
    char path[256];
    snprintf(path, sizeof(path), "/v1/requests/%s", ckt_str(ov, "requestId"));
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    snprintf(sid, 64, "%s", ckt_str(r.json, "sessionId"));
    ckt_free(&r);
    assert_true(strncmp(sid, "cs_", 3) == 0);
}

ckt_resp ax_set_state(ckt_fx *f, int ref, const char *sid, const char *exp, const char *next)
{
    return ax_post(&f->d, ref, f->bkey, "updateCheckoutSessionStateAction",
                   json_pack("[{s:s, s:s, s:s}]", "checkoutSessionId", sid, "expCurrentState", exp, "nextState", next));
}

void ax_expect_state(ckt_fx *f, const char *sid, const char *last, const char *state)
{
    json_t *s = po_get_session(f, sid);
    json_t *l = ckt_get(s, "lastSuccessfulStep");
    const char *st = ckt_str(s, "state");
    if ((last ? !json_is_string(l) || strcmp(json_string_value(l), last) : !json_is_null(l)) || strcmp(st, state))
        fprintf(stderr, "session %s: expected last %s state %s, got last %s state %s\n", sid, last ? last : "null",
                state, json_is_string(l) ? json_string_value(l) : "null", st);
    po_expect_str_or_null(s, "lastSuccessfulStep", last);
    assert_string_equal(st, state);
    json_decref(s);
}

long long ax_inputs_version(ckt_fx *f, const char *sid)
{
    json_t *s = po_get_session(f, sid);
    long long v = ckt_int(s, "inputsVersion");
    json_decref(s);
    return v;
}

void ax_new_cart(ckt_fx *f, const char *prod, int qty, char cart[64])
{
    ckt_cart(&f->d, f->bkey, f->store, f->acct, cart);
    if (qty > 0)
        ckt_cart_item(&f->d, f->bkey, cart, prod, qty, NULL);
}

long long ax_auths(ckt_fx *f, const char *sid, const char *status)
{
    if (!status)
        return ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'", sid);
    return ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s' AND status = '%s'",
                      sid, status);
}

long long ax_orders(ckt_fx *f, const char *sid)
{
    return ckt_db_int(&f->d, "SELECT count(*) FROM orders WHERE session_id = '%s'", sid);
}
