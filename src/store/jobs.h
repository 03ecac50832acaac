/* jobs.h: the jobs repository: job lease rows (one node runs a job at a
 * time) and alerts. */
#ifndef CK_STORE_JOBS_H
#define CK_STORE_JOBS_H

#include "checkout/db.h"
#include "core/util.h"

/* Raises an alert inside the caller's transaction (or alone). */
int ck_alert_raise(ck_db *db, const char *kind, const char *subject_id, const char *message, ck_error *err);

/* Takes / releases a job's lease row: 1 taken, 0 held elsewhere, <0 error. */
int ck_job_lease_take(ck_db *db, const char *name, const char *owner, int64_t ms, ck_error *err);
void ck_job_lease_release(ck_db *db, const char *name, const char *owner);

#include <jansson.h>

/* Up to limit alerts with an id after `after` ("" first) and, when kind is
 * not NULL, of that kind, in id order, as API.md shows them (id, kind,
 * subjectId, message, createdAt): *items (the caller's) and the last id in
 * last_id ("" for none). 0 or <0. */
int ck_alerts_list(ck_db *db, const char *kind, const char *after, int64_t limit, json_t **items,
                   char last_id[CK_ID_MAX], ck_error *err);

/* s1b: the two declarations below are issue11-s3's (its store/jobs.h), the
 * same text, so this branch builds alone; keep one at merge. */

/* How many sessions are stuck at now (/metrics), into *count. 0 or <0. */
int ck_jobs_stuck_count(ck_db *db, int64_t now, int64_t *count, ck_error *err);

/* The unarchived sessions (only the stuck ones at now when only_stuck) with
 * ids after `after`, by id, at most limit (and at most max) into
 * ids[0..*n) (the admin list). 0 or <0. */
int ck_jobs_sessions_page(ck_db *db, const char *after, int only_stuck, int64_t now, int64_t limit,
                          char (*ids)[CK_ID_MAX], int max, int *n, ck_error *err);

#endif
