/* idempotency.h: the idempotency repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_IDEMPOTENCY_H
#define CK_STORE_IDEMPOTENCY_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* An idempotency key's record. body is the caller's (free). */
typedef struct ck_idem_row {
    char fingerprint[65];
    int done;        /* state 'done' (else 'running') */
    int64_t status;  /* the stored reply's HTTP status */
    char *body;      /* the stored reply ("" when none) */
    int64_t locked_until, created_at;
} ck_idem_row;

/* The record of (user_id, key): 1 found (*out filled; out->body the
 * caller's), 0 none, <0. */
int ck_idempotency_get(ck_db *db, const char *user_id, const char *key, ck_idem_row *out, ck_error *err);

/* Deletes the record of (user_id, key). 0 or <0. */
int ck_idempotency_delete(ck_db *db, const char *user_id, const char *key, ck_error *err);

/* Inserts a running record of (user_id, key) for the request fingerprint,
 * locked until locked_until, created at now. 0; CK_EDUP when the key has a
 * record; or <0. */
int ck_idempotency_insert_running(ck_db *db, const char *user_id, const char *key, const char *fingerprint,
                                  int64_t locked_until, int64_t now, ck_error *err);

/* Stores the reply (status, body text) of (user_id, key): done, unlocked. 0 or <0. */
int ck_idempotency_finish(ck_db *db, const char *user_id, const char *key, int64_t status, const char *body,
                          ck_error *err);

/* Deletes the record of (user_id, key) if it is still running. 0 or <0. */
int ck_idempotency_release_running(ck_db *db, const char *user_id, const char *key, ck_error *err);

/* Deletes every running record (SQLite start-up: the process that ran
 * them is gone, so a retry under the same key runs again). 0 or <0. */
int ck_idempotency_release_all_running(ck_db *db, ck_error *err);

/* Deletes every record created before `before` (ms). 0 or <0. */
int ck_idempotency_purge_before(ck_db *db, int64_t before, ck_error *err);

#endif
