/* subscribers.h: the subscribers repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_SUBSCRIBERS_H
#define CK_STORE_SUBSCRIBERS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* A subscriber an event goes to: its id and kind ("webhook", "email"). */
typedef struct ck_subscriber_ref {
    char id[CK_ID_MAX], kind[16];
} ck_subscriber_ref;

/* Every subscriber, not deleted, whose events list holds event_type, by id.
 * *out (caller frees) gets *n. 0 or <0. */
int ck_subscribers_for_event(ck_db *db, const char *event_type, ck_subscriber_ref **out, int *n, ck_error *err);

#endif
