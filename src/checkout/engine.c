/* engine.c: the flow engine. One run of a ck_flow: take the session's lease
 * and record the request; load the session, cart lines and totals; run the
 * steps after lastSuccessfulStep commit group by commit group (the groups
 * the flow derived from its steps' kinds), each group in phases: run (an
 * external step outside any transaction, the others inside the commit),
 * save, progress, commit; on a failure roll the group back, compensate the
 * steps that committed before it when the failed step asks, and record the
 * error; release the lease on every exit path. */
#include <stdlib.h>
#include <string.h>

#include "store/carts.h"
#include "store/requests.h"
#include "store/runs.h"
#include "store/users.h"
#include "core/log.h"
#include "core/json.h"
#include "core/jsonin.h"
#include "core/context.h"
#include "checkout/engine.h"
#include "checkout/giveback.h"
#include "checkout/session.h"
#include "flows/flow.h"
#include "flows/flows.h"
#include "steps/step.h"
#include "events/dispatcher.h"
#include "events/outbox.h"

#define MAX_ERRORS_KEPT 20

/* A step that failed inside a commit: the transaction is rolled back and
 * the step's own error (ctx->err) is what the run answers. */
#define STEP_FAILED CK_EINTERNAL

typedef struct run {
    ck_step_ctx ctx;
    const ck_flow *flow;
    void **states; /* per step of the flow: its kind's state, zeroed (owned) */
    char owner[CK_OWNER_MAX];
    char last_step[CK_FLOW_PATH_MAX]; /* lastSuccessfulStep, "" for none */
    json_t *errors;                   /* the session's errors (owned) */
    ck_error step_err;
} run;

static int in_progress(ck_error *err)
{
    return ck_fail(err, CK_EINVALID, "CART_ALREADY_IN_PROGRESS", NULL,
                      "a checkout of this cart is being processed right now; try again shortly");
}

/* Frees what load and the steps put in r, and zeroes it (load may run again). */
static void run_free(run *r)
{
    json_decref(r->ctx.inputs);
    json_decref(r->ctx.order_view);
    json_decref(r->errors);
    ck_runs_lines_free(r->ctx.lines, r->ctx.nlines);
    for (size_t i = 0; r->states && r->flow && i < r->flow->nsteps; i++)
        free(r->states[i]);
    free(r->states);
    r->ctx.inputs = r->ctx.order_view = r->errors = NULL;
    r->ctx.lines = NULL;
    r->ctx.nlines = 0;
    r->states = NULL;
    r->flow = NULL;
}

/* Loads the session, its cart's lines and totals into r, and gives each
 * step of the flow its zeroed state. Returns 1, or <0. */
static int load(run *r, ck_error *err)
{
    ck_step_ctx *c = &r->ctx;
    ck_run_session s;
    int rc = ck_runs_load(c->db, c->session_id, &s, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", c->session_id);
    snprintf(c->cart_id, sizeof(c->cart_id), "%s", s.cart_id);
    snprintf(c->account_id, sizeof(c->account_id), "%s", s.account_id);
    snprintf(c->store_id, sizeof(c->store_id), "%s", s.store_id);
    snprintf(c->buyer_id, sizeof(c->buyer_id), "%s", s.buyer_id);
    snprintf(c->currency, sizeof(c->currency), "%s", s.currency);
    snprintf(c->order_id, sizeof(c->order_id), "%s", s.order_id);
    snprintf(r->last_step, sizeof(r->last_step), "%s", s.last_step);
    c->inputs_version = s.inputs_version;
    c->inputs = s.inputs;
    r->errors = s.errors;
    c->subtotal = s.totals.subtotal;
    c->adjustments = s.totals.adjustments;
    c->shipping = s.totals.shipping;
    c->tax = s.totals.tax;
    c->grand_total = s.totals.grand_total;
    /* The flow the session was pinned to when it was created. */
    if ((rc = ck_flow_load(c->db, s.flow_id, s.flow_version, &r->flow, err)) < 0)
        return rc;
    if ((rc = ck_runs_load_lines(c->db, c->cart_id, &c->lines, &c->nlines, err)) < 0)
        return rc;
    if (!(r->states = calloc(r->flow->nsteps ? r->flow->nsteps : 1, sizeof(*r->states))))
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    for (size_t i = 0; i < r->flow->nsteps; i++) {
        size_t size = r->flow->steps[i].kind->state_size;
        if (size && !(r->states[i] = calloc(1, size)))
            return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    }
    return 1;
}

/* The session's progress after `step`, inside the group's transaction; only
 * while this run still holds the lease. final: also release it. */
static int save_progress(run *r, const char *step, int final, ck_error *err)
{
    ck_step_ctx *c = &r->ctx;
    int64_t now = ck_now_ms();
    ck_run_totals t = {c->subtotal, c->adjustments, c->shipping, c->tax, c->grand_total};
    int rc = ck_session_set_progress(c->db, r->flow, c->session_id, CK_ANY_STEP, step, r->owner, err);
    if (rc == 0)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "the session's lease was lost");
    if (rc < 0)
        return rc;
    rc = ck_runs_save_totals(c->db, c->session_id, r->owner, &t, c->order_id, final,
                             now + (int64_t)c->cx->cfg.lease_seconds * 1000, err);
    if (rc == 0)
        rc = ck_runs_cart_totals(c->db, c->cart_id, &t, now, err);
    if (rc == 0 && final)
        rc = ck_requests_succeed(c->db, c->request_id, c->order_id[0] ? c->order_id : NULL,
                                 c->order_id[0] ? 201 : 200, now, err);
    return rc;
}

typedef struct failure {
    run *r;
    const char *step, *errors, *req_errors;
    int64_t now;
} failure;

/* The failure's one commit. */
static int write_failure(ck_db *db, void *arg, ck_error *err)
{
    failure *f = arg;
    ck_step_ctx *c = &f->r->ctx;
    const ck_error *e = c->err;
    char cvo_id[CK_ID_MAX];
    int rc = ck_runs_record_error(db, c->session_id, f->r->owner, f->errors, f->now, err);
    if (rc == 0 && c->cvo_related[0])
        rc = ck_carts_insert_validation_output(db, c->cart_id, c->cvo_related, c->cvo_type ? c->cvo_type : "Other",
                                               "Error", e->message, f->now, cvo_id, err);
    if (rc == 0)
        rc = ck_requests_fail(db, c->request_id, f->req_errors, f->now, c->cx->error_status(e), err);
    if (rc == 0)
        rc = ck_outbox_add(db, "CheckoutFailed", NULL, c->session_id,
                           json_pack("{s:s, s:s, s:s, s:s, s:s}", "sessionId", c->session_id, "cartId", c->cart_id,
                                     "step", f->step, "reason", e->reason, "message", e->message),
                           err);
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
    failure f = {.r = r, .step = step, .errors = errors, .req_errors = req_text, .now = now};
    if (ck_db_tx(c->db, 1, write_failure, &f, &dberr) < 0) {
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

static int give_back_tx(ck_db *db, void *arg, ck_error *err)
{
    run *r = arg;
    ck_giveback_opts opts = {.lease_owner = r->owner, .idle_before = 0, .rewind = 1};
    ck_giveback_result gb;
    return ck_session_give_back(db, r->ctx.session_id, &opts, &gb, err);
}

/* After an order could not be made: the compensation of the steps that
 * committed before it. In one commit that finds the session still without
 * an order and still ours, every step kind with a compensate takes back its
 * own (the payment: holds marked for void, balances given back) and the
 * session is rewound to pay again under a new key; then, after that commit,
 * each takes back what lies outside (the payment: the holds voided at the
 * gateway; a void the gateway does not confirm stays pending for the
 * sweeper, which retries it on every run). */
static void compensate(run *r)
{
    ck_step_ctx *c = &r->ctx;
    ck_error e;
    if (ck_db_tx(c->db, 1, give_back_tx, r, &e) < 0)
        ck_log(CK_LOG_WARN, "give-back after a failed order failed", "sessionId", c->session_id, "error", e.message,
               NULL);
    for (size_t k = 0; k < r->flow->nsteps; k++) {
        const ck_step_kind *kind = r->flow->steps[k].kind;
        ck_step_undo u = {.cx = c->cx, .db = c->db, .session_id = c->session_id, .holds = 0, .balances = 0};
        if (kind->compensate && kind->compensate(&u, CK_UNDO_AFTER, &e) < 0)
            ck_log(CK_LOG_WARN, "void after a failed order left to the sweeper", "sessionId", c->session_id, "error",
                   e.message, NULL);
    }
}

/* One commit group of the flow: steps [i, end). */
typedef struct group {
    run *r;
    size_t i, end;
    int external, final;
    ck_step_result res;
    const char *failed; /* the path of the step that failed */
} group;

/* The session's payment method now (NULL: none chosen). */
static const char *payment_method(const ck_step_ctx *c)
{
    return json_string_value(json_object_get(json_object_get(c->inputs, "payment"), "method"));
}

/* Points the context at step k of the run's flow. */
static void enter_step(run *r, size_t k)
{
    const ck_flow_step *s = &r->flow->steps[k];
    r->ctx.state = r->states[k];
    r->ctx.step_path = s->path;
    r->ctx.step_config = s->config;
    r->ctx.step_prepared = s->prepared;
}

/* The run phase: each step of the group in order, under its fault point. A
 * step whose `when` leaves out the session's payment method is skipped and
 * counts as done, so progress (and a resume) moves past it exactly as past
 * a success. */
static ck_step_result run_phase(group *g)
{
    ck_step_ctx *c = &g->r->ctx;
    for (size_t k = g->i; k < g->end; k++) {
        const ck_flow_step *s = &g->r->flow->steps[k];
        ck_step_result res;
        if (!ck_flow_step_applies(g->r->flow, k, payment_method(c)))
            continue;
        enter_step(g->r, k);
        if (ck_fault_at(c->cx->faults, "step.fail", s->path))
            res = ck_step_retry(c, "INTERNAL_ERROR", "fault injected at step %s", s->path);
        else
            res = s->kind->run(c);
        if (res != CK_STEP_OK) {
            g->failed = s->path;
            return res;
        }
    }
    return CK_STEP_OK;
}

/* The group's commit, after ck_step_tx held the session: the steps (unless
 * external: they ran before it), the saves, then the progress. */
static int commit_phase(ck_db *db, void *arg, ck_error *err)
{
    group *g = arg;
    run *r = g->r;
    ck_step_ctx *c = &r->ctx;
    (void)db;
    if (!g->external && (g->res = run_phase(g)) != CK_STEP_OK)
        return STEP_FAILED;
    for (size_t k = g->i; k < g->end; k++) {
        const ck_step_kind *kind = r->flow->steps[k].kind;
        if (!kind->save || !ck_flow_step_applies(r->flow, k, payment_method(c)))
            continue;
        enter_step(r, k);
        if ((g->res = kind->save(c)) != CK_STEP_OK) {
            g->failed = r->flow->steps[g->end - 1].path;
            return STEP_FAILED;
        }
    }
    return save_progress(r, r->flow->steps[g->end - 1].path, g->final, err);
}

/* Runs the flow's steps [from, to), group by group (to is a group's end);
 * 0 when they all ran, <0 after a recorded failure (r->ctx.err set). The
 * last group's commit releases the lease and ends the request. */
static int run_flow(run *r, const ck_flow *flow, size_t from, size_t to)
{
    ck_step_ctx *c = &r->ctx;
    ck_error dberr;
    for (size_t i = from; i < to;) {
        group g = {.r = r, .i = i, .end = ck_flow_group_end(flow, i), .res = CK_STEP_OK, .failed = NULL};
        /* A view of the order stands only for the commit that built it. */
        json_decref(c->order_view);
        c->order_view = NULL;
        if (g.end > to) /* a run for an action stops inside a group: its steps so far commit */
            g.end = to;
        g.external = (flow->steps[i].kind->flags & CK_STEP_EXTERNAL) != 0;
        g.final = g.end >= to;
        /* An external step talks to the world outside any transaction. */
        if (g.external)
            g.res = run_phase(&g);
        if (g.res == CK_STEP_OK && ck_step_tx(c, commit_phase, &g, &dberr) < 0 && g.res == CK_STEP_OK) {
            g.res = ck_step_db_error(c, &dberr);
            g.failed = flow->steps[g.end - 1].path;
        }
        if (g.res != CK_STEP_OK) {
            json_decref(c->order_view);
            c->order_view = NULL;
            if (c->compensate)
                compensate(r);
            record_failure(r, g.failed);
            return c->err->code ? c->err->code : CK_EINTERNAL;
        }
        snprintf(r->last_step, sizeof(r->last_step), "%s", flow->steps[g.end - 1].path);
        for (size_t k = i; k < g.end; k++)
            if (ck_fault_at(c->cx->faults, "crash.after", flow->steps[k].path))
                ck_fault_crash();
        i = g.end;
    }
    return 0;
}

/* Account access (API.md's table), archive and completion checks. 1: completed (order_id set),
 * 0: may run, <0: error. */
static int check_session(ck_db *db, const ck_user *user, const char *session_id, char order_id[CK_ID_MAX],
                         ck_error *err)
{
    ck_run_status s;
    int rc = ck_runs_status(db, session_id, &s, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "checkout session", session_id);
    snprintf(order_id, CK_ID_MAX, "%s", s.order_id);
    if ((rc = ck_user_can_buy_for(db, user, s.account_id, err)) <= 0)
        return rc < 0 ? rc : ck_session_no_access(err, session_id);
    if (s.completed)
        return 1;
    if (s.archived)
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
        return ck_requests_succeed(db, request_id, order_id, 200, now, err);
    }
    ck_id_new(out->request_id, "req");
    return ck_requests_insert_succeeded(db, out->request_id, "PlaceOrder", user->id, session_id, order_id, 200, now,
                                        err);
}

typedef struct take {
    run *r;
    const char *request_id; /* the caller's (a queued request), or NULL */
    ck_place_result *out;
    int taken;    /* the lease: 1 taken, 0 not, -1 not asked */
    int replayed; /* the session was completed: answered as a replay in this commit */
    int finished; /* completed by the previous holder just before the lease was taken */
} take;

/* One commit starts a run: the session's checks, then its lease, the
 * request's Running record and the run's load (session, flow, lines). A
 * completed session is answered as a replay instead. Not taken, not
 * visible, or completed meanwhile: rolled back, nothing written. */
static int take_lease(ck_db *db, void *arg, ck_error *err)
{
    take *t = arg;
    run *r = t->r;
    ck_step_ctx *c = &r->ctx;
    char order_id[CK_ID_MAX];
    run_free(r); /* an attempt before this one (ck_db_tx retries) */
    t->taken = -1;
    t->replayed = t->finished = 0;
    int rc = check_session(db, c->user, c->session_id, order_id, err);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        t->replayed = 1;
        return replay(db, c->user, c->session_id, order_id, t->request_id, t->out, err);
    }
    t->taken = ck_session_lease_take(db, c->session_id, r->owner, c->cx->cfg.lease_seconds, err);
    if (t->taken <= 0)
        return t->taken < 0 ? t->taken : CK_ECONFLICT;
    if ((rc = ck_requests_insert_running(db, c->request_id, c->user->id, c->session_id, ck_now_ms(), err)) < 0 ||
        (rc = load(r, err)) < 0)
        return rc;
    /* PostgreSQL reads each statement's own snapshot: the previous holder
     * may have committed the order between the check and the lease. */
    if (c->order_id[0] && check_session(db, c->user, c->session_id, order_id, err) == 1) {
        t->finished = 1;
        return CK_ECONFLICT;
    }
    return 0;
}

/* Where a run that stands for built-in `through` (NULL: the whole flow)
 * ends, exclusive: just after that built-in's step wherever the flow puts
 * it (so after the extension steps before it), or before it when `before`;
 * an order step ends with its group (create_order, confirm and close_cart
 * are one commit: no order without its events and closed cart). A flow
 * without that built-in ends before the first built-in that comes after it
 * in the standard order. */
static size_t run_end(const ck_flow *f, const ck_step_kind *through, int before)
{
    if (!through)
        return f->nsteps;
    int rank = ck_step_builtin_rank(through);
    for (size_t i = 0; i < f->nsteps; i++) {
        const ck_step_kind *k = f->steps[i].kind;
        if (k == through) {
            if (k->flags & CK_STEP_ORDER)
                return before ? i : ck_flow_group_end(f, i);
            return before ? i : i + 1;
        }
        if (ck_step_builtin_rank(k) > rank)
            return i;
    }
    return f->nsteps;
}

int ck_place_order(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id, const char *request_id,
                   ck_place_result *out, ck_error *err)
{
    return ck_place_run(cx, db, user, session_id, request_id, NULL, 0, out, err);
}

/* The run had nothing left to do before its end: the lease goes back and
 * the request is Succeeded, in one commit. */
static int nothing_to_run(ck_db *db, void *arg, ck_error *err)
{
    run *r = arg;
    ck_step_ctx *c = &r->ctx;
    int rc = ck_session_lease_release(db, c->session_id, r->owner, err);
    return rc < 0 ? rc : ck_requests_succeed(db, c->request_id, NULL, 200, ck_now_ms(), err);
}

int ck_place_run(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id, const char *request_id,
                 const ck_step_kind *through, int before, ck_place_result *out, ck_error *err)
{
    memset(out, 0, sizeof(*out));
    char order_id[CK_ID_MAX];
    int rc;
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

    take t = {.r = &r, .request_id = request_id, .out = out, .taken = -1};
    rc = ck_db_tx(db, 1, take_lease, &t, err);
    if (t.replayed || t.taken == 0 || t.finished || rc < 0)
        run_free(&r);
    if (t.replayed)
        return rc;
    if (t.taken == 0 || t.finished) {
        /* Not taken: held by another caller, or abandoned or completed
         * since check_session read it (PostgreSQL). */
        if ((rc = check_session(db, user, session_id, order_id, err)) == 1)
            return replay(db, user, session_id, order_id, t.finished ? c->request_id : request_id, out, err);
        return rc < 0 ? rc : in_progress(err);
    }
    if (rc < 0)
        return rc;
    size_t from = ck_flow_resume_index(r.flow, r.last_step), to = run_end(r.flow, through, before);
    if (from >= to) /* an action for a step the session is already past */
        rc = ck_db_tx(db, 1, nothing_to_run, &r, err);
    else if ((rc = run_flow(&r, r.flow, from, to)) < 0)
        *err = *c->err;
    if (rc >= 0) {
        out->replayed = 0;
        snprintf(out->order_id, sizeof(out->order_id), "%s", c->order_id);
        out->order = c->order_view;
        c->order_view = NULL;
        if (c->order_id[0])
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
    rc = ck_runs_lease_live(db, session_id, ck_now_ms(), err);
    if (rc != 0)
        return rc < 0 ? rc : in_progress(err);
    ck_id_new(request_id, "req");
    rc = ck_requests_insert_queued(db, request_id, user->id, session_id, ck_now_ms(), err);
    if (rc == 0)
        ck_queue_wake(cx);
    return rc;
}
