/* order.c: the order view and order visibility. */
#include <string.h>

#include "core/json.h"
#include "core/jsonin.h"
#include "core/context.h"
#include "orders/order.h"

#define ORDER_COLS                                                                                             \
    "id, order_number, cart_id, session_id, store_id, account_id, buyer_id, status, currency, payment_method,"  \
    " po_number, subtotal, adjustments, shipping, tax, grand_total, shipping_address, created_at, updated_at"

static json_t *opt_str(ck_stmt *st, int col)
{
    const char *s = ck_col_text_or_null(st, col);
    return s ? json_string(s) : json_null();
}

static json_t *parsed_or_null(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_null();
}

static json_t *int_of(ck_stmt *st, int col)
{
    return json_integer((json_int_t)ck_col_int(st, col));
}

/* The order row's own fields but the times (which go last, after the lists). */
static json_t *order_head_json(ck_stmt *st)
{
    json_t *totals = json_pack("{s:o, s:o, s:o, s:o, s:o}", "subtotal", int_of(st, 11), "adjustments",
                               int_of(st, 12), "shipping", int_of(st, 13), "tax", int_of(st, 14), "grandTotal",
                               int_of(st, 15));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id",
                          ck_col_text(st, 0), "orderNumber", ck_col_text(st, 1), "cartId", ck_col_text(st, 2),
                          "sessionId", ck_col_text(st, 3), "storeId", ck_col_text(st, 4), "accountId",
                          ck_col_text(st, 5), "buyerId", ck_col_text(st, 6), "status", ck_col_text(st, 7),
                          "currency", ck_col_text(st, 8), "paymentMethod", ck_col_text(st, 9), "poNumber",
                          opt_str(st, 10), "totals", totals, "shippingAddress",
                          parsed_or_null(ck_col_text_or_null(st, 16)));
    return o;
}

static json_t *item_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", ck_col_text(st, 0), "productId",
                     ck_col_text(st, 1), "sku", ck_col_text(st, 2), "quantity", int_of(st, 3), "unitPrice",
                     int_of(st, 4), "adjustment", int_of(st, 5), "tax", int_of(st, 6), "total", int_of(st, 7));
}

static json_t *item_summary_json(ck_stmt *st)
{
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "orderItemId", ck_col_text(st, 0), "quantityOrdered",
                     int_of(st, 1), "quantityFulfilled", int_of(st, 2), "quantityCancelled", int_of(st, 3),
                     "quantityReturned", int_of(st, 4));
}

static json_t *authorization_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:o, s:o, s:s}", "id", ck_col_text(st, 0), "status", ck_col_text(st, 1),
                     "amount", int_of(st, 2), "capturedAmount", int_of(st, 3), "gatewayAuthId",
                     ck_col_text(st, 4));
}

static json_t *payment_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:o, s:o}", "id", ck_col_text(st, 0), "authorizationId", ck_col_text(st, 1),
                     "amount", int_of(st, 2), "createdAt", ck_json_time(ck_col_int(st, 3)));
}

/* Appends row_json() of every row of a prepared query to arr; 0 or <0. */
static int append_rows(ck_stmt *st, json_t *arr, json_t *(*row_json)(ck_stmt *), ck_error *err)
{
    int rc;
    while ((rc = ck_db_next(st, err)) == 1)
        json_array_append_new(arr, row_json(st));
    ck_db_done(st);
    return rc;
}

static int order_items_json(ck_db *db, const char *order_id, json_t **out, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = json_array();
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, product_id, sku, quantity, unit_price, adjustment, tax, total"
                         " FROM order_items WHERE order_id = ? ORDER BY id",
                         "t", order_id);
    return rc < 0 ? rc : append_rows(st, *out, item_json, err);
}

/* {"id","items":[...]} or null when the order has no summary row (the
 * checkout engine writes one in the order's own commit, so only a damaged
 * database shows null). Item summaries are in order-item id order, like items. */
static int order_summary_json(ck_db *db, const char *order_id, json_t **out, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT id FROM order_summaries WHERE order_id = ?", "t", order_id);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        *out = json_null();
        return 0;
    }
    char summary_id[CK_ID_MAX];
    snprintf(summary_id, sizeof(summary_id), "%s", ck_col_text(st, 0));
    ck_db_done(st);
    json_t *items = json_array();
    *out = json_pack("{s:s, s:o}", "id", summary_id, "items", items);
    rc = ck_db_query(db, &st, err,
                     "SELECT order_item_id, quantity_ordered, quantity_fulfilled, quantity_cancelled,"
                     " quantity_returned FROM order_item_summaries WHERE summary_id = ?"
                     " ORDER BY order_item_id, id",
                     "t", summary_id);
    return rc < 0 ? rc : append_rows(st, items, item_summary_json, err);
}

/* The order's authorizations: those recorded against the order and those of
 * its checkout session (an authorization is granted before the order exists). */
static int order_authorizations_json(ck_db *db, const char *order_id, const char *session_id, json_t **out,
                                     ck_error *err)
{
    ck_stmt *st = NULL;
    *out = json_array();
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, status, amount, captured_amount, gateway_auth_id FROM payment_authorizations"
                         " WHERE order_id = ? OR session_id = ? ORDER BY id",
                         "tt", order_id, session_id);
    return rc < 0 ? rc : append_rows(st, *out, authorization_json, err);
}

static int order_payments_json(ck_db *db, const char *order_id, json_t **out, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = json_array();
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, authorization_id, amount, created_at FROM payments WHERE order_id = ?"
                         " ORDER BY id",
                         "t", order_id);
    return rc < 0 ? rc : append_rows(st, *out, payment_json, err);
}

/* The order's webhook deliveries ({"subscriberId","event","status","attempts"}).
 * Placeholder: webhook delivery is built by a later issue, which fills this
 * from its deliveries table; until then every order has none. */
static json_t *delivery_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", ck_col_text(st, 0), "subscriberId", ck_col_text(st, 1),
                     "event", ck_col_text(st, 2), "status", ck_col_text(st, 3), "attempts",
                     (json_int_t)ck_col_int(st, 4));
}

/* Each subscriber's delivery of each of the order's events: the ERP, email
 * or fulfilment system's view of the order, visible to the buyer. */
static int order_deliveries_json(ck_db *db, const char *order_id, json_t **out, ck_error *err)
{
    ck_stmt *st = NULL;
    *out = json_array();
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, subscriber_id, event_type, status, attempts FROM deliveries WHERE order_id = ?"
                         " ORDER BY id",
                         "t", order_id);
    return rc < 0 ? rc : append_rows(st, *out, delivery_json, err);
}

int ck_order_json(ck_db *db, const char *order_id, json_t **out, ck_error *err)
{
    *out = NULL;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT " ORDER_COLS " FROM orders WHERE id = ?", "t", order_id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "order", order_id);
    char session_id[CK_ID_MAX];
    snprintf(session_id, sizeof(session_id), "%s", ck_col_text(st, 3));
    int64_t created_at = ck_col_int(st, 17), updated_at = ck_col_int(st, 18);
    json_t *o = order_head_json(st);
    ck_db_done(st);

    /* Each part function leaves its (possibly partial) value in part, or NULL. */
    json_t *part = NULL;
    rc = order_items_json(db, order_id, &part, err);
    json_object_set_new(o, "items", part ? part : json_array());
    if (rc == 0) {
        part = NULL;
        rc = order_summary_json(db, order_id, &part, err);
        json_object_set_new(o, "summary", part ? part : json_null());
    }
    if (rc == 0) {
        part = NULL;
        rc = order_authorizations_json(db, order_id, session_id, &part, err);
        json_object_set_new(o, "authorizations", part ? part : json_array());
    }
    if (rc == 0) {
        part = NULL;
        rc = order_payments_json(db, order_id, &part, err);
        json_object_set_new(o, "payments", part ? part : json_array());
    }
    if (rc == 0) {
        part = NULL;
        rc = order_deliveries_json(db, order_id, &part, err);
        json_object_set_new(o, "deliveries", part ? part : json_array());
    }
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    json_object_set_new(o, "createdAt", ck_json_time(created_at));
    json_object_set_new(o, "updatedAt", ck_json_time(updated_at));
    *out = o;
    return 0;
}

int ck_order_account_visible(ck_db *db, const ck_user *user, const char *account_id, ck_error *err)
{
    if (user->perms & (CK_PERM_ADMIN | CK_PERM_INTEGRATOR | CK_PERM_FULFILLMENT))
        return 1;
    if (!(user->perms & (CK_PERM_BUYER | CK_PERM_APPROVER)))
        return 0;
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM user_accounts WHERE user_id = ? AND account_id = ?", "tt",
                       user->id, account_id);
    ck_db_done(st);
    return rc;
}

int ck_order_visible(ck_db *db, const ck_user *user, const char *order_id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT account_id FROM orders WHERE id = ?", "t", order_id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "order", order_id);
    char account_id[CK_ID_MAX];
    snprintf(account_id, sizeof(account_id), "%s", ck_col_text(st, 0));
    ck_db_done(st);
    if ((rc = ck_order_account_visible(db, user, account_id, err)) < 0)
        return rc;
    return rc == 1 ? 0 : ck_not_found(err, "order", order_id);
}
