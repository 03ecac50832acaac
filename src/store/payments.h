/* payments.h: the payments repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_PAYMENTS_H
#define CK_STORE_PAYMENTS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

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
 * accountId, expiresAt, createdAt, updatedAt): *items (the caller's) and the
 * last id in last_id ("" for none). 0 or <0. */
int ck_payments_list_authorizations(ck_db *db, const ck_authorizations_filter *f, const char *after, int64_t limit,
                                    json_t **items, char last_id[CK_ID_MAX], ck_error *err);

#endif
