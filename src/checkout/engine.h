/* engine.h: placing an order: run a session's flow from the step after its
 * lastSuccessfulStep, committing at each group boundary, under the lease. */
#ifndef CK_ENGINE_H
#define CK_ENGINE_H

#include "core/context.h"
#include "core/user.h"
#include "steps/step.h"

typedef struct ck_place_result {
    int replayed; /* 0: placed by this call; 1: the session was already completed */
    char request_id[CK_ID_MAX];
    char order_id[CK_ID_MAX];
    /* The order's view as the run's last commit left it, when that commit
     * made the order (the caller's to free); NULL: read it. */
    json_t *order;
} ck_place_result;

/* Places the order of session_id for user. request_id names a queued request
 * (async) or is NULL (a new PlaceOrder request is recorded). On failure err
 * carries HTTP status 400 (buyer can fix) or 500 (transient, resumable), the
 * reason and the step; the session has isError and the error in `errors`.
 * A live lease held by another caller: 400 CART_ALREADY_IN_PROGRESS, nothing
 * written. Unknown or invisible session: 404; archived: 409. */
int ck_place_order(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id, const char *request_id,
                   ck_place_result *out, ck_error *err);

/* ck_place_order that runs only as far as the built-in `through` (NULL: to
 * the end): through that step wherever the session's flow puts it (an
 * order step: through the order's whole commit), or up to it when `before`;
 * a flow without it: up to the next built-in of the standard order. A
 * session already past that point runs nothing and succeeds; a completed
 * one replays. The same lease, commits, keys and errors as a placement, so
 * these runs and placements mixed make one order. (The Checkout Flow
 * actions, API.md.) */
int ck_place_run(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id, const char *request_id,
                 const ck_step_kind *through, int before, ck_place_result *out, ck_error *err);

/* Records a Queued PlaceOrder request for the session (after the same
 * visibility and state checks) and wakes the runner; *request_id gets its id.
 * A session already completed is not queued: returns 1 and the caller
 * answers as for a synchronous replay. */
int ck_place_enqueue(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id,
                     char request_id[CK_ID_MAX], ck_error *err);

/* The async runner: a thread that claims Queued requests (conditional UPDATE)
 * and places them. Started by ck_app_start, stopped by ck_app_stop. */
int ck_queue_start(ck_ctx *cx, ck_error *err);
void ck_queue_stop(ck_ctx *cx);
void ck_queue_wake(ck_ctx *cx);

#endif
