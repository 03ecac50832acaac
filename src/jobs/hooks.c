/* hooks.c: the periodic jobs besides the sweeper, one line each. */
#include "jobs/jobs.h"

static int sla_monitor(ck_ctx *cx, ck_db *db, ck_error *err)
{
    int64_t stuck = 0;
    return ck_job_sla_monitor(cx, db, &stuck, err);
}

const ck_job_hook ck_job_hooks[] = {
    {"sla-monitor", sla_monitor},
    {0},
};
