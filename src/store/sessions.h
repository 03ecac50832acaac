/* sessions.h: the sessions repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_SESSIONS_H
#define CK_STORE_SESSIONS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Which sessions GET /v1/checkouts lists: store_id, state and account_id
 * NULL for any; wide 1 for every account's, else only those of the
 * accounts given to user_id. Archived sessions are included. */
typedef struct ck_sessions_filter {
    const char *store_id, *state, *account_id, *user_id;
    int wide;
} ck_sessions_filter;

/* The ids of up to limit sessions matching f with an id after `after` ("" first),
 * in id order, into ids (room for limit), how many in *n. 0 or <0. */
int ck_sessions_list_ids(ck_db *db, const ck_sessions_filter *f, const char *after, int64_t limit,
                         char (*ids)[CK_ID_MAX], int64_t *n, ck_error *err);

/* The unarchived sessions by state, in state order: *out (the caller's) is
 * an array of {"state", "count"}. 0 or <0. */
int ck_sessions_count_by_state(ck_db *db, json_t **out, ck_error *err);

#endif
