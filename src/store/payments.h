/* payments.h: the payments repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_PAYMENTS_H
#define CK_STORE_PAYMENTS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Appends the order's authorizations (those recorded against the order and
 * those of its checkout session) as the order view shows them (id, status,
 * amount, capturedAmount, gatewayAuthId), in id order, to arr. 0 or <0. */
int ck_payments_order_authorizations_json(ck_db *db, const char *order_id, const char *session_id, json_t *arr,
                                          ck_error *err);

/* Appends the order's payments (id, authorizationId, amount, createdAt), in
 * id order, to arr. 0 or <0. */
int ck_payments_order_payments_json(ck_db *db, const char *order_id, json_t *arr, ck_error *err);

#endif
