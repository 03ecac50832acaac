/* view.c: read views as JSON from query rows (store/view.h). */
#include <stdarg.h>
#include <stdio.h>

#include "store/view.h"

int ck_view_find(ck_db *db, const char *sql, const char *id, ck_row_json_fn row_json, json_t **out, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = NULL;
    int rc = ck_db_one(db, &st, err, sql, "t", id);
    if (rc <= 0)
        return rc;
    *out = row_json(st);
    ck_db_done(st);
    return 1;
}

int ck_view_one(ck_db *db, const char *sql, const char *id, ck_row_json_fn row_json, const char *kind,
                json_t **out, ck_error *err)
{
    int rc = ck_view_find(db, sql, id, row_json, out, err);
    if (rc == 0)
        return ck_not_found(err, kind, id);
    return rc < 0 ? rc : 0;
}

int ck_view_page(ck_stmt *st, ck_row_json_fn row_json, json_t **items, char last_id[CK_ID_MAX], ck_error *err)
{
    json_t *arr = json_array();
    int rc;
    last_id[0] = '\0';
    while ((rc = ck_db_next(st, err)) == 1) {
        json_array_append_new(arr, row_json(st));
        ck_col_copy(st, 0, last_id, CK_ID_MAX);
    }
    ck_db_done(st);
    if (rc < 0) {
        json_decref(arr);
        arr = NULL;
    }
    *items = arr;
    return rc < 0 ? rc : 0;
}

int ck_view_append(ck_stmt *st, json_t *arr, ck_row_json_fn row_json, ck_error *err)
{
    int rc;
    while ((rc = ck_db_next(st, err)) == 1)
        json_array_append_new(arr, row_json(st));
    ck_db_done(st);
    return rc;
}

int ck_view_list(ck_db *db, ck_row_json_fn row_json, json_t **items, char last_id[CK_ID_MAX], ck_error *err,
                 const char *sql, const char *types, ...)
{
    ck_stmt *st = NULL;
    *items = NULL;
    va_list ap;
    va_start(ap, types);
    int rc = ck_db_vquery(db, &st, err, sql, types, ap);
    va_end(ap);
    return rc < 0 ? rc : ck_view_page(st, row_json, items, last_id, err);
}
