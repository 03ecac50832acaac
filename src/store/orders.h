/* orders.h: the orders repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_ORDERS_H
#define CK_STORE_ORDERS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* The ids of up to limit orders of account_id with an id after `after` ("" first),
 * in id order, into ids (room for limit), how many in *n. 0 or <0. */
int ck_orders_list_ids_by_account(ck_db *db, const char *account_id, const char *after, int64_t limit,
                                  char (*ids)[CK_ID_MAX], int64_t *n, ck_error *err);

/* How many orders there are. 0 or <0. */
int ck_orders_count(ck_db *db, int64_t *n, ck_error *err);

#endif
