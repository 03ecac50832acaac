/* balances.h: money that never leaves through a gateway: account credit
 * (purchase orders, net terms), prepaid balances and contracts. Every change
 * is one conditional UPDATE plus one signed balance_ledger row in the same
 * transaction, so at every moment, per account: the sum of its prepaid rows
 * is prepaidBalance, of its credit rows creditUsed, and per contract the sum
 * of its contract rows is remaining. All functions run inside the caller's
 * write transaction. */
#ifndef CK_BALANCES_H
#define CK_BALANCES_H

#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Reserves (credit: purchase_order, net_terms) or debits (prepaid; contract
 * contract_id) total for a session's payment, with its ledger row. 0;
 * CK_EINVALID with reason CREDIT_LIMIT_EXCEEDED, INSUFFICIENT_PREPAID_BALANCE
 * or CONTRACT_INVALID when the balance does not cover it; or <0. */
int ck_balance_reserve(ck_db *db, const char *method, const char *account_id, const char *contract_id,
                       int64_t total, const char *session_id, ck_error *err);

/* Gives back what a session's payment step reserved or debited and has not
 * yet given back (reversing `release` rows). Only ck_session_give_back and
 * the payment step itself call it, after checking the session has no order.
 * Returns the number of balances restored, or <0. */
int ck_balance_release_session(ck_db *db, const char *session_id, ck_error *err);

/* An admin's relative change (POST /v1/accounts/{id}/adjustments): kind
 * "prepaid" (+ tops up, - withdraws; 400 INSUFFICIENT_PREPAID_BALANCE, field
 * amount, when the balance would go below 0) or "credit" (- records paid
 * invoices, + charges; 400 CREDIT_USED_BELOW_ZERO, field amount, when
 * creditUsed would go below 0). A result above CK_MONEY_MAX is 400
 * BALANCE_TOO_LARGE. 404 for an unknown account. ledger_id gets the new row's id. */
int ck_balance_adjust(ck_db *db, const char *account_id, const char *kind, int64_t amount, const char *memo,
                      char ledger_id[CK_ID_MAX], ck_error *err);

/* Sets an account's prepaidBalance outright (an admin PATCH) and writes the
 * difference as one `adjust` row (none when it is 0). 404 unknown account. */
int ck_balance_set_prepaid(ck_db *db, const char *account_id, int64_t balance, ck_error *err);

/* The opening rows of a new account's prepaid balance and of a new
 * contract's amount (`adjust`, none for 0). */
int ck_balance_open_prepaid(ck_db *db, const char *account_id, int64_t amount, ck_error *err);
int ck_balance_open_contract(ck_db *db, const char *account_id, const char *contract_id, int64_t amount,
                             ck_error *err);

#endif
