/* accounts.h: the accounts repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_ACCOUNTS_H
#define CK_STORE_ACCOUNTS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Does account id exist? 1, 0, or <0. */
int ck_accounts_exists(ck_db *db, const char *id, ck_error *err);

#endif
