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

int ck_requests_count_queued_placements(ck_db *db, int64_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_one(db, &st, err,
                       "SELECT count(*) FROM checkout_requests WHERE kind = 'PlaceOrder' AND status = 'Queued'", "");
    if (rc == 1)
        *n = ck_col_int(st, 0);
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}
