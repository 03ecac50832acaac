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
