/* stores.h: the stores repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_STORES_H
#define CK_STORE_STORES_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* The store's active flow id into flow_id: 1 found, 0 no such store, <0. */
int ck_stores_active_flow(ck_db *db, const char *store_id, char flow_id[CK_ID_MAX], ck_error *err);

/* Does the store offer shipping method method_id? 1, 0, <0. */
int ck_stores_offers_shipping_method(ck_db *db, const char *store_id, const char *method_id, ck_error *err);

#endif
