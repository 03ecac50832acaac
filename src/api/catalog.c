/* catalog.c: what a store sells and how it prices it: products
 * (POST and GET /v1/stores/{id}/products, GET/PATCH /v1/products/{id}), shipping
 * methods (POST and GET /v1/stores/{id}/shipping-methods), tax rates and
 * promotions (POST /v1/stores/{id}/tax-rates, /promotions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/routes.h"

#define STOCK_MAX 1000000000000LL /* 10^12 units */
#define WEIGHT_MAX 1000000000LL   /* 10^9 grams */
#define TIERS_MAX 50
#define SKU_MAX 64

typedef json_t *(*row_json_fn)(ck_stmt *st);

/* Replies with the row `sql` finds for id (one '?'), turned into JSON by fn; 404 if none. */
static int reply_row(ck_req *req, int status, const char *sql, row_json_fn fn, const char *kind,
                     const char *id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(req->db, &st, err, sql, "t", id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, kind, id);
    json_t *j = fn(st);
    ck_db_done(st);
    return ck_reply(req, status, j);
}

/* 0 when the store exists, else 404 (or a storage error). */
static int need_store(ck_req *req, const char *id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(req->db, &st, err, "SELECT 1 FROM stores WHERE id = ?", "t", id);
    ck_db_done(st);
    if (rc < 0)
        return rc;
    return rc == 0 ? ck_not_found(err, "store", id) : 0;
}

/* ---- products ---- */

#define PRODUCT_COLS "id, store_id, sku, name, unit_price, stock, min_quantity, price_tiers," \
                     " hazmat, export_controlled, weight_grams, active, created_at, updated_at"
#define PRODUCT_BY_ID "SELECT " PRODUCT_COLS " FROM products WHERE id = ?"

static json_t *product_json(ck_stmt *st)
{
    json_t *tiers = json_loads(ck_col_text(st, 7), 0, NULL);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:b, s:b, s:I, s:b, s:o, s:o}",
                     "id", ck_col_text(st, 0), "storeId", ck_col_text(st, 1), "sku",
                     ck_col_text(st, 2), "name", ck_col_text(st, 3), "unitPrice",
                     (json_int_t)ck_col_int(st, 4), "stock", (json_int_t)ck_col_int(st, 5),
                     "minQuantity", (json_int_t)ck_col_int(st, 6), "priceTiers",
                     tiers ? tiers : json_array(), "hazmat", (int)ck_col_int(st, 8),
                     "exportControlled", (int)ck_col_int(st, 9), "weightGrams",
                     (json_int_t)ck_col_int(st, 10), "active", (int)ck_col_int(st, 11),
                     "createdAt", ck_json_time(ck_col_int(st, 12)), "updatedAt",
                     ck_json_time(ck_col_int(st, 13)));
}

/* A product's writable fields. Strings point into the request body or into
 * the buffers; tiers is owned JSON text (free it). */
typedef struct product {
    const char *sku, *name;
    int64_t unit_price, stock, min_qty, weight;
    int hazmat, export_controlled, active;
    char *tiers;
    char sku_buf[SKU_MAX + 1], name_buf[CK_NAME_MAX + 1];
} product;

typedef struct tier {
    int64_t min_qty, price;
} tier;

static int tier_cmp(const void *a, const void *b)
{
    const tier *x = a, *y = b;
    return (x->min_qty > y->min_qty) - (x->min_qty < y->min_qty);
}

/* priceTiers, when present, as canonical JSON text sorted by minQuantity in *out
 * (caller frees). Every tier problem is 400 INVALID_FIELD with field priceTiers. */
static int read_tiers(json_t *b, char **out, ck_error *err)
{
    json_t *arr = NULL, *v;
    int rc = ck_in_array(b, "priceTiers", CK_OPTIONAL, TIERS_MAX, &arr, err);
    if (rc <= 0)
        return rc;
    tier t[TIERS_MAX];
    size_t i, n = json_array_size(arr);
    json_array_foreach(arr, i, v) {
        json_t *q = json_object_get(v, "minQuantity"), *p = json_object_get(v, "unitPrice");
        if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_integer(q) ||
            !json_is_integer(p) || json_integer_value(q) < 1 || json_integer_value(q) > CK_QTY_MAX ||
            json_integer_value(p) < 0 || json_integer_value(p) > CK_MONEY_MAX)
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "priceTiers",
                           "priceTiers[%zu] must be {\"minQuantity\": 1..%d, \"unitPrice\": 0..%lld}",
                           i, CK_QTY_MAX, (long long)CK_MONEY_MAX);
        t[i].min_qty = json_integer_value(q);
        t[i].price = json_integer_value(p);
    }
    qsort(t, n, sizeof(t[0]), tier_cmp);
    json_t *sorted = json_array();
    for (i = 0; i < n; i++) {
        if (i > 0 && t[i].min_qty == t[i - 1].min_qty) {
            json_decref(sorted);
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "priceTiers",
                           "priceTiers has two tiers with minQuantity %lld", (long long)t[i].min_qty);
        }
        json_array_append_new(sorted, json_pack("{s:I, s:I}", "minQuantity", (json_int_t)t[i].min_qty,
                                                "unitPrice", (json_int_t)t[i].price));
    }
    char *text = ck_json_text(sorted);
    json_decref(sorted);
    if (!text)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    free(*out);
    *out = text;
    return 1;
}

static const char *const product_fields[] = {
    "sku", "name", "unitPrice", "stock", "minQuantity", "priceTiers", "hazmat",
    "exportControlled", "weightGrams", "active", NULL};

/* Applies the body's fields to p; create makes sku, name and unitPrice required. */
static int read_product(json_t *b, int create, product *p, ck_error *err)
{
    int rc;
    if ((rc = ck_in_only(b, product_fields, err)) < 0 ||
        (rc = ck_in_str(b, "sku", create, SKU_MAX, &p->sku, err)) < 0 ||
        (rc = ck_in_str(b, "name", create, CK_NAME_MAX, &p->name, err)) < 0 ||
        (rc = ck_in_int(b, "unitPrice", create, 0, CK_MONEY_MAX, &p->unit_price, err)) < 0 ||
        (rc = ck_in_int(b, "stock", CK_OPTIONAL, 0, STOCK_MAX, &p->stock, err)) < 0 ||
        (rc = ck_in_int(b, "minQuantity", CK_OPTIONAL, 1, CK_QTY_MAX, &p->min_qty, err)) < 0 ||
        (rc = read_tiers(b, &p->tiers, err)) < 0 ||
        (rc = ck_in_bool(b, "hazmat", CK_OPTIONAL, &p->hazmat, err)) < 0 ||
        (rc = ck_in_bool(b, "exportControlled", CK_OPTIONAL, &p->export_controlled, err)) < 0 ||
        (rc = ck_in_int(b, "weightGrams", CK_OPTIONAL, 0, WEIGHT_MAX, &p->weight, err)) < 0 ||
        (rc = ck_in_bool(b, "active", CK_OPTIONAL, &p->active, err)) < 0)
        return rc;
    return 0;
}

static int sku_taken(int rc, const product *p, ck_error *err)
{
    if (rc != CK_EDUP)
        return rc;
    return ck_fail(err, CK_ECONFLICT, "SKU_ALREADY_EXISTS", "sku",
                   "this store already has a product with sku '%s'", p->sku);
}

static int create_product(ck_req *req, ck_error *err)
{
    const char *store_id = req->params[0];
    product p = {.min_qty = 1, .active = 1};
    char id[CK_ID_MAX];
    int rc;
    if ((rc = need_store(req, store_id, err)) < 0 || (rc = read_product(req->json, 1, &p, err)) < 0)
        goto done;
    ck_id_new(id, "prod");
    int64_t now = ck_now_ms();
    rc = ck_db_exec(req->db, NULL, err,
                    "INSERT INTO products (" PRODUCT_COLS ")"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    "ttttiiitbbibii", id, store_id, p.sku, p.name, p.unit_price, p.stock, p.min_qty,
                    p.tiers ? p.tiers : "[]", p.hazmat, p.export_controlled, p.weight, p.active, now,
                    now);
    rc = rc < 0 ? sku_taken(rc, &p, err) : reply_row(req, 201, PRODUCT_BY_ID, product_json, "product", id, err);
done:
    free(p.tiers);
    return rc;
}

static int get_product(ck_req *req, ck_error *err)
{
    return reply_row(req, 200, PRODUCT_BY_ID, product_json, "product", req->params[0], err);
}

/* GET /v1/stores/{id}/products: the store's products, oldest first. */
static int list_products(ck_req *req, ck_error *err)
{
    const char *store_id = req->params[0], *after = NULL;
    int64_t limit = 0;
    ck_stmt *st = NULL;
    int rc;
    if ((rc = ck_page_params(req, "prod", &limit, &after, err)) < 0 || (rc = need_store(req, store_id, err)) < 0 ||
        (rc = ck_db_query(req->db, &st, err,
                          "SELECT " PRODUCT_COLS " FROM products WHERE store_id = ? AND id > ? ORDER BY id LIMIT ?",
                          "tti", store_id, after, limit)) < 0)
        return rc;
    return ck_reply_page(req, st, product_json, limit, err);
}

/* Loads the stored product into p (strings copied into its buffers). 0, 404 or <0. */
static int load_product(ck_req *req, const char *id, product *p, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(req->db, &st, err, PRODUCT_BY_ID, "t", id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "product", id);
    snprintf(p->sku_buf, sizeof(p->sku_buf), "%s", ck_col_text(st, 2));
    snprintf(p->name_buf, sizeof(p->name_buf), "%s", ck_col_text(st, 3));
    p->sku = p->sku_buf;
    p->name = p->name_buf;
    p->unit_price = ck_col_int(st, 4);
    p->stock = ck_col_int(st, 5);
    p->min_qty = ck_col_int(st, 6);
    p->tiers = strdup(ck_col_text(st, 7));
    p->hazmat = (int)ck_col_int(st, 8);
    p->export_controlled = (int)ck_col_int(st, 9);
    p->weight = ck_col_int(st, 10);
    p->active = (int)ck_col_int(st, 11);
    ck_db_done(st);
    return p->tiers ? 0 : ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
}

/* PATCH: read, apply the body, write back; the route's transaction makes it atomic. */
static int patch_product(ck_req *req, ck_error *err)
{
    const char *id = req->params[0];
    product p;
    memset(&p, 0, sizeof(p));
    int rc;
    if ((rc = load_product(req, id, &p, err)) < 0 || (rc = read_product(req->json, 0, &p, err)) < 0)
        goto done;
    rc = ck_db_exec(req->db, NULL, err,
                    "UPDATE products SET sku = ?, name = ?, unit_price = ?, stock = ?, min_quantity = ?,"
                    " price_tiers = ?, hazmat = ?, export_controlled = ?, weight_grams = ?, active = ?,"
                    " updated_at = ? WHERE id = ?",
                    "ttiiitbbibit", p.sku, p.name, p.unit_price, p.stock, p.min_qty, p.tiers, p.hazmat,
                    p.export_controlled, p.weight, p.active, ck_now_ms(), id);
    rc = rc < 0 ? sku_taken(rc, &p, err) : reply_row(req, 200, PRODUCT_BY_ID, product_json, "product", id, err);
done:
    free(p.tiers);
    return rc;
}

/* ---- shipping methods ---- */

#define SHM_COLS "id, store_id, name, flat_fee, per_kg_fee, created_at"

static json_t *shm_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "id", ck_col_text(st, 0), "storeId",
                     ck_col_text(st, 1), "name", ck_col_text(st, 2), "flatFee",
                     (json_int_t)ck_col_int(st, 3), "perKgFee", (json_int_t)ck_col_int(st, 4),
                     "createdAt", ck_json_time(ck_col_int(st, 5)));
}

static int create_shipping_method(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"name", "flatFee", "perKgFee", NULL};
    json_t *b = req->json;
    const char *store_id = req->params[0], *name = NULL;
    int64_t flat = 0, per_kg = 0;
    char id[CK_ID_MAX];
    int rc;
    if ((rc = need_store(req, store_id, err)) < 0 || (rc = ck_in_only(b, fields, err)) < 0 ||
        (rc = ck_in_str(b, "name", CK_REQUIRED, CK_NAME_MAX, &name, err)) < 0 ||
        (rc = ck_in_int(b, "flatFee", CK_REQUIRED, 0, CK_MONEY_MAX, &flat, err)) < 0 ||
        (rc = ck_in_int(b, "perKgFee", CK_OPTIONAL, 0, CK_MONEY_MAX, &per_kg, err)) < 0)
        return rc;
    ck_id_new(id, "shm");
    rc = ck_db_exec(req->db, NULL, err,
                    "INSERT INTO shipping_methods (" SHM_COLS ") VALUES (?, ?, ?, ?, ?, ?)", "tttiii",
                    id, store_id, name, flat, per_kg, ck_now_ms());
    return rc < 0 ? rc
                  : reply_row(req, 201, "SELECT " SHM_COLS " FROM shipping_methods WHERE id = ?",
                              shm_json, "shipping method", id, err);
}

/* Any authenticated caller: buyers choose a method from this list. */
static int list_shipping_methods(ck_req *req, ck_error *err)
{
    const char *store_id = req->params[0], *after = NULL;
    int64_t limit = 0;
    ck_stmt *st = NULL;
    int rc;
    if ((rc = ck_page_params(req, "shm", &limit, &after, err)) < 0 || (rc = need_store(req, store_id, err)) < 0 ||
        (rc = ck_db_query(req->db, &st, err,
                          "SELECT " SHM_COLS " FROM shipping_methods WHERE store_id = ? AND id > ?"
                          " ORDER BY id LIMIT ?",
                          "tti", store_id, after, limit)) < 0)
        return rc;
    return ck_reply_page(req, st, shm_json, limit, err);
}

/* ---- tax rates ---- */

#define TAX_COLS "id, store_id, country, rate_bp, created_at"

static json_t *tax_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:o}", "id", ck_col_text(st, 0), "storeId",
                     ck_col_text(st, 1), "country", ck_col_text(st, 2), "rateBasisPoints",
                     (json_int_t)ck_col_int(st, 3), "createdAt", ck_json_time(ck_col_int(st, 4)));
}

static int create_tax_rate(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"country", "rateBasisPoints", NULL};
    json_t *b = req->json;
    const char *store_id = req->params[0], *country = NULL;
    int64_t rate = 0;
    char id[CK_ID_MAX];
    int rc;
    if ((rc = need_store(req, store_id, err)) < 0 || (rc = ck_in_only(b, fields, err)) < 0 ||
        (rc = ck_in_country(b, "country", CK_REQUIRED, &country, err)) < 0 ||
        (rc = ck_in_int(b, "rateBasisPoints", CK_REQUIRED, 0, 10000, &rate, err)) < 0)
        return rc;
    ck_id_new(id, "tax");
    rc = ck_db_exec(req->db, NULL, err, "INSERT INTO tax_rates (" TAX_COLS ") VALUES (?, ?, ?, ?, ?)",
                    "tttii", id, store_id, country, rate, ck_now_ms());
    if (rc == CK_EDUP)
        return ck_fail(err, CK_ECONFLICT, "TAX_RATE_EXISTS", "country",
                       "this store already has a tax rate for %s", country);
    return rc < 0 ? rc
                  : reply_row(req, 201, "SELECT " TAX_COLS " FROM tax_rates WHERE id = ?", tax_json,
                              "tax rate", id, err);
}

/* ---- promotions ---- */

#define PROMO_COLS "id, store_id, name, min_subtotal, percent_off_bp, created_at"

static json_t *promo_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "id", ck_col_text(st, 0), "storeId",
                     ck_col_text(st, 1), "name", ck_col_text(st, 2), "minSubtotal",
                     (json_int_t)ck_col_int(st, 3), "percentOffBasisPoints",
                     (json_int_t)ck_col_int(st, 4), "createdAt", ck_json_time(ck_col_int(st, 5)));
}

static int create_promotion(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"name", "minSubtotal", "percentOffBasisPoints", NULL};
    json_t *b = req->json;
    const char *store_id = req->params[0], *name = NULL;
    int64_t min_subtotal = 0, bp = 0;
    char id[CK_ID_MAX];
    int rc;
    if ((rc = need_store(req, store_id, err)) < 0 || (rc = ck_in_only(b, fields, err)) < 0 ||
        (rc = ck_in_str(b, "name", CK_REQUIRED, CK_NAME_MAX, &name, err)) < 0 ||
        (rc = ck_in_int(b, "minSubtotal", CK_OPTIONAL, 0, CK_MONEY_MAX, &min_subtotal, err)) < 0 ||
        (rc = ck_in_int(b, "percentOffBasisPoints", CK_REQUIRED, 1, 10000, &bp, err)) < 0)
        return rc;
    ck_id_new(id, "promo");
    rc = ck_db_exec(req->db, NULL, err,
                    "INSERT INTO promotions (" PROMO_COLS ") VALUES (?, ?, ?, ?, ?, ?)", "tttiii", id,
                    store_id, name, min_subtotal, bp, ck_now_ms());
    return rc < 0 ? rc
                  : reply_row(req, 201, "SELECT " PROMO_COLS " FROM promotions WHERE id = ?",
                              promo_json, "promotion", id, err);
}

const ck_route ck_routes_catalog[] = {
    {"POST", "/v1/stores/{id}/products", create_product, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"GET", "/v1/stores/{id}/products", list_products, 0, CK_PERM_ADMIN},
    {"GET", "/v1/products/{id}", get_product, 0, CK_PERM_ADMIN},
    {"PATCH", "/v1/products/{id}", patch_product, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"POST", "/v1/stores/{id}/shipping-methods", create_shipping_method, CK_ROUTE_BODY | CK_ROUTE_TX,
     CK_PERM_ADMIN},
    {"GET", "/v1/stores/{id}/shipping-methods", list_shipping_methods, 0, 0},
    {"POST", "/v1/stores/{id}/tax-rates", create_tax_rate, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"POST", "/v1/stores/{id}/promotions", create_promotion, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {0},
};
