/* deliveries.c: the deliveries repository (store/deliveries.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/deliveries.h"

/* s1b: the deliveries of a deleted subscriber, the dead-letter views and the /metrics backlog. */
#include "core/json.h"

#define S1B_DELIVERY_COLS \
    "id, subscriber_id, event_id, event_type, order_id, status, attempts, last_error, created_at, updated_at"

/* A row of S1B_DELIVERY_COLS as JSON; a new reference. */
static json_t *s1b_delivery_json(ck_stmt *st)
{
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o}", "id", ck_col_text(st, 0), "subscriberId",
                          ck_col_text(st, 1), "eventId", ck_col_text(st, 2), "event", ck_col_text(st, 3), "status",
                          ck_col_text(st, 5), "attempts", (json_int_t)ck_col_int(st, 6), "createdAt",
                          ck_json_time(ck_col_int(st, 8)), "updatedAt", ck_json_time(ck_col_int(st, 9)));
    const char *order = ck_col_text_or_null(st, 4), *last = ck_col_text_or_null(st, 7);
    json_object_set_new(d, "orderId", order ? json_string(order) : json_null());
    json_object_set_new(d, "lastError", last ? json_string(last) : json_null());
    return d;
}

int ck_deliveries_cancel_for_subscriber(ck_db *db, const char *subscriber_id, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE deliveries SET status = 'Cancelled', last_error = 'subscriber deleted', lease_owner = NULL,"
                      " lease_until = 0, updated_at = ? WHERE subscriber_id = ? AND status IN ('Pending', 'Dead')",
                      "it", now, subscriber_id);
}

int ck_deliveries_get(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT " S1B_DELIVERY_COLS " FROM deliveries WHERE id = ?", "t", id);
    if (rc <= 0)
        return rc;
    *out = s1b_delivery_json(st);
    ck_db_done(st);
    return 1;
}

int ck_deliveries_list_dead(ck_db *db, const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX],
                            ck_error *err)
{
    ck_stmt *st = NULL;
    *items = NULL;
    last_id[0] = '\0';
    int rc = ck_db_query(db, &st, err,
                         "SELECT " S1B_DELIVERY_COLS " FROM deliveries WHERE status = 'Dead' AND id > ? ORDER BY id LIMIT ?",
                         "ti", after, limit);
    if (rc < 0)
        return rc;
    json_t *a = json_array();
    while ((rc = ck_db_next(st, err)) == 1) {
        json_array_append_new(a, s1b_delivery_json(st));
        snprintf(last_id, CK_ID_MAX, "%s", ck_col_text(st, 0));
    }
    ck_db_done(st);
    if (rc < 0) {
        json_decref(a);
        return rc;
    }
    *items = a;
    return 0;
}

int ck_deliveries_count_backlog(ck_db *db, int64_t *pending, int64_t *dead, ck_error *err)
{
    ck_stmt *st = NULL;
    *pending = *dead = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT status, count(*) FROM deliveries WHERE status IN ('Pending', 'Dead') GROUP BY status", "");
    if (rc < 0)
        return rc;
    while ((rc = ck_db_next(st, err)) == 1) {
        if (strcmp(ck_col_text(st, 0), "Pending") == 0)
            *pending = ck_col_int(st, 1);
        else
            *dead = ck_col_int(st, 1);
    }
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}
