/* requests.h: the requests repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_REQUESTS_H
#define CK_STORE_REQUESTS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* SQLite start-up (the process that ran them is gone): async placements a
 * runner had taken go back to the queue (Queued, no runner); then a
 * synchronous placement left Running is marked Failed at now with status
 * 500 and the UNKNOWN_EXCEPTION error telling the caller to place again.
 * 0 or <0. */
int ck_requests_recover_running(ck_db *db, int64_t now, ck_error *err);
/* Several nodes (PostgreSQL): a synchronous request left Running by a
 * daemon that died is Failed once its session's lease expired before
 * expired_before (a live placement holds that lease while it runs; the
 * caller leaves a margin of one lease length). *count: how many. */
int ck_requests_fail_orphaned(ck_db *db, int64_t expired_before, int64_t now, int64_t *count, ck_error *err);

/* How many asynchronous placements are queued and not yet started. 0 or <0. */
int ck_requests_count_queued_placements(ck_db *db, int64_t *n, ck_error *err);

/* Records a request of kind ("CheckoutSession", or "PlaceOrder" for a
 * replay without a request) of user_id for session_id that Succeeded at
 * once: created and completed at now, with order_id (NULL for none) and the
 * HTTP status its caller got (0 for none). 0 or <0. */
int ck_requests_insert_succeeded(ck_db *db, const char *id, const char *kind, const char *user_id,
                                 const char *session_id, const char *order_id, int64_t http_status, int64_t now,
                                 ck_error *err);

/* A placement's request row, inserted by the run: Running (a queued one
 * with that id moves to Running), or Queued (for the async runner). 0 or <0. */
int ck_requests_insert_running(ck_db *db, const char *id, const char *user_id, const char *session_id,
                               int64_t now, ck_error *err);
int ck_requests_insert_queued(ck_db *db, const char *id, const char *user_id, const char *session_id, int64_t now,
                              ck_error *err);

/* The request becomes Succeeded with its order and the HTTP status its
 * caller got, completed at now, whatever its status. 0 or <0. */
int ck_requests_succeed(ck_db *db, const char *id, const char *order_id, int64_t http_status, int64_t now,
                        ck_error *err);

/* The request as API.md's JSON (id, kind, status, sessionId, orderId,
 * errors, createdAt, completedAt) and the user who made it: 1 with *out
 * (the caller's), 0 no such request, <0. */
int ck_requests_json(ck_db *db, const char *id, json_t **out, char user_id[CK_ID_MAX], ck_error *err);

/* A placement claimed from the async queue. */
typedef struct ck_request_claim {
    char request_id[CK_ID_MAX];
    char user_id[CK_ID_MAX];
    char session_id[CK_ID_MAX];
} ck_request_claim;

/* Claims the oldest PlaceOrder request that is Queued, or Running with a run
 * lease that ended before now: it becomes Running for runner until
 * lease_until. On PostgreSQL the candidate is picked with FOR UPDATE SKIP
 * LOCKED (claimers on other nodes do not wait for each other); on SQLite a
 * read and a conditional UPDATE. 1 claimed (*out filled), 0 none or lost to
 * another claimer, <0 error. Runs outside a transaction (one statement on
 * PostgreSQL, whose row lock lasts only that statement). */
int ck_requests_claim_placement(ck_db *db, const char *runner, int64_t now, int64_t lease_until,
                                ck_request_claim *out, ck_error *err);

/* The request becomes Failed with errors (JSON text), http_status and
 * completed_at = now, whatever its status. 0 or <0. */
int ck_requests_fail(ck_db *db, const char *id, const char *errors, int64_t now, int64_t http_status,
                     ck_error *err);

/* A Running request (only) becomes Failed with errors (JSON text), http_status and
 * completed_at = now. 0 or <0. */
int ck_requests_fail_running(ck_db *db, const char *id, const char *errors, int64_t now, int64_t http_status,
                             ck_error *err);

/* Placements (PlaceOrder requests) completed from `since` (ms) on, per
 * minute: counts[i] of the minute starting since + i minutes, for n
 * minutes, succeeded and failed apart (zeroed first). 0 or <0. */
int ck_requests_placements_per_minute(ck_db *db, int64_t since, int n, int64_t *succeeded, int64_t *failed,
                                      ck_error *err);

#endif
