/* actions.c: the Checkout Flow actions (API.md "Checkout Flow actions"):
 * POST /v1/actions/standard/{name} with {"inputs":[...]}, one result per
 * input in the session action's envelope, and the list and describe calls;
 * the same under the reference platform's path
 * /services/data/v{NN}.0/actions/standard[/{name}] (NN 50..99). One table
 * (`actions`) is both what the router dispatches on and what list and
 * describe print, so the two cannot drift. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/errors.h"
#include "api/routes.h"
#include "checkout/engine.h"
#include "checkout/session.h"
#include "orders/order.h"
#include "steps/step.h"
#include "store/payments.h"

#define MAX_ACTION_INPUTS 100

typedef enum { ACT_SESSION, ACT_CANCEL, ACT_RUN, ACT_DELIVERY, ACT_STATE } act_kind;

/* What an action gives back (outputValues), as bits. */
enum { OUT_REQUEST_ID = 1, OUT_AUTH_ID = 2, OUT_ORDER_ID = 4, OUT_ORDER_STATUS = 8 };

typedef struct param {
    const char *name, *type;
    int required;
    const char *description;
} param;

typedef struct action {
    const char *name, *label;
    act_kind kind;
    const ck_step_kind *through; /* ACT_RUN: the built-in it runs through (NULL: to the end) */
    const param *inputs;         /* NULL-terminated by name */
    unsigned outputs;            /* OUT_* */
} action;

#define CART_ID {"cartId", "STRING", 1, "The id of the cart (cart_...) being checked out."}
static const param cart_only[] = {CART_ID, {0}};
static const param session_inputs[] = {
    CART_ID, {"initialState", "STRING", 0, "The state a new session starts in; only Start."}, {0}};
static const param delivery_inputs[] = {
    CART_ID, {"deliveryMethodId", "STRING", 1, "The shipping method (shm_...) to deliver the order with."}, {0}};
static const param state_inputs[] = {
    {"checkoutSessionId", "STRING", 1, "The id of the checkout session (cs_...)."},
    {"expCurrentState", "STRING", 1, "The state the caller believes the session is in; the move happens only then."},
    {"nextState", "STRING", 1, "The state to move back to: Start or a step of the session's flow."},
    {0}};

static const param outputs_table[] = {
    {"requestId", "STRING", 0, "The id of the CheckoutRequest that created or returned the session."},
    {"paymentAuthorizationId", "STRING", 0, "The payment authorization (pa_...); null for methods without one."},
    {"orderId", "STRING", 0, "The order (ord_...)."},
    {"orderStatus", "STRING", 0, "The order's status."},
};

static const action actions[] = {
    {"checkoutSessionAction", "Checkout Session", ACT_SESSION, NULL, session_inputs, OUT_REQUEST_ID},
    {"cancelCartAsyncOperation", "Cancel Cart Async Operation", ACT_CANCEL, NULL, cart_only, 0},
    {"checkCartInventoryAction", "Check Cart Inventory", ACT_RUN, &ck_step_validate_cart, cart_only, 0},
    {"priceCart", "Price Cart", ACT_RUN, &ck_step_pricing, cart_only, 0},
    {"calcCartPromotionsAction", "Calculate Cart Promotions", ACT_RUN, &ck_step_pricing, cart_only, 0},
    {"calcCartShipmentAction", "Calculate Cart Shipment", ACT_RUN, &ck_step_shipping, cart_only, 0},
    {"setCheckoutDeliveryMethod", "Set Checkout Delivery Method", ACT_DELIVERY, NULL, delivery_inputs, 0},
    {"calcCartTaxesAction", "Calculate Cart Taxes", ACT_RUN, &ck_step_tax, cart_only, 0},
    {"authorizePaymentAction", "Authorize Payment", ACT_RUN, &ck_step_payment, cart_only, OUT_AUTH_ID},
    {"cartToOrderAction", "Cart to Order", ACT_RUN, &ck_step_create_order, cart_only, OUT_ORDER_ID},
    {"activateOrderAction", "Activate Order", ACT_RUN, NULL, cart_only, OUT_ORDER_ID | OUT_ORDER_STATUS},
    {"updateCheckoutSessionStateAction", "Update Checkout Session State", ACT_STATE, NULL, state_inputs, 0},
};
#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

static const action *find_action(const char *name)
{
    for (size_t i = 0; i < NACTIONS; i++)
        if (strcmp(actions[i].name, name) == 0)
            return &actions[i];
    return NULL;
}

/* The reference's path names an API version "v50.0" .. "v99.0". */
static int version_ok(const char *v)
{
    return strlen(v) == 5 && v[0] == 'v' && v[1] >= '5' && v[1] <= '9' && v[2] >= '0' && v[2] <= '9' &&
           strcmp(v + 3, ".0") == 0;
}

/* The action a request names: params[idx], under a version param[0] when
 * ref (the reference's path). 404 for an unknown name or version. */
static int named_action(ck_req *req, int ref, int idx, const action **out, ck_error *err)
{
    *out = NULL;
    if (ref && !version_ok(req->params[0]))
        return ck_fail(err, CK_ENOTFOUND, "ROUTE_NOT_FOUND", NULL,
                       "no API version %s here: the reference's paths take v50.0 to v99.0", req->params[0]);
    if (idx < 0)
        return 0;
    if (!(*out = find_action(req->params[idx])))
        return ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", NULL, "no standard action %s (GET .../actions/standard lists them)",
                       req->params[idx]);
    return 0;
}

static json_t *params_json(const param *p, unsigned outputs)
{
    json_t *arr = json_array();
    if (p)
        for (; p->name; p++)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s}", "name", p->name, "type", p->type, "required",
                                                 p->required, "description", p->description));
    for (size_t i = 0; i < sizeof(outputs_table) / sizeof(outputs_table[0]); i++)
        if (outputs & (1u << i))
            json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s}", "name", outputs_table[i].name, "type",
                                                 outputs_table[i].type, "required", 0, "description",
                                                 outputs_table[i].description));
    return arr;
}

static int list(ck_req *req, int ref, ck_error *err)
{
    const action *a;
    int rc = named_action(req, ref, -1, &a, err);
    if (rc < 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < NACTIONS; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "name", actions[i].name, "label", actions[i].label,
                                             "type", "STANDARD_INVOCABLE_ACTION"));
    return ck_reply(req, 200, json_pack("{s:o}", "actions", arr));
}

static int describe(ck_req *req, int ref, ck_error *err)
{
    const action *a;
    int rc = named_action(req, ref, ref ? 1 : 0, &a, err);
    if (rc < 0)
        return rc;
    return ck_reply(req, 200,
                    json_pack("{s:s, s:s, s:o, s:o}", "name", a->name, "label", a->label, "inputs",
                              params_json(a->inputs, 0), "outputs", params_json(NULL, a->outputs)));
}

/* The result of one input in the session action's envelope. */
static json_t *result_json(const action *a, json_t *outputs, const ck_error *e)
{
    if (!e)
        return json_pack("{s:s, s:b, s:o, s:[]}", "actionName", a->name, "isSuccess", 1, "outputValues", outputs,
                         "errors");
    json_decref(outputs);
    json_t *error = json_pack("{s:s, s:s, s:s}", "statusCode", ck_api_category(e), "reason", e->reason, "message",
                              e->message);
    if (e->step[0])
        json_object_set_new(error, "step", json_string(e->step));
    return json_pack("{s:s, s:b, s:n, s:[o]}", "actionName", a->name, "isSuccess", 0, "outputValues", "errors",
                     error);
}

static int bad_input(ck_error *err, const char *name, const char *what)
{
    return ck_fail(err, CK_EINVALID, "INVALID_INPUT", name, "input '%s' %s", name, what);
}

/* Only the action's inputs, each a string when present. */
static int check_inputs(const action *a, json_t *in, ck_error *err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(in))
        return ck_fail(err, CK_EINVALID, "INVALID_INPUT", NULL, "each input is an object of the action's inputs");
    json_object_foreach(in, key, v) {
        const param *p = a->inputs;
        while (p->name && strcmp(p->name, key) != 0)
            p++;
        if (!p->name)
            return bad_input(err, key, "is not an input of this action (GET the action to see its inputs)");
        /* cartId's own checks are the session table's (INVALID_CART_ID). */
        if (strcmp(key, "cartId") != 0 && !json_is_null(v) && !json_is_string(v))
            return bad_input(err, key, "must be a string");
    }
    return 0;
}

static const char *input_str(json_t *in, const char *name)
{
    return json_string_value(json_object_get(in, name));
}

/* Runs one input of a step action and fills its outputs. */
static int run_step(ck_req *req, const action *a, json_t *in, json_t *outputs, ck_error *err)
{
    char sid[CK_ID_MAX];
    ck_place_result res;
    int before = 0;
    int rc = ck_session_for_cart(req->db, &req->user, json_object_get(in, "cartId"), 1, sid, err);
    if (rc < 0)
        return rc;
    /* The reference's order asks for the shipment before the delivery
     * method is set (setCheckoutDeliveryMethod comes after it): without a
     * method the shipping step waits, and the next action runs it. */
    if (a->through == &ck_step_shipping && (rc = ck_session_has_shipping_method(req->db, sid, err)) <= 0) {
        if (rc < 0)
            return rc;
        before = 1;
    }
    if ((rc = ck_place_run(req->cx, req->db, &req->user, sid, NULL, a->through, before, &res, err)) < 0)
        return rc;
    /* The order's view from its commit, when this run made it. */
    json_t *order = res.order;
    if (a->outputs & OUT_AUTH_ID) {
        char auth[CK_ID_MAX];
        if ((rc = ck_payments_session_hold(req->db, sid, auth, err)) < 0)
            goto out;
        json_object_set_new(outputs, "paymentAuthorizationId", rc == 1 ? json_string(auth) : json_null());
    }
    if (a->outputs & OUT_ORDER_ID)
        json_object_set_new(outputs, "orderId", res.order_id[0] ? json_string(res.order_id) : json_null());
    if (a->outputs & OUT_ORDER_STATUS) {
        if (!order && res.order_id[0] && (rc = ck_order_json(req->db, res.order_id, &order, err)) < 0)
            goto out;
        json_t *status = json_object_get(order, "status");
        json_object_set_new(outputs, "orderStatus", status ? json_incref(status) : json_null());
    }
    rc = 0;
out:
    json_decref(order);
    return rc;
}

/* One input of any action: 0 with its outputs filled, or <0 with err. */
static int run_input(ck_req *req, const action *a, json_t *in, json_t *outputs, ck_error *err)
{
    char sid[CK_ID_MAX];
    int rc = check_inputs(a, in, err);
    if (rc < 0)
        return rc;
    switch (a->kind) {
    case ACT_SESSION: {
        const char *initial = input_str(in, "initialState");
        /* After the table's first row (the permission), before the rest,
         * which the session action checks as it writes. */
        if ((req->user.perms & (CK_PERM_BUYER | CK_PERM_INTEGRATOR | CK_PERM_ADMIN)) &&
            json_object_get(in, "initialState") && !json_is_null(json_object_get(in, "initialState")) &&
            (!initial || strcmp(initial, "Start") != 0))
            return ck_fail(err, CK_EINVALID, "INVALID_STATE", "initialState",
                           "'initialState' may only be Start: a session starts at its flow's beginning");
        ck_session_action_result res;
        if ((rc = ck_session_action(req->cx, req->db, &req->user, json_object_get(in, "cartId"), &res, err)) < 0)
            return rc;
        json_object_set_new(outputs, "requestId", json_string(res.request_id));
        return 0;
    }
    case ACT_CANCEL:
        if ((rc = ck_session_for_cart(req->db, &req->user, json_object_get(in, "cartId"), 0, sid, err)) < 0)
            return rc;
        return sid[0] ? ck_session_abandon(req->cx, req->db, &req->user, sid, err) : 0;
    case ACT_RUN: return run_step(req, a, in, outputs, err);
    case ACT_DELIVERY: {
        const char *method = input_str(in, "deliveryMethodId");
        if ((rc = ck_session_for_cart(req->db, &req->user, json_object_get(in, "cartId"), 1, sid, err)) < 0)
            return rc;
        if (!method || !ck_id_valid(method, "shm"))
            return bad_input(err, "deliveryMethodId", "must be a shipping method id (shm_...)");
        ck_session_changes ch;
        memset(&ch, 0, sizeof(ch));
        ch.method_op = CK_INPUT_SET;
        ch.shipping_method_id = method;
        rc = ck_session_update_inputs(req->cx, req->db, &req->user, sid, &ch, err);
        /* The PATCH's own error names its field; here it is this input. */
        if (rc < 0 && strcmp(err->field, "shippingMethodId") == 0)
            snprintf(err->field, sizeof(err->field), "deliveryMethodId");
        return rc;
    }
    case ACT_STATE: {
        static const char *const names[] = {"checkoutSessionId", "expCurrentState", "nextState"};
        const char *v[3];
        if (!(req->user.perms & (CK_PERM_BUYER | CK_PERM_INTEGRATOR | CK_PERM_ADMIN)))
            return ck_fail(err, CK_EINVALID, "CANNOT_INVOKE_ACTION", NULL,
                           "the caller needs the buyer, integrator or admin permission to change a checkout");
        for (int i = 0; i < 3; i++)
            if (!(v[i] = input_str(in, names[i])) || !v[i][0])
                return bad_input(err, names[i], "is required");
        if (!ck_id_valid(v[0], "cs"))
            return bad_input(err, names[0], "must be a checkout session id (cs_...)");
        return ck_session_set_state(req->cx, req->db, &req->user, v[0], v[1], v[2], err);
    }
    }
    return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "unknown action kind");
}

/* POST: each input on its own, in order; HTTP 200 when all succeed, else
 * the status of the first failure. */
static int invoke(ck_req *req, int ref, ck_error *err)
{
    const action *a;
    json_t *inputs = NULL;
    int rc = named_action(req, ref, ref ? 1 : 0, &a, err);
    if (rc < 0 || (rc = ck_in_array(req->json, "inputs", CK_REQUIRED, MAX_ACTION_INPUTS, &inputs, err)) < 0)
        return rc;
    if (json_array_size(inputs) == 0)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "inputs", "'inputs' needs at least one input");
    json_t *results = json_array();
    int status = 200;
    size_t i;
    json_t *in;
    json_array_foreach(inputs, i, in) {
        ck_error e;
        ck_error_clear(&e);
        json_t *outputs = json_object();
        int ok = run_input(req, a, in, outputs, &e) == 0;
        if (!ok && status == 200)
            status = ck_api_status(&e);
        json_array_append_new(results, result_json(a, outputs, ok ? NULL : &e));
    }
    return ck_reply(req, status, results);
}

static int list_v1(ck_req *req, ck_error *err) { return list(req, 0, err); }
static int list_ref(ck_req *req, ck_error *err) { return list(req, 1, err); }
static int describe_v1(ck_req *req, ck_error *err) { return describe(req, 0, err); }
static int describe_ref(ck_req *req, ck_error *err) { return describe(req, 1, err); }
static int invoke_v1(ck_req *req, ck_error *err) { return invoke(req, 0, err); }
static int invoke_ref(ck_req *req, ck_error *err) { return invoke(req, 1, err); }

const ck_route ck_routes_actions[] = {
    {"GET", "/v1/actions/standard", list_v1, 0, 0},
    {"GET", "/v1/actions/standard/{name}", describe_v1, 0, 0},
    {"POST", "/v1/actions/standard/{name}", invoke_v1, CK_ROUTE_BODY | CK_ROUTE_OUTBOUND, 0},
    {"GET", "/services/data/{version}/actions/standard", list_ref, 0, 0},
    {"GET", "/services/data/{version}/actions/standard/{name}", describe_ref, 0, 0},
    {"POST", "/services/data/{version}/actions/standard/{name}", invoke_ref, CK_ROUTE_BODY | CK_ROUTE_OUTBOUND, 0},
    {0},
};
