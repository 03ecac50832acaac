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
        ck_col_copy(st, 0, ids[(*n)++], CK_ID_MAX);
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

/* Parses a JSON column; NULL for SQL NULL or text that is not JSON. */
static json_t *s2_parsed(const char *text)
{
    return text ? json_loads(text, 0, NULL) : NULL;
}

/* Copies a text column into a fixed buffer; has (may be NULL) says whether it was not NULL. */
static void s2_copy(char *dst, size_t n, ck_stmt *st, int col, int *has)
{
    const char *s = ck_col_text_or_null(st, col);
    snprintf(dst, n, "%s", s ? s : "");
    if (has)
        *has = s != NULL;
}

void ck_sessions_row_clear(ck_session_row *row)
{
    if (!row)
        return;
    json_decref(row->inputs);
    json_decref(row->errors);
    row->inputs = row->errors = NULL;
}

int ck_sessions_get(ck_db *db, const char *id, int64_t now, ck_session_row *out, ck_error *err)
{
    memset(out, 0, sizeof(*out));
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, cart_id, buyer_id, account_id, store_id, flow_id, flow_version, state,"
                       " last_successful_step, lease_owner IS NOT NULL AND lease_expires_at > ?, is_error,"
                       " is_archived, order_id, inputs_version, inputs, subtotal, adjustments, shipping, tax,"
                       " grand_total, errors, created_at, updated_at FROM checkout_sessions WHERE id = ?",
                       "it", now, id);
    if (rc <= 0)
        return rc;
    s2_copy(out->id, sizeof(out->id), st, 0, NULL);
    s2_copy(out->cart_id, sizeof(out->cart_id), st, 1, NULL);
    s2_copy(out->buyer_id, sizeof(out->buyer_id), st, 2, NULL);
    s2_copy(out->account_id, sizeof(out->account_id), st, 3, NULL);
    s2_copy(out->store_id, sizeof(out->store_id), st, 4, NULL);
    s2_copy(out->flow_id, sizeof(out->flow_id), st, 5, NULL);
    out->flow_version = ck_col_int(st, 6);
    s2_copy(out->state, sizeof(out->state), st, 7, NULL);
    s2_copy(out->last_step, sizeof(out->last_step), st, 8, &out->has_last_step);
    out->processing = ck_col_int(st, 9) != 0;
    out->is_error = ck_col_int(st, 10) != 0;
    out->is_archived = ck_col_int(st, 11) != 0;
    s2_copy(out->order_id, sizeof(out->order_id), st, 12, &out->has_order_id);
    out->inputs_version = ck_col_int(st, 13);
    out->inputs = s2_parsed(ck_col_text_or_null(st, 14));
    out->subtotal = ck_col_int(st, 15);
    out->adjustments = ck_col_int(st, 16);
    out->shipping = ck_col_int(st, 17);
    out->tax = ck_col_int(st, 18);
    out->grand_total = ck_col_int(st, 19);
    out->errors = s2_parsed(ck_col_text_or_null(st, 20));
    out->created_at = ck_col_int(st, 21);
    out->updated_at = ck_col_int(st, 22);
    ck_db_done(st);
    return 1;
}

int ck_sessions_refs(ck_db *db, const char *id, char account_id[CK_ID_MAX], char store_id[CK_ID_MAX],
                     char cart_id[CK_ID_MAX], ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT account_id, store_id, cart_id FROM checkout_sessions WHERE id = ?", "t",
                       id);
    if (rc <= 0)
        return rc;
    if (account_id)
        s2_copy(account_id, CK_ID_MAX, st, 0, NULL);
    if (store_id)
        s2_copy(store_id, CK_ID_MAX, st, 1, NULL);
    if (cart_id)
        s2_copy(cart_id, CK_ID_MAX, st, 2, NULL);
    ck_db_done(st);
    return 1;
}

int ck_sessions_status(ck_db *db, const char *id, int64_t now, int *archived, int *completed, int *leased,
                       ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT is_archived, state = 'Completed', lease_owner IS NOT NULL AND lease_expires_at > ?"
                       " FROM checkout_sessions WHERE id = ?",
                       "it", now, id);
    if (rc <= 0)
        return rc;
    *archived = ck_col_int(st, 0) != 0;
    *completed = ck_col_int(st, 1) != 0;
    *leased = ck_col_int(st, 2) != 0;
    ck_db_done(st);
    return 1;
}

int ck_sessions_live_for_cart(ck_db *db, const char *cart_id, int64_t now, char id_out[CK_ID_MAX], int *leased,
                              ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, lease_owner IS NOT NULL AND lease_expires_at > ? FROM checkout_sessions"
                       " WHERE cart_id = ? AND is_archived = 0",
                       "it", now, cart_id);
    if (rc <= 0)
        return rc;
    s2_copy(id_out, CK_ID_MAX, st, 0, NULL);
    *leased = ck_col_int(st, 1) != 0;
    ck_db_done(st);
    return 1;
}

int ck_sessions_create_for_cart(ck_db *db, const ck_session_new *s, char id_out[CK_ID_MAX], int *created,
                                ck_error *err)
{
    int64_t changed = 0;
    *created = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "INSERT INTO checkout_sessions (id, cart_id, buyer_id, account_id, store_id, flow_id,"
                        " flow_version, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (cart_id) WHERE is_archived = 0 DO NOTHING",
                        "ttttttitii", s->id, s->cart_id, s->buyer_id, s->account_id, s->store_id, s->flow_id,
                        s->flow_version, s->state, s->now, s->now);
    if (rc < 0)
        return rc;
    if (changed == 1) {
        snprintf(id_out, CK_ID_MAX, "%s", s->id);
        *created = 1;
        return 0;
    }
    ck_stmt *st = NULL;
    rc = ck_db_one(db, &st, err, "SELECT id FROM checkout_sessions WHERE cart_id = ? AND is_archived = 0", "t",
                   s->cart_id);
    if (rc <= 0)
        return rc < 0 ? rc : ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "session vanished");
    s2_copy(id_out, CK_ID_MAX, st, 0, NULL);
    ck_db_done(st);
    return 0;
}

int ck_sessions_set_progress(ck_db *db, const char *id, const char *last, const char *state, int any,
                             const char *from, const char *lease_owner, int64_t now, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE checkout_sessions SET last_successful_step = ?, state = ?, updated_at = ?"
                         " WHERE id = ? AND state <> 'Completed'"
                         " AND (? = 1 OR COALESCE(last_successful_step, '') = ?)"
                         " AND (? = '' OR lease_owner = ?)",
                         "ttitittt", last, state, now, id, (int64_t)(any != 0), any ? "" : from,
                         lease_owner ? lease_owner : "", lease_owner ? lease_owner : "");
}

int ck_sessions_take_lease(ck_db *db, const char *id, const char *owner, int64_t now, int64_t until,
                           ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE checkout_sessions SET lease_owner = ?, lease_expires_at = ?"
                         " WHERE id = ? AND is_archived = 0"
                         " AND (lease_owner IS NULL OR lease_expires_at <= ? OR lease_owner = ?)",
                         "titit", owner, until, id, now, owner);
}

int ck_sessions_release_lease(ck_db *db, const char *id, const char *owner, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE checkout_sessions SET lease_owner = NULL, lease_expires_at = 0"
                      " WHERE id = ? AND lease_owner = ?",
                      "tt", id, owner);
}

int ck_sessions_release_all_leases(ck_db *db, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE checkout_sessions SET lease_owner = NULL, lease_expires_at = 0"
                      " WHERE lease_owner IS NOT NULL",
                      "");
}

int ck_sessions_hold_for_change(ck_db *db, const char *id, int64_t now, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE checkout_sessions SET updated_at = ? WHERE id = ? AND is_archived = 0"
                         " AND state <> 'Completed' AND (lease_owner IS NULL OR lease_expires_at <= ?)",
                         "iti", now, id, now);
}

int ck_sessions_inputs(ck_db *db, const char *id, json_t **inputs, char last[CK_STEP_PATH_MAX], ck_error *err)
{
    ck_stmt *st = NULL;
    *inputs = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT inputs, last_successful_step FROM checkout_sessions WHERE id = ?", "t",
                       id);
    if (rc <= 0)
        return rc;
    *inputs = s2_parsed(ck_col_text_or_null(st, 0));
    s2_copy(last, CK_STEP_PATH_MAX, st, 1, NULL);
    ck_db_done(st);
    return 1;
}

int ck_sessions_set_inputs(ck_db *db, const char *id, const char *inputs_text, int64_t bump, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE checkout_sessions SET inputs = ?, inputs_version = inputs_version + ?, is_error = 0"
                      " WHERE id = ?",
                      "tit", inputs_text, bump, id);
}

int ck_sessions_archive(ck_db *db, const char *id, const char *owner, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE checkout_sessions SET is_archived = 1, lease_owner = NULL, lease_expires_at = 0,"
                      " updated_at = ? WHERE id = ? AND lease_owner = ?",
                      "itt", now, id, owner);
}

int ck_sessions_hold_unordered(ck_db *db, const char *session_id, const char *lease_owner, int64_t now,
                               int64_t idle_before, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE checkout_sessions SET updated_at = updated_at"
                        " WHERE id = ? AND order_id IS NULL AND state <> 'Completed'"
                        " AND ((? <> '' AND lease_owner = ?)"
                        "      OR (? = '' AND (lease_owner IS NULL OR lease_expires_at <= ?)))"
                        " AND (? = 0 OR updated_at < ?)",
                        "ttttiii", session_id, lease_owner, lease_owner, lease_owner, now, idle_before, idle_before);
    return rc < 0 ? rc : changed == 1;
}

int ck_sessions_bump_inputs_unordered(ck_db *db, const char *session_id, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE checkout_sessions SET inputs_version = inputs_version + 1 WHERE id = ? AND order_id IS NULL",
                      "t", session_id);
}

int ck_sessions_flow(ck_db *db, const char *id, char flow_id[CK_ID_MAX], int64_t *version, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT flow_id, flow_version FROM checkout_sessions WHERE id = ?", "t", id);
    if (rc == 1) {
        ck_col_copy(st, 0, flow_id, CK_ID_MAX);
        *version = ck_col_int(st, 1);
    }
    ck_db_done(st);
    return rc;
}
