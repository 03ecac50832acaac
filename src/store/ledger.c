/* ledger.c: the ledger repository (store/ledger.h): balance_ledger rows and
 * the conditional UPDATEs of the balances they explain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/ledger.h"

int ck_ledger_insert(ck_db *db, const char *account_id, const char *contract_id, const char *kind, int64_t amount,
                     const char *entry, const char *session_id, const char *memo, char id_out[CK_ID_MAX],
                     ck_error *err)
{
    char id[CK_ID_MAX];
    ck_id_new(id, "led");
    if (id_out)
        snprintf(id_out, CK_ID_MAX, "%s", id);
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO balance_ledger (id, account_id, contract_id, kind, amount, entry, session_id,"
                      " memo, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      "ttttittti", id, account_id, contract_id, kind, amount, entry, session_id, memo, ck_now_ms());
}

int ck_ledger_credit_reserve(ck_db *db, const char *account_id, int64_t total, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE accounts SET credit_used = credit_used + ?, updated_at = ?"
                         " WHERE id = ? AND credit_used + ? <= credit_limit",
                         "iiti", total, ck_now_ms(), account_id, total);
}

int ck_ledger_prepaid_debit(ck_db *db, const char *account_id, int64_t total, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE accounts SET prepaid_balance = prepaid_balance - ?, updated_at = ?"
                         " WHERE id = ? AND prepaid_balance >= ?",
                         "iiti", total, ck_now_ms(), account_id, total);
}

int ck_ledger_contract_debit(ck_db *db, const char *account_id, const char *contract_id, int64_t total,
                             ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE contracts SET remaining = remaining - ?, updated_at = ?"
                         " WHERE id = ? AND account_id = ? AND active = 1 AND remaining >= ?",
                         "iitti", total, ck_now_ms(), contract_id, account_id, total);
}

int ck_ledger_session_open(ck_db *db, const char *session_id, ck_ledger_open **out, size_t *n, ck_error *err)
{
    ck_ledger_open *open = NULL;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT account_id, COALESCE(contract_id, ''), kind, SUM(amount) FROM balance_ledger"
                         " WHERE session_id = ? GROUP BY account_id, contract_id, kind HAVING SUM(amount) <> 0",
                         "t", session_id);
    if (rc < 0)
        return rc;
    while ((rc = ck_db_next(st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            ck_ledger_open *grown = realloc(open, cap * sizeof(*open));
            if (!grown) {
                rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
                break;
            }
            open = grown;
        }
        ck_ledger_open *o = &open[(*n)++];
        ck_col_copy(st, 0, o->account, sizeof(o->account));
        ck_col_copy(st, 1, o->contract, sizeof(o->contract));
        ck_col_copy(st, 2, o->kind, sizeof(o->kind));
        o->net = ck_col_int(st, 3);
    }
    ck_db_done(st);
    if (rc < 0) {
        free(open);
        *n = 0;
        return rc;
    }
    *out = open;
    return 0;
}

int ck_ledger_balance_take_back(ck_db *db, const ck_ledger_open *o, int64_t now, ck_error *err)
{
    if (strcmp(o->kind, "credit") == 0)
        return ck_db_exec(db, NULL, err,
                          "UPDATE accounts SET credit_used = credit_used - ?, updated_at = ? WHERE id = ?", "iit",
                          o->net, now, o->account);
    if (strcmp(o->kind, "prepaid") == 0)
        return ck_db_exec(db, NULL, err,
                          "UPDATE accounts SET prepaid_balance = prepaid_balance - ?, updated_at = ? WHERE id = ?",
                          "iit", o->net, now, o->account);
    return ck_db_exec(db, NULL, err, "UPDATE contracts SET remaining = remaining - ?, updated_at = ? WHERE id = ?",
                      "iit", o->net, now, o->contract);
}

int ck_ledger_lock_account(ck_db *db, const char *account_id, int64_t *prepaid, int64_t *credit_used,
                           ck_error *err)
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

int ck_ledger_credit_reserved(ck_db *db, const char *account_id, int64_t *reserved, ck_error *err)
{
    ck_stmt *st = NULL;
    *reserved = 0;
    int rc = ck_db_one(db, &st, err,
                       "SELECT COALESCE(SUM(amount), 0) FROM balance_ledger WHERE account_id = ? AND kind = 'credit'"
                       " AND session_id IS NOT NULL AND order_id IS NULL",
                       "t", account_id);
    if (rc == 1)
        *reserved = ck_col_int(st, 0);
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

int ck_ledger_account_add(ck_db *db, const char *account_id, int prepaid, int64_t amount, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      prepaid ? "UPDATE accounts SET prepaid_balance = prepaid_balance + ?, updated_at = ? WHERE id = ?"
                              : "UPDATE accounts SET credit_used = credit_used + ?, updated_at = ? WHERE id = ?",
                      "iit", amount, ck_now_ms(), account_id);
}

int ck_ledger_prepaid_set(ck_db *db, const char *account_id, int64_t balance, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE accounts SET prepaid_balance = ?, updated_at = ? WHERE id = ?", "iit",
                      balance, ck_now_ms(), account_id);
}

int ck_ledger_session_sum(ck_db *db, const char *session_id, const char *kind, int64_t *sum, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT COALESCE(SUM(amount), 0) FROM balance_ledger WHERE session_id = ? AND kind = ?", "tt",
                       session_id, kind);
    if (rc == 1)
        *sum = ck_col_int(st, 0);
    ck_db_done(st);
    return rc;
}

int ck_ledger_attach_order(ck_db *db, const char *session_id, const char *order_id, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE balance_ledger SET order_id = ? WHERE session_id = ?", "tt", order_id,
                      session_id);
}
