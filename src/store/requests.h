/* requests.h: the requests repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_REQUESTS_H
#define CK_STORE_REQUESTS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* SQLite start-up (the process that ran them is gone): async placements a
 * runner had taken go back to the queue (Queued, no runner); then a
 * synchronous placement left Running is marked Failed at now with status
 * 500 and the UNKNOWN_EXCEPTION error telling the caller to place again.
 * 0 or <0. */
int ck_requests_recover_running(ck_db *db, int64_t now, ck_error *err);

/* How many asynchronous placements are queued and not yet started. 0 or <0. */
int ck_requests_count_queued_placements(ck_db *db, int64_t *n, ck_error *err);

#endif
