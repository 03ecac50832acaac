/* fulfillment.c: the after-the-order repository (store/fulfillment.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "store/fulfillment.h"
#include "store/view.h"

static json_t *int_of(ck_stmt *st, int col)
{
    return json_integer((json_int_t)ck_col_int(st, col));
}

static json_t *opt_str(ck_stmt *st, int col)
{
    const char *s = ck_col_text_or_null(st, col);
    return s ? json_string(s) : json_null();
}

#define ORDER_COLS                                                                                             \
    "o.id, o.store_id, o.account_id, o.session_id, o.status, o.payment_method, o.shipping_state,"             \
    " o.shipping, o.grand_total, COALESCE((SELECT f.id FROM fulfillment_orders f WHERE f.order_id = o.id), ''),"  \
    " COALESCE((SELECT l.contract_id FROM balance_ledger l WHERE l.session_id = o.session_id"                \
    " AND l.kind = 'contract' AND l.contract_id IS NOT NULL ORDER BY l.id LIMIT 1), '')"

static int read_order(ck_db *db, const char *order_id, ck_ful_order *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT " ORDER_COLS " FROM orders o WHERE o.id = ?", "t", order_id);
    if (rc <= 0)
        return rc;
    memset(out, 0, sizeof(*out));
    ck_col_copy(st, 0, out->id, sizeof(out->id));
    ck_col_copy(st, 1, out->store_id, sizeof(out->store_id));
    ck_col_copy(st, 2, out->account_id, sizeof(out->account_id));
    ck_col_copy(st, 3, out->session_id, sizeof(out->session_id));
    ck_col_copy(st, 4, out->status, sizeof(out->status));
    ck_col_copy(st, 5, out->method, sizeof(out->method));
    ck_col_copy(st, 6, out->shipping_state, sizeof(out->shipping_state));
    out->shipping = ck_col_int(st, 7);
    out->grand_total = ck_col_int(st, 8);
    ck_col_copy(st, 9, out->fo_id, sizeof(out->fo_id));
    ck_col_copy(st, 10, out->contract_id, sizeof(out->contract_id));
    ck_db_done(st);
    return 1;
}

int ck_ful_lock_order(ck_db *db, const char *order_id, ck_ful_order *out, ck_error *err)
{
    int rc = ck_db_changed(db, err, "UPDATE orders SET updated_at = updated_at WHERE id = ?", "t", order_id);
    if (rc <= 0)
        return rc;
    return read_order(db, order_id, out, err);
}

int ck_ful_read_order(ck_db *db, const char *order_id, ck_ful_order *out, ck_error *err)
{
    return read_order(db, order_id, out, err);
}

static void read_line(ck_stmt *st, void *elem)
{
    ck_ful_line *l = elem;
    ck_col_copy(st, 0, l->item_id, sizeof(l->item_id));
    ck_col_copy(st, 1, l->product_id, sizeof(l->product_id));
    l->q = ck_col_int(st, 2);
    l->total = ck_col_int(st, 3);
    l->fulfilled = ck_col_int(st, 4);
    l->cancelled = ck_col_int(st, 5);
    l->returned = ck_col_int(st, 6);
    l->amount_fulfilled = ck_col_int(st, 7);
    l->amount_cancelled = ck_col_int(st, 8);
    l->amount_returned = ck_col_int(st, 9);
}

int ck_ful_lines(ck_db *db, const char *order_id, ck_ful_line **out, size_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT i.id, i.product_id, i.quantity, i.total, s.quantity_fulfilled, s.quantity_cancelled,"
                         " s.quantity_returned, s.amount_fulfilled, s.amount_cancelled, s.amount_returned"
                         " FROM order_items i JOIN order_item_summaries s ON s.order_item_id = i.id"
                         " WHERE i.order_id = ? ORDER BY i.id",
                         "t", order_id);
    return rc < 0 ? rc : ck_view_rows(st, sizeof(**out), read_line, (void **)out, n, err);
}

int ck_ful_order_auth(ck_db *db, const char *order_id, ck_ful_auth *out, ck_error *err)
{
    ck_stmt *st = NULL;
    memset(out, 0, sizeof(*out));
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, session_id, gateway_auth_id, status, amount, captured_amount, voided_amount,"
                       " void_pending, expires_at FROM payment_authorizations WHERE order_id = ? ORDER BY id DESC"
                       " LIMIT 1",
                       "t", order_id);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, out->id, sizeof(out->id));
    ck_col_copy(st, 1, out->session_id, sizeof(out->session_id));
    ck_col_copy(st, 2, out->gw_auth, sizeof(out->gw_auth));
    ck_col_copy(st, 3, out->status, sizeof(out->status));
    out->amount = ck_col_int(st, 4);
    out->captured = ck_col_int(st, 5);
    out->voided = ck_col_int(st, 6);
    out->void_pending = (int)ck_col_int(st, 7);
    out->expires_at = ck_col_int(st, 8);
    ck_db_done(st);
    return 1;
}

static void read_payment(ck_stmt *st, void *elem)
{
    ck_ful_payment *x = elem;
    ck_col_copy(st, 0, x->id, sizeof(x->id));
    ck_col_copy(st, 1, x->gw_payment_id, sizeof(x->gw_payment_id));
    x->amount = ck_col_int(st, 2);
    x->refunded = ck_col_int(st, 3);
}

int ck_ful_payments(ck_db *db, const char *order_id, ck_ful_payment **out, size_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT p.id, p.gateway_payment_id, p.amount, COALESCE((SELECT SUM(r.amount) FROM refunds r"
                         " WHERE r.payment_id = p.id AND r.status <> 'Failed'), 0)"
                         " FROM payments p WHERE p.order_id = ? ORDER BY p.id DESC",
                         "t", order_id);
    return rc < 0 ? rc : ck_view_rows(st, sizeof(**out), read_payment, (void **)out, n, err);
}

/* ---------------------------------------------------------------- fulfillment orders */

int ck_fo_insert(ck_db *db, const char *id, const char *order_id, const char *store_id, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO fulfillment_orders (id, order_id, store_id, status, created_at, updated_at)"
                      " VALUES (?, ?, ?, 'Allocated', ?, ?)",
                      "tttii", id, order_id, store_id, now, now);
}

int ck_fo_set_status(ck_db *db, const char *id, const char *status, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE fulfillment_orders SET status = ?, updated_at = ? WHERE id = ?", "tit",
                      status, now, id);
}

static json_t *fo_line_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "orderItemId", ck_col_text(st, 0), "sku", ck_col_text(st, 1),
                     "quantity", int_of(st, 2), "quantityFulfilled", int_of(st, 3), "quantityCancelled",
                     int_of(st, 4));
}

static json_t *change_item_json(ck_stmt *st)
{
    return json_pack("{s:s, s:o, s:o}", "orderItemId", ck_col_text(st, 0), "quantity", int_of(st, 1), "amount",
                     int_of(st, 2));
}

/* The fulfilments of a fulfillment order, each with its items. */
static int fulfilments_json(ck_db *db, const char *fo_id, json_t *arr, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, tracking_number, amount, status, capture_amount, payment_id, created_at"
                         " FROM order_changes WHERE fulfillment_order_id = ? AND kind = 'fulfill' ORDER BY id",
                         "t", fo_id);
    if (rc < 0)
        return rc;
    while ((rc = ck_db_next(st, err)) == 1) {
        int done = strcmp(ck_col_text(st, 3), "Completed") == 0;
        json_t *f = json_pack("{s:s, s:o, s:o, s:o, s:o, s:s, s:o}", "id", ck_col_text(st, 0), "items",
                              json_array(), "trackingNumber", opt_str(st, 1), "amount", int_of(st, 2),
                              "capturedAmount", json_integer(done ? (json_int_t)ck_col_int(st, 4) : 0), "status",
                              ck_col_text(st, 3), "createdAt", ck_json_time(ck_col_int(st, 6)));
        json_object_set_new(f, "paymentId", opt_str(st, 5));
        json_array_append_new(arr, f);
    }
    ck_db_done(st);
    if (rc < 0)
        return rc;
    size_t i;
    json_t *f;
    json_array_foreach(arr, i, f)
    {
        rc = ck_db_query(db, &st, err,
                         "SELECT order_item_id, quantity, amount FROM order_change_items WHERE change_id = ?"
                         " ORDER BY order_item_id",
                         "t", json_string_value(json_object_get(f, "id")));
        if (rc < 0 || (rc = ck_view_append(st, json_object_get(f, "items"), change_item_json, err)) < 0)
            return rc;
    }
    return 0;
}

int ck_fo_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    *out = NULL;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, order_id, store_id, status, created_at, updated_at FROM fulfillment_orders"
                       " WHERE id = ?",
                       "t", id);
    if (rc <= 0)
        return rc;
    char order_id[CK_ID_MAX];
    ck_col_copy(st, 1, order_id, sizeof(order_id));
    json_t *items = json_array(), *fuls = json_array();
    json_t *fo = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", ck_col_text(st, 0), "orderId", order_id,
                           "storeId", ck_col_text(st, 2), "status", ck_col_text(st, 3), "items", items,
                           "fulfillments", fuls, "createdAt", ck_json_time(ck_col_int(st, 4)), "updatedAt",
                           ck_json_time(ck_col_int(st, 5)));
    ck_db_done(st);
    rc = ck_db_query(db, &st, err,
                     "SELECT i.id, i.sku, i.quantity, s.quantity_fulfilled, s.quantity_cancelled FROM order_items i"
                     " JOIN order_item_summaries s ON s.order_item_id = i.id WHERE i.order_id = ? ORDER BY i.id",
                     "t", order_id);
    if (rc == 0)
        rc = ck_view_append(st, items, fo_line_json, err);
    if (rc == 0)
        rc = fulfilments_json(db, id, fuls, err);
    if (rc < 0) {
        json_decref(fo);
        return rc;
    }
    *out = fo;
    return 1;
}

int ck_fo_list_ids(ck_db *db, const char *store_id, const char *status, const char *after, int64_t limit,
                   char (*ids)[CK_ID_MAX], int64_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id FROM fulfillment_orders WHERE (? = '' OR store_id = ?) AND (? = '' OR status = ?)"
                         " AND id > ? ORDER BY id LIMIT ?",
                         "ttttti", store_id ? store_id : "", store_id ? store_id : "", status ? status : "",
                         status ? status : "", after ? after : "", limit);
    if (rc < 0)
        return rc;
    while (*n < limit && (rc = ck_db_next(st, err)) == 1)
        ck_col_copy(st, 0, ids[(*n)++], CK_ID_MAX);
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- order changes */

int ck_changes_insert(ck_db *db, const ck_change_row *c, const char *request_key, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO order_changes (id, order_id, fulfillment_order_id, kind, seq, status, request_key,"
                      " fingerprint, tracking_number, amount, takes_shipping, authorization_id, capture_amount,"
                      " capture_key, void_amount, balance_amount, lease_owner, lease_until, created_at, updated_at)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      "ttttittttiititiitiii", c->id, c->order_id, c->fo_id[0] ? c->fo_id : NULL, c->kind, c->seq,
                      c->status, request_key, c->fingerprint, c->has_tracking ? c->tracking : NULL, c->amount,
                      (int64_t)c->takes_shipping, c->auth_id[0] ? c->auth_id : NULL, c->capture_amount,
                      c->capture_key[0] ? c->capture_key : NULL, c->void_amount, c->balance_amount,
                      c->lease_owner[0] ? c->lease_owner : NULL, c->lease_until, now, now);
}

int ck_changes_take_lease(ck_db *db, const char *id, const char *owner, int64_t until, int64_t now, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE order_changes SET lease_owner = ?, lease_until = ? WHERE id = ? AND status = 'Pending'"
                         " AND (lease_until < ? OR lease_owner = ?)",
                         "titit", owner, until, id, now, owner);
}

int ck_changes_lease_release(ck_db *db, const char *id, const char *owner, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE order_changes SET lease_owner = NULL, lease_until = 0 WHERE id = ? AND lease_owner = ?",
                      "tt", id, owner);
}

int ck_changes_leases_release_all(ck_db *db, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE order_changes SET lease_owner = NULL, lease_until = 0 WHERE status = 'Pending'", "");
}

int ck_changes_insert_item(ck_db *db, const char *change_id, const char *item_id, int64_t qty, int64_t amount,
                           ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO order_change_items (change_id, order_item_id, quantity, amount) VALUES (?, ?, ?, ?)",
                      "ttii", change_id, item_id, qty, amount);
}

int ck_changes_get(ck_db *db, const char *id, ck_change_row *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, order_id, COALESCE(fulfillment_order_id, ''), kind, status, seq, amount,"
                       " capture_amount, void_amount, balance_amount, created_at, takes_shipping, tracking_number,"
                       " COALESCE(authorization_id, ''), COALESCE(capture_key, ''), COALESCE(payment_id, ''),"
                       " COALESCE(error_code, ''), fingerprint, COALESCE(lease_owner, ''), lease_until"
                       " FROM order_changes WHERE id = ?",
                       "t", id);
    if (rc <= 0)
        return rc;
    memset(out, 0, sizeof(*out));
    ck_col_copy(st, 0, out->id, sizeof(out->id));
    ck_col_copy(st, 1, out->order_id, sizeof(out->order_id));
    ck_col_copy(st, 2, out->fo_id, sizeof(out->fo_id));
    ck_col_copy(st, 3, out->kind, sizeof(out->kind));
    ck_col_copy(st, 4, out->status, sizeof(out->status));
    out->seq = ck_col_int(st, 5);
    out->amount = ck_col_int(st, 6);
    out->capture_amount = ck_col_int(st, 7);
    out->void_amount = ck_col_int(st, 8);
    out->balance_amount = ck_col_int(st, 9);
    out->created_at = ck_col_int(st, 10);
    out->takes_shipping = (int)ck_col_int(st, 11);
    out->has_tracking = !ck_col_null(st, 12);
    ck_col_copy(st, 12, out->tracking, sizeof(out->tracking));
    ck_col_copy(st, 13, out->auth_id, sizeof(out->auth_id));
    ck_col_copy(st, 14, out->capture_key, sizeof(out->capture_key));
    ck_col_copy(st, 15, out->payment_id, sizeof(out->payment_id));
    ck_col_copy(st, 16, out->error_code, sizeof(out->error_code));
    ck_col_copy(st, 17, out->fingerprint, sizeof(out->fingerprint));
    ck_col_copy(st, 18, out->lease_owner, sizeof(out->lease_owner));
    out->lease_until = ck_col_int(st, 19);
    ck_db_done(st);
    return 1;
}

/* The id column of the one row sql finds: 1 with id, 0 none, <0. */
static int one_id(ck_db *db, char id[CK_ID_MAX], ck_error *err, const char *sql, const char *arg)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, sql, "t", arg);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, id, CK_ID_MAX);
    ck_db_done(st);
    return 1;
}

int ck_changes_pending_of_order(ck_db *db, const char *order_id, char id[CK_ID_MAX], ck_error *err)
{
    return one_id(db, id, err, "SELECT id FROM order_changes WHERE order_id = ? AND status = 'Pending'", order_id);
}

int ck_changes_by_request_key(ck_db *db, const char *request_key, char id[CK_ID_MAX], ck_error *err)
{
    return one_id(db, id, err, "SELECT id FROM order_changes WHERE request_key = ?", request_key);
}

int ck_ful_fo_of_order(ck_db *db, const char *order_id, char fo_id[CK_ID_MAX], ck_error *err)
{
    return one_id(db, fo_id, err, "SELECT id FROM fulfillment_orders WHERE order_id = ?", order_id);
}

int ck_fo_order_of(ck_db *db, const char *fo_id, char order_id[CK_ID_MAX], ck_error *err)
{
    return one_id(db, order_id, err, "SELECT order_id FROM fulfillment_orders WHERE id = ?", fo_id);
}

int ck_changes_next_seq(ck_db *db, const char *order_id, const char *kind, int64_t *seq, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT count(*) FROM order_changes WHERE order_id = ? AND kind = ?", "tt",
                       order_id, kind);
    if (rc < 0)
        return rc;
    *seq = 1 + (rc == 1 ? ck_col_int(st, 0) : 0);
    ck_db_done(st);
    return 0;
}

int ck_changes_next_capture_seq(ck_db *db, const char *order_id, const char *auth_id, int64_t *seq, ck_error *err)
{
    char like[CK_ID_MAX + 16];
    snprintf(like, sizeof(like), "%s:capture:%%", auth_id);
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT (SELECT count(*) FROM order_changes WHERE order_id = ? AND kind = 'capture')"
                       " + (SELECT count(*) FROM payments p WHERE p.authorization_id = ? AND p.idempotency_key LIKE ?"
                       " AND NOT EXISTS (SELECT 1 FROM order_changes c WHERE c.payment_id = p.id))",
                       "ttt", order_id, auth_id, like);
    if (rc < 0)
        return rc;
    *seq = 1 + (rc == 1 ? ck_col_int(st, 0) : 0);
    ck_db_done(st);
    return 0;
}

int ck_changes_finish(ck_db *db, const char *id, const char *status, const char *payment_id, const char *error_code,
                      int64_t now, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE order_changes SET status = ?, payment_id = ?, error_code = ?, updated_at = ?"
                         " WHERE id = ? AND status = 'Pending'",
                         "tttit", status, payment_id, error_code, now, id);
}

static void read_change_item(ck_stmt *st, void *elem)
{
    ck_change_item *x = elem;
    ck_col_copy(st, 0, x->item_id, sizeof(x->item_id));
    ck_col_copy(st, 1, x->product_id, sizeof(x->product_id));
    x->qty = ck_col_int(st, 2);
    x->amount = ck_col_int(st, 3);
}

int ck_changes_items(ck_db *db, const char *change_id, ck_change_item **out, size_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT c.order_item_id, i.product_id, c.quantity, c.amount FROM order_change_items c"
                         " JOIN order_items i ON i.id = c.order_item_id WHERE c.change_id = ? ORDER BY c.order_item_id",
                         "t", change_id);
    return rc < 0 ? rc : ck_view_rows(st, sizeof(**out), read_change_item, (void **)out, n, err);
}

static void read_id(ck_stmt *st, void *elem)
{
    ck_col_copy(st, 0, elem, CK_ID_MAX);
}

int ck_changes_stale(ck_db *db, int64_t before, size_t max, char (**ids)[CK_ID_MAX], size_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *ids = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id FROM order_changes WHERE status = 'Pending' AND lease_until < ? ORDER BY id"
                         " LIMIT ?",
                         "ii", before, (int64_t)max);
    return rc < 0 ? rc : ck_view_rows(st, CK_ID_MAX, read_id, (void **)ids, n, err);
}

/* ---------------------------------------------------------------- refunds */

int ck_refunds_insert(ck_db *db, const char *id, const char *order_id, const char *change_id, const char *payment_id,
                      int64_t amount, const char *status, const char *key, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO refunds (id, order_id, change_id, payment_id, amount, status, idempotency_key,"
                      " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      "ttttittii", id, order_id, change_id, payment_id, amount, status, key, now, now);
}

static void read_refund(ck_stmt *st, void *elem)
{
    ck_refund_row *x = elem;
    ck_col_copy(st, 0, x->id, sizeof(x->id));
    ck_col_copy(st, 1, x->payment_id, sizeof(x->payment_id));
    ck_col_copy(st, 2, x->gw_payment_id, sizeof(x->gw_payment_id));
    ck_col_copy(st, 3, x->status, sizeof(x->status));
    ck_col_copy(st, 4, x->key, sizeof(x->key));
    x->amount = ck_col_int(st, 5);
}

int ck_refunds_of_change(ck_db *db, const char *change_id, ck_refund_row **out, size_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT r.id, COALESCE(r.payment_id, ''), COALESCE(p.gateway_payment_id, ''), r.status,"
                         " COALESCE(r.idempotency_key, ''), r.amount FROM refunds r"
                         " LEFT JOIN payments p ON p.id = r.payment_id WHERE r.change_id = ? ORDER BY r.id",
                         "t", change_id);
    return rc < 0 ? rc : ck_view_rows(st, sizeof(**out), read_refund, (void **)out, n, err);
}

int ck_refunds_complete(ck_db *db, const char *id, const char *gw_refund_id, int64_t now, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE refunds SET status = 'Completed', gateway_refund_id = ?, updated_at = ?"
                         " WHERE id = ? AND status = 'Pending'",
                         "tit", gw_refund_id, now, id);
}

int ck_refunds_fail_change(ck_db *db, const char *change_id, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE refunds SET status = 'Failed', updated_at = ? WHERE change_id = ? AND status = 'Pending'",
                      "it", now, change_id);
}

static json_t *refund_json(ck_stmt *st)
{
    json_t *r = json_pack("{s:s, s:o, s:o}", "id", ck_col_text(st, 0), "amount", int_of(st, 1), "createdAt",
                          ck_json_time(ck_col_int(st, 3)));
    json_object_set_new(r, "paymentId", opt_str(st, 2));
    return r;
}

int ck_refunds_order_json(ck_db *db, const char *order_id, json_t *arr, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, amount, payment_id, created_at FROM refunds WHERE order_id = ?"
                         " AND status = 'Completed' ORDER BY id",
                         "t", order_id);
    return rc < 0 ? rc : ck_view_append(st, arr, refund_json, err);
}

int ck_refunds_change_json(ck_db *db, const char *change_id, json_t *arr, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, amount, payment_id, created_at FROM refunds WHERE change_id = ?"
                         " AND status = 'Completed' ORDER BY id",
                         "t", change_id);
    return rc < 0 ? rc : ck_view_append(st, arr, refund_json, err);
}

/* ---------------------------------------------------------------- applying a change */

int ck_ful_summary_add(ck_db *db, const char *item_id, char which, int64_t qty, int64_t amount, ck_error *err)
{
    const char *sql = which == 'f'   ? "UPDATE order_item_summaries SET quantity_fulfilled = quantity_fulfilled + ?,"
                                       " amount_fulfilled = amount_fulfilled + ? WHERE order_item_id = ?"
                      : which == 'c' ? "UPDATE order_item_summaries SET quantity_cancelled = quantity_cancelled + ?,"
                                       " amount_cancelled = amount_cancelled + ? WHERE order_item_id = ?"
                                     : "UPDATE order_item_summaries SET quantity_returned = quantity_returned + ?,"
                                       " amount_returned = amount_returned + ? WHERE order_item_id = ?";
    return ck_db_exec(db, NULL, err, sql, "iit", qty, amount, item_id);
}

int ck_ful_stock_return(ck_db *db, const char *product_id, int64_t qty, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE products SET stock = stock + ?, updated_at = ? WHERE id = ?", "iit", qty,
                      now, product_id);
}

int ck_ful_set_shipping_state(ck_db *db, const char *order_id, const char *state, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE orders SET shipping_state = ?, updated_at = ? WHERE id = ?", "tit", state,
                      now, order_id);
}

int ck_ful_set_order_status(ck_db *db, const char *order_id, const char *status, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE orders SET status = ?, updated_at = ? WHERE id = ?", "tit", status, now,
                      order_id);
}

int ck_ful_auth_add(ck_db *db, const char *auth_id, int64_t captured, int64_t voided, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE payment_authorizations SET captured_amount = captured_amount + ?,"
                      " voided_amount = voided_amount + ?,"
                      " status = CASE WHEN captured_amount + ? > 0 AND captured_amount + ? + voided_amount + ? >= amount"
                      " THEN 'Captured' WHEN captured_amount + ? > 0 THEN 'PartiallyCaptured' ELSE status END,"
                      " updated_at = ? WHERE id = ?",
                      "iiiiiiit", captured, voided, captured, captured, voided, captured, now, auth_id);
}

int ck_ful_auth_close(ck_db *db, const char *auth_id, int64_t now, ck_error *err)
{
    int rc = ck_db_changed(db, err,
                           "UPDATE payment_authorizations SET voided_amount = amount - captured_amount, void_pending = 1,"
                           " rest_released = 1, status = CASE WHEN captured_amount > 0 THEN 'Captured' ELSE status END,"
                           " updated_at = ? WHERE id = ? AND status IN ('Authorized', 'PartiallyCaptured', 'Captured')"
                           " AND amount > captured_amount AND rest_released = 0",
                           "it", now, auth_id);
    return rc;
}

int ck_ful_insert_payment(ck_db *db, const char *pay_id, const char *auth_id, const char *order_id, int64_t amount,
                          const char *gw_payment_id, const char *key, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO payments (id, authorization_id, order_id, amount, gateway_payment_id,"
                      " idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      "tttitti", pay_id, auth_id, order_id, amount, gw_payment_id, key, now);
}

static json_t *payment_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:o, s:o}", "id", ck_col_text(st, 0), "authorizationId", ck_col_text(st, 1),
                     "amount", int_of(st, 2), "createdAt", ck_json_time(ck_col_int(st, 3)));
}

int ck_ful_payment_json(ck_db *db, const char *pay_id, json_t **out, ck_error *err)
{
    return ck_view_find(db, "SELECT id, authorization_id, amount, created_at FROM payments WHERE id = ?", pay_id,
                        payment_json, out, err);
}

int ck_ful_ledger_insert(ck_db *db, const char *account_id, const char *contract_id, const char *kind,
                         int64_t amount, const char *entry, const char *order_id, const char *memo, ck_error *err)
{
    char id[CK_ID_MAX];
    ck_id_new(id, "led");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO balance_ledger (id, account_id, contract_id, kind, amount, entry, order_id,"
                      " memo, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      "ttttittti", id, account_id, contract_id, kind, amount, entry, order_id, memo, ck_now_ms());
}

int ck_ful_credit_used(ck_db *db, const char *account_id, int64_t *credit_used, ck_error *err)
{
    int rc = ck_db_changed(db, err, "UPDATE accounts SET updated_at = updated_at WHERE id = ?", "t", account_id);
    if (rc <= 0)
        return rc;
    ck_stmt *st = NULL;
    rc = ck_db_one(db, &st, err, "SELECT credit_used FROM accounts WHERE id = ?", "t", account_id);
    if (rc == 1) {
        *credit_used = ck_col_int(st, 0);
        ck_db_done(st);
    }
    return rc;
}

int ck_ful_credit_add(ck_db *db, const char *account_id, int64_t amount, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE accounts SET credit_used = credit_used + ?, updated_at = ? WHERE id = ?",
                      "iit", amount, now, account_id);
}

int ck_ful_prepaid_add(ck_db *db, const char *account_id, int64_t amount, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE accounts SET prepaid_balance = prepaid_balance + ?, updated_at = ? WHERE id = ?", "iit",
                      amount, now, account_id);
}

int ck_ful_contract_add(ck_db *db, const char *contract_id, int64_t amount, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE contracts SET remaining = remaining + ?, updated_at = ? WHERE id = ?",
                      "iit", amount, now, contract_id);
}
