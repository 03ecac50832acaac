/* deliveries.c: the deliveries repository (store/deliveries.h): fan-out
 * rows, claims under a lease, outcomes, replays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/deliveries.h"
#include "core/json.h"
#include "store/view.h"

int ck_deliveries_insert_pending(ck_db *db, const char *event_id, const char *subscriber_id, const char *order_id,
                                 const char *event_type, int64_t now, ck_error *err)
{
    char id[CK_ID_MAX];
    int64_t changed = 0;
    ck_id_new(id, "dlv");
    int rc = ck_db_exec(db, &changed, err,
                        "INSERT INTO deliveries (id, event_id, subscriber_id, order_id, event_type, status,"
                        " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'Pending', ?, ?, ?)"
                        " ON CONFLICT (event_id, subscriber_id) DO NOTHING",
                        "tttttiii", id, event_id, subscriber_id, order_id, event_type, now, now, now);
    return rc < 0 ? rc : (int)changed;
}

/* PostgreSQL: the pick and the take in one statement; the candidate row and
 * its subscriber's row are locked by the pick, and rows another claimer has
 * locked are skipped. The take's conditions are SQLite's. */
static int s3_claim_pg(ck_db *db, const char *owner, int64_t lease_until, int64_t now, char id_out[CK_ID_MAX],
                       ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(
        db, &st, err,
        "UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE id = (SELECT d.id FROM deliveries d"
        " JOIN subscribers s ON s.id = d.subscriber_id WHERE d.status = 'Pending' AND d.next_attempt_at <= ?"
        " AND (d.lease_owner IS NULL OR d.lease_until < ?) AND NOT EXISTS (SELECT 1 FROM deliveries x"
        " WHERE x.subscriber_id = d.subscriber_id AND x.status = 'Pending' AND x.lease_owner IS NOT NULL"
        " AND x.lease_until >= ?) ORDER BY d.next_attempt_at, d.id LIMIT 1 FOR NO KEY UPDATE OF d, s SKIP LOCKED)"
        " AND status = 'Pending' AND (lease_owner IS NULL OR lease_until < ?) AND NOT EXISTS (SELECT 1 FROM deliveries x"
        " WHERE x.subscriber_id = deliveries.subscriber_id AND x.id <> deliveries.id"
        " AND x.status = 'Pending' AND x.lease_owner IS NOT NULL AND x.lease_until >= ?) RETURNING id",
        "tiiiiii", owner, lease_until, now, now, now, now, now);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, id_out, CK_ID_MAX);
    ck_db_done(st);
    return 1;
}

int ck_deliveries_claim(ck_db *db, const char *owner, int64_t lease_until, int64_t now, char id_out[CK_ID_MAX],
                        ck_error *err)
{
    if (ck_db_driver_of(db) == &ck_pg_driver)
        return s3_claim_pg(db, owner, lease_until, now, id_out, err);
    int64_t changed = 0;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT d.id FROM deliveries d WHERE d.status = 'Pending' AND d.next_attempt_at <= ?"
                       " AND (d.lease_owner IS NULL OR d.lease_until < ?) AND NOT EXISTS (SELECT 1 FROM deliveries x"
                       " WHERE x.subscriber_id = d.subscriber_id AND x.status = 'Pending' AND x.lease_owner IS NOT NULL"
                       " AND x.lease_until >= ?) ORDER BY d.next_attempt_at, d.id LIMIT 1",
                       "iii", now, now, now);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, id_out, CK_ID_MAX);
    ck_db_done(st);
    /* The pick and the claim are two statements: another worker may have
     * claimed, attempted and rescheduled the row in between, so the claim
     * asks again that it be due. */
    rc = ck_db_exec(db, &changed, err,
                    "UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE id = ? AND status = 'Pending'"
                    " AND next_attempt_at <= ? AND (lease_owner IS NULL OR lease_until < ?) AND NOT EXISTS"
                    " (SELECT 1 FROM deliveries x WHERE x.subscriber_id = deliveries.subscriber_id"
                    " AND x.id <> deliveries.id AND x.status = 'Pending' AND x.lease_owner IS NOT NULL"
                    " AND x.lease_until >= ?)",
                    "titiii", owner, lease_until, id_out, now, now, now);
    if (rc < 0 || changed != 1)
        return rc < 0 ? rc : 0;
    return 1;
}

static char *s3_dup_col(ck_stmt *st, int col)
{
    const char *s = ck_col_text_or_null(st, col);
    return s ? strdup(s) : NULL;
}

int ck_deliveries_attempt(ck_db *db, const char *id, ck_delivery_attempt *a, ck_error *err)
{
    ck_stmt *st = NULL;
    if (a->id != id)
        snprintf(a->id, sizeof(a->id), "%s", id);
    int rc = ck_db_one(db, &st, err,
                       "SELECT s.kind, s.url, s.secret, s.smtp_url, s.mail_from, s.max_attempts, s.backoff_base_ms,"
                       " d.attempts, d.event_type, COALESCE(d.order_id, ''), e.payload,"
                       " (SELECT u.email FROM orders o JOIN users u ON u.id = o.buyer_id WHERE o.id = d.order_id),"
                       " (SELECT st.name FROM orders o JOIN stores st ON st.id = o.store_id WHERE o.id = d.order_id)"
                       " FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id"
                       " JOIN outbox_events e ON e.id = d.event_id WHERE d.id = ?",
                       "t", a->id);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, a->kind, sizeof(a->kind));
    a->url = s3_dup_col(st, 1);
    a->secret = s3_dup_col(st, 2);
    a->smtp_url = s3_dup_col(st, 3);
    a->from = s3_dup_col(st, 4);
    a->max_attempts = ck_col_int(st, 5);
    a->backoff_ms = ck_col_int(st, 6);
    a->attempts = ck_col_int(st, 7);
    ck_col_copy(st, 8, a->event_type, sizeof(a->event_type));
    ck_col_copy(st, 9, a->order_id, sizeof(a->order_id));
    a->payload = s3_dup_col(st, 10);
    a->to = s3_dup_col(st, 11);
    a->store_name = s3_dup_col(st, 12);
    ck_db_done(st);
    return 1;
}

void ck_delivery_attempt_free(ck_delivery_attempt *a)
{
    free(a->url);
    free(a->secret);
    free(a->smtp_url);
    free(a->from);
    free(a->payload);
    free(a->to);
    free(a->store_name);
}

int ck_deliveries_record(ck_db *db, const char *id, const char *owner, const char *status, int64_t attempts,
                         int64_t next_attempt_at, const char *last_error, int delivered, int64_t now, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?,"
                         " lease_owner = NULL, lease_until = 0, updated_at = ?,"
                         " delivered_at = CASE WHEN ? = 1 THEN ? ELSE delivered_at END WHERE id = ? AND lease_owner = ?",
                         "tiitiiitt", status, attempts, next_attempt_at, last_error, now, (int64_t)(delivered != 0),
                         now, id, owner);
}

void ck_deliveries_unclaim(ck_db *db, const char *id, const char *owner)
{
    ck_db_exec(db, NULL, NULL,
               "UPDATE deliveries SET lease_owner = NULL, lease_until = 0 WHERE id = ? AND lease_owner = ?", "tt", id,
               owner);
}

int ck_deliveries_replay(ck_db *db, const char *id, int64_t now, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE deliveries SET status = 'Pending', attempts = 0, next_attempt_at = ?, last_error = NULL,"
                         " updated_at = ? WHERE id = ? AND status = 'Dead'",
                         "iit", now, now, id);
}

int ck_deliveries_exists(ck_db *db, const char *id, ck_error *err)
{
    return ck_db_exists(db, err, "SELECT 1 FROM deliveries WHERE id = ?", "t", id);
}

int ck_deliveries_claims_release_all(ck_db *db, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE deliveries SET lease_owner = NULL, lease_until = 0 WHERE lease_owner IS NOT NULL", "");
}

/* s1b: the deliveries of a deleted subscriber, the dead-letter views and the /metrics backlog. */

#define S1B_DELIVERY_COLS \
    "id, subscriber_id, event_id, event_type, order_id, status, attempts, last_error, created_at, updated_at," \
    " next_attempt_at"

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
    /* When a Pending delivery is due next; null once it is Delivered or Dead. */
    json_object_set_new(d, "nextAttemptAt",
                        strcmp(ck_col_text(st, 5), "Pending") == 0 ? ck_json_time(ck_col_int(st, 10)) : json_null());
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
    return ck_view_find(db, "SELECT " S1B_DELIVERY_COLS " FROM deliveries WHERE id = ?", id, s1b_delivery_json, out,
                        err);
}

int ck_deliveries_list_dead(ck_db *db, const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX],
                            ck_error *err)
{
    return ck_deliveries_list(db, "Dead", NULL, after, limit, items, last_id, err);
}

int ck_deliveries_list(ck_db *db, const char *status, const char *subscriber_id, const char *after, int64_t limit,
                       json_t **items, char last_id[CK_ID_MAX], ck_error *err)
{
    return ck_view_list(db, s1b_delivery_json, items, last_id, err,
                        "SELECT " S1B_DELIVERY_COLS " FROM deliveries WHERE (? = '' OR status = ?)"
                        " AND (? = '' OR subscriber_id = ?) AND id > ? ORDER BY id LIMIT ?",
                        "ttttti", status ? status : "", status ? status : "", subscriber_id ? subscriber_id : "",
                        subscriber_id ? subscriber_id : "", after, limit);
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
