/* cart.h: carts: the one place cart status changes and totals (the JSON
 * views are the carts repository's: ck_carts_json, ck_carts_item_json). */
#ifndef CK_CART_H
#define CK_CART_H

#include <jansson.h>

#include "checkout/db.h"
#include "core/util.h"
#include "store/carts.h"

typedef enum { CK_CART_ACTIVE, CK_CART_CHECKOUT, CK_CART_CLOSED } ck_cart_status;

typedef struct ck_cart {
    char id[CK_ID_MAX];
    char store_id[CK_ID_MAX];
    char account_id[CK_ID_MAX];
    char owner_id[CK_ID_MAX];
    ck_cart_status status;
    char currency[8];
} ck_cart;

const char *ck_cart_status_name(ck_cart_status s);

/* Loads a cart's header. 1 found, 0 not found, <0 error. */
int ck_cart_load(ck_db *db, const char *id, ck_cart *out, ck_error *err);

/* Moves a cart from its current status to `to`, checking the transition
 * (Active->Checkout, Checkout->Active, Checkout->Closed; Checkout->Checkout is
 * a no-op) with a conditional UPDATE. CK_ECONFLICT when not allowed or when
 * the status changed underneath. */
int ck_cart_set_status(ck_db *db, const char *cart_id, ck_cart_status to, ck_error *err);

/* Inside the caller's write transaction, before an item write: holds the
 * cart row while the cart is Active (a conditional UPDATE: on PostgreSQL the
 * session action's move to Checkout waits for this transaction, and one
 * that committed first is seen; SQLite's write transactions are serial).
 * 1 held, 0 not Active (nothing changed), <0 error. */
int ck_cart_hold_editable(ck_db *db, const char *cart_id, ck_error *err);

/* Recomputes the cart's pre-checkout totals (subtotal = sum of list price x
 * quantity; the rest 0) and bumps its version. */
int ck_cart_recompute(ck_db *db, const char *cart_id, ck_error *err);

#endif
