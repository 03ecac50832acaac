/* catalog.c: the catalog repository (store/catalog.h): products. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "store/catalog.h"
#include "store/view.h"

#define PRODUCT_COLS "id, store_id, sku, name, unit_price, stock, min_quantity, price_tiers," \
                     " hazmat, export_controlled, weight_grams, active, created_at, updated_at"

static json_t *product_json(ck_stmt *st)
{
    json_t *tiers = json_loads(ck_col_text(st, 7), 0, NULL);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:b, s:b, s:I, s:b, s:o, s:o}",
                     "id", ck_col_text(st, 0), "storeId", ck_col_text(st, 1), "sku",
                     ck_col_text(st, 2), "name", ck_col_text(st, 3), "unitPrice",
                     (json_int_t)ck_col_int(st, 4), "stock", (json_int_t)ck_col_int(st, 5),
                     "minQuantity", (json_int_t)ck_col_int(st, 6), "priceTiers",
                     tiers ? tiers : json_array(), "hazmat", (int)ck_col_int(st, 8),
                     "exportControlled", (int)ck_col_int(st, 9), "weightGrams",
                     (json_int_t)ck_col_int(st, 10), "active", (int)ck_col_int(st, 11),
                     "createdAt", ck_json_time(ck_col_int(st, 12)), "updatedAt",
                     ck_json_time(ck_col_int(st, 13)));
}

void ck_catalog_product_clear(ck_product *p)
{
    free(p->price_tiers);
    p->price_tiers = NULL;
}

/* Fills out from a row of PRODUCT_COLS and finishes st: 1, or <0 when out of memory. */
static int product_from_row(ck_stmt *st, ck_product *out, ck_error *err)
{
    ck_col_copy(st, 0, out->id, sizeof(out->id));
    ck_col_copy(st, 1, out->store_id, sizeof(out->store_id));
    ck_col_copy(st, 2, out->sku, sizeof(out->sku));
    ck_col_copy(st, 3, out->name, sizeof(out->name));
    out->unit_price = ck_col_int(st, 4);
    out->stock = ck_col_int(st, 5);
    out->min_quantity = ck_col_int(st, 6);
    free(out->price_tiers);
    out->price_tiers = strdup(ck_col_text(st, 7));
    out->hazmat = (int)ck_col_int(st, 8);
    out->export_controlled = (int)ck_col_int(st, 9);
    out->weight_grams = ck_col_int(st, 10);
    out->active = (int)ck_col_int(st, 11);
    ck_db_done(st);
    return out->price_tiers ? 1 : ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
}

int ck_catalog_get_product(ck_db *db, const char *id, ck_product *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT " PRODUCT_COLS " FROM products WHERE id = ?", "t", id);
    return rc == 1 ? product_from_row(st, out, err) : rc;
}

int ck_catalog_get_product_for_update(ck_db *db, const char *id, ck_product *out, ck_error *err)
{
    int rc = ck_db_changed(db, err, "UPDATE products SET updated_at = updated_at WHERE id = ?", "t", id);
    return rc <= 0 ? rc : ck_catalog_get_product(db, id, out, err);
}

int ck_catalog_find_product(ck_db *db, const char *store_id, const char *product_id, const char *sku,
                            ck_product *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = product_id ? ck_db_one(db, &st, err, "SELECT " PRODUCT_COLS " FROM products WHERE id = ? AND store_id = ?",
                                    "tt", product_id, store_id)
                        : ck_db_one(db, &st, err, "SELECT " PRODUCT_COLS " FROM products WHERE sku = ? AND store_id = ?",
                                    "tt", sku, store_id);
    return rc == 1 ? product_from_row(st, out, err) : rc;
}

/* A unique violation on a product is its (store_id, sku). */
static int sku_taken(int rc, const ck_product *p, ck_error *err)
{
    if (rc != CK_EDUP)
        return rc;
    return ck_fail(err, CK_ECONFLICT, "SKU_ALREADY_EXISTS", "sku", "this store already has a product with sku '%s'",
                   p->sku);
}

int ck_catalog_insert_product(ck_db *db, const char *store_id, ck_product *p, ck_error *err)
{
    int64_t now = ck_now_ms();
    ck_id_new(p->id, "prod");
    int rc = ck_db_exec(db, NULL, err,
                        "INSERT INTO products (" PRODUCT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        "ttttiiitbbibii", p->id, store_id, p->sku, p->name, p->unit_price, p->stock,
                        p->min_quantity, p->price_tiers ? p->price_tiers : "[]", p->hazmat, p->export_controlled,
                        p->weight_grams, p->active, now, now);
    return sku_taken(rc, p, err);
}

int ck_catalog_update_product(ck_db *db, const ck_product *p, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE products SET sku = ?, name = ?, unit_price = ?, stock = ?, min_quantity = ?,"
                        " price_tiers = ?, hazmat = ?, export_controlled = ?, weight_grams = ?, active = ?,"
                        " updated_at = ? WHERE id = ?",
                        "ttiiitbbibit", p->sku, p->name, p->unit_price, p->stock, p->min_quantity,
                        p->price_tiers ? p->price_tiers : "[]", p->hazmat, p->export_controlled, p->weight_grams,
                        p->active, ck_now_ms(), p->id);
    return rc < 0 ? sku_taken(rc, p, err) : changed > 0;
}

int ck_catalog_product_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    return ck_view_one(db, "SELECT " PRODUCT_COLS " FROM products WHERE id = ?", id, product_json, "product", out,
                       err);
}

int ck_catalog_list_products(ck_db *db, const char *store_id, const char *after, int64_t limit, json_t **items,
                             char last_id[CK_ID_MAX], ck_error *err)
{
    return ck_view_list(db, product_json, items, last_id, err,
                        "SELECT " PRODUCT_COLS " FROM products WHERE store_id = ? AND id > ? ORDER BY id LIMIT ?",
                        "tti", store_id, after, limit);
}

int ck_catalog_take_stock(ck_db *db, const char *product_id, int64_t quantity, int64_t now, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE products SET stock = stock - ?, updated_at = ? WHERE id = ? AND stock >= ?", "iiti",
                        quantity, now, product_id, quantity);
    return rc < 0 ? rc : changed == 1;
}
