/* registry.c: the flows sessions run (flows/flows.h ck_flow_load): a
 * store's flow (id, version) is parsed from its row on first use, its Lua
 * compiled then, and kept for the life of the process. That is safe
 * because (id, version) never names two definitions: only a Draft changes,
 * every change raises its version, and no session starts on a Draft. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flows/flows.h"
#include "store/flows.h"

typedef struct entry {
    struct entry *next;
    ck_flow *flow;
} entry;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static entry *cache;

static const ck_flow *find(const char *id, int64_t version)
{
    for (entry *e = cache; e; e = e->next)
        if (e->flow->version == version && strcmp(e->flow->id, id) == 0)
            return e->flow;
    return NULL;
}

/* Parses flow (id, version) from its row: 0 with *out (the caller's), or <0. */
static int parse_row(ck_db *db, const char *id, int64_t version, ck_flow **out, ck_error *err)
{
    ck_flows_row row;
    *out = NULL;
    int rc = ck_flows_get(db, id, &row, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "the session's flow %s is gone", id);
    if (row.version != version) {
        ck_flows_row_clear(&row);
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL,
                       "the session's flow %s is at version %lld, not the %lld it started on", id,
                       (long long)row.version, (long long)version);
    }
    json_t *steps = json_loads(row.steps, 0, NULL);
    ck_flows_row_clear(&row);
    rc = ck_flow_parse_steps(out, id, version, steps, CK_FLOW_STRICT, err);
    json_decref(steps);
    return rc;
}

int ck_flow_load(ck_db *db, const char *id, int64_t version, const ck_flow **out, ck_error *err)
{
    *out = NULL;
    if (!id[0] || strcmp(id, CK_FLOW_STANDARD_ID) == 0) {
        *out = ck_flow_standard();
        return 0;
    }
    pthread_mutex_lock(&mu);
    *out = find(id, version);
    pthread_mutex_unlock(&mu);
    if (*out)
        return 0;
    /* Parsed outside the lock: another thread may parse the same flow at the
     * same time; the first to store it wins and the other's copy is freed. */
    ck_flow *f = NULL;
    int rc = parse_row(db, id, version, &f, err);
    if (rc < 0)
        return rc;
    entry *e = calloc(1, sizeof(*e));
    if (!e) {
        ck_flow_free(f);
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    }
    pthread_mutex_lock(&mu);
    if ((*out = find(id, version))) {
        ck_flow_free(f);
        free(e);
    } else {
        e->flow = f;
        e->next = cache;
        cache = e;
        *out = f;
    }
    pthread_mutex_unlock(&mu);
    return 0;
}

void ck_flow_cache_clear(void)
{
    pthread_mutex_lock(&mu);
    while (cache) {
        entry *e = cache;
        cache = e->next;
        ck_flow_free(e->flow);
        free(e);
    }
    pthread_mutex_unlock(&mu);
}
