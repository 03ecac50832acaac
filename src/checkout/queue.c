/* queue.c: the async placement runner. Requests are rows: a Queued request
 * is claimed with a conditional UPDATE (so several nodes can share one
 * database), placed, and finished as Succeeded or Failed. A request left
 * Running by a dead runner is claimed again when its run lease expires (and
 * at once on SQLite start-up). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/json.h"
#include "core/jsonin.h"
#include "core/context.h"
#include "checkout/engine.h"

#define RUN_LEASE_MS (5LL * 60 * 1000)
#define IDLE_WAIT_MS 250

/* Claims one request: 1 claimed (ids filled), 0 none, <0 error. */
static int claim(ck_ctx *cx, ck_db *db, char request_id[CK_ID_MAX], char user_id[CK_ID_MAX],
                 char session_id[CK_ID_MAX], ck_error *err)
{
    int64_t now = ck_now_ms(), changed = 0;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, user_id, session_id FROM checkout_requests WHERE kind = 'PlaceOrder' AND"
                       " (status = 'Queued' OR (status = 'Running' AND runner IS NOT NULL AND run_lease_until < ?))"
                       " ORDER BY id LIMIT 1",
                       "i", now);
    if (rc <= 0)
        return rc;
    snprintf(request_id, CK_ID_MAX, "%s", ck_col_text(st, 0));
    snprintf(user_id, CK_ID_MAX, "%s", ck_col_text(st, 1));
    snprintf(session_id, CK_ID_MAX, "%s", ck_col_text(st, 2));
    ck_db_done(st);
    rc = ck_db_exec(db, &changed, err,
                    "UPDATE checkout_requests SET status = 'Running', runner = ?, run_lease_until = ?"
                    " WHERE id = ? AND (status = 'Queued' OR (status = 'Running' AND run_lease_until < ?))",
                    "titi", cx->node_id, now + RUN_LEASE_MS, request_id, now);
    return rc < 0 ? rc : changed == 1;
}

static int load_user(ck_db *db, const char *id, ck_user *u, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT id, name, email, permissions FROM users WHERE id = ?", "t", id);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "user", id);
    snprintf(u->id, sizeof(u->id), "%s", ck_col_text(st, 0));
    snprintf(u->name, sizeof(u->name), "%s", ck_col_text(st, 1));
    snprintf(u->email, sizeof(u->email), "%s", ck_col_text(st, 2));
    u->perms = (unsigned)ck_col_int(st, 3);
    ck_db_done(st);
    return 0;
}

/* A request that failed before its flow ran (lease held, session gone):
 * the engine recorded nothing, so record the error here. */
static void finish_failed(ck_ctx *cx, ck_db *db, const char *request_id, const ck_error *e)
{
    json_t *errs = ck_error_json(e, cx->error_category(e));
    char *text = ck_json_text(errs);
    ck_db_exec(db, NULL, NULL,
               "UPDATE checkout_requests SET status = 'Failed', errors = ?, completed_at = ?, http_status = ?"
               " WHERE id = ? AND status = 'Running'",
               "tiit", text ? text : "[]", ck_now_ms(), (int64_t)cx->error_status(e), request_id);
    free(text);
    json_decref(errs);
}

static void *runner(void *arg)
{
    ck_ctx *cx = arg;
    ck_error err;
    ck_db *db = ck_ctx_db(cx, &err);
    while (db && !atomic_load(&cx->stopping)) {
        char request_id[CK_ID_MAX], user_id[CK_ID_MAX], session_id[CK_ID_MAX];
        ck_error_clear(&err);
        int rc = claim(cx, db, request_id, user_id, session_id, &err);
        if (rc == 1) {
            ck_user user;
            ck_place_result res;
            memset(&user, 0, sizeof(user));
            rc = load_user(db, user_id, &user, &err);
            if (rc == 0) {
                int64_t t0 = ck_mono_us();
                rc = ck_place_order(cx, db, &user, session_id, request_id, &res, &err);
                ck_metrics_placement_done(&cx->metrics, rc, res.replayed, &err, t0);
            }
            if (rc < 0)
                finish_failed(cx, db, request_id, &err);
            continue;
        }
        if (rc < 0)
            ck_log(CK_LOG_ERROR, "placement queue failed", "error", err.message, NULL);
        pthread_mutex_lock(&cx->queue.mu);
        if (!cx->queue.wake && !atomic_load(&cx->stopping)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += IDLE_WAIT_MS * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&cx->queue.cond, &cx->queue.mu, &ts);
        }
        cx->queue.wake = 0;
        pthread_mutex_unlock(&cx->queue.mu);
    }
    return NULL;
}

int ck_queue_start(ck_ctx *cx, ck_error *err)
{
    pthread_mutex_init(&cx->queue.mu, NULL);
    pthread_cond_init(&cx->queue.cond, NULL);
    if (pthread_create(&cx->queue.thread, NULL, runner, cx) != 0)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "cannot start the placement runner");
    cx->queue.started = 1;
    return 0;
}

void ck_queue_wake(ck_ctx *cx)
{
    if (!cx->queue.started)
        return;
    pthread_mutex_lock(&cx->queue.mu);
    cx->queue.wake = 1;
    pthread_cond_signal(&cx->queue.cond);
    pthread_mutex_unlock(&cx->queue.mu);
}

void ck_queue_stop(ck_ctx *cx)
{
    if (!cx->queue.started)
        return;
    ck_queue_wake(cx); /* stopping is already set: the runner finishes its request and exits */
    pthread_join(cx->queue.thread, NULL);
    pthread_cond_destroy(&cx->queue.cond);
    pthread_mutex_destroy(&cx->queue.mu);
    cx->queue.started = 0;
}
