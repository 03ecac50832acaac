/* orders.c: the orders repository (store/orders.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/orders.h"
#include "core/json.h"
#include "store/view.h"

/* s1b: an account's page of order ids, and the /metrics count. */
int ck_orders_list_ids_by_account(ck_db *db, const char *account_id, const char *after, int64_t limit,
                                  char (*ids)[CK_ID_MAX], int64_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err, "SELECT id FROM orders WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?",
                         "tti", account_id, after, limit);
    if (rc < 0)
        return rc;
    while (*n < limit && (rc = ck_db_next(st, err)) == 1)
        ck_col_copy(st, 0, ids[(*n)++], CK_ID_MAX);
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

int ck_orders_count(ck_db *db, int64_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_one(db, &st, err, "SELECT count(*) FROM orders", "");
    if (rc == 1)
        *n = ck_col_int(st, 0);
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

int ck_orders_count_since(ck_db *db, int64_t since, int64_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *n = 0;
    int rc = ck_db_one(db, &st, err, "SELECT count(*) FROM orders WHERE created_at >= ?", "i", since);
    if (rc == 1)
        *n = ck_col_int(st, 0);
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}

#define S2_ORDER_COLS                                                                                          \
    "id, order_number, cart_id, session_id, store_id, account_id, buyer_id, status, currency, payment_method,"  \
    " po_number, subtotal, adjustments, shipping, tax, grand_total, shipping_address, created_at, updated_at"

static json_t *s2_int_of(ck_stmt *st, int col)
{
    return json_integer((json_int_t)ck_col_int(st, col));
}

static json_t *s2_opt_str(ck_stmt *st, int col)
{
    const char *s = ck_col_text_or_null(st, col);
    return s ? json_string(s) : json_null();
}

static json_t *s2_parsed_or_null(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_null();
}

int ck_orders_view_head(ck_db *db, const char *id, json_t **out, char session_id[CK_ID_MAX], int64_t *created_at,
                        int64_t *updated_at, ck_error *err)
{
    *out = NULL;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT " S2_ORDER_COLS " FROM orders WHERE id = ?", "t", id);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 3, session_id, CK_ID_MAX);
    *created_at = ck_col_int(st, 17);
    *updated_at = ck_col_int(st, 18);
    json_t *totals = json_pack("{s:o, s:o, s:o, s:o, s:o}", "subtotal", s2_int_of(st, 11), "adjustments",
                               s2_int_of(st, 12), "shipping", s2_int_of(st, 13), "tax", s2_int_of(st, 14),
                               "grandTotal", s2_int_of(st, 15));
    *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", ck_col_text(st, 0),
                     "orderNumber", ck_col_text(st, 1), "cartId", ck_col_text(st, 2), "sessionId",
                     ck_col_text(st, 3), "storeId", ck_col_text(st, 4), "accountId", ck_col_text(st, 5), "buyerId",
                     ck_col_text(st, 6), "status", ck_col_text(st, 7), "currency", ck_col_text(st, 8),
                     "paymentMethod", ck_col_text(st, 9), "poNumber", s2_opt_str(st, 10), "totals", totals,
                     "shippingAddress", s2_parsed_or_null(ck_col_text_or_null(st, 16)));
    ck_db_done(st);
    return 1;
}

static json_t *s2_item_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", ck_col_text(st, 0), "productId",
                     ck_col_text(st, 1), "sku", ck_col_text(st, 2), "quantity", s2_int_of(st, 3), "unitPrice",
                     s2_int_of(st, 4), "adjustment", s2_int_of(st, 5), "tax", s2_int_of(st, 6), "total",
                     s2_int_of(st, 7));
}

static json_t *s2_item_summary_json(ck_stmt *st)
{
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "orderItemId", ck_col_text(st, 0), "quantityOrdered",
                     s2_int_of(st, 1), "quantityFulfilled", s2_int_of(st, 2), "quantityCancelled", s2_int_of(st, 3),
                     "quantityReturned", s2_int_of(st, 4));
}

int ck_orders_items_json(ck_db *db, const char *order_id, json_t *items, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, product_id, sku, quantity, unit_price, adjustment, tax, total"
                         " FROM order_items WHERE order_id = ? ORDER BY id",
                         "t", order_id);
    return rc < 0 ? rc : ck_view_append(st, items, s2_item_json, err);
}

int ck_orders_summary_json(ck_db *db, const char *order_id, json_t **out, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT id FROM order_summaries WHERE order_id = ?", "t", order_id);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        *out = json_null();
        return 0;
    }
    char summary_id[CK_ID_MAX];
    ck_col_copy(st, 0, summary_id, sizeof(summary_id));
    ck_db_done(st);
    json_t *items = json_array();
    *out = json_pack("{s:s, s:o}", "id", summary_id, "items", items);
    rc = ck_db_query(db, &st, err,
                     "SELECT order_item_id, quantity_ordered, quantity_fulfilled, quantity_cancelled,"
                     " quantity_returned FROM order_item_summaries WHERE summary_id = ?"
                     " ORDER BY order_item_id, id",
                     "t", summary_id);
    return rc < 0 ? rc : ck_view_append(st, items, s2_item_summary_json, err);
}

int ck_orders_account_of(ck_db *db, const char *id, char account_id[CK_ID_MAX], ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT account_id FROM orders WHERE id = ?", "t", id);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, account_id, CK_ID_MAX);
    ck_db_done(st);
    return 1;
}

int ck_orders_account_given_to(ck_db *db, const char *id, const char *user_id, ck_error *err)
{
    return ck_db_exists(db, err,
                        "SELECT 1 FROM orders o JOIN user_accounts ua ON ua.account_id = o.account_id"
                        " WHERE o.id = ? AND ua.user_id = ?",
                        "tt", id, user_id);
}

int ck_orders_activate_pending(ck_db *db, const char *id, int64_t now, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE orders SET status = 'Activated', updated_at = ? WHERE id = ? AND status = 'PendingApproval'",
                         "it", now, id);
}

int ck_orders_po_used(ck_db *db, const char *account_id, const char *po_number, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM orders WHERE account_id = ? AND po_number = ?", "tt", account_id,
                       po_number);
    ck_db_done(st);
    return rc;
}

int ck_orders_insert(ck_db *db, const ck_order_new *o, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO orders (id, order_number, cart_id, session_id, store_id, account_id, buyer_id, status,"
                      " currency, payment_method, po_number, subtotal, adjustments, shipping, tax, grand_total,"
                      " shipping_address, shipping_method_id, created_at, updated_at)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      "tttttttttttiiiiittii", o->id, o->number, o->cart_id, o->session_id, o->store_id, o->account_id,
                      o->buyer_id, o->status, o->currency, o->payment_method, o->po_number, o->totals.subtotal,
                      o->totals.adjustments, o->totals.shipping, o->totals.tax, o->totals.grand_total,
                      o->shipping_address, o->shipping_method_id, o->now, o->now);
}

int ck_orders_insert_lines(ck_db *db, const char *order_id, const char *summary_id, const ck_line *lines, size_t n,
                           int64_t now, ck_error *err)
{
    int rc = ck_db_exec(db, NULL, err, "INSERT INTO order_summaries (id, order_id, created_at) VALUES (?, ?, ?)",
                        "tti", summary_id, order_id, now);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const ck_line *l = &lines[i];
        char item_id[CK_ID_MAX], ois_id[CK_ID_MAX];
        ck_id_new(item_id, "oitem");
        ck_id_new(ois_id, "ois");
        int64_t net = l->sales_price * l->quantity + l->adjustment;
        rc = ck_db_exec(db, NULL, err,
                        "INSERT INTO order_items (id, order_id, product_id, sku, quantity, unit_price, adjustment, tax,"
                        " total, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        "ttttiiiiii", item_id, order_id, l->product_id, l->sku, l->quantity, l->sales_price,
                        l->adjustment, l->tax, net + l->tax, now);
        if (rc == 0)
            rc = ck_db_exec(db, NULL, err,
                            "INSERT INTO order_item_summaries (id, summary_id, order_item_id, quantity_ordered)"
                            " VALUES (?, ?, ?, ?)",
                            "ttti", ois_id, summary_id, item_id, l->quantity);
    }
    return rc;
}

int ck_orders_status(ck_db *db, const char *order_id, char status[32], ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT status FROM orders WHERE id = ?", "t", order_id);
    if (rc == 1)
        ck_col_copy(st, 0, status, 32);
    ck_db_done(st);
    return rc;
}
