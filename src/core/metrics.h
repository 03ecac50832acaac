/* metrics.h: what this process counts for GET /metrics, and the Prometheus
 * text writer. Counting is cheap on the hot path: fixed arrays of atomics,
 * histograms with fixed buckets, no lock (a new HTTP series takes one
 * compare-and-swap the first time it is seen). Values read from the database
 * are not kept here: they are gauges written by the /metrics handler. */
#ifndef CK_METRICS_H
#define CK_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "checkout/error.h"
#include "core/text.h"

/* Request methods, as indexes (metrics) and bits (Allow). Anything else a
 * client sends counts as CK_METHOD_OTHER. */
enum {
    CK_METHOD_GET,
    CK_METHOD_HEAD,
    CK_METHOD_POST,
    CK_METHOD_PUT,
    CK_METHOD_PATCH,
    CK_METHOD_DELETE,
    CK_METHOD_OPTIONS,
    CK_METHOD_OTHER,
    CK_METHOD_COUNT
};
int ck_method_index(const char *method);
const char *ck_method_name(int index); /* "GET"...; "other" for CK_METHOD_OTHER */

/* Bucket upper bounds in seconds (+Inf is implicit). */
#define CK_HTTP_BUCKETS 13
#define CK_PLACE_BUCKETS 12
extern const double ck_http_bucket_bounds[CK_HTTP_BUCKETS];
extern const double ck_place_bucket_bounds[CK_PLACE_BUCKETS];

/* One histogram series: per-bucket (not cumulative) counts, the last one
 * past every bound, and the sum in microseconds. */
#define CK_HIST_SERIES(n)                                                                                    \
    struct {                                                                                                 \
        atomic_llong bucket[(n) + 1];                                                                        \
        atomic_llong sum_us;                                                                                 \
    }

/* HTTP series are keyed by route template, method and status code. The
 * route templates are fixed by the route tables and the codes by the
 * handlers, so a few hundred series at most exist; a table this size never
 * fills in practice, and an observation that finds it full is counted in
 * http_dropped rather than lost without a trace. */
#define CK_HTTP_SERIES 1024
typedef struct ck_http_series {
    _Atomic uint64_t key; /* 0: free; else ck_metrics_http_key() */
    CK_HIST_SERIES(CK_HTTP_BUCKETS) h;
} ck_http_series;

typedef enum {
    CK_PLACEMENT_PLACED,   /* 201: this call made the order */
    CK_PLACEMENT_REPLAYED, /* 200: the session already had its order */
    CK_PLACEMENT_REJECTED, /* 4xx: the buyer can fix it (declined, invalid, in progress) */
    CK_PLACEMENT_FAILED,   /* 5xx: transient; placing again resumes */
    CK_PLACEMENT_RESULTS
} ck_placement_result;

enum { CK_MGW_TEST, CK_MGW_HTTP, CK_MGW_OTHER, CK_MGW_KINDS };
enum { CK_MGW_AUTHORIZE, CK_MGW_CAPTURE, CK_MGW_VOID, CK_MGW_REFUND, CK_MGW_OPS };
enum { CK_MGW_APPROVED, CK_MGW_DECLINED, CK_MGW_ERROR, CK_MGW_OUTCOMES }; /* = ck_gw_result */

enum { CK_MDLV_WEBHOOK, CK_MDLV_EMAIL, CK_MDLV_KINDS };
enum { CK_MDLV_DELIVERED, CK_MDLV_RETRY, CK_MDLV_DEAD, CK_MDLV_OUTCOMES };

#define CK_FAIL_REASONS 48

typedef struct ck_metrics {
    ck_http_series http[CK_HTTP_SERIES];
    atomic_llong http_dropped;
    atomic_llong in_flight; /* also what ck_http_stop waits on */
    atomic_llong conn_deadline[3]; /* connections closed past a deadline: idle, headers, body (http/conns.c) */
    atomic_llong outbound_queued;  /* requests waiting for an outbound worker (http/pool.c) */
    atomic_llong outbound_busy;    /* outbound workers running a request */
    CK_HIST_SERIES(CK_PLACE_BUCKETS) placement[CK_PLACEMENT_RESULTS];
    atomic_llong gateway[CK_MGW_KINDS][CK_MGW_OPS][CK_MGW_OUTCOMES];
    atomic_llong delivery[CK_MDLV_KINDS][CK_MDLV_OUTCOMES];
    pthread_mutex_t fail_mu; /* guards adding a reason; counts are atomic */
    int nfail;
    struct {
        char reason[48];
        atomic_llong n;
    } fail[CK_FAIL_REASONS];
    atomic_llong fail_other; /* reasons past CK_FAIL_REASONS, or too long */
} ck_metrics;

void ck_metrics_init(ck_metrics *m);
void ck_metrics_destroy(ck_metrics *m);

/* One HTTP request answered. route: the template's index from the router,
 * or -1 when no route matched. */
void ck_metrics_http(ck_metrics *m, int route, int method, int status, int64_t us);
uint64_t ck_metrics_http_key(int route, int method, int status);

/* One placement (synchronous or from the async queue) and how long it took. */
void ck_metrics_placement(ck_metrics *m, ck_placement_result result, int64_t us);
/* The result of a ck_place_order call: rc 0, placed or a replay of a
 * completed session; or rc < 0, rejected when the error's code is the
 * caller's (ck_code_is_client), else failed. */
ck_placement_result ck_placement_result_of(int rc, int replayed, int err_code);
/* Observes a ck_place_order call that started at start_us (ck_mono_us):
 * rc and replayed (ck_place_result.replayed) when it succeeded, err (may be
 * NULL) when it failed. One line at each place that calls ck_place_order. */
void ck_metrics_placement_done(ck_metrics *m, int rc, int replayed, const ck_error *err, int64_t start_us);

/* The q-quantile (0 < q < 1) of every placement's duration since start,
 * in seconds, estimated from the histogram's buckets as Prometheus's
 * histogram_quantile does (linear within a bucket; the bucket past the last
 * bound answers that bound). *count gets how many placements there were;
 * -1 when there were none. */
double ck_metrics_placement_quantile(ck_metrics *m, double q, int64_t *count);

/* Counts a failed placement under its reason. */
void ck_metrics_placement_failed(ck_metrics *m, const char *reason);

/* One call to a payment gateway: gateway is its kind ("test", "http"),
 * operation "authorize", "capture", "void" or "refund", outcome a ck_gw_result
 * (approved, declined, error); a call that returned an error is an error. */
void ck_metrics_gateway_call(ck_metrics *m, const char *gateway, const char *operation, int outcome);

/* One delivery attempt: kind "webhook" or "email"; outcome CK_MDLV_*. */
void ck_metrics_delivery(ck_metrics *m, const char *kind, int outcome);

/* A label value with \, " and newline escaped as the text format requires. */
void ck_text_label(ck_text *t, const char *value);

/* Writes every family counted here (HTTP, placements, gateway calls,
 * deliveries, build info, process_*) in the text exposition format.
 * route_name(i) names route template i (the router's). */
void ck_metrics_write(const ck_metrics *m, ck_text *t, const char *(*route_name)(int), int64_t start_ms);

#endif
