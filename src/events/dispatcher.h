/* dispatcher.h: delivering outbox events to subscribers. */
#ifndef CK_DISPATCHER_H
#define CK_DISPATCHER_H

#include "core/context.h"

/* Starts / stops the delivery workers (started by ck_app_start). */
int ck_dispatcher_start(ck_ctx *cx, ck_error *err);
void ck_dispatcher_stop(ck_ctx *cx);
void ck_dispatcher_wake(ck_ctx *cx);

/* Turns undispatched outbox events into one Pending delivery per matching
 * subscriber, in one transaction per batch. Returns deliveries created. */
int ck_dispatch_fanout(ck_db *db, ck_error *err);

/* Claims one due delivery and attempts it. 1 attempted, 0 none due, <0 error. */
int ck_dispatch_one(ck_ctx *cx, ck_db *db, ck_error *err);

/* Puts a Dead delivery back to Pending with its attempts reset, due now.
 * 404 unknown; 409 DELIVERY_NOT_DEAD. */
int ck_delivery_replay(ck_ctx *cx, ck_db *db, const char *delivery_id, ck_error *err);

#endif
