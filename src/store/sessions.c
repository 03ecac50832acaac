/* sessions.c: the sessions repository (store/sessions.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sessions.h"

/* s1b: the lists of sessions (GET /v1/checkouts, GET /v1/admin/sessions) and the /metrics gauges. */

/* The stuck-session condition (alias s, one ? for now in ms); the same as
 * jobs/sla_monitor.c's ck_stuck_sessions_where, which should come here. */
#define S1B_STUCK_WHERE                                                                                        \
    "s.is_archived = 0 AND s.state <> 'Completed' AND (s.last_successful_step IS NOT NULL OR s.is_error = 1)" \
    " AND s.updated_at < ? - (SELECT st.sla_seconds FROM stores st WHERE st.id = s.store_id) * 1000"

/* Reads column 0 of every row of st (up to limit) into ids; finishes st. 0 or <0. */
static int s1b_read_ids(ck_stmt *st, int64_t limit, char (*ids)[CK_ID_MAX], int64_t *n, ck_error *err)
{
    int rc = 0;
    while (*n < limit && (rc = ck_db_next(st, err)) == 1)
        snprintf(ids[(*n)++], CK_ID_MAX, "%s", ck_col_text(st, 0));
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

int ck_sessions_list_ids(ck_db *db, const ck_sessions_filter *f, const char *after, int64_t limit,
                         char (*ids)[CK_ID_MAX], int64_t *n, ck_error *err)
{
    const char *store_id = f->store_id ? f->store_id : "", *state = f->state ? f->state : "";
    const char *account_id = f->account_id ? f->account_id : "";
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id FROM checkout_sessions WHERE (? = '' OR store_id = ?) AND (? = '' OR state = ?)"
                         " AND (? = '' OR account_id = ?)"
                         " AND (? = 1 OR account_id IN (SELECT account_id FROM user_accounts WHERE user_id = ?))"
                         " AND id > ? ORDER BY id LIMIT ?",
                         "ttttttitti", store_id, store_id, state, state, account_id, account_id, (int64_t)f->wide,
                         f->user_id, after, limit);
    return rc < 0 ? rc : s1b_read_ids(st, limit, ids, n, err);
}

int ck_sessions_list_unarchived_ids(ck_db *db, int only_stuck, int64_t now, const char *after, int64_t limit,
                                    char (*ids)[CK_ID_MAX], int64_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT s.id FROM checkout_sessions s WHERE s.id > ? AND s.is_archived = 0 AND (? = 0 OR ("
                         S1B_STUCK_WHERE ")) ORDER BY s.id LIMIT ?",
                         "tiii", after, (int64_t)only_stuck, now, limit);
    return rc < 0 ? rc : s1b_read_ids(st, limit, ids, n, err);
}

int ck_sessions_count_by_state(ck_db *db, json_t **out, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT state, count(*) FROM checkout_sessions WHERE is_archived = 0 GROUP BY state ORDER BY state",
                         "");
    if (rc < 0)
        return rc;
    json_t *a = json_array();
    while ((rc = ck_db_next(st, err)) == 1)
        json_array_append_new(a, json_pack("{s:s, s:I}", "state", ck_col_text(st, 0), "count",
                                           (json_int_t)ck_col_int(st, 1)));
    ck_db_done(st);
    if (rc < 0) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return 0;
}

int ck_sessions_count_stuck(ck_db *db, int64_t now, int64_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_one(db, &st, err, "SELECT count(*) FROM checkout_sessions s WHERE " S1B_STUCK_WHERE, "i", now);
    if (rc == 1)
        *n = ck_col_int(st, 0);
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}
