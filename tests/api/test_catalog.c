/* test_catalog.c: products (POST /v1/stores/{id}/products, GET/PATCH
 * /v1/products/{id}), shipping methods, tax rates and promotions. */
#include "api/fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_STORE "store_01M80V5EQG4YHAXXJRNX68ZH9P"
#define NO_PRODUCT "prod_01M80V5EQG4YHAXXJRNX68ZH9P"

typedef struct bad_case {
    const char *body;
    long status;
    const char *error_code, *reason, *field;
} bad_case;

/* Sends each body to method path and expects its error; names the case that fails. */
static void expect_errors(ckt_daemon *d, const char *method, const char *path, const bad_case *c)
{
    for (; c->body; c++) {
        ckt_resp r = ckt_http(d, method, path, CKT_ADMIN_KEY, c->body, NULL);
        json_t *e = json_array_get(r.json, 0);
        const char *reason = json_string_value(json_object_get(e, "reason"));
        const char *field = json_string_value(json_object_get(e, "field"));
        if (r.status != c->status || !reason || strcmp(reason, c->reason) ||
            (c->field && (!field || strcmp(field, c->field))))
            fprintf(stderr, "case %s %s %s -> %ld %s\n", method, path, c->body, r.status, r.body);
        ckt_expect_error(&r, c->status, c->error_code, c->reason, c->field);
        ckt_free(&r);
    }
}

static void product_lifecycle(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char store[64], path[160], id[64];
    ckt_store(&d, store);
    snprintf(path, sizeof(path), "/v1/stores/%s/products", store);
    /* Tiers out of order are stored sorted by minQuantity. */
    ckt_resp r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY,
                          "{\"sku\":\"W-1\",\"name\":\"Widget\",\"unitPrice\":1999,\"stock\":100,"
                          "\"minQuantity\":2,\"priceTiers\":[{\"minQuantity\":50,\"unitPrice\":1500},"
                          "{\"minQuantity\":10,\"unitPrice\":1799}],\"hazmat\":true,"
                          "\"exportControlled\":true,\"weightGrams\":500,\"active\":true}",
                          NULL);
    ckt_expect_status(&r, 201);
    snprintf(id, sizeof(id), "%s", ckt_str(r.json, "id"));
    assert_true(strncmp(id, "prod_", 5) == 0);
    assert_string_equal(ckt_str(r.json, "storeId"), store);
    assert_string_equal(ckt_str(r.json, "sku"), "W-1");
    assert_string_equal(ckt_str(r.json, "name"), "Widget");
    assert_int_equal(ckt_int(r.json, "unitPrice"), 1999);
    assert_int_equal(ckt_int(r.json, "stock"), 100);
    assert_int_equal(ckt_int(r.json, "minQuantity"), 2);
    assert_int_equal(json_array_size(ckt_get(r.json, "priceTiers")), 2);
    assert_int_equal(ckt_int(r.json, "priceTiers.0.minQuantity"), 10);
    assert_int_equal(ckt_int(r.json, "priceTiers.0.unitPrice"), 1799);
    assert_int_equal(ckt_int(r.json, "priceTiers.1.minQuantity"), 50);
    assert_int_equal(ckt_int(r.json, "priceTiers.1.unitPrice"), 1500);
    assert_true(json_is_true(ckt_get(r.json, "hazmat")));
    assert_true(json_is_true(ckt_get(r.json, "exportControlled")));
    assert_int_equal(ckt_int(r.json, "weightGrams"), 500);
    assert_true(json_is_true(ckt_get(r.json, "active")));
    ckt_expect_time_ms(r.json, "createdAt");
    ckt_expect_time_ms(r.json, "updatedAt");
    assert_int_equal(json_object_size(r.json), 14);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products WHERE id = '%s' AND price_tiers ="
                                    " '[{\"minQuantity\":10,\"unitPrice\":1799},{\"minQuantity\":50,\"unitPrice\":1500}]'",
                                id),
                     1);

    char ppath[160];
    snprintf(ppath, sizeof(ppath), "/v1/products/%s", id);
    r = ckt_http(&d, "GET", ppath, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), id);
    assert_string_equal(ckt_str(r.json, "sku"), "W-1");
    assert_int_equal(ckt_int(r.json, "priceTiers.1.unitPrice"), 1500);
    ckt_free(&r);

    r = ckt_http(&d, "PATCH", ppath, CKT_ADMIN_KEY,
                 "{\"unitPrice\":2099,\"active\":false,\"priceTiers\":[],\"name\":\"Widget v2\","
                 "\"stock\":7,\"hazmat\":false}",
                 NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "unitPrice"), 2099);
    assert_true(json_is_false(ckt_get(r.json, "active")));
    assert_true(json_is_false(ckt_get(r.json, "hazmat")));
    assert_true(json_is_true(ckt_get(r.json, "exportControlled"))); /* untouched */
    assert_int_equal(json_array_size(ckt_get(r.json, "priceTiers")), 0);
    assert_string_equal(ckt_str(r.json, "sku"), "W-1");
    assert_string_equal(ckt_str(r.json, "storeId"), store);
    ckt_free(&r);

    r = ckt_http(&d, "GET", ppath, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "name"), "Widget v2");
    assert_int_equal(ckt_int(r.json, "unitPrice"), 2099);
    assert_int_equal(ckt_int(r.json, "stock"), 7);
    assert_int_equal(ckt_int(r.json, "minQuantity"), 2);
    assert_int_equal(ckt_int(r.json, "weightGrams"), 500);
    assert_true(json_is_false(ckt_get(r.json, "active")));
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products WHERE price_tiers = '[]' AND"
                                    " unit_price = 2099 AND active = 0 AND stock = 7"),
                     1);

    /* Only the required fields: the defaults. */
    r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, "{\"sku\":\"MIN\",\"name\":\"Min\",\"unitPrice\":0}", NULL);
    ckt_expect_status(&r, 201);
    assert_int_equal(ckt_int(r.json, "unitPrice"), 0);
    assert_int_equal(ckt_int(r.json, "stock"), 0);
    assert_int_equal(ckt_int(r.json, "minQuantity"), 1);
    assert_true(json_is_array(ckt_get(r.json, "priceTiers")));
    assert_int_equal(json_array_size(ckt_get(r.json, "priceTiers")), 0);
    assert_true(json_is_false(ckt_get(r.json, "hazmat")));
    assert_true(json_is_false(ckt_get(r.json, "exportControlled")));
    assert_int_equal(ckt_int(r.json, "weightGrams"), 0);
    assert_true(json_is_true(ckt_get(r.json, "active")));
    ckt_free(&r);

    /* The largest values in range. */
    r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY,
                 "{\"sku\":\"MAX\",\"name\":\"Max\",\"unitPrice\":100000000000000,\"stock\":1000000000000,"
                 "\"minQuantity\":1000000,\"weightGrams\":1000000000}",
                 NULL);
    ckt_expect_status(&r, 201);
    assert_int_equal(ckt_int(r.json, "unitPrice"), 100000000000000LL);
    assert_int_equal(ckt_int(r.json, "stock"), 1000000000000LL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products"), 3);
    ckt_finish(&d);
}

static void product_sku_conflict(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char s1[64], s2[64], path[160], other[64];
    ckt_store(&d, s1);
    ckt_store(&d, s2);
    snprintf(path, sizeof(path), "/v1/stores/%s/products", s1);
    const char *body = "{\"sku\":\"DUP\",\"name\":\"A\",\"unitPrice\":100}";
    ckt_resp r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, body, NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, body, NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "SKU_ALREADY_EXISTS", NULL);
    ckt_free(&r);
    /* The same sku in another store is fine. */
    snprintf(path, sizeof(path), "/v1/stores/%s/products", s2);
    r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, body, NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    /* Renaming another product of the first store to that sku conflicts too. */
    ckt_product(&d, s1, "{\"sku\":\"OTHER\",\"name\":\"B\",\"unitPrice\":100}", other);
    snprintf(path, sizeof(path), "/v1/products/%s", other);
    r = ckt_http(&d, "PATCH", path, CKT_ADMIN_KEY, "{\"sku\":\"DUP\",\"name\":\"renamed\"}", NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "SKU_ALREADY_EXISTS", NULL);
    ckt_free(&r);
    /* ... and changes nothing. */
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products WHERE id = '%s' AND sku = 'OTHER'"
                                    " AND name = 'B'", other),
                     1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products"), 3);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products WHERE store_id = '%s'", s1), 2);
    ckt_finish(&d);
}

static void product_bad_input(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char store[64], path[160];
    ckt_store(&d, store);
    snprintf(path, sizeof(path), "/v1/stores/%s/products", store);
#define P(extra) "{\"sku\":\"S\",\"name\":\"N\",\"unitPrice\":1" extra "}"
    static const bad_case create[] = {
        {"{\"name\":\"N\",\"unitPrice\":1}", 400, "BAD_REQUEST", "MISSING_FIELD", "sku"},
        {"{\"sku\":\"S\",\"unitPrice\":1}", 400, "BAD_REQUEST", "MISSING_FIELD", "name"},
        {"{\"sku\":\"S\",\"name\":\"N\"}", 400, "BAD_REQUEST", "MISSING_FIELD", "unitPrice"},
        {"{\"sku\":\"S\",\"name\":\"N\",\"unitPrice\":null}", 400, "BAD_REQUEST", "MISSING_FIELD", "unitPrice"},
        {"{\"sku\":\"S\",\"name\":\"N\",\"unitPrice\":19.99}", 400, "BAD_REQUEST", "INVALID_FIELD", "unitPrice"},
        {"{\"sku\":\"S\",\"name\":\"N\",\"unitPrice\":\"1999\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "unitPrice"},
        {"{\"sku\":\"S\",\"name\":\"N\",\"unitPrice\":-1}", 400, "BAD_REQUEST", "INVALID_FIELD", "unitPrice"},
        {"{\"sku\":\"S\",\"name\":\"N\",\"unitPrice\":100000000000001}", 400, "BAD_REQUEST", "INVALID_FIELD", "unitPrice"},
        {"{\"sku\":\"\",\"name\":\"N\",\"unitPrice\":1}", 400, "BAD_REQUEST", "INVALID_FIELD", "sku"},
        {"{\"sku\":\"12345678901234567890123456789012345678901234567890123456789012345\",\"name\":\"N\","
         "\"unitPrice\":1}", 400, "BAD_REQUEST", "INVALID_FIELD", "sku"},
        {"{\"sku\":7,\"name\":\"N\",\"unitPrice\":1}", 400, "BAD_REQUEST", "INVALID_FIELD", "sku"},
        {P(",\"stock\":-1"), 400, "BAD_REQUEST", "INVALID_FIELD", "stock"},
        {P(",\"stock\":1000000000001"), 400, "BAD_REQUEST", "INVALID_FIELD", "stock"},
        {P(",\"minQuantity\":0"), 400, "BAD_REQUEST", "INVALID_FIELD", "minQuantity"},
        {P(",\"minQuantity\":1000001"), 400, "BAD_REQUEST", "INVALID_FIELD", "minQuantity"},
        {P(",\"weightGrams\":-5"), 400, "BAD_REQUEST", "INVALID_FIELD", "weightGrams"},
        {P(",\"weightGrams\":1000000001"), 400, "BAD_REQUEST", "INVALID_FIELD", "weightGrams"},
        {P(",\"hazmat\":\"yes\""), 400, "BAD_REQUEST", "INVALID_FIELD", "hazmat"},
        {P(",\"exportControlled\":1"), 400, "BAD_REQUEST", "INVALID_FIELD", "exportControlled"},
        {P(",\"active\":\"true\""), 400, "BAD_REQUEST", "INVALID_FIELD", "active"},
        {P(",\"priceTiers\":{}"), 400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers"},
        {P(",\"priceTiers\":[{\"minQuantity\":10,\"unitPrice\":900},{\"minQuantity\":10,\"unitPrice\":800}]"),
         400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers"},
        {P(",\"priceTiers\":[{\"minQuantity\":0,\"unitPrice\":900}]"), 400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers"},
        {P(",\"priceTiers\":[{\"minQuantity\":1000001,\"unitPrice\":900}]"), 400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers"},
        {P(",\"priceTiers\":[{\"minQuantity\":5,\"unitPrice\":-1}]"), 400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers"},
        {P(",\"priceTiers\":[{\"minQuantity\":5,\"unitPrice\":9.5}]"), 400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers"},
        {P(",\"priceTiers\":[{\"minQuantity\":5}]"), 400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers"},
        {P(",\"priceTiers\":[{\"minQuantity\":5,\"unitPrice\":1,\"x\":1}]"), 400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers"},
        {P(",\"priceTiers\":[5]"), 400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers"},
        {P(",\"storeId\":\"store_x\""), 400, "BAD_REQUEST", "UNKNOWN_FIELD", "storeId"},
        {P(",\"colour\":\"red\""), 400, "BAD_REQUEST", "UNKNOWN_FIELD", "colour"},
        {"[]", 400, "BAD_REQUEST", "INVALID_BODY", NULL},
        {"{\"sku\":", 400, "JSON_PARSER_ERROR", "JSON_PARSER_ERROR", NULL},
        {NULL, 0, NULL, NULL, NULL},
    };
    expect_errors(&d, "POST", path, create);

    /* 51 tiers is one too many; 50 is fine. */
    char body[4096];
    for (int n = 50; n <= 51; n++) {
        int len = snprintf(body, sizeof(body), "{\"sku\":\"T%d\",\"name\":\"N\",\"unitPrice\":1,\"priceTiers\":[", n);
        for (int i = 0; i < n; i++)
            len += snprintf(body + len, sizeof(body) - (size_t)len, "%s{\"minQuantity\":%d,\"unitPrice\":1}",
                            i ? "," : "", i + 2);
        snprintf(body + len, sizeof(body) - (size_t)len, "]}");
        ckt_resp r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, body, NULL);
        if (n == 50)
            ckt_expect_status(&r, 201);
        else
            ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers");
        ckt_free(&r);
    }
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products"), 1);

    /* Unknown store and product. */
    ckt_resp r = ckt_http(&d, "POST", "/v1/stores/" NO_STORE "/products", CKT_ADMIN_KEY, P(""), NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/v1/products/" NO_PRODUCT, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "PATCH", "/v1/products/" NO_PRODUCT, CKT_ADMIN_KEY, "{\"name\":\"x\"}", NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);

    /* A bad PATCH changes nothing. */
    char id[64], ppath[160];
    ckt_product(&d, store, NULL, id);
    snprintf(ppath, sizeof(ppath), "/v1/products/%s", id);
    static const bad_case patch[] = {
        {"{\"unitPrice\":-1}", 400, "BAD_REQUEST", "INVALID_FIELD", "unitPrice"},
        {"{\"name\":\"ok\",\"unitPrice\":\"5\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "unitPrice"},
        {"{\"sku\":\"\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "sku"},
        {"{\"name\":\"ok\",\"priceTiers\":[{\"minQuantity\":3,\"unitPrice\":1},{\"minQuantity\":3,\"unitPrice\":2}]}",
         400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers"},
        {"{\"storeId\":\"" NO_STORE "\"}", 400, "BAD_REQUEST", "UNKNOWN_FIELD", "storeId"},
        {"{\"id\":\"prod_x\"}", 400, "BAD_REQUEST", "UNKNOWN_FIELD", "id"},
        {NULL, 0, NULL, NULL, NULL},
    };
    expect_errors(&d, "PATCH", ppath, patch);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products WHERE id = '%s' AND name = 'Widget' AND"
                                    " unit_price = 1999 AND price_tiers = '[]' AND store_id = '%s'",
                                id, store),
                     1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products"), 2);
#undef P
    ckt_finish(&d);
}

static void shipping_methods(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char store[64], other[64], path[160], first[64];
    ckt_store(&d, store);
    ckt_store(&d, other);
    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods", store);
    ckt_resp r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY,
                          "{\"name\":\"Ground\",\"flatFee\":1000,\"perKgFee\":100}", NULL);
    ckt_expect_status(&r, 201);
    snprintf(first, sizeof(first), "%s", ckt_str(r.json, "id"));
    assert_true(strncmp(first, "shm_", 4) == 0);
    assert_string_equal(ckt_str(r.json, "storeId"), store);
    assert_string_equal(ckt_str(r.json, "name"), "Ground");
    assert_int_equal(ckt_int(r.json, "flatFee"), 1000);
    assert_int_equal(ckt_int(r.json, "perKgFee"), 100);
    ckt_expect_time_ms(r.json, "createdAt");
    assert_int_equal(json_object_size(r.json), 6);
    ckt_free(&r);
    r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, "{\"name\":\"Pickup\",\"flatFee\":0}", NULL);
    ckt_expect_status(&r, 201);
    assert_int_equal(ckt_int(r.json, "perKgFee"), 0);
    ckt_free(&r);
    /* A method of another store is not listed. */
    char opath[160];
    snprintf(opath, sizeof(opath), "/v1/stores/%s/shipping-methods", other);
    r = ckt_http(&d, "POST", opath, CKT_ADMIN_KEY, "{\"name\":\"Elsewhere\",\"flatFee\":5}", NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);

    r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 2);
    assert_string_equal(ckt_str(r.json, "items.0.id"), first);
    assert_string_equal(ckt_str(r.json, "items.1.name"), "Pickup");
    assert_true(json_is_null(ckt_get(r.json, "nextPageToken")));
    ckt_free(&r);

    /* Paging: one per page. */
    char page[256];
    snprintf(page, sizeof(page), "%s?limit=1", path);
    r = ckt_http(&d, "GET", page, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 1);
    assert_string_equal(ckt_str(r.json, "nextPageToken"), first);
    ckt_free(&r);
    snprintf(page, sizeof(page), "%s?limit=1&pageToken=%s", path, first);
    r = ckt_http(&d, "GET", page, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "items.0.name"), "Pickup");
    ckt_free(&r);
    snprintf(page, sizeof(page), "%s?limit=0", path);
    r = ckt_http(&d, "GET", page, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "limit");
    ckt_free(&r);

    static const bad_case bad[] = {
        {"{\"flatFee\":1000}", 400, "BAD_REQUEST", "MISSING_FIELD", "name"},
        {"{\"name\":\"x\"}", 400, "BAD_REQUEST", "MISSING_FIELD", "flatFee"},
        {"{\"name\":\"x\",\"flatFee\":-1}", 400, "BAD_REQUEST", "INVALID_FIELD", "flatFee"},
        {"{\"name\":\"x\",\"flatFee\":10.5}", 400, "BAD_REQUEST", "INVALID_FIELD", "flatFee"},
        {"{\"name\":\"x\",\"flatFee\":1,\"perKgFee\":-100}", 400, "BAD_REQUEST", "INVALID_FIELD", "perKgFee"},
        {"{\"name\":\"x\",\"flatFee\":1,\"perKgFee\":\"100\"}", 400, "BAD_REQUEST", "INVALID_FIELD", "perKgFee"},
        {"{\"name\":\"x\",\"flatFee\":1,\"speed\":\"fast\"}", 400, "BAD_REQUEST", "UNKNOWN_FIELD", "speed"},
        {NULL, 0, NULL, NULL, NULL},
    };
    expect_errors(&d, "POST", path, bad);
    r = ckt_http(&d, "POST", "/v1/stores/" NO_STORE "/shipping-methods", CKT_ADMIN_KEY,
                 "{\"name\":\"x\",\"flatFee\":1}", NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/v1/stores/" NO_STORE "/shipping-methods", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM shipping_methods"), 3);
    ckt_finish(&d);
}

static void tax_rates_and_promotions(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char store[64], other[64], path[160];
    ckt_store(&d, store);
    ckt_store(&d, other);
    snprintf(path, sizeof(path), "/v1/stores/%s/tax-rates", store);
    ckt_resp r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, "{\"country\":\"US\",\"rateBasisPoints\":825}", NULL);
    ckt_expect_status(&r, 201);
    assert_true(strncmp(ckt_str(r.json, "id"), "tax_", 4) == 0);
    assert_string_equal(ckt_str(r.json, "storeId"), store);
    assert_string_equal(ckt_str(r.json, "country"), "US");
    assert_int_equal(ckt_int(r.json, "rateBasisPoints"), 825);
    ckt_expect_time_ms(r.json, "createdAt");
    assert_int_equal(json_object_size(r.json), 5);
    ckt_free(&r);
    r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, "{\"country\":\"US\",\"rateBasisPoints\":700}", NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "TAX_RATE_EXISTS", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, "{\"country\":\"DE\",\"rateBasisPoints\":10000}", NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, "{\"country\":\"CA\",\"rateBasisPoints\":0}", NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    char opath[160];
    snprintf(opath, sizeof(opath), "/v1/stores/%s/tax-rates", other);
    r = ckt_http(&d, "POST", opath, CKT_ADMIN_KEY, "{\"country\":\"US\",\"rateBasisPoints\":600}", NULL);
    ckt_expect_status(&r, 201); /* one per store and country */
    ckt_free(&r);
    static const bad_case bad_tax[] = {
        {"{\"country\":\"us\",\"rateBasisPoints\":1}", 400, "BAD_REQUEST", "INVALID_FIELD", "country"},
        {"{\"country\":\"USA\",\"rateBasisPoints\":1}", 400, "BAD_REQUEST", "INVALID_FIELD", "country"},
        {"{\"country\":\"U1\",\"rateBasisPoints\":1}", 400, "BAD_REQUEST", "INVALID_FIELD", "country"},
        {"{\"rateBasisPoints\":1}", 400, "BAD_REQUEST", "MISSING_FIELD", "country"},
        {"{\"country\":\"FR\"}", 400, "BAD_REQUEST", "MISSING_FIELD", "rateBasisPoints"},
        {"{\"country\":\"FR\",\"rateBasisPoints\":10001}", 400, "BAD_REQUEST", "INVALID_FIELD", "rateBasisPoints"},
        {"{\"country\":\"FR\",\"rateBasisPoints\":-1}", 400, "BAD_REQUEST", "INVALID_FIELD", "rateBasisPoints"},
        {"{\"country\":\"FR\",\"rateBasisPoints\":8.25}", 400, "BAD_REQUEST", "INVALID_FIELD", "rateBasisPoints"},
        {"{\"country\":\"FR\",\"rateBasisPoints\":1,\"rate\":1}", 400, "BAD_REQUEST", "UNKNOWN_FIELD", "rate"},
        {NULL, 0, NULL, NULL, NULL},
    };
    expect_errors(&d, "POST", path, bad_tax);
    r = ckt_http(&d, "POST", "/v1/stores/" NO_STORE "/tax-rates", CKT_ADMIN_KEY,
                 "{\"country\":\"FR\",\"rateBasisPoints\":1}", NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM tax_rates"), 4);
    assert_int_equal(ckt_db_int(&d, "SELECT rate_bp FROM tax_rates WHERE store_id = '%s' AND country = 'US'", store),
                     825);

    snprintf(path, sizeof(path), "/v1/stores/%s/promotions", store);
    r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY,
                 "{\"name\":\"5% over 500\",\"minSubtotal\":50000,\"percentOffBasisPoints\":500}", NULL);
    ckt_expect_status(&r, 201);
    assert_true(strncmp(ckt_str(r.json, "id"), "promo_", 6) == 0);
    assert_string_equal(ckt_str(r.json, "storeId"), store);
    assert_string_equal(ckt_str(r.json, "name"), "5% over 500");
    assert_int_equal(ckt_int(r.json, "minSubtotal"), 50000);
    assert_int_equal(ckt_int(r.json, "percentOffBasisPoints"), 500);
    ckt_expect_time_ms(r.json, "createdAt");
    assert_int_equal(json_object_size(r.json), 6);
    ckt_free(&r);
    r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, "{\"name\":\"all free\",\"percentOffBasisPoints\":10000}", NULL);
    ckt_expect_status(&r, 201);
    assert_int_equal(ckt_int(r.json, "minSubtotal"), 0);
    ckt_free(&r);
    static const bad_case bad_promo[] = {
        {"{\"name\":\"x\",\"minSubtotal\":1,\"percentOffBasisPoints\":0}", 400, "BAD_REQUEST", "INVALID_FIELD",
         "percentOffBasisPoints"},
        {"{\"name\":\"x\",\"percentOffBasisPoints\":10001}", 400, "BAD_REQUEST", "INVALID_FIELD",
         "percentOffBasisPoints"},
        {"{\"name\":\"x\"}", 400, "BAD_REQUEST", "MISSING_FIELD", "percentOffBasisPoints"},
        {"{\"percentOffBasisPoints\":5}", 400, "BAD_REQUEST", "MISSING_FIELD", "name"},
        {"{\"name\":\"x\",\"minSubtotal\":-1,\"percentOffBasisPoints\":5}", 400, "BAD_REQUEST", "INVALID_FIELD",
         "minSubtotal"},
        {"{\"name\":\"x\",\"minSubtotal\":\"50000\",\"percentOffBasisPoints\":5}", 400, "BAD_REQUEST",
         "INVALID_FIELD", "minSubtotal"},
        {"{\"name\":\"x\",\"percentOffBasisPoints\":5,\"code\":\"SAVE\"}", 400, "BAD_REQUEST", "UNKNOWN_FIELD",
         "code"},
        {NULL, 0, NULL, NULL, NULL},
    };
    expect_errors(&d, "POST", path, bad_promo);
    r = ckt_http(&d, "POST", "/v1/stores/" NO_STORE "/promotions", CKT_ADMIN_KEY,
                 "{\"name\":\"x\",\"percentOffBasisPoints\":5}", NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM promotions"), 2);
    ckt_finish(&d);
}

static void catalog_auth(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char store[64], prod[64], path[160], ppath[160], uid[64], key[128];
    ckt_store(&d, store);
    ckt_product(&d, store, NULL, prod);
    snprintf(path, sizeof(path), "/v1/stores/%s/products", store);
    snprintf(ppath, sizeof(ppath), "/v1/products/%s", prod);
    const char *body = "{\"sku\":\"A\",\"name\":\"A\",\"unitPrice\":1}";

    ckt_resp r = ckt_http(&d, "POST", path, NULL, body, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "GET", ppath, "ck_not_a_key", NULL, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods", store);
    r = ckt_http(&d, "GET", path, NULL, NULL, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);

    ckt_user(&d, "[\"buyer\"]", uid, key);
    struct {
        const char *method, *fmt, *body;
    } calls[] = {
        {"POST", "/v1/stores/%s/products", "{\"sku\":\"A\",\"name\":\"A\",\"unitPrice\":1}"},
        {"POST", "/v1/stores/%s/shipping-methods", "{\"name\":\"x\",\"flatFee\":1}"},
        {"POST", "/v1/stores/%s/tax-rates", "{\"country\":\"US\",\"rateBasisPoints\":1}"},
        {"POST", "/v1/stores/%s/promotions", "{\"name\":\"x\",\"percentOffBasisPoints\":5}"},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        snprintf(path, sizeof(path), calls[i].fmt, store);
        r = ckt_http(&d, calls[i].method, path, key, calls[i].body, NULL);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
    }
    r = ckt_http(&d, "GET", ppath, key, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    r = ckt_http(&d, "PATCH", ppath, key, "{\"unitPrice\":1}", NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    /* Buyers may list a store's shipping methods to choose one. */
    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods", store);
    r = ckt_http(&d, "POST", path, CKT_ADMIN_KEY, "{\"name\":\"Ground\",\"flatFee\":1000}", NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    r = ckt_http(&d, "GET", path, key, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "items.0.name"), "Ground");
    ckt_free(&r);

    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT unit_price FROM products"), 1999);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM shipping_methods"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM tax_rates"), 0);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM promotions"), 0);
    ckt_finish(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(product_lifecycle),
        cmocka_unit_test(product_sku_conflict),
        cmocka_unit_test(product_bad_input),
        cmocka_unit_test(shipping_methods),
        cmocka_unit_test(tax_rates_and_promotions),
        cmocka_unit_test(catalog_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
