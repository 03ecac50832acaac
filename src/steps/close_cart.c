/* close_cart.c: the ordered cart becomes Closed. */
#include "carts/cart.h"
#include "steps/step.h"

static ck_step_result run(ck_step_ctx *ctx)
{
    ck_error dberr;
    if (ck_cart_set_status(ctx->db, ctx->cart_id, CK_CART_CLOSED, &dberr) < 0)
        return ck_step_db_error(ctx, &dberr);
    return CK_STEP_OK;
}

const ck_step_kind ck_step_close_cart = {
    .name = "close_cart", .run = run, .reads = 0, .flags = CK_STEP_ORDER,
};
