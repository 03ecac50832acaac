/* test_bounds.c: no silent truncation (API.md "Conventions"). A value the API
 * accepts is stored and used whole; where a size is bounded the bound is
 * documented and a request over it is 400 with `field`: priceTiers at most
 * 50 tiers, embargoedCountries at most 300. Each bound is tried at the bound
 * and one past it, and the accepted value is shown to be used whole by the
 * checkout (a product's 50th tier prices the order; a store's 300th
 * embargoed country blocks it). Caps that used to be hidden (stuck sessions
 * past 500) are gone. */
#include "api/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADDR(country)                                                                                      \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\"," \
    "\"country\":\"" country "\"}"

static ckt_daemon D;

static int teardown(void **state)
{
    (void)state;
    ckt_cleanup(&D);
    memset(&D, 0, sizeof(D));
    return 0;
}

/* n tiers, each with a 6-digit minQuantity and an 8-digit unitPrice, as the
 * issue's reproduction: tier i is {100000 + 1000 i, 10000000 + i}. */
static char *tiers_json(int n)
{
    size_t cap = (size_t)n * 64 + 8, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    len += (size_t)snprintf(s + len, cap - len, "[");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s{\"minQuantity\":%d,\"unitPrice\":%d}", i ? "," : "",
                                100000 + 1000 * i, 10000000 + i);
    snprintf(s + len, cap - len, "]");
    return s;
}

#define PAY_CARD "{\"method\":\"card\",\"cardToken\":\"tok_visa\"}"

static void price_tiers_bound(void **state)
{
    (void)state;
    ckt_daemon *d = &D;
    ckt_start(d, NULL, NULL);
    char store[64], shm[64], acct[64], buyer[64], bkey[128], prod[64], path[1024], sid[64];
    ckt_shop_setup(d, NULL, store, shm, acct, buyer, bkey);

    /* 51 tiers: 400, field priceTiers, nothing stored. */
    char *t51 = tiers_json(51);
    snprintf(path, sizeof(path), "/v1/stores/%s/products", store);
    ckt_resp r = ckt_httpf(d, "POST", path, CKT_ADMIN_KEY,
                           "{\"sku\":\"TIER-51\",\"name\":\"Bulk\",\"unitPrice\":99999999,\"stock\":1000000,"
                           "\"priceTiers\":%s}",
                           t51);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM products"), 0);

    /* 50 tiers, over 2 KiB of JSON: stored whole. */
    char *t50 = tiers_json(50);
    assert_true(strlen(t50) > 2048);
    r = ckt_httpf(d, "POST", path, CKT_ADMIN_KEY,
                  "{\"sku\":\"TIER-50\",\"name\":\"Bulk\",\"unitPrice\":99999999,\"stock\":1000000,\"weightGrams\":1,"
                  "\"priceTiers\":%s}",
                  t50);
    ckt_expect_status(&r, 201);
    snprintf(prod, sizeof(prod), "%s", ckt_str(r.json, "id"));
    assert_int_equal(json_array_size(ckt_get(r.json, "priceTiers")), 50);
    assert_int_equal(ckt_int(r.json, "priceTiers.49.minQuantity"), 149000);
    assert_int_equal(ckt_int(r.json, "priceTiers.49.unitPrice"), 10000049);
    ckt_free(&r);
    /* A PATCH of 51 is refused the same way and keeps the 50. */
    snprintf(path, sizeof(path), "/v1/products/%s", prod);
    r = ckt_httpf(d, "PATCH", path, CKT_ADMIN_KEY, "{\"priceTiers\":%s}", t51);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "priceTiers");
    ckt_free(&r);
    r = ckt_http(d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "priceTiers")), 50);
    ckt_free(&r);

    /* The checkout prices by the 50th tier, not the list price. */
    ckt_session_ready(d, bkey, store, acct, prod, 149000, ADDR("US"), shm, PAY_CARD, sid, NULL);
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", sid);
    r = ckt_http(d, "POST", path, bkey, NULL, NULL);
    ckt_expect_status(&r, 201);
    assert_int_equal(ckt_int(r.json, "order.items.0.unitPrice"), 10000049);
    assert_int_equal(ckt_int(r.json, "order.totals.subtotal"), (int64_t)149000 * 10000049);
    ckt_free(&r);
    free(t50);
    free(t51);
    ckt_finish(d);
}

/* n distinct two-letter codes, none of them US, then US last when us_last. */
static char *countries_json(int n, int us_last)
{
    char *s = malloc((size_t)n * 6 + 8);
    assert_non_null(s);
    size_t len = 0;
    s[len++] = '[';
    int made = 0;
    for (char a = 'A'; a <= 'Z' && made < n - us_last; a++)
        for (char b = 'A'; b <= 'Z' && made < n - us_last; b++) {
            if (a == 'U' && b == 'S')
                continue;
            len += (size_t)sprintf(s + len, "%s\"%c%c\"", made ? "," : "", a, b);
            made++;
        }
    if (us_last)
        len += (size_t)sprintf(s + len, "%s\"US\"", made ? "," : "");
    s[len++] = ']';
    s[len] = '\0';
    return s;
}

static void embargoed_countries_bound(void **state)
{
    (void)state;
    ckt_daemon *d = &D;
    ckt_start(d, NULL, NULL);
    char store[64], shm[64], acct[64], buyer[64], bkey[128], prod[64], path[1024], sid[64];
    ckt_shop_setup(d, NULL, store, shm, acct, buyer, bkey);

    char *c301 = countries_json(301, 1), *c300 = countries_json(300, 1);
    ckt_resp r = ckt_httpf(d, "POST", "/v1/stores", CKT_ADMIN_KEY,
                           "{\"name\":\"Too many\",\"currency\":\"USD\",\"embargoedCountries\":%s}", c301);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "embargoedCountries");
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/stores/%s", store);
    r = ckt_httpf(d, "PATCH", path, CKT_ADMIN_KEY, "{\"embargoedCountries\":%s}", c301);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "embargoedCountries");
    ckt_free(&r);
    /* 300, the last of them US: stored whole, and used whole. */
    r = ckt_httpf(d, "PATCH", path, CKT_ADMIN_KEY, "{\"embargoedCountries\":%s}", c300);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "embargoedCountries")), 300);
    ckt_free(&r);
    r = ckt_http(d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *list = ckt_get(r.json, "embargoedCountries");
    assert_int_equal(json_array_size(list), 300);
    int has_us = 0;
    for (size_t i = 0; i < json_array_size(list); i++)
        has_us |= strcmp(json_string_value(json_array_get(list, i)), "US") == 0;
    assert_true(has_us);
    ckt_free(&r);
    ckt_product(d, store,
                "{\"sku\":\"EXPORT-1\",\"name\":\"Controlled\",\"unitPrice\":1999,\"stock\":10,"
                "\"exportControlled\":true,\"weightGrams\":500}",
                prod);
    ckt_session_ready(d, bkey, store, acct, prod, 1, ADDR("US"), shm, PAY_CARD, sid, NULL);
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", sid);
    r = ckt_http(d, "POST", path, bkey, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "EXPORT_RESTRICTED", NULL);
    ckt_free(&r);
    free(c300);
    free(c301);
    ckt_finish(d);
}

/* More stuck sessions than the SLA monitor's old 500-row cap: every one is
 * counted and gets its alert. */
static void sla_monitor_counts_past_500(void **state)
{
    (void)state;
    ckt_daemon *d = &D;
    ckt_start(d, NULL, NULL);
    char store[64], shm[64], acct[64], buyer[64], bkey[128], prod[64], path[1024], cart[64];
    ckt_shop_setup(d, NULL, store, shm, acct, buyer, bkey);
    ckt_product(d, store, NULL, prod);
    enum { N = 501 };
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof(path), "/v1/stores/%s/carts", store);
        ckt_resp r = ckt_httpf(d, "POST", path, bkey, "{\"accountId\":\"%s\"}", acct);
        ckt_expect_status(&r, 201);
        snprintf(cart, sizeof(cart), "%s", ckt_str(r.json, "id"));
        ckt_free(&r);
        r = ckt_httpf(d, "POST", "/v1/checkouts", bkey, "{\"cartId\":\"%s\"}", cart);
        ckt_expect_status(&r, 201);
        ckt_free(&r);
    }
    /* Each has an error and is past the store's SLA (moved back in time). */
    ckt_db_exec(d, "UPDATE checkout_sessions SET is_error = 1, updated_at = updated_at - 100000000");
    ckt_resp r = ckt_http(d, "POST", "/v1/admin/jobs/sla-monitor", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "stuck"), N);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM alerts WHERE kind = 'StuckSession'"), N);
    /* Again: still all counted, no second alert. */
    r = ckt_http(d, "POST", "/v1/admin/jobs/sla-monitor", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "stuck"), N);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM alerts WHERE kind = 'StuckSession'"), N);
    ckt_finish(d);
}

/* A line's cost is unit price x quantity, checked: at 10^14 (the money
 * bound) a second unit is 400 on quantity, by adding, by adding the same
 * product again (the line's quantities merge) and by a PATCH, and a million
 * units (10^20: past int64, undefined behaviour before the check) too;
 * nothing of the refused write is kept. */
static void line_cost_bound(void **state)
{
    (void)state;
    ckt_daemon *d = &D;
    ckt_start(d, NULL, NULL);
    char store[64], shm[64], acct[64], buyer[64], bkey[128], prod[64], path[1024], cart[64], item[64];
    ckt_shop_setup(d, NULL, store, shm, acct, buyer, bkey);
    ckt_product(d, store, "{\"sku\":\"DEAR\",\"name\":\"Dear\",\"unitPrice\":100000000000000,\"stock\":1000000}",
                prod);
    ckt_cart(d, bkey, store, acct, cart);
    snprintf(path, sizeof(path), "/v1/carts/%s/items", cart);
    static const char *const too_many[] = {"2", "1000000"};
    for (size_t i = 0; i < 2; i++) {
        ckt_resp r = ckt_httpf(d, "POST", path, bkey, "{\"sku\":\"DEAR\",\"quantity\":%s}", too_many[i]);
        ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "quantity");
        ckt_free(&r);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM cart_items"), 0);
    }
    ckt_cart_item(d, bkey, cart, prod, 1, item);
    /* The same product again: the merged line would cost 2 x 10^14. */
    ckt_resp r = ckt_httpf(d, "POST", path, bkey, "{\"sku\":\"DEAR\",\"quantity\":1}");
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "quantity");
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/carts/%s/items/%s", cart, item);
    r = ckt_httpf(d, "PATCH", path, bkey, "{\"quantity\":1000000}");
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "quantity");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM cart_items WHERE id = '%s' AND quantity = 1"
                                   " AND total = 100000000000000",
                                item),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT subtotal FROM carts WHERE id = '%s'", cart), 100000000000000LL);
    ckt_finish(d);
}

/* A cart holds at most 500 lines (CK_CART_LINES_MAX): the 500th is added,
 * the 501st is 400 TOO_MANY_LINES on the product's field and not kept, and
 * more of a product already in the cart still merges into its line. 499
 * products and lines are written directly, so the test is about the bound,
 * not about 1,000 requests. */
static void cart_lines_bound(void **state)
{
    (void)state;
    ckt_daemon *d = &D;
    ckt_start(d, NULL, NULL);
    char store[64], shm[64], acct[64], buyer[64], bkey[128], prod[64], path[1024], cart[64], item[64];
    ckt_shop_setup(d, NULL, store, shm, acct, buyer, bkey);
    ckt_cart(d, bkey, store, acct, cart);
    ckt_db_exec(d,
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 501)"
                " INSERT INTO products (id, store_id, sku, name, unit_price, stock, min_quantity, hazmat,"
                " export_controlled, weight_grams, active, created_at, updated_at)"
                " SELECT 'prod_bulk' || i, '%s', 'BULK-' || i, 'Bulk', 100, 1000, 1, 0, 0, 1, 1, 0, 0 FROM n",
                store);
    ckt_db_exec(d,
                "INSERT INTO cart_items (id, cart_id, product_id, sku, quantity, list_price, sales_price, total,"
                " created_at) SELECT 'item_bulk' || substr(id, 10), '%s', id, sku, 1, 100, 100, 100, 0"
                " FROM products WHERE sku <> 'BULK-500' AND sku <> 'BULK-501'",
                cart);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM cart_items WHERE cart_id = '%s'", cart), 499);
    snprintf(path, sizeof(path), "/v1/carts/%s/items", cart);
    ckt_resp r = ckt_http(d, "POST", path, bkey, "{\"sku\":\"BULK-500\",\"quantity\":1}", NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    r = ckt_http(d, "POST", path, bkey, "{\"sku\":\"BULK-501\",\"quantity\":1}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "TOO_MANY_LINES", "sku");
    ckt_free(&r);
    r = ckt_http(d, "POST", path, bkey, "{\"productId\":\"prod_bulk501\",\"quantity\":1}", NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "TOO_MANY_LINES", "productId");
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM cart_items WHERE cart_id = '%s'", cart), 500);
    r = ckt_http(d, "POST", path, bkey, "{\"sku\":\"BULK-7\",\"quantity\":2}", NULL);
    ckt_expect_status(&r, 201);
    snprintf(item, sizeof(item), "%s", ckt_str(r.json, "id"));
    assert_int_equal(ckt_int(r.json, "quantity"), 3);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM cart_items WHERE cart_id = '%s'", cart), 500);
    (void)prod;
    ckt_finish(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(price_tiers_bound, teardown),
        cmocka_unit_test_teardown(embargoed_countries_bound, teardown),
        cmocka_unit_test_teardown(sla_monitor_counts_past_500, teardown),
        cmocka_unit_test_teardown(line_cost_bound, teardown),
        cmocka_unit_test_teardown(cart_lines_bound, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
