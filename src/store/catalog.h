/* catalog.h: the catalog repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_CATALOG_H
#define CK_STORE_CATALOG_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

#include "core/jsonin.h" /* CK_NAME_MAX */

#define CK_SKU_MAX 64

/* A product's stored fields. price_tiers is the canonical JSON text of its
 * tiers ([{"minQuantity","unitPrice"}...] sorted by minQuantity), malloc'd
 * and owned by the struct: ck_catalog_product_clear frees it. */
typedef struct ck_product {
    char id[CK_ID_MAX];
    char store_id[CK_ID_MAX];
    char sku[CK_SKU_MAX + 1];
    char name[CK_NAME_MAX + 1];
    int64_t unit_price, stock, min_quantity, weight_grams;
    int hazmat, export_controlled, active;
    char *price_tiers;
} ck_product;

void ck_catalog_product_clear(ck_product *p);

/* Inserts p as a product of store_id (p->store_id is not read; a NULL
 * price_tiers is stored as []); its new id goes to p->id. 0; CK_ECONFLICT
 * (reason SKU_ALREADY_EXISTS, field sku) when the store has a product with
 * that sku; or <0. */
int ck_catalog_insert_product(ck_db *db, const char *store_id, ck_product *p, ck_error *err);

#endif
