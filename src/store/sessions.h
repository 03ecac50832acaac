/* sessions.h: the sessions repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_SESSIONS_H
#define CK_STORE_SESSIONS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Give-back's guard (checkout/giveback.h): a conditional UPDATE that holds
 * the session row for the rest of the transaction while the session has no
 * order and is not completed, and either lease_owner (not "") holds its
 * lease, or (lease_owner "") no live lease is held at now; and, when
 * idle_before > 0, while it was last updated before idle_before. 1 held,
 * 0 not, <0. */
int ck_sessions_hold_unordered(ck_db *db, const char *session_id, const char *lease_owner, int64_t now,
                               int64_t idle_before, ck_error *err);
/* inputsVersion + 1 while the session has no order. */
int ck_sessions_bump_inputs_unordered(ck_db *db, const char *session_id, ck_error *err);

#endif
