/* manage.c: what an admin does with flows (flows/flows.h): read, list,
 * clone, change a Draft, activate, import. The standard flow is no row: its
 * view is built from its compiled-in definition. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/jsonin.h"
#include "flows/flows.h"
#include "store/flows.h"
#include "store/stores.h"

extern const char ck_flow_standard_json[];

static int read_only(ck_error *err, const char *id, const char *why)
{
    return ck_fail(err, CK_ECONFLICT, "FLOW_READ_ONLY", NULL, "flow %s is %s: only a Draft changes; clone it", id,
                   why);
}

/* The standard flow's steps list (a new reference). */
static json_t *standard_steps(void)
{
    json_t *doc = json_loads(ck_flow_standard_json, 0, NULL);
    json_t *steps = json_incref(json_object_get(doc, "steps"));
    json_decref(doc);
    return steps ? steps : json_array();
}

static int store_missing(ck_error *err, const char *store_id)
{
    int rc = ck_not_found(err, "store", store_id);
    snprintf(err->field, sizeof(err->field), "storeId");
    return rc;
}

/* The view of the standard flow, as store_id (NULL: none) sees it. */
static int standard_view(ck_db *db, const char *store_id, json_t **out, ck_error *err)
{
    const char *status = "Active";
    if (store_id) {
        char active[CK_ID_MAX];
        int rc = ck_stores_active_flow(db, store_id, active, err);
        if (rc <= 0)
            return rc < 0 ? rc : store_missing(err, store_id);
        status = strcmp(active, CK_FLOW_STANDARD_ID) == 0 ? "Active" : "Inactive";
    }
    int64_t inflight = 0;
    int rc = ck_flows_in_flight(db, CK_FLOW_STANDARD_ID, store_id, &inflight, err);
    if (rc < 0)
        return rc;
    /* Shipped with the binary: it has always existed. */
    *out = json_pack("{s:s, s:n, s:s, s:I, s:s, s:b, s:o, s:o, s:o, s:I}", "id", CK_FLOW_STANDARD_ID, "storeId",
                     "name", "Standard", "version", (json_int_t)ck_flow_standard()->version, "status", status,
                     "standard", 1, "steps", standard_steps(), "createdAt", ck_json_time(0), "updatedAt",
                     ck_json_time(0), "inFlightSessions", (json_int_t)inflight);
    return 0;
}

static int row_view(ck_db *db, const ck_flows_row *r, json_t **out, ck_error *err)
{
    int64_t inflight = 0;
    int rc = ck_flows_in_flight(db, r->id, NULL, &inflight, err);
    if (rc < 0)
        return rc;
    json_t *steps = json_loads(r->steps, 0, NULL);
    *out = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b, s:o, s:o, s:o, s:I}", "id", r->id, "storeId", r->store_id,
                     "name", r->name, "version", (json_int_t)r->version, "status", r->status, "standard", 0,
                     "steps", steps ? steps : json_array(), "createdAt", ck_json_time(r->created_at), "updatedAt",
                     ck_json_time(r->updated_at), "inFlightSessions", (json_int_t)inflight);
    return 0;
}

int ck_flow_view(ck_db *db, const char *id, const char *store_id, json_t **out, ck_error *err)
{
    *out = NULL;
    if (strcmp(id, CK_FLOW_STANDARD_ID) == 0)
        return standard_view(db, store_id, out, err);
    ck_flows_row row;
    int rc = ck_flows_get(db, id, &row, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "flow", id);
    rc = row_view(db, &row, out, err);
    ck_flows_row_clear(&row);
    return rc;
}

int ck_flow_list(ck_db *db, const char *store_id, const char *after, int64_t limit, json_t **items,
                 char last_id[CK_ID_MAX], ck_error *err)
{
    json_t *arr = json_array(), *v = NULL;
    ck_flows_row *rows = NULL;
    size_t n = 0;
    int rc = 0;
    *items = NULL;
    last_id[0] = '\0';
    if (!after || !after[0]) {
        if ((rc = standard_view(db, store_id, &v, err)) < 0)
            goto done;
        json_array_append_new(arr, v);
    }
    if (store_id && (rc = ck_stores_exists(db, store_id, err)) <= 0) {
        rc = rc < 0 ? rc : store_missing(err, store_id);
        goto done;
    }
    if ((rc = ck_flows_list(db, store_id, after, limit, &rows, &n, err)) < 0)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if ((rc = row_view(db, &rows[i], &v, err)) < 0)
            goto done;
        json_array_append_new(arr, v);
        snprintf(last_id, CK_ID_MAX, "%s", rows[i].id);
    }
    *items = arr;
    arr = NULL;
    rc = 0;
done:
    for (size_t i = 0; i < n; i++)
        ck_flows_row_clear(&rows[i]);
    free(rows);
    json_decref(arr);
    return rc;
}

/* The steps list as stored: compact JSON text (the caller frees it), or
 * NULL when out of memory. */
static char *steps_text(json_t *steps)
{
    return ck_json_text(steps);
}

/* Checks steps as a merchant's flow must be (CK_FLOW_STRICT), compiling its
 * scripts: 0 or CK_EINVALID INVALID_FLOW naming the step. */
static int check_steps(const char *id, int64_t version, json_t *steps, ck_error *err)
{
    ck_flow *f = NULL;
    int rc = ck_flow_parse_steps(&f, id, version, steps, CK_FLOW_STRICT, err);
    ck_flow_free(f);
    return rc;
}

typedef struct clone_op {
    const char *src_id, *name, *store_id;
    char *id_out;
} clone_op;

static int clone_tx(ck_db *db, void *arg, ck_error *err)
{
    clone_op *op = arg;
    ck_flows_row src;
    json_t *steps = NULL;
    char *text = NULL, name[CK_NAME_MAX + 1];
    const char *store_id = op->store_id;
    int rc;
    memset(&src, 0, sizeof(src));
    if (strcmp(op->src_id, CK_FLOW_STANDARD_ID) == 0) {
        if (!store_id)
            return ck_fail(err, CK_EINVALID, "MISSING_FIELD", "storeId",
                           "'storeId' names the store the copy of the standard flow is for");
        steps = standard_steps();
        snprintf(name, sizeof(name), "Copy of Standard");
    } else {
        if ((rc = ck_flows_get(db, op->src_id, &src, err)) <= 0)
            return rc < 0 ? rc : ck_not_found(err, "flow", op->src_id);
        steps = json_loads(src.steps, 0, NULL);
        /* A generated name within the bound a given one has (never cut). */
        if (strlen(src.name) + 8 <= CK_NAME_MAX)
            snprintf(name, sizeof(name), "Copy of %.192s", src.name);
        else
            snprintf(name, sizeof(name), "Copy of %s", src.id);
        if (!store_id)
            store_id = src.store_id;
    }
    if ((rc = ck_stores_exists(db, store_id, err)) <= 0) {
        rc = rc < 0 ? rc : store_missing(err, store_id);
        goto done;
    }
    if (!(text = steps_text(steps))) {
        rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
        goto done;
    }
    rc = ck_flows_insert(db, store_id, op->name ? op->name : name, text, ck_now_ms(), op->id_out, err);
done:
    free(text);
    json_decref(steps);
    ck_flows_row_clear(&src);
    return rc;
}

int ck_flow_clone(ck_db *db, const char *src_id, const char *name, const char *store_id, char id_out[CK_ID_MAX],
                  ck_error *err)
{
    clone_op op = {.src_id = src_id, .name = name, .store_id = store_id, .id_out = id_out};
    return ck_db_tx(db, 1, clone_tx, &op, err);
}

typedef struct update_op {
    const char *id, *name;
    json_t *steps;
} update_op;

static int update_tx(ck_db *db, void *arg, ck_error *err)
{
    update_op *op = arg;
    int64_t version = 0;
    char status[CK_FLOW_STATUS_MAX];
    if (strcmp(op->id, CK_FLOW_STANDARD_ID) == 0)
        return read_only(err, op->id, "the read-only standard flow");
    int rc = ck_flows_version(db, op->id, &version, status, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "flow", op->id);
    if (strcmp(status, "Draft") != 0)
        return read_only(err, op->id, strcmp(status, "Active") == 0 ? "Active" : "Inactive");
    if ((rc = check_steps(op->id, version + 1, op->steps, err)) < 0)
        return rc;
    char *text = steps_text(op->steps);
    if (!text)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    rc = ck_flows_update_draft(db, op->id, version, op->name, text, ck_now_ms(), err);
    free(text);
    if (rc == 0) /* activated or changed since the read (PostgreSQL; SQLite's writers are serial) */
        return ck_fail(err, CK_ECONFLICT, "FLOW_CHANGED", NULL, "flow %s changed meanwhile; read it and try again",
                       op->id);
    return rc < 0 ? rc : 0;
}

int ck_flow_update(ck_db *db, const char *id, const char *name, json_t *steps, ck_error *err)
{
    update_op op = {.id = id, .name = name, .steps = steps};
    return ck_db_tx(db, 1, update_tx, &op, err);
}

typedef struct activate_op {
    const char *id, *store_id;
} activate_op;

static int activate_tx(ck_db *db, void *arg, ck_error *err)
{
    activate_op *op = arg;
    int rc;
    if (strcmp(op->id, CK_FLOW_STANDARD_ID) == 0) {
        if (!op->store_id)
            return ck_fail(err, CK_EINVALID, "MISSING_FIELD", "storeId",
                           "'storeId' names the store that goes back to the standard flow");
        rc = ck_flows_activate(db, op->store_id, NULL, ck_now_ms(), err);
        return rc < 0 ? rc : rc == 0 ? store_missing(err, op->store_id) : 0;
    }
    ck_flows_row row;
    if ((rc = ck_flows_get(db, op->id, &row, err)) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "flow", op->id);
    if (op->store_id && strcmp(op->store_id, row.store_id) != 0) {
        ck_flows_row_clear(&row);
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "storeId", "flow %s belongs to store %s, not %s", op->id,
                       row.store_id, op->store_id);
    }
    /* Checked again before it runs anything: a row is only ever written
     * checked, but a flow that would not load must not become active. */
    json_t *steps = json_loads(row.steps, 0, NULL);
    rc = check_steps(row.id, row.version, steps, err);
    json_decref(steps);
    if (rc == 0 && strcmp(row.status, "Active") != 0)
        rc = ck_flows_activate(db, row.store_id, row.id, ck_now_ms(), err);
    ck_flows_row_clear(&row);
    return rc < 0 ? rc : 0;
}

int ck_flow_activate(ck_db *db, const char *id, const char *store_id, ck_error *err)
{
    activate_op op = {.id = id, .store_id = store_id};
    return ck_db_tx(db, 1, activate_tx, &op, err);
}

typedef struct import_op {
    const char *store_id, *name;
    json_t *steps;
    char *id_out;
} import_op;

static int import_tx(ck_db *db, void *arg, ck_error *err)
{
    import_op *op = arg;
    int rc = ck_stores_exists(db, op->store_id, err);
    if (rc <= 0)
        return rc < 0 ? rc : store_missing(err, op->store_id);
    if ((rc = check_steps("", 1, op->steps, err)) < 0)
        return rc;
    char *text = steps_text(op->steps);
    if (!text)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    rc = ck_flows_insert(db, op->store_id, op->name, text, ck_now_ms(), op->id_out, err);
    free(text);
    return rc;
}

int ck_flow_import(ck_db *db, const char *store_id, json_t *doc, char id_out[CK_ID_MAX], ck_error *err)
{
    const char *name = json_string_value(json_object_get(doc, "name"));
    json_t *steps = json_object_get(doc, "steps");
    if (!json_is_object(doc))
        return ck_fail(err, CK_EINVALID, "INVALID_FLOW", NULL, "a flow file holds a JSON object with name and steps");
    if (!name || !name[0] || strlen(name) > CK_NAME_MAX)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "name", "'name' must be 1 to %d characters long",
                       CK_NAME_MAX);
    import_op op = {.store_id = store_id, .name = name, .steps = steps, .id_out = id_out};
    return ck_db_tx(db, 1, import_tx, &op, err);
}

/* 1 when target is the path of a leaf of the steps list under prefix ("" at
 * the top). */
static int has_path(json_t *steps, const char *prefix, const char *target)
{
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s) {
        const char *name = json_string_value(json_object_get(s, "name"));
        const char *kind = json_string_value(json_object_get(s, "kind"));
        char path[CK_FLOW_PATH_MAX];
        if (!name || !kind ||
            snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "/" : "", name) >= (int)sizeof(path))
            continue;
        if (strcmp(kind, "subflow") == 0 ? has_path(json_object_get(json_object_get(s, "config"), "steps"), path, target)
                                         : strcmp(path, target) == 0)
            return 1;
    }
    return 0;
}

int ck_flow_state_known(ck_db *db, const char *store_id, const char *state, ck_error *err)
{
    if (strcmp(state, CK_STATE_START) == 0 || strcmp(state, CK_STATE_COMPLETED) == 0 ||
        ck_flow_index(ck_flow_standard(), state) >= 0)
        return 1;
    char after[CK_ID_MAX] = "";
    for (;;) {
        ck_flows_row *rows = NULL;
        size_t n = 0;
        int rc = ck_flows_list(db, store_id, after, 100, &rows, &n, err);
        if (rc < 0)
            return rc;
        int found = 0;
        for (size_t i = 0; i < n; i++) {
            json_t *steps = json_loads(rows[i].steps, 0, NULL);
            found |= has_path(steps, "", state);
            json_decref(steps);
            snprintf(after, sizeof(after), "%s", rows[i].id);
            ck_flows_row_clear(&rows[i]);
        }
        free(rows);
        if (found || n < 100)
            return found;
    }
}
