/* accounts.h: the accounts repository: accounts, their store memberships,
 * their contracts, and their balance ledger read as JSON (the balances
 * themselves change only through payments/balances.h). Each function runs
 * in the caller's transaction, if any. Views (`*_json`, lists) are API.md's
 * JSON; what they give belongs to the caller. */
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

/* Applies in to the account: 1 changed, 0 no such account, or <0. */
int ck_accounts_update(ck_db *db, const char *id, const ck_account_fields *in, ck_error *err);

/* The account as JSON: 0 with *out, CK_ENOTFOUND, or <0. */
int ck_accounts_json(ck_db *db, const char *id, json_t **out, ck_error *err);

/* A page of accounts, oldest first, after the id `after` ("" from the
 * start): 0 with *items (at most limit) and last_id (the last item's id, ""
 * if none), or <0. */
int ck_accounts_list(ck_db *db, const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX],
                     ck_error *err);

/* ---- store membership ---- */

/* Makes the account a member of the store (both must exist) unless it is
 * already; *out gets the membership {"storeId","accountId","createdAt"}
 * as first made. 1 added, 0 a member already, or <0. */
int ck_accounts_add_member(ck_db *db, const char *store_id, const char *account_id, json_t **out,
                           ck_error *err);

/* Ends the account's membership of the store: 1 ended, 0 it was none, or <0. */
int ck_accounts_remove_member(ck_db *db, const char *store_id, const char *account_id, ck_error *err);

/* ---- contracts ---- */

/* Inserts a contract of the account for amount (all of it remaining); its
 * id goes to id_out. Its opening amount needs its ledger row too
 * (ck_balance_open_contract). 0 or <0. */
int ck_accounts_insert_contract(ck_db *db, const char *account_id, int64_t amount, int active,
                                char id_out[CK_ID_MAX], ck_error *err);

/* The contract as JSON: 0 with *out, CK_ENOTFOUND, or <0. */
int ck_accounts_contract_json(ck_db *db, const char *id, json_t **out, ck_error *err);

/* A page of contracts, of account_id only unless it is NULL, as ck_accounts_list. */
int ck_accounts_list_contracts(ck_db *db, const char *account_id, const char *after, int64_t limit,
                               json_t **items, char last_id[CK_ID_MAX], ck_error *err);

/* ---- the balance ledger, read ---- */

/* A ledger row as JSON: 0 with *out, CK_ENOTFOUND, or <0. */
int ck_accounts_ledger_entry_json(ck_db *db, const char *id, json_t **out, ck_error *err);

/* A page of the account's ledger rows, oldest first, as ck_accounts_list. */
int ck_accounts_list_ledger(ck_db *db, const char *account_id, const char *after, int64_t limit,
                            json_t **items, char last_id[CK_ID_MAX], ck_error *err);

/* Is account id a buyer account? 1 yes, 0 not a buyer or no such account, <0. */
int ck_accounts_is_buyer(ck_db *db, const char *id, ck_error *err);

/* Is the account a member of the store (store_members)? 1, 0, <0. */
int ck_accounts_store_member(ck_db *db, const char *store_id, const char *account_id, ck_error *err);

/* Was the account given to the user (user_accounts)? 1, 0, <0. */
int ck_accounts_given_to_user(ck_db *db, const char *user_id, const char *account_id, ck_error *err);

#endif
