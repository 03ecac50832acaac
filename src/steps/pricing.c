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

ck_step_result ck_step_pricing(ck_step_ctx *ctx)
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
    ck_stmt *st = NULL;
    int rc = ck_db_one(ctx->db, &st, &dberr,
                       "SELECT percent_off_bp FROM promotions WHERE store_id = ? AND min_subtotal <= ?"
                       " ORDER BY percent_off_bp DESC, id LIMIT 1",
                       "ti", ctx->store_id, subtotal);
    if (rc < 0)
        return ck_step_db_error(ctx, &dberr);
    if (rc == 1)
        bp = ck_col_int(st, 0);
    ck_db_done(st);

    int64_t adjustments = 0;
    for (size_t i = 0; i < ctx->nlines; i++) {
        ck_line *l = &ctx->lines[i];
        int64_t amount = l->sales_price * l->quantity;
        l->adjustment = -ck_bp_round(amount, bp);
        l->tax = 0;
        adjustments += l->adjustment;
        rc = ck_db_exec(ctx->db, NULL, &dberr,
                        "UPDATE cart_items SET list_price = ?, sales_price = ?, adjustment = ?, tax = 0, total = ?"
                        " WHERE id = ?",
                        "iiiit", l->unit_price, l->sales_price, l->adjustment, amount + l->adjustment, l->item_id);
        if (rc < 0)
            return ck_step_db_error(ctx, &dberr);
    }
    ctx->subtotal = subtotal;
    ctx->adjustments = adjustments;
    ctx->tax = 0;
    ctx->grand_total = subtotal + adjustments + ctx->shipping;
    return CK_STEP_OK;
}
