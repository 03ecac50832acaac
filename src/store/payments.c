/* payments.c: the payments repository (store/payments.h): card holds, their
 * void marks, captures, and the test gateway's ledger. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/payments.h"
#include "core/json.h"
#include "store/view.h"

int ck_payments_mark_void(ck_db *db, const char *session_id, const char *keep_key, int64_t *marked, ck_error *err)
{
    return ck_db_exec(db, marked, err,
                      "UPDATE payment_authorizations SET void_pending = 1, updated_at = ?"
                      " WHERE session_id = ? AND status = 'Authorized' AND order_id IS NULL AND void_pending = 0"
                      " AND idempotency_key <> ?",
                      "itt", ck_now_ms(), session_id, keep_key ? keep_key : "");
}

static void read_hold(ck_stmt *st, void *elem)
{
    ck_hold *h = elem;
    ck_col_copy(st, 0, h->id, sizeof(h->id));
    ck_col_copy(st, 1, h->session_id, sizeof(h->session_id));
    ck_col_copy(st, 2, h->store_id, sizeof(h->store_id));
    ck_col_copy(st, 3, h->gw_auth, sizeof(h->gw_auth));
    h->amount = ck_col_int(st, 4);
}

int ck_payments_void_pending(ck_db *db, const char *session_id, const char *after, size_t max, ck_hold **out,
                             size_t *n, ck_error *err)
{
    *out = NULL;
    *n = 0;
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT pa.id, pa.session_id, s.store_id, pa.gateway_auth_id, pa.amount"
                         " FROM payment_authorizations pa JOIN checkout_sessions s ON s.id = pa.session_id"
                         " WHERE pa.void_pending = 1 AND pa.status IN ('Authorized', 'PartiallyCaptured', 'Captured')"
                         " AND (? = '' OR pa.session_id = ?)"
                         " AND pa.id > ? ORDER BY pa.id LIMIT ?",
                         "ttti", session_id ? session_id : "", session_id ? session_id : "", after ? after : "",
                         max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
    return rc < 0 ? rc : ck_view_rows(st, sizeof(**out), read_hold, (void **)out, n, err);
}

int ck_payments_record_voided(ck_db *db, const char *auth_id, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE payment_authorizations SET status = CASE WHEN captured_amount > 0 THEN 'Captured'"
                         " ELSE 'Voided' END, void_pending = 0, updated_at = ? WHERE id = ?"
                         " AND status IN ('Authorized', 'PartiallyCaptured', 'Captured') AND void_pending = 1",
                         "it", ck_now_ms(), auth_id);
}

static void read_session_id(ck_stmt *st, void *elem)
{
    ck_col_copy(st, 0, elem, CK_ID_MAX);
}

int ck_payments_expired_sessions(ck_db *db, int64_t now, char (**ids)[CK_ID_MAX], size_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *ids = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT DISTINCT session_id FROM payment_authorizations WHERE status = 'Authorized'"
                         " AND order_id IS NULL AND expires_at <= ?",
                         "i", now);
    return rc < 0 ? rc : ck_view_rows(st, CK_ID_MAX, read_session_id, (void **)ids, n, err);
}

int ck_payments_expire(ck_db *db, int64_t now, int64_t *count, ck_error *err)
{
    return ck_db_exec(db, count, err,
                      "UPDATE payment_authorizations SET status = 'Expired', void_pending = 0, updated_at = ?"
                      " WHERE status = 'Authorized' AND expires_at <= ? AND NOT EXISTS (SELECT 1 FROM order_changes c"
                      " WHERE c.authorization_id = payment_authorizations.id AND c.status = 'Pending')",
                      "ii", now, now);
}


int ck_payments_testgw_get(ck_db *db, const char *key, ck_testgw_row *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT op, result, ref_id, amount FROM gateway_test_ledger WHERE idem_key = ?", "t", key);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, out->op, sizeof(out->op));
    ck_col_copy(st, 1, out->result, sizeof(out->result));
    ck_col_copy(st, 2, out->ref_id, sizeof(out->ref_id));
    out->amount = ck_col_int(st, 3);
    ck_db_done(st);
    return 1;
}

int ck_payments_testgw_put(ck_db *db, const char *key, const char *op, const char *result, const char *ref_id,
                           int64_t amount, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO gateway_test_ledger (idem_key, op, result, ref_id, amount, created_at)"
                      " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (idem_key) DO NOTHING",
                      "ttttii", key, op, result, ref_id, amount, ck_now_ms());
}

int ck_payments_testgw_auth_amount(ck_db *db, const char *auth_id, int64_t *amount, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT amount FROM gateway_test_ledger"
                       " WHERE op = 'authorize' AND ref_id = ? AND result = 'approved'",
                       "t", auth_id);
    if (rc == 1) {
        *amount = ck_col_int(st, 0);
        ck_db_done(st);
    }
    return rc;
}

int ck_payments_testgw_approved(ck_db *db, const char *op, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM gateway_test_ledger WHERE op = ? AND result = 'approved'", "t",
                       op);
    ck_db_done(st);
    return rc;
}

int ck_payments_testgw_approved_sum(ck_db *db, const char *op, int64_t *sum, ck_error *err)
{
    ck_stmt *st = NULL;
    *sum = 0;
    int rc = ck_db_one(db, &st, err,
                       "SELECT COALESCE(SUM(amount), 0) FROM gateway_test_ledger WHERE op = ? AND result = 'approved'",
                       "t", op);
    if (rc < 0)
        return rc;
    if (rc == 1)
        *sum = ck_col_int(st, 0);
    ck_db_done(st);
    return 0;
}

int ck_payments_testgw_take_capture(ck_db *db, const char *payment_id, int64_t *amount, ck_error *err)
{
    int rc = ck_db_changed(db, err,
                           "UPDATE gateway_test_ledger SET amount = amount"
                           " WHERE ref_id = ? AND result = 'approved' AND op LIKE 'capture:%'",
                           "t", payment_id);
    if (rc <= 0)
        return rc;
    ck_stmt *st = NULL;
    rc = ck_db_one(db, &st, err,
                   "SELECT amount FROM gateway_test_ledger"
                   " WHERE ref_id = ? AND result = 'approved' AND op LIKE 'capture:%'",
                   "t", payment_id);
    if (rc == 1) {
        *amount = ck_col_int(st, 0);
        ck_db_done(st);
    }
    return rc;
}

/* s1b: the list of payment holds (GET /v1/authorizations). */

#define S1B_AUTH_COLS                                                                                          \
    "a.id, a.status, a.amount, a.captured_amount, a.gateway_auth_id, a.method, a.session_id, a.order_id,"     \
    " s.store_id, s.account_id, a.expires_at, a.created_at, a.updated_at, a.voided_amount"

/* A row of S1B_AUTH_COLS as JSON; a new reference. */
static json_t *s1b_authorization_json(ck_stmt *st)
{
    json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "id", ck_col_text(st, 0), "status",
                          ck_col_text(st, 1), "amount", (json_int_t)ck_col_int(st, 2), "capturedAmount",
                          (json_int_t)ck_col_int(st, 3), "gatewayAuthId", ck_col_text(st, 4), "method",
                          ck_col_text(st, 5), "sessionId", ck_col_text(st, 6));
    const char *order = ck_col_text_or_null(st, 7);
    json_object_set_new(j, "orderId", order ? json_string(order) : json_null());
    json_object_set_new(j, "storeId", json_string(ck_col_text(st, 8)));
    json_object_set_new(j, "accountId", json_string(ck_col_text(st, 9)));
    json_object_set_new(j, "expiresAt", ck_json_time(ck_col_int(st, 10)));
    json_object_set_new(j, "createdAt", ck_json_time(ck_col_int(st, 11)));
    json_object_set_new(j, "updatedAt", ck_json_time(ck_col_int(st, 12)));
    json_object_set_new(j, "voidedAmount", json_integer((json_int_t)ck_col_int(st, 13)));
    return j;
}

int ck_payments_authorization_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    return ck_view_find(db,
                        "SELECT " S1B_AUTH_COLS " FROM payment_authorizations a"
                        " JOIN checkout_sessions s ON s.id = a.session_id WHERE a.id = ?",
                        id, s1b_authorization_json, out, err);
}

int ck_payments_hold_get(ck_db *db, const char *auth_id, ck_hold *out, char status[32], int *has_order,
                         ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT pa.id, pa.session_id, s.store_id, pa.gateway_auth_id, pa.amount, pa.status,"
                       " pa.order_id IS NOT NULL FROM payment_authorizations pa"
                       " JOIN checkout_sessions s ON s.id = pa.session_id WHERE pa.id = ?",
                       "t", auth_id);
    if (rc <= 0)
        return rc;
    memset(out, 0, sizeof(*out));
    ck_col_copy(st, 0, out->id, sizeof(out->id));
    ck_col_copy(st, 1, out->session_id, sizeof(out->session_id));
    ck_col_copy(st, 2, out->store_id, sizeof(out->store_id));
    ck_col_copy(st, 3, out->gw_auth, sizeof(out->gw_auth));
    out->amount = ck_col_int(st, 4);
    ck_col_copy(st, 5, status, 32);
    *has_order = (int)ck_col_int(st, 6);
    ck_db_done(st);
    return 1;
}

int ck_payments_mark_void_one(ck_db *db, const char *auth_id, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE payment_authorizations SET void_pending = 1, updated_at = ? WHERE id = ?"
                         " AND status = 'Authorized' AND order_id IS NULL AND void_pending = 0",
                         "it", ck_now_ms(), auth_id);
}

int ck_payments_list_authorizations(ck_db *db, const ck_authorizations_filter *f, const char *after, int64_t limit,
                                    json_t **items, char last_id[CK_ID_MAX], ck_error *err)
{
    const char *status = f->status ? f->status : "", *store_id = f->store_id ? f->store_id : "";
    return ck_view_list(db, s1b_authorization_json, items, last_id, err,
                        "SELECT " S1B_AUTH_COLS " FROM payment_authorizations a"
                        " JOIN checkout_sessions s ON s.id = a.session_id"
                        " WHERE (? = '' OR a.status = ?) AND (? = '' OR s.store_id = ?)"
                        " AND (? = 1 OR s.account_id IN (SELECT account_id FROM user_accounts WHERE user_id = ?))"
                        " AND a.id > ? ORDER BY a.id LIMIT ?",
                        "ttttitti", status, status, store_id, store_id, (int64_t)f->wide, f->user_id, after, limit);
}

static json_t *s2_authorization_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:s}", "id", ck_col_text(st, 0), "status", ck_col_text(st, 1),
                     "amount", (json_int_t)ck_col_int(st, 2), "capturedAmount", (json_int_t)ck_col_int(st, 3),
                     "gatewayAuthId", ck_col_text(st, 4));
}

static json_t *s2_payment_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:I, s:o}", "id", ck_col_text(st, 0), "authorizationId", ck_col_text(st, 1),
                     "amount", (json_int_t)ck_col_int(st, 2), "createdAt", ck_json_time(ck_col_int(st, 3)));
}

int ck_payments_order_authorizations_json(ck_db *db, const char *order_id, const char *session_id, json_t *arr,
                                          ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, status, amount, captured_amount, gateway_auth_id FROM payment_authorizations"
                         " WHERE order_id = ? OR session_id = ? ORDER BY id",
                         "tt", order_id, session_id);
    return rc < 0 ? rc : ck_view_append(st, arr, s2_authorization_json, err);
}

int ck_payments_order_payments_json(ck_db *db, const char *order_id, json_t *arr, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, authorization_id, amount, created_at FROM payments WHERE order_id = ?"
                         " ORDER BY id",
                         "t", order_id);
    return rc < 0 ? rc : ck_view_append(st, arr, s2_payment_json, err);
}

int ck_payments_other_open_hold(ck_db *db, const char *session_id, const char *keep_key, ck_error *err)
{
    return ck_db_exists(db, err,
                        "SELECT 1 FROM payment_authorizations WHERE session_id = ? AND status = 'Authorized'"
                        " AND void_pending = 0 AND order_id IS NULL AND idempotency_key <> ? LIMIT 1",
                        "tt", session_id, keep_key);
}

int ck_payments_hold_recorded(ck_db *db, const char *key, ck_error *err)
{
    return ck_db_exists(db, err,
                        "SELECT 1 FROM payment_authorizations WHERE idempotency_key = ? AND status = 'Authorized'"
                        " AND void_pending = 0",
                        "t", key);
}

int ck_payments_insert_authorization(ck_db *db, const ck_auth_new *a, ck_error *err)
{
    char id[CK_ID_MAX];
    ck_id_new(id, "pa");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO payment_authorizations (id, session_id, method, gateway, gateway_auth_id, amount,"
                      " status, idempotency_key, expires_at, created_at, updated_at)"
                      " VALUES (?, ?, ?, ?, ?, ?, 'Authorized', ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                      "tttttitiii", id, a->session_id, a->method, a->gateway, a->gateway_auth_id, a->amount,
                      a->idempotency_key, a->expires_at, a->now, a->now);
}

int ck_payments_take_hold(ck_db *db, const char *key, const char *session_id, const char *order_id, int64_t now,
                          ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE payment_authorizations SET order_id = ?, updated_at = ?"
                        " WHERE idempotency_key = ? AND session_id = ? AND status = 'Authorized' AND void_pending = 0"
                        " AND order_id IS NULL AND expires_at > ?",
                        "titti", order_id, now, key, session_id, now);
    return rc < 0 ? rc : changed == 1;
}

int ck_payments_session_hold(ck_db *db, const char *session_id, char auth_id[CK_ID_MAX], ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id FROM payment_authorizations WHERE session_id = ? AND void_pending = 0"
                       " AND status IN ('Authorized', 'Captured') ORDER BY id DESC LIMIT 1",
                       "t", session_id);
    if (rc == 1)
        ck_col_copy(st, 0, auth_id, CK_ID_MAX);
    ck_db_done(st);
    return rc;
}
