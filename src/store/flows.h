/* flows.h: the flows repository: a store's own checkout flows (the
 * standard flow is no row: src/flows/standard.c) and the counts of the
 * sessions pinned to them. Each function runs in the caller's transaction,
 * if any. What a function gives belongs to the caller. */
#ifndef CK_STORE_FLOWS_H
#define CK_STORE_FLOWS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/jsonin.h"
#include "core/util.h"

#define CK_FLOW_STATUS_MAX 16

/* A flow row. steps is the JSON text of its steps list as saved (malloc'd;
 * ck_flows_row_clear frees it). */
typedef struct ck_flows_row {
    char id[CK_ID_MAX], store_id[CK_ID_MAX];
    char name[CK_NAME_MAX + 1];
    char status[CK_FLOW_STATUS_MAX];
    int64_t version, created_at, updated_at;
    char *steps;
} ck_flows_row;
void ck_flows_row_clear(ck_flows_row *row);

/* Inserts a Draft of version 1 for store_id; its id goes to id_out. 0 or <0. */
int ck_flows_insert(ck_db *db, const char *store_id, const char *name, const char *steps, int64_t now,
                    char id_out[CK_ID_MAX], ck_error *err);

/* Flow id: 1 with *out filled, 0 no such flow, or <0. */
int ck_flows_get(ck_db *db, const char *id, ck_flows_row *out, ck_error *err);

/* The flow's version and status, without its steps: 1, 0 none, or <0. */
int ck_flows_version(ck_db *db, const char *id, int64_t *version, char status[CK_FLOW_STATUS_MAX], ck_error *err);

/* Replaces a Draft's name (NULL keeps it) and steps and raises its version
 * by one, only while it is a Draft of version `expect`: 1 changed, 0 not
 * (no longer a Draft, or changed meanwhile), or <0. */
int ck_flows_update_draft(ck_db *db, const char *id, int64_t expect, const char *name, const char *steps,
                          int64_t now, ck_error *err);

/* Makes flow_id (NULL: the standard flow) store_id's active flow: the
 * store's Active flow, if another, becomes Inactive; flow_id becomes
 * Active; the store names it. 1 done, 0 the store does not exist, or <0. */
int ck_flows_activate(ck_db *db, const char *store_id, const char *flow_id, int64_t now, ck_error *err);

/* A page of store_id's flows (every store's when NULL; rows, oldest first, after id `after`, "" from
 * the start, at most limit) into *rows (n of them; free each with
 * ck_flows_row_clear, then the array). 0 or <0. */
int ck_flows_list(ck_db *db, const char *store_id, const char *after, int64_t limit, ck_flows_row **rows,
                  size_t *n, ck_error *err);

/* The sessions pinned to flow_id that are neither archived nor Completed,
 * only those of store_id unless it is NULL: 0 with *count, or <0. */
int ck_flows_in_flight(ck_db *db, const char *flow_id, const char *store_id, int64_t *count, ck_error *err);

#endif
