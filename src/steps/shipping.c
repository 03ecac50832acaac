/* shipping.c: the chosen method's flatFee + perKgFee x ceil(total grams / 1000). */
#include <jansson.h>

#include "steps/step.h"
#include "core/jsonin.h"

static ck_step_result run(ck_step_ctx *ctx)
{
    if (!json_is_object(json_object_get(ctx->inputs, "shippingAddress")))
        return ck_step_fail(ctx, "SHIPPING_ADDRESS_REQUIRED", "set a shipping address on the checkout first");
    const char *method = json_string_value(json_object_get(ctx->inputs, "shippingMethodId"));
    if (!method)
        return ck_step_fail(ctx, "SHIPPING_METHOD_REQUIRED", "choose a shipping method on the checkout first");
    ck_error dberr;
    int64_t flat = 0, per_kg = 0;
    int rc = ck_runs_shipping_fees(ctx->db, method, ctx->store_id, &flat, &per_kg, &dberr);
    if (rc < 0)
        return ck_step_db_error(ctx, &dberr);
    if (rc == 0)
        return ck_step_fail(ctx, "SHIPPING_METHOD_REQUIRED", "shipping method %s is not offered by this store",
                            method);
    __int128 grams = 0;
    for (size_t i = 0; i < ctx->nlines; i++)
        grams += (__int128)ctx->lines[i].weight_grams * ctx->lines[i].quantity;
    __int128 fee = flat + (__int128)per_kg * ((grams + 999) / 1000);
    if (fee > CK_MONEY_MAX)
        return ck_step_fail(ctx, "TOTAL_TOO_LARGE", "the shipping fee exceeds what one order may hold");
    ctx->shipping = (int64_t)fee;
    ctx->grand_total = ctx->subtotal + ctx->adjustments + ctx->shipping + ctx->tax;
    return CK_STEP_OK;
}

const ck_step_kind ck_step_shipping = {
    .name = "shipping", .run = run, .reads = CK_READS_ADDRESS | CK_READS_METHOD, .flags = CK_STEP_PURE,
};
