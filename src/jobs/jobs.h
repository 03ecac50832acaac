/* jobs.h: background jobs (the sweeper now; the SLA monitor later), their
 * lease rows (one node runs a job at a time) and alerts. */
#ifndef CK_JOBS_H
#define CK_JOBS_H

#include "core/context.h"
#include "store/jobs.h"

typedef struct ck_sweep_result {
    int64_t voided;   /* stale card holds voided through the gateway */
    int64_t expired;  /* authorizations past their expiry marked Expired */
    int64_t released; /* stale sessions whose reserved balances were given back */
    int64_t settled;  /* changes to orders left Pending that were completed or failed */
} ck_sweep_result;

/* Runs the sweeper once under its job lease: CK_ECONFLICT (JOB_RUNNING) when
 * another run holds it. Voids Authorized holds whose session is archived or
 * idle past its store's staleAuthorizationSeconds without an order (one
 * StaleHoldVoided alert each), expires authorizations past expires_at, and
 * gives back balances reserved by such idle sessions. A session whose payment
 * is undone this way is rewound so that placing again pays again. */
int ck_job_sweeper(ck_ctx *cx, ck_db *db, ck_sweep_result *out, ck_error *err);

/* Runs the SLA monitor once under its job lease: *stuck gets the number of
 * stuck sessions; each gets one StuckSession alert (the first time only).
 * What makes a session stuck is ck_jobs_stuck_sessions' (store/jobs.h). */
int ck_job_sla_monitor(ck_ctx *cx, ck_db *db, int64_t *stuck, ck_error *err);

/* Starts a run of the job `name` on this node: takes its job lease for
 * CK_JOB_LEASE_MS under a new owner (the run releases it with
 * ck_job_lease_release). 0, CK_ECONFLICT (JOB_RUNNING: "<what> is running
 * already") when another run holds it, or <0. */
#define CK_JOB_LEASE_MS (5LL * 60 * 1000)
int ck_job_begin(ck_ctx *cx, ck_db *db, const char *name, const char *what, char owner[CK_OWNER_MAX],
                 ck_error *err);

/* Further periodic jobs (the SLA monitor...): one line each in jobs.c. */
typedef struct ck_job_hook {
    const char *name;
    int (*run)(ck_ctx *cx, ck_db *db, ck_error *err);
} ck_job_hook;
extern const ck_job_hook ck_job_hooks[];

/* The scheduler thread: every --jobs-interval seconds, each job. */
int ck_jobs_start(ck_ctx *cx, ck_error *err);
void ck_jobs_stop(ck_ctx *cx);

#endif
