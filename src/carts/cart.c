/* cart.c: cart status transitions, totals and the JSON view. */
#include <string.h>

#include "core/json.h"
#include "core/jsonin.h"
#include "core/context.h"
#include "carts/cart.h"

static const char *const status_names[] = {"Active", "Checkout", "Closed"};

const char *ck_cart_status_name(ck_cart_status s)
{
    return status_names[s];
}

static ck_cart_status status_from(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(status_names[i], s) == 0)
            return (ck_cart_status)i;
    return CK_CART_CLOSED; /* unknown text: treat as not editable */
}

int ck_cart_load(ck_db *db, const char *id, ck_cart *out, ck_error *err)
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
    out->status = status_from(ck_col_text(st, 4));
    snprintf(out->currency, sizeof(out->currency), "%s", ck_col_text(st, 5));
    ck_db_done(st);
    return 1;
}

static int allowed(ck_cart_status from, ck_cart_status to)
{
    switch (from) {
    case CK_CART_ACTIVE: return to == CK_CART_CHECKOUT;
    case CK_CART_CHECKOUT: return to == CK_CART_ACTIVE || to == CK_CART_CLOSED || to == CK_CART_CHECKOUT;
    default: return 0;
    }
}

int ck_cart_set_status(ck_db *db, const char *cart_id, ck_cart_status to, ck_error *err)
{
    ck_cart c;
    int rc = ck_cart_load(db, cart_id, &c, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "cart", cart_id);
    if (!allowed(c.status, to))
        return ck_fail(err, CK_ECONFLICT, "INVALID_CART_STATUS", NULL, "a %s cart cannot become %s",
                       ck_cart_status_name(c.status), ck_cart_status_name(to));
    if (c.status == to)
        return 0;
    int64_t changed = 0;
    rc = ck_db_exec(db, &changed, err,
                    "UPDATE carts SET status = ?, version = version + 1, updated_at = ? WHERE id = ? AND status = ?",
                    "titt", ck_cart_status_name(to), ck_now_ms(), cart_id, ck_cart_status_name(c.status));
    if (rc < 0)
        return rc;
    if (changed != 1) {
        /* Another transaction moved it first (PostgreSQL re-checks the row
         * after waiting for it): reaching the same status is success. */
        ck_cart now;
        if ((rc = ck_cart_load(db, cart_id, &now, err)) < 0)
            return rc;
        if (rc == 1 && now.status == to)
            return 0;
        return ck_fail(err, CK_ECONFLICT, "INVALID_CART_STATUS", NULL, "the cart's status changed meanwhile");
    }
    return 0;
}

int ck_cart_hold_editable(ck_db *db, const char *cart_id, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err, "UPDATE carts SET version = version WHERE id = ? AND status = 'Active'",
                        "t", cart_id);
    return rc < 0 ? rc : changed == 1;
}

int ck_cart_recompute(ck_db *db, const char *cart_id, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE carts SET subtotal = (SELECT COALESCE(SUM(list_price * quantity), 0)"
                      " FROM cart_items WHERE cart_id = carts.id), adjustments = 0, shipping = 0, tax = 0,"
                      " grand_total = (SELECT COALESCE(SUM(list_price * quantity), 0) FROM cart_items"
                      " WHERE cart_id = carts.id), version = version + 1, updated_at = ? WHERE id = ?",
                      "it", ck_now_ms(), cart_id);
}

json_t *ck_cart_item_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "id", ck_col_text(st, 0), "productId",
                     ck_col_text(st, 1), "sku", ck_col_text(st, 2), "quantity", (json_int_t)ck_col_int(st, 3),
                     "listPrice", (json_int_t)ck_col_int(st, 4), "salesPrice", (json_int_t)ck_col_int(st, 5),
                     "adjustment", (json_int_t)ck_col_int(st, 6), "tax", (json_int_t)ck_col_int(st, 7), "total",
                     (json_int_t)ck_col_int(st, 8));
}

int ck_cart_json(ck_db *db, const char *cart_id, json_t **out, ck_error *err)
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
    json_t *items = json_array();
    rc = ck_db_query(db, &st, err, "SELECT " CK_CART_ITEM_COLS " FROM cart_items WHERE cart_id = ? ORDER BY id",
                     "t", cart_id);
    if (rc == 0) {
        while ((rc = ck_db_next(st, err)) == 1)
            json_array_append_new(items, ck_cart_item_json(st));
        ck_db_done(st);
    }
    json_object_set_new(cart, "items", items);
    if (rc < 0) {
        json_decref(cart);
        return rc;
    }
    *out = cart;
    return 0;
}
