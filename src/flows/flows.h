/* flows.h: flows as data, the domain operations: the flow a session is
 * pinned to (parsed once per process per flow version, its Lua compiled
 * once, and kept), and what an admin does with a store's flows: read,
 * list, clone, change a Draft, activate, import. Each operation runs in its
 * own transaction (nested in the caller's, if any). API.md "Flows";
 * docs/flows.md. */
#ifndef CK_FLOWS_FLOWS_H
#define CK_FLOWS_FLOWS_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "flows/flow.h"

/* The flow (id, version) a session is pinned to: the standard flow, or a
 * store's flow parsed from its row. 0 with *out (borrowed: it lives until
 * ck_flow_cache_clear), or <0 (INTERNAL_ERROR when the flow is gone or
 * no longer at that version: the session cannot run). */
int ck_flow_load(ck_db *db, const char *id, int64_t version, const ck_flow **out, ck_error *err);

/* Frees every flow ck_flow_load kept (at exit, once nothing runs). */
void ck_flow_cache_clear(void);

/* Flow id as API.md gives it, with inFlightSessions (counted for store_id's
 * sessions only when it is not NULL; the standard flow's status is then
 * that store's view of it). 0 with *out (the caller's), CK_ENOTFOUND, or <0. */
int ck_flow_view(ck_db *db, const char *id, const char *store_id, json_t **out, ck_error *err);

/* A page of flows: on the first page (after "") the standard flow, then
 * store_id's flows (every store's when NULL), oldest first, at most limit of
 * them. 0 with *items (the caller's) and last_id (the last store flow's id,
 * "" when none), or <0. */
int ck_flow_list(ck_db *db, const char *store_id, const char *after, int64_t limit, json_t **items,
                 char last_id[CK_ID_MAX], ck_error *err);

/* A Draft copy of flow src_id (the standard one or a store's) for store_id
 * (NULL: the source's store), named name (NULL: "Copy of <source name>").
 * 0 with id_out; CK_ENOTFOUND (the flow, or the store: field storeId);
 * CK_EINVALID (storeId required to clone the standard flow); or <0. */
int ck_flow_clone(ck_db *db, const char *src_id, const char *name, const char *store_id, char id_out[CK_ID_MAX],
                  ck_error *err);

/* Replaces Draft id's steps (and name, unless NULL) and raises its version.
 * 0; CK_ENOTFOUND; CK_ECONFLICT FLOW_READ_ONLY (the standard flow, or not a
 * Draft); CK_EINVALID INVALID_FLOW naming the step; or <0. */
int ck_flow_update(ck_db *db, const char *id, const char *name, json_t *steps, ck_error *err);

/* Makes flow id its store's active flow (the standard one: store_id's,
 * which is then required), freezing it; the store's previous flow becomes
 * Inactive. Activating the active flow changes nothing. 0; CK_ENOTFOUND;
 * CK_EINVALID (storeId missing, or naming another store than the flow's);
 * or <0. */
int ck_flow_activate(ck_db *db, const char *id, const char *store_id, ck_error *err);

/* A Draft in store_id from an exported flow document ({"name","steps",...},
 * as ck_flow_view gives it; other fields are ignored), checked as a PUT
 * checks it. 0 with id_out, CK_ENOTFOUND (the store), CK_EINVALID, or <0. */
int ck_flow_import(ck_db *db, const char *store_id, json_t *doc, char id_out[CK_ID_MAX], ck_error *err);

/* 1 when state is a session state some flow has: Start, Completed, a step
 * of the standard flow, or a step path of a flow of store_id (of any store
 * when NULL); 0 when none has it; or <0. */
int ck_flow_state_known(ck_db *db, const char *store_id, const char *state, ck_error *err);

#endif
