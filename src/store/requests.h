/* requests.h: the requests repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_REQUESTS_H
#define CK_STORE_REQUESTS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* How many asynchronous placements are queued and not yet started. 0 or <0. */
int ck_requests_count_queued_placements(ck_db *db, int64_t *n, ck_error *err);

#endif
