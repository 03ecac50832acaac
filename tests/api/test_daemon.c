/* test_daemon.c: the daemon itself (API.md, "The daemon"): --version,
 * /healthz and /metrics without auth (promtool-clean), Allow on 405 and
 * WWW-Authenticate on 401, data surviving a restart, a clean exit on SIGTERM
 * and SIGINT, the 1 MiB body limit, and one JSON log line per request. */
#include "api/harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define MIB (1024 * 1024)

static void healthz(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_true(json_is_object(r.json));
    assert_string_equal(ckt_str(r.json, "status"), "ok");
    assert_int_equal(json_object_size(r.json), 1);
    char ct[128];
    assert_true(ckt_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_non_null(strstr(ct, "application/json"));
    ckt_free(&r);
    ckt_finish(&d);
}

/* ------------------------------------------------------------ /metrics */

/* One sample of a scrape: "name{labels}" and its value. */
typedef struct sample {
    char series[512];
    double value;
} sample;

typedef struct scrape {
    sample *s;
    size_t n;
    char types[128][2][96]; /* family name, type */
    size_t ntypes;
} scrape;

/* Parses the text format (no timestamps: checkoutd writes none), failing the
 * test on a line it cannot read or on a series that appears twice (which
 * promtool does not catch). */
static void parse_scrape(const char *text, scrape *out)
{
    memset(out, 0, sizeof(*out));
    size_t cap = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every line ends with a newline */
        char line[1024];
        size_t len = (size_t)(nl - p);
        assert_true(len < sizeof(line));
        memcpy(line, p, len);
        line[len] = '\0';
        p = nl + 1;
        char name[96], type[32];
        if (sscanf(line, "# TYPE %95s %31s", name, type) == 2) {
            assert_true(out->ntypes < 128);
            snprintf(out->types[out->ntypes][0], 96, "%s", name);
            snprintf(out->types[out->ntypes++][1], 96, "%s", type);
            continue;
        }
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *sp = strrchr(line, ' ');
        assert_non_null(sp);
        *sp = '\0';
        char *end = NULL;
        double v = strtod(sp + 1, &end);
        if (*end)
            fail_msg("unreadable sample value in: %s %s", line, sp + 1);
        for (size_t i = 0; i < out->n; i++)
            if (strcmp(out->s[i].series, line) == 0)
                fail_msg("series %s appears twice", line);
        if (out->n == cap) {
            cap = cap ? cap * 2 : 256;
            out->s = realloc(out->s, cap * sizeof(*out->s));
            assert_non_null(out->s);
        }
        size_t sl = strlen(line);
        assert_true(sl < sizeof(out->s[0].series));
        memcpy(out->s[out->n].series, line, sl + 1);
        out->s[out->n++].value = v;
    }
}

static const char *type_of(const scrape *sc, const char *family)
{
    for (size_t i = 0; i < sc->ntypes; i++)
        if (strcmp(sc->types[i][0], family) == 0)
            return sc->types[i][1];
    return NULL;
}

static void expect_type(const scrape *sc, const char *family, const char *type)
{
    const char *t = type_of(sc, family);
    if (!t || strcmp(t, type) != 0)
        fail_msg("%s: expected TYPE %s, got %s", family, type, t ? t : "(none)");
}

/* The value of an exact series; fails the test when it is absent. */
static double value_of(const scrape *sc, const char *series)
{
    for (size_t i = 0; i < sc->n; i++)
        if (strcmp(sc->s[i].series, series) == 0)
            return sc->s[i].value;
    fail_msg("no series %s", series);
    return -1;
}

static int has_series(const scrape *sc, const char *series)
{
    for (size_t i = 0; i < sc->n; i++)
        if (strcmp(sc->s[i].series, series) == 0)
            return 1;
    return 0;
}

/* Asserts one HTTP histogram series: `labels` like
 * route="/v1/stores",method="POST",code="201"; count observations, the
 * buckets cumulative and ending in +Inf == count. */
static void expect_http_series(const scrape *sc, const char *labels, double count)
{
    char series[512];
    snprintf(series, sizeof(series), "checkoutd_http_request_duration_seconds_count{%s}", labels);
    assert_true(value_of(sc, series) == count);
    snprintf(series, sizeof(series), "checkoutd_http_request_duration_seconds_bucket{%s,le=\"+Inf\"}", labels);
    assert_true(value_of(sc, series) == count);
    snprintf(series, sizeof(series), "checkoutd_http_request_duration_seconds_sum{%s}", labels);
    assert_true(value_of(sc, series) >= 0);
    static const char *const le[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                                     "0.25",  "0.5",    "1",     "2.5",  "5",     "10",   "+Inf"};
    double prev = 0;
    for (size_t i = 0; i < sizeof(le) / sizeof(le[0]); i++) {
        snprintf(series, sizeof(series), "checkoutd_http_request_duration_seconds_bucket{%s,le=\"%s\"}", labels, le[i]);
        double v = value_of(sc, series);
        assert_true(v >= prev);
        prev = v;
    }
}

/* Runs `promtool check metrics` on the text; fails the test with promtool's
 * words when it objects, or when promtool is missing (the test setup
 * installs Debian's prometheus package, which ships it). */
static void promtool_check(ckt_daemon *d, const char *text)
{
    char in[400], out[400], cmd[1024];
    snprintf(in, sizeof(in), "%s/metrics.txt", d->dir);
    snprintf(out, sizeof(out), "%s/promtool.out", d->dir);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' > '%s' 2>&1", in, out);
    int status = system(cmd);
    char said[8192] = "";
    f = fopen(out, "r");
    if (f) {
        said[fread(said, 1, sizeof(said) - 1, f)] = '\0';
        fclose(f);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("promtool check metrics failed (exit %d; 127: promtool is not installed, it comes with "
                 "Debian's prometheus package):\n%s",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1, said);
    assert_string_equal(said, "");
}

/* After some traffic (a 2xx, a 201, a 404, a 405 and a 401), the scrape
 * passes promtool and has the families of API.md with their types and
 * labels. No database count is typed as a counter: every family typed
 * counter is one this node counts itself. */
static void metrics(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_free(&r);
    char store[64], path[128];
    ckt_store(&d, store); /* POST /v1/stores 201 */
    snprintf(path, sizeof(path), "/v1/stores/%s", store);
    r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/v1/no-such-route", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 404);
    ckt_free(&r);
    r = ckt_http(&d, "PUT", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 405);
    ckt_free(&r);
    r = ckt_http(&d, "BREW", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 405);
    ckt_free(&r);
    r = ckt_http(&d, "GET", path, NULL, NULL, NULL);
    ckt_expect_status(&r, 401);
    ckt_free(&r);

    r = ckt_http(&d, "GET", "/metrics", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_null(r.json); /* text, not JSON */
    char ct[128];
    assert_true(ckt_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "text/plain; version=0.0.4");
    promtool_check(&d, r.body);
    scrape sc;
    parse_scrape(r.body, &sc);

    expect_type(&sc, "checkoutd_http_request_duration_seconds", "histogram");
    expect_http_series(&sc, "route=\"/healthz\",method=\"GET\",code=\"200\"", 1);
    expect_http_series(&sc, "route=\"/v1/stores\",method=\"POST\",code=\"201\"", 1);
    expect_http_series(&sc, "route=\"/v1/stores/{id}\",method=\"GET\",code=\"200\"", 1);
    expect_http_series(&sc, "route=\"/v1/stores/{id}\",method=\"GET\",code=\"401\"", 1);
    expect_http_series(&sc, "route=\"unmatched\",method=\"GET\",code=\"404\"", 1);
    expect_http_series(&sc, "route=\"/healthz\",method=\"PUT\",code=\"405\"", 1);
    /* A method nobody defined is not a label value of its own. */
    expect_http_series(&sc, "route=\"/healthz\",method=\"other\",code=\"405\"", 1);
    /* The raw path never is a label value. */
    for (size_t i = 0; i < sc.n; i++)
        assert_null(strstr(sc.s[i].series, store));
    expect_type(&sc, "checkoutd_http_requests_in_flight", "gauge");

    expect_type(&sc, "checkoutd_placement_duration_seconds", "histogram");
    expect_type(&sc, "checkoutd_placements_total", "counter");
    static const char *const results[] = {"placed", "replayed", "rejected", "failed"};
    for (size_t i = 0; i < 4; i++) {
        char series[160];
        snprintf(series, sizeof(series), "checkoutd_placement_duration_seconds_count{result=\"%s\"}", results[i]);
        assert_true(value_of(&sc, series) == 0);
        snprintf(series, sizeof(series), "checkoutd_placements_total{result=\"%s\"}", results[i]);
        assert_true(value_of(&sc, series) == 0);
    }
    expect_type(&sc, "checkoutd_gateway_calls_total", "counter");
    assert_true(value_of(&sc, "checkoutd_gateway_calls_total{gateway=\"http\",operation=\"authorize\","
                               "outcome=\"declined\"}") == 0);
    expect_type(&sc, "checkoutd_delivery_attempts_total", "counter");
    assert_true(value_of(&sc, "checkoutd_delivery_attempts_total{kind=\"email\",outcome=\"dead\"}") == 0);
    expect_type(&sc, "checkoutd_placement_queue_depth", "gauge");
    assert_true(value_of(&sc, "checkoutd_placement_queue_depth") == 0);
    expect_type(&sc, "checkoutd_http_connections_timed_out_total", "counter");
    assert_true(value_of(&sc, "checkoutd_http_connections_timed_out_total{phase=\"headers\"}") == 0);
    expect_type(&sc, "checkoutd_outbound_queue_depth", "gauge");
    assert_true(value_of(&sc, "checkoutd_outbound_queue_depth") == 0);
    expect_type(&sc, "checkoutd_outbound_workers_busy", "gauge");
    assert_true(value_of(&sc, "checkoutd_outbound_workers_busy") == 0);

    expect_type(&sc, "checkoutd_build_info", "gauge");
    assert_true(value_of(&sc, "checkoutd_build_info{version=\"" CKT_VERSION "\"}") == 1);

    expect_type(&sc, "process_cpu_seconds_total", "counter");
    assert_true(value_of(&sc, "process_cpu_seconds_total") >= 0);
    expect_type(&sc, "process_resident_memory_bytes", "gauge");
    assert_true(value_of(&sc, "process_resident_memory_bytes") > 1024 * 1024);
    expect_type(&sc, "process_virtual_memory_bytes", "gauge");
    expect_type(&sc, "process_start_time_seconds", "gauge");
    double started = value_of(&sc, "process_start_time_seconds"), now = (double)time(NULL);
    assert_true(started <= now + 1 && started > now - 600);
    expect_type(&sc, "process_open_fds", "gauge");
    assert_true(value_of(&sc, "process_open_fds") >= 3);
    expect_type(&sc, "process_max_fds", "gauge");

    /* Database counts are gauges (each node sharing the database reports the same rows). */
    expect_type(&sc, "checkoutd_orders", "gauge");
    assert_true(value_of(&sc, "checkoutd_orders") == 0);
    expect_type(&sc, "checkoutd_deliveries", "gauge");
    expect_type(&sc, "checkoutd_sessions_stuck", "gauge");
    assert_false(has_series(&sc, "checkoutd_orders_total"));
    static const char *const node_counters[] = {
        "checkoutd_placements_total",        "checkoutd_placement_failures_total",
        "checkoutd_gateway_calls_total",     "checkoutd_delivery_attempts_total",
        "checkoutd_http_series_dropped_total", "process_cpu_seconds_total",
        "checkoutd_db_transactions_total",   "checkoutd_db_statements_total",
        "checkoutd_http_connections_timed_out_total",
    };
    /* This node's database work so far (start-up's included): every
     * transaction sent one statement at least. */
    assert_true(value_of(&sc, "checkoutd_db_transactions_total") > 0);
    assert_true(value_of(&sc, "checkoutd_db_statements_total") >= value_of(&sc, "checkoutd_db_transactions_total"));
    for (size_t i = 0; i < sc.ntypes; i++) {
        if (strcmp(sc.types[i][1], "counter") != 0)
            continue;
        int known = 0;
        for (size_t k = 0; k < sizeof(node_counters) / sizeof(node_counters[0]); k++)
            known |= strcmp(sc.types[i][0], node_counters[k]) == 0;
        if (!known)
            fail_msg("%s is typed counter but is not one this node counts", sc.types[i][0]);
    }
    free(sc.s);
    ckt_free(&r);
    ckt_finish(&d);
}

/* API.md "HTTP details": a 405 carries Allow with the methods of that
 * route template, and only a 405 does; a 401 carries WWW-Authenticate:
 * Bearer (RFC 6750: invalid_token when the key sent is unknown). */
static void http_details(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char v[256];
    ckt_resp r = ckt_http(&d, "PUT", "/healthz", NULL, NULL, NULL);
    ckt_expect_error(&r, 405, "METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED", NULL);
    assert_true(ckt_header(&r, "Allow", v, sizeof(v)));
    assert_string_equal(v, "GET");
    ckt_free(&r);
    /* Three methods on one template, whatever the id; before auth, as for any route. */
    r = ckt_http(&d, "PUT", "/v1/checkouts/cs_01M80V5EQG4YHAXXJRNX68ZH9P", NULL, "{}", NULL);
    ckt_expect_error(&r, 405, "METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED", NULL);
    assert_true(ckt_header(&r, "Allow", v, sizeof(v)));
    assert_string_equal(v, "GET, PATCH, DELETE");
    assert_false(ckt_header(&r, "WWW-Authenticate", v, sizeof(v)));
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/v1/checkouts/cs_01M80V5EQG4YHAXXJRNX68ZH9P/place-order", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 405);
    assert_true(ckt_header(&r, "Allow", v, sizeof(v)));
    assert_string_equal(v, "POST");
    ckt_free(&r);
    /* Not on other answers. */
    r = ckt_http(&d, "GET", "/v1/no-such-route", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 404);
    assert_false(ckt_header(&r, "Allow", v, sizeof(v)));
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_false(ckt_header(&r, "Allow", v, sizeof(v)));
    assert_false(ckt_header(&r, "WWW-Authenticate", v, sizeof(v)));
    ckt_free(&r);

    /* No key at all, and a header of another scheme: the plain challenge. */
    r = ckt_http(&d, "POST", "/v1/stores", NULL, "{\"name\":\"S\",\"currency\":\"USD\"}", NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    assert_true(ckt_header(&r, "WWW-Authenticate", v, sizeof(v)));
    assert_string_equal(v, "Bearer realm=\"checkoutd\"");
    ckt_free(&r);
    static const char *const basic[] = {"Authorization: Basic dXNlcjpwYXNz", NULL};
    r = ckt_http(&d, "GET", "/v1/admin/alerts", NULL, NULL, basic);
    ckt_expect_status(&r, 401);
    assert_true(ckt_header(&r, "WWW-Authenticate", v, sizeof(v)));
    assert_string_equal(v, "Bearer realm=\"checkoutd\"");
    ckt_free(&r);
    /* A key nobody has. */
    r = ckt_http(&d, "GET", "/v1/admin/alerts", "no-such-key-0123456789", NULL, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    assert_true(ckt_header(&r, "WWW-Authenticate", v, sizeof(v)));
    assert_string_equal(v, "Bearer realm=\"checkoutd\", error=\"invalid_token\"");
    ckt_free(&r);
    /* A 403 is not a challenge. */
    char uid[64], ukey[128];
    ckt_user(&d, "[\"buyer\"]", uid, ukey);
    r = ckt_http(&d, "GET", "/v1/admin/alerts", ukey, NULL, NULL);
    ckt_expect_status(&r, 403);
    assert_false(ckt_header(&r, "WWW-Authenticate", v, sizeof(v)));
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM stores"), 0);
    ckt_finish(&d);
}

/* checkoutd --version: one line "checkoutd MAJOR.MINOR.PATCH" (the CMake
 * project version), exit 0, before anything is opened: the database named
 * here cannot be created, so a daemon that went on would exit 1. */
static void version_flag(void **state)
{
    FILE *p = popen(CHECKOUTD_BIN " --db sqlite:/nonexistent-dir/x.db --version", "r");
    assert_non_null(p);
    char out[256] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(out, "checkoutd " CKT_VERSION "\n");
    unsigned major, minor, patch;
    char end;
    assert_int_equal(sscanf(CKT_VERSION, "%u.%u.%u%c", &major, &minor, &patch, &end), 3);
}

static void persists_across_restart(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char id[64], path[128];
    ckt_store(&d, id);
    snprintf(path, sizeof(path), "/v1/stores/%s", id);
    assert_int_equal(ckt_stop(&d), 0);

    ckt_restart(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), id);
    assert_string_equal(ckt_str(r.json, "name"), "Test Store");
    ckt_free(&r);
    /* The admin key from the environment is ensured, not duplicated, on each start. */
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), 1);
    ckt_finish(&d);
}

static void signals_exit_zero(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_free(&r);
    assert_int_equal(ckt_stop(&d), 0); /* SIGTERM */

    ckt_restart(&d, NULL, NULL);
    r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    assert_int_equal(kill(d.pid, SIGINT), 0);
    assert_int_equal(ckt_wait_exit(&d, 30000), 0);
    ckt_finish(&d);
}

/* A store body padded with trailing whitespace to exactly len bytes. */
static char *padded_store_body(size_t len)
{
    static const char head[] = "{\"name\":\"Big\",\"currency\":\"USD\"}";
    char *b = malloc(len + 1);
    assert_non_null(b);
    memset(b, ' ', len);
    memcpy(b, head, sizeof(head) - 1);
    b[len] = '\0';
    return b;
}

static void body_limit(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char *body = padded_store_body(MIB + 1);
    ckt_resp r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY, body, NULL);
    ckt_expect_error(&r, 413, "PAYLOAD_TOO_LARGE", "PAYLOAD_TOO_LARGE", NULL);
    ckt_free(&r);
    free(body);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM stores"), 0);

    /* Exactly 1 MiB is within the limit. */
    body = padded_store_body(MIB);
    r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY, body, NULL);
    ckt_expect_status(&r, 201);
    assert_string_equal(ckt_str(r.json, "name"), "Big");
    ckt_free(&r);
    free(body);

    /* The daemon still answers afterwards. */
    r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM stores"), 1);
    ckt_finish(&d);
}

static void request_log(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/v1/no-such-route", CKT_ADMIN_KEY, NULL, NULL);
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY,
                 "{\"name\":\"Logged\",\"currency\":\"USD\"}", NULL);
    ckt_expect_status(&r, 201);
    char rid[128];
    assert_true(ckt_header(&r, "X-Request-Id", rid, sizeof(rid)));
    assert_true(strncmp(rid, "rid_", 4) == 0);
    ckt_free(&r);
    assert_int_equal(ckt_stop(&d), 0);

    FILE *f = fopen(d.log_path, "r");
    assert_non_null(f);
    char line[4096];
    int requests = 0, found_rid = 0, found_404 = 0;
    while (fgets(line, sizeof(line), f)) {
        if (!strstr(line, "\"requestId\"") || !strstr(line, "\"route\""))
            continue; /* not a request line (startup, shutdown, library messages) */
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!j)
            fprintf(stderr, "request log line is not JSON: %s", line);
        assert_non_null(j);
        {
            requests++;
            assert_true(json_is_string(json_object_get(j, "ts")));
            assert_true(json_is_string(json_object_get(j, "requestId")));
            assert_true(json_is_string(json_object_get(j, "method")));
            assert_true(json_is_integer(json_object_get(j, "status")));
            assert_true(json_is_integer(json_object_get(j, "us")));
            const char *id = json_string_value(json_object_get(j, "requestId"));
            if (strcmp(id, rid) == 0) {
                found_rid = 1;
                assert_int_equal(json_integer_value(json_object_get(j, "status")), 201);
                assert_string_equal(json_string_value(json_object_get(j, "method")), "POST");
                assert_string_equal(json_string_value(json_object_get(j, "route")), "/v1/stores");
            }
            if (json_integer_value(json_object_get(j, "status")) == 404)
                found_404 = 1;
        }
        json_decref(j);
    }
    fclose(f);
    assert_int_equal(requests, 3);
    assert_true(found_rid);
    assert_true(found_404);
    ckt_finish(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(healthz),
        cmocka_unit_test(metrics),
        cmocka_unit_test(http_details),
        cmocka_unit_test(version_flag),
        cmocka_unit_test(persists_across_restart),
        cmocka_unit_test(signals_exit_zero),
        cmocka_unit_test(body_limit),
        cmocka_unit_test(request_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
