/* test_place_concurrency.c: place-order under concurrency (API.md "Checkout
 * session and the checkout transaction"; ARCHITECTURE.md "The flow engine",
 * "Concurrency model"). Many placements of one session make one order and
 * one hold (the lease); placements of several sessions racing for the last
 * unit make one order, never negative stock, and void the losers' holds;
 * reads of the session while it is being placed never fail. Requests in the
 * worker threads use a local libcurl helper that records instead of
 * asserting (cmocka's asserts must stay on the main thread). */
#include "api/fixtures.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ADDRESS                                                                                             \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\","  \
    "\"country\":\"US\"}"
#define MAX_SESSIONS 8

/* ---------------------------------------------------------------- helpers */

typedef struct fx {
    CKT_FX_BASE;
    int n;
    char cart[MAX_SESSIONS][64], sid[MAX_SESSIONS][64];
} fx;

static fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F.base);
    memset(&F, 0, sizeof(F));
    return 0;
}

/* One request's outcome, recorded by a worker thread. */
typedef struct outcome {
    CURLcode cc;
    long status;
    char order_id[64], error_code[64], reason[64], step[64];
    char body[512];
} outcome;

static void copy_str(char *out, size_t n, json_t *v)
{
    snprintf(out, n, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* A request that never asserts: safe on any thread. */
static void raw_http(ckt_daemon *d, const char *method, const char *path, const char *key, outcome *o)
{
    memset(o, 0, sizeof(*o));
    char *body = NULL;
    CURL *c = curl_easy_init();
    if (!c) {
        o->cc = CURLE_FAILED_INIT;
        return;
    }
    char url[1024], auth[512];
    snprintf(url, sizeof(url), "%s%s", d->base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ckt_curl_text);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    o->cc = curl_easy_perform(c);
    if (o->cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &o->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    snprintf(o->body, sizeof(o->body), "%s", body ? body : "");
    json_t *j = body ? json_loads(body, JSON_DECODE_ANY, NULL) : NULL;
    free(body);
    if (json_is_object(j)) {
        copy_str(o->order_id, sizeof(o->order_id), json_object_get(j, "orderId"));
    } else if (json_is_array(j)) {
        json_t *e = json_array_get(j, 0);
        copy_str(o->error_code, sizeof(o->error_code), json_object_get(e, "errorCode"));
        copy_str(o->reason, sizeof(o->reason), json_object_get(e, "reason"));
        copy_str(o->step, sizeof(o->step), json_object_get(e, "step"));
    }
    json_decref(j);
}

/* The store (on the fake gateway), Ground shipping, US tax, a buyer account
 * and a buyer given it, a product with this stock, and n carts of the
 * account with qty units each, each with its session ready to place. extra:
 * more daemon arguments or NULL. */
static void fx_setup(fx *f, int stock, int n, int qty, const char *const *extra)
{
    memset(f, 0, sizeof(*f));
    assert_true(n >= 1 && n <= MAX_SESSIONS);
    f->n = n;
    ckt_fx_opts o = {.extra = extra, .fake_gateway = 1, .sku_prefix = "SKU-RACE", .stock = stock};
    ckt_fx_setup(&f->base, &o);
    for (int i = 0; i < n; i++)
        ckt_fx_session(&f->base, f->prod, qty, ADDRESS, "{\"method\":\"card\",\"cardToken\":\"tok_visa\"}",
                       f->sid[i], f->cart[i]);
}

static int64_t stock_of(fx *f)
{
    return ckt_db_int(&f->d, "SELECT stock FROM products WHERE id = '%s'", f->prod);
}

/* ------------------------------------------------------------------ tests */

#define SAME_SESSION 20

typedef struct same_race {
    fx *f;
    outcome o[SAME_SESSION];
} same_race;

static void place_same(void *arg, int i)
{
    same_race *x = arg;
    char path[256];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", x->f->sid[0]);
    raw_http(&x->f->d, "POST", path, x->f->bkey, &x->o[i]);
}

/* 20 placements of one ready session at once: one 201; every other call is
 * a 200 replay of the same order or CART_ALREADY_IN_PROGRESS; one order,
 * one authorization, one hold, one gateway call. */
static void twenty_placements_one_order(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, 100, 1, 3, NULL);
    /* A slow gateway keeps the winner's lease held while the others arrive. */
    fgw_set_delay_ms(f->gw, 150);
    same_race *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    x->f = f;
    ckt_parallel(SAME_SESSION, place_same, x);
    int created = 0, replayed = 0, busy = 0;
    char order[64] = "";
    for (int i = 0; i < SAME_SESSION; i++) {
        outcome *o = &x->o[i];
        if (o->cc != CURLE_OK)
            fprintf(stderr, "placement %d: %s\n", i, curl_easy_strerror(o->cc));
        assert_int_equal(o->cc, CURLE_OK);
        if (o->status == 201) {
            created++;
            snprintf(order, sizeof(order), "%s", o->order_id);
        } else if (o->status == 200) {
            replayed++;
        } else if (o->status == 400 && strcmp(o->error_code, "BAD_REQUEST") == 0 &&
                   strcmp(o->reason, "CART_ALREADY_IN_PROGRESS") == 0) {
            busy++;
        } else {
            fail_msg("placement %d: unexpected HTTP %ld %s", i, o->status, o->body);
        }
    }
    if (created != 1)
        fprintf(stderr, "created %d, replayed %d, in progress %d\n", created, replayed, busy);
    assert_int_equal(created, 1);
    assert_int_equal(created + replayed + busy, SAME_SESSION);
    assert_true(strncmp(order, "ord_", 4) == 0);
    for (int i = 0; i < SAME_SESSION; i++)
        if (x->o[i].status == 200)
            assert_string_equal(x->o[i].order_id, order);
    free(x);

    ckt_daemon *d = &f->d;
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE id = '%s' AND session_id = '%s'", order,
                                f->sid[0]),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE status = 'Authorized'"
                                   " AND order_id = '%s'",
                                order),
                     1);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    assert_int_equal(stock_of(f), 97);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM outbox_events WHERE type = 'OrderCreated'"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE lease_owner IS NOT NULL"), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Closed'", f->cart[0]),
                     1);
    ckt_finish(d);
}

#define LAST_UNIT 6

typedef struct unit_race {
    fx *f;
    outcome o[LAST_UNIT];
} unit_race;

static void place_own(void *arg, int i)
{
    unit_race *x = arg;
    char path[256];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", x->f->sid[i]);
    raw_http(&x->f->d, "POST", path, x->f->bkey, &x->o[i]);
}

/* Six sessions (six carts of one account, one unit each) race for a product
 * with one unit in stock: one order; the five others fail
 * INSUFFICIENT_INVENTORY at validate_cart or create_order; stock ends at 0;
 * a loser that got past payment has its authorization voided. */
static void last_unit_one_winner(void **state)
{
    (void)state;
    fx *f = &F;
    /* Enough workers for every placement to run at once, and a slow gateway:
     * most runs pass validate_cart and payment before the first order
     * commits, so the create_order re-check and the void are exercised. */
    static const char *const workers[] = {"--workers", "12", NULL};
    fx_setup(f, 1, LAST_UNIT, 1, workers);
    fgw_set_delay_ms(f->gw, 200);
    unit_race *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    x->f = f;
    ckt_parallel(LAST_UNIT, place_own, x);
    ckt_daemon *d = &f->d;
    int created = 0, at_validate = 0, at_create = 0, winner = -1;
    for (int i = 0; i < LAST_UNIT; i++) {
        outcome *o = &x->o[i];
        if (o->cc != CURLE_OK)
            fprintf(stderr, "placement %d: %s\n", i, curl_easy_strerror(o->cc));
        assert_int_equal(o->cc, CURLE_OK);
        if (o->status == 201) {
            created++;
            winner = i;
            continue;
        }
        if (o->status != 400 || strcmp(o->error_code, "BAD_REQUEST") || strcmp(o->reason, "INSUFFICIENT_INVENTORY"))
            fail_msg("placement %d: expected 400 INSUFFICIENT_INVENTORY, got HTTP %ld %s", i, o->status, o->body);
        if (strcmp(o->step, "validate_cart") == 0) {
            at_validate++;
            /* Failed before payment: no authorization at all. */
            assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'",
                                        f->sid[i]),
                             0);
        } else if (strcmp(o->step, "create_order") == 0) {
            at_create++;
            /* Got past payment: its one authorization is voided. */
            assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'",
                                        f->sid[i]),
                             1);
            assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                           " AND status = 'Voided'",
                                        f->sid[i]),
                             1);
        } else {
            fail_msg("placement %d failed at step '%s': %s", i, o->step, o->body);
        }
        /* The loser's session is in error, its cart still in Checkout with an Inventory CVO. */
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s' AND is_error = 1"
                                       " AND order_id IS NULL AND lease_owner IS NULL",
                                    f->sid[i]),
                         1);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Checkout'",
                                    f->cart[i]),
                         1);
        assert_true(ckt_db_int(d, "SELECT count(*) FROM cart_validation_outputs WHERE cart_id = '%s'"
                                  " AND type = 'Inventory' AND level = 'Error'",
                               f->cart[i]) >= 1);
    }
    fprintf(stderr, "last unit: %d created, %d lost at validate_cart, %d at create_order\n", created, at_validate,
            at_create);
    assert_int_equal(created, 1);
    assert_int_equal(at_validate + at_create, LAST_UNIT - 1);
    char order[64];
    snprintf(order, sizeof(order), "%s", x->o[winner].order_id);
    free(x);

    assert_int_equal(stock_of(f), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM products WHERE stock < 0"), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE id = '%s' AND session_id = '%s'", order,
                                f->sid[winner]),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE status = 'Authorized'"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE status = 'Authorized'"
                                   " AND session_id = '%s' AND order_id = '%s'",
                                f->sid[winner], order),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE status = 'Voided'"), at_create);
    assert_int_equal(fgw_holds(f->gw), 1 + at_create);
    assert_int_equal(fgw_voids(f->gw), at_create);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM outbox_events WHERE type = 'OrderCreated'"), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM outbox_events WHERE type = 'CheckoutFailed'"),
                     LAST_UNIT - 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Closed'",
                                f->cart[winner]),
                     1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE lease_owner IS NOT NULL"), 0);
    ckt_finish(d);
}

#define READERS 50
#define MAX_READS 40

typedef struct read_race {
    fx *f;
    outcome placed;
    volatile int done;
    int reads[READERS + 1];
    long bad_status[READERS + 1];
    CURLcode bad_cc[READERS + 1];
    char bad_body[READERS + 1][512];
} read_race;

/* Thread 0 places the order; threads 1..50 read the session until it is
 * placed (at least once each). */
static void place_or_read(void *arg, int i)
{
    read_race *x = arg;
    char path[256];
    if (i == 0) {
        snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", x->f->sid[0]);
        raw_http(&x->f->d, "POST", path, x->f->bkey, &x->placed);
        __atomic_store_n(&x->done, 1, __ATOMIC_SEQ_CST);
        return;
    }
    snprintf(path, sizeof(path), "/v1/checkouts/%s", x->f->sid[0]);
    do {
        outcome o;
        raw_http(&x->f->d, "GET", path, x->f->bkey, &o);
        x->reads[i]++;
        if (o.cc != CURLE_OK || o.status != 200) {
            x->bad_cc[i] = o.cc;
            x->bad_status[i] = o.status;
            snprintf(x->bad_body[i], sizeof(x->bad_body[i]), "%s", o.body);
            return;
        }
    } while (!__atomic_load_n(&x->done, __ATOMIC_SEQ_CST) && x->reads[i] < MAX_READS);
}

/* 50 readers of the session while it is placed: every read is a 200 (no
 * 500 from a busy database), and the placement succeeds. */
static void reads_while_placing(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, 100, 1, 3, NULL);
    fgw_set_delay_ms(f->gw, 300);
    read_race *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    x->f = f;
    ckt_parallel(READERS + 1, place_or_read, x);
    int total = 0;
    for (int i = 1; i <= READERS; i++) {
        if (x->bad_cc[i] != CURLE_OK || x->bad_status[i] != 0)
            fprintf(stderr, "reader %d: %s, HTTP %ld %s\n", i, curl_easy_strerror(x->bad_cc[i]), x->bad_status[i],
                    x->bad_body[i]);
        assert_int_equal(x->bad_cc[i], CURLE_OK);
        assert_int_equal(x->bad_status[i], 0);
        assert_true(x->reads[i] >= 1);
        total += x->reads[i];
    }
    assert_true(total >= READERS);
    assert_int_equal(x->placed.cc, CURLE_OK);
    if (x->placed.status != 201)
        fprintf(stderr, "placement: HTTP %ld %s\n", x->placed.status, x->placed.body);
    assert_int_equal(x->placed.status, 201);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders WHERE id = '%s'", x->placed.order_id), 1);
    free(x);
    ckt_finish(&f->d);
}

/* A GET with a short deadline: what the API answers while placements wait
 * on a slow gateway. */
static void quick_get(ckt_daemon *d, const char *path, const char *key, long *status, CURLcode *cc, char **body)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[512], auth[256];
    snprintf(url, sizeof(url), "%s%s", d->base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ckt_curl_text);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    *status = 0;
    *cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

typedef struct slow_place {
    fx *f;
    int i;
    outcome o;
} slow_place;

static void *place_slow(void *arg)
{
    slow_place *p = arg;
    char path[256];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", p->f->sid[p->i]);
    raw_http(&p->f->d, "POST", path, p->f->bkey, &p->o);
    return NULL;
}

/* Issue 17, Found 7: with one HTTP worker, two placements waiting 4 s on
 * the gateway hold no HTTP worker (they run on the outbound workers), so
 * /healthz, a read of a session and /metrics are answered within 2 s while
 * they wait; then both are placed. Without the outbound pool the one HTTP
 * worker is in a gateway call and these reads wait for it. */
static void slow_gateway_keeps_api_up(void **state)
{
    (void)state;
    fx *f = &F;
    static const char *const extra[] = {"--workers", "1", "--outbound-workers", "4", NULL};
    fx_setup(f, 100, 2, 1, extra);
    fgw_set_delay_ms(f->gw, 4000);
    static slow_place x[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        x[i] = (slow_place){.f = f, .i = i};
        assert_int_equal(pthread_create(&t[i], NULL, place_slow, &x[i]), 0);
    }
    /* Both authorizations reached the gateway (bounded wait, not a sleep). */
    for (int i = 0; i < 1000 && fgw_authorize_calls(f->gw) < 2; i++)
        usleep(10 * 1000);
    assert_int_equal(fgw_authorize_calls(f->gw), 2);
    char path[600];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", f->sid[0]);
    const char *paths[] = {"/healthz", path, "/metrics"};
    const char *keys[] = {f->bkey, f->bkey, CKT_ADMIN_KEY};
    for (int i = 0; i < 3; i++) {
        long status = 0;
        CURLcode cc;
        char *body = NULL;
        quick_get(&f->d, paths[i], keys[i], &status, &cc, &body);
        if (cc != CURLE_OK || status != 200)
            fail_msg("GET %s while the gateway is slow: %s, HTTP %ld", paths[i], curl_easy_strerror(cc), status);
        if (i == 2 && !strstr(body, "checkoutd_outbound_workers_busy 2\n"))
            fail_msg("the two placements are not on outbound workers:\n%s", body);
        free(body);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
        if (x[i].o.status != 201)
            fprintf(stderr, "placement %d: HTTP %ld %s\n", i, x[i].o.status, x[i].o.body);
        assert_int_equal(x[i].o.status, 201);
    }
    ckt_finish(&f->d);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(twenty_placements_one_order, teardown),
        cmocka_unit_test_teardown(last_unit_one_winner, teardown),
        cmocka_unit_test_teardown(reads_while_placing, teardown),
        cmocka_unit_test_teardown(slow_gateway_keeps_api_up, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
