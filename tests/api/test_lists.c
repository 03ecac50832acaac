/* test_lists.c: the list convention of API.md ("Conventions", "Setup
 * resources"): {"items","nextPageToken"}, ?limit= (default 50, max 500),
 * oldest first, every item once across pages, and 400 INVALID_PAGE_TOKEN
 * for a pageToken the API did not give. */
#include "api/fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDS 600

/* Expects 400 BAD_REQUEST INVALID_PAGE_TOKEN (field pageToken) for path
 * with ?pageToken=token (or &pageToken= when path has a query). */
static void expect_bad_token(ckt_daemon *d, const char *path, const char *key, const char *token)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%cpageToken=%s", path, strchr(path, '?') ? '&' : '?', token);
    ckt_resp r = ckt_http(d, "GET", url, key, NULL, NULL);
    if (r.status != 400)
        fprintf(stderr, "GET %s -> %ld %s\n", url, r.status, r.body);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_PAGE_TOKEN", "pageToken");
    ckt_free(&r);
}

/* Tokens no list ever gives: garbage, an id of another type, ids of the
 * list's type with a wrong length or alphabet. prefix is the list's. */
static void expect_bad_tokens(ckt_daemon *d, const char *path, const char *key, const char *prefix)
{
    char t[128];
    expect_bad_token(d, path, key, "garbage");
    expect_bad_token(d, path, key, "%27%20OR%201%3D1--");
    expect_bad_token(d, path, key, "");
    expect_bad_token(d, path, key, strcmp(prefix, "usr") ? "usr_01M80V5EQG4YHAXXJRNX68ZH9P"
                                                         : "acct_01M80V5EQG4YHAXXJRNX68ZH9P");
    snprintf(t, sizeof(t), "%s_01M80V5EQG4YHAXXJRNX68ZH9", prefix); /* 25 characters */
    expect_bad_token(d, path, key, t);
    snprintf(t, sizeof(t), "%s_01M80V5EQG4YHAXXJRNX68ZH9PP", prefix); /* 27 */
    expect_bad_token(d, path, key, t);
    snprintf(t, sizeof(t), "%s_01m80v5eqg4yhaxxjrnx68zh9p", prefix); /* lower case */
    expect_bad_token(d, path, key, t);
    snprintf(t, sizeof(t), "%s_01M80V5EQG4YHAXXJRNX68ZH9U", prefix); /* U is not Crockford base32 */
    expect_bad_token(d, path, key, t);
    snprintf(t, sizeof(t), "%s01M80V5EQG4YHAXXJRNX68ZH9P", prefix); /* no separator */
    expect_bad_token(d, path, key, t);
}

/* Reads every page of path with ?limit=limit as key, asserting the list
 * shape of each; appends each item's id to ids and returns how many. A full
 * page names a next page; the last page has a null token. */
static int walk(ckt_daemon *d, const char *path, const char *key, int limit, char ids[][64])
{
    char url[1024], token[128] = "";
    int n = 0;
    for (int pages = 0;; pages++) {
        assert_true(pages <= MAX_IDS);
        char sep = strchr(path, '?') ? '&' : '?';
        if (token[0])
            snprintf(url, sizeof(url), "%s%climit=%d&pageToken=%s", path, sep, limit, token);
        else
            snprintf(url, sizeof(url), "%s%climit=%d", path, sep, limit);
        ckt_resp r = ckt_http(d, "GET", url, key, NULL, NULL);
        ckt_expect_status(&r, 200);
        assert_int_equal(json_object_size(r.json), 2);
        json_t *items = ckt_get(r.json, "items"), *next = ckt_get(r.json, "nextPageToken");
        assert_true(json_is_array(items));
        assert_true((int)json_array_size(items) <= limit);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            assert_true(n < MAX_IDS);
            snprintf(ids[n++], 64, "%s", ckt_str(it, "id"));
        }
        if ((int)json_array_size(items) < limit) {
            assert_true(json_is_null(next));
            ckt_free(&r);
            return n;
        }
        assert_true(json_is_string(next));
        snprintf(token, sizeof(token), "%s", json_string_value(next));
        ckt_free(&r);
    }
}

/* ids[0..n) are strictly increasing: oldest first, none twice. */
static void expect_id_order(char ids[][64], int n)
{
    for (int i = 1; i < n; i++)
        if (strcmp(ids[i - 1], ids[i]) >= 0) {
            fprintf(stderr, "ids out of order at %d: %s then %s\n", i, ids[i - 1], ids[i]);
            fail();
        }
}

/* The lists that existed before issue 10 took any token: garbage came back
 * as 200 with an empty page. Each now refuses what it did not give. */
static void page_tokens_of_older_lists(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char store[64], shm[64], acct[64], buyer[64], bkey[128], cart[64], path[256];
    ckt_shop_setup(&d, NULL, store, shm, acct, buyer, bkey);
    snprintf(path, sizeof(path), "/v1/stores/%s/carts", store);
    ckt_resp r = ckt_httpf(&d, "POST", path, bkey, "{\"accountId\":\"%s\"}", acct);
    ckt_expect_status(&r, 201);
    snprintf(cart, sizeof(cart), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);

    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods", store);
    expect_bad_tokens(&d, path, bkey, "shm");
    snprintf(path, sizeof(path), "/v1/accounts/%s/ledger", acct);
    expect_bad_tokens(&d, path, CKT_ADMIN_KEY, "led");
    snprintf(path, sizeof(path), "/v1/orders?accountId=%s", acct);
    expect_bad_tokens(&d, path, bkey, "ord");
    snprintf(path, sizeof(path), "/v1/carts/%s/validation-outputs", cart);
    expect_bad_tokens(&d, path, bkey, "cvo");
    expect_bad_tokens(&d, "/v1/admin/alerts", CKT_ADMIN_KEY, "alert");
    expect_bad_tokens(&d, "/v1/admin/sessions", CKT_ADMIN_KEY, "cs");
    expect_bad_tokens(&d, "/v1/admin/dead-letters", CKT_ADMIN_KEY, "dlv");

    /* The token a list gave goes on where it stopped, and a well-formed id of
     * the list's type is taken even when no such item exists (the last item
     * of a page may be gone by the time the next page is asked for). */
    char ids[MAX_IDS][64];
    snprintf(path, sizeof(path), "/v1/accounts/%s/adjustments", acct);
    for (int i = 1; i <= 3; i++) {
        r = ckt_httpf(&d, "POST", path, CKT_ADMIN_KEY, "{\"kind\":\"prepaid\",\"amount\":%d}", i);
        ckt_expect_status(&r, 201);
        ckt_free(&r);
    }
    snprintf(path, sizeof(path), "/v1/accounts/%s/ledger", acct);
    int n = walk(&d, path, CKT_ADMIN_KEY, 1, ids);
    assert_int_equal(n, ckt_db_int(&d, "SELECT count(*) FROM balance_ledger WHERE account_id = '%s'", acct));
    assert_true(n >= 3);
    expect_id_order(ids, n);
    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods?pageToken=shm_00000000000000000000000000", store);
    r = ckt_http(&d, "GET", path, bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "items.0.id"), shm);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods?pageToken=%s", store, shm);
    r = ckt_http(&d, "GET", path, bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 0);
    assert_true(json_is_null(ckt_get(r.json, "nextPageToken")));
    ckt_free(&r);
    ckt_finish(&d);
}

/* Every walked id is a row of table (count and membership), in id order. */
static void expect_all_rows(ckt_daemon *d, const char *table, const char *where, char ids[][64], int n)
{
    expect_id_order(ids, n);
    assert_int_equal(n, ckt_db_int(d, "SELECT count(*) FROM %s WHERE %s", table, where));
    for (int i = 0; i < n; i++)
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM %s WHERE id = '%s' AND %s", table, ids[i], where), 1);
}

/* made[0..m) (in creation order) appear in ids in that order. */
static void expect_in_creation_order(char ids[][64], int n, char made[][64], int m)
{
    int j = 0;
    for (int i = 0; i < n && j < m; i++)
        if (strcmp(ids[i], made[j]) == 0)
            j++;
    if (j != m)
        fprintf(stderr, "%s (made %d of %d) is missing or out of creation order\n", made[j], j, m);
    assert_int_equal(j, m);
}

/* GET /v1/users (admin): every user, never a key; the default page is 50,
 * at most 500. */
static void users_list(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    static char made[52][64], ids[MAX_IDS][64];
    char key[128], bkey[128];
    for (int i = 0; i < 52; i++)
        ckt_user(&d, i % 2 ? "[\"buyer\"]" : "[\"fulfillment\",\"approver\"]", made[i], i ? key : bkey);
    int n = walk(&d, "/v1/users", CKT_ADMIN_KEY, 7, ids);
    assert_int_equal(n, 53); /* with the daemon's admin */
    expect_all_rows(&d, "users", "1 = 1", ids, n);
    expect_in_creation_order(ids, n, made, 52);

    ckt_resp r = ckt_http(&d, "GET", "/v1/users", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 50);
    assert_string_equal(ckt_str(r.json, "nextPageToken"), ckt_str(r.json, "items.49.id"));
    json_t *u = ckt_get(r.json, "items.1");
    assert_string_equal(ckt_str(u, "id"), made[0]);
    assert_string_equal(ckt_str(u, "name"), "Test User");
    assert_string_equal(ckt_str(u, "permissions.1"), "fulfillment");
    assert_true(json_is_false(ckt_get(u, "disabled")));
    assert_int_equal(json_object_size(u), 7);
    assert_null(strstr(r.body, "apiKey"));
    assert_null(strstr(r.body, key));
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/v1/users?limit=500", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 53);
    assert_true(json_is_null(ckt_get(r.json, "nextPageToken")));
    ckt_free(&r);
    static const char *const bad_limits[] = {"0", "501", "-1", "x", "", "5x", NULL};
    for (int i = 0; bad_limits[i]; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/v1/users?limit=%s", bad_limits[i]);
        r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
        ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "limit");
        ckt_free(&r);
    }
    expect_bad_tokens(&d, "/v1/users", CKT_ADMIN_KEY, "usr");
    r = ckt_http(&d, "GET", "/v1/users", bkey, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    ckt_finish(&d);
}

/* GET /v1/subscribers (admin): every subscriber not deleted, never a secret. */
static void subscribers_list(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    static char made[7][64], ids[MAX_IDS][64];
    for (int i = 0; i < 7; i++) {
        ckt_resp r = i % 3 == 2 ? ckt_http(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                                           "{\"kind\":\"email\",\"smtpUrl\":\"smtp://127.0.0.1:2525\","
                                           "\"from\":\"orders@example.com\"}",
                                           NULL)
                                : ckt_httpf(&d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                                            "{\"kind\":\"webhook\",\"url\":\"https://h%d.example.com/x\","
                                            "\"secret\":\"whsec-list-secret\",\"events\":[\"OrderCreated\"]}",
                                            i);
        ckt_expect_status(&r, 201);
        snprintf(made[i], 64, "%s", ckt_str(r.json, "id"));
        ckt_free(&r);
    }
    char path[128];
    snprintf(path, sizeof(path), "/v1/subscribers/%s", made[3]);
    ckt_resp r = ckt_http(&d, "DELETE", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 204);
    ckt_free(&r);
    int n = walk(&d, "/v1/subscribers", CKT_ADMIN_KEY, 2, ids);
    assert_int_equal(n, 6);
    expect_all_rows(&d, "subscribers", "deleted_at IS NULL", ids, n);
    for (int i = 0; i < n; i++)
        assert_string_not_equal(ids[i], made[3]);
    /* Paging goes on past an item deleted since its page was read. */
    r = ckt_http(&d, "GET", "/v1/subscribers?limit=3", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_null(strstr(r.body, "whsec-list-secret"));
    assert_string_equal(ckt_str(r.json, "items.0.url"), "https://h0.example.com/x");
    assert_string_equal(ckt_str(r.json, "items.2.smtpUrl"), "smtp://127.0.0.1:2525");
    char token[64];
    snprintf(token, sizeof(token), "%s", ckt_str(r.json, "nextPageToken"));
    assert_string_equal(token, made[2]);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/subscribers/%s", made[2]); /* the token's own item */
    r = ckt_http(&d, "DELETE", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 204);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/subscribers?limit=3&pageToken=%s", token);
    r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 3);
    assert_string_equal(ckt_str(r.json, "items.0.id"), made[4]);
    assert_string_equal(ckt_str(r.json, "items.1.id"), made[5]);
    assert_string_equal(ckt_str(r.json, "items.2.id"), made[6]);
    ckt_free(&r);
    expect_bad_tokens(&d, "/v1/subscribers", CKT_ADMIN_KEY, "sub");
    ckt_finish(&d);
}

/* ------------------------------------------- setup resources (admin only) */

static void expect_forbidden(ckt_daemon *d, const char *path, const char *key)
{
    ckt_resp r = ckt_http(d, "GET", path, key, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
}

static void expect_get_error(ckt_daemon *d, const char *path, const char *key, long status, const char *code,
                             const char *reason, const char *field)
{
    ckt_resp r = ckt_http(d, "GET", path, key, NULL, NULL);
    if (r.status != status)
        fprintf(stderr, "GET %s -> %ld %s\n", path, r.status, r.body);
    ckt_expect_error(&r, status, code, reason, field);
    ckt_free(&r);
}

/* GET path as key: the page's items (owned). */
static json_t *get_items(ckt_daemon *d, const char *path, const char *key)
{
    ckt_resp r = ckt_http(d, "GET", path, key, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *items = json_incref(ckt_get(r.json, "items"));
    ckt_free(&r);
    return items;
}

/* The ids of the items of GET path, one list of want (NULL-terminated), in order. */
static void expect_ids(ckt_daemon *d, const char *path, const char *key, const char *const *want)
{
    json_t *items = get_items(d, path, key);
    size_t n = 0;
    while (want[n])
        n++;
    if (json_array_size(items) != n) {
        char *t = json_dumps(items, JSON_COMPACT);
        fprintf(stderr, "GET %s: want %zu items, got %s\n", path, n, t);
        free(t);
    }
    assert_int_equal(json_array_size(items), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ckt_str(json_array_get(items, i), "id"), want[i]);
    json_decref(items);
}

static void setup_lists(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    static char stores[5][64], accts[5][64], ids[MAX_IDS][64], prods[6][64], other_prod[64], ctrs[4][64];
    char uid[64], bkey[128], path[256];
    ckt_user(&d, "[\"buyer\",\"integrator\",\"approver\",\"fulfillment\"]", uid, bkey);
    for (int i = 0; i < 5; i++)
        ckt_store(&d, stores[i]);
    for (int i = 0; i < 5; i++)
        ckt_account(&d, NULL, accts[i]);
    for (int i = 0; i < 6; i++)
        ckt_product(&d, stores[1], NULL, prods[i]);
    ckt_product(&d, stores[2], NULL, other_prod);
    for (int i = 0; i < 4; i++) {
        ckt_resp r = ckt_httpf(&d, "POST", "/v1/contracts", CKT_ADMIN_KEY, "{\"accountId\":\"%s\",\"amount\":%d}",
                               accts[i % 2], 1000 * (i + 1));
        ckt_expect_status(&r, 201);
        snprintf(ctrs[i], 64, "%s", ckt_str(r.json, "id"));
        ckt_free(&r);
    }

    /* Stores. */
    int n = walk(&d, "/v1/stores", CKT_ADMIN_KEY, 2, ids);
    assert_int_equal(n, 5);
    expect_all_rows(&d, "stores", "1 = 1", ids, n);
    expect_in_creation_order(ids, n, stores, 5);
    json_t *items = get_items(&d, "/v1/stores?limit=1", CKT_ADMIN_KEY);
    assert_string_equal(ckt_str(json_array_get(items, 0), "currency"), "USD");
    assert_string_equal(ckt_str(json_array_get(items, 0), "gateway.kind"), "test");
    json_decref(items);
    expect_bad_tokens(&d, "/v1/stores", CKT_ADMIN_KEY, "store");
    expect_forbidden(&d, "/v1/stores", bkey); /* every permission but admin */

    /* Accounts. */
    n = walk(&d, "/v1/accounts", CKT_ADMIN_KEY, 3, ids);
    assert_int_equal(n, 5);
    expect_all_rows(&d, "accounts", "1 = 1", ids, n);
    expect_in_creation_order(ids, n, accts, 5);
    items = get_items(&d, "/v1/accounts?limit=1", CKT_ADMIN_KEY);
    assert_int_equal(ckt_int(json_array_get(items, 0), "creditLimit"), 100000);
    assert_int_equal(ckt_int(json_array_get(items, 0), "creditUsed"), 0);
    json_decref(items);
    expect_bad_tokens(&d, "/v1/accounts", CKT_ADMIN_KEY, "acct");
    expect_forbidden(&d, "/v1/accounts", bkey);

    /* A store's products, not another store's. */
    snprintf(path, sizeof(path), "/v1/stores/%s/products", stores[1]);
    n = walk(&d, path, CKT_ADMIN_KEY, 4, ids);
    assert_int_equal(n, 6);
    char where[128];
    snprintf(where, sizeof(where), "store_id = '%s'", stores[1]);
    expect_all_rows(&d, "products", where, ids, n);
    expect_in_creation_order(ids, n, prods, 6);
    items = get_items(&d, path, CKT_ADMIN_KEY);
    assert_int_equal(ckt_int(json_array_get(items, 0), "unitPrice"), 1999);
    assert_string_equal(ckt_str(json_array_get(items, 5), "storeId"), stores[1]);
    json_decref(items);
    expect_bad_tokens(&d, path, CKT_ADMIN_KEY, "prod");
    expect_forbidden(&d, path, bkey);
    snprintf(path, sizeof(path), "/v1/stores/%s/products", stores[3]);
    n = walk(&d, path, CKT_ADMIN_KEY, 4, ids);
    assert_int_equal(n, 0);
    expect_get_error(&d, "/v1/stores/store_01M80V5EQG4YHAXXJRNX68ZH9P/products", CKT_ADMIN_KEY, 404, "NOT_FOUND",
                     "NOT_FOUND", NULL);

    /* Contracts: all, or one account's. */
    n = walk(&d, "/v1/contracts", CKT_ADMIN_KEY, 3, ids);
    assert_int_equal(n, 4);
    expect_all_rows(&d, "contracts", "1 = 1", ids, n);
    expect_in_creation_order(ids, n, ctrs, 4);
    snprintf(path, sizeof(path), "/v1/contracts?accountId=%s", accts[1]);
    const char *const acct1_ctrs[] = {ctrs[1], ctrs[3], NULL};
    expect_ids(&d, path, CKT_ADMIN_KEY, acct1_ctrs);
    n = walk(&d, path, CKT_ADMIN_KEY, 1, ids);
    assert_int_equal(n, 2);
    items = get_items(&d, path, CKT_ADMIN_KEY);
    assert_int_equal(ckt_int(json_array_get(items, 1), "remaining"), 4000);
    assert_string_equal(ckt_str(json_array_get(items, 1), "accountId"), accts[1]);
    json_decref(items);
    snprintf(path, sizeof(path), "/v1/contracts?accountId=%s", accts[4]);
    const char *const none[] = {NULL};
    expect_ids(&d, path, CKT_ADMIN_KEY, none);
    expect_get_error(&d, "/v1/contracts?accountId=acct_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, 404, "NOT_FOUND",
                     "NOT_FOUND", NULL);
    expect_get_error(&d, "/v1/contracts?accountId=store_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, 400,
                     "BAD_REQUEST", "INVALID_FIELD", "accountId");
    expect_bad_tokens(&d, "/v1/contracts", CKT_ADMIN_KEY, "ctr");
    expect_forbidden(&d, "/v1/contracts", bkey);
    ckt_finish(&d);
}

/* ------------------------------- carts, checkouts and holds (visibility) */

#define ADDR_US                                                                                              \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\","   \
    "\"country\":\"US\"}"
#define TOTAL 7692 /* API.md's worked example: 3 x 1999 @ 500 g to the US */

typedef struct shop {
    char store[64], shm[64], prod[64];
} shop;

static void open_shop(ckt_daemon *d, shop *s)
{
    ckt_store(d, s->store);
    ckt_store_shipping_tax(d, s->store, s->shm);
    ckt_product(d, s->store, NULL, s->prod);
}

#define PAY_CARD "{\"method\":\"card\",\"cardToken\":\"tok_visa\"}"

/* A checkout of 3 units of the shop's product for acct, as key, ready to
 * place; its cart and session ids to cart and sid. */
static void ready(ckt_daemon *d, const shop *s, const char *key, const char *acct, char cart[64], char sid[64])
{
    ckt_session_ready(d, key, s->store, acct, s->prod, 3, ADDR_US, s->shm, PAY_CARD, sid, cart);
}

/* Places sid (the card takes a hold); the order id to order. */
static void place(ckt_daemon *d, const char *key, const char *sid, char order[64])
{
    ckt_resp r = ckt_place_as(d, key, sid, 0);
    ckt_expect_status(&r, 201);
    assert_int_equal(ckt_int(r.json, "order.totals.grandTotal"), TOTAL);
    snprintf(order, 64, "%s", ckt_str(r.json, "orderId"));
    ckt_free(&r);
}

/* Carts, sessions and holds of two accounts in two stores. The buyer was
 * given account A only; account X is bought for by the admin. */
static void buyer_lists(void **state)
{
    (void)state;
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    shop s1, s2;
    open_shop(&d, &s1);
    open_shop(&d, &s2);
    char a[64], x[64], buyer[64], bkey[128], integ[64], ikey[128], ful[64], fkey[128], appr[64], akey[128];
    ckt_account(&d, NULL, a);
    ckt_account(&d, NULL, x);
    ckt_member(&d, s1.store, a);
    ckt_member(&d, s1.store, x);
    ckt_member(&d, s2.store, x);
    ckt_user(&d, "[\"buyer\"]", buyer, bkey);
    ckt_give_account(&d, buyer, a);
    ckt_user(&d, "[\"integrator\"]", integ, ikey);
    ckt_user(&d, "[\"fulfillment\"]", ful, fkey);
    ckt_user(&d, "[\"approver\"]", appr, akey);
    ckt_give_account(&d, appr, x);

    /* c1/cs1: A in store 1, placed (Authorized hold). c2/cs2: A, not placed.
     * c3/cs3: X in store 2, placed and captured. c4/cs4: X in store 1,
     * abandoned (its cart Active again). c5: A, no session. */
    char c1[64], c2[64], c3[64], c4[64], c5[64], cs1[64], cs2[64], cs3[64], cs4[64], o1[64], o3[64], path[256];
    ready(&d, &s1, bkey, a, c1, cs1);
    place(&d, bkey, cs1, o1);
    ready(&d, &s1, bkey, a, c2, cs2);
    ready(&d, &s2, CKT_ADMIN_KEY, x, c3, cs3);
    place(&d, CKT_ADMIN_KEY, cs3, o3);
    snprintf(path, sizeof(path), "/v1/orders/%s/capture", o3);
    ckt_resp r = ckt_http(&d, "POST", path, fkey, NULL, NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    ready(&d, &s1, CKT_ADMIN_KEY, x, c4, cs4);
    snprintf(path, sizeof(path), "/v1/checkouts/%s", cs4);
    r = ckt_http(&d, "DELETE", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/stores/%s/carts", s1.store);
    r = ckt_httpf(&d, "POST", path, bkey, "{\"accountId\":\"%s\"}", a);
    ckt_expect_status(&r, 201);
    snprintf(c5, sizeof(c5), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);

    /* ---- carts of a store */
    char p1[128], q[512];
    snprintf(p1, sizeof(p1), "/v1/stores/%s/carts", s1.store);
    const char *const all1[] = {c1, c2, c4, c5, NULL}, *const mine1[] = {c1, c2, c5, NULL};
    const char *const x1[] = {c4, NULL}, *const none[] = {NULL};
    expect_ids(&d, p1, CKT_ADMIN_KEY, all1);
    expect_ids(&d, p1, ikey, all1);
    expect_ids(&d, p1, bkey, mine1);
    json_t *items = get_items(&d, p1, bkey);
    json_t *cart = json_array_get(items, 0);
    assert_string_equal(ckt_str(cart, "status"), "Closed");
    assert_string_equal(ckt_str(cart, "accountId"), a);
    assert_int_equal(json_array_size(ckt_get(cart, "items")), 1);
    assert_int_equal(ckt_int(cart, "items.0.quantity"), 3);
    assert_int_equal(ckt_int(cart, "totals.subtotal"), 5997);
    assert_string_equal(ckt_str(json_array_get(items, 1), "status"), "Checkout");
    assert_string_equal(ckt_str(json_array_get(items, 2), "status"), "Active");
    json_decref(items);
    static char ids[MAX_IDS][64];
    assert_int_equal(walk(&d, p1, bkey, 1, ids), 3);
    expect_id_order(ids, 3);
    snprintf(q, sizeof(q), "/v1/stores/%s/carts?accountId=%s", s1.store, x);
    expect_ids(&d, q, CKT_ADMIN_KEY, x1);
    expect_get_error(&d, q, bkey, 404, "NOT_FOUND", "NOT_FOUND", NULL); /* not given X */
    snprintf(q, sizeof(q), "/v1/stores/%s/carts?accountId=%s", s1.store, a);
    expect_ids(&d, q, bkey, mine1);
    snprintf(q, sizeof(q), "/v1/stores/%s/carts", s2.store);
    expect_ids(&d, q, bkey, none);
    snprintf(q, sizeof(q), "/v1/stores/%s/carts?accountId=acct_01M80V5EQG4YHAXXJRNX68ZH9P", s1.store);
    expect_get_error(&d, q, CKT_ADMIN_KEY, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    expect_get_error(&d, q, bkey, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    snprintf(q, sizeof(q), "/v1/stores/%s/carts?accountId=nope", s1.store);
    expect_get_error(&d, q, CKT_ADMIN_KEY, 400, "BAD_REQUEST", "INVALID_FIELD", "accountId");
    expect_get_error(&d, "/v1/stores/store_01M80V5EQG4YHAXXJRNX68ZH9P/carts", bkey, 404, "NOT_FOUND", "NOT_FOUND",
                     NULL);
    expect_forbidden(&d, p1, fkey);
    expect_bad_tokens(&d, p1, bkey, "cart");

    /* ---- checkout sessions */
    const char *const all_cs[] = {cs1, cs2, cs3, cs4, NULL}, *const mine_cs[] = {cs1, cs2, NULL};
    expect_ids(&d, "/v1/checkouts", CKT_ADMIN_KEY, all_cs);
    expect_ids(&d, "/v1/checkouts", ikey, all_cs);
    expect_ids(&d, "/v1/checkouts", bkey, mine_cs);
    assert_int_equal(walk(&d, "/v1/checkouts", CKT_ADMIN_KEY, 3, ids), 4);
    expect_all_rows(&d, "checkout_sessions", "1 = 1", ids, 4);
    items = get_items(&d, "/v1/checkouts", bkey);
    json_t *sess = json_array_get(items, 0);
    assert_string_equal(ckt_str(sess, "cartId"), c1);
    assert_string_equal(ckt_str(sess, "state"), "Completed");
    assert_string_equal(ckt_str(sess, "orderId"), o1);
    assert_int_equal(ckt_int(sess, "totals.grandTotal"), TOTAL);
    assert_string_equal(ckt_str(json_array_get(items, 1), "state"), "Start");
    json_decref(items);
    snprintf(q, sizeof(q), "/v1/checkouts?storeId=%s", s1.store);
    const char *const store1_cs[] = {cs1, cs2, cs4, NULL};
    expect_ids(&d, q, CKT_ADMIN_KEY, store1_cs);
    snprintf(q, sizeof(q), "/v1/checkouts?storeId=%s", s2.store);
    const char *const store2_cs[] = {cs3, NULL};
    expect_ids(&d, q, CKT_ADMIN_KEY, store2_cs);
    expect_ids(&d, q, bkey, none);
    const char *const done_cs[] = {cs1, cs3, NULL}, *const my_done[] = {cs1, NULL};
    expect_ids(&d, "/v1/checkouts?state=Completed", CKT_ADMIN_KEY, done_cs);
    expect_ids(&d, "/v1/checkouts?state=Completed", bkey, my_done);
    char st4[64];
    ckt_db_text(&d, st4, sizeof(st4), "SELECT state FROM checkout_sessions WHERE id = '%s'", cs4);
    snprintf(q, sizeof(q), "/v1/checkouts?state=%s&storeId=%s&accountId=%s", st4, s1.store, x);
    const char *const x_cs[] = {cs4, NULL};
    expect_ids(&d, q, CKT_ADMIN_KEY, x_cs);
    items = get_items(&d, q, CKT_ADMIN_KEY);
    assert_true(json_is_true(ckt_get(json_array_get(items, 0), "isArchived")));
    json_decref(items);
    snprintf(q, sizeof(q), "/v1/checkouts?accountId=%s", x);
    expect_get_error(&d, q, bkey, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    snprintf(q, sizeof(q), "/v1/checkouts?accountId=%s&state=pricing", a);
    expect_ids(&d, q, bkey, none);
    expect_get_error(&d, "/v1/checkouts?state=Done", CKT_ADMIN_KEY, 400, "BAD_REQUEST", "INVALID_FIELD", "state");
    expect_get_error(&d, "/v1/checkouts?state=completed", CKT_ADMIN_KEY, 400, "BAD_REQUEST", "INVALID_FIELD",
                     "state");
    expect_get_error(&d, "/v1/checkouts?storeId=acct_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, 400,
                     "BAD_REQUEST", "INVALID_FIELD", "storeId");
    expect_get_error(&d, "/v1/checkouts?storeId=store_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, 404, "NOT_FOUND",
                     "NOT_FOUND", NULL);
    expect_get_error(&d, "/v1/checkouts?accountId=acct_01M80V5EQG4YHAXXJRNX68ZH9P", ikey, 404, "NOT_FOUND",
                     "NOT_FOUND", NULL);
    expect_forbidden(&d, "/v1/checkouts", fkey);
    expect_forbidden(&d, "/v1/checkouts", akey);
    expect_bad_tokens(&d, "/v1/checkouts", bkey, "cs");

    /* ---- payment holds */
    char h1[64], h3[64];
    ckt_db_text(&d, h1, sizeof(h1), "SELECT id FROM payment_authorizations WHERE session_id = '%s'", cs1);
    ckt_db_text(&d, h3, sizeof(h3), "SELECT id FROM payment_authorizations WHERE session_id = '%s'", cs3);
    const char *const all_h[] = {h1, h3, NULL}, *const h1_only[] = {h1, NULL}, *const h3_only[] = {h3, NULL};
    expect_ids(&d, "/v1/authorizations", CKT_ADMIN_KEY, all_h);
    expect_ids(&d, "/v1/authorizations", fkey, all_h);
    expect_ids(&d, "/v1/authorizations", ikey, all_h);
    expect_ids(&d, "/v1/authorizations", bkey, h1_only);
    expect_ids(&d, "/v1/authorizations", akey, h3_only); /* an approver given X */
    assert_int_equal(walk(&d, "/v1/authorizations", fkey, 1, ids), 2);
    items = get_items(&d, "/v1/authorizations", fkey);
    json_t *h = json_array_get(items, 0);
    assert_string_equal(ckt_str(h, "status"), "Authorized");
    assert_int_equal(ckt_int(h, "amount"), TOTAL);
    assert_int_equal(ckt_int(h, "capturedAmount"), 0);
    assert_string_equal(ckt_str(h, "orderId"), o1);
    assert_string_equal(ckt_str(h, "sessionId"), cs1);
    assert_string_equal(ckt_str(h, "storeId"), s1.store);
    assert_string_equal(ckt_str(h, "accountId"), a);
    assert_string_equal(ckt_str(h, "method"), "card");
    assert_true(strncmp(ckt_str(h, "gatewayAuthId"), "tgw_auth_", 9) == 0);
    const char *exp = ckt_str(h, "expiresAt");
    assert_int_equal(strlen(exp), 24);
    assert_true(strcmp(exp, ckt_str(h, "createdAt")) > 0);
    assert_int_equal(ckt_int(h, "voidedAmount"), 0);
    assert_int_equal(json_object_size(h), 14);
    h = json_array_get(items, 1);
    assert_string_equal(ckt_str(h, "status"), "Captured");
    assert_int_equal(ckt_int(h, "capturedAmount"), TOTAL);
    assert_string_equal(ckt_str(h, "orderId"), o3);
    json_decref(items);
    expect_ids(&d, "/v1/authorizations?status=Captured", CKT_ADMIN_KEY, h3_only);
    expect_ids(&d, "/v1/authorizations?status=Authorized", CKT_ADMIN_KEY, h1_only);
    expect_ids(&d, "/v1/authorizations?status=Voided", CKT_ADMIN_KEY, none);
    expect_ids(&d, "/v1/authorizations?status=Captured", bkey, none);
    snprintf(q, sizeof(q), "/v1/authorizations?storeId=%s", s2.store);
    expect_ids(&d, q, CKT_ADMIN_KEY, h3_only);
    snprintf(q, sizeof(q), "/v1/authorizations?storeId=%s&status=Authorized", s1.store);
    expect_ids(&d, q, fkey, h1_only);
    snprintf(q, sizeof(q), "/v1/authorizations?storeId=%s&status=Captured", s1.store);
    expect_ids(&d, q, fkey, none);
    expect_get_error(&d, "/v1/authorizations?status=authorized", CKT_ADMIN_KEY, 400, "BAD_REQUEST", "INVALID_FIELD",
                     "status");
    expect_get_error(&d, "/v1/authorizations?storeId=x", CKT_ADMIN_KEY, 400, "BAD_REQUEST", "INVALID_FIELD",
                     "storeId");
    expect_get_error(&d, "/v1/authorizations?storeId=store_01M80V5EQG4YHAXXJRNX68ZH9P", fkey, 404, "NOT_FOUND",
                     "NOT_FOUND", NULL);
    expect_bad_tokens(&d, "/v1/authorizations", fkey, "pa");
    r = ckt_http(&d, "GET", "/v1/authorizations", NULL, NULL, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    ckt_finish(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_tokens_of_older_lists),
        cmocka_unit_test(users_list),
        cmocka_unit_test(subscribers_list),
        cmocka_unit_test(setup_lists),
        cmocka_unit_test(buyer_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
