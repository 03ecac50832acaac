/* giveback.h: the one way a checkout session's money goes back to the buyer
 * before an order exists: its card holds are marked for void and its
 * reserved or debited balances are released, in one commit that first
 * checks the session still has no order. create_order, in its own commit,
 * takes only a hold that is still Authorized and not marked, and only a
 * reservation that is still in place. Both commits begin with a conditional
 * UPDATE of the session row, so on PostgreSQL they queue on that row and the
 * second sees what the first committed; SQLite's write transactions are
 * serial already. Whichever commits first wins. (docs/payments.md, "Who may
 * change a hold or a balance, and when".) */
#ifndef CK_GIVEBACK_H
#define CK_GIVEBACK_H

#include <stdint.h>

#include "checkout/db.h"

typedef struct ck_giveback_opts {
    /* The caller's lease on the session; NULL: nobody may hold a live lease
     * (the sweeper on an archived session, authorization expiry). */
    const char *lease_owner;
    int64_t idle_before;  /* > 0: only while the session's updated_at is older than this (ms) */
    int rewind;           /* rewind a session whose last step is payment, so it pays again */
} ck_giveback_opts;

typedef struct ck_giveback_result {
    int64_t holds;    /* holds marked void_pending (void them after the commit: ck_hold_void_session) */
    int64_t balances; /* balances given back */
    int rewound;      /* 1: the payment step was undone */
} ck_giveback_result;

/* Inside the caller's write transaction: when the session has no order and
 * the conditions of opts hold, runs the commit half of every compensate its
 * flow's steps declare (the payment step: marks its live holds void_pending,
 * releases its balances) and (opts->rewind) undoes its payment step. Returns 1 when it
 * did so (out filled), 0 when the session has an order or a condition does
 * not hold (nothing changed), <0 on error. */
int ck_session_give_back(ck_db *db, const char *session_id, const ck_giveback_opts *opts, ck_giveback_result *out,
                         ck_error *err);

/* Undoes a session's payment step inside the caller's transaction, when the
 * session has no order and lastSuccessfulStep is the flow's compensated
 * step (ck_flow_compensated: payment in the standard flow): rewinds it to
 * the step before (business_rules; state payment) and increments
 * inputsVersion, so placing again pays again under a fresh idempotency key
 * (the old key would return the voided hold). Returns 1 when rewound, 0 when
 * there was nothing to undo, <0 on error. */
int ck_session_undo_payment(ck_db *db, const char *session_id, ck_error *err);

#endif
