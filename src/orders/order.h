/* order.h: the order view (API.md "Orders") and who may see an order. */
#ifndef CK_ORDER_H
#define CK_ORDER_H

#include <jansson.h>

#include "checkout/db.h"
#include "core/user.h"

/* The order as API.md's JSON:
 *   {"id","orderNumber","cartId","sessionId","storeId","accountId","buyerId",
 *    "status","currency","paymentMethod","poNumber"|null,
 *    "totals":{"subtotal","adjustments","shipping","tax","grandTotal"},
 *    "shippingAddress":{...},
 *    "items":[{"id","productId","sku","quantity","unitPrice","adjustment","tax","total"}],
 *    "summary":{"id","items":[{"orderItemId","quantityOrdered","quantityFulfilled",
 *                              "quantityCancelled","quantityReturned"}]}|null,
 *    "authorizations":[{"id","status","amount","capturedAmount","gatewayAuthId"}],
 *    "payments":[{"id","authorizationId","amount","createdAt"}],
 *    "refunds":[{"id","amount","paymentId","createdAt"}],"fulfillmentOrderId",
 *    "deliveries":[],"createdAt","updatedAt"}
 * buyerId, shippingAddress, fulfillmentOrderId (null before release) and
 * updatedAt are extras beyond API.md. Items,
 * authorizations (those of the order or of its checkout session) and payments
 * are in id (creation) order. 404 when the order does not exist; no
 * visibility check (see ck_order_visible). Does not open a transaction, so it
 * can run inside the caller's (e.g. the order's own commit); a handler wanting
 * one consistent snapshot opens a read transaction around it.
 * *out belongs to the caller. */
int ck_order_json(ck_db *db, const char *order_id, json_t **out, ck_error *err);

/* 0 when user may see the order: admin, integrator and fulfillment see every
 * order; approver and buyer only orders of the accounts given to them
 * (user_accounts). Otherwise, and when the order does not exist, 404
 * NOT_FOUND (never 403, so ids cannot be probed). */
int ck_order_visible(ck_db *db, const ck_user *user, const char *order_id, ck_error *err);

/* The same rule for an account's orders as a whole: 1 when user may see the
 * account's orders, 0 when not, <0 on a storage error. Does not check that
 * the account exists. */
int ck_order_account_visible(ck_db *db, const ck_user *user, const char *account_id, ck_error *err);

/* Approves a PendingApproval (net terms) order: it becomes Activated and its
 * OrderReleased event is written in the same commit. 404 invisible; 409
 * ORDER_NOT_PENDING_APPROVAL otherwise. Route permission: approver or admin. */
int ck_order_approve(ck_db *db, const ck_user *user, const char *order_id, ck_error *err);

#endif
