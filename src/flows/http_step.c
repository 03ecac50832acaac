/* http_step.c: the "http" step kind. Its config is {"url","timeoutMs",
 * "secret"}. The step POSTs {"sessionId","cart","inputs"} to url, signed
 * like a webhook and keyed `<sessionId>:<step path>:<inputsVersion>`
 * (flows/callout.h), outside any transaction; {"ok":false} fails it with
 * EXTENSION_REJECTED (400), a timeout or a bad answer with
 * EXTENSION_UNAVAILABLE (500, resumable: the same key goes again). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/jsonin.h"
#include "flows/callout.h"
#include "flows/extensions.h"

typedef struct callout_config {
    char *url, *secret;
    long timeout_ms;
} callout_config;

static void http_release(void *prepared)
{
    callout_config *c = prepared;
    if (!c)
        return;
    if (c->secret) {
        explicit_bzero(c->secret, strlen(c->secret));
        free(c->secret);
    }
    free(c->url);
    free(c);
}

static int http_prepare(const json_t *config, void **out, char *msg, size_t msglen)
{
    static const char *const fields[] = {"url", "timeoutMs", "secret", NULL};
    json_t *cfg = (json_t *)config;
    const char *url = NULL, *secret = NULL;
    int64_t timeout = CK_CALLOUT_TIMEOUT_DEFAULT_MS;
    ck_error err;
    *out = NULL;
    ck_error_clear(&err);
    if (!json_is_object(cfg)) {
        snprintf(msg, msglen, "an http step needs config.url");
        return -1;
    }
    if (ck_in_only(cfg, fields, &err) < 0 || ck_in_url(cfg, "url", CK_REQUIRED, 0, &url, &err) < 0 ||
        ck_in_int(cfg, "timeoutMs", CK_OPTIONAL, 1, CK_CALLOUT_TIMEOUT_MAX_MS, &timeout, &err) < 0 ||
        ck_in_str(cfg, "secret", CK_OPTIONAL, 512, &secret, &err) < 0) {
        snprintf(msg, msglen, "config: %s", err.message);
        return -1;
    }
    callout_config *c = calloc(1, sizeof(*c));
    if (!c || !(c->url = strdup(url)) || (secret && !(c->secret = strdup(secret)))) {
        http_release(c);
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    c->timeout_ms = (long)timeout;
    *out = c;
    return 0;
}

static ck_step_result http_run(ck_step_ctx *ctx)
{
    const callout_config *c = ctx->step_prepared;
    json_t *cart = ck_flow_cart_json(ctx);
    if (!cart)
        return ck_step_db_error(ctx, ctx->err);
    json_t *body = json_pack("{s:s, s:o, s:O}", "sessionId", ctx->session_id, "cart", cart, "inputs",
                             ctx->inputs ? ctx->inputs : json_null());
    char *text = body ? ck_json_text(body) : NULL;
    json_decref(body);
    if (!text)
        return ck_step_retry(ctx, "INTERNAL_ERROR", "out of memory");
    char key[CK_ID_MAX + CK_STEP_PATH_MAX + 32];
    snprintf(key, sizeof(key), "%s:%s:%lld", ctx->session_id, ctx->step_path, (long long)ctx->inputs_version);
    ck_callout_result res;
    ck_callout_post(c->url, c->timeout_ms, c->secret, key, text, &ctx->cx->stopping, &res);
    free(text);
    switch (res.outcome) {
    case CK_CALLOUT_OK: return CK_STEP_OK;
    case CK_CALLOUT_REJECTED: return ck_step_fail(ctx, "EXTENSION_REJECTED", "%s", res.message);
    default:
        return ck_step_retry(ctx, "EXTENSION_UNAVAILABLE", "the %s service did not answer: %s", ctx->step_path,
                             res.message);
    }
}

/* External: it talks to the merchant's service outside any transaction
 * and commits alone (its progress), so a crash after its commit never
 * calls it again; a crash before does, with the same key. It reads every
 * input, so any PATCH rewinds to before it. */
const ck_step_kind ck_step_http = {
    .name = "http",
    .run = http_run,
    .reads = CK_READS_ADDRESS | CK_READS_METHOD | CK_READS_PAYMENT,
    .flags = CK_STEP_EXTERNAL,
    .prepare = http_prepare,
    .release = http_release,
};
