/* engine.c: the flow engine. One run: take the session's lease and record
 * the request; load the session, cart lines and totals; run the steps after
 * lastSuccessfulStep group by group, committing each group's writes together
 * with the session's progress; on a failure roll the group back and record
 * the error; release the lease on every exit path. */
#include <stdlib.h>
#include <string.h>

#include "store/users.h"
#include "core/log.h"
#include "core/json.h"
#include "core/jsonin.h"
#include "core/context.h"
#include "checkout/engine.h"
#include "checkout/flow.h"
#include "checkout/giveback.h"
#include "checkout/session.h"
#include "steps/step.h"
#include "events/dispatcher.h"
#include "events/outbox.h"
#include "payments/holds.h"

#define MAX_ERRORS_KEPT 20

typedef struct run {
    ck_step_ctx ctx;
    char owner[2 * CK_ID_MAX + 2];
    char last_step[32]; /* lastSuccessfulStep as loaded, "" for none */
    json_t *errors;     /* the session's errors (owned) */
    ck_error step_err;
} run;

static int in_progress(ck_error *err)
{
    return ck_fail(err, CK_EINVALID, "CART_ALREADY_IN_PROGRESS", NULL,
                      "a checkout of this cart is being processed right now; try again shortly");
}

static void run_free(run *r)
{
    json_decref(r->ctx.inputs);
    json_decref(r->errors);
    for (size_t i = 0; i < r->ctx.nlines; i++)
        json_decref(r->ctx.lines[i].tiers);
    free(r->ctx.lines);
}

/* Loads the session, its cart's lines and totals into r. Returns 1, or <0. */
static int load(run *r, ck_error *err)
{
    ck_step_ctx *c = &r->ctx;
    ck_stmt *st = NULL;
    int rc = ck_db_one(c->db, &st, err,
                       "SELECT s.cart_id, s.account_id, s.store_id, s.buyer_id, s.inputs_version, s.inputs,"
                       " s.last_successful_step, s.subtotal, s.adjustments, s.shipping, s.tax, s.grand_total,"
                       " s.errors, s.order_id, c.currency FROM checkout_sessions s JOIN carts c ON c.id = s.cart_id"
                       " WHERE s.id = ?",
                       "t", c->session_id);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", c->session_id);
    snprintf(c->cart_id, sizeof(c->cart_id), "%s", ck_col_text(st, 0));
    snprintf(c->account_id, sizeof(c->account_id), "%s", ck_col_text(st, 1));
    snprintf(c->store_id, sizeof(c->store_id), "%s", ck_col_text(st, 2));
    snprintf(c->buyer_id, sizeof(c->buyer_id), "%s", ck_col_text(st, 3));
    c->inputs_version = ck_col_int(st, 4);
    c->inputs = json_loads(ck_col_text(st, 5), 0, NULL);
    snprintf(r->last_step, sizeof(r->last_step), "%s", ck_col_text(st, 6));
    c->subtotal = ck_col_int(st, 7);
    c->adjustments = ck_col_int(st, 8);
    c->shipping = ck_col_int(st, 9);
    c->tax = ck_col_int(st, 10);
    c->grand_total = ck_col_int(st, 11);
    r->errors = json_loads(ck_col_text(st, 12), 0, NULL);
    snprintf(c->order_id, sizeof(c->order_id), "%s", ck_col_text(st, 13));
    snprintf(c->currency, sizeof(c->currency), "%s", ck_col_text(st, 14));
    ck_db_done(st);
    if (!json_is_object(c->inputs)) {
        json_decref(c->inputs);
        c->inputs = json_object();
    }
    if (!json_is_array(r->errors)) {
        json_decref(r->errors);
        r->errors = json_array();
    }
    rc = ck_db_query(c->db, &st, err,
                     "SELECT ci.id, ci.product_id, ci.sku, ci.quantity, p.unit_price, ci.sales_price, ci.adjustment,"
                     " ci.tax, p.weight_grams, p.stock, p.min_quantity, p.active, p.hazmat, p.export_controlled,"
                     " p.price_tiers FROM cart_items ci JOIN products p ON p.id = ci.product_id"
                     " WHERE ci.cart_id = ? ORDER BY ci.id",
                     "t", c->cart_id);
    if (rc < 0)
        return rc;
    size_t cap = 0;
    while ((rc = ck_db_next(st, err)) == 1) {
        if (c->nlines == cap) {
            cap = cap ? cap * 2 : 16;
            ck_line *nl = realloc(c->lines, cap * sizeof(*nl));
            if (!nl) {
                rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
                break;
            }
            c->lines = nl;
        }
        ck_line *l = &c->lines[c->nlines++];
        memset(l, 0, sizeof(*l));
        snprintf(l->item_id, sizeof(l->item_id), "%s", ck_col_text(st, 0));
        snprintf(l->product_id, sizeof(l->product_id), "%s", ck_col_text(st, 1));
        snprintf(l->sku, sizeof(l->sku), "%s", ck_col_text(st, 2));
        l->quantity = ck_col_int(st, 3);
        l->unit_price = ck_col_int(st, 4);
        l->sales_price = ck_col_int(st, 5);
        l->adjustment = ck_col_int(st, 6);
        l->tax = ck_col_int(st, 7);
        l->weight_grams = ck_col_int(st, 8);
        l->stock = ck_col_int(st, 9);
        l->min_quantity = ck_col_int(st, 10);
        l->active = (int)ck_col_int(st, 11);
        l->hazmat = (int)ck_col_int(st, 12);
        l->export_controlled = (int)ck_col_int(st, 13);
        /* Stored whole and read whole: a product's tiers that do not parse
         * stop the checkout instead of pricing it at its list price. */
        l->tiers = json_loads(ck_col_text(st, 14), 0, NULL);
        if (!json_is_array(l->tiers)) {
            rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "the price tiers of product %s cannot be read",
                         l->product_id);
            break;
        }
    }
    ck_db_done(st);
    return rc < 0 ? rc : 1;
}

/* The session's progress after `step`, inside the group's transaction; only
 * while this run still holds the lease. final: also release it. */
static int save_progress(run *r, const char *step, int final, ck_error *err)
{
    ck_step_ctx *c = &r->ctx;
    int64_t now = ck_now_ms(), changed = 0;
    int rc = ck_session_set_progress(c->db, c->session_id, CK_ANY_STEP, step, r->owner, err);
    if (rc == 0)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "the session's lease was lost");
    if (rc < 0)
        return rc;
    rc = ck_db_exec(c->db, &changed, err,
                    "UPDATE checkout_sessions SET is_error = 0, subtotal = ?, adjustments = ?, shipping = ?, tax = ?,"
                    " grand_total = ?, order_id = CASE WHEN ? = '' THEN order_id ELSE ? END,"
                    " lease_owner = CASE WHEN ? = 1 THEN NULL ELSE lease_owner END,"
                    " lease_expires_at = CASE WHEN ? = 1 THEN 0 ELSE CAST(? AS BIGINT) END WHERE id = ? AND lease_owner = ?",
                    "iiiiittiiitt", c->subtotal, c->adjustments, c->shipping, c->tax, c->grand_total, c->order_id,
                    c->order_id, (int64_t)final, (int64_t)final, now + (int64_t)c->cx->cfg.lease_seconds * 1000,
                    c->session_id, r->owner);
    if (rc < 0)
        return rc;
    rc = ck_db_exec(c->db, NULL, err,
                    "UPDATE carts SET subtotal = ?, adjustments = ?, shipping = ?, tax = ?, grand_total = ?,"
                    " updated_at = ? WHERE id = ?",
                    "iiiiiit", c->subtotal, c->adjustments, c->shipping, c->tax, c->grand_total, now, c->cart_id);
    if (rc == 0 && final)
        rc = ck_db_exec(c->db, NULL, err,
                        "UPDATE checkout_requests SET status = 'Succeeded', order_id = ?, completed_at = ?,"
                        " http_status = 201 WHERE id = ?",
                        "tit", c->order_id, now, c->request_id);
    return rc;
}

/* Records a failed step: session error, lease released, CVO, request Failed,
 * CheckoutFailed event; one commit. */
static void record_failure(run *r, const char *step)
{
    ck_step_ctx *c = &r->ctx;
    ck_error *e = c->err, dberr;
    snprintf(e->step, sizeof(e->step), "%s", step);
    ck_metrics_placement_failed(&c->cx->metrics, e->reason);
    int64_t now = ck_now_ms();
    json_t *entry = json_pack("{s:s, s:s, s:s, s:o}", "step", step, "reason", e->reason, "message", e->message, "at",
                              ck_json_time(now));
    json_array_append(r->errors, entry);
    while (json_array_size(r->errors) > MAX_ERRORS_KEPT)
        json_array_remove(r->errors, 0);
    char *errors = ck_json_text(r->errors);
    json_t *req_errors = json_pack("[{s:s, s:s, s:s, s:s}]", "errorCode", c->cx->error_category(e), "reason", e->reason,
                                   "message", e->message, "step", step);
    char *req_text = ck_json_text(req_errors);
    int rc = ck_db_begin(c->db, 1, &dberr);
    if (rc == 0)
        rc = ck_db_exec(c->db, NULL, &dberr,
                        "UPDATE checkout_sessions SET is_error = 1, errors = ?, lease_owner = NULL,"
                        " lease_expires_at = 0, updated_at = ? WHERE id = ? AND lease_owner = ?",
                        "titt", errors, now, c->session_id, r->owner);
    if (rc == 0 && c->cvo_related[0]) {
        char cvo[CK_ID_MAX];
        ck_id_new(cvo, "cvo");
        rc = ck_db_exec(c->db, NULL, &dberr,
                        "INSERT INTO cart_validation_outputs (id, cart_id, related_entity_id, type, level, message,"
                        " created_at) VALUES (?, ?, ?, ?, 'Error', ?, ?)",
                        "ttttti", cvo, c->cart_id, c->cvo_related,
                        c->cvo_type ? c->cvo_type : "Other", e->message, now);
    }
    if (rc == 0)
        rc = ck_db_exec(c->db, NULL, &dberr,
                        "UPDATE checkout_requests SET status = 'Failed', errors = ?, completed_at = ?, http_status = ?"
                        " WHERE id = ?",
                        "tiit", req_text, now, (int64_t)c->cx->error_status(e), c->request_id);
    if (rc == 0)
        rc = ck_outbox_add(c->db, "CheckoutFailed", NULL, c->session_id,
                           json_pack("{s:s, s:s, s:s, s:s, s:s}", "sessionId", c->session_id, "cartId", c->cart_id,
                                     "step", step, "reason", e->reason, "message", e->message),
                           &dberr);
    if (rc == 0)
        rc = ck_db_commit(c->db, &dberr);
    else
        ck_db_rollback(c->db);
    if (rc < 0) {
        /* The error is still answered; the lease expires or is released at start-up. */
        ck_log(CK_LOG_ERROR, "recording a failed step failed", "sessionId", c->session_id, "error", dberr.message,
               NULL);
        ck_session_lease_release(c->db, c->session_id, r->owner, NULL);
    }
    json_decref(entry);
    json_decref(req_errors);
    free(errors);
    free(req_text);
}

/* After an order could not be made: in one commit that finds the session
 * still without an order and still ours, mark its card holds for void, give
 * back the balances its payment step took, and rewind it to pay again under
 * a new key; then void the holds at the gateway. A void the gateway does not
 * confirm stays pending for the sweeper, which retries it on every run. */
static void give_back(run *r)
{
    ck_step_ctx *c = &r->ctx;
    ck_error e;
    ck_giveback_opts opts = {.lease_owner = r->owner, .idle_before = 0, .rewind = 1};
    ck_giveback_result gb;
    int rc = ck_db_begin(c->db, 1, &e);
    if (rc == 0) {
        rc = ck_session_give_back(c->db, c->session_id, &opts, &gb, &e);
        rc = rc >= 0 ? ck_db_commit(c->db, &e) : (ck_db_rollback(c->db), rc);
    }
    if (rc < 0)
        ck_log(CK_LOG_WARN, "give-back after a failed order failed", "sessionId", c->session_id, "error", e.message,
               NULL);
    if (ck_hold_void_session(c->cx, c->db, c->session_id, &e) < 0)
        ck_log(CK_LOG_WARN, "void after a failed order left to the sweeper", "sessionId", c->session_id, "error",
               e.message, NULL);
}

static int step_index(const char *name)
{
    for (int i = 0; ck_standard_steps[i]; i++)
        if (strcmp(ck_standard_steps[i], name) == 0)
            return i;
    return -1;
}

/* Runs the steps from index `from`; 0 when the flow completed, <0 after a
 * recorded failure (r->ctx.err set). */
static int run_steps(run *r, int from)
{
    ck_step_ctx *c = &r->ctx;
    ck_error dberr;
    for (int i = from; ck_standard_steps[i];) {
        const ck_step_def *first = ck_step_builtin(ck_standard_steps[i]);
        int end = i;
        while (ck_standard_steps[end] && ck_step_builtin(ck_standard_steps[end])->group == first->group)
            end++;
        ck_step_result res = CK_STEP_OK;
        const char *failed = NULL;
        int rc = 0;
        if (!first->external && (rc = ck_step_tx_begin(c, &dberr)) < 0)
            res = ck_step_db_error(c, &dberr);
        for (int k = i; res == CK_STEP_OK && k < end; k++) {
            const ck_step_def *s = ck_step_builtin(ck_standard_steps[k]);
            if (ck_fault_at(c->cx->faults, "step.fail", s->name))
                res = ck_step_retry(c, "INTERNAL_ERROR", "fault injected at step %s", s->name);
            else
                res = s->run(c);
            if (res != CK_STEP_OK)
                failed = s->name;
        }
        if (res == CK_STEP_OK) {
            int final = ck_standard_steps[end] == NULL;
            if (first->external && (rc = ck_step_tx_begin(c, &dberr)) < 0)
                res = ck_step_db_error(c, &dberr);
            if (res == CK_STEP_OK && first->save)
                res = first->save(c);
            if (res == CK_STEP_OK && (rc = save_progress(r, ck_standard_steps[end - 1], final, &dberr)) == 0)
                rc = ck_db_commit(c->db, &dberr);
            else
                ck_db_rollback(c->db);
            if (res == CK_STEP_OK && rc < 0)
                res = ck_step_db_error(c, &dberr);
            if (res != CK_STEP_OK)
                failed = ck_standard_steps[end - 1];
            else
                snprintf(r->last_step, sizeof(r->last_step), "%s", ck_standard_steps[end - 1]);
        } else {
            ck_db_rollback(c->db);
        }
        if (res != CK_STEP_OK) {
            if (c->void_holds)
                give_back(r);
            record_failure(r, failed);
            return c->err->code ? c->err->code : CK_EINTERNAL;
        }
        for (int k = i; k < end; k++)
            if (ck_fault_at(c->cx->faults, "crash.after", ck_standard_steps[k]))
                ck_fault_crash();
        i = end;
    }
    return 0;
}

/* Visibility, archive and completion checks. 1: completed (order_id set),
 * 0: may run, <0: error. */
static int check_session(ck_db *db, const ck_user *user, const char *session_id, char order_id[CK_ID_MAX],
                         ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT account_id, is_archived, state, COALESCE(order_id, '') FROM checkout_sessions WHERE id = ?",
                       "t", session_id);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    char account[CK_ID_MAX];
    snprintf(account, sizeof(account), "%s", ck_col_text(st, 0));
    int archived = (int)ck_col_int(st, 1);
    int completed = strcmp(ck_col_text(st, 2), CK_STATE_COMPLETED) == 0;
    snprintf(order_id, CK_ID_MAX, "%s", ck_col_text(st, 3));
    ck_db_done(st);
    if ((rc = ck_user_can_buy_for(db, user, account, err)) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    if (completed)
        return 1;
    if (archived)
        return ck_fail(err, CK_ECONFLICT, "SESSION_ARCHIVED", NULL, "the checkout was abandoned; start a new one");
    return 0;
}

/* A placement on a completed session: a Succeeded request naming the order. */
static int replay(ck_db *db, const ck_user *user, const char *session_id, const char *order_id,
                  const char *request_id, ck_place_result *out, ck_error *err)
{
    int64_t now = ck_now_ms();
    out->replayed = 1;
    snprintf(out->order_id, sizeof(out->order_id), "%s", order_id);
    if (request_id) {
        snprintf(out->request_id, sizeof(out->request_id), "%s", request_id);
        return ck_db_exec(db, NULL, err,
                          "UPDATE checkout_requests SET status = 'Succeeded', order_id = ?, completed_at = ?,"
                          " http_status = 200 WHERE id = ?",
                          "tit", order_id, now, request_id);
    }
    ck_id_new(out->request_id, "req");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO checkout_requests (id, kind, status, user_id, session_id, order_id, created_at,"
                      " completed_at, http_status) VALUES (?, 'PlaceOrder', 'Succeeded', ?, ?, ?, ?, ?, 200)",
                      "ttttii", out->request_id, user->id, session_id, order_id, now, now);
}

int ck_place_order(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id, const char *request_id,
                   ck_place_result *out, ck_error *err)
{
    memset(out, 0, sizeof(*out));
    char order_id[CK_ID_MAX];
    int rc = check_session(db, user, session_id, order_id, err);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return replay(db, user, session_id, order_id, request_id, out, err);

    run r;
    memset(&r, 0, sizeof(r));
    ck_error_clear(&r.step_err);
    ck_step_ctx *c = &r.ctx;
    c->cx = cx;
    c->db = db;
    c->user = user;
    c->err = &r.step_err;
    snprintf(c->session_id, sizeof(c->session_id), "%s", session_id);
    if (request_id)
        snprintf(c->request_id, sizeof(c->request_id), "%s", request_id);
    else
        ck_id_new(c->request_id, "req");
    snprintf(r.owner, sizeof(r.owner), "%s:%s", cx->node_id, c->request_id);
    c->lease_owner = r.owner;

    /* The lease and the request's Running record commit together. */
    int64_t now = ck_now_ms();
    if ((rc = ck_db_begin(db, 1, err)) < 0)
        return rc;
    int taken = rc = ck_session_lease_take(db, session_id, r.owner, cx->cfg.lease_seconds, err);
    if (taken == 1)
        rc = ck_db_exec(db, NULL, err,
                        "INSERT INTO checkout_requests (id, kind, status, user_id, session_id, created_at)"
                        " VALUES (?, 'PlaceOrder', 'Running', ?, ?, ?)"
                        " ON CONFLICT (id) DO UPDATE SET status = 'Running'",
                        "ttti", c->request_id, user->id, session_id, now);
    if (taken == 0) {
        /* Not taken: held by another caller, or abandoned or completed
         * since check_session read it. */
        ck_db_rollback(db);
        if ((rc = check_session(db, user, session_id, order_id, err)) == 1)
            return replay(db, user, session_id, order_id, request_id, out, err);
        return rc < 0 ? rc : in_progress(err);
    }
    if (rc < 0) {
        ck_db_rollback(db);
        return rc;
    }
    if ((rc = ck_db_commit(db, err)) < 0)
        return rc;

    rc = load(&r, err);
    if (rc == 1 && c->order_id[0] && check_session(db, user, session_id, order_id, err) == 1) {
        /* Completed by the previous holder just before this run took the lease. */
        ck_session_lease_release(db, session_id, r.owner, NULL);
        run_free(&r);
        return replay(db, user, session_id, order_id, c->request_id, out, err);
    }
    if (rc < 0) {
        ck_session_lease_release(db, session_id, r.owner, NULL);
        run_free(&r);
        return rc;
    }
    int from = r.last_step[0] ? step_index(r.last_step) + 1 : 0;
    rc = run_steps(&r, from);
    if (rc < 0) {
        *err = *c->err;
    } else {
        out->replayed = 0;
        snprintf(out->order_id, sizeof(out->order_id), "%s", c->order_id);
        ck_dispatcher_wake(cx); /* its events are waiting */
    }
    snprintf(out->request_id, sizeof(out->request_id), "%s", c->request_id);
    run_free(&r);
    return rc;
}

int ck_place_enqueue(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id,
                     char request_id[CK_ID_MAX], ck_error *err)
{
    char order_id[CK_ID_MAX];
    int rc = check_session(db, user, session_id, order_id, err);
    if (rc != 0)
        return rc;
    /* A placement running now is answered at once, as for a synchronous call. */
    ck_stmt *st = NULL;
    rc = ck_db_one(db, &st, err,
                   "SELECT 1 FROM checkout_sessions WHERE id = ? AND lease_owner IS NOT NULL AND lease_expires_at > ?",
                   "ti", session_id, ck_now_ms());
    ck_db_done(st);
    if (rc != 0)
        return rc < 0 ? rc : in_progress(err);
    ck_id_new(request_id, "req");
    int64_t now = ck_now_ms();
    rc = ck_db_exec(db, NULL, err,
                    "INSERT INTO checkout_requests (id, kind, status, user_id, session_id, created_at)"
                    " VALUES (?, 'PlaceOrder', 'Queued', ?, ?, ?)",
                    "ttti", request_id, user->id, session_id, now);
    if (rc == 0)
        ck_queue_wake(cx);
    return rc;
}
