/* deliveries.h: the deliveries repository: one row per (event, subscriber),
 * claimed by one delivery worker at a time under a lease (lease_owner,
 * lease_until), at most one in flight per subscriber. Each function runs in
 * the caller's transaction (ck_db_tx), or alone, unless its comment says
 * otherwise. */
#ifndef CK_STORE_DELIVERIES_H
#define CK_STORE_DELIVERIES_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Makes the Pending delivery of event_id to subscriber_id, due now, unless
 * it exists (order_id may be NULL). Returns 1 made, 0 it existed, or <0. */
int ck_deliveries_insert_pending(ck_db *db, const char *event_id, const char *subscriber_id, const char *order_id,
                                 const char *event_type, int64_t now, ck_error *err);

/* Claims the next due delivery for owner until lease_until: a Pending one
 * due at now, unleased or with its lease expired, whose subscriber has no
 * other delivery under a live lease; the earliest due first. One statement
 * of its own or in the caller's transaction. On PostgreSQL the candidate is
 * picked with FOR NO KEY UPDATE ... SKIP LOCKED on it and on its subscriber,
 * so claimers at the same moment take different subscribers' deliveries
 * instead of queueing; SQLite picks it, then takes it with the conditional
 * UPDATE. 1 claimed (id_out), 0 none (or lost to another claimer), <0. */
int ck_deliveries_claim(ck_db *db, const char *owner, int64_t lease_until, int64_t now, char id_out[CK_ID_MAX],
                        ck_error *err);

/* What one attempt of a claimed delivery needs: its subscriber, its event's
 * payload and, for orders, the buyer's email and the store's name. The
 * strings are malloc'd (NULL for SQL NULL): ck_delivery_attempt_free. */
typedef struct ck_delivery_attempt {
    char id[CK_ID_MAX], kind[16], event_type[32], order_id[CK_ID_MAX];
    char *url, *secret, *smtp_url, *from, *payload, *to, *store_name;
    int64_t attempts, max_attempts, backoff_ms;
} ck_delivery_attempt;

/* Loads the attempt of delivery id into *a (a->id set). 1 found, 0 none, <0;
 * call ck_delivery_attempt_free after, whatever it returned. */
int ck_deliveries_attempt(ck_db *db, const char *id, ck_delivery_attempt *a, ck_error *err);
void ck_delivery_attempt_free(ck_delivery_attempt *a);

/* Records an attempt's outcome under owner's lease and releases it: status
 * (Delivered, Pending for a retry, Dead), attempts, next_attempt_at,
 * last_error (NULL for none), delivered_at = now when delivered. Returns the
 * rows changed (0: the lease was lost) or <0. */
int ck_deliveries_record(ck_db *db, const char *id, const char *owner, const char *status, int64_t attempts,
                         int64_t next_attempt_at, const char *last_error, int delivered, int64_t now, ck_error *err);

/* Gives back owner's claim without counting an attempt (shutdown). Errors
 * are not reported: the lease expires. */
void ck_deliveries_unclaim(ck_db *db, const char *id, const char *owner);

/* A Dead delivery back to Pending, attempts 0, due now. Returns the rows
 * changed (0: unknown or not Dead) or <0. */
int ck_deliveries_replay(ck_db *db, const char *id, int64_t now, ck_error *err);

/* Whether delivery id exists: 1, 0 or <0. */
int ck_deliveries_exists(ck_db *db, const char *id, ck_error *err);

/* Releases every delivery claim (SQLite start-up). 0 or <0. */
int ck_deliveries_claims_release_all(ck_db *db, ck_error *err);

/* Cancels every delivery of a subscriber not delivered yet (Pending,
 * including one being attempted, or Dead), at now: never attempted again and
 * not replayable. The lease is cleared, so an attempt in flight cannot
 * record its outcome. 0 or <0. */
int ck_deliveries_cancel_for_subscriber(ck_db *db, const char *subscriber_id, int64_t now, ck_error *err);

/* A delivery as API.md's dead-letter view shows it (id, subscriberId,
 * eventId, event, orderId, status, attempts, lastError, createdAt,
 * updatedAt). 1 with *out (the caller's), 0 when there is none, or <0. */
int ck_deliveries_get(ck_db *db, const char *id, json_t **out, ck_error *err);

/* Up to limit Dead deliveries with an id after `after` ("" first), in id
 * order, as ck_deliveries_get gives them: *items (the caller's) and the last
 * id in last_id ("" for none). 0 or <0. */
int ck_deliveries_list_dead(ck_db *db, const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX],
                            ck_error *err);

/* The same for any status (NULL: every one) and subscriber (NULL: every one). */
int ck_deliveries_list(ck_db *db, const char *status, const char *subscriber_id, const char *after, int64_t limit,
                       json_t **items, char last_id[CK_ID_MAX], ck_error *err);

/* How many deliveries are Pending and Dead. 0 or <0. */
int ck_deliveries_count_backlog(ck_db *db, int64_t *pending, int64_t *dead, ck_error *err);

/* Appends each subscriber's delivery of each of the order's events (id,
 * subscriberId, event, status, attempts), in id order, to arr. 0 or <0. */
int ck_deliveries_order_json(ck_db *db, const char *order_id, json_t *arr, ck_error *err);

#endif
