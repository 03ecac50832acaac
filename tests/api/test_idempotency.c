/* test_idempotency.c: Idempotency-Key on a long-running POST (place-order):
 * while the first request runs, the same key is 409 IDEMPOTENCY_KEY_IN_USE;
 * after it, the same key and body replay the first response with
 * Idempotent-Replayed: true and nothing runs twice; another body is 422. */
#include "api/fake_gateway.h"
#include "api/harness.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fx {
    ckt_daemon d;
    fake_gateway *gw;
    char store[64], shm[64], acct[64], buyer[64], bkey[128], prod[64], cart[64], sid[64];
    ckt_resp first;
} fx;

static fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_cleanup(&F.d);
    fgw_stop(F.gw);
    memset(&F, 0, sizeof(F));
    return 0;
}

static void post_ok(ckt_daemon *d, const char *path, const char *key, const char *body, long status, char *id_out)
{
    ckt_resp r = ckt_http(d, "POST", path, key, body, NULL);
    ckt_expect_status(&r, status);
    if (id_out)
        snprintf(id_out, 64, "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
}

/* A store on the fake gateway and one checkout ready to place. */
static void setup_checkout(fx *f)
{
    ckt_daemon *d = &f->d;
    char path[256], url[128], body[512];
    f->gw = fgw_start();
    assert_non_null(f->gw);
    ckt_start(d, NULL, NULL);
    fgw_url(f->gw, url, sizeof(url));
    ckt_shop_setup(d, url, f->store, f->shm, f->acct, f->buyer, f->bkey);
    ckt_product(d, f->store, NULL, f->prod);
    ckt_resp r;
    snprintf(path, sizeof(path), "/v1/stores/%s/carts", f->store);
    snprintf(body, sizeof(body), "{\"accountId\":\"%s\"}", f->acct);
    post_ok(d, path, f->bkey, body, 201, f->cart);
    snprintf(path, sizeof(path), "/v1/carts/%s/items", f->cart);
    snprintf(body, sizeof(body), "{\"productId\":\"%s\",\"quantity\":2}", f->prod);
    post_ok(d, path, f->bkey, body, 201, NULL);
    r = ckt_httpf(d, "POST", "/v1/checkouts", f->bkey, "{\"cartId\":\"%s\"}", f->cart);
    ckt_expect_status(&r, 201);
    snprintf(f->sid, sizeof(f->sid), "%s", ckt_str(r.json, "session.id"));
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/checkouts/%s", f->sid);
    r = ckt_httpf(d, "PATCH", path, f->bkey,
                  "{\"shippingAddress\":{\"name\":\"A\",\"street\":\"1 Main\",\"city\":\"X\",\"postalCode\":\"1\","
                  "\"country\":\"US\"},\"shippingMethodId\":\"%s\",\"payment\":{\"method\":\"card\",\"cardToken\":\"tok_visa\"}}",
                  f->shm);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
}

static const char *const key_header[] = {"Idempotency-Key: place-1", NULL};

static void *place_first(void *arg)
{
    fx *f = arg;
    char path[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", f->sid);
    f->first = ckt_http(&f->d, "POST", path, f->bkey, NULL, key_header);
    return NULL;
}

static void key_in_use_then_replayed(void **state)
{
    (void)state;
    fx *f = &F;
    setup_checkout(f);
    fgw_set_delay_ms(f->gw, 1500); /* the first placement waits on the gateway */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, place_first, f), 0);
    /* Wait until the first request has reached the gateway. */
    for (int i = 0; i < 200 && fgw_authorize_calls(f->gw) == 0; i++)
        usleep(10000);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);

    char path[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", f->sid);
    ckt_resp r = ckt_http(&f->d, "POST", path, f->bkey, NULL, key_header);
    ckt_expect_error(&r, 409, "CONFLICT", "IDEMPOTENCY_KEY_IN_USE", "Idempotency-Key");
    ckt_free(&r);
    pthread_join(t, NULL);
    ckt_expect_status(&f->first, 201);
    char order[64], hv[16];
    snprintf(order, sizeof(order), "%s", ckt_str(f->first.json, "orderId"));
    assert_int_equal(ckt_header(&f->first, "Idempotent-Replayed", hv, sizeof(hv)), 0);

    /* The same key and body now replay the first answer; nothing runs again. */
    r = ckt_http(&f->d, "POST", path, f->bkey, NULL, key_header);
    ckt_expect_status(&r, 201);
    assert_string_equal(r.body, f->first.body);
    assert_int_equal(ckt_header(&r, "Idempotent-Replayed", hv, sizeof(hv)), 1);
    assert_string_equal(hv, "true");
    ckt_free(&r);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders"), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM checkout_requests WHERE kind = 'PlaceOrder'"), 1);

    /* The same key with another body is 422; another user's same key is theirs. */
    r = ckt_http(&f->d, "POST", path, f->bkey, "{\"x\":1}", key_header);
    ckt_expect_error(&r, 422, "BAD_REQUEST", "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key");
    ckt_free(&r);
    r = ckt_http(&f->d, "POST", path, CKT_ADMIN_KEY, NULL, key_header);
    ckt_expect_status(&r, 200); /* the admin's own first use: a replay of the completed session */
    assert_string_equal(ckt_str(r.json, "orderId"), order);
    assert_int_equal(ckt_header(&r, "Idempotent-Replayed", hv, sizeof(hv)), 0);
    ckt_free(&r);
    ckt_free(&f->first);
    ckt_finish(&f->d);
}

/* A 5xx is not stored: retrying with the same key runs again (and resumes). */
static void server_error_is_not_replayed(void **state)
{
    (void)state;
    fx *f = &F;
    setup_checkout(f);
    fgw_fail_next(f->gw, 1); /* the gateway answers 500 once: PAYMENT_GATEWAY_ERROR */
    char path[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", f->sid);
    ckt_resp r = ckt_http(&f->d, "POST", path, f->bkey, NULL, key_header);
    ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "PAYMENT_GATEWAY_ERROR", NULL);
    ckt_free(&r);
    r = ckt_http(&f->d, "POST", path, f->bkey, NULL, key_header);
    ckt_expect_status(&r, 201);
    char hv[16];
    assert_int_equal(ckt_header(&r, "Idempotent-Replayed", hv, sizeof(hv)), 0);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders"), 1);
    ckt_finish(&f->d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(key_in_use_then_replayed, teardown),
        cmocka_unit_test_teardown(server_error_is_not_replayed, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
