/* view.c: read views as JSON from query rows (store/view.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int ck_view_rows(ck_stmt *st, size_t elem_size, ck_row_read_fn read, void **out, size_t *n, ck_error *err)
{
    char *arr = NULL;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    int rc;
    while ((rc = ck_db_next(st, err)) == 1) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            char *grown = realloc(arr, nc * elem_size);
            if (!grown) {
                rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
                break;
            }
            arr = grown;
            cap = nc;
        }
        memset(arr + *n * elem_size, 0, elem_size);
        read(st, arr + (*n)++ * elem_size);
    }
    ck_db_done(st);
    if (rc < 0) {
        free(arr);
        *n = 0;
        return rc;
    }
    *out = arr;
    return 0;
}
