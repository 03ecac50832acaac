/* session.c: the checkout session action, the session lease and the views. */
#include <string.h>

#include "store/users.h"
#include "core/log.h"
#include "core/json.h"
#include "core/jsonin.h"
#include "core/context.h"
#include "carts/cart.h"
#include "checkout/flow.h"
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

/* The checks that only read, in the table's order (after the permission and
 * cart id syntax checks). Returns 0 when the action may write, 1 when a row
 * of the table holds (err set), <0 when a read failed (dberr set). */
static int check_table(ck_db *db, const ck_user *user, const ck_cart *cart, char live_session[CK_ID_MAX],
                       ck_error *err, ck_error *dberr)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, dberr, "SELECT is_buyer FROM accounts WHERE id = ?", "t", cart->account_id);
    if (rc < 0)
        return rc;
    int is_buyer = rc == 1 && ck_col_int(st, 0) != 0;
    ck_db_done(st);
    if (!is_buyer)
        return NO_ACCESS(err, "the cart's account is not a buyer account"), 1;
    if ((rc = ck_user_can_buy_for(db, user, cart->account_id, dberr)) < 0)
        return rc;
    if (rc == 0)
        return NO_ACCESS(err, "the caller was not given the cart's account"), 1;

    rc = ck_db_one(db, &st, dberr, "SELECT 1 FROM store_members WHERE store_id = ? AND account_id = ?", "tt",
                   cart->store_id, cart->account_id);
    ck_db_done(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return NOT_MEMBER(err), 1;

    rc = ck_db_one(db, &st, dberr,
                   "SELECT id, lease_owner IS NOT NULL AND lease_expires_at > ? FROM checkout_sessions"
                   " WHERE cart_id = ? AND is_archived = 0",
                   "it", ck_now_ms(), cart->id);
    if (rc < 0)
        return rc;
    live_session[0] = '\0';
    if (rc == 1) {
        snprintf(live_session, CK_ID_MAX, "%s", ck_col_text(st, 0));
        int leased = ck_col_int(st, 1) != 0;
        ck_db_done(st);
        if (leased)
            return IN_PROGRESS(err), 1;
    }
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
        ck_stmt *st = NULL;
        char flow_id[CK_ID_MAX] = CK_FLOW_STANDARD_ID;
        if ((rc = ck_db_one(db, &st, err, "SELECT active_flow_id FROM stores WHERE id = ?", "t", cart->store_id)) < 0)
            return rc;
        if (rc == 1)
            snprintf(flow_id, sizeof(flow_id), "%s", ck_col_text(st, 0));
        ck_db_done(st);
        char id[CK_ID_MAX];
        ck_id_new(id, "cs");
        int64_t changed = 0;
        /* On PostgreSQL two creators can race past the read above; the partial
         * unique index makes the loser insert nothing, and it reads the winner's. */
        rc = ck_db_exec(db, &changed, err,
                        "INSERT INTO checkout_sessions (id, cart_id, buyer_id, account_id, store_id, flow_id,"
                        " flow_version, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)"
                        " ON CONFLICT (cart_id) WHERE is_archived = 0 DO NOTHING",
                        "tttttttii", id, cart->id, user->id, cart->account_id, cart->store_id, flow_id,
                        CK_STATE_START, now, now);
        if (rc < 0)
            return rc;
        if (changed == 1) {
            snprintf(out->session_id, sizeof(out->session_id), "%s", id);
            out->created = 1;
        } else {
            rc = ck_db_one(db, &st, err, "SELECT id FROM checkout_sessions WHERE cart_id = ? AND is_archived = 0",
                           "t", cart->id);
            if (rc <= 0)
                return rc < 0 ? rc : ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "session vanished");
            snprintf(out->session_id, sizeof(out->session_id), "%s", ck_col_text(st, 0));
            ck_db_done(st);
        }
    }
    rc = ck_db_exec(db, NULL, err,
                    "DELETE FROM cart_validation_outputs WHERE cart_id = ? AND related_entity_id = ? AND level = 'Error'",
                    "tt", cart->id, cart->id);
    if (rc < 0)
        return rc;
    ck_id_new(out->request_id, "req");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO checkout_requests (id, kind, status, user_id, session_id, created_at, completed_at)"
                      " VALUES (?, 'CheckoutSession', 'Succeeded', ?, ?, ?, ?)",
                      "tttii", out->request_id, user->id, out->session_id, now, now);
}

int ck_session_action(ck_ctx *cx, ck_db *db, const ck_user *user, json_t *cart_id,
                      ck_session_action_result *out, ck_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!(user->perms & (CK_PERM_BUYER | CK_PERM_INTEGRATOR | CK_PERM_ADMIN)))
        return CANNOT_INVOKE(err);
    if (!cart_id || json_is_null(cart_id))
        return INVALID_CART(err, "cartId is required");
    if (!json_is_string(cart_id) || !ck_id_valid(json_string_value(cart_id), "cart"))
        return INVALID_CART(err, "cartId is not a cart id");
    const char *id = json_string_value(cart_id);

    ck_error werr;
    ck_error_clear(&werr);
    int rc = ck_db_begin(db, 1, &werr);
    if (rc < 0)
        return NOT_CREATED(err, "the session could not be written; try again");
    ck_cart cart;
    rc = ck_cart_load(db, id, &cart, &werr);
    if (rc == 0 || (rc == 1 && cart.status == CK_CART_CLOSED)) {
        ck_db_rollback(db);
        return INVALID_CART(err, rc == 0 ? "no such cart" : "the cart is Closed (already ordered)");
    }
    if (rc > 0)
        rc = check_table(db, user, &cart, out->session_id, err, &werr);
    if (rc != 0) {
        ck_db_rollback(db);
        if (rc == 1)
            return err ? err->code : CK_EINVALID; /* a row of the table */
        /* A storage failure is the table's last row; details go to the log. */
        ck_log(CK_LOG_ERROR, "session action failed", "cartId", id, "error", werr.message, NULL);
        return NOT_CREATED(err, "the session could not be written; try again");
    }
    rc = write_session(cx, db, user, &cart, out, &werr);
    if (rc == 0)
        rc = ck_db_commit(db, &werr);
    else
        ck_db_rollback(db);
    if (rc < 0) {
        ck_log(CK_LOG_ERROR, "session action failed", "cartId", id, "error", werr.message, NULL);
        memset(out, 0, sizeof(*out));
        return NOT_CREATED(err, "the session could not be written; try again");
    }
    return 0;
}

int ck_session_set_progress(ck_db *db, const char *session_id, const char *from, const char *last,
                            const char *lease_owner, ck_error *err)
{
    const char *state = last ? ck_flow_next_state(last) : CK_STATE_START;
    if (!state || (last && strcmp(last, CK_STATE_START) == 0))
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "no step '%s' in the flow", last ? last : "");
    int any = from == CK_ANY_STEP;
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE checkout_sessions SET last_successful_step = ?, state = ?, updated_at = ?"
                        " WHERE id = ? AND state <> 'Completed'"
                        " AND (? = 1 OR COALESCE(last_successful_step, '') = ?)"
                        " AND (? = '' OR lease_owner = ?)",
                        "ttitittt", last, state, ck_now_ms(), session_id, (int64_t)any, any ? "" : from,
                        lease_owner ? lease_owner : "", lease_owner ? lease_owner : "");
    return rc < 0 ? rc : changed == 1;
}

int ck_session_lease_take(ck_db *db, const char *session_id, const char *owner, int seconds, ck_error *err)
{
    int64_t now = ck_now_ms(), changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE checkout_sessions SET lease_owner = ?, lease_expires_at = ?"
                        " WHERE id = ? AND is_archived = 0"
                        " AND (lease_owner IS NULL OR lease_expires_at <= ? OR lease_owner = ?)",
                        "titit", owner, now + (int64_t)seconds * 1000, session_id, now, owner);
    return rc < 0 ? rc : changed == 1;
}

int ck_session_lease_release(ck_db *db, const char *session_id, const char *owner, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE checkout_sessions SET lease_owner = NULL, lease_expires_at = 0"
                      " WHERE id = ? AND lease_owner = ?",
                      "tt", session_id, owner);
}

int ck_session_leases_release_all(ck_db *db, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE checkout_sessions SET lease_owner = NULL, lease_expires_at = 0"
                      " WHERE lease_owner IS NOT NULL",
                      "");
}

static json_t *json_or_null(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_null();
}

static json_t *opt_str(ck_stmt *st, int col)
{
    const char *s = ck_col_text_or_null(st, col);
    return s ? json_string(s) : json_null();
}

int ck_session_json(ck_db *db, const ck_user *user, const char *session_id, json_t **out, ck_error *err)
{
    *out = NULL;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, cart_id, buyer_id, account_id, store_id, flow_id, flow_version, state,"
                       " last_successful_step, lease_owner IS NOT NULL AND lease_expires_at > ?, is_error,"
                       " is_archived, order_id, inputs_version, inputs, subtotal, adjustments, shipping, tax,"
                       " grand_total, errors, created_at, updated_at FROM checkout_sessions WHERE id = ?",
                       "it", ck_now_ms(), session_id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "checkout session", session_id);
    char account[CK_ID_MAX];
    snprintf(account, sizeof(account), "%s", ck_col_text(st, 3));
    json_t *inputs = json_or_null(ck_col_text(st, 14));
    json_t *in = json_pack("{s:O, s:O, s:O}", "shippingAddress",
                           json_object_get(inputs, "shippingAddress") ? json_object_get(inputs, "shippingAddress")
                                                                       : json_null(),
                           "shippingMethodId",
                           json_object_get(inputs, "shippingMethodId") ? json_object_get(inputs, "shippingMethodId")
                                                                        : json_null(),
                           "payment", json_object_get(inputs, "payment") ? json_object_get(inputs, "payment")
                                                                         : json_null());
    json_decref(inputs);
    const char *state = ck_col_text(st, 7);
    const char *next = ck_flow_next_state(state);
    json_t *s = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:b, s:b, s:b, s:o, s:I, s:o}", "id", ck_col_text(st, 0),
        "cartId", ck_col_text(st, 1), "buyerId", ck_col_text(st, 2), "accountId", ck_col_text(st, 3), "storeId",
        ck_col_text(st, 4), "flowId", ck_col_text(st, 5), "flowVersion", (json_int_t)ck_col_int(st, 6), "state",
        state, "nextState", next ? json_string(next) : json_null(), "lastSuccessfulStep", opt_str(st, 8),
        "isProcessing", (int)ck_col_int(st, 9), "isError", (int)ck_col_int(st, 10), "isArchived",
        (int)ck_col_int(st, 11), "orderId", opt_str(st, 12), "inputsVersion", (json_int_t)ck_col_int(st, 13),
        "inputs", in);
    json_object_set_new(s, "totals",
                        json_pack("{s:I, s:I, s:I, s:I, s:I}", "subtotal", (json_int_t)ck_col_int(st, 15),
                                  "adjustments", (json_int_t)ck_col_int(st, 16), "shipping",
                                  (json_int_t)ck_col_int(st, 17), "tax", (json_int_t)ck_col_int(st, 18),
                                  "grandTotal", (json_int_t)ck_col_int(st, 19)));
    json_t *errors = json_or_null(ck_col_text(st, 20));
    json_object_set_new(s, "errors", json_is_array(errors) ? errors : json_array());
    if (!json_is_array(errors))
        json_decref(errors);
    json_object_set_new(s, "createdAt", ck_json_time(ck_col_int(st, 21)));
    json_object_set_new(s, "updatedAt", ck_json_time(ck_col_int(st, 22)));
    ck_db_done(st);
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
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, kind, status, user_id, session_id, order_id, errors, created_at, completed_at"
                       " FROM checkout_requests WHERE id = ?",
                       "t", request_id);
    if (rc < 0)
        return rc;
    if (rc == 0 || (strcmp(ck_col_text(st, 3), user->id) != 0 && !(user->perms & CK_PERM_ADMIN))) {
        ck_db_done(st);
        return ck_not_found(err, "request", request_id);
    }
    json_t *errors = json_or_null(ck_col_text(st, 6));
    if (!json_is_array(errors)) {
        json_decref(errors);
        errors = json_array();
    }
    json_t *r = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", ck_col_text(st, 0), "kind",
                          ck_col_text(st, 1), "status", ck_col_text(st, 2), "sessionId", opt_str(st, 4), "orderId",
                          opt_str(st, 5), "errors", errors, "createdAt", ck_json_time(ck_col_int(st, 7)),
                          "completedAt", ck_col_null(st, 8) ? json_null() : ck_json_time(ck_col_int(st, 8)));
    ck_db_done(st);
    *out = r;
    return 0;
}
