/* carts.c: the carts repository (store/carts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/carts.h"

#include "core/json.h"

int ck_carts_get(ck_db *db, const char *id, ck_cart_row *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, store_id, account_id, owner_id, status, currency FROM carts WHERE id = ?",
                       "t", id);
    if (rc <= 0)
        return rc;
    snprintf(out->id, sizeof(out->id), "%s", ck_col_text(st, 0));
    snprintf(out->store_id, sizeof(out->store_id), "%s", ck_col_text(st, 1));
    snprintf(out->account_id, sizeof(out->account_id), "%s", ck_col_text(st, 2));
    snprintf(out->owner_id, sizeof(out->owner_id), "%s", ck_col_text(st, 3));
    snprintf(out->status, sizeof(out->status), "%s", ck_col_text(st, 4));
    snprintf(out->currency, sizeof(out->currency), "%s", ck_col_text(st, 5));
    ck_db_done(st);
    return 1;
}

int ck_carts_set_status(ck_db *db, const char *id, const char *from, const char *to, int64_t now, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE carts SET status = ?, version = version + 1, updated_at = ? WHERE id = ? AND status = ?",
                        "titt", to, now, id, from);
    return rc < 0 ? rc : (int)changed;
}

int ck_carts_hold_active(ck_db *db, const char *id, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err, "UPDATE carts SET version = version WHERE id = ? AND status = 'Active'",
                        "t", id);
    return rc < 0 ? rc : (int)changed;
}

int ck_carts_recompute(ck_db *db, const char *id, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE carts SET subtotal = (SELECT COALESCE(SUM(list_price * quantity), 0)"
                      " FROM cart_items WHERE cart_id = carts.id), adjustments = 0, shipping = 0, tax = 0,"
                      " grand_total = (SELECT COALESCE(SUM(list_price * quantity), 0) FROM cart_items"
                      " WHERE cart_id = carts.id), version = version + 1, updated_at = ? WHERE id = ?",
                      "it", now, id);
}

int ck_carts_delete_cart_errors(ck_db *db, const char *id, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "DELETE FROM cart_validation_outputs WHERE cart_id = ? AND related_entity_id = ? AND level = 'Error'",
                      "tt", id, id);
}

json_t *ck_carts_item_row_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "id", ck_col_text(st, 0), "productId",
                     ck_col_text(st, 1), "sku", ck_col_text(st, 2), "quantity", (json_int_t)ck_col_int(st, 3),
                     "listPrice", (json_int_t)ck_col_int(st, 4), "salesPrice", (json_int_t)ck_col_int(st, 5),
                     "adjustment", (json_int_t)ck_col_int(st, 6), "tax", (json_int_t)ck_col_int(st, 7), "total",
                     (json_int_t)ck_col_int(st, 8));
}

int ck_carts_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    *out = NULL;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, store_id, account_id, owner_id, status, currency, subtotal, adjustments,"
                       " shipping, tax, grand_total, created_at, updated_at FROM carts WHERE id = ?",
                       "t", id);
    if (rc <= 0)
        return rc;
    json_t *totals = json_pack("{s:I, s:I, s:I, s:I, s:I}", "subtotal", (json_int_t)ck_col_int(st, 6),
                               "adjustments", (json_int_t)ck_col_int(st, 7), "shipping",
                               (json_int_t)ck_col_int(st, 8), "tax", (json_int_t)ck_col_int(st, 9),
                               "grandTotal", (json_int_t)ck_col_int(st, 10));
    json_t *cart = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", ck_col_text(st, 0), "storeId",
                             ck_col_text(st, 1), "accountId", ck_col_text(st, 2), "ownerId", ck_col_text(st, 3),
                             "status", ck_col_text(st, 4), "currency", ck_col_text(st, 5), "totals", totals,
                             "createdAt", ck_json_time(ck_col_int(st, 11)), "updatedAt",
                             ck_json_time(ck_col_int(st, 12)));
    ck_db_done(st);
    json_t *items = json_array();
    rc = ck_db_query(db, &st, err, "SELECT " CK_CART_ITEM_COLS " FROM cart_items WHERE cart_id = ? ORDER BY id",
                     "t", id);
    if (rc == 0) {
        while ((rc = ck_db_next(st, err)) == 1)
            json_array_append_new(items, ck_carts_item_row_json(st));
        ck_db_done(st);
    }
    json_object_set_new(cart, "items", items);
    if (rc < 0) {
        json_decref(cart);
        return rc;
    }
    *out = cart;
    return 1;
}
