/* balances.c: money that never leaves through a gateway: account credit
 * (purchase orders, net terms), prepaid balances and contracts. Every change
 * is a conditional UPDATE (so two orders cannot both spend the last unit of
 * credit) plus a signed row in balance_ledger, in the same transaction; the
 * ledger's sums are the balances (balances.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payments/balances.h"
#include "store/ledger.h"

int ck_balance_reserve(ck_db *db, const char *method, const char *account_id, const char *contract_id,
                       int64_t total, const char *session_id, ck_error *err)
{
    int rc;
    if (strcmp(method, "purchase_order") == 0 || strcmp(method, "net_terms") == 0) {
        rc = ck_ledger_credit_reserve(db, account_id, total, err);
        if (rc == 0)
            return ck_fail(err, CK_EINVALID, "CREDIT_LIMIT_EXCEEDED", NULL,
                           "the order total %lld exceeds the available credit", (long long)total);
        if (rc > 0)
            rc = ck_ledger_insert(db, account_id, NULL, "credit", total, "reserve", session_id, NULL, NULL, err);
    } else if (strcmp(method, "prepaid") == 0) {
        rc = ck_ledger_prepaid_debit(db, account_id, total, err);
        if (rc == 0)
            return ck_fail(err, CK_EINVALID, "INSUFFICIENT_PREPAID_BALANCE", NULL,
                           "the prepaid balance does not cover the order total %lld", (long long)total);
        if (rc > 0)
            rc = ck_ledger_insert(db, account_id, NULL, "prepaid", -total, "debit", session_id, NULL, NULL, err);
    } else {
        rc = ck_ledger_contract_debit(db, account_id, contract_id, total, err);
        if (rc == 0)
            return ck_fail(err, CK_EINVALID, "CONTRACT_INVALID", NULL,
                           "contract %s is not active, not this account's, or has less than %lld remaining",
                           contract_id, (long long)total);
        if (rc > 0)
            rc = ck_ledger_insert(db, account_id, contract_id, "contract", -total, "debit", session_id, NULL, NULL,
                                  err);
    }
    return rc;
}

int ck_balance_release_session(ck_db *db, const char *session_id, ck_error *err)
{
    ck_ledger_open *open = NULL;
    size_t n = 0;
    int rc = ck_ledger_session_open(db, session_id, &open, &n, err);
    if (rc < 0)
        return rc;
    int64_t now = ck_now_ms();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = ck_ledger_balance_take_back(db, &open[i], now, err);
        if (rc == 0)
            rc = ck_ledger_insert(db, open[i].account, open[i].contract[0] ? open[i].contract : NULL, open[i].kind,
                                  -open[i].net, "release", session_id, NULL, NULL, err);
    }
    free(open);
    return rc < 0 ? rc : (int)n;
}

int ck_balance_adjust(ck_db *db, const char *account_id, const char *kind, int64_t amount, const char *memo,
                      char ledger_id[CK_ID_MAX], ck_error *err)
{
    int64_t prepaid = 0, credit_used = 0;
    int rc = ck_ledger_lock_account(db, account_id, &prepaid, &credit_used, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", NULL, "account %s not found", account_id);
    int is_prepaid = strcmp(kind, "prepaid") == 0;
    int64_t before = is_prepaid ? prepaid : credit_used, after = 0;
    if (__builtin_add_overflow(before, amount, &after) || after > CK_MONEY_MAX)
        return ck_fail(err, CK_EINVALID, "BALANCE_TOO_LARGE", "amount", "the %s balance would exceed %lld", kind,
                       (long long)CK_MONEY_MAX);
    if (after < 0 && is_prepaid)
        return ck_fail(err, CK_EINVALID, "INSUFFICIENT_PREPAID_BALANCE", "amount",
                       "the prepaid balance is %lld; it cannot go below 0", (long long)before);
    if (!is_prepaid && amount < 0) {
        /* Credit reserved by checkouts that have no order yet is not
         * invoiced: it cannot be paid, and it must stay releasable. */
        int64_t reserved = 0;
        if ((rc = ck_ledger_credit_reserved(db, account_id, &reserved, err)) < 0)
            return rc;
        if (after < reserved)
            return ck_fail(err, CK_EINVALID, "CREDIT_USED_BELOW_ZERO", "amount",
                           "the credit used is %lld, of which %lld is reserved by checkouts without an order yet;"
                           " at most %lld can be paid",
                           (long long)before, (long long)reserved, (long long)(before - reserved));
    }
    if ((rc = ck_ledger_account_add(db, account_id, is_prepaid, amount, err)) < 0)
        return rc;
    return ck_ledger_insert(db, account_id, NULL, is_prepaid ? "prepaid" : "credit", amount, "adjust", NULL, memo,
                            ledger_id, err);
}

int ck_balance_set_prepaid(ck_db *db, const char *account_id, int64_t balance, ck_error *err)
{
    int64_t prepaid = 0, credit_used = 0;
    int rc = ck_ledger_lock_account(db, account_id, &prepaid, &credit_used, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", NULL, "account %s not found", account_id);
    if (balance == prepaid)
        return 0;
    if ((rc = ck_ledger_prepaid_set(db, account_id, balance, err)) < 0)
        return rc;
    return ck_ledger_insert(db, account_id, NULL, "prepaid", balance - prepaid, "adjust", NULL, "prepaidBalance set by PATCH",
                  NULL, err);
}

int ck_balance_open_prepaid(ck_db *db, const char *account_id, int64_t amount, ck_error *err)
{
    return amount == 0 ? 0
                       : ck_ledger_insert(db, account_id, NULL, "prepaid", amount, "adjust", NULL, "opening balance",
                                          NULL, err);
}

int ck_balance_open_contract(ck_db *db, const char *account_id, const char *contract_id, int64_t amount,
                             ck_error *err)
{
    return amount == 0 ? 0
                       : ck_ledger_insert(db, account_id, contract_id, "contract", amount, "adjust", NULL,
                                          "opening amount", NULL, err);
}
