/* outbox.h: the outbox repository: outbox_events rows, written in the commit
 * of the change they report and fanned out to deliveries once. Each function
 * runs in the caller's transaction (ck_db_tx) unless its comment says
 * otherwise. */
#ifndef CK_STORE_OUTBOX_H
#define CK_STORE_OUTBOX_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* Inserts an event row (order_id, session_id may be NULL; payload is its
 * JSON text). 0 or <0. */
int ck_outbox_insert(ck_db *db, const char *id, const char *type, const char *order_id, const char *session_id,
                     const char *payload, int64_t created_at, ck_error *err);

/* An event not yet fanned out; order_id is "" for none. */
typedef struct ck_outbox_event {
    char id[CK_ID_MAX], type[32], order_id[CK_ID_MAX];
} ck_outbox_event;

/* The oldest undispatched events, by id, at most max, into out[0..*n). 0 or <0. */
int ck_outbox_undispatched(ck_db *db, int max, ck_outbox_event *out, int *n, ck_error *err);

/* Marks an event dispatched (its deliveries are made). 0 or <0. */
int ck_outbox_mark_dispatched(ck_db *db, const char *event_id, ck_error *err);

#endif
