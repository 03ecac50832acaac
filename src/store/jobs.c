/* jobs.c: the jobs repository: job lease rows, and alerts. */
#include <stdio.h>

#include "store/jobs.h"
#include "core/json.h"
#include "store/view.h"

int ck_job_lease_take(ck_db *db, const char *name, const char *owner, int64_t ms, ck_error *err)
{
    int64_t now = ck_now_ms(), changed = 0;
    int rc;
    if (ck_db_driver_of(db) == &ck_pg_driver)
        rc = ck_db_exec(db, &changed, err,
                        "UPDATE job_leases SET owner = ?, lease_until = ? WHERE name = (SELECT name FROM job_leases"
                        " WHERE name = ? AND (owner IS NULL OR lease_until < ?) FOR NO KEY UPDATE SKIP LOCKED)"
                        " AND (owner IS NULL OR lease_until < ?)",
                        "titii", owner, now + ms, name, now, now);
    else
        rc = ck_db_exec(db, &changed, err,
                        "UPDATE job_leases SET owner = ?, lease_until = ? WHERE name = ?"
                        " AND (owner IS NULL OR lease_until < ?)",
                        "titi", owner, now + ms, name, now);
    return rc < 0 ? rc : changed == 1;
}

void ck_job_lease_release(ck_db *db, const char *name, const char *owner)
{
    ck_db_exec(db, NULL, NULL,
               "UPDATE job_leases SET owner = NULL, lease_until = 0, last_run_at = ? WHERE name = ? AND owner = ?",
               "itt", ck_now_ms(), name, owner);
}

int ck_alert_raise(ck_db *db, const char *kind, const char *subject_id, const char *message, ck_error *err)
{
    char id[CK_ID_MAX];
    ck_id_new(id, "alert");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO alerts (id, kind, subject_id, message, created_at) VALUES (?, ?, ?, ?, ?)", "tttti",
                      id, kind, subject_id, message, ck_now_ms());
}

int ck_alert_exists(ck_db *db, const char *kind, const char *subject_id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM alerts WHERE kind = ? AND subject_id = ?", "tt", kind,
                       subject_id);
    ck_db_done(st);
    return rc;
}

int ck_job_leases_release_all(ck_db *db, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE job_leases SET owner = NULL, lease_until = 0 WHERE owner IS NOT NULL",
                      "");
}

/* The stuck-session condition: shared by the job, the admin list and /metrics. */
#define S3_STUCK_WHERE                                                                                             \
    "s.is_archived = 0 AND s.state <> 'Completed' AND (s.last_successful_step IS NOT NULL OR s.is_error = 1)"     \
    " AND s.updated_at < ? - (SELECT st.sla_seconds FROM stores st WHERE st.id = s.store_id) * 1000"

const char *const ck_stuck_sessions_where = S3_STUCK_WHERE;

int ck_jobs_stuck_sessions(ck_db *db, const char *after, int64_t now, int max, ck_stuck_session *out, int *n,
                           ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT s.id, s.state FROM checkout_sessions s WHERE s.id > ? AND " S3_STUCK_WHERE
                         " ORDER BY s.id LIMIT ?",
                         "tii", after ? after : "", now, (int64_t)max);
    if (rc < 0)
        return rc;
    while (*n < max && (rc = ck_db_next(st, err)) == 1) {
        ck_stuck_session *s = &out[(*n)++];
        ck_col_copy(st, 0, s->id, sizeof(s->id));
        ck_col_copy(st, 1, s->state, sizeof(s->state));
    }
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

int ck_jobs_stuck_count(ck_db *db, int64_t now, int64_t *count, ck_error *err)
{
    ck_stmt *st = NULL;
    *count = 0;
    int rc = ck_db_one(db, &st, err, "SELECT count(*) FROM checkout_sessions s WHERE " S3_STUCK_WHERE, "i", now);
    if (rc < 0)
        return rc;
    if (rc == 1)
        *count = ck_col_int(st, 0);
    ck_db_done(st);
    return 0;
}

int ck_jobs_sessions_page(ck_db *db, const char *after, int only_stuck, int64_t now, int64_t limit,
                          char (*ids)[CK_ID_MAX], int max, int *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT s.id FROM checkout_sessions s WHERE s.id > ? AND s.is_archived = 0 AND (? = 0 OR ("
                         S3_STUCK_WHERE ")) ORDER BY s.id LIMIT ?",
                         "tiii", after ? after : "", (int64_t)(only_stuck != 0), now, limit);
    if (rc < 0)
        return rc;
    while (*n < max && (rc = ck_db_next(st, err)) == 1)
        ck_col_copy(st, 0, ids[(*n)++], CK_ID_MAX);
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

int ck_jobs_stale_sessions(ck_db *db, const char *after, int64_t now, int max, ck_stale_session *out, int *n,
                           ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(
        db, &st, err,
        "SELECT s.id, s.is_archived, ? - st.stale_auth_seconds * 1000 FROM checkout_sessions s"
        " JOIN stores st ON st.id = s.store_id"
        " WHERE s.id > ? AND s.order_id IS NULL AND (s.lease_owner IS NULL OR s.lease_expires_at <= ?)"
        " AND (s.is_archived = 1 OR s.updated_at < ? - st.stale_auth_seconds * 1000)"
        " AND (EXISTS (SELECT 1 FROM payment_authorizations pa WHERE pa.session_id = s.id"
        "              AND pa.status = 'Authorized' AND pa.order_id IS NULL AND pa.void_pending = 0)"
        "      OR EXISTS (SELECT 1 FROM balance_ledger l WHERE l.session_id = s.id"
        "                 GROUP BY l.session_id HAVING SUM(l.amount) <> 0))"
        " ORDER BY s.id LIMIT ?",
        "itiii", now, after ? after : "", now, now, (int64_t)max);
    if (rc < 0)
        return rc;
    *n = 0;
    while (*n < max && (rc = ck_db_next(st, err)) == 1) {
        ck_stale_session *s = &out[(*n)++];
        ck_col_copy(st, 0, s->id, sizeof(s->id));
        s->archived = ck_col_int(st, 1) != 0;
        s->idle_before = ck_col_int(st, 2);
    }
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

/* An alert row (id, kind, subject_id, message, created_at) as API.md's alert. */
static json_t *alert_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", ck_col_text(st, 0), "kind", ck_col_text(st, 1),
                     "subjectId", ck_col_text(st, 2), "message", ck_col_text(st, 3), "createdAt",
                     ck_json_time(ck_col_int(st, 4)));
}

int ck_alerts_list(ck_db *db, const char *kind, const char *after, int64_t limit, json_t **items,
                   char last_id[CK_ID_MAX], ck_error *err)
{
    return ck_view_list(db, alert_json, items, last_id, err,
                        "SELECT id, kind, subject_id, message, created_at FROM alerts WHERE id > ?"
                        " AND (? = '' OR kind = ?) ORDER BY id LIMIT ?",
                        "ttti", after, kind ? kind : "", kind ? kind : "", limit);
}
