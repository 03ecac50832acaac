/* scheduler.c: runs each background job every --jobs-interval seconds. The
 * job's lease row keeps two nodes from running it at once. */
#include <stdio.h>
#include <time.h>

#include "core/log.h"
#include "jobs/jobs.h"

static void *scheduler(void *arg)
{
    ck_app *app = arg;
    ck_error err;
    ck_db *db = ck_app_db(app, &err);
    while (db && !atomic_load(&app->stopping)) {
        pthread_mutex_lock(&app->jobs.mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += app->cfg.jobs_interval;
        while (!atomic_load(&app->stopping) &&
               pthread_cond_timedwait(&app->jobs.cond, &app->jobs.mu, &ts) == 0)
            ;
        pthread_mutex_unlock(&app->jobs.mu);
        if (atomic_load(&app->stopping))
            break;
        ck_sweep_result res;
        ck_error_clear(&err);
        if (ck_job_sweeper(app, db, &res, &err) < 0 && err.code != CK_ECONFLICT)
            ck_log(CK_LOG_ERROR, "job failed", "job", "sweeper", "error", err.message, NULL);
        for (const ck_job_hook *h = ck_job_hooks; h->name; h++) {
            ck_error_clear(&err);
            if (h->run(app, db, &err) < 0 && err.code != CK_ECONFLICT)
                ck_log(CK_LOG_ERROR, "job failed", "job", h->name, "error", err.message, NULL);
        }
    }
    return NULL;
}

int ck_jobs_start(ck_app *app, ck_error *err)
{
    pthread_mutex_init(&app->jobs.mu, NULL);
    pthread_cond_init(&app->jobs.cond, NULL);
    if (pthread_create(&app->jobs.thread, NULL, scheduler, app) != 0)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "cannot start the job scheduler");
    app->jobs.started = 1;
    return 0;
}

void ck_jobs_stop(ck_app *app)
{
    if (!app->jobs.started)
        return;
    pthread_mutex_lock(&app->jobs.mu);
    pthread_cond_broadcast(&app->jobs.cond);
    pthread_mutex_unlock(&app->jobs.mu);
    pthread_join(app->jobs.thread, NULL);
    pthread_cond_destroy(&app->jobs.cond);
    pthread_mutex_destroy(&app->jobs.mu);
    app->jobs.started = 0;
}
