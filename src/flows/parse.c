/* parse.c: a flow definition (JSON) into a ck_flow: the steps flattened to
 * their paths, each with its kind, `when`, config and what its kind
 * prepared of it; the commit groups; and the checks that make a merchant's
 * flow safe to run (API.md "Flows", docs/flows.md). */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flows/flow.h"

typedef struct parser {
    ck_flow *f;
    size_t cap;
    ck_step_kind_lookup lookup;
    void *arg;
    ck_error *err;
} parser;

/* INVALID_FLOW naming the step at path (NULL: the flow's own list, which
 * is no step: the error has none). */
static int invalid(parser *p, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int invalid(parser *p, const char *path, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (!path)
        return ck_fail(p->err, CK_EINVALID, "INVALID_FLOW", "steps", "the flow: %s", what);
    int rc = ck_fail(p->err, CK_EINVALID, "INVALID_FLOW", "steps", "step '%s': %s", path, what);
    snprintf(p->err->step, sizeof(p->err->step), "%s", path);
    return rc;
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > CK_FLOW_NAME_MAX)
        return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
              *c == '-'))
            return 0;
    return 1;
}

/* A step's `when` into *bits (0 when absent): {"paymentMethod": [names]}. */
static int read_when(parser *p, const char *path, json_t *when, unsigned *bits)
{
    *bits = 0;
    if (!when || json_is_null(when))
        return 0;
    const char *key;
    json_t *v;
    if (!json_is_object(when))
        return invalid(p, path, "'when' must be an object such as {\"paymentMethod\": [\"purchase_order\"]}");
    json_object_foreach(when, key, v) {
        if (strcmp(key, "paymentMethod") != 0)
            return invalid(p, path, "'when' may only name payment methods ('paymentMethod'), not '%s'", key);
    }
    json_t *list = json_object_get(when, "paymentMethod");
    if (!json_is_array(list) || json_array_size(list) == 0)
        return invalid(p, path, "'when.paymentMethod' must be a non-empty list of payment methods");
    size_t i;
    json_array_foreach(list, i, v) {
        unsigned bit = ck_payment_method_bit(json_string_value(v));
        if (!bit)
            return invalid(p, path,
                           "'when.paymentMethod' holds an unknown payment method (card, purchase_order, net_terms,"
                           " prepaid, contract)");
        *bits |= bit;
    }
    return 0;
}

static int is_required(const ck_step_kind *k)
{
    return k == &ck_step_payment || k == &ck_step_create_order || k == &ck_step_confirm || k == &ck_step_close_cart;
}

/* Appends one leaf step to the flow. */
static int add_leaf(parser *p, const char *path, const ck_step_kind *k, unsigned when, json_t *config)
{
    if (ck_flow_index(p->f, path) >= 0)
        return invalid(p, path, "the name repeats at one level");
    if (p->f->nsteps >= CK_FLOW_STEPS_MAX)
        return invalid(p, path, "a flow holds at most %d steps", CK_FLOW_STEPS_MAX);
    if (p->f->nsteps == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        ck_flow_step *grown = realloc(p->f->steps, p->cap * sizeof(*grown));
        if (!grown)
            return ck_fail(p->err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
        p->f->steps = grown;
    }
    ck_flow_step *fs = &p->f->steps[p->f->nsteps];
    memset(fs, 0, sizeof(*fs));
    snprintf(fs->path, sizeof(fs->path), "%s", path);
    const char *slash = strrchr(fs->path, '/');
    fs->name = slash ? slash + 1 : fs->path;
    fs->kind = k;
    fs->when = when;
    fs->reads = k->reads | (when ? CK_READS_PAYMENT : 0);
    int empty = !config || json_is_null(config) || (json_is_object(config) && json_object_size(config) == 0);
    if (k->prepare) {
        char msg[200] = "";
        if (k->prepare(config, &fs->prepared, msg, sizeof(msg)) < 0) {
            if (k->release)
                k->release(fs->prepared);
            return invalid(p, path, "%s", msg);
        }
    } else if (!empty) {
        return invalid(p, path, "the step takes no config");
    }
    fs->config = config && !json_is_null(config) ? json_incref(config) : NULL;
    p->f->nsteps++;
    return 0;
}

/* Appends the steps of list under prefix ("" at the top), subflows
 * flattened into their children; depth is how many subflows enclose them,
 * inherited their `when` bits. 0 or <0 (err names the step). */
static int add_steps(parser *p, json_t *list, const char *prefix, int depth, unsigned inherited)
{
    static const char *const step_keys[] = {"name", "kind", "config", "when", NULL};
    const char *where = prefix[0] ? prefix : NULL;
    size_t i;
    json_t *s;
    if (!json_is_array(list))
        return invalid(p, where, "'steps' must be a list");
    if (json_array_size(list) == 0)
        return invalid(p, where, "'steps' is empty");
    json_array_foreach(list, i, s) {
        if (!json_is_object(s))
            return invalid(p, where, "step %zu is not an object", i + 1);
        const char *name = json_string_value(json_object_get(s, "name"));
        const char *kind = json_string_value(json_object_get(s, "kind"));
        char path[CK_FLOW_PATH_MAX];
        if (!name || !name_ok(name))
            return invalid(p, where, "step %zu needs a name of 1 to %d letters, digits, '_' or '-'", i + 1,
                           CK_FLOW_NAME_MAX);
        int n = prefix[0] ? snprintf(path, sizeof(path), "%s/%s", prefix, name)
                          : snprintf(path, sizeof(path), "%s", name);
        if (n < 0 || (size_t)n >= sizeof(path))
            return invalid(p, name, "the step's path is longer than %d characters", CK_FLOW_PATH_MAX - 1);
        /* a session's state is the path of its next step, or one of these two */
        if (!prefix[0] && (strcmp(name, CK_STATE_START) == 0 || strcmp(name, CK_STATE_COMPLETED) == 0))
            return invalid(p, path, "the name '%s' is reserved (a checkout session's state)", name);
        const char *key;
        json_t *v;
        json_object_foreach(s, key, v) {
            int known = 0;
            for (size_t k = 0; step_keys[k]; k++)
                known |= strcmp(step_keys[k], key) == 0;
            if (!known)
                return invalid(p, path, "unknown field '%s' (a step has name, kind, config and when)", key);
        }
        if (!kind)
            return invalid(p, path, "a step needs a kind (builtin, lua, http or subflow)");
        unsigned when;
        int rc = read_when(p, path, json_object_get(s, "when"), &when);
        if (rc < 0)
            return rc;
        if (when && inherited && !(when & inherited))
            return invalid(p, path, "its 'when' and its subflow's have no payment method in common");
        when = when && inherited ? when & inherited : when | inherited;
        json_t *config = json_object_get(s, "config");
        if (strcmp(kind, "subflow") == 0) {
            if (depth + 1 > CK_FLOW_DEPTH_MAX)
                return invalid(p, path, "subflows nest deeper than %d", CK_FLOW_DEPTH_MAX);
            if (!json_is_object(config))
                return invalid(p, path, "a subflow needs config.steps");
            json_object_foreach(config, key, v) {
                if (strcmp(key, "steps") != 0)
                    return invalid(p, path, "a subflow's config holds only 'steps', not '%s'", key);
            }
            if ((rc = add_steps(p, json_object_get(config, "steps"), path, depth + 1, when)) < 0)
                return rc;
            continue;
        }
        const ck_step_kind *k = p->lookup(kind, name, p->arg);
        if (!k) {
            if (strcmp(kind, "builtin") == 0)
                return invalid(p, path, "unknown built-in '%s'", name);
            return invalid(p, path, "unknown step kind '%s' (builtin, lua, http or subflow)", kind);
        }
        if (when && is_required(k))
            return invalid(p, path, "%s always runs: it cannot have a 'when'", k->name);
        if ((rc = add_leaf(p, path, k, when, config)) < 0)
            return rc;
    }
    return 0;
}

/* CK_FLOW_STRICT: each built-in at most once and in the standard order;
 * payment, create_order, confirm and close_cart all there, the last three
 * together at the end (they are the order's one commit: a step between or
 * after them could fail once the order exists). */
static int check_builtins(parser *p)
{
    ck_flow *f = p->f;
    int last_rank = -1;
    const char *last_path = NULL;
    for (size_t i = 0; i < f->nsteps; i++) {
        int rank = ck_step_builtin_rank(f->steps[i].kind);
        if (rank < 0)
            continue;
        if (rank == last_rank)
            return invalid(p, f->steps[i].path, "the built-in %s appears twice", f->steps[i].kind->name);
        if (rank < last_rank)
            return invalid(p, f->steps[i].path, "the built-in %s must come before %s", f->steps[i].kind->name,
                           last_path);
        last_rank = rank;
        last_path = f->steps[i].path;
    }
    static const ck_step_kind *const required[] = {&ck_step_payment, &ck_step_create_order, &ck_step_confirm,
                                                   &ck_step_close_cart};
    for (size_t r = 0; r < 4; r++) {
        int found = 0;
        for (size_t i = 0; i < f->nsteps && !found; i++)
            found = f->steps[i].kind == required[r];
        if (!found)
            return invalid(p, required[r]->name, "the flow needs the built-in %s (payment, create_order, confirm"
                                                 " and close_cart, in that order)", required[r]->name);
    }
    size_t n = f->nsteps;
    if (n < 3 || f->steps[n - 3].kind != &ck_step_create_order || f->steps[n - 2].kind != &ck_step_confirm ||
        f->steps[n - 1].kind != &ck_step_close_cart) {
        size_t at = 0;
        while (f->steps[at].kind != &ck_step_create_order)
            at++;
        for (size_t i = at; i < n; i++)
            if (ck_step_builtin_rank(f->steps[i].kind) < 0)
                return invalid(p, f->steps[i].path,
                               "nothing may come between or after create_order, confirm and close_cart");
    }
    return 0;
}

/* The flow (id, version) of the steps list: parsed, checked with flags,
 * grouped. 0 with *out (the caller's), or <0. */
static int build(ck_flow **out, const char *id, int64_t version, json_t *steps, ck_step_kind_lookup lookup,
                 void *arg, int flags, ck_error *err)
{
    ck_flow *f = calloc(1, sizeof(*f));
    parser p = {.f = f, .cap = 0, .lookup = lookup, .arg = arg, .err = err};
    int rc;
    *out = NULL;
    if (!f)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    snprintf(f->id, sizeof(f->id), "%s", id ? id : "");
    f->version = version;
    if ((rc = add_steps(&p, steps, "", 0, 0)) < 0 || ((flags & CK_FLOW_STRICT) && (rc = check_builtins(&p)) < 0)) {
        ck_flow_free(f);
        return rc;
    }
    for (size_t i = 0; i < f->nsteps; i++)
        f->steps[i].group = i == 0 ? 0
                            : ck_flow_group_rule(f->steps[i - 1].kind, f->steps[i].kind) ? f->steps[i - 1].group
                                                                                         : f->steps[i - 1].group + 1;
    f->ngroups = f->nsteps ? f->steps[f->nsteps - 1].group + 1 : 0;
    *out = f;
    return 0;
}

int ck_flow_parse_steps(ck_flow **out, const char *id, int64_t version, json_t *steps, int flags, ck_error *err)
{
    return build(out, id, version, steps, ck_flow_kind_lookup, NULL, flags, err);
}

int ck_flow_parse_ex(ck_flow **out, const char *json, ck_step_kind_lookup lookup, void *arg, int flags,
                     ck_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loads(json, 0, &jerr);
    *out = NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return ck_fail(err, CK_EINVALID, "INVALID_FLOW", NULL, "the flow definition is not a JSON object: %s",
                       jerr.text);
    }
    int rc = build(out, json_string_value(json_object_get(doc, "id")),
                   json_integer_value(json_object_get(doc, "version")), json_object_get(doc, "steps"), lookup, arg,
                   flags, err);
    json_decref(doc);
    return rc;
}

int ck_flow_parse(ck_flow **out, const char *json, ck_step_kind_lookup lookup, void *arg, ck_error *err)
{
    return ck_flow_parse_ex(out, json, lookup, arg, 0, err);
}
void ck_flow_free(ck_flow *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nsteps; i++) {
        if (f->steps[i].kind->release)
            f->steps[i].kind->release(f->steps[i].prepared);
        json_decref(f->steps[i].config);
    }
    free(f->steps);
    free(f);
}

int ck_flow_step_applies(const ck_flow *f, size_t i, const char *method)
{
    return !f->steps[i].when || (f->steps[i].when & ck_payment_method_bit(method));
}
