/* carts.c: the carts repository (store/carts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/jsonin.h"
#include "store/carts.h"
#include "store/catalog.h"
#include "store/view.h"

/* ---- carts, their items and validation outputs as the API reads and edits them ---- */

#define ITEM_COLS "id, product_id, sku, quantity, list_price, sales_price, adjustment, tax, total"

static json_t *item_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "id", ck_col_text(st, 0), "productId",
                     ck_col_text(st, 1), "sku", ck_col_text(st, 2), "quantity", (json_int_t)ck_col_int(st, 3),
                     "listPrice", (json_int_t)ck_col_int(st, 4), "salesPrice", (json_int_t)ck_col_int(st, 5),
                     "adjustment", (json_int_t)ck_col_int(st, 6), "tax", (json_int_t)ck_col_int(st, 7), "total",
                     (json_int_t)ck_col_int(st, 8));
}

int ck_carts_insert(ck_db *db, const char *store_id, const char *account_id, const char *owner_id,
                    const char *currency, char id_out[CK_ID_MAX], ck_error *err)
{
    int64_t now = ck_now_ms();
    ck_id_new(id_out, "cart");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO carts (id, store_id, account_id, owner_id, status, currency, created_at, updated_at)"
                      " VALUES (?, ?, ?, ?, 'Active', ?, ?, ?)",
                      "tttttii", id_out, store_id, account_id, owner_id, currency, now, now);
}

int ck_carts_json(ck_db *db, const char *cart_id, json_t **out, ck_error *err)
{
    *out = NULL;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, store_id, account_id, owner_id, status, currency, subtotal, adjustments,"
                       " shipping, tax, grand_total, created_at, updated_at FROM carts WHERE id = ?",
                       "t", cart_id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "cart", cart_id);
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
    json_t *items = NULL;
    char last[CK_ID_MAX];
    if ((rc = ck_db_query(db, &st, err, "SELECT " ITEM_COLS " FROM cart_items WHERE cart_id = ? ORDER BY id", "t",
                          cart_id)) < 0 ||
        (rc = ck_view_page(st, item_json, &items, last, err)) < 0) {
        json_decref(cart);
        return rc;
    }
    json_object_set_new(cart, "items", items);
    *out = cart;
    return 0;
}

typedef struct list_args {
    const char *store_id, *account_id, *buyer_id, *after;
    int64_t limit;
    json_t *items;
    char *last_id;
} list_args;

/* Reads the page's ids first, then each cart: no cursor stays open while
 * a cart's own queries run. */
static int list_tx(ck_db *db, void *arg, ck_error *err)
{
    list_args *a = arg;
    json_decref(a->items); /* an earlier attempt's, when ck_db_tx runs this again */
    a->items = NULL;
    char(*ids)[CK_ID_MAX] = calloc((size_t)a->limit, sizeof(*ids));
    json_t *items = json_array();
    int64_t n = 0;
    ck_stmt *st = NULL;
    int rc = ids && items ? 0 : ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    if (rc == 0)
        rc = ck_db_query(db, &st, err,
                         "SELECT id FROM carts WHERE store_id = ? AND (? = '' OR account_id = ?)"
                         " AND (? = '' OR account_id IN (SELECT account_id FROM user_accounts WHERE user_id = ?))"
                         " AND id > ? ORDER BY id LIMIT ?",
                         "tttttti", a->store_id, a->account_id ? a->account_id : "",
                         a->account_id ? a->account_id : "", a->buyer_id ? a->buyer_id : "",
                         a->buyer_id ? a->buyer_id : "", a->after, a->limit);
    while (rc == 0 && n < a->limit && (rc = ck_db_next(st, err)) == 1) {
        ck_col_copy(st, 0, ids[n++], CK_ID_MAX);
        rc = 0;
    }
    ck_db_done(st);
    for (int64_t i = 0; rc >= 0 && i < n; i++) {
        json_t *j = NULL;
        if ((rc = ck_carts_json(db, ids[i], &j, err)) == 0)
            json_array_append_new(items, j);
    }
    if (rc >= 0) {
        snprintf(a->last_id, CK_ID_MAX, "%s", n ? ids[n - 1] : "");
        a->items = items;
        items = NULL;
    }
    json_decref(items);
    free(ids);
    return rc < 0 ? rc : 0;
}

int ck_carts_list(ck_db *db, const char *store_id, const char *account_id, const char *buyer_id,
                  const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX], ck_error *err)
{
    list_args a = {store_id, account_id, buyer_id, after, limit, NULL, last_id};
    int rc = ck_db_tx(db, 0, list_tx, &a, err);
    if (rc < 0) {
        json_decref(a.items); /* made by an attempt whose commit failed */
        a.items = NULL;
    }
    *items = a.items;
    return rc < 0 ? rc : 0;
}

/* A line's list total, unit_price x quantity: 0 with *total, or 400 on
 * quantity when it would pass CK_MONEY_MAX (checked, never wrapped). */
static int line_total(int64_t unit_price, int64_t quantity, int64_t *total, ck_error *err)
{
    if (__builtin_mul_overflow(unit_price, quantity, total) || *total > CK_MONEY_MAX)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "quantity",
                       "%lld units at %lld would cost more than one line may hold (%lld minor units)",
                       (long long)quantity, (long long)unit_price, (long long)CK_MONEY_MAX);
    return 0;
}

/* Adds quantity to the cart's line of product p, or makes a new line (at
 * most CK_CART_LINES_MAX lines; field names the product's input). */
static int add_line(ck_db *db, const char *cart_id, const ck_product *p, int64_t quantity, const char *field,
                    char item_id_out[CK_ID_MAX], ck_error *err)
{
    ck_stmt *st = NULL;
    int64_t total = 0;
    int rc = ck_db_one(db, &st, err, "SELECT id, quantity FROM cart_items WHERE cart_id = ? AND product_id = ?",
                       "tt", cart_id, p->id);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        int64_t lines = 0;
        if ((rc = ck_db_one(db, &st, err, "SELECT count(*) FROM cart_items WHERE cart_id = ?", "t", cart_id)) < 0)
            return rc;
        lines = rc == 1 ? ck_col_int(st, 0) : 0;
        ck_db_done(st);
        if (lines >= CK_CART_LINES_MAX)
            return ck_fail(err, CK_EINVALID, "TOO_MANY_LINES", field, "a cart holds at most %d lines",
                           CK_CART_LINES_MAX);
        if ((rc = line_total(p->unit_price, quantity, &total, err)) < 0)
            return rc;
        ck_id_new(item_id_out, "item");
        return ck_db_exec(db, NULL, err,
                          "INSERT INTO cart_items (id, cart_id, product_id, sku, quantity, list_price, sales_price,"
                          " total, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          "ttttiiiii", item_id_out, cart_id, p->id, p->sku, quantity, p->unit_price, p->unit_price,
                          total, ck_now_ms());
    }
    ck_col_copy(st, 0, item_id_out, CK_ID_MAX);
    int64_t total_qty = ck_col_int(st, 1) + quantity;
    ck_db_done(st);
    if (total_qty > CK_QTY_MAX)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "quantity", "the line would hold %lld units; at most %d",
                       (long long)total_qty, CK_QTY_MAX);
    if ((rc = line_total(p->unit_price, total_qty, &total, err)) < 0)
        return rc;
    return ck_db_exec(db, NULL, err,
                      "UPDATE cart_items SET quantity = ?, list_price = ?, sales_price = ?, adjustment = 0,"
                      " tax = 0, total = ? WHERE id = ?",
                      "iiiit", total_qty, p->unit_price, p->unit_price, total, item_id_out);
}

int ck_carts_add_item(ck_db *db, const char *cart_id, const char *store_id, const char *product_id,
                      const char *sku, int64_t quantity, char item_id_out[CK_ID_MAX], ck_error *err)
{
    const char *field = product_id ? "productId" : "sku";
    ck_product p = {0};
    int rc = ck_catalog_find_product(db, store_id, product_id, sku, &p, err);
    if (rc == 0)
        rc = ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", field, "no product %s in the cart's store",
                     product_id ? product_id : sku);
    else if (rc == 1 && !p.active)
        rc = ck_fail(err, CK_EINVALID, "PRODUCT_INACTIVE", field, "product %s is not for sale", p.id);
    else if (rc == 1)
        rc = add_line(db, cart_id, &p, quantity, field, item_id_out, err);
    ck_catalog_product_clear(&p);
    return rc;
}

int ck_carts_set_item_quantity(ck_db *db, const char *cart_id, const char *item_id, int64_t quantity,
                               ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT list_price FROM cart_items WHERE id = ? AND cart_id = ?", "tt",
                       item_id, cart_id);
    if (rc <= 0)
        return rc;
    int64_t list_price = ck_col_int(st, 0), total = 0;
    ck_db_done(st);
    if ((rc = line_total(list_price, quantity, &total, err)) < 0)
        return rc;
    int64_t changed = 0;
    rc = ck_db_exec(db, &changed, err,
                    "UPDATE cart_items SET quantity = ?, sales_price = list_price, adjustment = 0, tax = 0,"
                    " total = ? WHERE id = ? AND cart_id = ?",
                    "iitt", quantity, total, item_id, cart_id);
    return rc < 0 ? rc : changed > 0;
}

int ck_carts_delete_item(ck_db *db, const char *cart_id, const char *item_id, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err, "DELETE FROM cart_items WHERE id = ? AND cart_id = ?", "tt", item_id,
                        cart_id);
    return rc < 0 ? rc : changed > 0;
}

int ck_carts_item_json(ck_db *db, const char *item_id, json_t **out, ck_error *err)
{
    return ck_view_one(db, "SELECT " ITEM_COLS " FROM cart_items WHERE id = ?", item_id, item_json, "item", out,
                       err);
}

#define CVO_COLS "id, related_entity_id, type, level, message, created_at"

static json_t *cvo_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", ck_col_text(st, 0), "relatedEntityId",
                     ck_col_text(st, 1), "type", ck_col_text(st, 2), "level", ck_col_text(st, 3), "message",
                     ck_col_text(st, 4), "createdAt", ck_json_time(ck_col_int(st, 5)));
}

int ck_carts_insert_validation_output(ck_db *db, const char *cart_id, const char *related_entity_id,
                                      const char *type, const char *level, const char *message, int64_t now,
                                      char id_out[CK_ID_MAX], ck_error *err)
{
    ck_id_new(id_out, "cvo");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO cart_validation_outputs (id, cart_id, related_entity_id, type, level, message,"
                      " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      "tttttti", id_out, cart_id, related_entity_id, type, level, message, now);
}

int ck_carts_validation_output_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    return ck_view_one(db, "SELECT " CVO_COLS " FROM cart_validation_outputs WHERE id = ?", id, cvo_json,
                       "validation output", out, err);
}

int ck_carts_list_validation_outputs(ck_db *db, const char *cart_id, const char *after, int64_t limit,
                                     json_t **items, char last_id[CK_ID_MAX], ck_error *err)
{
    return ck_view_list(db, cvo_json, items, last_id, err,
                        "SELECT " CVO_COLS " FROM cart_validation_outputs WHERE cart_id = ? AND id > ?"
                        " ORDER BY id LIMIT ?",
                        "tti", cart_id, after, limit);
}

int ck_carts_get(ck_db *db, const char *id, ck_cart_row *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT id, store_id, account_id, owner_id, status, currency FROM carts WHERE id = ?",
                       "t", id);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, out->id, sizeof(out->id));
    ck_col_copy(st, 1, out->store_id, sizeof(out->store_id));
    ck_col_copy(st, 2, out->account_id, sizeof(out->account_id));
    ck_col_copy(st, 3, out->owner_id, sizeof(out->owner_id));
    ck_col_copy(st, 4, out->status, sizeof(out->status));
    ck_col_copy(st, 5, out->currency, sizeof(out->currency));
    ck_db_done(st);
    return 1;
}

int ck_carts_set_status(ck_db *db, const char *id, const char *from, const char *to, int64_t now, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE carts SET status = ?, version = version + 1, updated_at = ? WHERE id = ? AND status = ?",
                         "titt", to, now, id, from);
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
    /* Each line is at most CK_MONEY_MAX and a cart at most CK_CART_LINES_MAX
     * lines, so the sums cannot pass int64 (a cart over CK_MONEY_MAX is kept,
     * and its checkout fails at pricing with TOTAL_TOO_LARGE). */
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
