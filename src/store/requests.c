/* requests.c: the requests repository (store/requests.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/requests.h"

int ck_requests_recover_running(ck_db *db, int64_t now, ck_error *err)
{
    int rc = ck_db_exec(db, NULL, err,
                        "UPDATE checkout_requests SET status = 'Queued', runner = NULL, run_lease_until = 0"
                        " WHERE status = 'Running' AND runner IS NOT NULL",
                        "");
    if (rc == 0)
        rc = ck_db_exec(db, NULL, err,
                        "UPDATE checkout_requests SET status = 'Failed', completed_at = ?, http_status = 500,"
                        " errors = '[{\"errorCode\":\"UNKNOWN_EXCEPTION\",\"reason\":\"INTERNAL_ERROR\","
                        "\"message\":\"the daemon stopped during this request; place the order again\"}]'"
                        " WHERE status = 'Running' AND runner IS NULL",
                        "i", now);
    return rc;
}
