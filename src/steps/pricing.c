/* pricing.c: each line's sales price from the highest price tier its quantity
 * reaches (else the product's current unit price), the subtotal, and the best
 * promotion as per-line adjustments (API.md "Arithmetic"). */
#include <jansson.h>

#include "steps/step.h"
#include "core/jsonin.h"

static int64_t tier_price(const ck_line *l)
{
    int64_t price = l->unit_price, best_min = 0;
    size_t i;
    json_t *t;
    json_array_foreach(l->tiers, i, t) {
        int64_t minq = json_integer_value(json_object_get(t, "minQuantity"));
        if (minq <= l->quantity && minq > best_min) {
            best_min = minq;
            price = json_integer_value(json_object_get(t, "unitPrice"));
        }
    }
    return price;
}

static ck_step_result run(ck_step_ctx *ctx)
{
    ck_error dberr;
    int64_t subtotal = 0;
    for (size_t i = 0; i < ctx->nlines; i++) {
        ck_line *l = &ctx->lines[i];
        int64_t amount;
        l->sales_price = tier_price(l);
        if (__builtin_mul_overflow(l->sales_price, l->quantity, &amount) || amount > CK_MONEY_MAX ||
            __builtin_add_overflow(subtotal, amount, &subtotal) || subtotal > CK_MONEY_MAX)
            return ck_step_fail(ctx, "TOTAL_TOO_LARGE", "the cart's total exceeds what one order may hold");
    }
    int64_t bp = 0;
    int rc = ck_runs_best_promotion(ctx->db, ctx->store_id, subtotal, &bp, &dberr);
    if (rc < 0)
        return ck_step_db_error(ctx, &dberr);

    int64_t adjustments = 0;
    for (size_t i = 0; i < ctx->nlines; i++) {
        ck_line *l = &ctx->lines[i];
        int64_t amount = l->sales_price * l->quantity;
        l->adjustment = -ck_bp_round(amount, bp);
        l->tax = 0;
        adjustments += l->adjustment;
        rc = ck_runs_line_priced(ctx->db, l, amount + l->adjustment, &dberr);
        if (rc < 0)
            return ck_step_db_error(ctx, &dberr);
    }
    ctx->subtotal = subtotal;
    ctx->adjustments = adjustments;
    ctx->tax = 0;
    ctx->grand_total = subtotal + adjustments + ctx->shipping;
    return CK_STEP_OK;
}

const ck_step_kind ck_step_pricing = {
    .name = "pricing", .run = run, .reads = 0, .flags = CK_STEP_PURE,
};
