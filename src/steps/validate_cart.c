/* validate_cart.c: the cart has lines, every product is for sale, minimum
 * quantities hold and stock covers each line (create_order re-checks stock
 * in its own commit). */
#include "steps/step.h"

static ck_step_result run(ck_step_ctx *ctx)
{
    if (ctx->nlines == 0) {
        snprintf(ctx->cvo_related, sizeof(ctx->cvo_related), "%s", ctx->cart_id);
        ctx->cvo_type = "Other";
        return ck_step_fail(ctx, "CART_EMPTY", "the cart has no items");
    }
    for (size_t i = 0; i < ctx->nlines; i++) {
        const ck_line *l = &ctx->lines[i];
        snprintf(ctx->cvo_related, sizeof(ctx->cvo_related), "%s", l->item_id);
        if (!l->active) {
            ctx->cvo_type = "Entitlement";
            return ck_step_fail(ctx, "PRODUCT_INACTIVE", "product %s is no longer for sale", l->sku);
        }
        if (l->quantity < l->min_quantity) {
            ctx->cvo_type = "Inventory";
            return ck_step_fail(ctx, "MINIMUM_QUANTITY_NOT_MET", "%s must be ordered in at least %lld units",
                                l->sku, (long long)l->min_quantity);
        }
        if (l->stock < l->quantity) {
            ctx->cvo_type = "Inventory";
            return ck_step_fail(ctx, "INSUFFICIENT_INVENTORY", "only %lld of %s are in stock",
                                (long long)l->stock, l->sku);
        }
    }
    ctx->cvo_related[0] = '\0';
    return CK_STEP_OK;
}

const ck_step_kind ck_step_validate_cart = {
    .name = "validate_cart", .run = run, .reads = 0, .flags = CK_STEP_PURE,
};
