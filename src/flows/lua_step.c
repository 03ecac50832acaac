/* lua_step.c: the "lua" step kind. Its config is {"script"}: Lua 5.4 that
 * defines check(cart). The script is compiled when its flow is parsed (as
 * it is saved, and once per process per flow version after that), and run
 * in the sandbox of flows/lua.h against the cart of ck_flow_cart_json. A
 * false answer, a limit or a runtime error fails the step with
 * EXTENSION_REJECTED (400) and the message saying which. */
#include <stdlib.h>
#include <string.h>

#include "flows/extensions.h"
#include "flows/lua.h"

static void lua_release(void *prepared)
{
    ck_lua_chunk_free(prepared);
    free(prepared);
}

static int lua_prepare(const json_t *config, void **out, char *msg, size_t msglen)
{
    const char *key;
    json_t *v;
    *out = NULL;
    if (!json_is_object(config) || !json_is_string(json_object_get(config, "script"))) {
        snprintf(msg, msglen, "a lua step needs config.script, the Lua source of function check(cart)");
        return -1;
    }
    json_object_foreach((json_t *)config, key, v) {
        if (strcmp(key, "script") != 0) {
            snprintf(msg, msglen, "a lua step's config holds only 'script', not '%s'", key);
            return -1;
        }
    }
    ck_lua_chunk *chunk = calloc(1, sizeof(*chunk));
    if (!chunk) {
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    if (ck_lua_compile(json_string_value(json_object_get(config, "script")), "script", chunk, msg, msglen) < 0) {
        free(chunk);
        return -1;
    }
    /* Its top level runs once now, so a script that defines no check (or
     * loops, or fails before defining it) is refused when it is saved. */
    if (ck_lua_defines_check(chunk, msg, msglen) != 1) {
        lua_release(chunk);
        return -1;
    }
    *out = chunk;
    return 0;
}

static ck_step_result lua_run(ck_step_ctx *ctx)
{
    json_t *cart = ck_flow_cart_json(ctx);
    if (!cart)
        return ck_step_db_error(ctx, ctx->err);
    char msg[256];
    int rc = ck_lua_check(ctx->step_prepared, cart, msg, sizeof(msg));
    json_decref(cart);
    if (rc == 1)
        return CK_STEP_OK;
    if (rc == 0)
        return ck_step_fail(ctx, "EXTENSION_REJECTED", "%s", msg);
    return ck_step_retry(ctx, "INTERNAL_ERROR", "the lua step could not run: %s", msg);
}

/* Pure: it reads the cart and changes nothing, so it shares the commit of
 * the pure steps beside it and re-running it is harmless. It reads every
 * input, so any PATCH rewinds to before it. */
const ck_step_kind ck_step_lua = {
    .name = "lua",
    .run = lua_run,
    .reads = CK_READS_ADDRESS | CK_READS_METHOD | CK_READS_PAYMENT,
    .flags = CK_STEP_PURE,
    .prepare = lua_prepare,
    .release = lua_release,
};
