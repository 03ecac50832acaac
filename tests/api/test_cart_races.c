/* test_cart_races.c: writes that race a commit held open by the test. An
 * item write and a cart's move to Checkout (API.md "Carts": a cart in
 * Checkout answers item edits 409 CART_NOT_EDITABLE); and a product PATCH
 * and an order's stock decrement (the PATCH writes every field, so it must
 * read after the decrement, never put the old stock back).
 * The item write checks the status in its own transaction, by holding the
 * cart row while it is Active. On PostgreSQL the test makes the race happen
 * for certain: its own transaction moves the cart to Checkout and holds the
 * row, the daemon's item write is seen waiting on that lock
 * (pg_stat_activity), then the test commits; the write must then find the
 * cart in Checkout. On SQLite write transactions are serial (BEGIN
 * IMMEDIATE), so the same steps run one after the other. */
#include "api/harness.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static ckt_daemon D;

static int teardown(void **state)
{
    (void)state;
    ckt_cleanup(&D);
    memset(&D, 0, sizeof(D));
    return 0;
}

typedef struct add_call {
    ckt_daemon *d;
    const char *key, *cart, *prod;
    ckt_resp r;
} add_call;

static void *add_item(void *arg)
{
    add_call *a = arg;
    char path[1024];
    snprintf(path, sizeof(path), "/v1/carts/%s/items", a->cart);
    a->r = ckt_httpf(a->d, "POST", path, a->key, "{\"productId\":\"%s\",\"quantity\":2}", a->prod);
    return NULL;
}

static void pg_ok(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("'%s': %s", sql, PQerrorMessage(c));
    PQclear(res);
}

/* 1 once a backend of the daemon's database waits on a lock. */
static int daemon_waits(PGconn *c, const char *dbname)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND wait_event_type = 'Lock'", dbname);
    PGresult *res = PQexec(c, sql);
    int n = PQresultStatus(res) == PGRES_TUPLES_OK ? atoi(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return n > 0;
}

/* Runs sql in a commit of the test's own, racing call(arg) against it. On
 * PostgreSQL the commit is held open until the daemon is seen waiting on a
 * lock (pg_stat_activity), and only then committed, while call runs on a
 * thread: the race happens for certain. On SQLite, whose write
 * transactions are serial, the commit comes first, then the call. */
static void race_held_commit(ckt_daemon *d, const char *sql, void *(*call)(void *), void *arg)
{
    if (!d->pg) {
        ckt_db_exec(d, "%s", sql);
        call(arg);
        return;
    }
    PGconn *c = PQconnectdb(d->pg_url), *watch = PQconnectdb(d->pg_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    assert_int_equal(PQstatus(watch), CONNECTION_OK);
    pg_ok(c, "BEGIN");
    pg_ok(c, sql);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call, arg), 0);
    int waited = 0;
    for (int i = 0; i < 1000 && !(waited = daemon_waits(watch, d->pg_db)); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pg_ok(c, "COMMIT");
    pthread_join(t, NULL);
    /* The daemon's write had reached the row before the commit. */
    assert_true(waited);
    PQfinish(c);
    PQfinish(watch);
}

static void item_write_loses_to_checkout(void **state)
{
    (void)state;
    ckt_daemon *d = &D;
    ckt_start(d, NULL, NULL);
    char store[64], shm[64], acct[64], buyer[64], bkey[128], p1[64], p2[64], cart[64], path[1024];
    ckt_shop_setup(d, NULL, store, shm, acct, buyer, bkey);
    ckt_product(d, store, NULL, p1);
    ckt_product(d, store,
                "{\"sku\":\"SECOND\",\"name\":\"Second\",\"unitPrice\":500,\"stock\":10,\"weightGrams\":100}", p2);
    snprintf(path, sizeof(path), "/v1/stores/%s/carts", store);
    ckt_resp r = ckt_httpf(d, "POST", path, bkey, "{\"accountId\":\"%s\"}", acct);
    ckt_expect_status(&r, 201);
    snprintf(cart, sizeof(cart), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/carts/%s/items", cart);
    r = ckt_httpf(d, "POST", path, bkey, "{\"productId\":\"%s\",\"quantity\":1}", p1);
    ckt_expect_status(&r, 201);
    ckt_free(&r);

    add_call a = {.d = d, .key = bkey, .cart = cart, .prod = p2};
    /* The session action's commit moves the cart to Checkout. */
    char sql[1024];
    snprintf(sql, sizeof(sql), "UPDATE carts SET status = 'Checkout' WHERE id = '%s' AND status = 'Active'", cart);
    race_held_commit(d, sql, add_item, &a);
    ckt_expect_error(&a.r, 409, "CONFLICT", "CART_NOT_EDITABLE", NULL);
    ckt_free(&a.r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM cart_items WHERE cart_id = '%s'", cart), 1);
    /* Back to Active, the same write goes through. */
    ckt_db_exec(d, "UPDATE carts SET status = 'Active' WHERE id = '%s'", cart);
    add_item(&a);
    ckt_expect_status(&a.r, 201);
    ckt_free(&a.r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM cart_items WHERE cart_id = '%s'", cart), 2);
    ckt_finish(d);
}

typedef struct patch_call {
    ckt_daemon *d;
    const char *path;
    ckt_resp r;
} patch_call;

static void *patch_name(void *arg)
{
    patch_call *p = arg;
    p->r = ckt_http(p->d, "PATCH", p->path, CKT_ADMIN_KEY, "{\"name\":\"Renamed\"}", NULL);
    return NULL;
}

/* A PATCH of a product's name while an order's commit takes 3 of its stock
 * (the test's own transaction, with create_order's statement): the PATCH
 * waits for the row, then reads the new stock, and its write keeps it. A
 * PATCH that read before the lock would write 100 back: 3 units sold twice. */
static void product_patch_keeps_stock_taken(void **state)
{
    (void)state;
    ckt_daemon *d = &D;
    ckt_start(d, NULL, NULL);
    char store[64], prod[64], path[256];
    ckt_store(d, store);
    ckt_product(d, store, NULL, prod); /* stock 100 */
    snprintf(path, sizeof(path), "/v1/products/%s", prod);
    patch_call p = {.d = d, .path = path};
    char sql[512];
    snprintf(sql, sizeof(sql), "UPDATE products SET stock = stock - 3 WHERE id = '%s' AND stock >= 3", prod);
    race_held_commit(d, sql, patch_name, &p);
    ckt_expect_status(&p.r, 200);
    assert_string_equal(ckt_str(p.r.json, "name"), "Renamed");
    assert_int_equal(ckt_int(p.r.json, "stock"), 97);
    ckt_free(&p.r);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", prod), 97);
    ckt_finish(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(item_write_loses_to_checkout, teardown),
        cmocka_unit_test_teardown(product_patch_keeps_stock_taken, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
