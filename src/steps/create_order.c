/* create_order.c: the Order with its items, the OrderSummary with its item
 * summaries, the conditional stock decrement and the OrderCreated event, all
 * in the caller's (the order's own) commit. When another order took the stock
 * meanwhile the step fails INSUFFICIENT_INVENTORY and asks the engine to
 * compensate the steps before it (the payment's hold is voided, its
 * balances given back) after rolling back. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "orders/order.h"
#include "steps/step.h"
#include "events/outbox.h"
#include "store/catalog.h"
#include "store/ledger.h"
#include "store/orders.h"
#include "store/payments.h"

static ck_step_result run(ck_step_ctx *ctx)
{
    ck_error dberr;
    int rc;
    int64_t now = ck_now_ms();
    json_t *pay = json_object_get(ctx->inputs, "payment");
    const char *method = json_string_value(json_object_get(pay, "method"));
    const char *po = json_string_value(json_object_get(pay, "poNumber"));
    const char *ship_method = json_string_value(json_object_get(ctx->inputs, "shippingMethodId"));
    char *address = json_dumps(json_object_get(ctx->inputs, "shippingAddress"), JSON_COMPACT);
    char id[CK_ID_MAX], number[32], summary_id[CK_ID_MAX];
    ck_id_new(id, "ord");
    snprintf(number, sizeof(number), "CK-%s", id + strlen(id) - 12);
    ck_id_new(summary_id, "osum");

    /* The money must still be there, checked in the order's own commit
     * (which holds the session row: ck_step_tx_begin). A card order takes
     * its hold by a conditional UPDATE: a hold voided, marked for void or
     * expired (by status or by date) is not taken, and a void that commits
     * after this one finds the hold taken. Credit, prepaid and contract:
     * the payment step's reservation must still stand. Otherwise the
     * session goes back to pay again. */
    if (method && strcmp(method, "card") == 0) {
        char key[160];
        snprintf(key, sizeof(key), "%s:payment:%lld", ctx->session_id, (long long)ctx->inputs_version);
        rc = ck_payments_take_hold(ctx->db, key, ctx->session_id, id, now, &dberr);
        if (rc < 0)
            goto db_error;
        if (rc != 1) {
            free(address);
            ctx->compensate = 1;
            return ck_step_retry(ctx, "PAYMENT_GATEWAY_ERROR",
                                 "the card authorization is no longer valid; place the order again to authorize anew");
        }
    } else if (method) {
        int credit = strcmp(method, "purchase_order") == 0 || strcmp(method, "net_terms") == 0;
        int64_t held = 0;
        rc = ck_ledger_session_sum(ctx->db, ctx->session_id,
                                   credit ? "credit" : strcmp(method, "prepaid") == 0 ? "prepaid" : "contract", &held,
                                   &dberr);
        if (rc < 0)
            goto db_error;
        if (held != (credit ? ctx->grand_total : -ctx->grand_total)) {
            free(address);
            ctx->compensate = 1;
            return ck_step_retry(ctx, "INTERNAL_ERROR",
                                 "the payment's reservation was given back meanwhile; place the order again");
        }
    }
    /* business_rules checked the PO number, but a resume starts after it and
     * another order may have taken the number meanwhile: check again here,
     * in the order's own commit (the unique index backs this up). */
    if (po) {
        rc = ck_orders_po_used(ctx->db, ctx->account_id, po, &dberr);
        if (rc < 0)
            goto db_error;
        if (rc == 1) {
            free(address);
            ctx->compensate = 1;
            return ck_step_fail(ctx, "DUPLICATE_PO_NUMBER", "PO number %s was used on another order", po);
        }
    }
    for (size_t i = 0; i < ctx->nlines; i++) {
        const ck_line *l = &ctx->lines[i];
        rc = ck_catalog_take_stock(ctx->db, l->product_id, l->quantity, now, &dberr);
        if (rc < 0)
            goto db_error;
        if (rc != 1) {
            free(address);
            snprintf(ctx->cvo_related, sizeof(ctx->cvo_related), "%s", l->item_id);
            ctx->cvo_type = "Inventory";
            ctx->compensate = 1;
            return ck_step_fail(ctx, "INSUFFICIENT_INVENTORY", "%s sold out while the order was placed", l->sku);
        }
    }
    ck_order_new o = {.id = id,
                      .number = number,
                      .cart_id = ctx->cart_id,
                      .session_id = ctx->session_id,
                      .store_id = ctx->store_id,
                      .account_id = ctx->account_id,
                      .buyer_id = ctx->buyer_id,
                      .status = strcmp(method ? method : "", "net_terms") == 0 ? "PendingApproval" : "Activated",
                      .currency = ctx->currency,
                      .payment_method = method ? method : "",
                      .po_number = po,
                      .totals = {ctx->subtotal, ctx->adjustments, ctx->shipping, ctx->tax, ctx->grand_total},
                      .shipping_address = address ? address : "{}",
                      .shipping_method_id = ship_method ? ship_method : "",
                      .now = now};
    rc = ck_orders_insert(ctx->db, &o, &dberr);
    free(address);
    address = NULL;
    if (rc == CK_EDUP) {
        ctx->compensate = 1;
        return ck_step_fail(ctx, "DUPLICATE_PO_NUMBER", "PO number %s was used on another order", po ? po : "");
    }
    if (rc < 0)
        goto db_error;
    rc = ck_orders_insert_lines(ctx->db, id, summary_id, ctx->lines, ctx->nlines, now, &dberr);
    if (rc == 0)
        rc = ck_ledger_attach_order(ctx->db, ctx->session_id, id, &dberr);
    if (rc < 0)
        goto db_error;
    json_t *order = NULL;
    if ((rc = ck_order_json(ctx->db, id, &order, &dberr)) < 0)
        goto db_error;
    json_decref(ctx->order_view);
    ctx->order_view = json_incref(order);
    if ((rc = ck_outbox_add(ctx->db, "OrderCreated", id, ctx->session_id, json_pack("{s:o}", "order", order),
                            &dberr)) < 0)
        goto db_error;
    snprintf(ctx->order_id, sizeof(ctx->order_id), "%s", id);
    return CK_STEP_OK;
db_error:
    free(address);
    return ck_step_db_error(ctx, &dberr);
}

const ck_step_kind ck_step_create_order = {
    .name = "create_order", .run = run, .reads = 0, .flags = CK_STEP_ORDER,
};
