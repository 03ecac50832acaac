/* sla_monitor.c: finds checkouts stuck in the middle: unarchived, not
 * completed, with a step crossed or an error, and untouched for longer than
 * their store's slaSeconds. Each gets one StuckSession alert (never two for
 * the same session), so somebody is told. */
#include "core/json.h"
#include "core/jsonin.h"
#include "core/context.h"
#include "jobs/jobs.h"

#define JOB_LEASE_MS (5LL * 60 * 1000)

/* The stuck-session condition, shared by the job, the admin list and /metrics. */
const char *const ck_stuck_sessions_where =
    "s.is_archived = 0 AND s.state <> 'Completed' AND (s.last_successful_step IS NOT NULL OR s.is_error = 1)"
    " AND s.updated_at < ? - (SELECT st.sla_seconds FROM stores st WHERE st.id = s.store_id) * 1000";

int ck_job_sla_monitor(ck_ctx *cx, ck_db *db, int64_t *stuck, ck_error *err)
{
    *stuck = 0;
    char owner[2 * CK_ID_MAX + 2], rid[CK_ID_MAX];
    ck_id_new(rid, "job");
    snprintf(owner, sizeof(owner), "%s:%s", cx->node_id, rid);
    int rc = ck_job_lease_take(db, "sla-monitor", owner, JOB_LEASE_MS, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_fail(err, CK_ECONFLICT, "JOB_RUNNING", NULL, "the SLA monitor is running already");
    /* Every stuck session, a page of BATCH at a time by id: none is left
     * out however many there are. */
    enum { BATCH = 500 };
    static _Thread_local char ids[BATCH][CK_ID_MAX], states[BATCH][32];
    char sql[1024], after[CK_ID_MAX] = "";
    snprintf(sql, sizeof(sql),
             "SELECT s.id, s.state FROM checkout_sessions s WHERE s.id > ? AND %s ORDER BY s.id LIMIT %d",
             ck_stuck_sessions_where, BATCH);
    int64_t now = ck_now_ms();
    for (int n = BATCH; rc >= 0 && n == BATCH;) {
        ck_stmt *st = NULL;
        n = 0;
        if ((rc = ck_db_query(db, &st, err, sql, "ti", after, now)) == 0) {
            while (n < BATCH && (rc = ck_db_next(st, err)) == 1) {
                snprintf(ids[n], CK_ID_MAX, "%s", ck_col_text(st, 0));
                snprintf(states[n], 32, "%s", ck_col_text(st, 1));
                n++;
            }
            ck_db_done(st);
        }
        for (int i = 0; rc >= 0 && i < n; i++) {
            (*stuck)++;
            if ((rc = ck_db_one(db, &st, err, "SELECT 1 FROM alerts WHERE kind = 'StuckSession' AND subject_id = ?",
                                "t", ids[i])) != 0) {
                ck_db_done(st);
                continue;
            }
            char msg[256];
            snprintf(msg, sizeof(msg), "checkout %.47s has been stuck at step %.31s past its store's SLA", ids[i],
                     states[i]);
            rc = ck_alert_raise(db, "StuckSession", ids[i], msg, err);
        }
        if (n > 0)
            snprintf(after, sizeof(after), "%s", ids[n - 1]);
    }
    ck_job_lease_release(db, "sla-monitor", owner);
    return rc < 0 ? rc : 0;
}

