/* flow.c: the flow object: parsing a definition into a flat list of step
 * paths with their kinds and commit groups, the standard flow, and the step
 * arithmetic (index of a path, state succession, resume, rewind). */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "flows/flow.h"

extern const char ck_flow_standard_json[];

const ck_step_kind *ck_flow_builtin_lookup(const char *kind, const char *name, void *arg)
{
    (void)arg;
    return strcmp(kind, "builtin") == 0 ? ck_step_builtin(name) : NULL;
}

int ck_flow_group_rule(const ck_step_kind *a, const ck_step_kind *b)
{
    if ((a->flags | b->flags) & CK_STEP_EXTERNAL)
        return 0;
    if ((a->flags & CK_STEP_PURE) && (b->flags & CK_STEP_PURE))
        return 1;
    return (a->flags & CK_STEP_ORDER) && (b->flags & CK_STEP_ORDER);
}

typedef struct parser {
    ck_flow *f;
    size_t cap;
    ck_step_kind_lookup lookup;
    void *arg;
    ck_error *err;
} parser;

static int invalid(parser *p, const char *path, const char *what)
{
    return ck_fail(p->err, CK_EINVALID, "INVALID_FLOW", "steps", "step '%s': %s", path, what);
}

/* Appends the steps of list under prefix ("" at the top), subflows
 * flattened into their children. 0 or <0 (err names the step). */
static int add_steps(parser *p, json_t *list, const char *prefix, int depth)
{
    size_t i;
    json_t *s;
    if (!json_is_array(list))
        return invalid(p, prefix[0] ? prefix : "(flow)", "steps must be a list");
    json_array_foreach(list, i, s) {
        const char *name = json_string_value(json_object_get(s, "name"));
        const char *kind = json_string_value(json_object_get(s, "kind"));
        char path[CK_FLOW_PATH_MAX];
        if (!name || !name[0] || strchr(name, '/'))
            return invalid(p, prefix[0] ? prefix : "(flow)", "a step needs a name without '/'");
        int n = prefix[0] ? snprintf(path, sizeof(path), "%s/%s", prefix, name)
                          : snprintf(path, sizeof(path), "%s", name);
        if (n < 0 || (size_t)n >= sizeof(path))
            return invalid(p, name, "the step's path is too long");
        if (!kind)
            return invalid(p, path, "a step needs a kind");
        if (strcmp(kind, "subflow") == 0) {
            if (depth + 1 >= CK_FLOW_DEPTH_MAX)
                return invalid(p, path, "subflows nest too deep");
            int rc = add_steps(p, json_object_get(json_object_get(s, "config"), "steps"), path, depth + 1);
            if (rc < 0)
                return rc;
            continue;
        }
        const ck_step_kind *k = p->lookup(kind, name, p->arg);
        if (!k)
            return invalid(p, path, "unknown step");
        if (ck_flow_index(p->f, path) >= 0)
            return invalid(p, path, "the flow has this step twice");
        if (p->f->nsteps == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 16;
            ck_flow_step *grown = realloc(p->f->steps, p->cap * sizeof(*grown));
            if (!grown)
                return ck_fail(p->err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
            p->f->steps = grown;
        }
        ck_flow_step *fs = &p->f->steps[p->f->nsteps++];
        memset(fs, 0, sizeof(*fs));
        snprintf(fs->path, sizeof(fs->path), "%s", path);
        const char *slash = strrchr(fs->path, '/');
        fs->name = slash ? slash + 1 : fs->path;
        fs->kind = k;
    }
    return 0;
}

int ck_flow_parse(ck_flow **out, const char *json, ck_step_kind_lookup lookup, void *arg, ck_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loads(json, 0, &jerr);
    ck_flow *f = calloc(1, sizeof(*f));
    parser p = {.f = f, .cap = 0, .lookup = lookup, .arg = arg, .err = err};
    int rc = 0;
    *out = NULL;
    if (!f) {
        rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
        goto done;
    }
    if (!json_is_object(doc)) {
        rc = ck_fail(err, CK_EINVALID, "INVALID_FLOW", NULL, "the flow definition is not a JSON object: %s",
                     jerr.text);
        goto done;
    }
    const char *id = json_string_value(json_object_get(doc, "id"));
    snprintf(f->id, sizeof(f->id), "%s", id ? id : "");
    f->version = json_integer_value(json_object_get(doc, "version"));
    if ((rc = add_steps(&p, json_object_get(doc, "steps"), "", 0)) < 0)
        goto done;
    for (size_t i = 0; i < f->nsteps; i++)
        f->steps[i].group = i == 0 ? 0
                            : ck_flow_group_rule(f->steps[i - 1].kind, f->steps[i].kind) ? f->steps[i - 1].group
                                                                                         : f->steps[i - 1].group + 1;
    f->ngroups = f->nsteps ? f->steps[f->nsteps - 1].group + 1 : 0;
    *out = f;
    f = NULL;
done:
    json_decref(doc);
    ck_flow_free(f);
    return rc;
}

void ck_flow_free(ck_flow *f)
{
    if (!f)
        return;
    free(f->steps);
    free(f);
}

static ck_flow *standard;
static pthread_once_t standard_once = PTHREAD_ONCE_INIT;

static void standard_load(void)
{
    ck_error err;
    ck_error_clear(&err);
    if (ck_flow_parse(&standard, ck_flow_standard_json, ck_flow_builtin_lookup, NULL, &err) < 0) {
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
        if (f->steps[i].kind->reads & changed)
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

const char *ck_flow_next_state(const char *state)
{
    return ck_flow_state_after(ck_flow_standard(), state);
}
