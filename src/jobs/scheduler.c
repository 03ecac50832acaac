/* scheduler.c: runs each background job every --jobs-interval seconds. The
 * job's lease row keeps two nodes from running it at once. */
#include <stdio.h>
#include <time.h>

#include "core/log.h"
#include "jobs/jobs.h"

int ck_job_begin(ck_ctx *cx, ck_db *db, const char *name, const char *what, char owner[CK_OWNER_MAX],
                 ck_error *err)
{
    ck_owner_new(owner, cx->node_id, "job");
    int rc = ck_job_lease_take(db, name, owner, CK_JOB_LEASE_MS, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_fail(err, CK_ECONFLICT, "JOB_RUNNING", NULL, "%s is running already", what);
    return 0;
}

static void *scheduler(void *arg)
{
    ck_ctx *cx = arg;
    ck_error err;
    ck_db *db = ck_ctx_db(cx, &err);
    while (db && !atomic_load(&cx->stopping)) {
        pthread_mutex_lock(&cx->jobs.mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += cx->cfg.jobs_interval;
        while (!atomic_load(&cx->stopping) &&
               pthread_cond_timedwait(&cx->jobs.cond, &cx->jobs.mu, &ts) == 0)
            ;
        pthread_mutex_unlock(&cx->jobs.mu);
        if (atomic_load(&cx->stopping))
            break;
        ck_sweep_result res;
        ck_error_clear(&err);
        if (ck_job_sweeper(cx, db, &res, &err) < 0 && err.code != CK_ECONFLICT)
            ck_log(CK_LOG_ERROR, "job failed", "job", "sweeper", "error", err.message, NULL);
        for (const ck_job_hook *h = ck_job_hooks; h->name; h++) {
            ck_error_clear(&err);
            if (h->run(cx, db, &err) < 0 && err.code != CK_ECONFLICT)
                ck_log(CK_LOG_ERROR, "job failed", "job", h->name, "error", err.message, NULL);
        }
    }
    return NULL;
}

int ck_jobs_start(ck_ctx *cx, ck_error *err)
{
    pthread_mutex_init(&cx->jobs.mu, NULL);
    pthread_cond_init(&cx->jobs.cond, NULL);
    if (pthread_create(&cx->jobs.thread, NULL, scheduler, cx) != 0)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "cannot start the job scheduler");
    cx->jobs.started = 1;
    return 0;
}

void ck_jobs_stop(ck_ctx *cx)
{
    if (!cx->jobs.started)
        return;
    pthread_mutex_lock(&cx->jobs.mu);
    pthread_cond_broadcast(&cx->jobs.cond);
    pthread_mutex_unlock(&cx->jobs.mu);
    pthread_join(cx->jobs.thread, NULL);
    pthread_cond_destroy(&cx->jobs.cond);
    pthread_mutex_destroy(&cx->jobs.mu);
    cx->jobs.started = 0;
}
