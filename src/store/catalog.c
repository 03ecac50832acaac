/* catalog.c: the catalog repository (store/catalog.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog.h"

void ck_catalog_product_clear(ck_product *p)
{
    free(p->price_tiers);
    p->price_tiers = NULL;
}

int ck_catalog_insert_product(ck_db *db, const char *store_id, ck_product *p, ck_error *err)
{
    int64_t now = ck_now_ms();
    ck_id_new(p->id, "prod");
    int rc = ck_db_exec(db, NULL, err,
                        "INSERT INTO products (id, store_id, sku, name, unit_price, stock, min_quantity, price_tiers,"
                        " hazmat, export_controlled, weight_grams, active, created_at, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        "ttttiiitbbibii", p->id, store_id, p->sku, p->name, p->unit_price, p->stock, p->min_quantity,
                        p->price_tiers ? p->price_tiers : "[]", p->hazmat, p->export_controlled, p->weight_grams,
                        p->active, now, now);
    if (rc == CK_EDUP)
        return ck_fail(err, CK_ECONFLICT, "SKU_ALREADY_EXISTS", "sku", "the store has a product with sku %s", p->sku);
    return rc;
}
