/* carts.c: carts, cart items and cart validation outputs (API.md "Carts"),
 * and a store's carts (GET /v1/stores/{id}/carts?accountId=). */
#include <string.h>

#include "api/common.h"
#include "api/routes.h"
#include "carts/cart.h"

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

static int reply_cart(ck_req *req, int status, const char *id, ck_error *err)
{
    json_t *j = NULL;
    int rc = ck_cart_json(req->db, id, &j, err);
    return rc < 0 ? rc : ck_reply(req, status, j);
}

static int reply_item(ck_req *req, int status, const char *item_id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(req->db, &st, err, "SELECT " CK_CART_ITEM_COLS " FROM cart_items WHERE id = ?", "t",
                       item_id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "item", item_id);
    json_t *j = ck_cart_item_json(st);
    ck_db_done(st);
    return ck_reply(req, status, j);
}

static int create_cart(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"accountId", NULL};
    const char *store_id = req->params[0], *account_id = NULL;
    int rc;
    if ((rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_id(req->json, "accountId", CK_REQUIRED, "acct", &account_id, err)) < 0)
        return rc;
    ck_stmt *st = NULL;
    char currency[8];
    if ((rc = ck_db_one(req->db, &st, err, "SELECT currency FROM stores WHERE id = ?", "t", store_id)) < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "store", store_id);
    snprintf(currency, sizeof(currency), "%s", ck_col_text(st, 0));
    ck_db_done(st);
    if ((rc = ck_can_buy_for(req, account_id, err)) < 0)
        return rc;
    if (rc == 0)
        return ck_fail(err, CK_EFORBIDDEN, "FORBIDDEN", "accountId", "the caller may not buy for account %s",
                       account_id);
    if ((rc = ck_db_one(req->db, &st, err, "SELECT 1 FROM accounts WHERE id = ?", "t", account_id)) < 0)
        return rc;
    ck_db_done(st);
    if (rc == 0)
        return ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", "accountId", "account %s not found", account_id);
    char id[CK_ID_MAX];
    ck_id_new(id, "cart");
    int64_t now = ck_now_ms();
    rc = ck_db_exec(req->db, NULL, err,
                    "INSERT INTO carts (id, store_id, account_id, owner_id, status, currency, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, 'Active', ?, ?, ?)",
                    "tttttii", id, store_id, account_id, req->user.id, currency, now, now);
    return rc < 0 ? rc : reply_cart(req, 201, id, err);
}

static int get_cart(ck_req *req, ck_error *err)
{
    ck_cart c;
    int rc = visible_cart(req, req->params[0], &c, err);
    return rc < 0 ? rc : reply_cart(req, 200, c.id, err);
}

static int cart_item_json(ck_req *req, const char *id, json_t **out, ck_error *err)
{
    return ck_cart_json(req->db, id, out, err);
}

/* GET /v1/stores/{id}/carts[?accountId=]: the store's carts, oldest first,
 * as GET /v1/carts/{id} shows them. Admins and integrators see every cart;
 * a buyer only those of the accounts it was given. */
static int list_carts(ck_req *req, ck_error *err)
{
    const char *store_id = req->params[0], *account_id = NULL, *after = NULL;
    int64_t limit = 0, wide = (req->user.perms & (CK_PERM_ADMIN | CK_PERM_INTEGRATOR)) != 0;
    ck_stmt *st = NULL;
    int rc;
    if ((rc = ck_page_params(req, "cart", &limit, &after, err)) < 0 || (rc = ck_db_begin(req->db, 0, err)) < 0)
        return rc;
    if ((rc = ck_must_exist(req->db, "SELECT 1 FROM stores WHERE id = ?", "store", store_id, err)) >= 0 &&
        (rc = ck_query_buyer_account(req, "accountId", &account_id, err)) >= 0 &&
        (rc = ck_db_query(req->db, &st, err,
                          "SELECT id FROM carts WHERE store_id = ? AND (? = '' OR account_id = ?)"
                          " AND (? = 1 OR account_id IN (SELECT account_id FROM user_accounts WHERE user_id = ?))"
                          " AND id > ? ORDER BY id LIMIT ?",
                          "tttitti", store_id, account_id ? account_id : "", account_id ? account_id : "", wide,
                          req->user.id, after, limit)) >= 0)
        rc = ck_reply_page_ids(req, st, cart_item_json, limit, err);
    ck_db_rollback(req->db);
    return rc;
}

static int add_item(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"productId", "sku", "quantity", NULL};
    const char *product_id = NULL, *sku = NULL;
    int64_t qty = 0;
    ck_cart c;
    int rc;
    if ((rc = editable_cart(req, req->params[0], &c, err)) < 0 ||
        (rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_id(req->json, "productId", CK_OPTIONAL, "prod", &product_id, err)) < 0 ||
        (rc = ck_in_str(req->json, "sku", CK_OPTIONAL, 64, &sku, err)) < 0 ||
        (rc = ck_in_int(req->json, "quantity", CK_REQUIRED, 1, CK_QTY_MAX, &qty, err)) < 0)
        return rc;
    if (!product_id == !sku)
        return ck_fail(err, CK_EINVALID, product_id ? "INVALID_FIELD" : "MISSING_FIELD", "productId",
                       "give either 'productId' or 'sku'");
    ck_stmt *st = NULL;
    rc = product_id ? ck_db_one(req->db, &st, err,
                                "SELECT id, sku, unit_price, active FROM products WHERE id = ? AND store_id = ?",
                                "tt", product_id, c.store_id)
                    : ck_db_one(req->db, &st, err,
                                "SELECT id, sku, unit_price, active FROM products WHERE sku = ? AND store_id = ?",
                                "tt", sku, c.store_id);
    if (rc < 0)
        return rc;
    const char *field = product_id ? "productId" : "sku";
    if (rc == 0)
        return ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", field, "no product %s in the cart's store",
                       product_id ? product_id : sku);
    char pid[CK_ID_MAX], psku[72];
    snprintf(pid, sizeof(pid), "%s", ck_col_text(st, 0));
    snprintf(psku, sizeof(psku), "%s", ck_col_text(st, 1));
    int64_t price = ck_col_int(st, 2);
    int active = (int)ck_col_int(st, 3);
    ck_db_done(st);
    if (!active)
        return ck_fail(err, CK_EINVALID, "PRODUCT_INACTIVE", field, "product %s is not for sale", pid);

    /* A product already in the cart gets its quantity added to the same line. */
    char item_id[CK_ID_MAX];
    if ((rc = ck_db_one(req->db, &st, err, "SELECT id, quantity FROM cart_items WHERE cart_id = ? AND product_id = ?",
                        "tt", c.id, pid)) < 0)
        return rc;
    if (rc == 1) {
        snprintf(item_id, sizeof(item_id), "%s", ck_col_text(st, 0));
        int64_t total_qty = ck_col_int(st, 1) + qty;
        ck_db_done(st);
        if (total_qty > CK_QTY_MAX)
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "quantity",
                           "the line would hold %lld units; at most %d", (long long)total_qty, CK_QTY_MAX);
        rc = ck_db_exec(req->db, NULL, err,
                        "UPDATE cart_items SET quantity = ?, list_price = ?, sales_price = ?, adjustment = 0,"
                        " tax = 0, total = ? WHERE id = ?",
                        "iiiit", total_qty, price, price, price * total_qty, item_id);
    } else {
        ck_id_new(item_id, "item");
        rc = ck_db_exec(req->db, NULL, err,
                        "INSERT INTO cart_items (id, cart_id, product_id, sku, quantity, list_price, sales_price,"
                        " total, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        "ttttiiiii", item_id, c.id, pid, psku, qty, price, price, price * qty, ck_now_ms());
    }
    if (rc == 0)
        rc = ck_cart_recompute(req->db, c.id, err);
    return rc < 0 ? rc : reply_item(req, 201, item_id, err);
}

static int patch_item(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"quantity", NULL};
    int64_t qty = 0, changed = 0;
    ck_cart c;
    int rc;
    if ((rc = editable_cart(req, req->params[0], &c, err)) < 0 || (rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_int(req->json, "quantity", CK_REQUIRED, 1, CK_QTY_MAX, &qty, err)) < 0)
        return rc;
    rc = ck_db_exec(req->db, &changed, err,
                    "UPDATE cart_items SET quantity = ?, sales_price = list_price, adjustment = 0, tax = 0,"
                    " total = list_price * ? WHERE id = ? AND cart_id = ?",
                    "iitt", qty, qty, req->params[1], c.id);
    if (rc < 0)
        return rc;
    if (changed == 0)
        return ck_not_found(err, "item", req->params[1]);
    if ((rc = ck_cart_recompute(req->db, c.id, err)) < 0)
        return rc;
    return reply_item(req, 200, req->params[1], err);
}

static int delete_item(ck_req *req, ck_error *err)
{
    int64_t changed = 0;
    ck_cart c;
    int rc;
    if ((rc = editable_cart(req, req->params[0], &c, err)) < 0)
        return rc;
    rc = ck_db_exec(req->db, &changed, err, "DELETE FROM cart_items WHERE id = ? AND cart_id = ?", "tt",
                    req->params[1], c.id);
    if (rc < 0)
        return rc;
    if (changed == 0)
        return ck_not_found(err, "item", req->params[1]);
    if ((rc = ck_cart_recompute(req->db, c.id, err)) < 0)
        return rc;
    return ck_reply(req, 204, NULL);
}

static json_t *cvo_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", ck_col_text(st, 0), "relatedEntityId",
                     ck_col_text(st, 1), "type", ck_col_text(st, 2), "level", ck_col_text(st, 3), "message",
                     ck_col_text(st, 4), "createdAt", ck_json_time(ck_col_int(st, 5)));
}

#define CVO_COLS "id, related_entity_id, type, level, message, created_at"

static int list_cvos(ck_req *req, ck_error *err)
{
    ck_cart c;
    int64_t limit;
    const char *after;
    int rc;
    if ((rc = visible_cart(req, req->params[0], &c, err)) < 0 ||
        (rc = ck_page_params(req, "cvo", &limit, &after, err)) < 0)
        return rc;
    ck_stmt *st = NULL;
    rc = ck_db_query(req->db, &st, err,
                     "SELECT " CVO_COLS " FROM cart_validation_outputs WHERE cart_id = ? AND id > ?"
                     " ORDER BY id LIMIT ?",
                     "tti", c.id, after, limit);
    if (rc < 0)
        return rc;
    return ck_reply_page(req, st, cvo_json, limit, err);
}

static const char *const cvo_types[] = {"Inventory", "Pricing",     "Promotions", "Shipping",
                                        "Taxes",     "Entitlement", "SystemError", "Other", NULL};
static const char *const cvo_levels[] = {"Error", "Warning", "Info", NULL};

static int create_cvo(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"relatedEntityId", "type", "level", "message", NULL};
    const char *related = NULL, *type = "Other", *level = "Error", *message = NULL;
    ck_cart c;
    int rc;
    if ((rc = visible_cart(req, req->params[0], &c, err)) < 0 || (rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_str(req->json, "relatedEntityId", CK_REQUIRED, 64, &related, err)) < 0 ||
        (rc = ck_in_enum(req->json, "type", CK_OPTIONAL, cvo_types, &type, err)) < 0 ||
        (rc = ck_in_enum(req->json, "level", CK_OPTIONAL, cvo_levels, &level, err)) < 0 ||
        (rc = ck_in_str(req->json, "message", CK_REQUIRED, CK_TEXT_MAX, &message, err)) < 0)
        return rc;
    char id[CK_ID_MAX];
    ck_id_new(id, "cvo");
    rc = ck_db_exec(req->db, NULL, err,
                    "INSERT INTO cart_validation_outputs (id, cart_id, related_entity_id, type, level, message,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    "tttttti", id, c.id, related, type, level, message, ck_now_ms());
    if (rc < 0)
        return rc;
    ck_stmt *st = NULL;
    if ((rc = ck_db_one(req->db, &st, err, "SELECT " CVO_COLS " FROM cart_validation_outputs WHERE id = ?", "t",
                        id)) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "validation output", id);
    json_t *j = cvo_json(st);
    ck_db_done(st);
    return ck_reply(req, 201, j);
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
