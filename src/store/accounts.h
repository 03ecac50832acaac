/* accounts.h: the accounts repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_ACCOUNTS_H
#define CK_STORE_ACCOUNTS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* An account's writable fields. On update, NULL strings and -1 numbers keep
 * the stored value, and prepaid_balance is not read (an admin sets it with
 * ck_balance_set_prepaid, which writes its ledger row). */
typedef struct ck_account_fields {
    const char *name, *country;
    int is_buyer, hazmat_approved;
    int64_t credit_limit, prepaid_balance;
} ck_account_fields;

/* 1 when the account exists, 0 when not, or <0. */
int ck_accounts_exists(ck_db *db, const char *id, ck_error *err);

/* Inserts an account with nothing of its credit used; its id goes to id_out.
 * Its opening prepaid balance needs its ledger row too
 * (ck_balance_open_prepaid). 0 or <0. */
int ck_accounts_insert(ck_db *db, const ck_account_fields *in, char id_out[CK_ID_MAX], ck_error *err);

/* Makes the account a member of the store (both must exist) unless it is
 * already; *out gets the membership {"storeId","accountId","createdAt"}
 * as first made. 1 added, 0 a member already, or <0. */
int ck_accounts_add_member(ck_db *db, const char *store_id, const char *account_id, json_t **out,
                           ck_error *err);

#endif
