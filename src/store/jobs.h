/* jobs.h: the jobs repository: job lease rows (one node runs a job at a
 * time), alerts, and what the periodic jobs scan for (stuck sessions for
 * the SLA monitor, stale ones for the sweeper). Each function runs in the
 * caller's transaction, or alone, unless its comment says otherwise. */
#ifndef CK_STORE_JOBS_H
#define CK_STORE_JOBS_H

#include "checkout/db.h"
#include "core/util.h"
#include <jansson.h>

/* Raises an alert inside the caller's transaction (or alone). */
int ck_alert_raise(ck_db *db, const char *kind, const char *subject_id, const char *message, ck_error *err);

/* Takes / releases a job's lease row: 1 taken, 0 held elsewhere, <0 error.
 * Taken only when the row is free or its lease expired; on PostgreSQL a row
 * another node is taking at that moment is skipped (FOR NO KEY UPDATE SKIP
 * LOCKED): held elsewhere. */
int ck_job_lease_take(ck_db *db, const char *name, const char *owner, int64_t ms, ck_error *err);
void ck_job_lease_release(ck_db *db, const char *name, const char *owner);

/* Whether an alert of kind about subject_id exists: 1, 0 or <0. */
int ck_alert_exists(ck_db *db, const char *kind, const char *subject_id, ck_error *err);

/* Releases every job lease (SQLite start-up). 0 or <0. */
int ck_job_leases_release_all(ck_db *db, ck_error *err);

/* A stuck session: unarchived, not Completed, with a step crossed or an
 * error, and untouched for longer than its store's slaSeconds. */
typedef struct ck_stuck_session {
    char id[CK_ID_MAX], state[32];
} ck_stuck_session;

/* The stuck sessions at now with ids after `after` ("" from the first), by
 * id, at most max, into out[0..*n). 0 or <0. */
int ck_jobs_stuck_sessions(ck_db *db, const char *after, int64_t now, int max, ck_stuck_session *out, int *n,
                           ck_error *err);

/* How many sessions are stuck at now (/metrics), into *count. 0 or <0. */
int ck_jobs_stuck_count(ck_db *db, int64_t now, int64_t *count, ck_error *err);

/* The unarchived sessions (only the stuck ones at now when only_stuck) with
 * ids after `after`, by id, at most limit (and at most max) into
 * ids[0..*n) (the admin list). 0 or <0. */
int ck_jobs_sessions_page(ck_db *db, const char *after, int only_stuck, int64_t now, int64_t limit,
                          char (*ids)[CK_ID_MAX], int max, int *n, ck_error *err);

/* The stuck-session condition as SQL (alias s for checkout_sessions, one ?
 * for now in ms), for the callers not yet on the functions above; it lives
 * here with the SQL. */
extern const char *const ck_stuck_sessions_where;

/* A session the sweeper gives back: archived, or idle before idle_before
 * (its store's staleness cutoff, ms). */
typedef struct ck_stale_session {
    char id[CK_ID_MAX];
    int archived;
    int64_t idle_before;
} ck_stale_session;

/* Sessions without an order, not being processed (no live session lease),
 * archived or idle past their store's staleAuthorizationSeconds at now,
 * that still hold an Authorized hold without an order not yet marked for
 * void, or an open balance; ids after `after`, by id, at most max, into
 * out[0..*n). 0 or <0. */
int ck_jobs_stale_sessions(ck_db *db, const char *after, int64_t now, int max, ck_stale_session *out, int *n,
                           ck_error *err);

#include <jansson.h>

/* Up to limit alerts with an id after `after` ("" first) and, when kind is
 * not NULL, of that kind, in id order, as API.md shows them (id, kind,
 * subjectId, message, createdAt): *items (the caller's) and the last id in
 * last_id ("" for none). 0 or <0. */
int ck_alerts_list(ck_db *db, const char *kind, const char *after, int64_t limit, json_t **items,
                   char last_id[CK_ID_MAX], ck_error *err);

#endif
