/* payments.h: the payments repository: payment_authorizations (card holds,
 * their void marks), payments (captures), and the test
 * gateway's ledger. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_PAYMENTS_H
#define CK_STORE_PAYMENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* A card hold (payment_authorizations row) as the void path sees it. */
typedef struct ck_hold {
    char id[CK_ID_MAX];
    char session_id[CK_ID_MAX];
    char store_id[CK_ID_MAX];
    char gw_auth[128];
    int64_t amount;
} ck_hold;

/* Marks void_pending every Authorized hold of the session that no order took
 * and that is not yet marked, except the one made under keep_key (NULL:
 * none). *marked (may be NULL) gets how many. 0 or <0. */
int ck_payments_mark_void(ck_db *db, const char *session_id, const char *keep_key, int64_t *marked, ck_error *err);

/* The void-pending holds (Authorized, or with captures: an order's hold
 * whose uncaptured rest is released) of one session (session_id) or of all
 * (NULL), with ids after `after` (NULL: from the first), by id, at most max,
 * each with its session's store. *out (caller frees) gets *n. 0 or <0. */
int ck_payments_void_pending(ck_db *db, const char *session_id, const char *after, size_t max, ck_hold **out,
                             size_t *n, ck_error *err);

/* Records a pending hold's void: Voided, or Captured when part of it was
 * captured (its uncaptured rest was released), only while it is still
 * void_pending. Returns the rows changed (1 recorded, 0 someone else did
 * first) or <0. */
int ck_payments_record_voided(ck_db *db, const char *auth_id, ck_error *err);

/* The sessions that have an Authorized hold without an order past its date
 * at now. *ids (caller frees) gets *n ids. 0 or <0. */
int ck_payments_expired_sessions(ck_db *db, int64_t now, char (**ids)[CK_ID_MAX], size_t *n, ck_error *err);

/* Marks Expired every Authorized hold past its date that no Pending change
 * of its order (a capture on its way to the gateway) holds; *count (may be NULL) gets how many. 0 or <0. */
int ck_payments_expire(ck_db *db, int64_t now, int64_t *count, ck_error *err);

/* The test gateway's ledger (gateway_test_ledger), keyed by idempotency key. */
typedef struct ck_testgw_row {
    char op[192];
    char result[16]; /* "approved" or "declined" */
    char ref_id[128];
    int64_t amount;
} ck_testgw_row;

/* The row stored under key: 1 found (*out), 0 none, <0. */
int ck_payments_testgw_get(ck_db *db, const char *key, ck_testgw_row *out, ck_error *err);

/* Stores a row under key unless the key has one. 0 or <0. */
int ck_payments_testgw_put(ck_db *db, const char *key, const char *op, const char *result, const char *ref_id,
                           int64_t amount, ck_error *err);

/* The amount of the approved authorization auth_id: 1 found, 0 none, <0. */
int ck_payments_testgw_auth_amount(ck_db *db, const char *auth_id, int64_t *amount, ck_error *err);

/* Whether an approved row of op exists: 1, 0 or <0. */
int ck_payments_testgw_approved(ck_db *db, const char *op, ck_error *err);

/* The sum of the approved rows of op (0 for none) into *sum. 0 or <0. */
int ck_payments_testgw_approved_sum(ck_db *db, const char *op, int64_t *sum, ck_error *err);

/* The amount of the approved capture whose payment id (ref_id) is
 * payment_id, its row taken first (a no-op UPDATE: on PostgreSQL a
 * concurrent refund of the same payment waits for this transaction and then
 * sees its refund). Call in a write transaction. 1 found, 0 none, <0. */
int ck_payments_testgw_take_capture(ck_db *db, const char *payment_id, int64_t *amount, ck_error *err);

#include <jansson.h>
#include <stdint.h>

/* Which holds GET /v1/authorizations lists: status and store_id NULL for
 * any; wide 1 for every account's, else only those of the accounts given to
 * user_id. */
typedef struct ck_authorizations_filter {
    const char *status, *store_id, *user_id;
    int wide;
} ck_authorizations_filter;

/* Up to limit payment authorizations matching f with an id after `after`
 * ("" first), in id order, as API.md shows them (id, status, amount,
 * capturedAmount, gatewayAuthId, method, sessionId, orderId, storeId,
 * accountId, expiresAt, createdAt, updatedAt, and voidedAmount: what of it
 * cancelled units will never let be captured): *items (the caller's) and the
 * last id in last_id ("" for none). 0 or <0. */
int ck_payments_list_authorizations(ck_db *db, const ck_authorizations_filter *f, const char *after, int64_t limit,
                                    json_t **items, char last_id[CK_ID_MAX], ck_error *err);

/* One authorization as the list shows it: 1 with *out (the caller's), 0 none, <0. */
int ck_payments_authorization_json(ck_db *db, const char *id, json_t **out, ck_error *err);

/* The hold auth_id as the void path sees it, with its status and whether
 * an order took it: 1 found, 0 none, <0. */
int ck_payments_hold_get(ck_db *db, const char *auth_id, ck_hold *out, char status[32], int *has_order,
                         ck_error *err);

/* Marks one hold void_pending, only while it is Authorized and no order
 * took it. Returns the rows changed (1 marked, 0 not: taken, closed, or
 * marked before) or <0. */
int ck_payments_mark_void_one(ck_db *db, const char *auth_id, ck_error *err);

/* Appends the order's authorizations (those recorded against the order and
 * those of its checkout session) as the order view shows them (id, status,
 * amount, capturedAmount, gatewayAuthId), in id order, to arr. 0 or <0. */
int ck_payments_order_authorizations_json(ck_db *db, const char *order_id, const char *session_id, json_t *arr,
                                          ck_error *err);

/* Appends the order's payments (id, authorizationId, amount, createdAt), in
 * id order, to arr. 0 or <0. */
int ck_payments_order_payments_json(ck_db *db, const char *order_id, json_t *arr, ck_error *err);

/* The payment step's reads and writes of payment_authorizations. */
typedef struct ck_auth_new {
    const char *session_id, *method, *gateway, *gateway_auth_id, *idempotency_key;
    int64_t amount, expires_at, now;
} ck_auth_new;

/* 1 when the session has an Authorized hold, not marked for void and taken
 * by no order, made under a key other than keep_key; 0 none; <0. */
int ck_payments_other_open_hold(ck_db *db, const char *session_id, const char *keep_key, ck_error *err);
/* 1 when an Authorized hold not marked for void is recorded under key; 0 none; <0. */
/* The session's live hold: its newest authorization neither voided nor
 * marked for void (Authorized, or Captured once the order is fulfilled):
 * 1 with auth_id, 0 none (a method without a gateway hold, or none yet),
 * or <0. */
int ck_payments_session_hold(ck_db *db, const char *session_id, char auth_id[CK_ID_MAX], ck_error *err);
int ck_payments_hold_recorded(ck_db *db, const char *key, ck_error *err);
/* Records an Authorized hold; one already recorded under its key stays as it is. */
int ck_payments_insert_authorization(ck_db *db, const ck_auth_new *a, ck_error *err);
/* The order takes the session's hold made under key, with a conditional
 * UPDATE: only one still Authorized, not marked for void, taken by no order
 * and not past its date at now. 1 taken, 0 not, <0. */
int ck_payments_take_hold(ck_db *db, const char *key, const char *session_id, const char *order_id, int64_t now,
                          ck_error *err);

#endif
