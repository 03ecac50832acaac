/* confirm.c: an order that is Activated at once (every method but net terms)
 * is released now: its OrderReleased event, its fulfillment order and the
 * FulfillmentOrderCreated event join the order's commit. A net terms order
 * is released on approval instead. */
#include <string.h>

#include "fulfillment/fulfillment.h"
#include "steps/step.h"
#include "store/orders.h"

static ck_step_result run(ck_step_ctx *ctx)
{
    ck_error dberr;
    char status[32];
    int rc = ck_orders_status(ctx->db, ctx->order_id, status, &dberr);
    if (rc <= 0)
        return ck_step_db_error(ctx, &dberr);
    if (strcmp(status, "Activated") != 0)
        return CK_STEP_OK;
    json_t *view = NULL;
    if ((rc = ck_order_release(ctx->db, ctx->order_id, ctx->session_id, &view, &dberr)) < 0) {
        json_decref(view);
        return ck_step_db_error(ctx, &dberr);
    }
    if (view) {
        json_decref(ctx->order_view);
        ctx->order_view = view;
    }
    return CK_STEP_OK;
}

const ck_step_kind ck_step_confirm = {
    .name = "confirm", .run = run, .reads = 0, .flags = CK_STEP_ORDER,
};
