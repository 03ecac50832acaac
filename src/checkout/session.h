/* session.h: the checkout session (CartCheckoutSession): the session action,
 * the lease that lets one processor run a session at a time, and its views. */
#ifndef CK_SESSION_H
#define CK_SESSION_H

#include <jansson.h>

#include "core/context.h"
#include "core/user.h"
#include "flows/flow.h"

typedef struct ck_session_action_result {
    char request_id[CK_ID_MAX];
    char session_id[CK_ID_MAX];
    int created; /* 1: this call created the session */
} ck_session_action_result;

/* The checkout session action for one cart: checks the reference platform's
 * error table in its order, then in one transaction moves the cart to
 * Checkout, gets or creates its unarchived session, deletes the cart-level
 * Error validation outputs, and records a Succeeded CheckoutRequest.
 * cart_id is the raw JSON value (any type). On failure err carries the
 * table's HTTP status, statusCode and reason, and nothing was written. */
int ck_session_action(ck_ctx *cx, ck_db *db, const ck_user *user, json_t *cart_id,
                      ck_session_action_result *out, ck_error *err);

/* The checks of the action table, in its order (permission, cart id,
 * account access, store membership; not the lease: the run takes it), for
 * the Checkout Flow actions after the session action: then session_id is
 * the cart's unarchived session ("" when none: NO_CHECKOUT_SESSION when
 * need_session). A Closed cart passes only with its completed session.
 * 0, or <0 with err a row of the table. */
int ck_session_for_cart(ck_db *db, const ck_user *user, json_t *cart_id, int need_session,
                        char session_id[CK_ID_MAX], ck_error *err);

/* 1 when the session's inputs name a shipping method, 0 when not, or <0. */
/* Checkout operations on a session (place-order, session updates, the
 * state action) follow the session action's table (API.md Conventions): a
 * session the caller may not buy for is 400 NO_ACCESS_TO_EFFECTIVE_ACCOUNT,
 * not 404. Returns CK_EINVALID with err filled. */
int ck_session_no_access(ck_error *err, const char *session_id);

int ck_session_has_shipping_method(ck_db *db, const char *session_id, ck_error *err);

/* The one place a session's progress changes: lastSuccessfulStep becomes
 * `last` (NULL: none) and state follows from it (Start when none, else the
 * step after it, Completed after the last), inside the caller's
 * transaction. The transition is checked: `last` must be a step of the flow,
 * a Completed session never changes, `from` (when not CK_ANY_STEP) must be
 * the current lastSuccessfulStep ("" for none), and `lease_owner` (when not
 * NULL) must hold the lease. Returns 1 when it moved, 0 when a condition did
 * not hold (nothing changed), <0 on error. */
#define CK_ANY_STEP ((const char *)-1)
int ck_session_set_progress(ck_db *db, const ck_flow *flow, const char *session_id, const char *from,
                            const char *last, const char *lease_owner, ck_error *err);

/* The flow session_id is pinned to (borrowed, flows/flows.h ck_flow_load):
 * 0 with *out, CK_ENOTFOUND, or <0. */
int ck_session_flow(ck_db *db, const char *session_id, const ck_flow **out, ck_error *err);

/* Takes the session's lease for owner until now + seconds, with a conditional
 * UPDATE: 1 taken, 0 another holder's lease is live or the session is
 * archived (an archived session is never processed again), <0 error. */
int ck_session_lease_take(ck_db *db, const char *session_id, const char *owner, int seconds, ck_error *err);
/* Releases the lease if owner holds it. */
int ck_session_lease_release(ck_db *db, const char *session_id, const char *owner, ck_error *err);
/* Releases every lease (SQLite start-up: leases left by a dead process). */
int ck_session_leases_release_all(ck_db *db, ck_error *err);

/* What a PATCH does to one input: leaves it, clears it (JSON null), or sets it. */
typedef enum { CK_INPUT_KEEP, CK_INPUT_CLEAR, CK_INPUT_SET } ck_input_op;

/* A shipping address as the PATCH gives it (strings borrowed from the
 * request). region is optional: NULL when absent or null, and region_null
 * says it was given as null (the stored inputs keep the null). */
typedef struct ck_address_input {
    const char *name, *street, *city, *region, *postal_code, *country;
    int region_null;
} ck_address_input;

/* A payment as the PATCH gives it: the method and its details (NULL when
 * absent or null; the *_null flags say given as null, which is kept). */
typedef struct ck_payment_input {
    const char *method, *card_token, *po_number, *contract_id;
    int card_token_null, po_number_null, contract_id_null;
} ck_payment_input;

/* A PATCH of the checkout inputs, read from its body by api. invalid (when
 * not NULL) is the body's first validation error, which is answered after
 * the visibility check (a session the caller may not see is 404 whatever
 * the body). */
typedef struct ck_session_changes {
    ck_input_op address_op, method_op, payment_op;
    ck_address_input address;
    const char *shipping_method_id;
    ck_payment_input payment;
    const ck_error *invalid;
} ck_session_changes;

/* PATCH of the checkout inputs (shippingAddress, shippingMethodId, payment;
 * clearing one with null). In one transaction: checks visibility, then
 * changes->invalid, then that the store offers the shipping method, merges,
 * increments inputsVersion when something changed, clears isError, and
 * rewinds lastSuccessfulStep to before the first step that reads a changed
 * input. 404 invisible, 400 the body's error or INVALID_FIELD
 * shippingMethodId, 409 SESSION_ARCHIVED / SESSION_COMPLETED, 400
 * CART_ALREADY_IN_PROGRESS while the lease is held. */
int ck_session_update_inputs(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id,
                             const ck_session_changes *changes, ck_error *err);

/* Abandons a session: takes the lease, voids its open authorizations (a
 * failed void is left to the sweeper), archives it and returns the cart to
 * Active. Abandoning an archived session again is a no-op; a completed one is
 * 409 SESSION_COMPLETED; a held lease is 400 CART_ALREADY_IN_PROGRESS. */
int ck_session_abandon(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id, ck_error *err);

/* updateCheckoutSessionStateAction: moves the session's state back to
 * `next` (Start or a step path of its flow), only while its state is `exp`
 * (else 409 STATE_MISMATCH), under the session's lease (400
 * CART_ALREADY_IN_PROGRESS while a placement runs). A forward move is 400
 * INVALID_STATE; the same state changes nothing. Like a PATCH rewind,
 * progress goes back to the step before `next`; going back to or before the
 * payment gives back what it committed (holds voided, balances released)
 * and raises inputsVersion. Unknown or invisible session: 404; completed:
 * 409 SESSION_COMPLETED. 0 or <0. */
int ck_session_set_state(ck_ctx *cx, ck_db *db, const ck_user *user, const char *session_id, const char *exp,
                         const char *next, ck_error *err);

/* The session as API.md's JSON, or 404 when it does not exist or the user
 * may not buy for its account. *out belongs to the caller. */
int ck_session_json(ck_db *db, const ck_user *user, const char *session_id, json_t **out, ck_error *err);

/* The request as API.md's JSON; 404 unless the user made it or is an admin. */
int ck_request_json(ck_db *db, const ck_user *user, const char *request_id, json_t **out, ck_error *err);

#endif
