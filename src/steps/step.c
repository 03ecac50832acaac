/* step.c: the built-in step registry and the helpers steps share. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "steps/step.h"

/* Groups: the pure computing steps share one commit (a resume re-runs the
 * whole group, which only recomputes); payment is external and commits
 * alone; the order, its events and closing the cart commit together, so no
 * order exists without its OrderCreated event and closed cart. */
static const ck_step_def builtins[] = {
    {"validate_cart", ck_step_validate_cart, NULL, 0, 1, 0},
    {"pricing", ck_step_pricing, NULL, 0, 1, 0},
    {"shipping", ck_step_shipping, NULL, CK_READS_ADDRESS | CK_READS_METHOD, 1, 0},
    {"tax", ck_step_tax, NULL, CK_READS_ADDRESS, 1, 0},
    {"business_rules", ck_step_business_rules, NULL, CK_READS_ADDRESS | CK_READS_PAYMENT, 1, 0},
    {"payment", ck_step_payment, ck_step_payment_save, CK_READS_PAYMENT, 2, 1},
    {"create_order", ck_step_create_order, NULL, 0, 3, 0},
    {"confirm", ck_step_confirm, NULL, 0, 3, 0},
    {"close_cart", ck_step_close_cart, NULL, 0, 3, 0},
};

const ck_step_def *ck_step_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
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

int ck_step_tx_begin(ck_step_ctx *ctx, ck_error *err)
{
    int rc = ck_db_begin(ctx->db, 1, err);
    if (rc < 0)
        return rc;
    int64_t changed = 0;
    rc = ck_db_exec(ctx->db, &changed, err,
                    "UPDATE checkout_sessions SET updated_at = updated_at WHERE id = ? AND lease_owner = ?"
                    " AND is_archived = 0 AND state <> 'Completed'",
                    "tt", ctx->session_id, ctx->lease_owner ? ctx->lease_owner : "");
    if (rc == 0 && changed != 1)
        rc = ck_fail(err, CK_ECONFLICT, "INTERNAL_ERROR", NULL,
                     "the session's lease was lost (another caller took over, or it was abandoned)");
    if (rc < 0)
        ck_db_rollback(ctx->db);
    return rc;
}
