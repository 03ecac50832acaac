/* ledger.h: the ledger repository: balance_ledger rows and the balances they
 * explain (accounts.credit_used, accounts.prepaid_balance,
 * contracts.remaining). Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise; the domain rules (which
 * method moves which balance, the error reasons) stay in payments/balances.c. */
#ifndef CK_STORE_LEDGER_H
#define CK_STORE_LEDGER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Inserts one signed balance_ledger row (contract_id, session_id, memo may be
 * NULL); id_out (may be NULL) gets its new id. 0 or <0. */
int ck_ledger_insert(ck_db *db, const char *account_id, const char *contract_id, const char *kind, int64_t amount,
                     const char *entry, const char *session_id, const char *memo, char id_out[CK_ID_MAX],
                     ck_error *err);

/* The conditional UPDATEs that spend a balance; each returns the rows it
 * changed (1 spent, 0 lost: the balance does not cover total, or no such
 * account / active contract of the account) or <0.
 *   credit: credit_used += total where credit_used + total <= credit_limit
 *   prepaid: prepaid_balance -= total where prepaid_balance >= total
 *   contract: remaining -= total where the contract is the account's,
 *             active, and remaining >= total */
int ck_ledger_credit_reserve(ck_db *db, const char *account_id, int64_t total, ck_error *err);
int ck_ledger_prepaid_debit(ck_db *db, const char *account_id, int64_t total, ck_error *err);
int ck_ledger_contract_debit(ck_db *db, const char *account_id, const char *contract_id, int64_t total,
                             ck_error *err);

/* What a session moved and has not given back: one row per (account,
 * contract, kind) whose ledger sum is not 0. contract is "" for none. */
typedef struct ck_ledger_open {
    char account[CK_ID_MAX], contract[CK_ID_MAX], kind[16];
    int64_t net;
} ck_ledger_open;

/* The open balances of session_id; *out (caller frees) gets *n rows. 0 or <0. */
int ck_ledger_session_open(ck_db *db, const char *session_id, ck_ledger_open **out, size_t *n, ck_error *err);

/* Takes net back out of the balance o names (credit_used, prepaid_balance,
 * or the contract's remaining; unconditional), updated_at = now. 0 or <0. */
int ck_ledger_balance_take_back(ck_db *db, const ck_ledger_open *o, int64_t now, ck_error *err);

/* The account's row, locked for the rest of the transaction (a no-op
 * UPDATE: PostgreSQL holds the row, SQLite's write transaction is serial),
 * then read. 1 found (*prepaid, *credit_used filled), 0 none, <0. */
int ck_ledger_lock_account(ck_db *db, const char *account_id, int64_t *prepaid, int64_t *credit_used,
                           ck_error *err);

/* Credit of the account reserved by checkouts that have no order yet (the
 * sum of its credit rows with a session and no order) into *reserved. 0 or <0. */
int ck_ledger_credit_reserved(ck_db *db, const char *account_id, int64_t *reserved, ck_error *err);

/* Adds amount (signed) to the account's prepaid_balance (prepaid = 1) or
 * credit_used (prepaid = 0), unconditionally. 0 or <0. */
int ck_ledger_account_add(ck_db *db, const char *account_id, int prepaid, int64_t amount, ck_error *err);

/* Sets the account's prepaid_balance outright. 0 or <0. */
int ck_ledger_prepaid_set(ck_db *db, const char *account_id, int64_t balance, ck_error *err);

#include <jansson.h>
#include <stdint.h>

/* The sum of a session's ledger rows of one kind (credit, prepaid,
 * contract) into *sum. 1, or <0. */
int ck_ledger_session_sum(ck_db *db, const char *session_id, const char *kind, int64_t *sum, ck_error *err);
/* The session's ledger rows name the order made from it. */
int ck_ledger_attach_order(ck_db *db, const char *session_id, const char *order_id, ck_error *err);

#endif
