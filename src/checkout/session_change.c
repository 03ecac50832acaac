/* session_change.c: changing a live session: its inputs (PATCH), with the
 * rewind to before the first step that reads a changed input, and abandoning
 * it (DELETE), which voids its open authorizations and gives back reserved
 * credit, prepaid balance or contract amount. */
#include <string.h>

#include "store/sessions.h"
#include "store/stores.h"
#include "store/users.h"
#include "core/log.h"
#include "core/json.h"
#include "core/context.h"
#include "carts/cart.h"
#include "flows/flow.h"
#include "checkout/giveback.h"
#include "checkout/session.h"
#include "steps/step.h"
#include "payments/holds.h"

/* The step to rewind to when the inputs in `changed` changed and `last` is
 * the last successful step ("" for none), asked of the session's flow: 1
 * with *to the last successful step after the rewind (NULL: none), 0 when
 * no step read a changed input yet. */
static int rewind_target(const ck_flow *flow, unsigned changed, const char *last, const char **to)
{
    return ck_flow_rewind_target(flow, last, changed, to);
}

/* Explains why a conditional session update changed nothing. */
static int why_not(ck_db *db, const char *session_id, ck_error *err)
{
    int archived = 0, completed = 0, leased = 0;
    int rc = ck_sessions_status(db, session_id, ck_now_ms(), &archived, &completed, &leased, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    if (completed)
        return ck_fail(err, CK_ECONFLICT, "SESSION_COMPLETED", NULL, "the order was placed; the checkout is closed");
    if (archived)
        return ck_fail(err, CK_ECONFLICT, "SESSION_ARCHIVED", NULL, "the checkout was abandoned; start a new one");
    if (leased)
        return ck_fail(err, CK_EINVALID, "CART_ALREADY_IN_PROGRESS", NULL,
                          "a checkout of this cart is being processed right now; try again shortly");
    return ck_fail(err, CK_ECONFLICT, "SESSION_CHANGED", NULL, "the checkout changed meanwhile; try again");
}

/* The address as the inputs store it, fields in API.md's order. */
static json_t *address_json(const ck_address_input *a)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "name", a->name, "street", a->street, "city", a->city);
    if (a->region || a->region_null)
        json_object_set_new(o, "region", a->region ? json_string(a->region) : json_null());
    json_object_set_new(o, "postalCode", json_string(a->postal_code));
    json_object_set_new(o, "country", json_string(a->country));
    return o;
}

/* The payment as the inputs store it. */
static json_t *payment_json(const ck_payment_input *p)
{
    json_t *o = json_pack("{s:s}", "method", p->method);
    const struct {
        const char *key, *value;
        int null;
    } details[] = {{"cardToken", p->card_token, p->card_token_null},
                   {"poNumber", p->po_number, p->po_number_null},
                   {"contractId", p->contract_id, p->contract_id_null}};
    for (size_t i = 0; i < 3; i++)
        if (details[i].value || details[i].null)
            json_object_set_new(o, details[i].key, details[i].value ? json_string(details[i].value) : json_null());
    return o;
}

typedef struct update_tx {
    const ck_user *user;
    const char *session_id;
    const ck_session_changes *changes;
} update_tx;

/* The PATCH's one transaction (ck_db_tx may run it again: it starts from nothing). */
static int update_inputs_tx(ck_db *db, void *arg, ck_error *err)
{
    const update_tx *u = arg;
    const ck_session_changes *ch = u->changes;
    const char *session_id = u->session_id;
    json_t *inputs = NULL, *given[3] = {NULL, NULL, NULL};
    char account[CK_ID_MAX], store[CK_ID_MAX], last[CK_STEP_PATH_MAX];
    int rc = ck_sessions_refs(db, session_id, account, store, NULL, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    /* Account access first, whatever the body: API.md's table for checkout
     * operations (NO_ACCESS_TO_EFFECTIVE_ACCOUNT). */
    if ((rc = ck_user_can_buy_for(db, u->user, account, err)) <= 0) {
        rc = rc < 0 ? rc : ck_session_no_access(err, session_id);
        goto done;
    }
    if (ch->invalid) {
        if (err)
            *err = *ch->invalid;
        rc = ch->invalid->code;
        goto done;
    }
    rc = 0;
    if (ch->method_op == CK_INPUT_SET) {
        if ((rc = ck_stores_offers_shipping_method(db, store, ch->shipping_method_id, err)) <= 0) {
            rc = rc < 0 ? rc : ck_fail(err, CK_EINVALID, "INVALID_FIELD", "shippingMethodId",
                                       "shipping method %s is not offered by this store", ch->shipping_method_id);
            goto done;
        }
    }
    /* Hold the session row first, while it is live and not being processed
     * (PostgreSQL: a placement or an abandon that commits meanwhile is seen
     * here; SQLite's write transactions are serial), then read what it is now:
     * the rewind below must follow the progress that is, not one read before. */
    rc = ck_sessions_hold_for_change(db, session_id, ck_now_ms(), err);
    if (rc >= 0)
        rc = rc == 1 ? 0 : why_not(db, session_id, err);
    if (rc < 0)
        goto done;
    rc = ck_sessions_inputs(db, session_id, &inputs, last, err);
    if (rc <= 0) {
        rc = rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
        goto done;
    }
    rc = 0;
    if (!json_is_object(inputs)) {
        json_decref(inputs);
        inputs = json_object();
    }
    unsigned changed = 0;
    struct {
        const char *key;
        unsigned bit;
        ck_input_op op;
    } map[] = {{"shippingAddress", CK_READS_ADDRESS, ch->address_op},
               {"shippingMethodId", CK_READS_METHOD, ch->method_op},
               {"payment", CK_READS_PAYMENT, ch->payment_op}};
    given[0] = ch->address_op == CK_INPUT_SET ? address_json(&ch->address) : NULL;
    given[1] = ch->method_op == CK_INPUT_SET ? json_string(ch->shipping_method_id) : NULL;
    given[2] = ch->payment_op == CK_INPUT_SET ? payment_json(&ch->payment) : NULL;
    for (size_t i = 0; i < 3; i++) {
        json_t *cur = json_object_get(inputs, map[i].key);
        if (map[i].op == CK_INPUT_KEEP || (map[i].op == CK_INPUT_CLEAR && !cur) ||
            (map[i].op == CK_INPUT_SET && json_equal(given[i], cur)))
            continue; /* absent, or the same value (null = unset) */
        changed |= map[i].bit;
        if (map[i].op == CK_INPUT_CLEAR)
            json_object_del(inputs, map[i].key);
        else
            json_object_set(inputs, map[i].key, given[i]);
    }
    /* Rewind to before the first step that reads a changed input. */
    const char *to = NULL;
    const ck_flow *flow = NULL;
    if ((rc = ck_session_flow(db, session_id, &flow, err)) < 0)
        goto done;
    int rewind = rewind_target(flow, changed, last, &to);
    char *text = ck_json_text(inputs);
    rc = ck_sessions_set_inputs(db, session_id, text, (int64_t)(changed != 0), err);
    free(text);
    if (rc == 0 && rewind && (rc = ck_session_set_progress(db, flow, session_id, CK_ANY_STEP, to, NULL, err)) > 0)
        rc = 0;
done:
    for (size_t i = 0; i < 3; i++)
        json_decref(given[i]);
    json_decref(inputs);
    return rc;
}

int ck_session_update_inputs(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id,
                             const ck_session_changes *changes, ck_error *err)
{
    (void)cx;
    update_tx u = {.user = user, .session_id = session_id, .changes = changes};
    return ck_db_tx(db, 1, update_inputs_tx, &u, err);
}

typedef struct abandon_tx {
    const char *session_id, *cart_id, *owner;
} abandon_tx;

/* The abandon's one commit, under the caller's lease: 0, 409
 * SESSION_COMPLETED (an order, or the lease lapsed and another caller took
 * over), or <0 (rolled back). */
static int abandon_run(ck_db *db, void *arg, ck_error *err)
{
    const abandon_tx *t = arg;
    ck_giveback_opts opts = {.lease_owner = t->owner, .idle_before = 0, .rewind = 0};
    ck_giveback_result gb;
    int rc = ck_session_give_back(db, t->session_id, &opts, &gb, err);
    if (rc == 0) {
        rc = why_not(db, t->session_id, err);
        if (rc == 0 || strcmp(err->reason, "SESSION_COMPLETED") == 0)
            rc = ck_fail(err, CK_ECONFLICT, "SESSION_COMPLETED", NULL, "the order was placed; it cannot be abandoned");
    }
    if (rc == 1)
        rc = ck_sessions_archive(db, t->session_id, t->owner, ck_now_ms(), err);
    if (rc == 0)
        rc = ck_cart_set_status(db, t->cart_id, CK_CART_ACTIVE, err);
    return rc;
}

int ck_session_abandon(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id, ck_error *err)
{
    char account[CK_ID_MAX], cart[CK_ID_MAX];
    int rc = ck_sessions_refs(db, session_id, account, NULL, cart, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    if ((rc = ck_user_can_buy_for(db, user, account, err)) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    /* The lease, as place-order takes it: a placement running now makes this
     * 400 CART_ALREADY_IN_PROGRESS, and none can start until the session is
     * archived, after which none can start at all. */
    char owner[CK_OWNER_MAX];
    ck_owner_new(owner, cx->node_id, "abandon");
    if ((rc = ck_session_lease_take(db, session_id, owner, cx->cfg.lease_seconds, err)) <= 0) {
        if (rc < 0)
            return rc;
        rc = why_not(db, session_id, err);
        if (strcmp(err->reason, "SESSION_COMPLETED") == 0)
            return ck_fail(err, CK_ECONFLICT, "SESSION_COMPLETED", NULL,
                           "the order was placed; it cannot be abandoned");
        return strcmp(err->reason, "SESSION_ARCHIVED") == 0 ? 0 : rc; /* abandoning twice is harmless */
    }
    /* One commit that finds no order: holds marked for void, balances given
     * back, session archived with its lease released, cart Active. */
    abandon_tx t = {.session_id = session_id, .cart_id = cart, .owner = owner};
    rc = ck_db_tx(db, 1, abandon_run, &t, err);
    if (rc < 0) {
        ck_session_lease_release(db, session_id, owner, NULL);
        return rc;
    }
    /* Then the gateway. One that is down does not keep the buyer in
     * checkout: the hold stays marked for void, no order can take it, and
     * the sweeper retries it on its next run. */
    ck_error verr;
    if (ck_hold_void_session(cx, db, session_id, &verr) < 0)
        ck_log(CK_LOG_WARN, "abandon: void left to the sweeper", "sessionId", session_id, "error", verr.message, NULL);
    return 0;
}

typedef struct state_tx {
    const char *session_id, *exp, *next, *owner;
    const ck_flow *flow;
    int gave_back; /* holds may wait for their gateway void */
} state_tx;

/* A state's place in the flow: -1 for Start, nsteps for Completed, else
 * its step's index; -2 for neither. */
static int state_index(const ck_flow *f, const char *state)
{
    if (strcmp(state, CK_STATE_START) == 0)
        return -1;
    if (strcmp(state, CK_STATE_COMPLETED) == 0)
        return (int)f->nsteps;
    int i = ck_flow_index(f, state);
    return i >= 0 ? i : -2;
}

/* The state action's one commit, under its lease: the check of the
 * expected state, the give-back of what the rewind passes (when it goes
 * back to or before the payment), the progress, the lease released. */
static int state_run(ck_db *db, void *arg, ck_error *err)
{
    state_tx *t = arg;
    ck_session_row row;
    int rc = ck_sessions_get(db, t->session_id, ck_now_ms(), &row, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", t->session_id);
    char state[sizeof(row.state)];
    snprintf(state, sizeof(state), "%s", row.state);
    int last = row.has_last_step ? ck_flow_index(t->flow, row.last_step) : -1;
    ck_sessions_row_clear(&row);
    t->gave_back = 0;
    if (strcmp(state, t->exp) != 0)
        return ck_fail(err, CK_ECONFLICT, "STATE_MISMATCH", "expCurrentState",
                       "the checkout's state is %s, not %s: it changed meanwhile (another tab?)", state, t->exp);
    if (strcmp(state, CK_STATE_COMPLETED) == 0)
        return ck_fail(err, CK_ECONFLICT, "SESSION_COMPLETED", NULL, "the order was placed; the checkout is closed");
    int from = state_index(t->flow, state), to = state_index(t->flow, t->next);
    if (to > from)
        return ck_fail(err, CK_EINVALID, "INVALID_STATE", "nextState",
                       "'nextState' %s comes after the current state %s: the state only moves back here", t->next,
                       state);
    if (to == from)
        return ck_session_lease_release(db, t->session_id, t->owner, err);
    /* Going back to or before the payment takes back what it committed,
     * as an abandon does, and a new inputsVersion gives the next
     * authorization a new key (the old one would answer the voided hold). */
    const char *before = NULL;
    int paid = ck_flow_compensated(t->flow, &before);
    if (paid >= 0 && to <= paid && last >= paid) {
        ck_giveback_opts opts = {.lease_owner = t->owner, .idle_before = 0, .rewind = 0};
        ck_giveback_result gb;
        if ((rc = ck_session_give_back(db, t->session_id, &opts, &gb, err)) < 0)
            return rc;
        if (rc == 0)
            return why_not(db, t->session_id, err);
        if ((rc = ck_sessions_bump_inputs_unordered(db, t->session_id, err)) < 0)
            return rc;
        t->gave_back = 1;
    }
    const char *progress = to > 0 ? t->flow->steps[to - 1].path : NULL;
    if ((rc = ck_session_set_progress(db, t->flow, t->session_id, CK_ANY_STEP, progress, t->owner, err)) < 0)
        return rc;
    if (rc == 0)
        return why_not(db, t->session_id, err);
    return ck_session_lease_release(db, t->session_id, t->owner, err);
}

int ck_session_set_state(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id, const char *exp,
                         const char *next, ck_error *err)
{
    char account[CK_ID_MAX];
    const ck_flow *flow = NULL;
    int rc = ck_sessions_refs(db, session_id, account, NULL, NULL, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    if ((rc = ck_user_can_buy_for(db, user, account, err)) <= 0)
        return rc < 0 ? rc : ck_session_no_access(err, session_id);
    if ((rc = ck_session_flow(db, session_id, &flow, err)) < 0)
        return rc;
    if (strcmp(next, CK_STATE_COMPLETED) == 0 || state_index(flow, next) == -2)
        return ck_fail(err, CK_EINVALID, "INVALID_STATE", "nextState",
                       "'nextState' must be Start or a step of the checkout's flow, not %s", next);
    /* The lease, as place-order and abandon take it. */
    char owner[CK_OWNER_MAX];
    ck_owner_new(owner, cx->node_id, "state");
    if ((rc = ck_session_lease_take(db, session_id, owner, cx->cfg.lease_seconds, err)) <= 0)
        return rc < 0 ? rc : why_not(db, session_id, err);
    state_tx t = {.session_id = session_id, .exp = exp, .next = next, .owner = owner, .flow = flow};
    rc = ck_db_tx(db, 1, state_run, &t, err);
    if (rc < 0) {
        ck_session_lease_release(db, session_id, owner, NULL);
        return rc;
    }
    ck_error verr;
    if (t.gave_back && ck_hold_void_session(cx, db, session_id, &verr) < 0)
        ck_log(CK_LOG_WARN, "state rewind: void left to the sweeper", "sessionId", session_id, "error", verr.message,
               NULL);
    return 0;
}
