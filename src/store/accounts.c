/* accounts.c: the accounts repository (store/accounts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/accounts.h"

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
