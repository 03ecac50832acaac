/* test_lists.c: the list convention of API.md ("Conventions", "Setup
 * resources"): {"items","nextPageToken"}, ?limit= (default 50, max 500),
 * oldest first, every item once across pages, and 400 INVALID_PAGE_TOKEN
 * for a pageToken the API did not give. */
#include "api/harness.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_tokens_of_older_lists),
        cmocka_unit_test(users_list),
        cmocka_unit_test(subscribers_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
