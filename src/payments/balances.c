/* balances.c: money that never leaves through a gateway: account credit
 * (purchase orders, net terms), prepaid balances and contracts. Every change
 * is a conditional UPDATE (so two orders cannot both spend the last unit of
 * credit) plus a signed row in balance_ledger, in the same transaction; the
 * ledger's sums are the balances (balances.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payments/balances.h"

static int ledger(ck_db *db, const char *account, const char *contract, const char *kind, int64_t amount,
                  const char *entry, const char *session_id, const char *memo, char id_out[CK_ID_MAX], ck_error *err)
{
    char id[CK_ID_MAX];
    ck_id_new(id, "led");
    if (id_out)
        snprintf(id_out, CK_ID_MAX, "%s", id);
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO balance_ledger (id, account_id, contract_id, kind, amount, entry, session_id,"
                      " memo, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      "ttttittti", id, account, contract, kind, amount, entry, session_id, memo, ck_now_ms());
}

int ck_balance_reserve(ck_db *db, const char *method, const char *account_id, const char *contract_id,
                       int64_t total, const char *session_id, ck_error *err)
{
    int64_t changed = 0;
    int rc;
    if (strcmp(method, "purchase_order") == 0 || strcmp(method, "net_terms") == 0) {
        rc = ck_db_exec(db, &changed, err,
                        "UPDATE accounts SET credit_used = credit_used + ?, updated_at = ?"
                        " WHERE id = ? AND credit_used + ? <= credit_limit",
                        "iiti", total, ck_now_ms(), account_id, total);
        if (rc == 0 && changed != 1)
            return ck_fail(err, CK_EINVALID, "CREDIT_LIMIT_EXCEEDED", NULL,
                           "the order total %lld exceeds the available credit", (long long)total);
        if (rc == 0)
            rc = ledger(db, account_id, NULL, "credit", total, "reserve", session_id, NULL, NULL, err);
    } else if (strcmp(method, "prepaid") == 0) {
        rc = ck_db_exec(db, &changed, err,
                        "UPDATE accounts SET prepaid_balance = prepaid_balance - ?, updated_at = ?"
                        " WHERE id = ? AND prepaid_balance >= ?",
                        "iiti", total, ck_now_ms(), account_id, total);
        if (rc == 0 && changed != 1)
            return ck_fail(err, CK_EINVALID, "INSUFFICIENT_PREPAID_BALANCE", NULL,
                           "the prepaid balance does not cover the order total %lld", (long long)total);
        if (rc == 0)
            rc = ledger(db, account_id, NULL, "prepaid", -total, "debit", session_id, NULL, NULL, err);
    } else {
        rc = ck_db_exec(db, &changed, err,
                        "UPDATE contracts SET remaining = remaining - ?, updated_at = ?"
                        " WHERE id = ? AND account_id = ? AND active = 1 AND remaining >= ?",
                        "iitti", total, ck_now_ms(), contract_id, account_id, total);
        if (rc == 0 && changed != 1)
            return ck_fail(err, CK_EINVALID, "CONTRACT_INVALID", NULL,
                           "contract %s is not active, not this account's, or has less than %lld remaining",
                           contract_id, (long long)total);
        if (rc == 0)
            rc = ledger(db, account_id, contract_id, "contract", -total, "debit", session_id, NULL, NULL, err);
    }
    return rc;
}

int ck_balance_release_session(ck_db *db, const char *session_id, ck_error *err)
{
    typedef struct open_balance {
        char account[CK_ID_MAX], contract[CK_ID_MAX], kind[16];
        int64_t net;
    } open_balance;
    open_balance *open = NULL;
    size_t n = 0, cap = 0;
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT account_id, COALESCE(contract_id, ''), kind, SUM(amount) FROM balance_ledger"
                         " WHERE session_id = ? GROUP BY account_id, contract_id, kind HAVING SUM(amount) <> 0",
                         "t", session_id);
    if (rc < 0)
        return rc;
    while ((rc = ck_db_next(st, err)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            open_balance *grown = realloc(open, cap * sizeof(*open));
            if (!grown) {
                rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
                break;
            }
            open = grown;
        }
        snprintf(open[n].account, sizeof(open[n].account), "%s", ck_col_text(st, 0));
        snprintf(open[n].contract, sizeof(open[n].contract), "%s", ck_col_text(st, 1));
        snprintf(open[n].kind, sizeof(open[n].kind), "%s", ck_col_text(st, 2));
        open[n].net = ck_col_int(st, 3);
        n++;
    }
    ck_db_done(st);
    int64_t now = ck_now_ms();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int64_t net = open[i].net;
        if (strcmp(open[i].kind, "credit") == 0)
            rc = ck_db_exec(db, NULL, err,
                            "UPDATE accounts SET credit_used = credit_used - ?, updated_at = ? WHERE id = ?", "iit",
                            net, now, open[i].account);
        else if (strcmp(open[i].kind, "prepaid") == 0)
            rc = ck_db_exec(db, NULL, err,
                            "UPDATE accounts SET prepaid_balance = prepaid_balance - ?, updated_at = ? WHERE id = ?",
                            "iit", net, now, open[i].account);
        else
            rc = ck_db_exec(db, NULL, err,
                            "UPDATE contracts SET remaining = remaining - ?, updated_at = ? WHERE id = ?", "iit", net,
                            now, open[i].contract);
        if (rc == 0)
            rc = ledger(db, open[i].account, open[i].contract[0] ? open[i].contract : NULL, open[i].kind, -net,
                        "release", session_id, NULL, NULL, err);
    }
    free(open);
    return rc < 0 ? rc : (int)n;
}

/* The account's row, locked for the rest of the transaction (a no-op
 * UPDATE: PostgreSQL holds the row, SQLite's write transaction is serial),
 * then read. 1 found (*prepaid, *credit_used filled), 0 none, <0. */
static int lock_account(ck_db *db, const char *account_id, int64_t *prepaid, int64_t *credit_used, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err, "UPDATE accounts SET updated_at = ? WHERE id = ?", "it", ck_now_ms(),
                        account_id);
    if (rc < 0 || changed != 1)
        return rc < 0 ? rc : 0;
    ck_stmt *st = NULL;
    rc = ck_db_one(db, &st, err, "SELECT prepaid_balance, credit_used FROM accounts WHERE id = ?", "t", account_id);
    if (rc == 1) {
        *prepaid = ck_col_int(st, 0);
        *credit_used = ck_col_int(st, 1);
    }
    ck_db_done(st);
    return rc;
}

int ck_balance_adjust(ck_db *db, const char *account_id, const char *kind, int64_t amount, const char *memo,
                      char ledger_id[CK_ID_MAX], ck_error *err)
{
    int64_t prepaid = 0, credit_used = 0;
    int rc = lock_account(db, account_id, &prepaid, &credit_used, err);
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
        ck_stmt *st = NULL;
        int64_t reserved = 0;
        rc = ck_db_one(db, &st, err,
                       "SELECT COALESCE(SUM(amount), 0) FROM balance_ledger WHERE account_id = ? AND kind = 'credit'"
                       " AND session_id IS NOT NULL AND order_id IS NULL",
                       "t", account_id);
        if (rc == 1)
            reserved = ck_col_int(st, 0);
        ck_db_done(st);
        if (rc < 0)
            return rc;
        if (after < reserved)
            return ck_fail(err, CK_EINVALID, "CREDIT_USED_BELOW_ZERO", "amount",
                           "the credit used is %lld, of which %lld is reserved by checkouts without an order yet;"
                           " at most %lld can be paid",
                           (long long)before, (long long)reserved, (long long)(before - reserved));
    }
    rc = ck_db_exec(db, NULL, err,
                    is_prepaid ? "UPDATE accounts SET prepaid_balance = prepaid_balance + ?, updated_at = ? WHERE id = ?"
                               : "UPDATE accounts SET credit_used = credit_used + ?, updated_at = ? WHERE id = ?",
                    "iit", amount, ck_now_ms(), account_id);
    if (rc < 0)
        return rc;
    return ledger(db, account_id, NULL, is_prepaid ? "prepaid" : "credit", amount, "adjust", NULL, memo, ledger_id,
                  err);
}

int ck_balance_set_prepaid(ck_db *db, const char *account_id, int64_t balance, ck_error *err)
{
    int64_t prepaid = 0, credit_used = 0;
    int rc = lock_account(db, account_id, &prepaid, &credit_used, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", NULL, "account %s not found", account_id);
    if (balance == prepaid)
        return 0;
    rc = ck_db_exec(db, NULL, err, "UPDATE accounts SET prepaid_balance = ?, updated_at = ? WHERE id = ?", "iit",
                    balance, ck_now_ms(), account_id);
    if (rc < 0)
        return rc;
    return ledger(db, account_id, NULL, "prepaid", balance - prepaid, "adjust", NULL, "prepaidBalance set by PATCH",
                  NULL, err);
}

int ck_balance_open_prepaid(ck_db *db, const char *account_id, int64_t amount, ck_error *err)
{
    return amount == 0 ? 0 : ledger(db, account_id, NULL, "prepaid", amount, "adjust", NULL, "opening balance", NULL, err);
}

int ck_balance_open_contract(ck_db *db, const char *account_id, const char *contract_id, int64_t amount,
                             ck_error *err)
{
    return amount == 0 ? 0
                       : ledger(db, account_id, contract_id, "contract", amount, "adjust", NULL, "opening amount",
                                NULL, err);
}
