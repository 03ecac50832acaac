/* orders.c: the orders repository (store/orders.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/orders.h"

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
        snprintf(status, 32, "%s", ck_col_text(st, 0));
    ck_db_done(st);
    return rc;
}
