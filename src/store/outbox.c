/* outbox.c: the outbox repository (store/outbox.h): outbox_events rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/outbox.h"

int ck_outbox_insert(ck_db *db, const char *id, const char *type, const char *order_id, const char *session_id,
                     const char *payload, int64_t created_at, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO outbox_events (id, type, order_id, session_id, payload, created_at)"
                      " VALUES (?, ?, ?, ?, ?, ?)",
                      "ttttti", id, type, order_id, session_id, payload, created_at);
}

int ck_outbox_undispatched(ck_db *db, int max, ck_outbox_event *out, int *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, type, COALESCE(order_id, '') FROM outbox_events WHERE dispatched = 0"
                         " ORDER BY id LIMIT ?",
                         "i", (int64_t)max);
    if (rc < 0)
        return rc;
    while (*n < max && (rc = ck_db_next(st, err)) == 1) {
        ck_outbox_event *e = &out[(*n)++];
        ck_col_copy(st, 0, e->id, sizeof(e->id));
        ck_col_copy(st, 1, e->type, sizeof(e->type));
        ck_col_copy(st, 2, e->order_id, sizeof(e->order_id));
    }
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

int ck_outbox_mark_dispatched(ck_db *db, const char *event_id, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE outbox_events SET dispatched = 1 WHERE id = ?", "t", event_id);
}
