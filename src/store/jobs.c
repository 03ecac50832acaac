/* jobs.c: the jobs repository: job lease rows, and alerts. */
#include "store/jobs.h"

int ck_job_lease_take(ck_db *db, const char *name, const char *owner, int64_t ms, ck_error *err)
{
    int64_t now = ck_now_ms(), changed = 0;
    int rc = ck_db_exec(db, &changed, err,
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

/* s1b: the admin list of alerts. */
#include <stdio.h>

#include "core/json.h"

int ck_alerts_list(ck_db *db, const char *kind, const char *after, int64_t limit, json_t **items,
                   char last_id[CK_ID_MAX], ck_error *err)
{
    ck_stmt *st = NULL;
    *items = NULL;
    last_id[0] = '\0';
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, kind, subject_id, message, created_at FROM alerts WHERE id > ?"
                         " AND (? = '' OR kind = ?) ORDER BY id LIMIT ?",
                         "ttti", after, kind ? kind : "", kind ? kind : "", limit);
    if (rc < 0)
        return rc;
    json_t *a = json_array();
    while ((rc = ck_db_next(st, err)) == 1) {
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", ck_col_text(st, 0), "kind",
                                           ck_col_text(st, 1), "subjectId", ck_col_text(st, 2), "message",
                                           ck_col_text(st, 3), "createdAt", ck_json_time(ck_col_int(st, 4))));
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
