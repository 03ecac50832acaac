/* tax.c: per line, round_half_up((amount + adjustment) x rate / 10000) at the
 * ship-to country's rate (0 if the store has none); shipping is not taxed. */
#include <jansson.h>

#include "steps/step.h"

ck_step_result ck_step_tax(ck_step_ctx *ctx)
{
    const char *country =
        json_string_value(json_object_get(json_object_get(ctx->inputs, "shippingAddress"), "country"));
    if (!country)
        return ck_step_fail(ctx, "SHIPPING_ADDRESS_REQUIRED", "set a shipping address on the checkout first");
    ck_error dberr;
    ck_stmt *st = NULL;
    int64_t rate = 0;
    int rc = ck_db_one(ctx->db, &st, &dberr, "SELECT rate_bp FROM tax_rates WHERE store_id = ? AND country = ?",
                       "tt", ctx->store_id, country);
    if (rc < 0)
        return ck_step_db_error(ctx, &dberr);
    if (rc == 1)
        rate = ck_col_int(st, 0);
    ck_db_done(st);
    int64_t tax = 0;
    for (size_t i = 0; i < ctx->nlines; i++) {
        ck_line *l = &ctx->lines[i];
        int64_t net = l->sales_price * l->quantity + l->adjustment;
        l->tax = ck_bp_round(net, rate);
        tax += l->tax;
        rc = ck_db_exec(ctx->db, NULL, &dberr, "UPDATE cart_items SET tax = ?, total = ? WHERE id = ?", "iit",
                        l->tax, net + l->tax, l->item_id);
        if (rc < 0)
            return ck_step_db_error(ctx, &dberr);
    }
    ctx->tax = tax;
    ctx->grand_total = ctx->subtotal + ctx->adjustments + ctx->shipping + ctx->tax;
    return CK_STEP_OK;
}
