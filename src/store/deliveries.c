/* deliveries.c: the deliveries repository (store/deliveries.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/deliveries.h"

static json_t *s2_order_delivery_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", ck_col_text(st, 0), "subscriberId", ck_col_text(st, 1),
                     "event", ck_col_text(st, 2), "status", ck_col_text(st, 3), "attempts",
                     (json_int_t)ck_col_int(st, 4));
}

int ck_deliveries_order_json(ck_db *db, const char *order_id, json_t *arr, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, subscriber_id, event_type, status, attempts FROM deliveries WHERE order_id = ?"
                         " ORDER BY id",
                         "t", order_id);
    if (rc < 0)
        return rc;
    while ((rc = ck_db_next(st, err)) == 1)
        json_array_append_new(arr, s2_order_delivery_json(st));
    ck_db_done(st);
    return rc;
}
