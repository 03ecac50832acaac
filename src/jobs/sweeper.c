/* sweeper.c: the stale-hold sweeper. No hold outlives its checkout: a card
 * authorization of an abandoned or idle session is voided through the
 * gateway, one past its expiry is marked Expired, and credit or balances
 * reserved by an idle session are given back. */
#include <string.h>

#include "checkout/session.h"
#include "checkout/step.h"
#include "jobs/jobs.h"
#include "payments/gateway.h"

#define BATCH 100
#define JOB_LEASE_MS (5LL * 60 * 1000)

static int expire(ck_db *db, int64_t *count, ck_error *err)
{
    int64_t now = ck_now_ms();
    char ids[100][CK_ID_MAX];
    int n = 0;
    int rc = ck_db_begin(db, 1, err);
    if (rc < 0)
        return rc;
    ck_stmt *st = NULL;
    if ((rc = ck_db_query(db, &st, err,
                          "SELECT DISTINCT session_id FROM payment_authorizations WHERE status = 'Authorized'"
                          " AND order_id IS NULL AND expires_at < ? LIMIT 100",
                          "i", now)) == 0) {
        while (n < 100 && (rc = ck_db_next(st, err)) == 1)
            snprintf(ids[n++], CK_ID_MAX, "%s", ck_col_text(st, 0));
        ck_db_done(st);
    }
    /* A session whose hold expired before its order pays again on resume. */
    for (int i = 0; rc >= 0 && i < n; i++)
        rc = ck_session_undo_payment(db, ids[i], err);
    if (rc >= 0)
        rc = ck_db_exec(db, count, err,
                        "UPDATE payment_authorizations SET status = 'Expired', updated_at = ?"
                        " WHERE status = 'Authorized' AND expires_at < ?",
                        "ii", now, now);
    return rc == 0 ? ck_db_commit(db, err) : (ck_db_rollback(db), rc);
}

typedef struct stale {
    char id[CK_ID_MAX], session[CK_ID_MAX], store[CK_ID_MAX], gw_auth[128];
    int64_t amount;
} stale;

/* Stale holds: Authorized, no order, the session archived or idle past its
 * store's staleAuthorizationSeconds and not being processed. */
static int find_stale(ck_db *db, stale *out, int *n, ck_error *err)
{
    int64_t now = ck_now_ms();
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT pa.id, pa.session_id, s.store_id, pa.gateway_auth_id, pa.amount"
                         " FROM payment_authorizations pa JOIN checkout_sessions s ON s.id = pa.session_id"
                         " JOIN stores st ON st.id = s.store_id"
                         " WHERE pa.status = 'Authorized' AND pa.order_id IS NULL AND s.order_id IS NULL"
                         " AND (s.lease_owner IS NULL OR s.lease_expires_at <= ?)"
                         " AND (s.is_archived = 1 OR s.updated_at < ? - st.stale_auth_seconds * 1000)"
                         " ORDER BY pa.id LIMIT ?",
                         "iii", now, now, (int64_t)BATCH);
    if (rc < 0)
        return rc;
    *n = 0;
    while (*n < BATCH && (rc = ck_db_next(st, err)) == 1) {
        stale *s = &out[(*n)++];
        snprintf(s->id, sizeof(s->id), "%s", ck_col_text(st, 0));
        snprintf(s->session, sizeof(s->session), "%s", ck_col_text(st, 1));
        snprintf(s->store, sizeof(s->store), "%s", ck_col_text(st, 2));
        snprintf(s->gw_auth, sizeof(s->gw_auth), "%s", ck_col_text(st, 3));
        s->amount = ck_col_int(st, 4);
    }
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

static int void_stale(ck_app *app, ck_db *db, const char *owner, int64_t *voided, ck_error *err)
{
    static _Thread_local stale holds[BATCH];
    int n = 0;
    int rc = find_stale(db, holds, &n, err);
    for (int i = 0; rc == 0 && i < n; i++) {
        stale *h = &holds[i];
        /* Hold the session while undoing its payment: a placement starting
         * now waits (CART_ALREADY_IN_PROGRESS) instead of racing the void. */
        if ((rc = ck_session_lease_take(db, h->session, owner, app->cfg.lease_seconds, err)) <= 0) {
            rc = rc < 0 ? rc : 0;
            continue;
        }
        ck_gw_config cfg;
        ck_gw_answer ans;
        memset(&ans, 0, sizeof(ans));
        if ((rc = ck_gateway_config_load(db, h->store, &cfg, err)) < 0) {
            ck_session_lease_release(db, h->session, owner, NULL);
            break;
        }
        const ck_gateway_ops *gw = rc == 1 ? ck_gateway_for(&cfg) : NULL;
        rc = 0;
        char key[CK_ID_MAX + 8];
        snprintf(key, sizeof(key), "void:%s", h->id);
        if (gw)
            gw->void_auth(&cfg, db, key, h->gw_auth, &ans);
        ck_secure_zero(cfg.secret, sizeof(cfg.secret));
        if (!gw || ans.result != CK_GW_APPROVED) {
            ck_session_lease_release(db, h->session, owner, NULL);
            continue; /* the gateway is down: the next run tries again */
        }
        int64_t changed = 0;
        char msg[256];
        snprintf(msg, sizeof(msg), "voided stale authorization %s of checkout %s for %lld", h->id, h->session,
                 (long long)h->amount);
        if ((rc = ck_db_begin(db, 1, err)) < 0) {
            ck_session_lease_release(db, h->session, owner, NULL);
            break;
        }
        rc = ck_db_exec(db, &changed, err,
                        "UPDATE payment_authorizations SET status = 'Voided', updated_at = ?"
                        " WHERE id = ? AND status = 'Authorized'",
                        "it", ck_now_ms(), h->id);
        if (rc == 0 && changed == 1 && (rc = ck_session_undo_payment(db, h->session, err)) >= 0)
            rc = ck_alert_raise(db, "StaleHoldVoided", h->id, msg, err);
        rc = rc == 0 ? ck_db_commit(db, err) : (ck_db_rollback(db), rc);
        ck_session_lease_release(db, h->session, owner, NULL);
        if (rc == 0)
            *voided += changed;
    }
    return rc;
}

/* Idle sessions without an order whose payment step reserved balances. */
static int release_stale(ck_app *app, ck_db *db, const char *owner, int64_t *released, ck_error *err)
{
    char ids[BATCH][CK_ID_MAX];
    int n = 0;
    int64_t now = ck_now_ms();
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT s.id FROM checkout_sessions s JOIN stores st ON st.id = s.store_id"
                         " WHERE s.order_id IS NULL AND (s.lease_owner IS NULL OR s.lease_expires_at <= ?)"
                         " AND s.updated_at < ? - st.stale_auth_seconds * 1000 AND EXISTS (SELECT 1 FROM balance_ledger l"
                         " WHERE l.session_id = s.id GROUP BY l.session_id HAVING SUM(l.amount) <> 0) LIMIT ?",
                         "iii", now, now, (int64_t)BATCH);
    if (rc < 0)
        return rc;
    while (n < BATCH && (rc = ck_db_next(st, err)) == 1)
        snprintf(ids[n++], CK_ID_MAX, "%s", ck_col_text(st, 0));
    ck_db_done(st);
    for (int i = 0; rc >= 0 && i < n; i++) {
        if ((rc = ck_session_lease_take(db, ids[i], owner, app->cfg.lease_seconds, err)) <= 0) {
            rc = rc < 0 ? rc : 0;
            continue;
        }
        if ((rc = ck_db_begin(db, 1, err)) == 0) {
            rc = ck_balance_release_session(db, ids[i], err);
            if (rc > 0)
                rc = ck_session_undo_payment(db, ids[i], err);
            rc = rc >= 0 ? ck_db_commit(db, err) : (ck_db_rollback(db), rc);
        }
        ck_session_lease_release(db, ids[i], owner, NULL);
        if (rc == 0)
            (*released)++;
    }
    return rc < 0 ? rc : 0;
}

int ck_job_sweeper(ck_app *app, ck_db *db, ck_sweep_result *out, ck_error *err)
{
    memset(out, 0, sizeof(*out));
    char owner[2 * CK_ID_MAX + 2], rid[CK_ID_MAX];
    ck_id_new(rid, "job");
    snprintf(owner, sizeof(owner), "%s:%s", app->node_id, rid);
    int rc = ck_job_lease_take(db, "sweeper", owner, JOB_LEASE_MS, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_fail(err, CK_ECONFLICT, "JOB_RUNNING", NULL, "the sweeper is running already");
    rc = expire(db, &out->expired, err);
    if (rc == 0)
        rc = void_stale(app, db, owner, &out->voided, err);
    if (rc == 0)
        rc = release_stale(app, db, owner, &out->released, err);
    ck_job_lease_release(db, "sweeper", owner);
    return rc;
}
