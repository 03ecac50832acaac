/* change.h: inside src/fulfillment only: a change's plan, the planners of
 * each kind (plan.c) and the protocol that runs them (change.c). */
#ifndef CK_FULFILLMENT_CHANGE_H
#define CK_FULFILLMENT_CHANGE_H

#include "fulfillment/fulfillment.h"
#include "store/fulfillment.h"

/* A card refund a change plans: of this capture (payments row), this much. */
typedef struct ck_plan_refund {
    char payment_id[CK_ID_MAX];
    int64_t amount;
} ck_plan_refund;

/* What a planner decides, in the first commit, under the order's lock.
 * c: the change row (id, kind, seq, amounts, keys; the planner fills what
 * its kind needs, the protocol the rest); items: the units moved with their
 * shares (capacity: one per line); refunds: the card refunds (capacity: one
 * per capture). */
typedef struct ck_plan {
    ck_change_row c;
    ck_change_item *items;
    size_t n;
    ck_plan_refund *refunds;
    size_t nref;
} ck_plan;

/* What a planner reads: the locked order, its lines, its card authorization
 * (status "" when it has none) and its captures, newest first. */
typedef struct ck_plan_in {
    const ck_ful_order *o;
    const ck_ful_line *lines;
    size_t nl;
    const ck_ful_auth *auth;
    const ck_ful_payment *pays;
    size_t np;
    const ck_change_req *rq;
} ck_plan_in;

/* A planner: fills p from in (0) or refuses (<0 with err: 400, 409). It
 * reads only what in gives it, plus the change's sequence number. */
typedef int (*ck_planner)(ck_db *db, const ck_plan_in *in, ck_plan *p, ck_error *err);

int ck_plan_fulfill(ck_db *db, const ck_plan_in *in, ck_plan *p, ck_error *err);
int ck_plan_cancel(ck_db *db, const ck_plan_in *in, ck_plan *p, ck_error *err);
int ck_plan_return(ck_db *db, const ck_plan_in *in, ck_plan *p, ck_error *err);
int ck_plan_capture(ck_db *db, const ck_plan_in *in, ck_plan *p, ck_error *err);

/* Runs one change of order_id of kind through the protocol (fulfillment.h)
 * with planner; *change_id gets the change's id once it succeeded (made
 * now, or the one rq->request_key made before). 0, or <0 with err. */
int ck_change_run(ck_ctx *cx, ck_db *db, const char *order_id, const char *kind, ck_planner planner,
                  const ck_change_req *rq, char change_id[CK_ID_MAX], ck_error *err);

/* 1 when the card authorization can still be captured at now: open
 * (Authorized or PartiallyCaptured), not marked for void, not past its date. */
int ck_auth_capturable(const ck_ful_auth *a, int64_t now);

#endif
