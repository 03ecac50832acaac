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

/* What a session row is, for the session view and for the checks that read
 * it. Texts are copied; inputs and errors are parsed (NULL when the column
 * is NULL or not JSON) and belong to the caller (ck_sessions_row_clear). */
typedef struct ck_session_row {
    char id[CK_ID_MAX], cart_id[CK_ID_MAX], buyer_id[CK_ID_MAX], account_id[CK_ID_MAX], store_id[CK_ID_MAX];
    char flow_id[CK_ID_MAX], state[64];
    char last_step[CK_STEP_PATH_MAX]; /* "" when none */
    int has_last_step;
    char order_id[CK_ID_MAX];
    int has_order_id;
    int64_t flow_version, inputs_version;
    int processing; /* a lease is live now */
    int is_error, is_archived;
    json_t *inputs, *errors;
    int64_t subtotal, adjustments, shipping, tax, grand_total;
    int64_t created_at, updated_at;
} ck_session_row;
void ck_sessions_row_clear(ck_session_row *row);

/* The whole row of session id; "processing" is judged at now (ms).
 * 1 found (*out filled), 0 no such session, <0 error. */
int ck_sessions_get(ck_db *db, const char *id, int64_t now, ck_session_row *out, ck_error *err);

/* The ids a session refers to: account, store and cart (any may be NULL
 * when not wanted). 1 found, 0 no such session, <0 error. */
int ck_sessions_refs(ck_db *db, const char *id, char account_id[CK_ID_MAX], char store_id[CK_ID_MAX],
                     char cart_id[CK_ID_MAX], ck_error *err);

/* The flow session id is pinned to: 1 with flow_id and *version, 0 no
 * such session, or <0. */
int ck_sessions_flow(ck_db *db, const char *id, char flow_id[CK_ID_MAX], int64_t *version, ck_error *err);

/* Why a conditional update of session id may have changed nothing: whether
 * it is archived, completed, or leased at now (ms). 1 found, 0 none, <0. */
int ck_sessions_status(ck_db *db, const char *id, int64_t now, int *archived, int *completed, int *leased,
                       ck_error *err);

/* The cart's unarchived session, if any: its id, and whether its lease is
 * live at now (ms). 1 found, 0 none, <0 error. */
int ck_sessions_live_for_cart(ck_db *db, const char *cart_id, int64_t now, char id_out[CK_ID_MAX], int *leased,
                              ck_error *err);

/* A new session for a cart (flow version 1, the given state, created and
 * updated at now) unless the cart has an unarchived one already: then
 * nothing is inserted (the partial unique index settles a race on
 * PostgreSQL) and id_out gets the existing session's id. *created is 1 when
 * this call inserted id. 0 done, <0 error. */
typedef struct ck_session_new {
    const char *id, *cart_id, *buyer_id, *account_id, *store_id, *flow_id, *state;
    int64_t flow_version, now;
} ck_session_new;
int ck_sessions_create_for_cart(ck_db *db, const ck_session_new *s, char id_out[CK_ID_MAX], int *created,
                                ck_error *err);

/* The conditional progress update: last_successful_step = last (NULL: none)
 * and state, at now, unless the session is Completed, or from (unless any)
 * is not the current step ("" for none), or lease_owner (unless NULL) does
 * not hold the lease. Returns the rows changed (1 or 0) or <0. */
int ck_sessions_set_progress(ck_db *db, const char *id, const char *last, const char *state, int any,
                             const char *from, const char *lease_owner, int64_t now, ck_error *err);

/* Takes the lease of a live session for owner until `until` (ms), if none is
 * live at now or owner holds it. Returns the rows changed (1 or 0) or <0. */
int ck_sessions_take_lease(ck_db *db, const char *id, const char *owner, int64_t now, int64_t until,
                           ck_error *err);
/* Releases the session's lease if owner holds it. 0 or <0. */
int ck_sessions_release_lease(ck_db *db, const char *id, const char *owner, ck_error *err);
/* Releases every lease. 0 or <0. */
int ck_sessions_release_all_leases(ck_db *db, ck_error *err);

/* Holds the session row for an inputs change (touching updated_at) while it
 * is unarchived, not Completed and not leased at now. Returns the rows
 * changed (1 or 0) or <0. */
int ck_sessions_hold_for_change(ck_db *db, const char *id, int64_t now, ck_error *err);

/* The session's inputs (parsed, NULL when not JSON; the caller's) and its
 * last successful step ("" for none). 1 found, 0 none, <0 error. */
int ck_sessions_inputs(ck_db *db, const char *id, json_t **inputs, char last[CK_STEP_PATH_MAX], ck_error *err);

/* Stores the inputs (JSON text), adds bump to inputs_version and clears
 * is_error. 0 or <0. */
int ck_sessions_set_inputs(ck_db *db, const char *id, const char *inputs_text, int64_t bump, ck_error *err);

/* Archives the session and releases its lease, if owner holds the lease. 0 or <0. */
int ck_sessions_archive(ck_db *db, const char *id, const char *owner, int64_t now, ck_error *err);

/* Give-back's guard (checkout/giveback.h): a conditional UPDATE that holds
 * the session row for the rest of the transaction while the session has no
 * order and is not completed, and either lease_owner (not "") holds its
 * lease, or (lease_owner "") no live lease is held at now; and, when
 * idle_before > 0, while it was last updated before idle_before. 1 held,
 * 0 not, <0. */
int ck_sessions_hold_unordered(ck_db *db, const char *session_id, const char *lease_owner, int64_t now,
                               int64_t idle_before, ck_error *err);
/* inputsVersion + 1 while the session has no order. */
int ck_sessions_bump_inputs_unordered(ck_db *db, const char *session_id, ck_error *err);

#endif
