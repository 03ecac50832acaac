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
