/* orders.c: the orders repository (store/orders.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/orders.h"

/* s1b: an account's page of order ids, and the /metrics count. */
int ck_orders_list_ids_by_account(ck_db *db, const char *account_id, const char *after, int64_t limit,
                                  char (*ids)[CK_ID_MAX], int64_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err, "SELECT id FROM orders WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?",
                         "tti", account_id, after, limit);
    if (rc < 0)
        return rc;
    while (*n < limit && (rc = ck_db_next(st, err)) == 1)
        snprintf(ids[(*n)++], CK_ID_MAX, "%s", ck_col_text(st, 0));
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

int ck_orders_count(ck_db *db, int64_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_one(db, &st, err, "SELECT count(*) FROM orders", "");
    if (rc == 1)
        *n = ck_col_int(st, 0);
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}
