/* stores.c: the stores repository (store/stores.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/stores.h"

int ck_stores_exists(ck_db *db, const char *id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM stores WHERE id = ?", "t", id);
    ck_db_done(st);
    return rc;
}
