/* catalog.c: what a store sells and how it prices it: products
 * (POST and GET /v1/stores/{id}/products, GET/PATCH /v1/products/{id}), shipping
 * methods (POST and GET /v1/stores/{id}/shipping-methods), tax rates and
 * promotions (POST /v1/stores/{id}/tax-rates, /promotions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/routes.h"
#include "store/catalog.h"
#include "store/stores.h"

#define STOCK_MAX 1000000000000LL /* 10^12 units */
#define WEIGHT_MAX 1000000000LL   /* 10^9 grams */
#define TIERS_MAX 50

typedef int (*view_fn)(ck_db *db, const char *id, json_t **out, ck_error *err);

/* Replies with the view of id (view gives CK_ENOTFOUND when there is none). */
static int reply_view(ck_req *req, int status, view_fn view, const char *id, ck_error *err)
{
    json_t *j = NULL;
    int rc = view(req->db, id, &j, err);
    return rc < 0 ? rc : ck_reply(req, status, j);
}

/* 0 when the store exists, else 404 (or a storage error). */
static int need_store(ck_req *req, const char *id, ck_error *err)
{
    int rc = ck_stores_exists(req->db, id, err);
    return rc == 0 ? ck_not_found(err, "store", id) : rc < 0 ? rc : 0;
}

/* ---- products ---- */

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
static int read_product(json_t *b, int create, ck_product *p, ck_error *err)
{
    const char *sku = NULL, *name = NULL;
    int rc;
    if ((rc = ck_in_only(b, product_fields, err)) < 0 ||
        (rc = ck_in_str(b, "sku", create, CK_SKU_MAX, &sku, err)) < 0 ||
        (rc = ck_in_str(b, "name", create, CK_NAME_MAX, &name, err)) < 0 ||
        (rc = ck_in_int(b, "unitPrice", create, 0, CK_MONEY_MAX, &p->unit_price, err)) < 0 ||
        (rc = ck_in_int(b, "stock", CK_OPTIONAL, 0, STOCK_MAX, &p->stock, err)) < 0 ||
        (rc = ck_in_int(b, "minQuantity", CK_OPTIONAL, 1, CK_QTY_MAX, &p->min_quantity, err)) < 0 ||
        (rc = read_tiers(b, &p->price_tiers, err)) < 0 ||
        (rc = ck_in_bool(b, "hazmat", CK_OPTIONAL, &p->hazmat, err)) < 0 ||
        (rc = ck_in_bool(b, "exportControlled", CK_OPTIONAL, &p->export_controlled, err)) < 0 ||
        (rc = ck_in_int(b, "weightGrams", CK_OPTIONAL, 0, WEIGHT_MAX, &p->weight_grams, err)) < 0 ||
        (rc = ck_in_bool(b, "active", CK_OPTIONAL, &p->active, err)) < 0)
        return rc;
    if (sku)
        snprintf(p->sku, sizeof(p->sku), "%s", sku);
    if (name)
        snprintf(p->name, sizeof(p->name), "%s", name);
    return 0;
}

static int create_product(ck_req *req, ck_error *err)
{
    const char *store_id = req->params[0];
    ck_product p = {.min_quantity = 1, .active = 1};
    int rc;
    if ((rc = need_store(req, store_id, err)) == 0 && (rc = read_product(req->json, 1, &p, err)) == 0 &&
        (rc = ck_catalog_insert_product(req->db, store_id, &p, err)) == 0)
        rc = reply_view(req, 201, ck_catalog_product_json, p.id, err);
    ck_catalog_product_clear(&p);
    return rc;
}

static int get_product(ck_req *req, ck_error *err)
{
    return reply_view(req, 200, ck_catalog_product_json, req->params[0], err);
}

/* GET /v1/stores/{id}/products: the store's products, oldest first. */
static int list_products(ck_req *req, ck_error *err)
{
    const char *store_id = req->params[0], *after = NULL;
    int64_t limit = 0;
    json_t *items = NULL;
    char last[CK_ID_MAX];
    int rc;
    if ((rc = ck_page_params(req, "prod", &limit, &after, err)) < 0 || (rc = need_store(req, store_id, err)) < 0 ||
        (rc = ck_catalog_list_products(req->db, store_id, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}

/* PATCH: read, apply the body, write back; the route's transaction makes it atomic. */
static int patch_product(ck_req *req, ck_error *err)
{
    const char *id = req->params[0];
    ck_product p = {0};
    /* Read under the row's lock: the write below sets every field. */
    int rc = ck_catalog_get_product_for_update(req->db, id, &p, err);
    if (rc == 0)
        rc = ck_not_found(err, "product", id);
    if (rc == 1 && (rc = read_product(req->json, 0, &p, err)) == 0 &&
        (rc = ck_catalog_update_product(req->db, &p, err)) >= 0)
        rc = rc == 0 ? ck_not_found(err, "product", id) : reply_view(req, 200, ck_catalog_product_json, id, err);
    ck_catalog_product_clear(&p);
    return rc;
}

/* ---- shipping methods ---- */

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
        (rc = ck_in_int(b, "perKgFee", CK_OPTIONAL, 0, CK_MONEY_MAX, &per_kg, err)) < 0 ||
        (rc = ck_stores_insert_shipping_method(req->db, store_id, name, flat, per_kg, id, err)) < 0)
        return rc;
    return reply_view(req, 201, ck_stores_shipping_method_json, id, err);
}

/* Any authenticated caller: buyers choose a method from this list. */
static int list_shipping_methods(ck_req *req, ck_error *err)
{
    const char *store_id = req->params[0], *after = NULL;
    int64_t limit = 0;
    json_t *items = NULL;
    char last[CK_ID_MAX];
    int rc;
    if ((rc = ck_page_params(req, "shm", &limit, &after, err)) < 0 || (rc = need_store(req, store_id, err)) < 0 ||
        (rc = ck_stores_list_shipping_methods(req->db, store_id, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}

/* ---- tax rates ---- */

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
        (rc = ck_in_int(b, "rateBasisPoints", CK_REQUIRED, 0, 10000, &rate, err)) < 0 ||
        (rc = ck_stores_insert_tax_rate(req->db, store_id, country, rate, id, err)) < 0)
        return rc;
    return reply_view(req, 201, ck_stores_tax_rate_json, id, err);
}

/* ---- promotions ---- */

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
        (rc = ck_in_int(b, "percentOffBasisPoints", CK_REQUIRED, 1, 10000, &bp, err)) < 0 ||
        (rc = ck_stores_insert_promotion(req->db, store_id, name, min_subtotal, bp, id, err)) < 0)
        return rc;
    return reply_view(req, 201, ck_stores_promotion_json, id, err);
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
