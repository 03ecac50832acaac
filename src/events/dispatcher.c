/* dispatcher.c: the delivery workers. Events become deliveries (one per
 * matching subscriber); a worker claims a due delivery with a conditional
 * UPDATE (at most one in flight per subscriber, so a hung receiver holds up
 * nobody else), sends it outside any transaction, and records the outcome:
 * Delivered, or a retry after backoffBaseMs x 2^(attempt-1) with jitter, or
 * Dead with a DeadLetter alert after the subscriber's last attempt. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/json.h"
#include "core/jsonin.h"
#include "core/context.h"
#include "events/dispatcher.h"
#include "events/email.h"
#include "events/send.h"
#include "store/deliveries.h"
#include "store/jobs.h"
#include "store/outbox.h"
#include "store/subscribers.h"

#define CLAIM_MS 30000
#define IDLE_WAIT_MS 100
#define MAX_BACKOFF_MS (3600LL * 1000)

#define FANOUT_BATCH 100

/* One batch of the fan-out, in its transaction: *created (reset first, so a
 * retried transaction counts once) gets the deliveries made. 0 or <0. */
static int fanout_tx(ck_db *db, void *arg, ck_error *err)
{
    int *created = arg;
    ck_outbox_event ev[FANOUT_BATCH];
    int n = 0;
    *created = 0;
    int rc = ck_outbox_undispatched(db, FANOUT_BATCH, ev, &n, err);
    int64_t now = ck_now_ms();
    for (int i = 0; rc == 0 && i < n; i++) {
        ck_subscriber_ref *subs = NULL;
        int ns = 0;
        if ((rc = ck_subscribers_for_event(db, ev[i].type, &subs, &ns, err)) < 0)
            break;
        for (int k = 0; rc >= 0 && k < ns; k++) {
            /* Email goes to the buyer of an order: only events with one. */
            if (strcmp(subs[k].kind, "email") == 0 && !ev[i].order_id[0])
                continue;
            rc = ck_deliveries_insert_pending(db, ev[i].id, subs[k].id, ev[i].order_id[0] ? ev[i].order_id : NULL,
                                              ev[i].type, now, err);
            if (rc > 0)
                *created += rc;
        }
        free(subs);
        if (rc >= 0)
            rc = ck_outbox_mark_dispatched(db, ev[i].id, err);
    }
    return rc < 0 ? rc : 0;
}

int ck_dispatch_fanout(ck_db *db, ck_error *err)
{
    /* A read first: the workers poll, and a write transaction would take
     * the writers' turn from placements ten times a second each. */
    ck_outbox_event first;
    int created = 0;
    int rc = ck_outbox_undispatched(db, 1, &first, &created, err);
    if (rc < 0 || created == 0)
        return rc;
    rc = ck_db_tx(db, 1, fanout_tx, &created, err);
    return rc < 0 ? rc : created;
}

typedef ck_delivery_attempt attempt;

/* Claims the next due delivery for owner and loads it. 1 claimed, 0 none, <0 error. */
static int claim(ck_db *db, const char *owner, attempt *a, ck_error *err)
{
    int64_t now = ck_now_ms();
    int rc = ck_deliveries_claim(db, owner, now + CLAIM_MS, now, a->id, err);
    if (rc <= 0)
        return rc;
    rc = ck_deliveries_attempt(db, a->id, a, err);
    return rc < 0 ? rc : rc == 1;
}

static int64_t backoff(const attempt *a, int64_t attempt_no)
{
    int64_t d = a->backoff_ms;
    for (int64_t i = 1; i < attempt_no && d < MAX_BACKOFF_MS; i++)
        d *= 2;
    if (d > MAX_BACKOFF_MS)
        d = MAX_BACKOFF_MS;
    uint32_t r = 0;
    ck_random_bytes(&r, sizeof(r));
    return d + (int64_t)(r % (uint32_t)(d / 4 + 1)); /* up to +25% jitter */
}

typedef struct record_arg {
    const attempt *a;
    const char *owner, *status;
    int64_t n, next_at;
    const char *error;
    int ok, dead;
    int64_t now;
} record_arg;

/* The commit that records an attempt, with a DeadLetter alert when it is
 * the last one and this worker still held the lease. 0 or <0. */
static int record_tx(ck_db *db, void *arg, ck_error *err)
{
    const record_arg *r = arg;
    const attempt *a = r->a;
    int rc = ck_deliveries_record(db, a->id, r->owner, r->status, r->n, r->next_at, r->error, r->ok, r->now, err);
    if (rc == 1 && r->dead) {
        char msg[512];
        snprintf(msg, sizeof(msg), "delivery %s of %s %s to subscriber gave up after %lld attempts: %s", a->id,
                 a->event_type, a->order_id[0] ? a->order_id : "", (long long)r->n, r->error ? r->error : "");
        return ck_alert_raise(db, "DeadLetter", a->id, msg, err);
    }
    return rc < 0 ? rc : 0;
}

/* Records an attempt's outcome (record_tx) and logs it. 0 or <0. */
static int record(ck_ctx *cx, ck_db *db, const attempt *a, const char *owner, int ok, const char *error, ck_error *err)
{
    int64_t now = ck_now_ms(), n = a->attempts + 1;
    int dead = !ok && n >= a->max_attempts;
    /* Counted before it is recorded: whoever sees the record sees the count. */
    ck_metrics_delivery(&cx->metrics, a->kind, ok ? CK_MDLV_DELIVERED : dead ? CK_MDLV_DEAD : CK_MDLV_RETRY);
    record_arg r = {a, owner, ok ? "Delivered" : dead ? "Dead" : "Pending", n, ok || dead ? now : now + backoff(a, n),
                    ok ? NULL : error, ok, dead, now};
    int rc = ck_db_tx(db, 1, record_tx, &r, err);
    /* Each attempt's outcome, at info: the receiver's answer is its own text, escaped. */
    ck_log_obj(CK_LOG_INFO, "delivery attempt",
               json_pack("{s:s, s:s, s:s, s:s, s:I, s:s?}", "deliveryId", a->id, "event", a->event_type, "orderId",
                         a->order_id, "outcome", ok ? "Delivered" : dead ? "Dead" : "Retry", "attempt",
                         (json_int_t)n, "error", ok ? NULL : error));
    return rc;
}

int ck_dispatch_one(ck_ctx *cx, ck_db *db, ck_error *err)
{
    attempt a;
    memset(&a, 0, sizeof(a));
    char owner[CK_OWNER_MAX];
    ck_owner_new(owner, cx->node_id, "dw");
    int rc = claim(db, owner, &a, err);
    if (rc <= 0) {
        ck_delivery_attempt_free(&a);
        return rc;
    }
    char error[256] = "";
    int sent;
    if (strcmp(a.kind, "email") == 0) {
        char *text = NULL;
        if (!a.to)
            snprintf(error, sizeof(error), "the order's buyer has no email address");
        else if (a.from && a.smtp_url) {
            ck_email_order eo = {.from = a.from, .to = a.to, .store_name = a.store_name, .message_id = a.id,
                                 .payload = a.payload, .now_ms = ck_now_ms()};
            text = ck_email_order_confirmation(&eo, error, sizeof(error));
        }
        sent = text ? ck_send_email(a.smtp_url, a.from, a.to, text, &cx->stopping, error, sizeof(error)) : -1;
        free(text);
    } else {
        sent = ck_send_webhook(a.url ? a.url : "", a.secret, a.event_type, a.id, a.payload ? a.payload : "{}",
                               &cx->stopping, error, sizeof(error));
    }
    if (sent == CK_SEND_ABORTED) {
        /* Cut short by shutdown: not the receiver's fault, no attempt
         * counted. (An answer that came before the stop, a 503 say, is an
         * attempt like any other: counting it as cut short lost it.) */
        ck_deliveries_unclaim(db, a.id, owner);
        ck_delivery_attempt_free(&a);
        return 1;
    }
    rc = record(cx, db, &a, owner, sent == 0, error, err);
    ck_delivery_attempt_free(&a);
    return rc < 0 ? rc : 1;
}

int ck_delivery_replay(ck_ctx *cx, ck_db *db, const char *delivery_id, ck_error *err)
{
    int rc = ck_deliveries_replay(db, delivery_id, ck_now_ms(), err);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        ck_dispatcher_wake(cx);
        return 0;
    }
    rc = ck_deliveries_exists(db, delivery_id, err);
    if (rc < 0)
        return rc;
    return rc == 0 ? ck_not_found(err, "delivery", delivery_id)
                   : ck_fail(err, CK_ECONFLICT, "DELIVERY_NOT_DEAD", NULL, "delivery %s is not dead", delivery_id);
}

/* A worker whose database is down fails every 100 ms: one record per 10 s,
 * with how many were left out. */
static ck_log_limit dispatch_failed;

/* One worker polls: every IDLE_WAIT_MS it looks for deliveries due
 * (retries, other nodes' events) and wakes another when it finds one; the
 * others sleep until woken (new events, or a worker that found work). Four
 * pollers made an idle daemon run about 80 transactions a second (24 now,
 * with the placement runner's and the jobs'). While the poller itself
 * sends to a slow receiver (its timeout at most), a retry coming due waits
 * for it; retries are seconds apart or more. */
static void *worker(void *arg)
{
    ck_ctx *cx = arg;
    ck_error err;
    int poller = atomic_fetch_add(&cx->dispatch.pollers, 1) == 0;
    ck_db *db = ck_ctx_db(cx, &err);
    while (db && !atomic_load(&cx->stopping)) {
        ck_error_clear(&err);
        int fanned = ck_dispatch_fanout(db, &err);
        int rc = fanned < 0 ? fanned : ck_dispatch_one(cx, db, &err);
        if (rc < 0 && err.code != CK_EBUSY)
            ck_log_limited(&dispatch_failed, 10000, CK_LOG_ERROR, "dispatcher failed", err.message);
        if (rc == 1) {
            ck_dispatcher_wake(cx); /* there may be more: one more worker joins in */
            continue;
        }
        pthread_mutex_lock(&cx->dispatch.mu);
        if (!cx->dispatch.wake && !atomic_load(&cx->stopping)) {
            if (poller) {
                struct timespec ts;
                ck_timespec_in(&ts, CLOCK_REALTIME, IDLE_WAIT_MS);
                pthread_cond_timedwait(&cx->dispatch.cond, &cx->dispatch.mu, &ts);
            } else {
                pthread_cond_wait(&cx->dispatch.cond, &cx->dispatch.mu);
            }
        }
        cx->dispatch.wake = 0;
        pthread_mutex_unlock(&cx->dispatch.mu);
    }
    return NULL;
}

int ck_dispatcher_start(ck_ctx *cx, ck_error *err)
{
    pthread_mutex_init(&cx->dispatch.mu, NULL);
    pthread_cond_init(&cx->dispatch.cond, NULL);
    atomic_store(&cx->dispatch.pollers, 0);
    for (int i = 0; i < CK_DELIVERY_WORKERS; i++) {
        if (pthread_create(&cx->dispatch.threads[i], NULL, worker, cx) != 0)
            return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "cannot start the delivery workers");
        cx->dispatch.started++;
    }
    return 0;
}

void ck_dispatcher_wake(ck_ctx *cx)
{
    if (!cx->dispatch.started)
        return;
    /* One worker: it wakes the next when it found work, so a backlog
     * brings them all in and one order's events do not wake four threads
     * to find three times nothing. */
    pthread_mutex_lock(&cx->dispatch.mu);
    cx->dispatch.wake = 1;
    pthread_cond_signal(&cx->dispatch.cond);
    pthread_mutex_unlock(&cx->dispatch.mu);
}

void ck_dispatcher_stop(ck_ctx *cx)
{
    if (!cx->dispatch.started)
        return;
    pthread_mutex_lock(&cx->dispatch.mu);
    cx->dispatch.wake = 1;
    pthread_cond_broadcast(&cx->dispatch.cond); /* stopping is set: every worker ends */
    pthread_mutex_unlock(&cx->dispatch.mu);
    for (int i = 0; i < cx->dispatch.started; i++)
        pthread_join(cx->dispatch.threads[i], NULL);
    pthread_cond_destroy(&cx->dispatch.cond);
    pthread_mutex_destroy(&cx->dispatch.mu);
    cx->dispatch.started = 0;
}
