/* holds.h: voiding card holds in two phases. A commit that has checked the
 * session has no order marks the hold void_pending (ck_hold_mark_void, from
 * ck_session_give_back); from that commit on no order can take the hold.
 * Only then is the gateway asked to void it (ck_hold_void), and a second
 * commit records Voided. A void the gateway did not confirm stays pending
 * (status Authorized, void_pending 1) and the sweeper retries it on every
 * run, whatever the session's age. See docs/payments.md, "Who may change a
 * hold or a balance, and when". */
#ifndef CK_HOLDS_H
#define CK_HOLDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/context.h"
#include "store/payments.h" /* ck_hold */

/* Inside the caller's write transaction, which must already hold the
 * session (ck_session_give_back's guard): marks every Authorized hold of the
 * session that no order took void_pending, except the one made under
 * keep_key (NULL: none). *marked (may be NULL) gets how many. 0 or <0. */
int ck_hold_mark_void(ck_db *db, const char *session_id, const char *keep_key, int64_t *marked, ck_error *err);

/* The void-pending holds of one session (session_id) or of all sessions
 * (NULL), with ids after `after` (NULL: from the first), oldest first, at
 * most max. *out (caller frees) gets *n holds. 0 or <0. */
int ck_hold_list_pending(ck_db *db, const char *session_id, const char *after, size_t max, ck_hold **out, size_t *n,
                         ck_error *err);

/* Called inside the commit that records a void (the sweeper raises its
 * alert there). Returns 0 or <0, which rolls the record back. It runs again
 * if that transaction is retried (ck_db_tx), so it must only write through
 * db and set, not add to, what it reports in arg. */
typedef int (*ck_hold_voided_fn)(ck_db *db, const ck_hold *h, void *arg, ck_error *err);

/* Voids one pending hold at its store's gateway (key void:<holdId>, so a
 * retry is one void) and records it Voided, calling on_voided (may be NULL)
 * in that commit when this call is the one that records it. Call outside a
 * transaction. Returns 1 voided (recorded by this call or, at the same
 * moment, by another), 0 the gateway did not confirm it (it stays pending),
 * <0 on a database error. */
int ck_hold_void(ck_ctx *cx, ck_db *db, const ck_hold *h, ck_hold_voided_fn on_voided, void *arg, ck_error *err);

/* Voids every pending hold of a session (ck_hold_void each). Returns how
 * many were voided, or <0 when the gateway or the database failed for any
 * (the rest stay pending for the sweeper; err says why). */
int ck_hold_void_session(ck_ctx *cx, ck_db *db, const char *session_id, ck_error *err);

/* POST /v1/authorizations/{id}/void (the admin dashboard's "Void"): marks
 * the hold void_pending in a commit that finds it Authorized and taken by
 * no order, then voids it at the gateway (ck_hold_void). 0 voided; 404
 * NOT_FOUND; 409 HOLD_HAS_ORDER (an order took it: capture or cancel the
 * order instead); 409 HOLD_NOT_AUTHORIZED (captured, voided or expired);
 * 500 PAYMENT_GATEWAY_ERROR (still marked: the sweeper retries it). */
int ck_hold_void_one(ck_ctx *cx, ck_db *db, const char *auth_id, ck_error *err);

#endif
