/* payments.h: the payments repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_PAYMENTS_H
#define CK_STORE_PAYMENTS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* The payment step's reads and writes of payment_authorizations. */
typedef struct ck_auth_new {
    const char *session_id, *method, *gateway, *gateway_auth_id, *idempotency_key;
    int64_t amount, expires_at, now;
} ck_auth_new;

/* 1 when the session has an Authorized hold, not marked for void and taken
 * by no order, made under a key other than keep_key; 0 none; <0. */
int ck_payments_other_open_hold(ck_db *db, const char *session_id, const char *keep_key, ck_error *err);
/* 1 when an Authorized hold not marked for void is recorded under key; 0 none; <0. */
int ck_payments_hold_recorded(ck_db *db, const char *key, ck_error *err);
/* Records an Authorized hold; one already recorded under its key stays as it is. */
int ck_payments_insert_authorization(ck_db *db, const ck_auth_new *a, ck_error *err);
/* The order takes the session's hold made under key, with a conditional
 * UPDATE: only one still Authorized, not marked for void, taken by no order
 * and not past its date at now. 1 taken, 0 not, <0. */
int ck_payments_take_hold(ck_db *db, const char *key, const char *session_id, const char *order_id, int64_t now,
                          ck_error *err);

#endif
