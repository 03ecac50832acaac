/* flow.h: a flow is data: an id, a version and an ordered list of steps,
 * each named by its path ("name", or "parent/child" inside a subflow) and
 * run by a step kind (steps/step.h). Everything that needs the step order
 * (the engine, resume, rewind, the session's state succession, give-back)
 * asks a ck_flow. The read-only standard flow is a JSON definition
 * (src/flows/standard.c) parsed once, on first use. See
 * docs/internals/flow-engine.md. */
#ifndef CK_FLOWS_FLOW_H
#define CK_FLOWS_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "checkout/error.h"
#include "core/util.h"
#include "steps/step.h"

#define CK_FLOW_STANDARD_ID "flow_standard"
#define CK_STATE_START "Start"
#define CK_STATE_COMPLETED "Completed"
#define CK_FLOW_PATH_MAX CK_STEP_PATH_MAX
#define CK_FLOW_DEPTH_MAX 4   /* subflows around a step, at most */
#define CK_FLOW_STEPS_MAX 100 /* steps in a flow, subflows' children counted */
#define CK_FLOW_NAME_MAX 40   /* a step's name: letters, digits, '_' and '-' */

typedef struct ck_flow_step {
    char path[CK_FLOW_PATH_MAX]; /* what progress records: "tax", "erp/credit_check" */
    const char *name;            /* the last part of path (points into it) */
    const ck_step_kind *kind;    /* how it runs and what it declares */
    int group;                   /* its commit group: consecutive steps of one group share a commit */
    unsigned when;               /* CK_METHOD_* bits it runs for; 0: every method */
    unsigned reads;              /* CK_READS_*: its kind's, plus the payment when it has a `when` */
    json_t *config;              /* its "config" (owned; NULL: none) */
    void *prepared;              /* its kind's prepare of config (owned; kind->release frees it) */
} ck_flow_step;

typedef struct ck_flow {
    char id[CK_ID_MAX];
    int64_t version;
    size_t nsteps;
    ck_flow_step *steps; /* the leaves, in order; a subflow is flattened into its children */
    int ngroups;
} ck_flow;

/* Resolves a step's kind: `kind` is the definition's "kind" ("builtin",
 * "lua", "http") and name its "name". NULL: no such step (the parse fails
 * naming it). */
typedef const ck_step_kind *(*ck_step_kind_lookup)(const char *kind, const char *name, void *arg);

/* The built-in lookup: kind "builtin" and a name of ck_step_builtin. */
const ck_step_kind *ck_flow_builtin_lookup(const char *kind, const char *name, void *arg);
/* Every kind a stored flow may use: the built-ins, "lua" and "http". */
const ck_step_kind *ck_flow_kind_lookup(const char *kind, const char *name, void *arg);

/* How strictly ck_flow_parse checks a definition (CK_FLOW_STRICT: as a
 * merchant's flow is saved; 0: only what the engine needs, for the unit
 * tests' made-up flows). */
enum { CK_FLOW_STRICT = 1 };

/* Parses a flow definition {"id","version","steps":[{"name","kind","config","when"}]}
 * (a "subflow" step's children are config.steps), resolving kinds with
 * lookup, preparing each step's config with its kind's prepare, and assigns
 * the commit groups (ck_flow_group_rule). *out belongs to the caller
 * (ck_flow_free). CK_EINVALID, reason INVALID_FLOW, field "steps" and a
 * message naming the step, for a definition that does not parse, an
 * unknown kind or built-in, a name that repeats at one level, a path too
 * long, nesting deeper than CK_FLOW_DEPTH_MAX, a bad `when`, or a config
 * its kind refuses (Lua that does not compile, a bad URL); with
 * CK_FLOW_STRICT also a built-in twice, or the built-ins out of the
 * standard order, or payment, create_order, confirm and close_cart not all
 * there (the last three together, at the end). */
int ck_flow_parse(ck_flow **out, const char *json, ck_step_kind_lookup lookup, void *arg, ck_error *err);
int ck_flow_parse_ex(ck_flow **out, const char *json, ck_step_kind_lookup lookup, void *arg, int flags,
                     ck_error *err);
/* ck_flow_parse_ex of a steps list alone (a json_t array), with id and version. */
int ck_flow_parse_steps(ck_flow **out, const char *id, int64_t version, json_t *steps, int flags, ck_error *err);
void ck_flow_free(ck_flow *f);

/* 1 when step i of f runs for the payment method `method` (a name, NULL
 * when none is chosen yet): it has no `when`, or `when` names the method. */
int ck_flow_step_applies(const ck_flow *f, size_t i, const char *method);

/* The standard flow, parsed on first use (pthread_once); process-wide and
 * read-only. Never NULL: a standard definition that does not parse aborts. */
const ck_flow *ck_flow_standard(void);

/* 1 when step b joins the commit group of step a just before it:
 * consecutive pure steps share one commit, as do consecutive steps of the
 * order's commit; an external step, or any other, commits alone. */
int ck_flow_group_rule(const ck_step_kind *a, const ck_step_kind *b);

/* The index of the step whose path is `path`, or -1. */
int ck_flow_index(const ck_flow *f, const char *path);

/* The index one past the last step of the commit group that steps[i] is in,
 * counting from i (a run that resumes inside a group runs the rest of it). */
size_t ck_flow_group_end(const ck_flow *f, size_t i);

/* The state after `state`: Start -> the first step, a step -> the next one,
 * the last step -> Completed; Completed or an unknown state -> NULL. */
const char *ck_flow_state_after(const ck_flow *f, const char *state);

/* Where a run starts, given lastSuccessfulStep (NULL or "" for none): the
 * index after it; 0 for none (or a path the flow does not have). */
size_t ck_flow_resume_index(const ck_flow *f, const char *last);

/* The rewind after a change of the inputs in `changed` (CK_READS_* bits),
 * given lastSuccessfulStep `last` (NULL or "" for none): returns 1 when
 * progress must go back to before the first step that reads one of them,
 * with *to set to the path to record (NULL: none, state Start); 0 when no
 * step read a changed input yet (nothing to rewind). */
int ck_flow_rewind_target(const ck_flow *f, const char *last, unsigned changed, const char **to);

/* The step that give-back takes back (the last one with a compensate), and
 * the path its undo rewinds to (NULL: none). Returns its index, or -1 when
 * the flow has none. */
int ck_flow_compensated(const ck_flow *f, const char **before);


#endif
