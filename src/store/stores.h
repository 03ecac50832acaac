/* stores.h: the stores repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_STORES_H
#define CK_STORE_STORES_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Does store id exist? 1, 0, or <0. */
int ck_stores_exists(ck_db *db, const char *id, ck_error *err);

#endif
