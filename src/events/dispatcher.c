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
#include "store/jobs.h"

#define CLAIM_MS 30000
#define IDLE_WAIT_MS 100
#define MAX_BACKOFF_MS (3600LL * 1000)

int ck_dispatch_fanout(ck_db *db, ck_error *err)
{
    char ev[100][CK_ID_MAX], type[100][32], order[100][CK_ID_MAX];
    int n = 0, created = 0;
    int rc = ck_db_begin(db, 1, err);
    if (rc < 0)
        return rc;
    ck_stmt *st = NULL;
    rc = ck_db_query(db, &st, err,
                     "SELECT id, type, COALESCE(order_id, '') FROM outbox_events WHERE dispatched = 0 ORDER BY id LIMIT 100",
                     "");
    if (rc == 0) {
        while (n < 100 && (rc = ck_db_next(st, err)) == 1) {
            snprintf(ev[n], CK_ID_MAX, "%s", ck_col_text(st, 0));
            snprintf(type[n], 32, "%s", ck_col_text(st, 1));
            snprintf(order[n], CK_ID_MAX, "%s", ck_col_text(st, 2));
            n++;
        }
        ck_db_done(st);
        if (rc == 1)
            rc = 0;
    }
    int64_t now = ck_now_ms();
    for (int i = 0; rc == 0 && i < n; i++) {
        char pattern[48];
        char(*subs)[CK_ID_MAX] = NULL; /* every matching subscriber: none may be skipped */
        int ns = 0, cap = 0;
        snprintf(pattern, sizeof(pattern), "%%\"%.31s\"%%", type[i]);
        rc = ck_db_query(db, &st, err, "SELECT id, kind FROM subscribers WHERE events LIKE ? AND deleted_at IS NULL ORDER BY id", "t",
                         pattern);
        if (rc < 0)
            break;
        while ((rc = ck_db_next(st, err)) == 1) {
            /* Email goes to the buyer of an order: only events with one. */
            if (strcmp(ck_col_text(st, 1), "email") == 0 && !order[i][0])
                continue;
            if (ns == cap) {
                cap = cap ? cap * 2 : 16;
                void *grown = realloc(subs, (size_t)cap * CK_ID_MAX);
                if (!grown) {
                    rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
                    break;
                }
                subs = grown;
            }
            snprintf(subs[ns++], CK_ID_MAX, "%s", ck_col_text(st, 0));
        }
        ck_db_done(st);
        if (rc == 1)
            rc = 0;
        for (int k = 0; rc == 0 && k < ns; k++) {
            char id[CK_ID_MAX];
            int64_t changed = 0;
            ck_id_new(id, "dlv");
            rc = ck_db_exec(db, &changed, err,
                            "INSERT INTO deliveries (id, event_id, subscriber_id, order_id, event_type, status,"
                            " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'Pending', ?, ?, ?)"
                            " ON CONFLICT (event_id, subscriber_id) DO NOTHING",
                            "tttttiii", id, ev[i], subs[k], order[i][0] ? order[i] : NULL, type[i], now, now, now);
            created += (int)changed;
        }
        free(subs);
        if (rc == 0)
            rc = ck_db_exec(db, NULL, err, "UPDATE outbox_events SET dispatched = 1 WHERE id = ?", "t", ev[i]);
    }
    if (rc < 0) {
        ck_db_rollback(db);
        return rc;
    }
    rc = ck_db_commit(db, err);
    return rc < 0 ? rc : created;
}

typedef struct attempt {
    char id[CK_ID_MAX], kind[16], event_type[32], order_id[CK_ID_MAX];
    char *url, *secret, *smtp_url, *from, *payload, *to, *store_name;
    int64_t attempts, max_attempts, backoff_ms;
} attempt;

static void attempt_free(attempt *a)
{
    free(a->url);
    free(a->secret);
    free(a->smtp_url);
    free(a->from);
    free(a->payload);
    free(a->to);
    free(a->store_name);
}

static char *dup_col(ck_stmt *st, int col)
{
    const char *s = ck_col_text_or_null(st, col);
    return s ? strdup(s) : NULL;
}

/* Claims the next due delivery for owner. 1 claimed, 0 none, <0 error. */
static int claim(ck_db *db, const char *owner, attempt *a, ck_error *err)
{
    int64_t now = ck_now_ms(), changed = 0;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT d.id FROM deliveries d WHERE d.status = 'Pending' AND d.next_attempt_at <= ?"
                       " AND (d.lease_owner IS NULL OR d.lease_until < ?) AND NOT EXISTS (SELECT 1 FROM deliveries x"
                       " WHERE x.subscriber_id = d.subscriber_id AND x.status = 'Pending' AND x.lease_owner IS NOT NULL"
                       " AND x.lease_until >= ?) ORDER BY d.next_attempt_at, d.id LIMIT 1",
                       "iii", now, now, now);
    if (rc <= 0)
        return rc;
    snprintf(a->id, sizeof(a->id), "%s", ck_col_text(st, 0));
    ck_db_done(st);
    rc = ck_db_exec(db, &changed, err,
                    "UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE id = ? AND status = 'Pending'"
                    " AND (lease_owner IS NULL OR lease_until < ?) AND NOT EXISTS (SELECT 1 FROM deliveries x"
                    " WHERE x.subscriber_id = deliveries.subscriber_id AND x.id <> deliveries.id"
                    " AND x.status = 'Pending' AND x.lease_owner IS NOT NULL AND x.lease_until >= ?)",
                    "titii", owner, now + CLAIM_MS, a->id, now, now);
    if (rc < 0 || changed != 1)
        return rc < 0 ? rc : 0;
    rc = ck_db_one(db, &st, err,
                   "SELECT s.kind, s.url, s.secret, s.smtp_url, s.mail_from, s.max_attempts, s.backoff_base_ms,"
                   " d.attempts, d.event_type, COALESCE(d.order_id, ''), e.payload,"
                   " (SELECT u.email FROM orders o JOIN users u ON u.id = o.buyer_id WHERE o.id = d.order_id),"
                   " (SELECT st.name FROM orders o JOIN stores st ON st.id = o.store_id WHERE o.id = d.order_id)"
                   " FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
                   " JOIN outbox_events e ON e.id = d.event_id WHERE d.id = ?",
                   "t", a->id);
    if (rc <= 0)
        return rc < 0 ? rc : 0;
    snprintf(a->kind, sizeof(a->kind), "%s", ck_col_text(st, 0));
    a->url = dup_col(st, 1);
    a->secret = dup_col(st, 2);
    a->smtp_url = dup_col(st, 3);
    a->from = dup_col(st, 4);
    a->max_attempts = ck_col_int(st, 5);
    a->backoff_ms = ck_col_int(st, 6);
    a->attempts = ck_col_int(st, 7);
    snprintf(a->event_type, sizeof(a->event_type), "%s", ck_col_text(st, 8));
    snprintf(a->order_id, sizeof(a->order_id), "%s", ck_col_text(st, 9));
    a->payload = dup_col(st, 10);
    a->to = dup_col(st, 11);
    a->store_name = dup_col(st, 12);
    ck_db_done(st);
    return 1;
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

static int record(ck_ctx *cx, ck_db *db, const attempt *a, const char *owner, int ok, const char *error, ck_error *err)
{
    int64_t now = ck_now_ms(), n = a->attempts + 1;
    int dead = !ok && n >= a->max_attempts;
    /* Counted before it is recorded: whoever sees the record sees the count. */
    ck_metrics_delivery(&cx->metrics, a->kind, ok ? CK_MDLV_DELIVERED : dead ? CK_MDLV_DEAD : CK_MDLV_RETRY);
    int rc = ck_db_begin(db, 1, err);
    if (rc < 0)
        return rc;
    int64_t changed = 0;
    rc = ck_db_exec(db, &changed, err,
                    "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?,"
                    " lease_owner = NULL, lease_until = 0, updated_at = ?,"
                    " delivered_at = CASE WHEN ? = 1 THEN ? ELSE delivered_at END WHERE id = ? AND lease_owner = ?",
                    "tiitiiitt", ok ? "Delivered" : dead ? "Dead" : "Pending", n,
                    ok || dead ? now : now + backoff(a, n), ok ? NULL : error, now, (int64_t)ok, now, a->id, owner);
    if (rc == 0 && dead && changed == 1) {
        char msg[512];
        snprintf(msg, sizeof(msg), "delivery %s of %s %s to subscriber gave up after %lld attempts: %s", a->id,
                 a->event_type, a->order_id[0] ? a->order_id : "", (long long)n, error ? error : "");
        rc = ck_alert_raise(db, "DeadLetter", a->id, msg, err);
    }
    rc = rc == 0 ? ck_db_commit(db, err) : (ck_db_rollback(db), rc);
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
    char owner[2 * CK_ID_MAX + 2], rid[CK_ID_MAX];
    ck_id_new(rid, "dw");
    snprintf(owner, sizeof(owner), "%s:%s", cx->node_id, rid);
    int rc = claim(db, owner, &a, err);
    if (rc <= 0) {
        attempt_free(&a);
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
    if (sent != 0 && atomic_load(&cx->stopping)) {
        /* Cut short by shutdown: not the receiver's fault, no attempt counted. */
        ck_db_exec(db, NULL, NULL, "UPDATE deliveries SET lease_owner = NULL, lease_until = 0 WHERE id = ? AND lease_owner = ?",
                   "tt", a.id, owner);
        attempt_free(&a);
        return 1;
    }
    rc = record(cx, db, &a, owner, sent == 0, error, err);
    attempt_free(&a);
    return rc < 0 ? rc : 1;
}

int ck_delivery_replay(ck_ctx *cx, ck_db *db, const char *delivery_id, ck_error *err)
{
    int64_t changed = 0, now = ck_now_ms();
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE deliveries SET status = 'Pending', attempts = 0, next_attempt_at = ?, last_error = NULL,"
                        " updated_at = ? WHERE id = ? AND status = 'Dead'",
                        "iit", now, now, delivery_id);
    if (rc < 0)
        return rc;
    if (changed == 1) {
        ck_dispatcher_wake(cx);
        return 0;
    }
    ck_stmt *st = NULL;
    rc = ck_db_one(db, &st, err, "SELECT 1 FROM deliveries WHERE id = ?", "t", delivery_id);
    ck_db_done(st);
    if (rc < 0)
        return rc;
    return rc == 0 ? ck_not_found(err, "delivery", delivery_id)
                   : ck_fail(err, CK_ECONFLICT, "DELIVERY_NOT_DEAD", NULL, "delivery %s is not dead", delivery_id);
}

static void *worker(void *arg)
{
    ck_ctx *cx = arg;
    ck_error err;
    ck_db *db = ck_ctx_db(cx, &err);
    while (db && !atomic_load(&cx->stopping)) {
        ck_error_clear(&err);
        int fanned = ck_dispatch_fanout(db, &err);
        int rc = fanned < 0 ? fanned : ck_dispatch_one(cx, db, &err);
        if (rc < 0 && err.code != CK_EBUSY)
            ck_log(CK_LOG_ERROR, "dispatcher failed", "error", err.message, NULL);
        if (rc == 1)
            continue;
        pthread_mutex_lock(&cx->dispatch.mu);
        if (!cx->dispatch.wake && !atomic_load(&cx->stopping)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += IDLE_WAIT_MS * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&cx->dispatch.cond, &cx->dispatch.mu, &ts);
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
    pthread_mutex_lock(&cx->dispatch.mu);
    cx->dispatch.wake = 1;
    pthread_cond_broadcast(&cx->dispatch.cond);
    pthread_mutex_unlock(&cx->dispatch.mu);
}

void ck_dispatcher_stop(ck_ctx *cx)
{
    if (!cx->dispatch.started)
        return;
    ck_dispatcher_wake(cx);
    for (int i = 0; i < cx->dispatch.started; i++)
        pthread_join(cx->dispatch.threads[i], NULL);
    pthread_cond_destroy(&cx->dispatch.cond);
    pthread_mutex_destroy(&cx->dispatch.mu);
    cx->dispatch.started = 0;
}
