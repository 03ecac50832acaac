/* session_change.c: changing a live session: its inputs (PATCH), with the
 * rewind to before the first step that reads a changed input, and abandoning
 * it (DELETE), which voids its open authorizations and gives back reserved
 * credit, prepaid balance or contract amount. */
#include <string.h>

#include "store/users.h"
#include "core/log.h"
#include "core/json.h"
#include "core/jsonin.h"
#include "core/context.h"
#include "carts/cart.h"
#include "checkout/flow.h"
#include "checkout/giveback.h"
#include "checkout/session.h"
#include "steps/step.h"
#include "payments/holds.h"

static const char *const pay_methods[] = {"card", "purchase_order", "net_terms", "prepaid", "contract", NULL};

static int read_address(json_t *a, ck_error *err)
{
    static const char *const fields[] = {"name", "street", "city", "region", "postalCode", "country", NULL};
    const char *s = NULL;
    int rc;
    if (!json_is_object(a))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "shippingAddress", "'shippingAddress' must be an object");
    if ((rc = ck_in_only(a, fields, err)) < 0 || (rc = ck_in_str(a, "name", 1, CK_NAME_MAX, &s, err)) < 0 ||
        (rc = ck_in_str(a, "street", 1, CK_NAME_MAX, &s, err)) < 0 ||
        (rc = ck_in_str(a, "city", 1, CK_NAME_MAX, &s, err)) < 0 ||
        (rc = ck_in_str(a, "region", 0, CK_NAME_MAX, &s, err)) < 0 ||
        (rc = ck_in_str(a, "postalCode", 1, 32, &s, err)) < 0 || (rc = ck_in_country(a, "country", 1, &s, err)) < 0) {
        char f[sizeof(err->field) + 32];
        snprintf(f, sizeof(f), "shippingAddress.%s", err->field);
        snprintf(err->field, sizeof(err->field), "%.63s", f);
        return rc;
    }
    return 0;
}

static int read_payment(json_t *p, ck_error *err)
{
    static const char *const fields[] = {"method", "cardToken", "poNumber", "contractId", NULL};
    const char *method = NULL, *s = NULL;
    int rc;
    if (!json_is_object(p))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "payment", "'payment' must be an object");
    if ((rc = ck_in_only(p, fields, err)) < 0 || (rc = ck_in_enum(p, "method", 1, pay_methods, &method, err)) < 0 ||
        (rc = ck_in_str(p, "cardToken", 0, 256, &s, err)) < 0 || (rc = ck_in_str(p, "poNumber", 0, 64, &s, err)) < 0 ||
        (rc = ck_in_id(p, "contractId", 0, "ctr", &s, err)) < 0) {
        char f[sizeof(err->field) + 32];
        snprintf(f, sizeof(f), "payment.%s", err->field);
        snprintf(err->field, sizeof(err->field), "%.63s", f);
        return rc;
    }
    /* Each method takes its own details only. */
    const char *allowed = strcmp(method, "card") == 0                                        ? "cardToken"
                          : strcmp(method, "purchase_order") == 0 || !strcmp(method, "net_terms") ? "poNumber"
                          : strcmp(method, "contract") == 0                                       ? "contractId"
                                                                                                  : "";
    for (int i = 1; fields[i]; i++)
        if (json_object_get(p, fields[i]) && !json_is_null(json_object_get(p, fields[i])) &&
            strcmp(fields[i], allowed) != 0)
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", fields[i] == fields[1]   ? "payment.cardToken"
                                                               : fields[i] == fields[2] ? "payment.poNumber"
                                                                                        : "payment.contractId",
                           "payment.%s does not apply to the %s method", fields[i], method);
    return 0;
}

/* The rewind after a change of the inputs in `changed` (CK_READS_* bits),
 * asked of the session's flow: 1 when lastSuccessfulStep `last` must go back
 * to *to (NULL: none), to before the first step that reads a changed input;
 * 0 when no step read one yet. */
static int rewind_target(const char *last, unsigned changed, const char **to)
{
    return ck_flow_rewind_target(ck_flow_standard(), last, changed, to);
}

/* Explains why a conditional session update changed nothing. */
static int why_not(ck_db *db, const char *session_id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT is_archived, state, lease_owner IS NOT NULL AND lease_expires_at > ?"
                       " FROM checkout_sessions WHERE id = ?",
                       "it", ck_now_ms(), session_id);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    int archived = (int)ck_col_int(st, 0), completed = strcmp(ck_col_text(st, 1), CK_STATE_COMPLETED) == 0,
        leased = (int)ck_col_int(st, 2);
    ck_db_done(st);
    if (completed)
        return ck_fail(err, CK_ECONFLICT, "SESSION_COMPLETED", NULL, "the order was placed; the checkout is closed");
    if (archived)
        return ck_fail(err, CK_ECONFLICT, "SESSION_ARCHIVED", NULL, "the checkout was abandoned; start a new one");
    if (leased)
        return ck_fail(err, CK_EINVALID, "CART_ALREADY_IN_PROGRESS", NULL,
                          "a checkout of this cart is being processed right now; try again shortly");
    return ck_fail(err, CK_ECONFLICT, "SESSION_CHANGED", NULL, "the checkout changed meanwhile; try again");
}

int ck_session_update_inputs(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id, json_t *body,
                             ck_error *err)
{
    static const char *const fields[] = {"shippingAddress", "shippingMethodId", "payment", NULL};
    const char *method_id = NULL;
    json_t *addr = json_object_get(body, "shippingAddress"), *pay = json_object_get(body, "payment");
    (void)cx;
    json_t *inputs = NULL;
    int rc = ck_db_begin(db, 1, err);
    if (rc < 0)
        return rc;
    ck_stmt *st = NULL;
    rc = ck_db_one(db, &st, err, "SELECT account_id, store_id FROM checkout_sessions WHERE id = ?", "t", session_id);
    if (rc <= 0) {
        ck_db_rollback(db);
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    }
    char account[CK_ID_MAX], store[CK_ID_MAX], last[32];
    snprintf(account, sizeof(account), "%s", ck_col_text(st, 0));
    snprintf(store, sizeof(store), "%s", ck_col_text(st, 1));
    ck_db_done(st);
    /* Visibility first: a session the caller may not see is 404 whatever the body. */
    if ((rc = ck_user_can_buy_for(db, user, account, err)) <= 0) {
        rc = rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
        goto done;
    }
    if ((rc = ck_in_only(body, fields, err)) < 0 ||
        (addr && !json_is_null(addr) && (rc = read_address(addr, err)) < 0) ||
        (rc = ck_in_id(body, "shippingMethodId", 0, "shm", &method_id, err)) < 0 ||
        (pay && !json_is_null(pay) && (rc = read_payment(pay, err)) < 0))
        goto done;
    rc = 0;
    if (method_id) {
        rc = ck_db_one(db, &st, err, "SELECT 1 FROM shipping_methods WHERE id = ? AND store_id = ?", "tt", method_id,
                       store);
        ck_db_done(st);
        if (rc <= 0) {
            rc = rc < 0 ? rc : ck_fail(err, CK_EINVALID, "INVALID_FIELD", "shippingMethodId",
                                       "shipping method %s is not offered by this store", method_id);
            goto done;
        }
    }
    /* Hold the session row first, while it is live and not being processed
     * (PostgreSQL: a placement or an abandon that commits meanwhile is seen
     * here; SQLite's write transactions are serial), then read what it is now:
     * the rewind below must follow the progress that is, not one read before. */
    int64_t n = 0, now = ck_now_ms();
    rc = ck_db_exec(db, &n, err,
                    "UPDATE checkout_sessions SET updated_at = ? WHERE id = ? AND is_archived = 0"
                    " AND state <> 'Completed' AND (lease_owner IS NULL OR lease_expires_at <= ?)",
                    "iti", now, session_id, now);
    if (rc == 0 && n != 1)
        rc = why_not(db, session_id, err);
    if (rc < 0)
        goto done;
    rc = ck_db_one(db, &st, err, "SELECT inputs, last_successful_step FROM checkout_sessions WHERE id = ?", "t",
                   session_id);
    if (rc <= 0) {
        rc = rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
        goto done;
    }
    inputs = json_loads(ck_col_text(st, 0), 0, NULL);
    snprintf(last, sizeof(last), "%s", ck_col_text(st, 1));
    ck_db_done(st);
    rc = 0;
    if (!json_is_object(inputs)) {
        json_decref(inputs);
        inputs = json_object();
    }
    unsigned changed = 0;
    struct {
        const char *key;
        unsigned bit;
    } map[] = {{"shippingAddress", CK_READS_ADDRESS}, {"shippingMethodId", CK_READS_METHOD}, {"payment", CK_READS_PAYMENT}};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(body, map[i].key), *cur = json_object_get(inputs, map[i].key);
        if (!v || (json_is_null(v) && !cur) || json_equal(v, cur))
            continue; /* absent, or the same value (null = unset) */
        changed |= map[i].bit;
        if (json_is_null(v))
            json_object_del(inputs, map[i].key);
        else
            json_object_set(inputs, map[i].key, v);
    }
    /* Rewind to before the first step that reads a changed input. */
    const char *rewind_to = NULL;
    int rewind = rewind_target(last, changed, &rewind_to);
    char *text = ck_json_text(inputs);
    rc = ck_db_exec(db, NULL, err,
                    "UPDATE checkout_sessions SET inputs = ?, inputs_version = inputs_version + ?, is_error = 0"
                    " WHERE id = ?",
                    "tit", text, (int64_t)(changed != 0), session_id);
    free(text);
    if (rc == 0 && rewind &&
        (rc = ck_session_set_progress(db, session_id, CK_ANY_STEP, rewind_to, NULL, err)) > 0)
        rc = 0;
done:
    json_decref(inputs);
    if (rc == 0)
        return ck_db_commit(db, err);
    ck_db_rollback(db);
    return rc;
}

int ck_session_abandon(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT account_id, cart_id FROM checkout_sessions WHERE id = ?", "t",
                       session_id);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    char account[CK_ID_MAX], cart[CK_ID_MAX];
    snprintf(account, sizeof(account), "%s", ck_col_text(st, 0));
    snprintf(cart, sizeof(cart), "%s", ck_col_text(st, 1));
    ck_db_done(st);
    if ((rc = ck_user_can_buy_for(db, user, account, err)) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    /* The lease, as place-order takes it: a placement running now makes this
     * 400 CART_ALREADY_IN_PROGRESS, and none can start until the session is
     * archived, after which none can start at all. */
    char owner[2 * CK_ID_MAX + 2], rid[CK_ID_MAX];
    ck_id_new(rid, "abandon");
    snprintf(owner, sizeof(owner), "%s:%s", cx->node_id, rid);
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
    ck_giveback_opts opts = {.lease_owner = owner, .idle_before = 0, .rewind = 0};
    ck_giveback_result gb;
    if ((rc = ck_db_begin(db, 1, err)) == 0) {
        rc = ck_session_give_back(db, session_id, &opts, &gb, err);
        if (rc == 0) { /* an order, or our lease lapsed and another caller took over */
            rc = why_not(db, session_id, err);
            if (rc == 0 || strcmp(err->reason, "SESSION_COMPLETED") == 0)
                rc = ck_fail(err, CK_ECONFLICT, "SESSION_COMPLETED", NULL,
                             "the order was placed; it cannot be abandoned");
        }
        if (rc == 1)
            rc = ck_db_exec(db, NULL, err,
                            "UPDATE checkout_sessions SET is_archived = 1, lease_owner = NULL, lease_expires_at = 0,"
                            " updated_at = ? WHERE id = ? AND lease_owner = ?",
                            "itt", ck_now_ms(), session_id, owner);
        if (rc == 0)
            rc = ck_cart_set_status(db, cart, CK_CART_ACTIVE, err);
        rc = rc == 0 ? ck_db_commit(db, err) : (ck_db_rollback(db), rc);
    }
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
