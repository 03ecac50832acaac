/* sla_monitor.c: finds checkouts stuck in the middle: unarchived, not
 * completed, with a step crossed or an error, and untouched for longer than
 * their store's slaSeconds. Each gets one StuckSession alert (never two for
 * the same session), so somebody is told. */
#include "core/json.h"
#include "core/jsonin.h"
#include "core/context.h"
#include "jobs/jobs.h"

int ck_job_sla_monitor(ck_ctx *cx, ck_db *db, int64_t *stuck, ck_error *err)
{
    *stuck = 0;
    char owner[CK_OWNER_MAX];
    int rc = ck_job_begin(cx, db, "sla-monitor", "the SLA monitor", owner, err);
    if (rc < 0)
        return rc;
    /* Every stuck session, a page of BATCH at a time by id: none is left
     * out however many there are. */
    enum { BATCH = 500 };
    static _Thread_local ck_stuck_session batch[BATCH];
    char after[CK_ID_MAX] = "";
    int64_t now = ck_now_ms();
    for (int n = BATCH; rc >= 0 && n == BATCH;) {
        n = 0;
        rc = ck_jobs_stuck_sessions(db, after, now, BATCH, batch, &n, err);
        for (int i = 0; rc >= 0 && i < n; i++) {
            (*stuck)++;
            if ((rc = ck_alert_exists(db, "StuckSession", batch[i].id, err)) != 0)
                continue;
            char msg[256];
            snprintf(msg, sizeof(msg), "checkout %.47s has been stuck at step %.31s past its store's SLA",
                     batch[i].id, batch[i].state);
            rc = ck_alert_raise(db, "StuckSession", batch[i].id, msg, err);
        }
        if (n > 0)
            snprintf(after, sizeof(after), "%s", batch[n - 1].id);
    }
    ck_job_lease_release(db, "sla-monitor", owner);
    return rc < 0 ? rc : 0;
}

