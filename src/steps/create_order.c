/* create_order.c: the Order with its items, the OrderSummary with its item
 * summaries, the conditional stock decrement and the OrderCreated event, all
 * in the caller's (the order's own) commit. When another order took the stock
 * meanwhile the step fails INSUFFICIENT_INVENTORY and the engine voids the
 * authorization after rolling back. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "orders/order.h"
#include "steps/step.h"
#include "events/outbox.h"

ck_step_result ck_step_create_order(ck_step_ctx *ctx)
{
    ck_error dberr;
    int rc;
    int64_t changed = 0, now = ck_now_ms();
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
        rc = ck_db_exec(ctx->db, &changed, &dberr,
                        "UPDATE payment_authorizations SET order_id = ?, updated_at = ?"
                        " WHERE idempotency_key = ? AND session_id = ? AND status = 'Authorized' AND void_pending = 0"
                        " AND order_id IS NULL AND expires_at > ?",
                        "titti", id, now, key, ctx->session_id, now);
        if (rc < 0)
            goto db_error;
        if (changed != 1) {
            free(address);
            ctx->void_holds = 1;
            return ck_step_retry(ctx, "PAYMENT_GATEWAY_ERROR",
                                 "the card authorization is no longer valid; place the order again to authorize anew");
        }
    } else if (method) {
        int credit = strcmp(method, "purchase_order") == 0 || strcmp(method, "net_terms") == 0;
        ck_stmt *st = NULL;
        rc = ck_db_one(ctx->db, &st, &dberr,
                       "SELECT COALESCE(SUM(amount), 0) FROM balance_ledger WHERE session_id = ? AND kind = ?", "tt",
                       ctx->session_id, credit ? "credit" : strcmp(method, "prepaid") == 0 ? "prepaid" : "contract");
        int64_t held = rc == 1 ? ck_col_int(st, 0) : 0;
        ck_db_done(st);
        if (rc < 0)
            goto db_error;
        if (held != (credit ? ctx->grand_total : -ctx->grand_total)) {
            free(address);
            ctx->void_holds = 1;
            return ck_step_retry(ctx, "INTERNAL_ERROR",
                                 "the payment's reservation was given back meanwhile; place the order again");
        }
    }
    /* business_rules checked the PO number, but a resume starts after it and
     * another order may have taken the number meanwhile: check again here,
     * in the order's own commit (the unique index backs this up). */
    if (po) {
        ck_stmt *st = NULL;
        rc = ck_db_one(ctx->db, &st, &dberr, "SELECT 1 FROM orders WHERE account_id = ? AND po_number = ?", "tt",
                       ctx->account_id, po);
        ck_db_done(st);
        if (rc < 0)
            goto db_error;
        if (rc == 1) {
            free(address);
            ctx->void_holds = 1;
            return ck_step_fail(ctx, "DUPLICATE_PO_NUMBER", "PO number %s was used on another order", po);
        }
    }
    for (size_t i = 0; i < ctx->nlines; i++) {
        const ck_line *l = &ctx->lines[i];
        rc = ck_db_exec(ctx->db, &changed, &dberr,
                        "UPDATE products SET stock = stock - ?, updated_at = ? WHERE id = ? AND stock >= ?", "iiti",
                        l->quantity, now, l->product_id, l->quantity);
        if (rc < 0)
            goto db_error;
        if (changed != 1) {
            free(address);
            snprintf(ctx->cvo_related, sizeof(ctx->cvo_related), "%s", l->item_id);
            ctx->cvo_type = "Inventory";
            ctx->void_holds = 1;
            return ck_step_fail(ctx, "INSUFFICIENT_INVENTORY", "%s sold out while the order was placed", l->sku);
        }
    }
    rc = ck_db_exec(ctx->db, NULL, &dberr,
                    "INSERT INTO orders (id, order_number, cart_id, session_id, store_id, account_id, buyer_id, status,"
                    " currency, payment_method, po_number, subtotal, adjustments, shipping, tax, grand_total,"
                    " shipping_address, shipping_method_id, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    "tttttttttttiiiiittii", id, number, ctx->cart_id, ctx->session_id, ctx->store_id, ctx->account_id,
                    ctx->buyer_id, strcmp(method ? method : "", "net_terms") == 0 ? "PendingApproval" : "Activated",
                    ctx->currency, method ? method : "", po, ctx->subtotal, ctx->adjustments, ctx->shipping, ctx->tax,
                    ctx->grand_total, address ? address : "{}", ship_method ? ship_method : "", now, now);
    free(address);
    address = NULL;
    if (rc == CK_EDUP) {
        ctx->void_holds = 1;
        return ck_step_fail(ctx, "DUPLICATE_PO_NUMBER", "PO number %s was used on another order", po ? po : "");
    }
    if (rc < 0)
        goto db_error;
    rc = ck_db_exec(ctx->db, NULL, &dberr, "INSERT INTO order_summaries (id, order_id, created_at) VALUES (?, ?, ?)",
                    "tti", summary_id, id, now);
    for (size_t i = 0; rc == 0 && i < ctx->nlines; i++) {
        const ck_line *l = &ctx->lines[i];
        char item_id[CK_ID_MAX], ois_id[CK_ID_MAX];
        ck_id_new(item_id, "oitem");
        ck_id_new(ois_id, "ois");
        int64_t net = l->sales_price * l->quantity + l->adjustment;
        rc = ck_db_exec(ctx->db, NULL, &dberr,
                        "INSERT INTO order_items (id, order_id, product_id, sku, quantity, unit_price, adjustment, tax,"
                        " total, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        "ttttiiiiii", item_id, id, l->product_id, l->sku, l->quantity, l->sales_price, l->adjustment,
                        l->tax, net + l->tax, now);
        if (rc == 0)
            rc = ck_db_exec(ctx->db, NULL, &dberr,
                            "INSERT INTO order_item_summaries (id, summary_id, order_item_id, quantity_ordered)"
                            " VALUES (?, ?, ?, ?)",
                            "ttti", ois_id, summary_id, item_id, l->quantity);
    }
    if (rc == 0)
        rc = ck_db_exec(ctx->db, NULL, &dberr, "UPDATE balance_ledger SET order_id = ? WHERE session_id = ?", "tt", id,
                        ctx->session_id);
    if (rc < 0)
        goto db_error;
    json_t *order = NULL;
    if ((rc = ck_order_json(ctx->db, id, &order, &dberr)) < 0)
        goto db_error;
    if ((rc = ck_outbox_add(ctx->db, "OrderCreated", id, ctx->session_id, json_pack("{s:o}", "order", order),
                            &dberr)) < 0)
        goto db_error;
    snprintf(ctx->order_id, sizeof(ctx->order_id), "%s", id);
    return CK_STEP_OK;
db_error:
    free(address);
    return ck_step_db_error(ctx, &dberr);
}
