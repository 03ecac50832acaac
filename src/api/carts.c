/* carts.c: carts, cart items and cart validation outputs (API.md "Carts"),
 * and a store's carts (GET /v1/stores/{id}/carts?accountId=). */
#include <string.h>

#include "api/common.h"
#include "api/routes.h"
#include "carts/cart.h"
#include "store/accounts.h"
#include "store/carts.h"
#include "store/catalog.h"
#include "store/stores.h"

#define CART_PERMS (CK_PERM_BUYER | CK_PERM_INTEGRATOR | CK_PERM_ADMIN)

/* Loads a cart the caller may see; another account's cart is 404 to a buyer. */
static int visible_cart(ck_req *req, const char *id, ck_cart *out, ck_error *err)
{
    int rc = ck_cart_load(req->db, id, out, err);
    if (rc < 0)
        return rc;
    if (rc == 1 && (rc = ck_can_buy_for(req, out->account_id, err)) < 0)
        return rc;
    return rc == 1 ? 0 : ck_not_found(err, "cart", id);
}

/* A cart the caller may see, held for this write transaction while it is
 * Active: the status is checked by the hold itself, not by a read that a
 * concurrent session action could overtake before the item is written. */
static int editable_cart(ck_req *req, const char *id, ck_cart *out, ck_error *err)
{
    int rc = visible_cart(req, id, out, err);
    if (rc < 0)
        return rc;
    if ((rc = ck_cart_hold_editable(req->db, id, err)) < 0)
        return rc;
    if (rc == 1) {
        out->status = CK_CART_ACTIVE;
        return 0;
    }
    if ((rc = ck_cart_load(req->db, id, out, err)) < 0) /* what it is now, for the message */
        return rc;
    return ck_fail(err, CK_ECONFLICT, "CART_NOT_EDITABLE", NULL, "the cart is %s; only an Active cart's items can change",
                   ck_cart_status_name(out->status));
}

typedef int (*view_fn)(ck_db *db, const char *id, json_t **out, ck_error *err);

/* Replies with the view of id (view gives CK_ENOTFOUND when there is none). */
static int reply_view(ck_req *req, int status, view_fn view, const char *id, ck_error *err)
{
    json_t *j = NULL;
    int rc = view(req->db, id, &j, err);
    return rc < 0 ? rc : ck_reply(req, status, j);
}

static int create_cart(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"accountId", NULL};
    const char *store_id = req->params[0], *account_id = NULL;
    char currency[8], id[CK_ID_MAX];
    int rc;
    if ((rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_id(req->json, "accountId", CK_REQUIRED, "acct", &account_id, err)) < 0 ||
        (rc = ck_stores_currency(req->db, store_id, currency, err)) < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "store", store_id);
    if ((rc = ck_can_buy_for(req, account_id, err)) < 0)
        return rc;
    if (rc == 0)
        return ck_fail(err, CK_EFORBIDDEN, "FORBIDDEN", "accountId", "the caller may not buy for account %s",
                       account_id);
    if ((rc = ck_accounts_exists(req->db, account_id, err)) < 0)
        return rc;
    if (rc == 0)
        return ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", "accountId", "account %s not found", account_id);
    if ((rc = ck_carts_insert(req->db, store_id, account_id, req->user.id, currency, id, err)) < 0)
        return rc;
    return reply_view(req, 201, ck_carts_json, id, err);
}

static int get_cart(ck_req *req, ck_error *err)
{
    ck_cart c;
    int rc = visible_cart(req, req->params[0], &c, err);
    return rc < 0 ? rc : reply_view(req, 200, ck_carts_json, c.id, err);
}

/* GET /v1/stores/{id}/carts[?accountId=]: the store's carts, oldest first,
 * as GET /v1/carts/{id} shows them. Admins and integrators see every cart;
 * a buyer only those of the accounts it was given. */
static int list_carts(ck_req *req, ck_error *err)
{
    const char *store_id = req->params[0], *account_id = NULL, *after = NULL;
    const char *buyer = (req->user.perms & (CK_PERM_ADMIN | CK_PERM_INTEGRATOR)) ? NULL : req->user.id;
    int64_t limit = 0;
    json_t *items = NULL;
    char last[CK_ID_MAX];
    int rc;
    if ((rc = ck_page_params(req, "cart", &limit, &after, err)) < 0 ||
        (rc = ck_stores_exists(req->db, store_id, err)) < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "store", store_id);
    if ((rc = ck_query_buyer_account(req, "accountId", &account_id, err)) < 0 ||
        (rc = ck_carts_list(req->db, store_id, account_id, buyer, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}

/* After an item write: the cart's totals again, then the item. */
static int reply_item_written(ck_req *req, int status, const ck_cart *c, const char *item_id, ck_error *err)
{
    int rc = ck_cart_recompute(req->db, c->id, err);
    return rc < 0 ? rc : reply_view(req, status, ck_carts_item_json, item_id, err);
}

static int add_item(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"productId", "sku", "quantity", NULL};
    const char *product_id = NULL, *sku = NULL;
    int64_t qty = 0;
    char item_id[CK_ID_MAX];
    ck_cart c;
    int rc;
    if ((rc = editable_cart(req, req->params[0], &c, err)) < 0 ||
        (rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_id(req->json, "productId", CK_OPTIONAL, "prod", &product_id, err)) < 0 ||
        (rc = ck_in_str(req->json, "sku", CK_OPTIONAL, CK_SKU_MAX, &sku, err)) < 0 ||
        (rc = ck_in_int(req->json, "quantity", CK_REQUIRED, 1, CK_QTY_MAX, &qty, err)) < 0)
        return rc;
    if (!product_id == !sku)
        return ck_fail(err, CK_EINVALID, product_id ? "INVALID_FIELD" : "MISSING_FIELD", "productId",
                       "give either 'productId' or 'sku'");
    if ((rc = ck_carts_add_item(req->db, c.id, c.store_id, product_id, sku, qty, item_id, err)) < 0)
        return rc;
    return reply_item_written(req, 201, &c, item_id, err);
}

static int patch_item(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"quantity", NULL};
    const char *item_id = req->params[1];
    int64_t qty = 0;
    ck_cart c;
    int rc;
    if ((rc = editable_cart(req, req->params[0], &c, err)) < 0 || (rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_int(req->json, "quantity", CK_REQUIRED, 1, CK_QTY_MAX, &qty, err)) < 0 ||
        (rc = ck_carts_set_item_quantity(req->db, c.id, item_id, qty, err)) < 0)
        return rc;
    return rc == 0 ? ck_not_found(err, "item", item_id) : reply_item_written(req, 200, &c, item_id, err);
}

static int delete_item(ck_req *req, ck_error *err)
{
    const char *item_id = req->params[1];
    ck_cart c;
    int rc;
    if ((rc = editable_cart(req, req->params[0], &c, err)) < 0 ||
        (rc = ck_carts_delete_item(req->db, c.id, item_id, err)) < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "item", item_id);
    if ((rc = ck_cart_recompute(req->db, c.id, err)) < 0)
        return rc;
    return ck_reply(req, 204, NULL);
}

static int list_cvos(ck_req *req, ck_error *err)
{
    ck_cart c;
    int64_t limit;
    const char *after;
    json_t *items = NULL;
    char last[CK_ID_MAX];
    int rc;
    if ((rc = visible_cart(req, req->params[0], &c, err)) < 0 ||
        (rc = ck_page_params(req, "cvo", &limit, &after, err)) < 0 ||
        (rc = ck_carts_list_validation_outputs(req->db, c.id, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}

static const char *const cvo_types[] = {"Inventory", "Pricing",     "Promotions", "Shipping",
                                        "Taxes",     "Entitlement", "SystemError", "Other", NULL};
static const char *const cvo_levels[] = {"Error", "Warning", "Info", NULL};

static int create_cvo(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"relatedEntityId", "type", "level", "message", NULL};
    const char *related = NULL, *type = "Other", *level = "Error", *message = NULL;
    char id[CK_ID_MAX];
    ck_cart c;
    int rc;
    if ((rc = visible_cart(req, req->params[0], &c, err)) < 0 || (rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_str(req->json, "relatedEntityId", CK_REQUIRED, 64, &related, err)) < 0 ||
        (rc = ck_in_enum(req->json, "type", CK_OPTIONAL, cvo_types, &type, err)) < 0 ||
        (rc = ck_in_enum(req->json, "level", CK_OPTIONAL, cvo_levels, &level, err)) < 0 ||
        (rc = ck_in_str(req->json, "message", CK_REQUIRED, CK_TEXT_MAX, &message, err)) < 0 ||
        (rc = ck_carts_insert_validation_output(req->db, c.id, related, type, level, message, ck_now_ms(), id, err)) < 0)
        return rc;
    return reply_view(req, 201, ck_carts_validation_output_json, id, err);
}

const ck_route ck_routes_carts[] = {
    {"POST", "/v1/stores/{id}/carts", create_cart, CK_ROUTE_BODY | CK_ROUTE_TX, CART_PERMS},
    {"GET", "/v1/stores/{id}/carts", list_carts, 0, CART_PERMS},
    {"GET", "/v1/carts/{id}", get_cart, 0, CART_PERMS},
    {"POST", "/v1/carts/{id}/items", add_item, CK_ROUTE_BODY | CK_ROUTE_TX, CART_PERMS},
    {"PATCH", "/v1/carts/{id}/items/{itemId}", patch_item, CK_ROUTE_BODY | CK_ROUTE_TX, CART_PERMS},
    {"DELETE", "/v1/carts/{id}/items/{itemId}", delete_item, CK_ROUTE_TX, CART_PERMS},
    {"GET", "/v1/carts/{id}/validation-outputs", list_cvos, 0, CART_PERMS},
    {"POST", "/v1/carts/{id}/validation-outputs", create_cvo, CK_ROUTE_BODY | CK_ROUTE_TX,
     CK_PERM_INTEGRATOR | CK_PERM_ADMIN},
    {0},
};
