/* session.c: the checkout session action, the session lease and the views. */
#include <string.h>

#include "store/accounts.h"
#include "store/carts.h"
#include "store/requests.h"
#include "store/sessions.h"
#include "store/stores.h"
#include "store/users.h"
#include "core/log.h"
#include "core/json.h"
#include "core/context.h"
#include "carts/cart.h"
#include "flows/flows.h"
#include "store/flows.h"
#include "checkout/session.h"

/* The action's error table (API.md "Checkout session action"). Every row
 * is the caller's error (CK_EINVALID) but SESSION_NOT_CREATED, which is
 * ours. The HTTP statuses are api's (src/api/errors.c: the reference
 * answers 500 for INVALID_CART_ID). */
static int action_fail(ck_error *err, const char *reason, const char *field, const char *msg)
{
    int code = strcmp(reason, "SESSION_NOT_CREATED") == 0 ? CK_EINTERNAL : CK_EINVALID;
    return ck_fail(err, code, reason, field, "%s", msg);
}

#define CANNOT_INVOKE(err)                                                                                    \
    action_fail(err, "CANNOT_INVOKE_ACTION", NULL,                                       \
                "the caller needs the buyer, integrator or admin permission to start a checkout")
#define INVALID_CART(err, msg) action_fail(err, "INVALID_CART_ID", "cartId", msg)
#define NO_ACCESS(err, msg) action_fail(err, "NO_ACCESS_TO_EFFECTIVE_ACCOUNT", NULL, msg)
#define NOT_MEMBER(err)                                                                                       \
    action_fail(err, "ACCOUNT_NOT_STORE_MEMBER", NULL,                                   \
                "the cart's account is not a member of the cart's store")
#define IN_PROGRESS(err)                                                                                      \
    action_fail(err, "CART_ALREADY_IN_PROGRESS", NULL,                                   \
                "a checkout of this cart is being processed right now; try again shortly")
#define NOT_CREATED(err, msg) action_fail(err, "SESSION_NOT_CREATED", NULL, msg)

/* The table's first rows, which need no database: the permission, then
 * the cart id's presence and form. 0 or the row's error. */
static int first_rows(const ck_user *user, json_t *cart_id, ck_error *err)
{
    if (!(user->perms & (CK_PERM_BUYER | CK_PERM_INTEGRATOR | CK_PERM_ADMIN)))
        return CANNOT_INVOKE(err);
    if (!cart_id || json_is_null(cart_id))
        return INVALID_CART(err, "cartId is required");
    if (!json_is_string(cart_id) || !ck_id_valid(json_string_value(cart_id), "cart"))
        return INVALID_CART(err, "cartId is not a cart id");
    return 0;
}

/* The checks that only read, in the table's order (after the permission and
 * cart id syntax checks). Returns 0 when the action may write, 1 when a row
 * of the table holds (err set), <0 when a read failed (dberr set). */
static int check_table(ck_db *db, const ck_user *user, const ck_cart *cart, char live_session[CK_ID_MAX],
                       int lease_matters, ck_error *err, ck_error *dberr)
{
    int rc = ck_accounts_is_buyer(db, cart->account_id, dberr);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return NO_ACCESS(err, "the cart's account is not a buyer account"), 1;
    if ((rc = ck_user_can_buy_for(db, user, cart->account_id, dberr)) < 0)
        return rc;
    if (rc == 0)
        return NO_ACCESS(err, "the caller was not given the cart's account"), 1;

    if ((rc = ck_accounts_store_member(db, cart->store_id, cart->account_id, dberr)) < 0)
        return rc;
    if (rc == 0)
        return NOT_MEMBER(err), 1;

    int leased = 0;
    live_session[0] = '\0';
    if ((rc = ck_sessions_live_for_cart(db, cart->id, ck_now_ms(), live_session, &leased, dberr)) < 0)
        return rc;
    if (rc == 1 && leased && lease_matters)
        return IN_PROGRESS(err), 1;
    return 0;
}

/* The action's writes, inside the caller's transaction. */
static int write_session(ck_ctx *cx, ck_db *db, const ck_user *user, const ck_cart *cart,
                         ck_session_action_result *out, ck_error *err)
{
    if (ck_fault(cx->faults, "session.create"))
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "fault injected at session.create");
    int rc = ck_cart_set_status(db, cart->id, CK_CART_CHECKOUT, err);
    if (rc < 0)
        return rc;
    int64_t now = ck_now_ms();
    if (!out->session_id[0]) {
        char flow_id[CK_ID_MAX] = CK_FLOW_STANDARD_ID, status[CK_FLOW_STATUS_MAX];
        int64_t flow_version = 1;
        if ((rc = ck_stores_active_flow(db, cart->store_id, flow_id, err)) < 0)
            return rc;
        /* Pinned for good: the active flow is frozen at this version. */
        if (strcmp(flow_id, CK_FLOW_STANDARD_ID) != 0 &&
            (rc = ck_flows_version(db, flow_id, &flow_version, status, err)) <= 0)
            return rc < 0 ? rc : ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "the store's flow %s is gone", flow_id);
        char id[CK_ID_MAX];
        ck_id_new(id, "cs");
        /* On PostgreSQL two creators can race past the read above; the partial
         * unique index makes the loser insert nothing, and it reads the winner's. */
        ck_session_new s = {.id = id, .cart_id = cart->id, .buyer_id = user->id, .account_id = cart->account_id,
                            .store_id = cart->store_id, .flow_id = flow_id, .flow_version = flow_version,
                            .state = CK_STATE_START, .now = now};
        if ((rc = ck_sessions_create_for_cart(db, &s, out->session_id, &out->created, err)) < 0)
            return rc;
    }
    if ((rc = ck_carts_delete_cart_errors(db, cart->id, err)) < 0)
        return rc;
    ck_id_new(out->request_id, "req");
    return ck_requests_insert_succeeded(db, out->request_id, "CheckoutSession", user->id, out->session_id, NULL, 0, now,
                                        err);
}

/* One run of the session action's transaction (ck_db_tx may run it again
 * after a busy failure, so it starts from nothing each time). */
typedef struct action_tx {
    ck_ctx *cx;
    const ck_user *user;
    const char *cart_id;
    ck_session_action_result *out;
    ck_error *err;  /* the caller's: a row of the table */
    int table_row;  /* 1: a row of the table holds (err set), nothing written */
    int began;      /* the transaction began (a failure after is logged) */
} action_tx;

static int action_tx_run(ck_db *db, void *arg, ck_error *werr)
{
    action_tx *a = arg;
    memset(a->out, 0, sizeof(*a->out));
    a->table_row = 0;
    a->began = 1;
    ck_cart cart;
    int rc = ck_cart_load(db, a->cart_id, &cart, werr);
    if (rc == 0 || (rc == 1 && cart.status == CK_CART_CLOSED)) {
        a->table_row = 1;
        return INVALID_CART(a->err, rc == 0 ? "no such cart" : "the cart is Closed (already ordered)");
    }
    if (rc > 0)
        rc = check_table(db, a->user, &cart, a->out->session_id, 1, a->err, werr);
    if (rc == 1) {
        a->table_row = 1;
        return a->err ? a->err->code : CK_EINVALID;
    }
    if (rc < 0)
        return rc;
    return write_session(a->cx, db, a->user, &cart, a->out, werr);
}

int ck_session_action(ck_ctx *cx, ck_db *db, const ck_user *user, json_t *cart_id,
                      ck_session_action_result *out, ck_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = first_rows(user, cart_id, err);
    if (rc < 0)
        return rc;
    const char *id = json_string_value(cart_id);

    ck_error werr;
    ck_error_clear(&werr);
    action_tx a = {.cx = cx, .user = user, .cart_id = id, .out = out, .err = err};
    rc = ck_db_tx(db, 1, action_tx_run, &a, &werr);
    if (rc >= 0)
        return 0;
    if (a.table_row) {
        memset(out, 0, sizeof(*out));
        return rc; /* a row of the table */
    }
    /* A storage failure is the table's last row; details go to the log. */
    if (a.began)
        ck_log(CK_LOG_ERROR, "session action failed", "cartId", id, "error", werr.message, NULL);
    memset(out, 0, sizeof(*out));
    return NOT_CREATED(err, "the session could not be written; try again");
}

int ck_session_for_cart(ck_db *db, const ck_user *user, json_t *cart_id, int need_session,
                        char session_id[CK_ID_MAX], ck_error *err)
{
    ck_error dberr;
    ck_cart cart;
    session_id[0] = '\0';
    int rc = first_rows(user, cart_id, err);
    if (rc < 0)
        return rc;
    ck_error_clear(&dberr);
    rc = ck_cart_load(db, json_string_value(cart_id), &cart, &dberr);
    if (rc == 0)
        return INVALID_CART(err, "no such cart");
    if (rc > 0 && (rc = check_table(db, user, &cart, session_id, 0, err, &dberr)) == 1)
        return err->code;
    if (rc < 0) {
        *err = dberr;
        return rc;
    }
    /* A Closed cart is one that was ordered: the actions after the order
     * (activateOrderAction, a repeated cartToOrderAction) answer from its
     * completed session; with none it is the table's INVALID_CART_ID. */
    if (cart.status == CK_CART_CLOSED && !session_id[0])
        return INVALID_CART(err, "the cart is Closed (already ordered)");
    if (need_session && !session_id[0])
        return ck_fail(err, CK_EINVALID, "NO_CHECKOUT_SESSION", "cartId",
                       "the cart has no checkout session; call checkoutSessionAction first");
    return 0;
}

int ck_session_no_access(ck_error *err, const char *session_id)
{
    return ck_fail(err, CK_EINVALID, "NO_ACCESS_TO_EFFECTIVE_ACCOUNT", NULL,
                   "the caller was not given the account of checkout session %s", session_id);
}

int ck_session_has_shipping_method(ck_db *db, const char *session_id, ck_error *err)
{
    json_t *inputs = NULL;
    char last[CK_STEP_PATH_MAX];
    int rc = ck_sessions_inputs(db, session_id, &inputs, last, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    rc = json_is_string(json_object_get(inputs, "shippingMethodId"));
    json_decref(inputs);
    return rc;
}

int ck_session_flow(ck_db *db, const char *session_id, const ck_flow **out, ck_error *err)
{
    char flow_id[CK_ID_MAX];
    int64_t version = 0;
    *out = NULL;
    int rc = ck_sessions_flow(db, session_id, flow_id, &version, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    return ck_flow_load(db, flow_id, version, out, err);
}

int ck_session_set_progress(ck_db *db, const ck_flow *flow, const char *session_id, const char *from,
                            const char *last, const char *lease_owner, ck_error *err)
{
    const char *state = last ? ck_flow_state_after(flow, last) : CK_STATE_START;
    if (!state || (last && strcmp(last, CK_STATE_START) == 0))
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "no step '%s' in the flow", last ? last : "");
    int any = from == CK_ANY_STEP;
    int rc = ck_sessions_set_progress(db, session_id, last, state, any, any ? "" : from, lease_owner, ck_now_ms(),
                                      err);
    return rc < 0 ? rc : rc == 1;
}

int ck_session_lease_take(ck_db *db, const char *session_id, const char *owner, int seconds, ck_error *err)
{
    int64_t now = ck_now_ms();
    int rc = ck_sessions_take_lease(db, session_id, owner, now, now + (int64_t)seconds * 1000, err);
    return rc < 0 ? rc : rc == 1;
}

int ck_session_lease_release(ck_db *db, const char *session_id, const char *owner, ck_error *err)
{
    return ck_sessions_release_lease(db, session_id, owner, err);
}

int ck_session_leases_release_all(ck_db *db, ck_error *err)
{
    return ck_sessions_release_all_leases(db, err);
}

static json_t *opt_str(int has, const char *s)
{
    return has ? json_string(s) : json_null();
}

/* A borrowed member of inputs as a new reference, null when absent. */
static json_t *input_or_null(json_t *inputs, const char *key)
{
    json_t *v = json_object_get(inputs, key);
    return v ? json_incref(v) : json_null();
}

int ck_session_json(ck_db *db, const ck_user *user, const char *session_id, json_t **out, ck_error *err)
{
    *out = NULL;
    ck_session_row r;
    int rc = ck_sessions_get(db, session_id, ck_now_ms(), &r, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "checkout session", session_id);
    const ck_flow *flow = NULL;
    if ((rc = ck_flow_load(db, r.flow_id, r.flow_version, &flow, err)) < 0) {
        ck_sessions_row_clear(&r);
        return rc;
    }
    json_t *in = json_pack("{s:o, s:o, s:o}", "shippingAddress", input_or_null(r.inputs, "shippingAddress"),
                           "shippingMethodId", input_or_null(r.inputs, "shippingMethodId"), "payment",
                           input_or_null(r.inputs, "payment"));
    const char *next = ck_flow_state_after(flow, r.state);
    json_t *s = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:b, s:b, s:b, s:o, s:I, s:o}", "id", r.id, "cartId",
        r.cart_id, "buyerId", r.buyer_id, "accountId", r.account_id, "storeId", r.store_id, "flowId", r.flow_id,
        "flowVersion", (json_int_t)r.flow_version, "state", r.state, "nextState", next ? json_string(next) : json_null(),
        "lastSuccessfulStep", opt_str(r.has_last_step, r.last_step), "isProcessing", r.processing, "isError",
        r.is_error, "isArchived", r.is_archived, "orderId", opt_str(r.has_order_id, r.order_id), "inputsVersion",
        (json_int_t)r.inputs_version, "inputs", in);
    json_object_set_new(s, "totals",
                        json_pack("{s:I, s:I, s:I, s:I, s:I}", "subtotal", (json_int_t)r.subtotal, "adjustments",
                                  (json_int_t)r.adjustments, "shipping", (json_int_t)r.shipping, "tax",
                                  (json_int_t)r.tax, "grandTotal", (json_int_t)r.grand_total));
    json_object_set_new(s, "errors", json_is_array(r.errors) ? json_incref(r.errors) : json_array());
    json_object_set_new(s, "createdAt", ck_json_time(r.created_at));
    json_object_set_new(s, "updatedAt", ck_json_time(r.updated_at));
    char account[CK_ID_MAX];
    snprintf(account, sizeof(account), "%s", r.account_id);
    ck_sessions_row_clear(&r);
    if ((rc = ck_user_can_buy_for(db, user, account, err)) <= 0) {
        json_decref(s);
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    }
    *out = s;
    return 0;
}

int ck_request_json(ck_db *db, const ck_user *user, const char *request_id, json_t **out, ck_error *err)
{
    *out = NULL;
    char owner[CK_ID_MAX];
    json_t *r = NULL;
    int rc = ck_requests_json(db, request_id, &r, owner, err);
    if (rc < 0)
        return rc;
    if (rc == 0 || (strcmp(owner, user->id) != 0 && !(user->perms & CK_PERM_ADMIN))) {
        json_decref(r);
        return ck_not_found(err, "request", request_id);
    }
    *out = r;
    return 0;
}
