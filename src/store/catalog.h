/* catalog.h: the catalog repository: a store's products. Each function runs
 * in the caller's transaction, if any. Views (`*_json`, lists) are API.md's
 * JSON; what they give belongs to the caller. */
#ifndef CK_STORE_CATALOG_H
#define CK_STORE_CATALOG_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/jsonin.h"
#include "core/util.h"

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

/* Loads product id into *out (which the caller clears): 1 found, 0 not, or <0. */
int ck_catalog_get_product(ck_db *db, const char *id, ck_product *out, ck_error *err);

/* The product of store_id with that id, or when product_id is NULL with
 * that sku, into *out (which the caller clears): 1 found, 0 not, or <0. */
int ck_catalog_find_product(ck_db *db, const char *store_id, const char *product_id, const char *sku,
                            ck_product *out, ck_error *err);

/* Inserts p as a product of store_id (p->store_id is not read; a NULL
 * price_tiers is stored as []); its new id goes to p->id. 0; CK_ECONFLICT
 * (reason SKU_ALREADY_EXISTS, field sku) when the store has a product with
 * that sku; or <0. */
int ck_catalog_insert_product(ck_db *db, const char *store_id, ck_product *p, ck_error *err);

/* ck_catalog_get_product for a read-modify-write, inside the caller's
 * write transaction: its first statement holds the product row (a no-op
 * UPDATE), so on PostgreSQL an order that takes stock, or another PATCH,
 * commits before the read or waits until this transaction ends, and the
 * write that follows cannot put back a value read before it. 1, 0 no such
 * product, or <0. */
int ck_catalog_get_product_for_update(ck_db *db, const char *id, ck_product *out, ck_error *err);

/* Writes every field of p over product p->id (store_id excepted): 1
 * changed, 0 no such product, CK_ECONFLICT as for insert, or <0. */
int ck_catalog_update_product(ck_db *db, const ck_product *p, ck_error *err);

/* The product as JSON: 0 with *out, CK_ENOTFOUND, or <0. */
int ck_catalog_product_json(ck_db *db, const char *id, json_t **out, ck_error *err);

/* A page of the store's products, oldest first, after the id `after` (""
 * from the start): 0 with *items (at most limit) and last_id (the last
 * item's id, "" if none), or <0. */
int ck_catalog_list_products(ck_db *db, const char *store_id, const char *after, int64_t limit, json_t **items,
                             char last_id[CK_ID_MAX], ck_error *err);

#include "checkout/db.h"
#include "core/util.h"

/* Takes quantity of a product's stock with a conditional UPDATE: 1 taken,
 * 0 not enough left (nothing changed), <0. */
int ck_catalog_take_stock(ck_db *db, const char *product_id, int64_t quantity, int64_t now, ck_error *err);

#endif
