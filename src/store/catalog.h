/* catalog.h: the catalog repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_CATALOG_H
#define CK_STORE_CATALOG_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Takes quantity of a product's stock with a conditional UPDATE: 1 taken,
 * 0 not enough left (nothing changed), <0. */
int ck_catalog_take_stock(ck_db *db, const char *product_id, int64_t quantity, int64_t now, ck_error *err);

#endif
