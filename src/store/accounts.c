/* accounts.c: the accounts repository (store/accounts.h): accounts, store
 * memberships, contracts, and the balance ledger read as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "store/accounts.h"
#include "store/view.h"

#define ACCOUNT_COLS "id, name, is_buyer, credit_limit, credit_used, prepaid_balance," \
                     " hazmat_approved, country, created_at, updated_at"

static json_t *account_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:b, s:s, s:o, s:o}", "id", ck_col_text(st, 0),
                     "name", ck_col_text(st, 1), "isBuyer", ck_col_int(st, 2) != 0, "creditLimit",
                     (json_int_t)ck_col_int(st, 3), "creditUsed", (json_int_t)ck_col_int(st, 4),
                     "prepaidBalance", (json_int_t)ck_col_int(st, 5), "hazmatApproved",
                     ck_col_int(st, 6) != 0, "country", ck_col_text(st, 7), "createdAt",
                     ck_json_time(ck_col_int(st, 8)), "updatedAt", ck_json_time(ck_col_int(st, 9)));
}

int ck_accounts_exists(ck_db *db, const char *id, ck_error *err)
{
    return ck_db_exists(db, err, "SELECT 1 FROM accounts WHERE id = ?", "t", id);
}

int ck_accounts_insert(ck_db *db, const ck_account_fields *in, char id_out[CK_ID_MAX], ck_error *err)
{
    int64_t now = ck_now_ms();
    ck_id_new(id_out, "acct");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO accounts (id, name, is_buyer, credit_limit, credit_used, prepaid_balance,"
                      " hazmat_approved, country, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
                      "ttiiiitii", id_out, in->name, (int64_t)in->is_buyer, in->credit_limit, in->prepaid_balance,
                      (int64_t)in->hazmat_approved, in->country, now, now);
}

int ck_accounts_update(ck_db *db, const char *id, const ck_account_fields *in, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE accounts SET name = COALESCE(?, name),"
                        " is_buyer = CASE WHEN ? >= 0 THEN ? ELSE is_buyer END,"
                        " credit_limit = CASE WHEN ? >= 0 THEN ? ELSE credit_limit END,"
                        " hazmat_approved = CASE WHEN ? >= 0 THEN ? ELSE hazmat_approved END,"
                        " country = COALESCE(?, country), updated_at = ? WHERE id = ?",
                        "tiiiiiitit", in->name, (int64_t)in->is_buyer, (int64_t)in->is_buyer, in->credit_limit,
                        in->credit_limit, (int64_t)in->hazmat_approved, (int64_t)in->hazmat_approved, in->country,
                        ck_now_ms(), id);
    return rc < 0 ? rc : changed > 0;
}

int ck_accounts_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    return ck_view_one(db, "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?", id, account_json, "account", out,
                       err);
}

int ck_accounts_list(ck_db *db, const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX],
                     ck_error *err)
{
    return ck_view_list(db, account_json, items, last_id, err,
                        "SELECT " ACCOUNT_COLS " FROM accounts WHERE id > ? ORDER BY id LIMIT ?", "ti", after, limit);
}

/* ---- store membership ---- */

int ck_accounts_add_member(ck_db *db, const char *store_id, const char *account_id, json_t **out,
                           ck_error *err)
{
    int64_t added = 0;
    ck_stmt *st = NULL;
    *out = NULL;
    int rc = ck_db_exec(db, &added, err,
                        "INSERT INTO store_members (store_id, account_id, created_at) VALUES (?, ?, ?)"
                        " ON CONFLICT (store_id, account_id) DO NOTHING",
                        "tti", store_id, account_id, ck_now_ms());
    if (rc < 0 ||
        (rc = ck_db_one(db, &st, err, "SELECT created_at FROM store_members WHERE store_id = ? AND account_id = ?",
                        "tt", store_id, account_id)) < 0)
        return rc;
    if (rc == 0) /* only if the caller runs without a transaction */
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "membership row vanished");
    *out = json_pack("{s:s, s:s, s:o}", "storeId", store_id, "accountId", account_id, "createdAt",
                     ck_json_time(ck_col_int(st, 0)));
    ck_db_done(st);
    return added > 0;
}

int ck_accounts_remove_member(ck_db *db, const char *store_id, const char *account_id, ck_error *err)
{
    int64_t removed = 0;
    int rc = ck_db_exec(db, &removed, err, "DELETE FROM store_members WHERE store_id = ? AND account_id = ?", "tt",
                        store_id, account_id);
    return rc < 0 ? rc : removed > 0;
}

/* ---- contracts ---- */

#define CONTRACT_COLS "id, account_id, amount, remaining, active, created_at"

static json_t *contract_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:b, s:o}", "id", ck_col_text(st, 0), "accountId",
                     ck_col_text(st, 1), "amount", (json_int_t)ck_col_int(st, 2), "remaining",
                     (json_int_t)ck_col_int(st, 3), "active", (int)ck_col_int(st, 4), "createdAt",
                     ck_json_time(ck_col_int(st, 5)));
}

int ck_accounts_insert_contract(ck_db *db, const char *account_id, int64_t amount, int active,
                                char id_out[CK_ID_MAX], ck_error *err)
{
    int64_t now = ck_now_ms();
    ck_id_new(id_out, "ctr");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO contracts (id, account_id, amount, remaining, active, created_at, updated_at)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?)",
                      "ttiibii", id_out, account_id, amount, amount, active, now, now);
}

int ck_accounts_contract_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    return ck_view_one(db, "SELECT " CONTRACT_COLS " FROM contracts WHERE id = ?", id, contract_json, "contract",
                       out, err);
}

int ck_accounts_list_contracts(ck_db *db, const char *account_id, const char *after, int64_t limit,
                               json_t **items, char last_id[CK_ID_MAX], ck_error *err)
{
    const char *acct = account_id ? account_id : "";
    return ck_view_list(db, contract_json, items, last_id, err,
                        "SELECT " CONTRACT_COLS " FROM contracts WHERE (? = '' OR account_id = ?) AND id > ?"
                        " ORDER BY id LIMIT ?",
                        "ttti", acct, acct, after, limit);
}

/* ---- the balance ledger, read ---- */

#define LEDGER_COLS "id, kind, amount, entry, contract_id, session_id, order_id, created_at, memo"

static json_t *ledger_json(ck_stmt *st)
{
    json_t *e = json_pack("{s:s, s:s, s:I, s:s, s:o}", "id", ck_col_text(st, 0), "kind", ck_col_text(st, 1),
                          "amount", (json_int_t)ck_col_int(st, 2), "entry", ck_col_text(st, 3), "createdAt",
                          ck_json_time(ck_col_int(st, 7)));
    static const char *const keys[] = {"contractId", "sessionId", "orderId", "memo"};
    static const int cols[] = {4, 5, 6, 8};
    for (int k = 0; k < 4; k++) {
        const char *v = ck_col_text_or_null(st, cols[k]);
        json_object_set_new(e, keys[k], v ? json_string(v) : json_null());
    }
    return e;
}

int ck_accounts_ledger_entry_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    return ck_view_one(db, "SELECT " LEDGER_COLS " FROM balance_ledger WHERE id = ?", id, ledger_json,
                       "ledger entry", out, err);
}

int ck_accounts_list_ledger(ck_db *db, const char *account_id, const char *after, int64_t limit,
                            json_t **items, char last_id[CK_ID_MAX], ck_error *err)
{
    return ck_view_list(db, ledger_json, items, last_id, err,
                        "SELECT " LEDGER_COLS " FROM balance_ledger WHERE account_id = ? AND id > ?"
                        " ORDER BY id LIMIT ?",
                        "tti", account_id, after, limit);
}

int ck_accounts_is_buyer(ck_db *db, const char *id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT is_buyer FROM accounts WHERE id = ?", "t", id);
    if (rc == 1)
        rc = ck_col_int(st, 0) != 0;
    ck_db_done(st);
    return rc;
}

int ck_accounts_store_member(ck_db *db, const char *store_id, const char *account_id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM store_members WHERE store_id = ? AND account_id = ?", "tt",
                       store_id, account_id);
    ck_db_done(st);
    return rc;
}

int ck_accounts_given_to_user(ck_db *db, const char *user_id, const char *account_id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM user_accounts WHERE user_id = ? AND account_id = ?", "tt",
                       user_id, account_id);
    ck_db_done(st);
    return rc;
}
