/* fixtures.c: the shared checkout fixture of fixtures.h. */
#include "api/fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void acme_account(ckt_daemon *d, long long credit_limit, long long prepaid, char out[64])
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"name\":\"Acme\",\"isBuyer\":true,\"creditLimit\":%lld,\"prepaidBalance\":%lld,"
             "\"hazmatApproved\":false,\"country\":\"US\"}",
             credit_limit, prepaid);
    ckt_account(d, body, out);
}

static void buyer_user(ckt_fx *f, const ckt_fx_opts *o)
{
    if (!o->buyer_email) {
        ckt_user(&f->d, "[\"buyer\"]", f->buyer, f->bkey);
        return;
    }
    ckt_resp r = ckt_httpf(&f->d, "POST", "/v1/users", CKT_ADMIN_KEY,
                           "{\"name\":\"%s\",\"email\":\"%s\",\"permissions\":[\"buyer\"]}",
                           o->buyer_name ? o->buyer_name : "Test User", o->buyer_email);
    ckt_expect_status(&r, 201);
    snprintf(f->buyer, sizeof(f->buyer), "%s", ckt_str(r.json, "id"));
    snprintf(f->bkey, sizeof(f->bkey), "%s", ckt_str(r.json, "apiKey"));
    ckt_free(&r);
}

void ckt_fx_setup(ckt_fx *f, const ckt_fx_opts *o)
{
    static const ckt_fx_opts defaults;
    if (!o)
        o = &defaults;
    memset(f, 0, sizeof(*f));
    if (o->fake_gateway) {
        f->gw = fgw_start();
        assert_non_null(f->gw);
    }
    ckt_start(&f->d, o->faults, o->extra);
    ckt_daemon *d = &f->d;
    ckt_store(d, f->store);
    if (f->gw) {
        char url[128];
        fgw_url(f->gw, url, sizeof(url));
        ckt_store_gateway(d, f->store, url);
    }
    if (!o->no_shipping_tax)
        ckt_store_shipping_tax(d, f->store, f->shm);
    if (o->balances)
        acme_account(d, o->credit_limit, o->prepaid, f->acct);
    else
        ckt_account(d, NULL, f->acct);
    ckt_member(d, f->store, f->acct);
    buyer_user(f, o);
    ckt_give_account(d, f->buyer, f->acct);
    if (o->sku_prefix) {
        snprintf(f->sku, sizeof(f->sku), "%s-%ld", o->sku_prefix, (long)getpid());
        ckt_product_spec p = {.sku = f->sku, .stock = o->stock};
        ckt_fx_product(f, &p, f->prod);
    } else if (o->default_product) {
        ckt_product(d, f->store, NULL, f->prod);
    }
}

void ckt_fx_cleanup(ckt_fx *f)
{
    ckt_cleanup(&f->d);
    fgw_stop(f->gw);
    memset(f, 0, sizeof(*f));
}

void ckt_fx_finish(ckt_fx *f)
{
    ckt_finish(&f->d);
    memset(&f->d, 0, sizeof(f->d));
}

void ckt_fx_account(ckt_fx *f, long long credit_limit, long long prepaid, char out[64])
{
    acme_account(&f->d, credit_limit, prepaid, out);
    ckt_member(&f->d, f->store, out);
    ckt_give_account(&f->d, f->buyer, out);
}

void ckt_fx_product(ckt_fx *f, const ckt_product_spec *p, char out[64])
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"sku\":\"%s\",\"name\":\"Widget\",\"unitPrice\":%lld,\"stock\":%lld,\"minQuantity\":%lld,"
             "\"priceTiers\":%s,\"hazmat\":%s,\"exportControlled\":%s,\"weightGrams\":500,\"active\":true}",
             p->sku, p->price ? p->price : 1999, p->stock, p->min_qty ? p->min_qty : 1, p->tiers ? p->tiers : "[]",
             p->hazmat ? "true" : "false", p->export_controlled ? "true" : "false");
    ckt_product(&f->d, f->store, body, out);
}

void ckt_fx_session(ckt_fx *f, const char *prod, int qty, const char *addr_json, const char *pay_json, char sid[64],
                    char cart[64])
{
    ckt_session_ready(&f->d, f->bkey, f->store, f->acct, prod, qty, addr_json, f->shm, pay_json, sid, cart);
}

ckt_resp ckt_place_as(ckt_daemon *d, const char *key, const char *sid, int async)
{
    static const char *const async_hdr[] = {"Prefer: respond-async", NULL};
    char path[256];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", sid);
    return ckt_http(d, "POST", path, key, NULL, async ? async_hdr : NULL);
}

ckt_resp ckt_place(ckt_fx *f, const char *sid)
{
    return ckt_place_as(&f->d, f->bkey, sid, 0);
}

void ckt_place_ok(ckt_fx *f, const char *sid, long long grand_total, char out[64])
{
    ckt_resp r = ckt_place(f, sid);
    ckt_expect_status(&r, 201);
    if (grand_total >= 0)
        assert_int_equal(ckt_int(r.json, "order.totals.grandTotal"), grand_total);
    if (out)
        snprintf(out, 64, "%s", ckt_str(r.json, "orderId"));
    ckt_free(&r);
}

void ckt_expect_step_error(const ckt_resp *r, long status, const char *reason, const char *step)
{
    ckt_expect_error(r, status, status == 400 ? "BAD_REQUEST" : "UNKNOWN_EXCEPTION", reason, NULL);
    const char *s = json_string_value(ckt_get(r->json, "0.step"));
    if (!s || strcmp(s, step))
        fprintf(stderr, "expected step %s: %s\n", step, r->body);
    assert_non_null(s);
    assert_string_equal(s, step);
}

void ckt_place_fails(ckt_fx *f, const char *sid, long status, const char *reason, const char *step)
{
    ckt_resp r = ckt_place(f, sid);
    ckt_expect_step_error(&r, status, reason, step);
    ckt_free(&r);
}

void ckt_expect_keys(json_t *obj, const char *const keys[])
{
    if (!json_is_object(obj)) {
        char *s = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(stderr, "not an object: %s\n", s ? s : "(null)");
        free(s);
    }
    assert_true(json_is_object(obj));
    size_t n = 0;
    for (; keys[n]; n++) {
        if (!json_object_get(obj, keys[n])) {
            char *s = json_dumps(obj, JSON_COMPACT);
            fprintf(stderr, "key '%s' missing in %s\n", keys[n], s ? s : "?");
            free(s);
        }
        assert_non_null(json_object_get(obj, keys[n]));
    }
    if (json_object_size(obj) != n) {
        char *s = json_dumps(obj, JSON_COMPACT);
        fprintf(stderr, "expected exactly %zu keys in %s\n", n, s ? s : "?");
        free(s);
    }
    assert_int_equal(json_object_size(obj), n);
}

void ckt_expect_time_str(const char *s)
{
    assert_non_null(s);
    size_t n = strlen(s);
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[n - 1] != 'Z')
        fprintf(stderr, "not an RFC 3339 UTC time: '%s'\n", s);
    assert_true(n >= 20);
    assert_true(s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':');
    assert_true(s[n - 1] == 'Z');
}

void ckt_expect_time(json_t *j, const char *path)
{
    ckt_expect_time_str(ckt_str(j, path));
}

void ckt_expect_time_ms(json_t *j, const char *path)
{
    const char *s = ckt_str(j, path);
    ckt_expect_time_str(s);
    assert_int_equal(strlen(s), 24);
}

void ckt_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long ckt_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

long long ckt_now_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

void ckt_fx_install_flow(ckt_fx *f, const char *store, json_t *steps, char out[64])
{
    ckt_daemon *d = &f->d;
    ckt_resp r = ckt_httpf(d, "POST", "/v1/flows/flow_standard/clone", CKT_ADMIN_KEY, "{\"storeId\":\"%s\"}", store);
    ckt_expect_status(&r, 201);
    snprintf(out, 64, "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
    json_t *body = json_pack("{s:o}", "steps", steps);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char path[128];
    snprintf(path, sizeof(path), "/v1/flows/%s", out);
    r = ckt_http(d, "PUT", path, CKT_ADMIN_KEY, text, NULL);
    free(text);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "version"), 2);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/flows/%s/activate", out);
    r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, "{}", NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "status"), "Active");
    ckt_free(&r);
}
