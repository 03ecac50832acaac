/* tax.c: per line, round_half_up((amount + adjustment) x rate / 10000) at the
 * ship-to country's rate (0 if the store has none); shipping is not taxed. */
#include <jansson.h>

#include "steps/step.h"

static ck_step_result run(ck_step_ctx *ctx)
{
    const char *country =
        json_string_value(json_object_get(json_object_get(ctx->inputs, "shippingAddress"), "country"));
    if (!country)
        return ck_step_fail(ctx, "SHIPPING_ADDRESS_REQUIRED", "set a shipping address on the checkout first");
    ck_error dberr;
    int64_t rate = 0;
    int rc = ck_runs_tax_rate(ctx->db, ctx->store_id, country, &rate, &dberr);
    if (rc < 0)
        return ck_step_db_error(ctx, &dberr);
    int64_t tax = 0;
    for (size_t i = 0; i < ctx->nlines; i++) {
        ck_line *l = &ctx->lines[i];
        int64_t net = l->sales_price * l->quantity + l->adjustment;
        l->tax = ck_bp_round(net, rate);
        tax += l->tax;
        rc = ck_runs_line_taxed(ctx->db, l, net + l->tax, &dberr);
        if (rc < 0)
            return ck_step_db_error(ctx, &dberr);
    }
    ctx->tax = tax;
    ctx->grand_total = ctx->subtotal + ctx->adjustments + ctx->shipping + ctx->tax;
    return CK_STEP_OK;
}

const ck_step_kind ck_step_tax = {
    .name = "tax", .run = run, .reads = CK_READS_ADDRESS, .flags = CK_STEP_PURE,
};
