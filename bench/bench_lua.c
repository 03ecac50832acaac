/* bench_lua.c: calls per second and microseconds per call of ck_lua_check
 * for a small check(cart) over a 3-item cart, with a fresh state per call
 * and with the calling thread's pooled state, from 1 and from T threads.
 * Usage: bench_lua [calls per thread] [threads]. It measures; it asserts
 * nothing about time. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "flows/lua.h"

static const char CART[] =
    "{\"items\":[{\"sku\":\"A-1\",\"quantity\":2,\"salesPrice\":12500,\"adjustment\":-500},"
    "{\"sku\":\"B-2\",\"quantity\":1,\"salesPrice\":99900,\"adjustment\":0},"
    "{\"sku\":\"C-3\",\"quantity\":10,\"salesPrice\":150,\"adjustment\":0}],"
    "\"totals\":{\"subtotal\":125900,\"adjustments\":-500,\"shipping\":1000,\"tax\":25180,\"grandTotal\":151080},"
    "\"account\":{\"id\":\"acc_1\",\"name\":\"Acme\",\"country\":\"DE\"},"
    "\"inputs\":{\"poNumber\":\"PO-7\"},\"paymentMethod\":\"card\"}";

static const char SCRIPT[] = "function check(cart)\n"
                             "  local qty = 0\n"
                             "  for _, it in ipairs(cart.items) do qty = qty + it.quantity end\n"
                             "  if cart.totals.grandTotal > 1000000 then\n"
                             "    return false, 'orders over 10,000.00 need a quote'\n"
                             "  end\n"
                             "  return qty < 100 or false, 'too many items'\n"
                             "end\n";

typedef struct run {
    ck_lua_mode mode;
    long calls;
    const ck_lua_chunk *chunk;
    const json_t *cart;
    long failures;
} run;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *calls(void *arg)
{
    run *r = arg;
    char msg[128];
    for (long i = 0; i < r->calls; i++)
        if (ck_lua_check_with(r->mode, r->chunk, r->cart, msg, sizeof(msg)) != 1)
            r->failures++;
    ck_lua_thread_cleanup();
    return NULL;
}

static void measure(const char *label, ck_lua_mode mode, int threads, long n, const ck_lua_chunk *c, const json_t *cart)
{
    pthread_t t[64];
    run r[64];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        r[i] = (run){.mode = mode, .calls = n, .chunk = c, .cart = cart, .failures = 0};
        pthread_create(&t[i], NULL, calls, &r[i]);
    }
    long failures = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        failures += r[i].failures;
    }
    double secs = now_s() - t0, total = (double)n * threads;
    printf("%-7s threads=%d calls=%.0f  %.0f calls/s  %.2f us/call (per thread %.2f us)%s\n", label, threads, total,
           total / secs, secs * 1e6 / total, secs * 1e6 / (double)n, failures ? "  FAILURES" : "");
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    if (threads < 1 || threads > 64 || n < 1)
        return 2;
    char msg[256];
    ck_lua_chunk c;
    if (ck_lua_compile(SCRIPT, "bench", &c, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "compile: %s\n", msg);
        return 1;
    }
    json_t *cart = json_loads(CART, 0, NULL);
    double t0 = now_s();
    for (int i = 0; i < 1000; i++) {
        ck_lua_chunk k;
        ck_lua_compile(SCRIPT, "bench", &k, msg, sizeof(msg));
        ck_lua_chunk_free(&k);
    }
    printf("compile %.2f us/call (%zu bytes of bytecode)\n", (now_s() - t0) * 1e3, c.len);
    measure("fresh", CK_LUA_FRESH, 1, n, &c, cart);
    measure("pooled", CK_LUA_POOLED, 1, n, &c, cart);
    measure("fresh", CK_LUA_FRESH, threads, n, &c, cart);
    measure("pooled", CK_LUA_POOLED, threads, n, &c, cart);
    json_decref(cart);
    ck_lua_chunk_free(&c);
    return 0;
}
