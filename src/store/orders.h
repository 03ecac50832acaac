/* orders.h: the orders repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_ORDERS_H
#define CK_STORE_ORDERS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

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
