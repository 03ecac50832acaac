/* view.h: inside src/store only: read views as JSON (API.md's field names)
 * built from query rows: one row by its id, or one page of a list. */
#ifndef CK_STORE_VIEW_H
#define CK_STORE_VIEW_H

#include <jansson.h>

#include "checkout/db.h"
#include "core/util.h"

/* Turns the current row of a statement into JSON (a new reference). */
typedef json_t *(*ck_row_json_fn)(ck_stmt *st);

/* The row sql (one '?', bound to id) finds, through row_json: 1 with *out
 * (the caller's); 0 with *out NULL when there is none; or <0. */
int ck_view_find(ck_db *db, const char *sql, const char *id, ck_row_json_fn row_json, json_t **out, ck_error *err);

/* The row sql (one '?', bound to id) finds, through row_json: 0 with *out
 * (the caller's); CK_ENOTFOUND ("<kind> <id> not found") when there is
 * none; or <0. */
int ck_view_one(ck_db *db, const char *sql, const char *id, ck_row_json_fn row_json, const char *kind,
                json_t **out, ck_error *err);

/* One page of a list: runs sql (a query ordered by id, the id in column 0;
 * its parameters from types, bound as ck_db_query binds them) and reads its
 * rows as ck_view_page does: 0 with *items and last_id, or <0 with *items
 * NULL. */
int ck_view_list(ck_db *db, ck_row_json_fn row_json, json_t **items, char last_id[CK_ID_MAX], ck_error *err,
                 const char *sql, const char *types, ...);

/* Every row of st (a query ordered by id, the id in column 0) through
 * row_json; finishes st. 0 with *items (a new array, the caller's) and
 * last_id (the last row's id, "" when there is none), or <0 with *items NULL. */
int ck_view_page(ck_stmt *st, ck_row_json_fn row_json, json_t **items, char last_id[CK_ID_MAX], ck_error *err);

/* Appends row_json() of every row of st (a prepared query) to arr and
 * finishes st: 0 or <0. */
int ck_view_append(ck_stmt *st, json_t *arr, ck_row_json_fn row_json, ck_error *err);

/* Fills one element (elem, zeroed) from the current row of a statement. */
typedef void (*ck_row_read_fn)(ck_stmt *st, void *elem);

/* Every row of st (a prepared query) read by read into a new array of
 * elements of elem_size bytes; finishes st. 0 with *out (caller frees;
 * NULL for none) and *n, or <0 with *out NULL and *n 0. */
int ck_view_rows(ck_stmt *st, size_t elem_size, ck_row_read_fn read, void **out, size_t *n, ck_error *err);

#endif
