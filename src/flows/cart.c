/* cart.c: the cart that lua and http steps are shown (flows/extensions.h),
 * built from the run's lines, totals and inputs, and the account's row. */
#include "flows/extensions.h"
#include "store/accounts.h"

json_t *ck_flow_cart_json(ck_step_ctx *ctx)
{
    json_t *account = NULL, *items = json_array();
    if (ck_accounts_json(ctx->db, ctx->account_id, &account, ctx->err) < 0) {
        json_decref(items);
        return NULL;
    }
    for (size_t i = 0; i < ctx->nlines; i++) {
        const ck_line *l = &ctx->lines[i];
        json_array_append_new(items, json_pack("{s:s, s:s, s:I, s:I, s:I}", "sku", l->sku, "productId", l->product_id,
                                               "quantity", (json_int_t)l->quantity, "salesPrice",
                                               (json_int_t)l->sales_price, "adjustment", (json_int_t)l->adjustment));
    }
    json_t *pay = json_object_get(ctx->inputs, "payment");
    json_t *method = json_object_get(pay, "method");
    json_t *inputs = ctx->inputs ? json_incref(ctx->inputs) : json_object();
    json_t *cart = json_pack(
        "{s:o, s:{s:I, s:I, s:I, s:I, s:I}, s:{s:s, s:O, s:O}, s:o, s:O}", "items", items, "totals", "subtotal",
        (json_int_t)ctx->subtotal, "adjustments", (json_int_t)ctx->adjustments, "shipping", (json_int_t)ctx->shipping,
        "tax", (json_int_t)ctx->tax, "grandTotal", (json_int_t)ctx->grand_total, "account", "id", ctx->account_id,
        "name", json_object_get(account, "name") ? json_object_get(account, "name") : json_null(), "country",
        json_object_get(account, "country") ? json_object_get(account, "country") : json_null(), "inputs",
        inputs, "paymentMethod", json_is_string(method) ? method : json_null());
    json_decref(account);
    if (!cart)
        ck_fail(ctx->err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    return cart;
}
