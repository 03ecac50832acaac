/* step.c: the built-in step kinds by name, and the helpers steps share. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "steps/step.h"

/* Each kind declares its own reads and effects (src/steps/<name>.c); the
 * flow derives the commit groups from them (flows/flow.h). */
static const ck_step_kind *const builtins[] = {
    &ck_step_validate_cart, &ck_step_pricing,      &ck_step_shipping, &ck_step_tax,        &ck_step_business_rules,
    &ck_step_payment,       &ck_step_create_order, &ck_step_confirm,  &ck_step_close_cart,
};

const ck_step_kind *ck_step_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (strcmp(builtins[i]->name, name) == 0)
            return builtins[i];
    return NULL;
}

int ck_step_builtin_rank(const ck_step_kind *kind)
{
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (builtins[i] == kind)
            return (int)i;
    return -1;
}

const char *const ck_payment_method_names[] = {"card", "purchase_order", "net_terms", "prepaid", "contract", NULL};

unsigned ck_payment_method_bit(const char *name)
{
    for (size_t i = 0; name && ck_payment_method_names[i]; i++)
        if (strcmp(ck_payment_method_names[i], name) == 0)
            return 1u << i;
    return 0;
}

static void vfill(ck_step_ctx *ctx, int http, const char *reason, const char *fmt, va_list ap)
{
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    ck_fail(ctx->err, http == 400 ? CK_EINVALID : CK_EINTERNAL, reason, NULL, "%s", msg);
}

ck_step_result ck_step_fail(ck_step_ctx *ctx, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfill(ctx, 400, reason, fmt, ap);
    va_end(ap);
    return CK_STEP_FAIL;
}

ck_step_result ck_step_retry(ck_step_ctx *ctx, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfill(ctx, 500, reason, fmt, ap);
    va_end(ap);
    return CK_STEP_RETRY;
}

ck_step_result ck_step_db_error(ck_step_ctx *ctx, const ck_error *dberr)
{
    ck_log(CK_LOG_ERROR, "step storage error", "sessionId", ctx->session_id, "error", dberr->message, NULL);
    return ck_step_retry(ctx, "INTERNAL_ERROR", "internal error; placing the order again resumes here");
}

int64_t ck_bp_round(int64_t x, int64_t bp)
{
    __int128 v = (__int128)x * bp + 5000;
    return (int64_t)(v / 10000);
}

typedef struct held_tx {
    ck_step_ctx *ctx;
    ck_db_tx_fn fn;
    void *arg;
} held_tx;

static int run_held(ck_db *db, void *arg, ck_error *err)
{
    held_tx *h = arg;
    int rc = ck_runs_hold(db, h->ctx->session_id, h->ctx->lease_owner, err);
    if (rc == 0)
        rc = ck_fail(err, CK_ECONFLICT, "INTERNAL_ERROR", NULL,
                     "the session's lease was lost (another caller took over, or it was abandoned)");
    return rc < 0 ? rc : h->fn(db, h->arg, err);
}

int ck_step_tx(ck_step_ctx *ctx, ck_db_tx_fn fn, void *arg, ck_error *err)
{
    held_tx h = {ctx, fn, arg};
    return ck_db_tx(ctx->db, 1, run_held, &h, err);
}
