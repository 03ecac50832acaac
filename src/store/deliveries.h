/* deliveries.h: the deliveries repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_DELIVERIES_H
#define CK_STORE_DELIVERIES_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Appends each subscriber's delivery of each of the order's events (id,
 * subscriberId, event, status, attempts), in id order, to arr. 0 or <0. */
int ck_deliveries_order_json(ck_db *db, const char *order_id, json_t *arr, ck_error *err);

#endif
