/* carts.h: the carts repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_CARTS_H
#define CK_STORE_CARTS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* ---- carts, their items and validation outputs as the API reads and
 * edits them. Views (`*_json`, lists) are API.md's JSON; what they give
 * belongs to the caller. ---- */

/* Inserts an Active cart of the store for account_id, owned by owner_id,
 * in the store's currency; its id goes to id_out. 0 or <0. */
int ck_carts_insert(ck_db *db, const char *store_id, const char *account_id, const char *owner_id,
                    const char *currency, char id_out[CK_ID_MAX], ck_error *err);

/* The cart as JSON, with its items and totals: 0 with *out, CK_ENOTFOUND,
 * or <0. */
int ck_carts_json(ck_db *db, const char *cart_id, json_t **out, ck_error *err);

/* A page of the store's carts, oldest first, after the id `after` (""
 * from the start), each as ck_carts_json shows it: only account_id's
 * unless it is NULL, and only those of the accounts given to buyer_id
 * unless it is NULL. Reads in a transaction of its own (ck_db_tx), so the
 * page is one snapshot. 0 with *items (at most limit) and last_id (the
 * last item's id, "" if none), or <0. */
int ck_carts_list(ck_db *db, const char *store_id, const char *account_id, const char *buyer_id,
                  const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX], ck_error *err);

/* Adds quantity units of a product of store_id (by product_id, or by sku
 * when product_id is NULL) to the cart, at its list price: to the cart's
 * line of that product if it has one, else to a new line; item_id_out gets
 * the line's id. Call it while holding the cart (ck_cart_hold_editable) and
 * recompute the totals after. 0; CK_ENOTFOUND (field productId or sku) for
 * no such product in the store; CK_EINVALID with PRODUCT_INACTIVE (same
 * field) for a product not for sale, or INVALID_FIELD (quantity) when the
 * line would hold more than CK_QTY_MAX; or <0. */
int ck_carts_add_item(ck_db *db, const char *cart_id, const char *store_id, const char *product_id,
                      const char *sku, int64_t quantity, char item_id_out[CK_ID_MAX], ck_error *err);

/* Sets the quantity of the cart's item (its price back to list price, no
 * adjustment or tax): 1 changed, 0 no such item in the cart, or <0. */
int ck_carts_set_item_quantity(ck_db *db, const char *cart_id, const char *item_id, int64_t quantity,
                               ck_error *err);

/* Deletes the cart's item: 1 deleted, 0 no such item in the cart, or <0. */
int ck_carts_delete_item(ck_db *db, const char *cart_id, const char *item_id, ck_error *err);

/* The item as JSON: 0 with *out, CK_ENOTFOUND, or <0. */
int ck_carts_item_json(ck_db *db, const char *item_id, json_t **out, ck_error *err);

/* Inserts a validation output of the cart (type and level as API.md names
 * them; related_entity_id the cart or one item) created at now; its id goes
 * to id_out. 0 or <0. */
int ck_carts_insert_validation_output(ck_db *db, const char *cart_id, const char *related_entity_id,
                                      const char *type, const char *level, const char *message, int64_t now,
                                      char id_out[CK_ID_MAX], ck_error *err);

/* A validation output as JSON: 0 with *out, CK_ENOTFOUND, or <0. */
int ck_carts_validation_output_json(ck_db *db, const char *id, json_t **out, ck_error *err);

/* A page of the cart's validation outputs, oldest first, as ck_carts_list
 * (without its transaction: one query). */
int ck_carts_list_validation_outputs(ck_db *db, const char *cart_id, const char *after, int64_t limit,
                                     json_t **items, char last_id[CK_ID_MAX], ck_error *err);

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

#endif
