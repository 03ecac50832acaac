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

/* The fields of a subscriber that a create or a PATCH sets. NULL leaves a
 * text field as it is (on insert: NULL); events is JSON text; a count of 0
 * leaves it as it is (PATCH only). kind is read by insert only. */
typedef struct ck_subscriber_fields {
    const char *kind, *url, *secret, *smtp_url, *from, *events;
    int64_t max_attempts, backoff_base_ms;
} ck_subscriber_fields;

/* Inserts a subscriber (created and updated now); its new id goes to id_out. 0 or <0. */
int ck_subscribers_insert(ck_db *db, const ck_subscriber_fields *f, char id_out[CK_ID_MAX], ck_error *err);

/* A subscriber not deleted, as API.md shows it (id, kind, events,
 * maxAttempts, backoffBaseMs, createdAt, updatedAt, and url, smtpUrl, from
 * when set), except that url and smtpUrl are the stored URLs, password
 * included: the caller masks them before they go out. Never the secret.
 * 1 with *out (the caller's), 0 when there is none, or <0. */
int ck_subscribers_get(ck_db *db, const char *id, json_t **out, ck_error *err);

/* Up to limit subscribers not deleted with an id after `after` ("" for the
 * first page), in id order, each as ck_subscribers_get gives it: *items
 * (the caller's) and the last id in last_id ("" for none). 0 or <0. */
int ck_subscribers_list(ck_db *db, const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX],
                        ck_error *err);

/* The kind ("webhook", "email") and stored URL (url or smtp_url; *url the
 * caller's, NULL when unset) of a subscriber not deleted. 1, 0 when there is
 * none, or <0. */
int ck_subscribers_kind_url(ck_db *db, const char *id, char kind[16], char **url, ck_error *err);

/* Sets the fields f gives (see ck_subscriber_fields) and updated_at = now. 0 or <0. */
int ck_subscribers_update(ck_db *db, const char *id, const ck_subscriber_fields *f, ck_error *err);

/* Deletes a subscriber for good at now: it subscribes to nothing and its
 * secret and URLs are forgotten; the row stays. 1 deleted, 0 when there is
 * none not deleted already, or <0. */
int ck_subscribers_delete(ck_db *db, const char *id, int64_t now, ck_error *err);

#endif
