/* requests.c: the requests repository (store/requests.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/requests.h"
#include "core/json.h"

/* A synchronous request whose daemon stopped while it ran: Failed, with
 * this error (placing again resumes the session). */
#define INTERRUPTED_SET                                                                                          \
    "UPDATE checkout_requests SET status = 'Failed', completed_at = ?, http_status = 500,"                       \
    " errors = '[{\"errorCode\":\"UNKNOWN_EXCEPTION\",\"reason\":\"INTERNAL_ERROR\","                              \
    "\"message\":\"the daemon stopped during this request; place the order again\"}]'"

int ck_requests_recover_running(ck_db *db, int64_t now, ck_error *err)
{
    int rc = ck_db_exec(db, NULL, err,
                        "UPDATE checkout_requests SET status = 'Queued', runner = NULL, run_lease_until = 0"
                        " WHERE status = 'Running' AND runner IS NOT NULL",
                        "");
    if (rc == 0)
        rc = ck_db_exec(db, NULL, err, INTERRUPTED_SET " WHERE status = 'Running' AND runner IS NULL", "i", now);
    return rc;
}

int ck_requests_fail_orphaned(ck_db *db, int64_t expired_before, int64_t now, int64_t *count, ck_error *err)
{
    return ck_db_exec(db, count, err,
                      INTERRUPTED_SET " WHERE status = 'Running' AND runner IS NULL AND session_id IN"
                                      " (SELECT id FROM checkout_sessions WHERE lease_expires_at < ?)",
                      "ii", now, expired_before);
}

int ck_requests_count_queued_placements(ck_db *db, int64_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_one(db, &st, err,
                       "SELECT count(*) FROM checkout_requests WHERE kind = 'PlaceOrder' AND status = 'Queued'", "");
    if (rc == 1)
        *n = ck_col_int(st, 0);
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

int ck_requests_placements_per_minute(ck_db *db, int64_t since, int n, int64_t *succeeded, int64_t *failed,
                                      ck_error *err)
{
    for (int i = 0; i < n; i++)
        succeeded[i] = failed[i] = 0;
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT m, status, count(*) FROM (SELECT (completed_at - ?) / 60000 AS m, status"
                         " FROM checkout_requests WHERE kind = 'PlaceOrder' AND completed_at >= ? AND completed_at < ?"
                         " AND status IN ('Succeeded', 'Failed')) x GROUP BY m, status",
                         "iii", since, since, since + (int64_t)n * 60000);
    if (rc < 0)
        return rc;
    while ((rc = ck_db_next(st, err)) == 1) {
        int64_t m = ck_col_int(st, 0);
        if (m < 0 || m >= n)
            continue;
        if (strcmp(ck_col_text(st, 1), "Succeeded") == 0)
            succeeded[m] += ck_col_int(st, 2);
        else
            failed[m] += ck_col_int(st, 2);
    }
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

int ck_requests_insert_succeeded(ck_db *db, const char *id, const char *kind, const char *user_id,
                                 const char *session_id, const char *order_id, int64_t http_status, int64_t now,
                                 ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO checkout_requests (id, kind, status, user_id, session_id, order_id, created_at,"
                      " completed_at, http_status) VALUES (?, ?, 'Succeeded', ?, ?, ?, ?, ?, ?)",
                      "tttttiii", id, kind, user_id, session_id, order_id, now, now, http_status);
}

int ck_requests_insert_running(ck_db *db, const char *id, const char *user_id, const char *session_id,
                               int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO checkout_requests (id, kind, status, user_id, session_id, created_at)"
                      " VALUES (?, 'PlaceOrder', 'Running', ?, ?, ?)"
                      " ON CONFLICT (id) DO UPDATE SET status = 'Running'",
                      "ttti", id, user_id, session_id, now);
}

int ck_requests_insert_queued(ck_db *db, const char *id, const char *user_id, const char *session_id, int64_t now,
                              ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO checkout_requests (id, kind, status, user_id, session_id, created_at)"
                      " VALUES (?, 'PlaceOrder', 'Queued', ?, ?, ?)",
                      "ttti", id, user_id, session_id, now);
}

int ck_requests_succeed(ck_db *db, const char *id, const char *order_id, int64_t http_status, int64_t now,
                        ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE checkout_requests SET status = 'Succeeded', order_id = ?, completed_at = ?,"
                      " http_status = ? WHERE id = ?",
                      "tiit", order_id, now, http_status, id);
}

static json_t *s2_request_opt_str(ck_stmt *st, int col)
{
    const char *s = ck_col_text_or_null(st, col);
    return s ? json_string(s) : json_null();
}

int ck_requests_json(ck_db *db, const char *id, json_t **out, char user_id[CK_ID_MAX], ck_error *err)
{
    *out = NULL;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, kind, status, user_id, session_id, order_id, errors, created_at, completed_at"
                       " FROM checkout_requests WHERE id = ?",
                       "t", id);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 3, user_id, CK_ID_MAX);
    const char *text = ck_col_text(st, 6);
    json_t *errors = text[0] ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_array(errors)) {
        json_decref(errors);
        errors = json_array();
    }
    *out = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", ck_col_text(st, 0), "kind",
                     ck_col_text(st, 1), "status", ck_col_text(st, 2), "sessionId", s2_request_opt_str(st, 4),
                     "orderId", s2_request_opt_str(st, 5), "errors", errors, "createdAt",
                     ck_json_time(ck_col_int(st, 7)), "completedAt",
                     ck_col_null(st, 8) ? json_null() : ck_json_time(ck_col_int(st, 8)));
    ck_db_done(st);
    return 1;
}

/* The claimed row (id, user_id, session_id) into out; finishes st. */
static void read_claim(ck_stmt *st, ck_request_claim *out)
{
    ck_col_copy(st, 0, out->request_id, CK_ID_MAX);
    ck_col_copy(st, 1, out->user_id, CK_ID_MAX);
    ck_col_copy(st, 2, out->session_id, CK_ID_MAX);
    ck_db_done(st);
}

int ck_requests_claim_placement(ck_db *db, const char *runner, int64_t now, int64_t lease_until,
                                ck_request_claim *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc;
    if (ck_db_driver_of(db) == &ck_pg_driver) {
        /* One statement: the candidate row is locked, rows other claimers
         * hold are skipped, and the UPDATE re-checks the row it locked. */
        rc = ck_db_one(db, &st, err,
                       "UPDATE checkout_requests SET status = 'Running', runner = ?, run_lease_until = ?"
                       " WHERE id = (SELECT id FROM checkout_requests WHERE kind = 'PlaceOrder' AND"
                       " (status = 'Queued' OR (status = 'Running' AND runner IS NOT NULL AND run_lease_until < ?))"
                       " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
                       " AND (status = 'Queued' OR (status = 'Running' AND run_lease_until < ?))"
                       " RETURNING id, user_id, session_id",
                       "tiii", runner, lease_until, now, now);
        if (rc <= 0)
            return rc;
        read_claim(st, out);
        return 1;
    }
    rc = ck_db_one(db, &st, err,
                   "SELECT id, user_id, session_id FROM checkout_requests WHERE kind = 'PlaceOrder' AND"
                   " (status = 'Queued' OR (status = 'Running' AND runner IS NOT NULL AND run_lease_until < ?))"
                   " ORDER BY id LIMIT 1",
                   "i", now);
    if (rc <= 0)
        return rc;
    read_claim(st, out);
    int64_t changed = 0;
    rc = ck_db_exec(db, &changed, err,
                    "UPDATE checkout_requests SET status = 'Running', runner = ?, run_lease_until = ?"
                    " WHERE id = ? AND (status = 'Queued' OR (status = 'Running' AND run_lease_until < ?))",
                    "titi", runner, lease_until, out->request_id, now);
    return rc < 0 ? rc : changed == 1;
}

/* The Failed update of one request by id; ck_requests_fail_running adds its
 * condition on the status. */
#define REQUEST_FAIL_SQL                                                                                           \
    "UPDATE checkout_requests SET status = 'Failed', errors = ?, completed_at = ?, http_status = ?"                \
    " WHERE id = ?"

int ck_requests_fail(ck_db *db, const char *id, const char *errors, int64_t now, int64_t http_status,
                     ck_error *err)
{
    return ck_db_exec(db, NULL, err, REQUEST_FAIL_SQL, "tiit", errors, now, http_status, id);
}

int ck_requests_fail_running(ck_db *db, const char *id, const char *errors, int64_t now, int64_t http_status,
                             ck_error *err)
{
    return ck_db_exec(db, NULL, err, REQUEST_FAIL_SQL " AND status = 'Running'", "tiit", errors, now, http_status,
                      id);
}
