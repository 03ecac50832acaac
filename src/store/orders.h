/* orders.h: the orders repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_ORDERS_H
#define CK_STORE_ORDERS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"
#include "store/runs.h"

/* The ids of up to limit orders of account_id with an id after `after` ("" first),
 * in id order, into ids (room for limit), how many in *n. 0 or <0. */
int ck_orders_list_ids_by_account(ck_db *db, const char *account_id, const char *after, int64_t limit,
                                  char (*ids)[CK_ID_MAX], int64_t *n, ck_error *err);

/* How many orders there are. 0 or <0. */
int ck_orders_count(ck_db *db, int64_t *n, ck_error *err);
/* How many orders were created from `since` (ms) on. 0 or <0. */
int ck_orders_count_since(ck_db *db, int64_t since, int64_t *n, ck_error *err);

/* The order row as API.md's JSON but its lists and times (id, orderNumber,
 * cartId, sessionId, storeId, accountId, buyerId, status, currency,
 * paymentMethod, poNumber, totals, shippingAddress): 1 with *out (the
 * caller's), its session id and times, 0 no such order, <0 error. */
int ck_orders_view_head(ck_db *db, const char *id, json_t **out, char session_id[CK_ID_MAX], int64_t *created_at,
                        int64_t *updated_at, ck_error *err);

/* Appends the order's items (id, productId, sku, quantity, unitPrice,
 * adjustment, tax, total), in id order, to items. 0 or <0. */
int ck_orders_items_json(ck_db *db, const char *order_id, json_t *items, ck_error *err);

/* The order's summary {"id","items":[...]} (item summaries in order-item
 * id order), or JSON null when the order has none: 0 with *out (the
 * caller's; possibly partial on error), or <0. */
int ck_orders_summary_json(ck_db *db, const char *order_id, json_t **out, ck_error *err);

/* The order's account: 1 found (account_id filled), 0 no such order, <0. */
int ck_orders_account_of(ck_db *db, const char *id, char account_id[CK_ID_MAX], ck_error *err);

/* Was the order's account given to user_id (user_accounts)? 1, 0 (or no
 * such order), <0. */
int ck_orders_account_given_to(ck_db *db, const char *id, const char *user_id, ck_error *err);

/* A PendingApproval order becomes Activated at now. Returns the rows
 * changed (0 when it was not pending approval) or <0. */
int ck_orders_activate_pending(ck_db *db, const char *id, int64_t now, ck_error *err);

/* The flow's writes and reads of orders (src/steps/). */
#include "store/runs.h"

/* A new order's header, as create_order computed it. */
typedef struct ck_order_new {
    const char *id, *number, *cart_id, *session_id, *store_id, *account_id, *buyer_id;
    const char *status; /* Activated, or PendingApproval (net terms) */
    const char *currency;
    const char *payment_method; /* "" for none */
    const char *po_number;      /* NULL for none */
    ck_run_totals totals;
    const char *shipping_address;   /* JSON text */
    const char *shipping_method_id; /* "" for none */
    int64_t now;
} ck_order_new;

/* 1 when an order of the account carries po_number, 0 when none, <0. */
int ck_orders_po_used(ck_db *db, const char *account_id, const char *po_number, ck_error *err);
/* The order's header row. CK_EDUP when its PO number is taken (the unique index). */
int ck_orders_insert(ck_db *db, const ck_order_new *o, ck_error *err);
/* The order's summary (summary_id) and, per line, its item and item summary. */
int ck_orders_insert_lines(ck_db *db, const char *order_id, const char *summary_id, const ck_line *lines, size_t n,
                           int64_t now, ck_error *err);
/* The order's status into status. 1 found, 0 not (err filled), <0. */
int ck_orders_status(ck_db *db, const char *order_id, char status[32], ck_error *err);

#endif
