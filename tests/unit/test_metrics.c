/* test_metrics.c: what core/metrics.h counts and how it writes it out:
 * bucket edges, the HTTP series table and its overflow counter, label
 * escaping, gateway calls and delivery attempts by outcome, placement
 * results and the reasons list's overflow. The API tests (test_daemon,
 * test_events) check the same families through a running daemon. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/util.h"

static const char *route_name(int i)
{
    static const char *const names[] = {"/a", "/b/{id}", "/odd\"route\\with\nnewline"};
    return i >= 0 && i < 3 ? names[i] : "?";
}

static ck_metrics *fresh(void)
{
    ck_metrics *m = malloc(sizeof(*m));
    assert_non_null(m);
    ck_metrics_init(m);
    return m;
}

static void done(ck_metrics *m)
{
    ck_metrics_destroy(m);
    free(m);
}

/* The text of every family; the caller frees it. */
static char *written(ck_metrics *m)
{
    ck_text t = {0};
    ck_metrics_write(m, &t, route_name, 0);
    assert_false(t.oom);
    assert_non_null(t.p);
    return t.p;
}

/* The value of the exact series, or -1. */
static long long value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtoll(p + n + 1, NULL, 10);
    return -1;
}

static void expect(const char *text, const char *series, long long want)
{
    long long got = value(text, series);
    if (got != want)
        fprintf(stderr, "%s: expected %lld, got %lld in:\n%s\n", series, want, got, text);
    assert_int_equal(got, want);
}

/* A bound is inclusive (le): exactly 1 ms is in le="0.001", 1 ms + 1 us is not. */
static void http_buckets(void **state)
{
    ck_metrics *m = fresh();
    ck_metrics_http(m, 0, CK_METHOD_GET, 200, 1000);
    ck_metrics_http(m, 0, CK_METHOD_GET, 200, 1001);
    ck_metrics_http(m, 0, CK_METHOD_GET, 200, 60 * 1000000LL); /* past every bound */
    ck_metrics_http(m, 1, CK_METHOD_PATCH, 404, 5);
    ck_metrics_http(m, -1, ck_method_index("BREW"), 405, 5);
    char *t = written(m);
    const char *b = "checkoutd_http_request_duration_seconds_bucket{route=\"/a\",method=\"GET\",code=\"200\",le=";
    char s[256];
    snprintf(s, sizeof(s), "%s\"0.001\"}", b);
    expect(t, s, 1);
    snprintf(s, sizeof(s), "%s\"0.0025\"}", b);
    expect(t, s, 2);
    snprintf(s, sizeof(s), "%s\"10\"}", b);
    expect(t, s, 2);
    snprintf(s, sizeof(s), "%s\"+Inf\"}", b);
    expect(t, s, 3);
    expect(t, "checkoutd_http_request_duration_seconds_count{route=\"/a\",method=\"GET\",code=\"200\"}", 3);
    assert_non_null(strstr(t, "checkoutd_http_request_duration_seconds_sum{route=\"/a\",method=\"GET\",code=\"200\"} "
                              "60.002001\n"));
    expect(t, "checkoutd_http_request_duration_seconds_count{route=\"/b/{id}\",method=\"PATCH\",code=\"404\"}", 1);
    expect(t, "checkoutd_http_request_duration_seconds_count{route=\"unmatched\",method=\"other\",code=\"405\"}", 1);
    expect(t, "checkoutd_http_series_dropped_total", 0);
    free(t);
    done(m);
}

/* Label values are escaped as the text format says (\\, \", \n). */
static void label_escaping(void **state)
{
    ck_metrics *m = fresh();
    ck_metrics_http(m, 2, CK_METHOD_GET, 200, 1);
    char *t = written(m);
    expect(t,
           "checkoutd_http_request_duration_seconds_count{route=\"/odd\\\"route\\\\with\\nnewline\",method=\"GET\","
           "code=\"200\"}",
           1);
    free(t);
    done(m);
}

/* A full series table drops the observation and says so in a counter. */
static void http_table_full(void **state)
{
    ck_metrics *m = fresh();
    int made = 0;
    for (int code = 100; code < 600 && made < CK_HTTP_SERIES; code++)
        for (int method = 0; method < CK_METHOD_COUNT && made < CK_HTTP_SERIES; method++, made++)
            ck_metrics_http(m, 0, method, code, 1);
    assert_int_equal(made, CK_HTTP_SERIES);
    ck_metrics_http(m, 0, CK_METHOD_GET, 200, 1); /* an existing series still counts */
    ck_metrics_http(m, 1, CK_METHOD_GET, 200, 1); /* a new one cannot */
    char *t = written(m);
    expect(t, "checkoutd_http_series_dropped_total", 1);
    expect(t, "checkoutd_http_request_duration_seconds_count{route=\"/a\",method=\"GET\",code=\"200\"}", 2);
    assert_null(strstr(t, "route=\"/b/{id}\""));
    free(t);
    done(m);
}

static void gateway_calls(void **state)
{
    ck_metrics *m = fresh();
    ck_metrics_gateway_call(m, "http", "authorize", CK_MGW_DECLINED);
    ck_metrics_gateway_call(m, "http", "authorize", CK_MGW_DECLINED);
    ck_metrics_gateway_call(m, "test", "capture", CK_MGW_APPROVED);
    ck_metrics_gateway_call(m, "test", "void", 7); /* not a ck_gw_result: an error */
    ck_metrics_gateway_call(m, "acme", "void", CK_MGW_APPROVED);
    char *t = written(m);
    assert_non_null(strstr(t, "# TYPE checkoutd_gateway_calls_total counter\n"));
    expect(t, "checkoutd_gateway_calls_total{gateway=\"http\",operation=\"authorize\",outcome=\"declined\"}", 2);
    expect(t, "checkoutd_gateway_calls_total{gateway=\"http\",operation=\"authorize\",outcome=\"approved\"}", 0);
    expect(t, "checkoutd_gateway_calls_total{gateway=\"test\",operation=\"capture\",outcome=\"approved\"}", 1);
    expect(t, "checkoutd_gateway_calls_total{gateway=\"test\",operation=\"void\",outcome=\"error\"}", 1);
    expect(t, "checkoutd_gateway_calls_total{gateway=\"other\",operation=\"void\",outcome=\"approved\"}", 1);
    /* "other" series appear only once something was counted there. */
    expect(t, "checkoutd_gateway_calls_total{gateway=\"other\",operation=\"capture\",outcome=\"approved\"}", -1);
    free(t);
    done(m);
}

static void deliveries(void **state)
{
    ck_metrics *m = fresh();
    ck_metrics_delivery(m, "webhook", CK_MDLV_RETRY);
    ck_metrics_delivery(m, "webhook", CK_MDLV_DEAD);
    ck_metrics_delivery(m, "email", CK_MDLV_DELIVERED);
    char *t = written(m);
    expect(t, "checkoutd_delivery_attempts_total{kind=\"webhook\",outcome=\"retry\"}", 1);
    expect(t, "checkoutd_delivery_attempts_total{kind=\"webhook\",outcome=\"dead\"}", 1);
    expect(t, "checkoutd_delivery_attempts_total{kind=\"webhook\",outcome=\"delivered\"}", 0);
    expect(t, "checkoutd_delivery_attempts_total{kind=\"email\",outcome=\"delivered\"}", 1);
    free(t);
    done(m);
}

static void placements(void **state)
{
    assert_int_equal(ck_placement_result_of(0, 0, 0), CK_PLACEMENT_PLACED);
    assert_int_equal(ck_placement_result_of(0, 1, 0), CK_PLACEMENT_REPLAYED);
    assert_int_equal(ck_placement_result_of(-1, 0, CK_EINVALID), CK_PLACEMENT_REJECTED);
    assert_int_equal(ck_placement_result_of(-1, 0, CK_ECONFLICT), CK_PLACEMENT_REJECTED);
    assert_int_equal(ck_placement_result_of(-1, 0, CK_EINTERNAL), CK_PLACEMENT_FAILED);
    assert_int_equal(ck_placement_result_of(-1, 0, -99), CK_PLACEMENT_FAILED);
    ck_metrics *m = fresh();
    /* ck_metrics_placement_done: by the error's code. */
    ck_error e;
    ck_error_clear(&e);
    ck_fail(&e, CK_EINVALID, "PAYMENT_DECLINED", NULL, "declined");
    ck_metrics_placement_done(m, CK_EINVALID, 0, &e, ck_mono_us());
    ck_error_clear(&e);
    e.code = CK_ENOTFOUND;
    ck_metrics_placement_done(m, CK_ENOTFOUND, 0, &e, ck_mono_us());
    ck_error_clear(&e);
    e.code = CK_EINTERNAL;
    ck_metrics_placement_done(m, CK_EINTERNAL, 0, &e, ck_mono_us());
    ck_metrics_placement_done(m, 0, 1, NULL, ck_mono_us());
    char *t0 = written(m);
    expect(t0, "checkoutd_placements_total{result=\"rejected\"}", 2);
    expect(t0, "checkoutd_placements_total{result=\"failed\"}", 1);
    expect(t0, "checkoutd_placements_total{result=\"replayed\"}", 1);
    expect(t0, "checkoutd_placements_total{result=\"placed\"}", 0);
    free(t0);
    done(m);
    m = fresh();
    ck_metrics_placement(m, CK_PLACEMENT_PLACED, 40000);   /* 0.04 s */
    ck_metrics_placement(m, CK_PLACEMENT_PLACED, 3000000); /* 3 s */
    ck_metrics_placement(m, CK_PLACEMENT_FAILED, 10);
    char *t = written(m);
    expect(t, "checkoutd_placement_duration_seconds_bucket{result=\"placed\",le=\"0.025\"}", 0);
    expect(t, "checkoutd_placement_duration_seconds_bucket{result=\"placed\",le=\"0.05\"}", 1);
    expect(t, "checkoutd_placement_duration_seconds_bucket{result=\"placed\",le=\"2.5\"}", 1);
    expect(t, "checkoutd_placement_duration_seconds_bucket{result=\"placed\",le=\"5\"}", 2);
    expect(t, "checkoutd_placement_duration_seconds_bucket{result=\"placed\",le=\"+Inf\"}", 2);
    expect(t, "checkoutd_placement_duration_seconds_count{result=\"placed\"}", 2);
    expect(t, "checkoutd_placements_total{result=\"placed\"}", 2);
    expect(t, "checkoutd_placements_total{result=\"failed\"}", 1);
    expect(t, "checkoutd_placements_total{result=\"replayed\"}", 0);
    free(t);
    done(m);
}

/* Reasons past the list's room, and one too long to keep, are counted
 * under reason="other" rather than lost. */
static void failure_reasons(void **state)
{
    ck_metrics *m = fresh();
    char reason[64];
    for (int i = 0; i < CK_FAIL_REASONS + 2; i++) {
        snprintf(reason, sizeof(reason), "REASON_%d", i);
        ck_metrics_placement_failed(m, reason);
    }
    ck_metrics_placement_failed(m, "REASON_0");
    memset(reason, 'X', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    ck_metrics_placement_failed(m, reason);
    char *t = written(m);
    expect(t, "checkoutd_placement_failures_total{reason=\"REASON_0\"}", 2);
    snprintf(reason, sizeof(reason), "checkoutd_placement_failures_total{reason=\"REASON_%d\"}", CK_FAIL_REASONS - 1);
    expect(t, reason, 1);
    expect(t, "checkoutd_placement_failures_total{reason=\"other\"}", 3);
    free(t);
    done(m);
}

/* Out of memory is a flag the handler turns into a 500, never a cut text. */
static void text_grows(void **state)
{
    ck_text t = {0};
    for (int i = 0; i < 5000; i++)
        ck_text_put(&t, "line %d of a long exposition\n", i);
    assert_false(t.oom);
    assert_non_null(strstr(t.p, "line 4999 of a long exposition\n"));
    assert_int_equal(strlen(t.p), t.len);
    free(t.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_buckets),   cmocka_unit_test(label_escaping), cmocka_unit_test(http_table_full),
        cmocka_unit_test(gateway_calls),  cmocka_unit_test(deliveries),     cmocka_unit_test(placements),
        cmocka_unit_test(failure_reasons), cmocka_unit_test(text_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
