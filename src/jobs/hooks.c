/* hooks.c: the periodic jobs besides the sweeper, one line each. */
#include "jobs/jobs.h"

const ck_job_hook ck_job_hooks[] = {
    {0},
};
