/* carts.h: the carts repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_CARTS_H
#define CK_STORE_CARTS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* A cart's header as stored; status is its text (Active, Checkout, Closed). */
typedef struct ck_cart_row {
    char id[CK_ID_MAX];
    char store_id[CK_ID_MAX];
    char account_id[CK_ID_MAX];
    char owner_id[CK_ID_MAX];
    char status[16];
    char currency[8];
} ck_cart_row;

/* The cart's header: 1 found (*out filled), 0 no such cart, <0 error. */
int ck_carts_get(ck_db *db, const char *id, ck_cart_row *out, ck_error *err);

/* Moves the cart from status `from` to `to` (texts), bumping its version, at
 * now. Returns the rows changed (0 when its status is not `from`) or <0. */
int ck_carts_set_status(ck_db *db, const char *id, const char *from, const char *to, int64_t now, ck_error *err);

/* Holds the cart row while it is Active (a no-op UPDATE). Returns the rows
 * changed (1 held, 0 not Active) or <0. */
int ck_carts_hold_active(ck_db *db, const char *id, ck_error *err);

/* Recomputes the pre-checkout totals from the items (subtotal = grand total
 * = sum of list price x quantity, the rest 0), bumping the version. 0 or <0. */
int ck_carts_recompute(ck_db *db, const char *id, int64_t now, ck_error *err);

/* Deletes the cart-level Error validation outputs of the cart. 0 or <0. */
int ck_carts_delete_cart_errors(ck_db *db, const char *id, ck_error *err);

/* The cart as API.md's JSON, with totals and items: 1 with *out (the
 * caller's), 0 no such cart, <0 error. */
int ck_carts_json(ck_db *db, const char *id, json_t **out, ck_error *err);

/* One item as JSON from a row of CK_CART_ITEM_COLS (a new reference). */
#define CK_CART_ITEM_COLS "id, product_id, sku, quantity, list_price, sales_price, adjustment, tax, total"
json_t *ck_carts_item_row_json(ck_stmt *st);

#endif
