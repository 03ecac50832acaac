/* fulfillment.h: after the order (API.md "Fulfillment, cancellation and
 * returns"; docs/after-the-order.md): the fulfillment order made when an
 * order is released, and the changes to an order after checkout:
 * fulfilments (with their card captures), manual captures, cancellations
 * and returns (with their refunds), each giving money back the way it came.
 *
 * Every change runs through one protocol (change.c). Its amounts, units and
 * gateway keys are fixed in a first commit, under the order's row lock;
 * a change that needs no gateway is applied in that same commit. One that
 * does is written Pending, the gateway is called, and a second commit
 * applies it (Completed) or records the gateway's refusal (Failed). An
 * order has at most one Pending change, leased by the caller driving it:
 * a later change of the order waits for it, and once the lease has run out
 * (the caller died; SQLite start-up ends the leases at once) any later
 * change, or the sweeper, completes it with the same gateway keys. So a
 * crash between the gateway and the commit never loses money or moves it
 * twice. */
#ifndef CK_FULFILLMENT_H
#define CK_FULFILLMENT_H

#include <jansson.h>

#include "checkout/db.h"
#include "core/context.h"
#include "core/user.h"

/* In the commit that releases an order (the confirm step, an approval):
 * its fulfillment order, Allocated, then the OrderReleased event (data
 * {"order"}) and the FulfillmentOrderCreated event (data
 * {"fulfillmentOrder","order"}), in that order, both with one view of the
 * order that already names its fulfillment order. session_id (NULL: none)
 * goes on the events' rows. view (NULL: not wanted) gets that view of the
 * order (the caller's to free) when this call released it. An order
 * released before is left alone. 0 or <0. */
int ck_order_release(ck_db *db, const char *order_id, const char *session_id, json_t **view, ck_error *err);

/* The fulfillment order (store/fulfillment.h's JSON): 0 with *out, 404
 * NOT_FOUND, or <0. No transaction of its own. */
int ck_fo_view(ck_db *db, const char *fo_id, json_t **out, ck_error *err);

/* What a change asks for. items: [{"orderItemId","quantity"}] already
 * checked for shape (a JSON array of objects with a string and an integer
 * >= 1), or NULL (a cancel of everything not yet fulfilled). request_key:
 * the caller's Idempotency-Key with its user ("usr_...\n<key>"), or NULL. */
typedef struct ck_change_req {
    json_t *items;
    const char *tracking; /* fulfil: trackingNumber, or NULL */
    int64_t amount;       /* manual capture: the amount, or -1 for the rest */
    const char *request_key;
} ck_change_req;

/* POST /v1/fulfillment-orders/{id}/fulfill: 0 with *out the fulfillment
 * order; 404; 400 UNKNOWN_ORDER_ITEM / DUPLICATE_ORDER_ITEM (field items);
 * 409 OVER_FULFILLMENT; 409 AUTHORIZATION_NOT_OPEN (a card order whose hold
 * expired or was voided); 400 PAYMENT_DECLINED (recorded Failed); 500
 * PAYMENT_GATEWAY_ERROR (Pending: a retry completes it). */
int ck_fulfil(ck_ctx *cx, ck_db *db, const char *fo_id, const ck_change_req *rq, json_t **out, ck_error *err);

/* POST /v1/orders/{id}/cancel: 0 with *out the order; 404; 400 as above;
 * 409 NOTHING_TO_CANCEL; 500 PAYMENT_GATEWAY_ERROR. */
int ck_order_cancel(ck_ctx *cx, ck_db *db, const char *order_id, const ck_change_req *rq, json_t **out,
                    ck_error *err);

/* POST /v1/orders/{id}/returns: 0 with *out the order; 404; 400 as above;
 * 409 NOTHING_TO_RETURN; 500 PAYMENT_GATEWAY_ERROR. */
int ck_order_return(ck_ctx *cx, ck_db *db, const char *order_id, const ck_change_req *rq, json_t **out,
                    ck_error *err);

/* POST /v1/orders/{id}/capture: rq->amount (or the rest) of the order's
 * card authorization, counted with the fulfilments' captures. *out the
 * payment {"id","authorizationId","amount","createdAt"}. 404 invisible
 * order; 400 NOTHING_TO_CAPTURE, CAPTURE_EXCEEDS_AUTHORIZATION (field
 * amount) or PAYMENT_DECLINED; 500 PAYMENT_GATEWAY_ERROR. */
int ck_order_capture(ck_ctx *cx, ck_db *db, const ck_user *user, const char *order_id, const ck_change_req *rq,
                     json_t **out, ck_error *err);

/* The sweeper's part: completes the Pending changes whose lease ran out
 * (their caller died, or the gateway did not answer it). *done gets how
 * many were settled (Completed or Failed). 0 or <0. */
int ck_changes_settle_stale(ck_ctx *cx, ck_db *db, int *done, ck_error *err);

#endif
