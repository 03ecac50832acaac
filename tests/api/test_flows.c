/* test_flows.c: flow administration and session pinning (issue 12, API.md
 * "Flows"): the read-only standard flow; clone, change a Draft (every PUT
 * raises the version, and the flow survives a restart), and each way a
 * merchant's flow is rejected (400 INVALID_FLOW naming the step, nothing
 * changed); activate and the store's activeFlowId; the list of a store's
 * flows and its paging; sessions pinned to the flow (and version) that was
 * active when they were created, placed to the end on it while other flows
 * are activated, and inFlightSessions draining to 0; and the checkout list's
 * state filter knowing the store's own step paths. Everything through the
 * real daemon, on SQLite or (CKT_BACKEND=postgres) PostgreSQL. */
#include "api/fake_http.h"
#include "api/place_fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- fixture */

/* Static so that the teardown can stop the daemon of a test that failed
 * half-way (cmocka leaves the test by longjmp). */
static ckt_fx F;
/* A response whose assertions may fail (the teardown frees it then). */
static ckt_resp HELD;
static fake_http *PEER;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F);
    ckt_free(&HELD);
    fhttp_stop(PEER);
    PEER = NULL;
    return 0;
}

#define STD_ID "flow_standard"
#define UNKNOWN_STORE "store_01M80V5EQG4YHAXXJRNX68ZH9P"

/* Steps as JSON text. */
#define B(n) "{\"name\":\"" n "\",\"kind\":\"builtin\"}"
#define HEAD B("validate_cart") "," B("pricing") "," B("shipping") "," B("tax") "," B("business_rules")
#define TAIL B("payment") "," B("create_order") "," B("confirm") "," B("close_cart")
#define LUA_TRUE "function check(cart) return true end"
#define LUA(n, src) "{\"name\":\"" n "\",\"kind\":\"lua\",\"config\":{\"script\":\"" src "\"}}"
#define SUB(n, inner) "{\"name\":\"" n "\",\"kind\":\"subflow\",\"config\":{\"steps\":[" inner "]}}"

static const char *const flow_keys[] = {"id",       "storeId", "name",      "version",   "status",
                                        "standard", "steps",   "createdAt", "updatedAt", "inFlightSessions",
                                        NULL};
static const char *const builtins[] = {"validate_cart", "pricing", "shipping",     "tax",      "business_rules",
                                       "payment",       "create_order", "confirm", "close_cart", NULL};

/* ---------------------------------------------------------------- helpers */

/* A request as the admin (body: raw text or NULL). */
static ckt_resp admin(ckt_fx *f, const char *method, const char *path, const char *body)
{
    return ckt_http(&f->d, method, path, CKT_ADMIN_KEY, body, NULL);
}

/* GET path as the admin: 200, the body (owned). */
static json_t *get_ok(ckt_fx *f, const char *path)
{
    ckt_resp r = admin(f, "GET", path, NULL);
    ckt_expect_status(&r, 200);
    json_t *j = json_incref(r.json);
    ckt_free(&r);
    return j;
}

static json_t *get_flow(ckt_fx *f, const char *id)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/flows/%s", id);
    return get_ok(f, path);
}

/* The store's activeFlowId, into out. */
static void active_flow_of(ckt_fx *f, const char *store, char out[64])
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/stores/%s", store);
    json_t *s = get_ok(f, path);
    snprintf(out, 64, "%s", ckt_str(s, "activeFlowId"));
    json_decref(s);
}

static void expect_active_flow(ckt_fx *f, const char *store, const char *flow)
{
    char active[64];
    active_flow_of(f, store, active);
    assert_string_equal(active, flow);
}

static void expect_status_of(ckt_fx *f, const char *id, const char *status)
{
    json_t *j = get_flow(f, id);
    assert_string_equal(ckt_str(j, "status"), status);
    json_decref(j);
}

/* POST /v1/flows/{src}/clone with the raw body: 201, the copy's id into out. */
static void clone_ok(ckt_fx *f, const char *src, const char *body, char out[64])
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/flows/%s/clone", src);
    ckt_resp r = admin(f, "POST", path, body);
    ckt_expect_status(&r, 201);
    snprintf(out, 64, "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
}

/* A Draft copy of the standard flow for store, named name. */
static void clone_std(ckt_fx *f, const char *store, const char *name, char out[64])
{
    char body[1024];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"storeId\":\"%s\"}", name, store);
    clone_ok(f, STD_ID, body, out);
}

/* PUT /v1/flows/{id} {"name"? ,"steps": steps (JSON text)}. */
static ckt_resp put_steps(ckt_fx *f, const char *id, const char *name, const char *steps)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/flows/%s", id);
    size_t n = strlen(steps) + 512;
    char *body = malloc(n);
    assert_non_null(body);
    if (name)
        snprintf(body, n, "{\"name\":\"%s\",\"steps\":%s}", name, steps);
    else
        snprintf(body, n, "{\"steps\":%s}", steps);
    ckt_resp r = admin(f, "PUT", path, body);
    free(body);
    return r;
}

/* A PUT that must succeed: 200 with this version and the steps sent. */
static void put_ok(ckt_fx *f, const char *id, const char *name, const char *steps, long long version)
{
    HELD = put_steps(f, id, name, steps);
    ckt_expect_status(&HELD, 200);
    assert_int_equal(ckt_int(HELD.json, "version"), version);
    assert_string_equal(ckt_str(HELD.json, "status"), "Draft");
    json_t *want = json_loads(steps, 0, NULL);
    assert_non_null(want);
    assert_true(json_equal(ckt_get(HELD.json, "steps"), want));
    json_decref(want);
    ckt_free(&HELD);
}

/* POST /v1/flows/{id}/activate with the raw body (NULL: none). */
static ckt_resp activate(ckt_fx *f, const char *id, const char *body)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/flows/%s/activate", id);
    return admin(f, "POST", path, body);
}

static void activate_ok(ckt_fx *f, const char *id)
{
    HELD = activate(f, id, NULL);
    ckt_expect_status(&HELD, 200);
    assert_string_equal(ckt_str(HELD.json, "id"), id);
    assert_string_equal(ckt_str(HELD.json, "status"), "Active");
    ckt_free(&HELD);
}

static void expect_read_only(const ckt_resp *r)
{
    ckt_expect_error(r, 409, "CONFLICT", "FLOW_READ_ONLY", NULL);
}

/* The 0th error's member as a string ("" when absent). */
static const char *err_str(const ckt_resp *r, const char *member)
{
    char path[64];
    snprintf(path, sizeof(path), "0.%s", member);
    const char *s = json_string_value(ckt_get(r->json, path));
    return s ? s : "";
}

/* A PUT of steps that must be refused: 400 INVALID_FLOW, field steps, the
 * envelope's step naming `step`, a message "step '<step>': ..." holding
 * `sub`; and the flow unchanged (version, name, steps, updatedAt). A
 * problem of the flow's own list is no step's: step "(flow)" expects an
 * envelope without "step" and a message "the flow: ...". */
static void expect_invalid(ckt_fx *f, const char *id, const char *steps, const char *step, const char *sub)
{
    json_t *before = get_flow(f, id);
    HELD = put_steps(f, id, "Changed", steps);
    char prefix[1024];
    int whole = strcmp(step, "(flow)") == 0;
    if (whole) {
        snprintf(prefix, sizeof(prefix), "the flow: ");
        assert_non_null(ckt_get(HELD.json, "0"));
        assert_null(json_object_get(ckt_get(HELD.json, "0"), "step"));
        step = "";
    } else {
        snprintf(prefix, sizeof(prefix), "step '%s': ", step);
    }
    if (HELD.status != 400 || strcmp(err_str(&HELD, "step"), step) != 0 || !strstr(err_str(&HELD, "message"), sub) ||
        strncmp(err_str(&HELD, "message"), prefix, strlen(prefix)) != 0)
        fprintf(stderr, "expected INVALID_FLOW at step %s with \"%s\" for %s\n  got %ld %s\n", step, sub, steps,
                HELD.status, HELD.body);
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", "INVALID_FLOW", "steps");
    assert_string_equal(err_str(&HELD, "step"), step);
    assert_non_null(strstr(err_str(&HELD, "message"), sub));
    assert_memory_equal(err_str(&HELD, "message"), prefix, strlen(prefix));
    ckt_free(&HELD);
    json_t *after = get_flow(f, id);
    assert_int_equal(ckt_int(after, "version"), ckt_int(before, "version"));
    assert_string_equal(ckt_str(after, "name"), ckt_str(before, "name"));
    assert_string_equal(ckt_str(after, "updatedAt"), ckt_str(before, "updatedAt"));
    assert_string_equal(ckt_str(after, "status"), "Draft");
    assert_true(json_equal(ckt_get(after, "steps"), ckt_get(before, "steps")));
    json_decref(before);
    json_decref(after);
}

/* GET /v1/flows?storeId=store (and the query rest, "" for none): the items (owned). */
static json_t *list_items(ckt_fx *f, const char *store, const char *rest, json_t **next_out)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/flows?storeId=%s%s", store, rest);
    json_t *page = get_ok(f, path);
    json_t *items = json_incref(ckt_get(page, "items"));
    assert_true(json_is_array(items));
    if (next_out)
        *next_out = json_incref(ckt_get(page, "nextPageToken"));
    json_decref(page);
    return items;
}

/* The inFlightSessions of flow in the store's list (fails when it is not listed). */
static long long in_flight(ckt_fx *f, const char *store, const char *flow)
{
    json_t *items = list_items(f, store, "", NULL);
    long long n = -1;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        if (strcmp(ckt_str(it, "id"), flow) == 0)
            n = ckt_int(it, "inFlightSessions");
    }
    json_decref(items);
    if (n < 0)
        fprintf(stderr, "flow %s is not in the list of store %s\n", flow, store);
    assert_true(n >= 0);
    return n;
}

/* A session's flowId and flowVersion as GET /v1/checkouts/{id} shows them. */
static void expect_pinned(ckt_fx *f, const char *sid, const char *flow, long long version)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    json_t *s = get_ok(f, path);
    assert_string_equal(ckt_str(s, "flowId"), flow);
    assert_int_equal(ckt_int(s, "flowVersion"), version);
    json_decref(s);
}

static void expect_session_state(ckt_fx *f, const char *sid, const char *state)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    json_t *s = get_ok(f, path);
    assert_string_equal(ckt_str(s, "state"), state);
    json_decref(s);
}

/* A checkout of the fixture's buyer (1 x f->prod, card tok_visa) shipped to addr. */
static void session_to(ckt_fx *f, const char *addr, char sid[64])
{
    ckt_fx_session(f, f->prod, 1, addr, PAY_CARD("tok_visa"), sid, NULL);
}

static void shop(ckt_fx *f)
{
    ckt_fx_opts o = {.default_product = 1};
    ckt_fx_setup(f, &o);
}

/* ------------------------------------------------------------------ cases */

/* 1. flow_standard: exactly the documented keys, shared (storeId null),
 * version 1, the nine built-ins in the standard order; read-only. */
static void standard_flow(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    shop(f);
    json_t *j = get_flow(f, STD_ID);
    ckt_expect_keys(j, flow_keys);
    assert_string_equal(ckt_str(j, "id"), STD_ID);
    assert_true(json_is_true(ckt_get(j, "standard")));
    assert_true(json_is_null(ckt_get(j, "storeId")));
    assert_int_equal(ckt_int(j, "version"), 1);
    assert_string_equal(ckt_str(j, "status"), "Active");
    assert_string_equal(ckt_str(j, "createdAt"), "1970-01-01T00:00:00.000Z");
    assert_int_equal(ckt_int(j, "inFlightSessions"), 0);
    json_t *steps = ckt_get(j, "steps");
    assert_int_equal(json_array_size(steps), 9);
    for (size_t i = 0; builtins[i]; i++) {
        json_t *s = json_array_get(steps, i);
        assert_string_equal(ckt_str(s, "name"), builtins[i]);
        assert_string_equal(ckt_str(s, "kind"), "builtin");
    }

    /* Read-only, whatever the body: nothing changes. */
    HELD = put_steps(f, STD_ID, "Mine", "[" HEAD "," TAIL "]");
    expect_read_only(&HELD);
    ckt_free(&HELD);
    json_t *again = get_flow(f, STD_ID);
    assert_true(json_equal(again, j));
    json_decref(again);
    json_decref(j);

    HELD = admin(f, "GET", "/v1/flows/flow_nope", NULL);
    ckt_expect_error(&HELD, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&HELD);
    ckt_fx_finish(f);
}

/* 2. Clone: a Draft copy for one store; the body's rules; admin only. */
static void clone_rules(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    shop(f);
    char body[1024], mine[64], copy[64];
    json_t *std = get_flow(f, STD_ID);

    snprintf(body, sizeof(body), "{\"name\":\"Mine\",\"storeId\":\"%s\"}", f->store);
    HELD = admin(f, "POST", "/v1/flows/flow_standard/clone", body);
    ckt_expect_status(&HELD, 201);
    ckt_expect_keys(HELD.json, flow_keys);
    assert_memory_equal(ckt_str(HELD.json, "id"), "flow_", 5);
    assert_string_not_equal(ckt_str(HELD.json, "id"), STD_ID);
    assert_string_equal(ckt_str(HELD.json, "status"), "Draft");
    assert_int_equal(ckt_int(HELD.json, "version"), 1);
    assert_true(json_is_false(ckt_get(HELD.json, "standard")));
    assert_string_equal(ckt_str(HELD.json, "storeId"), f->store);
    assert_string_equal(ckt_str(HELD.json, "name"), "Mine");
    assert_int_equal(ckt_int(HELD.json, "inFlightSessions"), 0);
    ckt_expect_time_ms(HELD.json, "createdAt");
    assert_true(json_equal(ckt_get(HELD.json, "steps"), ckt_get(std, "steps")));
    snprintf(mine, sizeof(mine), "%s", ckt_str(HELD.json, "id"));
    ckt_free(&HELD);
    json_t *read = get_flow(f, mine);
    assert_string_equal(ckt_str(read, "storeId"), f->store);
    assert_string_equal(ckt_str(read, "status"), "Draft");
    json_decref(read);
    /* The store is still on the standard flow: a clone activates nothing. */
    expect_active_flow(f, f->store, STD_ID);

    /* The standard flow is for no store: its copy must say which. */
    HELD = admin(f, "POST", "/v1/flows/flow_standard/clone", "{\"name\":\"Nowhere\"}");
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", "MISSING_FIELD", "storeId");
    ckt_free(&HELD);
    HELD = admin(f, "POST", "/v1/flows/flow_standard/clone", NULL);
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", "MISSING_FIELD", "storeId");
    ckt_free(&HELD);
    HELD = admin(f, "POST", "/v1/flows/flow_standard/clone", "{\"storeId\":\"" UNKNOWN_STORE "\"}");
    ckt_expect_error(&HELD, 404, "NOT_FOUND", "NOT_FOUND", "storeId");
    ckt_free(&HELD);
    HELD = admin(f, "POST", "/v1/flows/flow_standard/clone", "{\"name\":");
    ckt_expect_error(&HELD, 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL);
    ckt_free(&HELD);
    snprintf(body, sizeof(body), "{\"name\":\"X\",\"storeId\":\"%s\",\"colour\":\"red\"}", f->store);
    HELD = admin(f, "POST", "/v1/flows/flow_standard/clone", body);
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", "UNKNOWN_FIELD", "colour");
    ckt_free(&HELD);
    snprintf(body, sizeof(body), "{\"storeId\":\"%s\"}", f->store);
    HELD = admin(f, "POST", "/v1/flows/flow_nope/clone", body);
    ckt_expect_error(&HELD, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&HELD);

    /* Admin only: a buyer is refused, no key is unauthenticated. */
    snprintf(body, sizeof(body), "{\"name\":\"Buyer's\",\"storeId\":\"%s\"}", f->store);
    HELD = ckt_http(&f->d, "POST", "/v1/flows/flow_standard/clone", f->bkey, body, NULL);
    ckt_expect_error(&HELD, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&HELD);
    HELD = ckt_http(&f->d, "POST", "/v1/flows/flow_standard/clone", NULL, body, NULL);
    ckt_expect_error(&HELD, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&HELD);
    HELD = ckt_http(&f->d, "GET", "/v1/flows/flow_standard", f->bkey, NULL, NULL);
    ckt_expect_error(&HELD, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&HELD);
    /* None of the refused clones made a flow. */
    json_t *items = list_items(f, f->store, "", NULL);
    assert_int_equal(json_array_size(items), 2);
    json_decref(items);

    /* A store flow's copy lands in its store, named after it, with its steps
     * (changed first, so they differ from the standard's). */
    const char *changed = "[" HEAD "," LUA("rule", LUA_TRUE) "," TAIL "]";
    put_ok(f, mine, NULL, changed, 2);
    clone_ok(f, mine, NULL, copy);
    json_t *c = get_flow(f, copy);
    ckt_expect_keys(c, flow_keys);
    assert_string_equal(ckt_str(c, "storeId"), f->store);
    assert_string_equal(ckt_str(c, "name"), "Copy of Mine");
    assert_string_equal(ckt_str(c, "status"), "Draft");
    assert_int_equal(ckt_int(c, "version"), 1);
    assert_true(json_is_false(ckt_get(c, "standard")));
    json_t *want = json_loads(changed, 0, NULL);
    assert_true(json_equal(ckt_get(c, "steps"), want));
    json_decref(want);
    json_decref(c);
    /* Unnamed copy of the standard flow. */
    snprintf(body, sizeof(body), "{\"storeId\":\"%s\"}", f->store);
    clone_ok(f, STD_ID, body, copy);
    c = get_flow(f, copy);
    assert_string_equal(ckt_str(c, "name"), "Copy of Standard");
    json_decref(c);
    json_decref(std);
    ckt_fx_finish(f);
}

/* 3. A Draft changes: each PUT raises the version; the flow lives in the
 * database and is the same after a restart. */
static void put_draft(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    shop(f);
    char id[64];
    clone_std(f, f->store, "Rules", id);
    json_t *j0 = get_flow(f, id);
    const char *v2 = "[" HEAD "," LUA("rule", LUA_TRUE) "," TAIL "]";
    const char *v3 = "[" HEAD "," SUB("erp", LUA("credit", LUA_TRUE)) "," TAIL "]";
    put_ok(f, id, NULL, v2, 2);
    json_t *j = get_flow(f, id);
    assert_string_equal(ckt_str(j, "name"), "Rules");
    assert_string_equal(ckt_str(j, "createdAt"), ckt_str(j0, "createdAt"));
    json_decref(j);
    put_ok(f, id, "Renamed", v3, 3);

    json_t *want = json_loads(v3, 0, NULL);
    j = get_flow(f, id);
    ckt_expect_keys(j, flow_keys);
    assert_int_equal(ckt_int(j, "version"), 3);
    assert_string_equal(ckt_str(j, "name"), "Renamed");
    assert_string_equal(ckt_str(j, "status"), "Draft");
    assert_true(json_equal(ckt_get(j, "steps"), want));
    ckt_expect_time_ms(j, "updatedAt");
    assert_true(strcmp(ckt_str(j, "updatedAt"), ckt_str(j0, "createdAt")) >= 0);
    json_decref(j0);

    /* A restart on the same database: the same flow. */
    assert_int_equal(ckt_stop(&f->d), 0);
    ckt_restart(&f->d, NULL, NULL);
    json_t *after = get_flow(f, id);
    assert_true(json_equal(after, j));
    json_decref(after);
    json_decref(j);
    /* ... and it still changes as a Draft, from the version it had. */
    put_ok(f, id, NULL, v2, 4);
    json_decref(want);
    ckt_fx_finish(f);
}

/* 4. Every way PUT refuses a flow, one request each; a refused PUT changes
 * nothing. */
static void validation_errors(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    shop(f);
    char id[64];
    clone_std(f, f->store, "Strict", id);
    /* A baseline that is not the standard's steps, at version 2. */
    put_ok(f, id, NULL, "[" HEAD "," LUA("base", LUA_TRUE) "," TAIL "]", 2);

    static const struct {
        const char *steps, *step, *message;
    } cases[] = {
        /* kinds and built-ins */
        {"[" HEAD ",{\"name\":\"x\",\"kind\":\"python\"}," TAIL "]", "x", "unknown step kind"},
        {"[" HEAD "," B("discount") "," TAIL "]", "discount", "unknown built-in"},
        {"[" HEAD "," SUB("sub", B("name")) "," TAIL "]", "sub/name", "unknown built-in"},
        {"[" B("validate_cart") "," B("pricing") "," SUB("again", B("pricing")) "," B("shipping") "," B("tax")
         "," B("business_rules") "," TAIL "]",
         "again/pricing", "appears twice"},
        {"[" B("validate_cart") "," B("pricing") "," B("tax") "," B("shipping") "," B("business_rules") "," TAIL
         "]",
         "shipping", "must come before"},
        {"[" HEAD "," B("create_order") "," B("payment") "," B("confirm") "," B("close_cart") "]", "payment",
         "must come before"},
        {"[" HEAD "," B("create_order") "," B("confirm") "," B("close_cart") "]", "payment",
         "the flow needs the built-in payment"},
        {"[" HEAD "," B("payment") "," B("confirm") "," B("close_cart") "]", "create_order",
         "the flow needs the built-in create_order"},
        {"[" HEAD "," B("payment") "," B("create_order") "," B("close_cart") "]", "confirm",
         "the flow needs the built-in confirm"},
        {"[" HEAD "," B("payment") "," B("create_order") "," B("confirm") "]", "close_cart",
         "the flow needs the built-in close_cart"},
        {"[" HEAD "," B("payment") "," B("create_order") "," LUA("late", LUA_TRUE) "," B("confirm") ","
         B("close_cart") "]",
         "late", "nothing may come between or after"},
        {"[" HEAD "," TAIL "," LUA("after", LUA_TRUE) "]", "after", "nothing may come between or after"},
        /* names and fields */
        {"[" HEAD "," LUA("rule", LUA_TRUE) "," LUA("rule", LUA_TRUE) "," TAIL "]", "rule",
         "the name repeats at one level"},
        {"[" HEAD "," LUA("bad name", LUA_TRUE) "," TAIL "]", "(flow)", "needs a name of 1 to 40"},
        {"[" HEAD "," LUA("a123456789b123456789c123456789d123456789e", LUA_TRUE) "," TAIL "]", "(flow)",
         "needs a name of 1 to 40"},
        {"[" HEAD "," SUB("sub", LUA("x/y", LUA_TRUE)) "," TAIL "]", "sub", "needs a name of 1 to 40"},
        {"[" HEAD ",{\"name\":\"rule\",\"kind\":\"lua\",\"config\":{\"script\":\"" LUA_TRUE
         "\"},\"colour\":\"red\"}," TAIL "]",
         "rule", "unknown field 'colour'"},
        {"[" HEAD ",{\"name\":\"rule\",\"config\":{\"script\":\"" LUA_TRUE "\"}}," TAIL "]", "rule",
         "needs a kind"},
        {"[" B("validate_cart") "," B("pricing") "," B("shipping") ",{\"name\":\"tax\",\"kind\":\"builtin\","
         "\"config\":{\"rate\":825}}," B("business_rules") "," TAIL "]",
         "tax", "takes no config"},
        /* when */
        {"[" HEAD ",{\"name\":\"rule\",\"kind\":\"lua\",\"config\":{\"script\":\"" LUA_TRUE
         "\"},\"when\":{\"country\":[\"US\"]}}," TAIL "]",
         "rule", "may only name payment methods"},
        {"[" HEAD ",{\"name\":\"rule\",\"kind\":\"lua\",\"config\":{\"script\":\"" LUA_TRUE
         "\"},\"when\":{\"paymentMethod\":[\"card\"],\"country\":[\"US\"]}}," TAIL "]",
         "rule", "may only name payment methods"},
        {"[" HEAD ",{\"name\":\"rule\",\"kind\":\"lua\",\"config\":{\"script\":\"" LUA_TRUE
         "\"},\"when\":{\"paymentMethod\":[\"bitcoin\"]}}," TAIL "]",
         "rule", "unknown payment method"},
        {"[" HEAD ",{\"name\":\"rule\",\"kind\":\"lua\",\"config\":{\"script\":\"" LUA_TRUE
         "\"},\"when\":{\"paymentMethod\":[]}}," TAIL "]",
         "rule", "non-empty list"},
        {"[" HEAD ",{\"name\":\"payment\",\"kind\":\"builtin\",\"when\":{\"paymentMethod\":[\"card\"]}},"
         B("create_order") "," B("confirm") "," B("close_cart") "]",
         "payment", "cannot have a 'when'"},
        {"[" HEAD "," B("payment") "," B("create_order") "," B("confirm")
         ",{\"name\":\"close_cart\",\"kind\":\"builtin\",\"when\":{\"paymentMethod\":[\"net_terms\"]}}]",
         "close_cart", "cannot have a 'when'"},
        {"[" HEAD ",{\"name\":\"po\",\"kind\":\"subflow\",\"when\":{\"paymentMethod\":[\"purchase_order\"]},"
         "\"config\":{\"steps\":[{\"name\":\"rule\",\"kind\":\"lua\",\"config\":{\"script\":\"" LUA_TRUE
         "\"},\"when\":{\"paymentMethod\":[\"card\"]}}]}}," TAIL "]",
         "po/rule", "no payment method in common"},
        /* shape */
        {"[" HEAD "," SUB("a", SUB("b", SUB("c", SUB("d", SUB("e", LUA("deep", LUA_TRUE)))))) "," TAIL "]",
         "a/b/c/d/e", "nest deeper than 4"},
        {"[]", "(flow)", "'steps' is empty"},
        {"[" HEAD "," SUB("empty", "") "," TAIL "]", "empty", "'steps' is empty"},
        {"[" HEAD ",{\"name\":\"sub\",\"kind\":\"subflow\",\"config\":{\"steps\":[" LUA("x", LUA_TRUE)
         "],\"mode\":1}}," TAIL "]",
         "sub", "holds only 'steps'"},
        {"[" HEAD ",{\"name\":\"sub\",\"kind\":\"subflow\"}," TAIL "]", "sub", "needs config.steps"},
        /* lua */
        {"[" HEAD ",{\"name\":\"rule\",\"kind\":\"lua\",\"config\":{}}," TAIL "]", "rule", "needs config.script"},
        {"[" HEAD ",{\"name\":\"rule\",\"kind\":\"lua\"}," TAIL "]", "rule", "needs config.script"},
        {"[" HEAD ",{\"name\":\"rule\",\"kind\":\"lua\",\"config\":{\"script\":\"" LUA_TRUE
         "\",\"mode\":\"fast\"}}," TAIL "]",
         "rule", "holds only 'script'"},
        {"[" HEAD "," LUA("rule", "function check(cart) return") "," TAIL "]", "rule", "'end' expected"},
        {"[" HEAD "," SUB("erp", LUA("credit", "function check(cart) return cart.items[ end")) "," TAIL "]",
         "erp/credit", "unexpected symbol"},
        /* compiles, but could never pass: refused when saved, not at checkout */
        {"[" HEAD "," LUA("rule", "function chek(cart) return true end") "," TAIL "]", "rule",
         "defines no function check"},
        {"[" HEAD "," LUA("rule", "while true do end") "," TAIL "]", "rule", "instruction limit"},
        {"[" HEAD "," LUA("rule", "error('no') function check(cart) return true end") "," TAIL "]", "rule",
         "runtime error"},
        /* http */
        {"[" HEAD ",{\"name\":\"erp\",\"kind\":\"http\",\"config\":{\"url\":\"not a url\"}}," TAIL "]", "erp",
         "url"},
        {"[" HEAD ",{\"name\":\"erp\",\"kind\":\"http\",\"config\":{\"url\":\"ftp://erp.example/credit\"}}," TAIL
         "]",
         "erp", "url"},
        {"[" HEAD ",{\"name\":\"erp\",\"kind\":\"http\",\"config\":{\"url\":\"http://\"}}," TAIL "]", "erp", "url"},
        {"[" HEAD ",{\"name\":\"erp\",\"kind\":\"http\",\"config\":{}}," TAIL "]", "erp", "url"},
        {"[" HEAD ",{\"name\":\"erp\",\"kind\":\"http\",\"config\":{\"url\":\"https://erp.example/c\","
         "\"timeoutMs\":0}}," TAIL "]",
         "erp", "timeoutMs"},
        {"[" HEAD ",{\"name\":\"erp\",\"kind\":\"http\",\"config\":{\"url\":\"https://erp.example/c\","
         "\"timeoutMs\":30001}}," TAIL "]",
         "erp", "timeoutMs"},
        {"[" HEAD ",{\"name\":\"erp\",\"kind\":\"http\",\"config\":{\"url\":\"https://erp.example/c\","
         "\"retries\":3}}," TAIL "]",
         "erp", "retries"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_invalid(f, id, cases[i].steps, cases[i].step, cases[i].message);

    /* A secret over 512 characters. */
    char secret[600], *steps = malloc(4096);
    assert_non_null(steps);
    memset(secret, 's', 513);
    secret[513] = '\0';
    snprintf(steps, 4096,
             "[" HEAD ",{\"name\":\"erp\",\"kind\":\"http\",\"config\":{\"url\":\"https://erp.example/c\","
             "\"secret\":\"%s\"}}," TAIL "]",
             secret);
    expect_invalid(f, id, steps, "erp", "secret");
    free(steps);

    /* More than 100 steps, subflows' children counted: the 101st is named. */
    json_t *many = json_array();
    for (int i = 1; i <= 96; i++) {
        char n[16];
        snprintf(n, sizeof(n), "r%d", i);
        json_array_append_new(many, json_pack("{s:s, s:s, s:{s:s}}", "name", n, "kind", "lua", "config", "script",
                                              LUA_TRUE));
    }
    json_t *big = json_loads("[" HEAD "," TAIL "]", 0, NULL);
    json_array_insert_new(big, 5, json_pack("{s:s, s:s, s:{s:O}}", "name", "many", "kind", "subflow", "config",
                                            "steps", many));
    char *text = json_dumps(big, JSON_COMPACT);
    expect_invalid(f, id, text, "many/r96", "at most 100 steps");
    free(text);
    /* ... and exactly 100 is a flow. */
    while (json_array_size(many) > 91)
        json_array_remove(many, json_array_size(many) - 1);
    json_array_set_new(big, 5, json_pack("{s:s, s:s, s:{s:O}}", "name", "many", "kind", "subflow", "config", "steps",
                                         many));
    text = json_dumps(big, JSON_COMPACT);
    put_ok(f, id, NULL, text, 3);
    free(text);
    json_decref(big);
    json_decref(many);

    /* ... and 101 at the top level: the flow's bound too, not the body's. */
    json_t *flat = json_loads("[" HEAD "," TAIL "]", 0, NULL);
    for (int i = 1; json_array_size(flat) < 101; i++) {
        char n[16];
        snprintf(n, sizeof(n), "t%d", i);
        json_array_insert_new(flat, 5, json_pack("{s:s, s:s, s:{s:s}}", "name", n, "kind", "lua", "config", "script",
                                                 LUA_TRUE));
    }
    text = json_dumps(flat, JSON_COMPACT);
    expect_invalid(f, id, text, "close_cart", "at most 100 steps");
    free(text);
    json_decref(flat);

    /* Depth 4 is allowed; a when that agrees with its subflow's too. */
    put_ok(f, id, NULL, "[" HEAD "," SUB("a", SUB("b", SUB("c", SUB("d", LUA("deep", LUA_TRUE))))) "," TAIL "]", 4);
    put_ok(f, id, NULL,
           "[" HEAD ",{\"name\":\"po\",\"kind\":\"subflow\",\"when\":{\"paymentMethod\":[\"purchase_order\","
           "\"net_terms\"]},\"config\":{\"steps\":[{\"name\":\"rule\",\"kind\":\"lua\",\"config\":{\"script\":\""
           LUA_TRUE "\"},\"when\":{\"paymentMethod\":[\"net_terms\",\"card\"]}}]}},"
           "{\"name\":\"erp\",\"kind\":\"http\",\"config\":{\"url\":\"https://erp.example/credit\",\"timeoutMs\":"
           "30000,\"secret\":\"k\"}}," TAIL "]",
           5);
    /* A flow need not hold every built-in before payment. */
    put_ok(f, id, NULL, "[" B("validate_cart") "," TAIL "]", 6);
    ckt_fx_finish(f);
}

/* 5. Activate: the flow becomes its store's active one and freezes; the
 * previous one goes Inactive; the standard flow takes a store back. */
static void activation(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    shop(f);
    char a[64], b[64], c[64], other[64], body[1024];
    ckt_store(&f->d, other);
    clone_std(f, f->store, "A", a);
    expect_active_flow(f, f->store, STD_ID);

    HELD = activate(f, a, NULL);
    ckt_expect_status(&HELD, 200);
    ckt_expect_keys(HELD.json, flow_keys);
    assert_string_equal(ckt_str(HELD.json, "status"), "Active");
    assert_int_equal(ckt_int(HELD.json, "version"), 1);
    ckt_free(&HELD);
    expect_active_flow(f, f->store, a);
    expect_status_of(f, a, "Active");
    /* The standard flow, as this store sees it, is no longer its active one;
     * for the other store (and unqualified) it still is. */
    char path[1024];
    snprintf(path, sizeof(path), "/v1/flows/flow_standard?storeId=%s", f->store);
    json_t *j = get_ok(f, path);
    assert_string_equal(ckt_str(j, "status"), "Inactive");
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/flows/flow_standard?storeId=%s", other);
    j = get_ok(f, path);
    assert_string_equal(ckt_str(j, "status"), "Active");
    json_decref(j);
    expect_status_of(f, STD_ID, "Active");
    expect_active_flow(f, other, STD_ID);

    /* Frozen. */
    HELD = put_steps(f, a, NULL, "[" HEAD "," LUA("rule", LUA_TRUE) "," TAIL "]");
    expect_read_only(&HELD);
    ckt_free(&HELD);
    j = get_flow(f, a);
    assert_int_equal(ckt_int(j, "version"), 1);
    json_decref(j);

    /* Another one: the first goes Inactive, and stays frozen. */
    clone_ok(f, a, NULL, b);
    put_ok(f, b, NULL, "[" HEAD "," LUA("rule", LUA_TRUE) "," TAIL "]", 2);
    activate_ok(f, b);
    expect_status_of(f, a, "Inactive");
    expect_status_of(f, b, "Active");
    expect_active_flow(f, f->store, b);
    HELD = put_steps(f, a, NULL, "[" HEAD "," TAIL "]");
    expect_read_only(&HELD);
    ckt_free(&HELD);

    /* Activating the Active flow again changes nothing. */
    json_t *before = get_flow(f, b);
    HELD = activate(f, b, NULL);
    ckt_expect_status(&HELD, 200);
    assert_true(json_equal(HELD.json, before));
    ckt_free(&HELD);
    json_t *after = get_flow(f, b);
    assert_true(json_equal(after, before));
    json_decref(after);
    json_decref(before);
    expect_status_of(f, a, "Inactive");
    expect_active_flow(f, f->store, b);

    /* A flow of this store cannot be activated for another one. */
    clone_std(f, f->store, "C", c);
    snprintf(body, sizeof(body), "{\"storeId\":\"%s\"}", other);
    HELD = activate(f, c, body);
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", "INVALID_FIELD", "storeId");
    ckt_free(&HELD);
    expect_status_of(f, c, "Draft");
    expect_active_flow(f, f->store, b);
    expect_active_flow(f, other, STD_ID);
    /* With its own store it can. */
    snprintf(body, sizeof(body), "{\"storeId\":\"%s\"}", f->store);
    HELD = activate(f, c, body);
    ckt_expect_status(&HELD, 200);
    assert_string_equal(ckt_str(HELD.json, "status"), "Active");
    ckt_free(&HELD);
    expect_status_of(f, b, "Inactive");
    expect_active_flow(f, f->store, c);

    /* Back to the standard flow: it needs the store, a known one. */
    HELD = activate(f, STD_ID, NULL);
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", "MISSING_FIELD", "storeId");
    ckt_free(&HELD);
    HELD = activate(f, STD_ID, "{\"storeId\":\"" UNKNOWN_STORE "\"}");
    ckt_expect_error(&HELD, 404, "NOT_FOUND", "NOT_FOUND", "storeId");
    ckt_free(&HELD);
    expect_active_flow(f, f->store, c);
    snprintf(body, sizeof(body), "{\"storeId\":\"%s\"}", f->store);
    HELD = activate(f, STD_ID, body);
    ckt_expect_status(&HELD, 200);
    assert_string_equal(ckt_str(HELD.json, "id"), STD_ID);
    assert_string_equal(ckt_str(HELD.json, "status"), "Active");
    ckt_free(&HELD);
    expect_active_flow(f, f->store, STD_ID);
    expect_status_of(f, c, "Inactive");
    expect_status_of(f, b, "Inactive");
    expect_status_of(f, a, "Inactive");
    snprintf(path, sizeof(path), "/v1/flows/flow_standard?storeId=%s", f->store);
    j = get_ok(f, path);
    assert_string_equal(ckt_str(j, "status"), "Active");
    json_decref(j);

    HELD = activate(f, "flow_nope", NULL);
    ckt_expect_error(&HELD, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&HELD);
    ckt_fx_finish(f);
}

/* 6. The list of a store's flows: the standard one first, then the store's
 * own oldest first, no other store's; pages that walk it once. */
static void listing(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    shop(f);
    char other[64], x[64], ids[4][64];
    ckt_store(&f->d, other);
    snprintf(ids[0], 64, "%s", STD_ID);
    clone_std(f, f->store, "First", ids[1]);
    clone_std(f, other, "Elsewhere", x);
    clone_std(f, f->store, "Second", ids[2]);
    clone_std(f, f->store, "Third", ids[3]);
    activate_ok(f, ids[2]);

    json_t *next = NULL;
    json_t *items = list_items(f, f->store, "", &next);
    assert_true(json_is_null(next));
    json_decref(next);
    assert_int_equal(json_array_size(items), 4);
    static const char *const statuses[] = {"Inactive", "Draft", "Active", "Draft"};
    for (size_t i = 0; i < 4; i++) {
        json_t *it = json_array_get(items, i);
        ckt_expect_keys(it, flow_keys);
        assert_string_equal(ckt_str(it, "id"), ids[i]);
        assert_string_equal(ckt_str(it, "status"), statuses[i]);
        assert_int_equal(ckt_int(it, "inFlightSessions"), 0);
        assert_int_equal(json_is_true(ckt_get(it, "standard")), i == 0);
    }
    json_decref(items);
    /* The other store: the standard flow (its active one) and its own only. */
    items = list_items(f, other, "", NULL);
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(ckt_str(items, "0.id"), STD_ID);
    assert_string_equal(ckt_str(items, "0.status"), "Active");
    assert_string_equal(ckt_str(items, "1.id"), x);
    json_decref(items);

    /* limit=1: every flow once, in order, then the end. */
    char rest[1024] = "&limit=1", seen[8][64];
    size_t nseen = 0;
    for (int page = 0; page < 8; page++) {
        items = list_items(f, f->store, rest, &next);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            assert_true(nseen < 8);
            snprintf(seen[nseen++], 64, "%s", ckt_str(it, "id"));
        }
        /* The standard flow rides along on the first page only. */
        assert_true(json_array_size(items) <= (page == 0 ? 2u : 1u));
        json_decref(items);
        if (json_is_null(next)) {
            json_decref(next);
            break;
        }
        assert_true(json_is_string(next));
        snprintf(rest, sizeof(rest), "&limit=1&pageToken=%s", json_string_value(next));
        json_decref(next);
        assert_true(page < 7);
    }
    assert_int_equal(nseen, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(seen[i], ids[i]);

    HELD = admin(f, "GET", "/v1/flows?limit=1&pageToken=garbage", NULL);
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", "INVALID_PAGE_TOKEN", "pageToken");
    ckt_free(&HELD);
    char path[2048];
    snprintf(path, sizeof(path), "/v1/flows?storeId=%s&pageToken=%s", f->store, f->store);
    HELD = admin(f, "GET", path, NULL);
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", "INVALID_PAGE_TOKEN", "pageToken");
    ckt_free(&HELD);
    HELD = admin(f, "GET", "/v1/flows?storeId=" UNKNOWN_STORE, NULL);
    ckt_expect_error(&HELD, 404, "NOT_FOUND", "NOT_FOUND", "storeId");
    ckt_free(&HELD);
    HELD = ckt_http(&f->d, "GET", "/v1/flows", f->bkey, NULL, NULL);
    ckt_expect_error(&HELD, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&HELD);
    ckt_fx_finish(f);
}

/* N's rule: no deliveries to Shelbyville (ADDR_US2); M refuses everything. */
#define N_RULE                                                                                                   \
    "function check(cart) if cart.inputs.shippingAddress.city == 'Shelbyville' then"                             \
    " return false, 'N: no deliveries to Shelbyville' end return true end"
#define M_RULE "function check(cart) return false, 'M refuses every order' end"

/* 7. Pinning: a session runs, to the end, the flow (and version) that was
 * active when it was created; activating another never changes it; an
 * Inactive flow with sessions in flight keeps working; inFlightSessions
 * drains as they complete or are abandoned. */
static void pinning(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    shop(f);
    char a[64], b[64], c[64], n[64], m[64], path[1024];

    /* A: on the standard flow. */
    session_to(f, ADDR_US2, a);
    expect_pinned(f, a, STD_ID, 1);

    /* N: a rule between business_rules and payment, activated. */
    clone_std(f, f->store, "N", n);
    put_ok(f, n, NULL, "[" HEAD "," LUA("n_rule", N_RULE) "," TAIL "]", 2);
    activate_ok(f, n);
    expect_pinned(f, a, STD_ID, 1);

    /* B: on N, version 2. */
    session_to(f, ADDR_US2, b);
    expect_pinned(f, b, n, 2);
    assert_int_equal(in_flight(f, f->store, STD_ID), 1);
    assert_int_equal(in_flight(f, f->store, n), 1);
    json_t *j = get_flow(f, n);
    assert_int_equal(ckt_int(j, "inFlightSessions"), 1);
    json_decref(j);

    /* M: refuses every order, activated; N goes Inactive with B in flight. */
    clone_std(f, f->store, "M", m);
    put_ok(f, m, NULL, "[" HEAD "," LUA("m_rule", M_RULE) "," TAIL "]", 2);
    activate_ok(f, m);
    expect_status_of(f, n, "Inactive");
    expect_pinned(f, a, STD_ID, 1);
    expect_pinned(f, b, n, 2);
    assert_int_equal(in_flight(f, f->store, n), 1);
    assert_int_equal(in_flight(f, f->store, m), 0);

    /* C: on M, which refuses it: so M is what new sessions run. */
    session_to(f, ADDR_US, c);
    expect_pinned(f, c, m, 2);
    HELD = ckt_place(f, c);
    ckt_expect_step_error(&HELD, 400, "EXTENSION_REJECTED", "m_rule");
    assert_non_null(strstr(err_str(&HELD, "message"), "M refuses every order"));
    ckt_free(&HELD);
    assert_int_equal(in_flight(f, f->store, m), 1);

    /* B runs N (its rule refuses Shelbyville, not M's refusing everything),
     * and once the address is fixed completes on it. */
    HELD = ckt_place(f, b);
    ckt_expect_step_error(&HELD, 400, "EXTENSION_REJECTED", "n_rule");
    assert_non_null(strstr(err_str(&HELD, "message"), "N: no deliveries to Shelbyville"));
    ckt_free(&HELD);
    po_set_inputs(f, b, ADDR_US, NULL, NULL);
    ckt_place_ok(f, b, -1, NULL);
    expect_pinned(f, b, n, 2);
    expect_session_state(f, b, "Completed");
    assert_int_equal(in_flight(f, f->store, n), 0);
    expect_status_of(f, n, "Inactive");

    /* A runs the standard flow: neither N's rule nor M's. */
    assert_int_equal(in_flight(f, f->store, STD_ID), 1);
    ckt_place_ok(f, a, -1, NULL);
    expect_pinned(f, a, STD_ID, 1);
    expect_session_state(f, a, "Completed");
    assert_int_equal(in_flight(f, f->store, STD_ID), 0);

    /* Abandoning C stops it counting. */
    snprintf(path, sizeof(path), "/v1/checkouts/%s", c);
    HELD = ckt_http(&f->d, "DELETE", path, f->bkey, NULL, NULL);
    ckt_expect_status(&HELD, 200);
    assert_true(json_is_true(ckt_get(HELD.json, "isArchived")));
    ckt_free(&HELD);
    assert_int_equal(in_flight(f, f->store, m), 0);
    assert_int_equal(in_flight(f, f->store, n), 0);
    assert_int_equal(in_flight(f, f->store, STD_ID), 0);
    ckt_fx_finish(f);
}

/* An ERP that is down: every callout answers 503. */
static void erp_down(void *ud, const fhttp_req *q, fhttp_resp *a)
{
    (void)ud;
    (void)q;
    a->status = 503;
    a->body = strdup("{\"error\":\"down\"}");
}

/* 8. GET /v1/checkouts?state= knows the nested step paths of the store's
 * own flows (and nothing made up). */
static void state_filter(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    shop(f);
    PEER = fhttp_start(64 * 1024, erp_down, NULL, NULL);
    assert_non_null(PEER);
    char url[128], id[64], other[64], ox[64], sid[64], path[1024], steps[2048];
    fhttp_url(PEER, "/credit", url, sizeof(url));
    clone_std(f, f->store, "ERP", id);
    snprintf(steps, sizeof(steps),
             "[" HEAD ",{\"name\":\"erp\",\"kind\":\"subflow\",\"config\":{\"steps\":[{\"name\":\"credit\","
             "\"kind\":\"http\",\"config\":{\"url\":\"%s\",\"timeoutMs\":5000}}]}}," TAIL "]",
             url);
    put_ok(f, id, NULL, steps, 2);
    activate_ok(f, id);
    ckt_store(&f->d, other);
    clone_std(f, other, "Other", ox);
    put_ok(f, ox, NULL, "[" HEAD "," SUB("elsewhere", LUA("only", LUA_TRUE)) "," TAIL "]", 2);

    /* A session that stops at erp/credit (the ERP is down: resumable). */
    session_to(f, ADDR_US, sid);
    HELD = ckt_place(f, sid);
    ckt_expect_step_error(&HELD, 500, "EXTENSION_UNAVAILABLE", "erp/credit");
    ckt_free(&HELD);
    expect_session_state(f, sid, "erp/credit");

    snprintf(path, sizeof(path), "/v1/checkouts?storeId=%s&state=erp/credit", f->store);
    json_t *page = get_ok(f, path);
    assert_int_equal(json_array_size(ckt_get(page, "items")), 1);
    assert_string_equal(ckt_str(page, "items.0.id"), sid);
    json_decref(page);
    snprintf(path, sizeof(path), "/v1/checkouts?storeId=%s&state=erp%%2Fcredit", f->store);
    page = get_ok(f, path);
    assert_int_equal(json_array_size(ckt_get(page, "items")), 1);
    json_decref(page);
    /* A built-in state the session is not in: known, nothing listed. */
    snprintf(path, sizeof(path), "/v1/checkouts?storeId=%s&state=tax", f->store);
    page = get_ok(f, path);
    assert_int_equal(json_array_size(ckt_get(page, "items")), 0);
    json_decref(page);

    snprintf(path, sizeof(path), "/v1/checkouts?storeId=%s&state=Done", f->store);
    HELD = admin(f, "GET", path, NULL);
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", "INVALID_FIELD", "state");
    ckt_free(&HELD);
    /* The subflow itself is no state, only its steps are. */
    snprintf(path, sizeof(path), "/v1/checkouts?storeId=%s&state=erp", f->store);
    HELD = admin(f, "GET", path, NULL);
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", "INVALID_FIELD", "state");
    ckt_free(&HELD);
    /* Another store's step path is not this store's. */
    snprintf(path, sizeof(path), "/v1/checkouts?storeId=%s&state=elsewhere/only", f->store);
    HELD = admin(f, "GET", path, NULL);
    ckt_expect_error(&HELD, 400, "BAD_REQUEST", "INVALID_FIELD", "state");
    ckt_free(&HELD);
    snprintf(path, sizeof(path), "/v1/checkouts?storeId=%s&state=elsewhere/only", other);
    page = get_ok(f, path);
    assert_int_equal(json_array_size(ckt_get(page, "items")), 0);
    json_decref(page);
    ckt_fx_finish(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(standard_flow, teardown),
        cmocka_unit_test_teardown(clone_rules, teardown),
        cmocka_unit_test_teardown(put_draft, teardown),
        cmocka_unit_test_teardown(validation_errors, teardown),
        cmocka_unit_test_teardown(activation, teardown),
        cmocka_unit_test_teardown(listing, teardown),
        cmocka_unit_test_teardown(pinning, teardown),
        cmocka_unit_test_teardown(state_filter, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
