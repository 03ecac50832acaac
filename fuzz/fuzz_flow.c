/* fuzz_flow.c: the fuzz target of a merchant's flow definition, the outside
 * input that PUT /v1/flows/{id} takes: the JSON steps list that
 * ck_flow_parse_steps checks with CK_FLOW_STRICT (which compiles each lua
 * step's script and checks each http step's config), and the Lua source that
 * ck_lua_compile compiles and ck_lua_check runs in the sandbox. One input,
 * one mode, chosen by its first byte (the rest is the payload):
 *   'j'  the payload is JSON: a steps list, or an object whose "steps" is one
 *        (a PUT body); parsed as the API parses it, then checked strictly;
 *   'l'  the payload is Lua source: compiled, and when it compiles its
 *        check(cart) runs on a small fixed cart in a fresh state;
 *   'p'  as 'l' in the thread's pooled state, then a probe script runs in the
 *        same pooled state and must see the pristine sandbox (a script may
 *        not leave anything behind for the next one);
 *   's'  the payload is the script of a lua step placed in the standard flow
 *        (as a JSON string): the flow is parsed strictly and that step's
 *        check(cart) runs.
 * Any other first byte picks one of the four by its value modulo 4, so every
 * input means something. Besides the sanitizers, the target aborts when a
 * promise breaks: a failed parse without INVALID_FLOW and a message naming
 * the step, a flow that does not survive being stored and loaded again, a
 * strict success that the lenient parse refuses, a verdict outside
 * {1, 0, <0 with a message}, a message that is not NUL-terminated within its buffer.
 * Built twice: with fuzz/driver.c (gcc, make test replays fuzz/corpus/flow)
 * and with libFuzzer (clang, -fsanitize=fuzzer). See fuzz/README.md. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "flows/extensions.h"
#include "flows/flow.h"
#include "flows/lua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSG_LEN 4096

/* Lists the sandbox as a script sees it: every key and type of the globals
 * and of the libraries, sorted, and a few answers of the string methods
 * (which reach the real string table through the string metatable). */
static const char probe_source[] =
    "local function keys(t)\n"
    "  local out = {}\n"
    "  for k, v in pairs(t) do out[#out + 1] = tostring(k) .. ':' .. type(v) end\n"
    "  table.sort(out)\n"
    "  return table.concat(out, ',')\n"
    "end\n"
    "function check(cart)\n"
    "  local parts = {keys(_G)}\n"
    "  for _, lib in ipairs({'string', 'table', 'math', 'utf8', 'coroutine'}) do\n"
    "    parts[#parts + 1] = lib .. '{' .. keys(_G[lib]) .. '}'\n"
    "  end\n"
    "  parts[#parts + 1] = ('ab'):rep(2) .. ('x'):upper() .. #('abc') .. tostring(getmetatable('') == nil)\n"
    "  parts[#parts + 1] = tostring(getmetatable(_G)) .. tostring(#cart.items) .. tostring(cart.totals.grandTotal)\n"
    "  return false, table.concat(parts, ';')\n"
    "end\n";

static struct {
    int ready;
    json_t *cart;            /* the fixed cart every check sees */
    ck_lua_chunk probe;      /* probe_source, compiled */
    char pristine[MSG_LEN];  /* the probe's answer in a pooled state nothing ran in */
    int verbose;             /* FUZZ_FLOW_VERBOSE set: say what each input came to */
} fx;

/* With FUZZ_FLOW_VERBOSE, one line per outcome: what a seed exercises. */
static void say(const char *what, int rc, const char *msg)
{
    if (fx.verbose)
        fprintf(stderr, "  %s: %d %s\n", what, rc, msg);
}

static void teardown(void)
{
    json_decref(fx.cart);
    ck_lua_chunk_free(&fx.probe);
    ck_lua_thread_cleanup();
}

/* The cart of API.md "Flows": two items, totals, the account, inputs and
 * a payment method. */
static json_t *make_cart(void)
{
    return json_pack("{s:[{s:s, s:s, s:i, s:i, s:i}, {s:s, s:s, s:i, s:i, s:i}],"
                     " s:{s:i, s:i, s:i, s:i, s:i}, s:{s:s, s:s, s:s}, s:{s:s, s:{s:s, s:s}}, s:s}",
                     "items", "sku", "SKU-1", "productId", "prod_1", "quantity", 3, "salesPrice", 1250, "adjustment",
                     0, "sku", "SKU-2", "productId", "prod_2", "quantity", 1, "salesPrice", 99900, "adjustment",
                     -5000, "totals", "subtotal", 103650, "adjustments", -5000, "shipping", 1500, "tax", 19000,
                     "grandTotal", 119150, "account", "id", "acc_1", "name", "Acme GmbH", "country", "DE", "inputs",
                     "paymentMethod", "purchase_order", "shippingAddress", "country", "DE", "city", "Köln",
                     "paymentMethod", "purchase_order");
}

/* msg must be NUL-terminated inside its buffer. */
static void check_msg(const char *msg, size_t len)
{
    if (!memchr(msg, '\0', len))
        abort();
}

static void setup(void)
{
    char msg[MSG_LEN];
    if (fx.ready)
        return;
    fx.ready = 1;
    fx.verbose = getenv("FUZZ_FLOW_VERBOSE") != NULL;
    atexit(teardown);
    if (!(fx.cart = make_cart()))
        abort();
    if (ck_lua_compile(probe_source, "probe", &fx.probe, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "fuzz_flow: the probe does not compile: %s\n", msg);
        abort();
    }
    ck_lua_thread_cleanup();
    if (ck_lua_check_with(CK_LUA_POOLED, &fx.probe, fx.cart, fx.pristine, sizeof(fx.pristine)) != 0) {
        fprintf(stderr, "fuzz_flow: the probe did not answer: %s\n", fx.pristine);
        abort();
    }
}

/* Runs chunk's check(cart) in mode; the verdict must be 1, 0 (with the
 * script's message, which may be "") or a CK_E* code with a message. */
static int run_check(ck_lua_mode mode, const ck_lua_chunk *chunk)
{
    char msg[256];
    memset(msg, 'x', sizeof(msg));
    int rc = ck_lua_check_with(mode, chunk, fx.cart, msg, sizeof(msg));
    check_msg(msg, sizeof(msg));
    if (rc > 1 || (rc < 0 && !msg[0]))
        abort();
    say("check", rc, msg);
    return rc;
}

/* After a script ran in the pooled state, the next one must find the
 * sandbox as it was before. */
static void probe_pool(void)
{
    char msg[MSG_LEN];
    if (ck_lua_check_with(CK_LUA_POOLED, &fx.probe, fx.cart, msg, sizeof(msg)) != 0 ||
        strcmp(msg, fx.pristine) != 0) {
        fprintf(stderr, "fuzz_flow: a script changed the pooled sandbox\nbefore: %s\nafter:  %s\n", fx.pristine,
                msg);
        abort();
    }
}

static void fuzz_lua(const uint8_t *data, size_t size, ck_lua_mode mode)
{
    char msg[256];
    ck_lua_chunk chunk = {0};
    char *source = malloc(size + 1);
    if (!source)
        return;
    memcpy(source, data, size);
    source[size] = '\0';
    memset(msg, 'x', sizeof(msg));
    int rc = ck_lua_compile(source, "script", &chunk, msg, sizeof(msg));
    check_msg(msg, sizeof(msg));
    say("compile", rc, msg);
    if (rc == 0) {
        if (!chunk.code || !chunk.len)
            abort();
        run_check(mode, &chunk);
        if (mode == CK_LUA_POOLED)
            probe_pool();
    } else if (chunk.code || chunk.len || !msg[0]) {
        abort();
    }
    ck_lua_chunk_free(&chunk);
    free(source);
}

/* A parse that failed must say why, as the API shows it: INVALID_FLOW (or
 * an internal error: out of memory) and, for INVALID_FLOW, field "steps"
 * and either a step with a message "step '<step>': ...", or (a problem of
 * the flow's own list) no step and a message "the flow: ...". */
static void check_refusal(int rc, const ck_error *err)
{
    if (rc == CK_EINTERNAL)
        return;
    char prefix[sizeof(err->step) + 16];
    if (err->step[0])
        snprintf(prefix, sizeof(prefix), "step '%s': ", err->step);
    else
        snprintf(prefix, sizeof(prefix), "the flow: ");
    if (rc != CK_EINVALID || strcmp(err->reason, "INVALID_FLOW") != 0 || strcmp(err->field, "steps") != 0 ||
        strncmp(err->message, prefix, strlen(prefix)) != 0) {
        fprintf(stderr, "fuzz_flow: a refusal that does not say why: rc %d reason '%s' field '%s' step '%s' "
                        "message '%s'\n", rc, err->reason, err->field, err->step, err->message);
        abort();
    }
}

/* What the engine asks of a parsed flow, over every step: the answers must
 * stay inside it. */
static void walk_flow(const ck_flow *f)
{
    if (!f->nsteps || f->nsteps > CK_FLOW_STEPS_MAX || f->ngroups < 1 || (size_t)f->ngroups > f->nsteps)
        abort();
    const char *state = ck_flow_state_after(f, CK_STATE_START);
    size_t seen = 0;
    while (state && strcmp(state, CK_STATE_COMPLETED) != 0 && seen <= f->nsteps) {
        state = ck_flow_state_after(f, state);
        seen++;
    }
    if (seen != f->nsteps)
        abort();
    for (size_t i = 0; i < f->nsteps; i++) {
        const ck_flow_step *s = &f->steps[i];
        if (!s->path[0] || ck_flow_index(f, s->path) != (int)i || ck_flow_resume_index(f, s->path) != i + 1)
            abort();
        size_t end = ck_flow_group_end(f, i);
        if (end <= i || end > f->nsteps)
            abort();
        const char *to = NULL;
        if (ck_flow_rewind_target(f, s->path, CK_READS_PAYMENT, &to) && to && ck_flow_index(f, to) < 0)
            abort();
        (void)ck_flow_step_applies(f, i, "card");
        (void)ck_flow_step_applies(f, i, NULL);
    }
    const char *before = NULL;
    int c = ck_flow_compensated(f, &before);
    if (c >= (int)f->nsteps || (before && ck_flow_index(f, before) < 0))
        abort();
}

/* Parses steps strictly as a saved flow is; a flow that passes must pass
 * again after a round trip through its stored text (registry.c loads it so)
 * and must pass the lenient parse. The first lua step's check runs when
 * run_lua. */
static void fuzz_steps(json_t *steps, int run_lua)
{
    ck_flow *f = NULL, *again = NULL, *lenient = NULL;
    json_t *stored = NULL;
    char *text = NULL;
    ck_error err;
    ck_error_clear(&err);
    int rc = ck_flow_parse_steps(&f, "flow_fuzz", 2, steps, CK_FLOW_STRICT, &err);
    say("parse", rc, rc < 0 ? err.message : "");
    if (rc < 0) {
        if (f)
            abort();
        check_refusal(rc, &err);
        goto done;
    }
    walk_flow(f);
    if (!(text = ck_json_text(steps)) || !(stored = json_loads(text, 0, NULL)))
        abort();
    if (ck_flow_parse_steps(&again, "flow_fuzz", 2, stored, CK_FLOW_STRICT, &err) != 0 ||
        again->nsteps != f->nsteps || ck_flow_parse_steps(&lenient, "flow_fuzz", 2, steps, 0, &err) != 0 ||
        lenient->nsteps != f->nsteps) {
        fprintf(stderr, "fuzz_flow: a valid flow that does not load again: %s\n", err.message);
        abort();
    }
    for (size_t i = 0; i < f->nsteps; i++)
        if (strcmp(f->steps[i].path, again->steps[i].path) != 0)
            abort();
    for (size_t i = 0; run_lua && i < f->nsteps; i++) {
        if (f->steps[i].kind == &ck_step_lua) {
            run_check(CK_LUA_FRESH, f->steps[i].prepared);
            break;
        }
    }
done:
    ck_flow_free(f);
    ck_flow_free(again);
    ck_flow_free(lenient);
    json_decref(stored);
    free(text);
}

/* The payload as the API reads a request body (server.c's flags). */
static void fuzz_json(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!doc) {
        say("json", -1, jerr.text);
        return;
    }
    json_t *steps = json_is_object(doc) && json_object_get(doc, "steps") ? json_object_get(doc, "steps") : doc;
    fuzz_steps(steps, 1);
    json_decref(doc);
}

/* The standard flow with {"name":"ext","kind":"lua","config":{"script":
 * payload}} after business_rules (a JSON string holds UTF-8 only: other
 * payloads are left to 'l'; and no NUL). */
static void fuzz_script_step(const uint8_t *data, size_t size)
{
    static const char *const builtins[] = {"validate_cart", "pricing", "shipping", "tax", "business_rules",
                                           NULL, "payment", "create_order", "confirm", "close_cart"};
    /* the API's JSON cannot hold a NUL (no JSON_ALLOW_NUL): the script ends there */
    const uint8_t *nul = memchr(data, '\0', size);
    json_t *script = json_stringn((const char *)data, nul ? (size_t)(nul - data) : size);
    json_t *steps = json_array();
    if (!script || !steps)
        goto done;
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
        json_t *s = builtins[i] ? json_pack("{s:s, s:s}", "name", builtins[i], "kind", "builtin")
                                : json_pack("{s:s, s:s, s:{s:O}}", "name", "ext", "kind", "lua", "config",
                                            "script", script);
        if (json_array_append_new(steps, s) != 0)
            goto done;
    }
    fuzz_steps(steps, 1);
done:
    json_decref(script);
    json_decref(steps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    setup();
    static const char modes[] = "jlps";
    const char *m = memchr(modes, data[0], 4);
    switch (m ? *m : modes[data[0] % 4]) {
    case 'j': fuzz_json(data + 1, size - 1); break;
    case 'l': fuzz_lua(data + 1, size - 1, CK_LUA_FRESH); break;
    case 'p': fuzz_lua(data + 1, size - 1, CK_LUA_POOLED); break;
    default: fuzz_script_step(data + 1, size - 1); break;
    }
    return 0;
}
