/* confirm.c: an order that is Activated at once (every method but net terms)
 * is released now: its OrderReleased event joins the order's commit. A net
 * terms order is released on approval instead. */
#include <string.h>

#include "orders/order.h"
#include "steps/step.h"
#include "events/outbox.h"

ck_step_result ck_step_confirm(ck_step_ctx *ctx)
{
    ck_error dberr;
    ck_stmt *st = NULL;
    int rc = ck_db_one(ctx->db, &st, &dberr, "SELECT status FROM orders WHERE id = ?", "t", ctx->order_id);
    if (rc <= 0)
        return ck_step_db_error(ctx, &dberr);
    int activated = strcmp(ck_col_text(st, 0), "Activated") == 0;
    ck_db_done(st);
    if (!activated)
        return CK_STEP_OK;
    json_t *order = NULL;
    if ((rc = ck_order_json(ctx->db, ctx->order_id, &order, &dberr)) < 0 ||
        (rc = ck_outbox_add(ctx->db, "OrderReleased", ctx->order_id, ctx->session_id,
                            json_pack("{s:o}", "order", order), &dberr)) < 0)
        return ck_step_db_error(ctx, &dberr);
    return CK_STEP_OK;
}
