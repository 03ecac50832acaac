/* bench_place.c: placement throughput and latency of the real daemon over
 * loopback HTTP. Starts build/checkoutd on a fresh SQLite file, prepares N
 * checkout sessions (cart, items, inputs), then places them from T client
 * threads and reports placements per second and latency percentiles.
 * Usage: bench_place [sessions] [threads] [--sqlite-synchronous full|normal]
 *                    [--db URL] [--flow standard|lua|http]
 * With --db the daemon uses that database (e.g. an empty PostgreSQL one).
 * With --flow lua or http the store runs a copy of the standard flow with
 * one extension step before payment: a Lua check(cart) over the lines and
 * totals, or a signed callout to a receiver in this process (libmicrohttpd
 * on 127.0.0.1, answering {"ok":true}), so the difference to --flow
 * standard is what that step adds to a placement. */
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "bench_http.h"


static char base[64];

/* One request; returns the HTTP status and *out the parsed body (may be NULL). */
static long call(CURL *c, const char *method, const char *path, const char *body, json_t **out)
{
    char *text = NULL;
    long status = bench_call(c, base, method, path, body, out ? &text : NULL);
    if (out)
        *out = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    free(text);
    return status;
}

static const char *id_of(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    if (!s) {
        fprintf(stderr, "bench: setup failed (no %s)\n", key);
        exit(1);
    }
    return s;
}

typedef struct job {
    char (*sessions)[64];
    int n, next, ok;
    double *lat;
    pthread_mutex_t mu;
} job;

static void *placer(void *arg)
{
    job *j = arg;
    CURL *c = curl_easy_init();
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int i = j->next++;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->n)
            break;
        char path[128];
        snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", j->sessions[i]);
        double t0 = bench_now_s();
        long st = call(c, "POST", path, NULL, NULL);
        j->lat[i] = bench_now_s() - t0;
        if (st == 201) {
            pthread_mutex_lock(&j->mu);
            j->ok++;
            pthread_mutex_unlock(&j->mu);
        }
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* The callout receiver of --flow http: reads the body, answers ok. */
static enum MHD_Result receive(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                               const char *version, const char *data, size_t *size, void **con_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)data;
    if (!*con_cls) {
        *con_cls = conn;
        return MHD_YES;
    }
    if (*size) {
        *size = 0;
        return MHD_YES;
    }
    static const char ok[] = "{\"ok\":true}";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(ok) - 1, (void *)ok, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return rc;
}

/* The store's flow for --flow lua|http: the standard steps with one
 * extension step before payment, cloned, changed and activated. */
static void install_flow(CURL *c, const char *store, const char *kind, int receiver_port)
{
    json_t *j = NULL, *ext;
    char body[256], path[128];
    snprintf(body, sizeof(body), "{\"name\":\"Bench %s\",\"storeId\":\"%s\"}", kind, store);
    call(c, "POST", "/v1/flows/flow_standard/clone", body, &j);
    char flow[64];
    snprintf(flow, sizeof(flow), "%s", id_of(j, "id"));
    json_t *steps = json_incref(json_object_get(j, "steps"));
    json_decref(j);
    if (strcmp(kind, "lua") == 0) {
        ext = json_pack("{s:s, s:s, s:{s:s}}", "name", "quote_rule", "kind", "lua", "config", "script",
                        "function check(cart)\n"
                        "  local units = 0\n"
                        "  for _, item in ipairs(cart.items) do units = units + item.quantity end\n"
                        "  if cart.totals.grandTotal > 1000000 then return false, 'orders over 10,000.00 need a quote' end\n"
                        "  return units > 0, 'the cart is empty'\n"
                        "end\n");
    } else {
        char url[96];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/credit", receiver_port);
        ext = json_pack("{s:s, s:s, s:{s:s, s:s}}", "name", "credit_check", "kind", "http", "config", "url", url,
                        "secret", "bench-secret");
    }
    json_array_insert_new(steps, json_array_size(steps) - 4, ext); /* before payment */
    json_t *put = json_pack("{s:o}", "steps", steps);
    char *text = json_dumps(put, JSON_COMPACT);
    json_decref(put);
    snprintf(path, sizeof(path), "/v1/flows/%s", flow);
    if (call(c, "PUT", path, text, NULL) != 200) {
        fprintf(stderr, "bench: the %s flow was refused\n", kind);
        exit(1);
    }
    free(text);
    snprintf(path, sizeof(path), "/v1/flows/%s/activate", flow);
    if (call(c, "POST", path, NULL, NULL) != 200) {
        fprintf(stderr, "bench: the %s flow did not activate\n", kind);
        exit(1);
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 500, threads = argc > 2 ? atoi(argv[2]) : 4;
    const char *sync = "full", *db_arg = NULL, *flow = "standard";
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--sqlite-synchronous") == 0)
            sync = argv[i + 1];
        else if (strcmp(argv[i], "--db") == 0)
            db_arg = argv[i + 1];
        else if (strcmp(argv[i], "--flow") == 0)
            flow = argv[i + 1];
        else
            return 2;
    }
    if (n < 1 || threads < 1 ||
        (strcmp(flow, "standard") != 0 && strcmp(flow, "lua") != 0 && strcmp(flow, "http") != 0))
        return 2;
    struct MHD_Daemon *receiver = NULL;
    int receiver_port = 0;
    if (strcmp(flow, "http") == 0) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        receiver = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
                                    receive, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
        const union MHD_DaemonInfo *info = receiver ? MHD_get_daemon_info(receiver, MHD_DAEMON_INFO_BIND_PORT) : NULL;
        if (!info) {
            fprintf(stderr, "bench: the callout receiver did not start\n");
            return 1;
        }
        receiver_port = info->port;
    }
    char dir[] = "/tmp/checkoutd-bench-XXXXXX", db[600], cmd[600];
    if (!mkdtemp(dir))
        return 1;
    if (db_arg)
        snprintf(db, sizeof(db), "%s", db_arg);
    else
        snprintf(db, sizeof(db), "sqlite:%s/bench.db", dir);
    pid_t pid = bench_start_daemon(CHECKOUTD_BIN, db, sync, NULL, base);
    if (pid < 0) {
        fprintf(stderr, "bench: daemon did not start\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    json_t *j = NULL;
    char store[64], acct[64], shm[64], body[512], path[256];
    call(c, "POST", "/v1/stores", "{\"name\":\"Bench\",\"currency\":\"USD\"}", &j);
    snprintf(store, sizeof(store), "%s", id_of(j, "id"));
    json_decref(j);
    call(c, "POST", "/v1/accounts", "{\"name\":\"B\",\"isBuyer\":true,\"creditLimit\":0,\"country\":\"US\"}", &j);
    snprintf(acct, sizeof(acct), "%s", id_of(j, "id"));
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/stores/%s/members", store);
    snprintf(body, sizeof(body), "{\"accountId\":\"%s\"}", acct);
    call(c, "POST", path, body, NULL);
    snprintf(path, sizeof(path), "/v1/stores/%s/products", store);
    snprintf(body, sizeof(body), "{\"sku\":\"B-1\",\"name\":\"Widget\",\"unitPrice\":1999,\"stock\":%d,\"weightGrams\":500}",
             n * 3 + 10);
    call(c, "POST", path, body, NULL);
    snprintf(path, sizeof(path), "/v1/stores/%s/tax-rates", store);
    call(c, "POST", path, "{\"country\":\"US\",\"rateBasisPoints\":825}", NULL);
    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods", store);
    call(c, "POST", path, "{\"name\":\"Ground\",\"flatFee\":1000,\"perKgFee\":100}", &j);
    snprintf(shm, sizeof(shm), "%s", id_of(j, "id"));
    json_decref(j);
    if (strcmp(flow, "standard") != 0)
        install_flow(c, store, flow, receiver_port);

    char (*sessions)[64] = calloc((size_t)n, 64);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "/v1/stores/%s/carts", store);
        snprintf(body, sizeof(body), "{\"accountId\":\"%s\"}", acct);
        call(c, "POST", path, body, &j);
        char cart[64];
        snprintf(cart, sizeof(cart), "%s", id_of(j, "id"));
        json_decref(j);
        snprintf(path, sizeof(path), "/v1/carts/%s/items", cart);
        call(c, "POST", path, "{\"sku\":\"B-1\",\"quantity\":3}", NULL);
        snprintf(body, sizeof(body), "{\"cartId\":\"%s\"}", cart);
        call(c, "POST", "/v1/checkouts", body, &j);
        snprintf(sessions[i], 64, "%s", id_of(json_object_get(j, "session"), "id"));
        json_decref(j);
        snprintf(path, sizeof(path), "/v1/checkouts/%s", sessions[i]);
        snprintf(body, sizeof(body),
                 "{\"shippingAddress\":{\"name\":\"B\",\"street\":\"1 Main\",\"city\":\"X\",\"postalCode\":\"1\","
                 "\"country\":\"US\"},\"shippingMethodId\":\"%s\",\"payment\":{\"method\":\"card\",\"cardToken\":\"tok_visa\"}}",
                 shm);
        call(c, "PATCH", path, body, NULL);
    }
    curl_easy_cleanup(c);

    job jb = {.sessions = sessions, .n = n, .lat = calloc((size_t)n, sizeof(double))};
    pthread_mutex_init(&jb.mu, NULL);
    pthread_t *t = calloc((size_t)threads, sizeof(*t));
    double t0 = bench_now_s();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, placer, &jb);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double secs = bench_now_s() - t0;
    qsort(jb.lat, (size_t)n, sizeof(double), cmp);
    if (db_arg)
        printf("placements: %d ok of %d, %d client threads, database %s, flow %s\n", jb.ok, n, threads, db_arg,
               flow);
    else
        printf("placements: %d ok of %d, %d client threads, sqlite synchronous=%s, flow %s\n", jb.ok, n, threads,
               sync, flow);
    printf("throughput: %.1f placements/s\n", n / secs);
    printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", jb.lat[n / 2] * 1e3, jb.lat[n * 9 / 10] * 1e3,
           jb.lat[n * 99 / 100] * 1e3, jb.lat[n - 1] * 1e3);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (receiver)
        MHD_stop_daemon(receiver);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: could not remove %s\n", dir);
    free(sessions);
    free(jb.lat);
    free(t);
    curl_global_cleanup();
    return jb.ok == n ? 0 : 1;
}
