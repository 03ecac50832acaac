/* flow.c: the flow object: the standard flow, the kinds a flow may use, and
 * the step arithmetic (index of a path, state succession, resume, rewind).
 * Parsing a definition is parse.c's. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "flows/extensions.h"
#include "flows/flow.h"

extern const char ck_flow_standard_json[];

const ck_step_kind *ck_flow_builtin_lookup(const char *kind, const char *name, void *arg)
{
    (void)arg;
    return strcmp(kind, "builtin") == 0 ? ck_step_builtin(name) : NULL;
}

const ck_step_kind *ck_flow_kind_lookup(const char *kind, const char *name, void *arg)
{
    if (strcmp(kind, "lua") == 0)
        return &ck_step_lua;
    if (strcmp(kind, "http") == 0)
        return &ck_step_http;
    return ck_flow_builtin_lookup(kind, name, arg);
}

int ck_flow_group_rule(const ck_step_kind *a, const ck_step_kind *b)
{
    if ((a->flags | b->flags) & CK_STEP_EXTERNAL)
        return 0;
    if ((a->flags & CK_STEP_PURE) && (b->flags & CK_STEP_PURE))
        return 1;
    return (a->flags & CK_STEP_ORDER) && (b->flags & CK_STEP_ORDER);
}

static ck_flow *standard;
static pthread_once_t standard_once = PTHREAD_ONCE_INIT;

static void standard_load(void)
{
    ck_error err;
    ck_error_clear(&err);
    if (ck_flow_parse_ex(&standard, ck_flow_standard_json, ck_flow_builtin_lookup, NULL, CK_FLOW_STRICT, &err) < 0) {
        ck_log(CK_LOG_ERROR, "the standard flow does not parse", "error", err.message, NULL);
        abort();
    }
}

const ck_flow *ck_flow_standard(void)
{
    pthread_once(&standard_once, standard_load);
    return standard;
}

int ck_flow_index(const ck_flow *f, const char *path)
{
    for (size_t i = 0; path && i < f->nsteps; i++)
        if (strcmp(f->steps[i].path, path) == 0)
            return (int)i;
    return -1;
}

size_t ck_flow_group_end(const ck_flow *f, size_t i)
{
    size_t end = i;
    while (end < f->nsteps && f->steps[end].group == f->steps[i].group)
        end++;
    return end;
}

const char *ck_flow_state_after(const ck_flow *f, const char *state)
{
    if (strcmp(state, CK_STATE_START) == 0)
        return f->nsteps ? f->steps[0].path : CK_STATE_COMPLETED;
    int i = ck_flow_index(f, state);
    if (i < 0)
        return NULL;
    return (size_t)i + 1 < f->nsteps ? f->steps[i + 1].path : CK_STATE_COMPLETED;
}

size_t ck_flow_resume_index(const ck_flow *f, const char *last)
{
    return last && last[0] ? (size_t)(ck_flow_index(f, last) + 1) : 0;
}

int ck_flow_rewind_target(const ck_flow *f, const char *last, unsigned changed, const char **to)
{
    int reader = -1;
    for (size_t i = 0; changed && i < f->nsteps && reader < 0; i++)
        if (f->steps[i].reads & changed)
            reader = (int)i;
    int last_idx = last && last[0] ? ck_flow_index(f, last) : -1;
    *to = NULL;
    if (reader < 0 || last_idx < reader)
        return 0;
    *to = reader > 0 ? f->steps[reader - 1].path : NULL;
    return 1;
}

int ck_flow_compensated(const ck_flow *f, const char **before)
{
    *before = NULL;
    for (size_t i = f->nsteps; i-- > 0;)
        if (f->steps[i].kind->compensate) {
            *before = i > 0 ? f->steps[i - 1].path : NULL;
            return (int)i;
        }
    return -1;
}
