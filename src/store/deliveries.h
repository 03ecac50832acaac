/* deliveries.h: the deliveries repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_DELIVERIES_H
#define CK_STORE_DELIVERIES_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Cancels every delivery of a subscriber not delivered yet (Pending,
 * including one being attempted, or Dead), at now: never attempted again and
 * not replayable. The lease is cleared, so an attempt in flight cannot
 * record its outcome. 0 or <0. */
int ck_deliveries_cancel_for_subscriber(ck_db *db, const char *subscriber_id, int64_t now, ck_error *err);

/* A delivery as API.md's dead-letter view shows it (id, subscriberId,
 * eventId, event, orderId, status, attempts, lastError, createdAt,
 * updatedAt). 1 with *out (the caller's), 0 when there is none, or <0. */
int ck_deliveries_get(ck_db *db, const char *id, json_t **out, ck_error *err);

/* Up to limit Dead deliveries with an id after `after` ("" first), in id
 * order, as ck_deliveries_get gives them: *items (the caller's) and the last
 * id in last_id ("" for none). 0 or <0. */
int ck_deliveries_list_dead(ck_db *db, const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX],
                            ck_error *err);

/* How many deliveries are Pending and Dead. 0 or <0. */
int ck_deliveries_count_backlog(ck_db *db, int64_t *pending, int64_t *dead, ck_error *err);

#endif
