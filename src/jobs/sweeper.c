/* sweeper.c: the stale-hold sweeper. No hold outlives its checkout: an
 * authorization past its expiry is marked Expired; a session without an
 * order that is archived, or idle past its store's
 * staleAuthorizationSeconds, gives back its holds and balances through
 * ck_session_give_back (which checks, in its own commit, that the session
 * still has no order); and every hold marked for void is voided at its
 * gateway, retried on every run until the gateway confirms it. It also
 * settles the changes to orders (fulfilments, cancellations, returns,
 * captures) left Pending by a caller that died or gave up on the gateway
 * (their lease ran out): their gateway calls are made again under the same
 * keys and the change applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkout/giveback.h"
#include "checkout/session.h"
#include "fulfillment/fulfillment.h"
#include "jobs/jobs.h"
#include "payments/holds.h"
#include "store/jobs.h"
#include "store/payments.h"
#include "store/requests.h"
#include "core/log.h"

#define BATCH 100

/* Authorizations past expires_at become Expired; a session whose hold
 * expired before its order is rewound in the same commit, so it pays again
 * on resume (create_order takes no hold past its date either). A hold with
 * a Pending change of its order (a capture on its way to the gateway) is
 * left to that change. */
static int expire_tx(ck_db *db, void *arg, ck_error *err)
{
    int64_t *count = arg, now = ck_now_ms();
    char (*ids)[CK_ID_MAX] = NULL;
    size_t n = 0;
    int rc = ck_payments_expired_sessions(db, now, &ids, &n, err);
    for (size_t i = 0; rc >= 0 && i < n; i++)
        rc = ck_session_undo_payment(db, ids[i], err);
    free(ids);
    if (rc >= 0)
        rc = ck_payments_expire(db, now, count, err);
    return rc;
}

static int expire(ck_db *db, int64_t *count, ck_error *err)
{
    int rc = ck_db_tx(db, 1, expire_tx, count, err);
    return rc < 0 ? rc : 0;
}

typedef ck_stale_session stale;

/* Sessions without an order, not being processed, archived or idle past
 * their store's staleAuthorizationSeconds, that still hold a live hold or a
 * balance; ids after `after`, oldest first, at most BATCH. */
static int find_stale(ck_db *db, const char *after, stale *out, int *n, ck_error *err)
{
    return ck_jobs_stale_sessions(db, after, ck_now_ms(), BATCH, out, n, err);
}

typedef struct give_back_arg {
    const char *session_id;
    const ck_giveback_opts *opts;
    ck_giveback_result *gb;
} give_back_arg;

/* The commit of one give-back (ck_session_give_back). Its value, or <0. */
static int give_back_tx(ck_db *db, void *arg, ck_error *err)
{
    give_back_arg *g = arg;
    return ck_session_give_back(db, g->session_id, g->opts, g->gb, err);
}

/* One stale session: holds marked for void and balances given back in one
 * commit that finds no order. A live session is held under its lease
 * meanwhile (a placement starting now gets CART_ALREADY_IN_PROGRESS), is
 * checked to be still idle, and is rewound to pay again; an archived one
 * can have no lease taken at all. */
static int give_back_one(ck_ctx *cx, ck_db *db, const stale *s, const char *owner, int64_t *released,
                         ck_error *err)
{
    int rc;
    if (!s->archived && (rc = ck_session_lease_take(db, s->id, owner, cx->cfg.lease_seconds, err)) <= 0)
        return rc; /* being processed, or archived meanwhile: next run */
    ck_giveback_opts opts = {.lease_owner = s->archived ? NULL : owner,
                             .idle_before = s->archived ? 0 : s->idle_before,
                             .rewind = !s->archived};
    ck_giveback_result gb;
    give_back_arg g = {s->id, &opts, &gb};
    rc = ck_db_tx(db, 1, give_back_tx, &g, err);
    if (rc >= 0)
        rc = 0;
    if (rc == 0 && gb.balances > 0)
        (*released)++;
    if (!s->archived)
        ck_session_lease_release(db, s->id, owner, NULL);
    return rc;
}

/* In the commit that records the sweeper's void: its alert, and its count. */
static int alert_voided(ck_db *db, const ck_hold *h, void *arg, ck_error *err)
{
    int64_t *voided = arg;
    *voided = 1; /* set, not added: a retried commit runs this again */
    char msg[256];
    snprintf(msg, sizeof(msg), "voided stale authorization %s of checkout %s for %lld", h->id, h->session_id,
             (long long)h->amount);
    return ck_alert_raise(db, "StaleHoldVoided", h->id, msg, err);
}

/* Every hold marked for void, oldest first: voided at its gateway, one
 * StaleHoldVoided alert each. One the gateway does not confirm stays for
 * the next run. */
static int void_pending(ck_ctx *cx, ck_db *db, int64_t *voided, ck_error *err)
{
    char after[CK_ID_MAX] = "";
    for (;;) {
        ck_hold *holds = NULL;
        size_t n = 0;
        int rc = ck_hold_list_pending(db, NULL, after, BATCH, &holds, &n, err);
        if (rc < 0)
            return rc;
        for (size_t i = 0; rc >= 0 && i < n; i++) {
            int64_t counted = 0;
            rc = ck_hold_void(cx, db, &holds[i], alert_voided, &counted, err);
            if (rc == 1)
                *voided += counted;
        }
        if (n > 0)
            snprintf(after, sizeof(after), "%s", holds[n - 1].id);
        free(holds);
        if (rc < 0)
            return rc;
        if (n < BATCH)
            return 0;
    }
}

/* Synchronous placement requests whose daemon died while they ran stay
 * Running: SQLite's start-up fails them, but on PostgreSQL other nodes go
 * on and nothing restarts. Failed here once their session's lease expired
 * more than a lease length ago (a live placement holds it). */
static int fail_orphaned(ck_ctx *cx, ck_db *db, ck_error *err)
{
    int64_t now = ck_now_ms(), n = 0;
    int rc = ck_requests_fail_orphaned(db, now - (int64_t)cx->cfg.lease_seconds * 1000, now, &n, err);
    if (rc == 0 && n > 0) {
        char count[24];
        snprintf(count, sizeof(count), "%lld", (long long)n);
        ck_log(CK_LOG_INFO, "placement requests of a stopped daemon marked Failed", "count", count, NULL);
    }
    return rc < 0 ? rc : 0;
}

int ck_job_sweeper(ck_ctx *cx, ck_db *db, ck_sweep_result *out, ck_error *err)
{
    memset(out, 0, sizeof(*out));
    char owner[CK_OWNER_MAX];
    int rc = ck_job_begin(cx, db, "sweeper", "the sweeper", owner, err);
    if (rc < 0)
        return rc;
    rc = expire(db, &out->expired, err);
    static _Thread_local stale batch[BATCH];
    char after[CK_ID_MAX] = "";
    for (int n = BATCH; rc == 0 && n == BATCH;) {
        rc = find_stale(db, after, batch, &n, err);
        for (int i = 0; rc >= 0 && i < n; i++)
            rc = give_back_one(cx, db, &batch[i], owner, &out->released, err);
        if (rc >= 0 && n > 0)
            snprintf(after, sizeof(after), "%s", batch[n - 1].id);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0) {
        int settled = 0;
        rc = ck_changes_settle_stale(cx, db, &settled, err);
        out->settled = settled;
    }
    if (rc == 0)
        rc = void_pending(cx, db, &out->voided, err);
    if (rc == 0)
        rc = fail_orphaned(cx, db, err);
    ck_job_lease_release(db, "sweeper", owner);
    return rc;
}
