/* accounts.h: the accounts repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_ACCOUNTS_H
#define CK_STORE_ACCOUNTS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Is account id a buyer account? 1 yes, 0 not a buyer or no such account, <0. */
int ck_accounts_is_buyer(ck_db *db, const char *id, ck_error *err);

/* Is the account a member of the store (store_members)? 1, 0, <0. */
int ck_accounts_store_member(ck_db *db, const char *store_id, const char *account_id, ck_error *err);

/* Was the account given to the user (user_accounts)? 1, 0, <0. */
int ck_accounts_given_to_user(ck_db *db, const char *user_id, const char *account_id, ck_error *err);

#endif
