/* balances.c: money that never leaves through a gateway: account credit
 * (purchase orders, net terms), prepaid balances and contracts. Every change
 * is a conditional UPDATE (so two orders cannot both spend the last unit of
 * credit) plus a signed row in balance_ledger, in the same transaction. */
#include <string.h>

#include "checkout/session.h"
#include "checkout/step.h"

static int ledger(ck_db *db, const char *account, const char *contract, const char *kind, int64_t amount,
                  const char *entry, const char *session_id, ck_error *err)
{
    char id[CK_ID_MAX];
    ck_id_new(id, "led");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO balance_ledger (id, account_id, contract_id, kind, amount, entry, session_id,"
                      " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      "ttttitti", id, account, contract, kind, amount, entry, session_id, ck_now_ms());
}

/* The payment step's save for credit, prepaid and contract: inside the
 * commit. FAIL when the balance does not cover the total. */
ck_step_result ck_balance_reserve(ck_step_ctx *ctx)
{
    ck_error dberr;
    int64_t changed = 0, total = ctx->grand_total;
    const char *m = ctx->auth.method;
    int rc;
    if (strcmp(m, "purchase_order") == 0 || strcmp(m, "net_terms") == 0) {
        rc = ck_db_exec(ctx->db, &changed, &dberr,
                        "UPDATE accounts SET credit_used = credit_used + ?, updated_at = ?"
                        " WHERE id = ? AND credit_used + ? <= credit_limit",
                        "iiti", total, ck_now_ms(), ctx->account_id, total);
        if (rc == 0 && changed != 1)
            return ck_step_fail(ctx, "CREDIT_LIMIT_EXCEEDED", "the order total %lld exceeds the available credit",
                                (long long)total);
        if (rc == 0)
            rc = ledger(ctx->db, ctx->account_id, NULL, "credit", total, "reserve", ctx->session_id, &dberr);
    } else if (strcmp(m, "prepaid") == 0) {
        rc = ck_db_exec(ctx->db, &changed, &dberr,
                        "UPDATE accounts SET prepaid_balance = prepaid_balance - ?, updated_at = ?"
                        " WHERE id = ? AND prepaid_balance >= ?",
                        "iiti", total, ck_now_ms(), ctx->account_id, total);
        if (rc == 0 && changed != 1)
            return ck_step_fail(ctx, "INSUFFICIENT_PREPAID_BALANCE",
                                "the prepaid balance does not cover the order total %lld", (long long)total);
        if (rc == 0)
            rc = ledger(ctx->db, ctx->account_id, NULL, "prepaid", -total, "debit", ctx->session_id, &dberr);
    } else {
        rc = ck_db_exec(ctx->db, &changed, &dberr,
                        "UPDATE contracts SET remaining = remaining - ?, updated_at = ?"
                        " WHERE id = ? AND account_id = ? AND active = 1 AND remaining >= ?",
                        "iitti", total, ck_now_ms(), ctx->auth.contract_id, ctx->account_id, total);
        if (rc == 0 && changed != 1)
            return ck_step_fail(ctx, "CONTRACT_INVALID",
                                "contract %s is not active, not this account's, or has less than %lld remaining",
                                ctx->auth.contract_id, (long long)total);
        if (rc == 0)
            rc = ledger(ctx->db, ctx->account_id, ctx->auth.contract_id, "contract", -total, "debit", ctx->session_id,
                        &dberr);
    }
    return rc < 0 ? ck_step_db_error(ctx, &dberr) : CK_STEP_OK;
}

int ck_balance_release_session(ck_db *db, const char *session_id, ck_error *err)
{
    struct {
        char account[CK_ID_MAX], contract[CK_ID_MAX], kind[16];
        int64_t net;
    } open[8];
    int n = 0;
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT account_id, COALESCE(contract_id, ''), kind, SUM(amount) FROM balance_ledger"
                         " WHERE session_id = ? GROUP BY account_id, contract_id, kind HAVING SUM(amount) <> 0",
                         "t", session_id);
    if (rc < 0)
        return rc;
    while (n < 8 && (rc = ck_db_next(st, err)) == 1) {
        snprintf(open[n].account, sizeof(open[n].account), "%s", ck_col_text(st, 0));
        snprintf(open[n].contract, sizeof(open[n].contract), "%s", ck_col_text(st, 1));
        snprintf(open[n].kind, sizeof(open[n].kind), "%s", ck_col_text(st, 2));
        open[n].net = ck_col_int(st, 3);
        n++;
    }
    ck_db_done(st);
    if (rc < 0)
        return rc;
    int64_t now = ck_now_ms();
    for (int i = 0; i < n; i++) {
        int64_t net = open[i].net;
        if (strcmp(open[i].kind, "credit") == 0)
            rc = ck_db_exec(db, NULL, err,
                            "UPDATE accounts SET credit_used = CASE WHEN credit_used >= ? THEN credit_used - ? ELSE 0 END,"
                            " updated_at = ? WHERE id = ?",
                            "iiit", net, net, now, open[i].account);
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
                        "release", session_id, err);
        if (rc < 0)
            return rc;
    }
    return n;
}

int ck_session_undo_payment(ck_db *db, const char *session_id, ck_error *err)
{
    int rc = ck_session_set_progress(db, session_id, "payment", "business_rules", NULL, err);
    if (rc != 1)
        return rc;
    rc = ck_db_exec(db, NULL, err,
                    "UPDATE checkout_sessions SET inputs_version = inputs_version + 1 WHERE id = ?", "t", session_id);
    return rc < 0 ? rc : 1;
}
