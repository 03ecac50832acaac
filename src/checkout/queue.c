/* queue.c: the async placement runner. Requests are rows: a Queued request
 * is claimed with a conditional UPDATE (so several nodes can share one
 * database; on PostgreSQL they skip each other's locked candidates),
 * placed, and finished as Succeeded or Failed. A request left Running by a
 * dead runner is claimed again when its run lease expires (and at once on
 * SQLite start-up). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/json.h"
#include "core/context.h"
#include "checkout/engine.h"
#include "store/requests.h"
#include "store/users.h"

#define IDLE_WAIT_MS 250

/* Claims one request: 1 claimed (*out filled), 0 none, <0 error. The run
 * lease is two session leases (--lease-seconds): a placement runs under its
 * session's lease, so a runner that died is found out after twice the time
 * a placement may take (it was a fixed 5 minutes, which left the requests
 * of a dead node Running that long on PostgreSQL). */
static int claim(ck_ctx *cx, ck_db *db, ck_request_claim *out, ck_error *err)
{
    int64_t now = ck_now_ms(), run_lease_ms = 2LL * cx->cfg.lease_seconds * 1000;
    return ck_requests_claim_placement(db, cx->node_id, now, now + run_lease_ms, out, err);
}

static int load_user(ck_db *db, const char *id, ck_user *u, ck_error *err)
{
    int rc = ck_users_by_id(db, id, u, err);
    return rc < 0 ? rc : rc == 0 ? ck_not_found(err, "user", id) : 0;
}

/* A request that failed before its flow ran (lease held, session gone):
 * the engine recorded nothing, so record the error here. */
static void finish_failed(ck_ctx *cx, ck_db *db, const char *request_id, const ck_error *e)
{
    json_t *errs = ck_error_json(e, cx->error_category(e));
    char *text = ck_json_text(errs);
    ck_requests_fail_running(db, request_id, text ? text : "[]", ck_now_ms(), (int64_t)cx->error_status(e), NULL);
    free(text);
    json_decref(errs);
}

static ck_log_limit queue_failed;

static void *runner(void *arg)
{
    ck_ctx *cx = arg;
    ck_error err;
    ck_db *db = ck_ctx_db(cx, &err);
    while (db && !atomic_load(&cx->stopping)) {
        ck_request_claim c;
        ck_error_clear(&err);
        int rc = claim(cx, db, &c, &err);
        if (rc == 1) {
            ck_user user;
            ck_place_result res;
            memset(&user, 0, sizeof(user));
            rc = load_user(db, c.user_id, &user, &err);
            if (rc == 0) {
                int64_t t0 = ck_mono_us();
                rc = ck_place_order(cx, db, &user, c.session_id, c.request_id, &res, &err);
                ck_metrics_placement_done(&cx->metrics, rc, res.replayed, &err, t0);
                if (rc >= 0)
                    json_decref(res.order);
            }
            if (rc < 0)
                finish_failed(cx, db, c.request_id, &err);
            continue;
        }
        if (rc < 0) /* every 250 ms while the database is down: one record per 10 s */
            ck_log_limited(&queue_failed, 10000, CK_LOG_ERROR, "placement queue failed", err.message);
        pthread_mutex_lock(&cx->queue.mu);
        if (!cx->queue.wake && !atomic_load(&cx->stopping)) {
            struct timespec ts;
            ck_timespec_in(&ts, CLOCK_REALTIME, IDLE_WAIT_MS);
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
