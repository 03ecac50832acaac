/* accounts.c: the accounts repository (store/accounts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/accounts.h"

int ck_accounts_exists(ck_db *db, const char *id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM accounts WHERE id = ?", "t", id);
    ck_db_done(st);
    return rc;
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
    char ts[32];
    ck_time_format(ts, ck_col_int(st, 0));
    ck_db_done(st);
    *out = json_pack("{s:s, s:s, s:s}", "storeId", store_id, "accountId", account_id, "createdAt", ts);
    if (!*out)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    return added > 0;
}
