/* fulfillment.h: the after-the-order repository: fulfillment_orders,
 * order_changes with their items, refunds, and the writes a change applies
 * to the order's summary, stock, card authorization, payments and ledger.
 * Each function runs in the caller's transaction (ck_db_tx) unless its
 * comment says otherwise; the rules (what a change may do, its shares) are
 * in src/fulfillment/. */
#ifndef CK_STORE_FULFILLMENT_H
#define CK_STORE_FULFILLMENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* What a change reads of its order. fo_id and contract_id are "" for none. */
typedef struct ck_ful_order {
    char id[CK_ID_MAX], store_id[CK_ID_MAX], account_id[CK_ID_MAX], session_id[CK_ID_MAX];
    char status[32], method[32], shipping_state[16];
    char fo_id[CK_ID_MAX], contract_id[CK_ID_MAX];
    int64_t shipping, grand_total;
} ck_ful_order;

/* Locks the order's row for the rest of the transaction (a no-op UPDATE:
 * PostgreSQL queues every other change of the order behind it, SQLite's
 * write transactions are serial), then reads it. 1 found, 0 none, <0. */
int ck_ful_lock_order(ck_db *db, const char *order_id, ck_ful_order *out, ck_error *err);

/* Reads the order without locking it: 1, 0, <0. */
int ck_ful_read_order(ck_db *db, const char *order_id, ck_ful_order *out, ck_error *err);

/* One line of the order with what its units did so far. */
typedef struct ck_ful_line {
    char item_id[CK_ID_MAX], product_id[CK_ID_MAX];
    int64_t q, total;                       /* quantity ordered, line total */
    int64_t fulfilled, cancelled, returned; /* units */
    int64_t amount_fulfilled, amount_cancelled, amount_returned;
} ck_ful_line;

/* The order's lines in order-item id order; *out (caller frees) gets *n. 0 or <0. */
int ck_ful_lines(ck_db *db, const char *order_id, ck_ful_line **out, size_t *n, ck_error *err);

/* The card authorization the order took. status "" when none. */
typedef struct ck_ful_auth {
    char id[CK_ID_MAX], session_id[CK_ID_MAX], gw_auth[128], status[32];
    int64_t amount, captured, voided, expires_at;
    int void_pending;
} ck_ful_auth;

/* 1 found, 0 none, <0. */
int ck_ful_order_auth(ck_db *db, const char *order_id, ck_ful_auth *out, ck_error *err);

/* A capture of the order with what is refunded (or planned to be) of it. */
typedef struct ck_ful_payment {
    char id[CK_ID_MAX], gw_payment_id[128];
    int64_t amount, refunded;
} ck_ful_payment;

/* The order's captures, newest first; *out (caller frees) gets *n. 0 or <0. */
int ck_ful_payments(ck_db *db, const char *order_id, ck_ful_payment **out, size_t *n, ck_error *err);

/* ---- fulfillment orders */

int ck_fo_insert(ck_db *db, const char *id, const char *order_id, const char *store_id, int64_t now, ck_error *err);
int ck_fo_set_status(ck_db *db, const char *id, const char *status, int64_t now, ck_error *err);
/* The fulfillment order's order: 1 with order_id, 0 no such fulfillment order, <0. */
int ck_fo_order_of(ck_db *db, const char *fo_id, char order_id[CK_ID_MAX], ck_error *err);
/* The fulfillment order as API.md's JSON with its lines and fulfilments:
 * 1 with *out (the caller's), 0 none, <0. */
int ck_fo_json(ck_db *db, const char *id, json_t **out, ck_error *err);
/* Up to limit fulfillment orders (store_id, status NULL for any) with an id
 * after `after` ("" first), by id: their ids into ids (room for limit), *n. */
int ck_fo_list_ids(ck_db *db, const char *store_id, const char *status, const char *after, int64_t limit,
                   char (*ids)[CK_ID_MAX], int64_t *n, ck_error *err);

/* ---- order changes */

typedef struct ck_change_row {
    char id[CK_ID_MAX], order_id[CK_ID_MAX], fo_id[CK_ID_MAX]; /* fo_id "" none */
    char kind[16], status[16];
    int64_t seq, amount, capture_amount, void_amount, balance_amount, created_at;
    int takes_shipping;
    int has_tracking;
    char tracking[256];
    char auth_id[CK_ID_MAX], capture_key[192], payment_id[CK_ID_MAX], error_code[64]; /* "" none */
    char fingerprint[65];
    char lease_owner[CK_OWNER_MAX]; /* "" none */
    int64_t lease_until;
} ck_change_row;

typedef struct ck_change_item {
    char item_id[CK_ID_MAX], product_id[CK_ID_MAX];
    int64_t qty, amount;
} ck_change_item;

/* Inserts the change (status from c, request_key NULL for none). CK_EDUP
 * when its request key, its (order, kind, seq) or the order's one Pending
 * change is taken. 0 or <0. */
int ck_changes_insert(ck_db *db, const ck_change_row *c, const char *request_key, int64_t now, ck_error *err);
/* owner takes the lease of a Pending change until `until`, when it is
 * free (run out at now) or already owner's. Rows changed (1 taken) or <0. */
int ck_changes_take_lease(ck_db *db, const char *id, const char *owner, int64_t until, int64_t now, ck_error *err);
/* owner gives its lease of the change up (a retry may take over at once). 0 or <0. */
int ck_changes_lease_release(ck_db *db, const char *id, const char *owner, ck_error *err);
/* SQLite start-up: every Pending change's lease is released (its caller is gone). 0 or <0. */
int ck_changes_leases_release_all(ck_db *db, ck_error *err);
int ck_changes_insert_item(ck_db *db, const char *change_id, const char *item_id, int64_t qty, int64_t amount,
                           ck_error *err);
/* 1 found (*out), 0 none, <0. */
int ck_changes_get(ck_db *db, const char *id, ck_change_row *out, ck_error *err);
/* The order's Pending change: 1 with its id, 0 none, <0. */
int ck_changes_pending_of_order(ck_db *db, const char *order_id, char id[CK_ID_MAX], ck_error *err);
/* The change made under request_key: 1 with its id, 0 none, <0. */
int ck_changes_by_request_key(ck_db *db, const char *request_key, char id[CK_ID_MAX], ck_error *err);
/* 1 + how many changes of kind the order has. 0 or <0. */
int ck_changes_next_seq(ck_db *db, const char *order_id, const char *kind, int64_t *seq, ck_error *err);
/* 1 + the manual captures of auth_id ever keyed: the capture changes of the
 * order plus the captures recorded before changes existed. 0 or <0. */
int ck_changes_next_capture_seq(ck_db *db, const char *order_id, const char *auth_id, int64_t *seq, ck_error *err);
/* Moves a Pending change to status (Completed or Failed) with payment_id
 * and error_code (NULL for none). Returns the rows changed (0: it was not
 * Pending any more) or <0. */
int ck_changes_finish(ck_db *db, const char *id, const char *status, const char *payment_id, const char *error_code,
                      int64_t now, ck_error *err);
/* The change's items; *out (caller frees) gets *n. 0 or <0. */
int ck_changes_items(ck_db *db, const char *change_id, ck_change_item **out, size_t *n, ck_error *err);
/* The Pending changes whose lease ran out before `before`, oldest first,
 * at most max; *ids (caller frees) gets *n. 0 or <0. */
int ck_changes_stale(ck_db *db, int64_t before, size_t max, char (**ids)[CK_ID_MAX], size_t *n, ck_error *err);

/* ---- refunds */

typedef struct ck_refund_row {
    char id[CK_ID_MAX], payment_id[CK_ID_MAX], gw_payment_id[128], status[16], key[192];
    int64_t amount;
} ck_refund_row;

/* A refund row (payment_id and key NULL for a refund to a balance). 0 or <0. */
int ck_refunds_insert(ck_db *db, const char *id, const char *order_id, const char *change_id, const char *payment_id,
                      int64_t amount, const char *status, const char *key, int64_t now, ck_error *err);
/* The change's refunds, by id; *out (caller frees) gets *n. 0 or <0. */
int ck_refunds_of_change(ck_db *db, const char *change_id, ck_refund_row **out, size_t *n, ck_error *err);
/* A Pending refund Completed with the gateway's refund id. Rows changed or <0. */
int ck_refunds_complete(ck_db *db, const char *id, const char *gw_refund_id, int64_t now, ck_error *err);
/* Every Pending refund of the change Failed. 0 or <0. */
int ck_refunds_fail_change(ck_db *db, const char *change_id, int64_t now, ck_error *err);
/* Appends the order's Completed refunds ({"id","amount","paymentId","createdAt"}) to arr. 0 or <0. */
int ck_refunds_order_json(ck_db *db, const char *order_id, json_t *arr, ck_error *err);
/* The change's Completed refunds as JSON into arr. 0 or <0. */
int ck_refunds_change_json(ck_db *db, const char *change_id, json_t *arr, ck_error *err);

/* ---- what a change applies */

/* Adds qty units and amount to the line's fulfilled ('f'), cancelled ('c')
 * or returned ('r') counts. 0 or <0. */
int ck_ful_summary_add(ck_db *db, const char *item_id, char which, int64_t qty, int64_t amount, ck_error *err);
/* Puts qty units back into the product's stock. 0 or <0. */
int ck_ful_stock_return(ck_db *db, const char *product_id, int64_t qty, int64_t now, ck_error *err);
int ck_ful_set_shipping_state(ck_db *db, const char *order_id, const char *state, int64_t now, ck_error *err);
int ck_ful_set_order_status(ck_db *db, const char *order_id, const char *status, int64_t now, ck_error *err);
/* The order's fulfillment order id: 1 with fo_id, 0 none, <0. */
int ck_ful_fo_of_order(ck_db *db, const char *order_id, char fo_id[CK_ID_MAX], ck_error *err);

/* Adds to the authorization's captured and voided amounts and sets its
 * status from them: Captured when something is captured and nothing is
 * left to capture, PartiallyCaptured when something is, else unchanged.
 * 0 or <0. */
int ck_ful_auth_add(ck_db *db, const char *auth_id, int64_t captured, int64_t voided, int64_t now, ck_error *err);
/* Closes what is left of an open authorization, once (rest_released):
 * voided_amount takes the rest, the status becomes Captured when something
 * was captured, and the hold is marked void_pending (released at the
 * gateway after the commit, or by the sweeper) when something was left.
 * Returns 1 when it marked the hold void_pending, 0 when nothing was left
 * or it was closed before, <0. */
int ck_ful_auth_close(ck_db *db, const char *auth_id, int64_t now, ck_error *err);

/* A capture's payments row. 0 or <0. */
int ck_ful_insert_payment(ck_db *db, const char *pay_id, const char *auth_id, const char *order_id, int64_t amount,
                          const char *gw_payment_id, const char *key, int64_t now, ck_error *err);
/* The payment as JSON {"id","authorizationId","amount","createdAt"}: 1, 0, <0. */
int ck_ful_payment_json(ck_db *db, const char *pay_id, json_t **out, ck_error *err);

/* A ledger row of an order after checkout (no session), signed. 0 or <0. */
int ck_ful_ledger_insert(ck_db *db, const char *account_id, const char *contract_id, const char *kind,
                         int64_t amount, const char *entry, const char *order_id, const char *memo, ck_error *err);
/* The account's creditUsed, its row locked (see ck_ledger_lock_account). 1, 0, <0. */
int ck_ful_credit_used(ck_db *db, const char *account_id, int64_t *credit_used, ck_error *err);
/* Adds amount (signed) to the account's credit_used / prepaid_balance or to
 * the contract's remaining. 0 or <0. */
int ck_ful_credit_add(ck_db *db, const char *account_id, int64_t amount, int64_t now, ck_error *err);
int ck_ful_prepaid_add(ck_db *db, const char *account_id, int64_t amount, int64_t now, ck_error *err);
int ck_ful_contract_add(ck_db *db, const char *contract_id, int64_t amount, int64_t now, ck_error *err);

#endif
