/* flows.c: the flows repository (store/flows.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/flows.h"

#define FLOW_COLS "id, store_id, name, version, status, created_at, updated_at, steps"

void ck_flows_row_clear(ck_flows_row *row)
{
    if (!row)
        return;
    free(row->steps);
    row->steps = NULL;
}

/* The current row of a FLOW_COLS query into out (steps copied). 0 or <0. */
static int read_row(ck_stmt *st, ck_flows_row *out, ck_error *err)
{
    memset(out, 0, sizeof(*out));
    if (ck_col_copy(st, 0, out->id, sizeof(out->id)) != 1 ||
        ck_col_copy(st, 1, out->store_id, sizeof(out->store_id)) != 1 ||
        ck_col_copy(st, 2, out->name, sizeof(out->name)) != 1 || ck_col_copy(st, 4, out->status, sizeof(out->status)) != 1)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "a flow row holds a value too long to read");
    out->version = ck_col_int(st, 3);
    out->created_at = ck_col_int(st, 5);
    out->updated_at = ck_col_int(st, 6);
    if (!(out->steps = strdup(ck_col_text(st, 7))))
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    return 0;
}

int ck_flows_insert(ck_db *db, const char *store_id, const char *name, const char *steps, int64_t now,
                    char id_out[CK_ID_MAX], ck_error *err)
{
    ck_id_new(id_out, "flow");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO flows (id, store_id, name, version, status, steps, created_at, updated_at)"
                      " VALUES (?, ?, ?, 1, 'Draft', ?, ?, ?)",
                      "ttttii", id_out, store_id, name, steps, now, now);
}

int ck_flows_get(ck_db *db, const char *id, ck_flows_row *out, ck_error *err)
{
    ck_stmt *st = NULL;
    memset(out, 0, sizeof(*out));
    int rc = ck_db_one(db, &st, err, "SELECT " FLOW_COLS " FROM flows WHERE id = ?", "t", id);
    if (rc == 1 && (rc = read_row(st, out, err)) == 0)
        rc = 1;
    if (rc < 0)
        ck_flows_row_clear(out);
    ck_db_done(st);
    return rc;
}

int ck_flows_version(ck_db *db, const char *id, int64_t *version, char status[CK_FLOW_STATUS_MAX], ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT version, status FROM flows WHERE id = ?", "t", id);
    if (rc == 1) {
        *version = ck_col_int(st, 0);
        ck_col_copy(st, 1, status, CK_FLOW_STATUS_MAX);
    }
    ck_db_done(st);
    return rc;
}

int ck_flows_update_draft(ck_db *db, const char *id, int64_t expect, const char *name, const char *steps,
                          int64_t now, ck_error *err)
{
    return ck_db_changed(db, err,
                         "UPDATE flows SET name = COALESCE(?, name), steps = ?, version = version + 1,"
                         " updated_at = ? WHERE id = ? AND status = 'Draft' AND version = ?",
                         "ttiti", name, steps, now, id, expect);
}

int ck_flows_activate(ck_db *db, const char *store_id, const char *flow_id, int64_t now, ck_error *err)
{
    int rc = ck_db_changed(db, err, "UPDATE stores SET active_flow_id = ?, updated_at = ? WHERE id = ?", "tit",
                           flow_id ? flow_id : "flow_standard", now, store_id);
    if (rc <= 0)
        return rc;
    /* The old Active one steps down before the new one rises: the partial
     * unique index allows one Active flow per store at every statement. */
    if ((rc = ck_db_exec(db, NULL, err,
                         "UPDATE flows SET status = 'Inactive', updated_at = ?"
                         " WHERE store_id = ? AND status = 'Active' AND id <> ?",
                         "itt", now, store_id, flow_id ? flow_id : "")) < 0)
        return rc;
    if (flow_id && (rc = ck_db_exec(db, NULL, err,
                                    "UPDATE flows SET status = 'Active', updated_at = ?"
                                    " WHERE id = ? AND store_id = ? AND status <> 'Active'",
                                    "itt", now, flow_id, store_id)) < 0)
        return rc;
    return 1;
}

int ck_flows_list(ck_db *db, const char *store_id, const char *after, int64_t limit, ck_flows_row **rows,
                  size_t *n, ck_error *err)
{
    ck_stmt *st = NULL;
    *rows = NULL;
    *n = 0;
    int rc = store_id ? ck_db_query(db, &st, err,
                                    "SELECT " FLOW_COLS " FROM flows WHERE store_id = ? AND id > ? ORDER BY id LIMIT ?",
                                    "tti", store_id, after ? after : "", limit)
                      : ck_db_query(db, &st, err, "SELECT " FLOW_COLS " FROM flows WHERE id > ? ORDER BY id LIMIT ?",
                                    "ti", after ? after : "", limit);
    if (rc < 0)
        return rc;
    ck_flows_row *out = calloc(limit > 0 ? (size_t)limit : 1, sizeof(*out));
    if (!out) {
        ck_db_done(st);
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    }
    size_t k = 0;
    while ((rc = ck_db_next(st, err)) == 1 && k < (size_t)limit) {
        if ((rc = read_row(st, &out[k], err)) < 0)
            break;
        k++;
    }
    ck_db_done(st);
    if (rc < 0) {
        for (size_t i = 0; i <= k && i < (size_t)limit; i++)
            ck_flows_row_clear(&out[i]);
        free(out);
        return rc;
    }
    *rows = out;
    *n = k;
    return 0;
}

int ck_flows_in_flight(ck_db *db, const char *flow_id, const char *store_id, int64_t *count, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = store_id ? ck_db_one(db, &st, err,
                                  "SELECT COUNT(*) FROM checkout_sessions WHERE flow_id = ? AND store_id = ?"
                                  " AND is_archived = 0 AND state <> 'Completed'",
                                  "tt", flow_id, store_id)
                      : ck_db_one(db, &st, err,
                                  "SELECT COUNT(*) FROM checkout_sessions WHERE flow_id = ?"
                                  " AND is_archived = 0 AND state <> 'Completed'",
                                  "t", flow_id);
    *count = rc == 1 ? ck_col_int(st, 0) : 0;
    ck_db_done(st);
    return rc < 0 ? rc : 0;
}
