/* sessions.c: the sessions repository (store/sessions.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sessions.h"

/* s1b: the list of sessions (GET /v1/checkouts) and the /metrics sessions by state. */

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
