/* metrics.c: counting what this process does, and writing it out in the
 * Prometheus text exposition format (version 0.0.4), process_* included. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "checkout/app.h"
#include "core/metrics.h"
#include "core/util.h"

const double ck_http_bucket_bounds[CK_HTTP_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                       0.25,  0.5,    1,     2.5,  5,     10};
const double ck_place_bucket_bounds[CK_PLACE_BUCKETS] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                         1,    2.5,   5,    10,  30,   60};

static const char *const method_names[CK_METHOD_COUNT] = {"GET",   "HEAD",   "POST",    "PUT",
                                                          "PATCH", "DELETE", "OPTIONS", "other"};
static const char *const placement_names[CK_PLACEMENT_RESULTS] = {"placed", "replayed", "rejected", "failed"};
static const char *const gw_kinds[CK_MGW_KINDS] = {"test", "http", "other"};
static const char *const gw_ops[CK_MGW_OPS] = {"authorize", "capture", "void", "refund"};
static const char *const gw_outcomes[CK_MGW_OUTCOMES] = {"approved", "declined", "error"};
static const char *const dlv_kinds[CK_MDLV_KINDS] = {"webhook", "email"};
static const char *const dlv_outcomes[CK_MDLV_OUTCOMES] = {"delivered", "retry", "dead"};

int ck_method_index(const char *method)
{
    for (int i = 0; i < CK_METHOD_OTHER; i++)
        if (method && strcmp(method, method_names[i]) == 0)
            return i;
    return CK_METHOD_OTHER;
}

const char *ck_method_name(int index)
{
    return index >= 0 && index < CK_METHOD_COUNT ? method_names[index] : method_names[CK_METHOD_OTHER];
}

void ck_metrics_init(ck_metrics *m)
{
    memset(m, 0, sizeof(*m));
    pthread_mutex_init(&m->fail_mu, NULL);
}

void ck_metrics_destroy(ck_metrics *m)
{
    pthread_mutex_destroy(&m->fail_mu);
}

/* The bucket of an observation of us microseconds against bounds in seconds. */
static int bucket_of(const double *bounds, int n, int64_t us)
{
    double s = (double)us / 1e6;
    int i = 0;
    while (i < n && s > bounds[i])
        i++;
    return i;
}

uint64_t ck_metrics_http_key(int route, int method, int status)
{
    return ((uint64_t)(uint32_t)(route + 2) << 32) | ((uint64_t)(method & 0xff) << 16) | (uint16_t)status;
}

/* The series for key: found, or claimed with one compare-and-swap. NULL when
 * the table is full. */
static ck_http_series *http_series(ck_metrics *m, uint64_t key)
{
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) % CK_HTTP_SERIES;
    for (size_t probes = 0; probes < CK_HTTP_SERIES; probes++, i = (i + 1) % CK_HTTP_SERIES) {
        uint64_t k = atomic_load_explicit(&m->http[i].key, memory_order_acquire);
        if (k == key)
            return &m->http[i];
        if (k == 0) {
            uint64_t expected = 0;
            if (atomic_compare_exchange_strong(&m->http[i].key, &expected, key) || expected == key)
                return &m->http[i];
        }
    }
    return NULL;
}

void ck_metrics_http(ck_metrics *m, int route, int method, int status, int64_t us)
{
    ck_http_series *s = http_series(m, ck_metrics_http_key(route, method, status));
    if (!s) {
        atomic_fetch_add_explicit(&m->http_dropped, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&s->h.bucket[bucket_of(ck_http_bucket_bounds, CK_HTTP_BUCKETS, us)], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&s->h.sum_us, us, memory_order_relaxed);
}

ck_placement_result ck_placement_result_of(int rc, int replayed, int err_code)
{
    if (rc < 0)
        return ck_code_is_client(err_code) ? CK_PLACEMENT_REJECTED : CK_PLACEMENT_FAILED;
    return replayed ? CK_PLACEMENT_REPLAYED : CK_PLACEMENT_PLACED;
}

void ck_metrics_placement_done(ck_metrics *m, int rc, int replayed, const ck_error *err, int64_t start_us)
{
    ck_metrics_placement(m, ck_placement_result_of(rc, replayed, err && err->code ? err->code : rc),
                         ck_mono_us() - start_us);
}

void ck_metrics_placement(ck_metrics *m, ck_placement_result result, int64_t us)
{
    if (result < 0 || result >= CK_PLACEMENT_RESULTS)
        result = CK_PLACEMENT_FAILED;
    atomic_fetch_add_explicit(&m->placement[result].bucket[bucket_of(ck_place_bucket_bounds, CK_PLACE_BUCKETS, us)],
                              1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->placement[result].sum_us, us, memory_order_relaxed);
}

double ck_metrics_placement_quantile(ck_metrics *m, double q, int64_t *count)
{
    long long b[CK_PLACE_BUCKETS + 1] = {0}, total = 0;
    for (int r = 0; r < CK_PLACEMENT_RESULTS; r++)
        for (int i = 0; i <= CK_PLACE_BUCKETS; i++)
            b[i] += atomic_load_explicit(&m->placement[r].bucket[i], memory_order_relaxed);
    for (int i = 0; i <= CK_PLACE_BUCKETS; i++)
        total += b[i];
    *count = total;
    if (total == 0)
        return -1;
    double rank = q * (double)total, below = 0;
    for (int i = 0; i < CK_PLACE_BUCKETS; i++) {
        if (below + (double)b[i] >= rank && b[i] > 0) {
            double lo = i ? ck_place_bucket_bounds[i - 1] : 0, hi = ck_place_bucket_bounds[i];
            return lo + (hi - lo) * (rank - below) / (double)b[i];
        }
        below += (double)b[i];
    }
    return ck_place_bucket_bounds[CK_PLACE_BUCKETS - 1];
}

void ck_metrics_placement_failed(ck_metrics *m, const char *reason)
{
    if (!reason || strlen(reason) >= sizeof(m->fail[0].reason)) {
        atomic_fetch_add(&m->fail_other, 1);
        return;
    }
    pthread_mutex_lock(&m->fail_mu);
    int i = 0;
    while (i < m->nfail && strcmp(m->fail[i].reason, reason) != 0)
        i++;
    if (i == m->nfail && m->nfail < CK_FAIL_REASONS)
        snprintf(m->fail[m->nfail++].reason, sizeof(m->fail[0].reason), "%s", reason);
    pthread_mutex_unlock(&m->fail_mu);
    atomic_fetch_add(i < CK_FAIL_REASONS ? &m->fail[i].n : &m->fail_other, 1);
}

static int index_of(const char *const *names, int n, const char *s, int otherwise)
{
    for (int i = 0; i < n; i++)
        if (s && strcmp(s, names[i]) == 0)
            return i;
    return otherwise;
}

void ck_metrics_gateway_call(ck_metrics *m, const char *gateway, const char *operation, int outcome)
{
    int k = index_of(gw_kinds, CK_MGW_OTHER, gateway, CK_MGW_OTHER);
    int op = index_of(gw_ops, CK_MGW_OPS, operation, -1);
    if (op < 0)
        return; /* a programming error: there are four operations */
    if (outcome < 0 || outcome >= CK_MGW_OUTCOMES)
        outcome = CK_MGW_ERROR;
    atomic_fetch_add_explicit(&m->gateway[k][op][outcome], 1, memory_order_relaxed);
}

void ck_metrics_delivery(ck_metrics *m, const char *kind, int outcome)
{
    int k = strcmp(kind ? kind : "", "email") == 0 ? CK_MDLV_EMAIL : CK_MDLV_WEBHOOK;
    if (outcome >= 0 && outcome < CK_MDLV_OUTCOMES)
        atomic_fetch_add_explicit(&m->delivery[k][outcome], 1, memory_order_relaxed);
}

/* ---------------------------------------------------------------- text */

void ck_text_label(ck_text *t, const char *value)
{
    for (const char *s = value ? value : ""; *s; s++) {
        if (*s == '\\')
            ck_text_put(t, "\\\\");
        else if (*s == '"')
            ck_text_put(t, "\\\"");
        else if (*s == '\n')
            ck_text_put(t, "\\n");
        else
            ck_text_add(t, s, 1);
    }
}

static void family(ck_text *t, const char *name, const char *type, const char *help)
{
    ck_text_put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram series: cumulative buckets, _sum, _count. labels: the
 * series' labels without braces, e.g. `route="/x",method="GET"`. The count
 * is the sum of the buckets as read, so +Inf and _count always agree. */
static void hist_series(ck_text *t, const char *name, const char *labels, const atomic_llong *bucket,
                        const atomic_llong *sum_us, const double *bounds, int n)
{
    long long cum = 0;
    for (int i = 0; i <= n; i++) {
        cum += atomic_load_explicit(&bucket[i], memory_order_relaxed);
        if (i < n)
            ck_text_put(t, "%s_bucket{%s,le=\"%g\"} %lld\n", name, labels, bounds[i], cum);
        else
            ck_text_put(t, "%s_bucket{%s,le=\"+Inf\"} %lld\n", name, labels, cum);
    }
    long long us = atomic_load_explicit(sum_us, memory_order_relaxed);
    ck_text_put(t, "%s_sum{%s} %lld.%06lld\n%s_count{%s} %lld\n", name, labels, us / 1000000, us % 1000000, name,
                labels, cum);
}

static void write_http(const ck_metrics *m, ck_text *t, const char *(*route_name)(int))
{
    family(t, "checkoutd_http_request_duration_seconds", "histogram",
           "Time from a request's first byte to its answer, by route template, method and status code.");
    for (int i = 0; i < CK_HTTP_SERIES; i++) {
        uint64_t key = atomic_load_explicit(&m->http[i].key, memory_order_acquire);
        if (!key)
            continue;
        int route = (int)(key >> 32) - 2, method = (int)((key >> 16) & 0xff), code = (int)(key & 0xffff);
        ck_text labels = {0};
        ck_text_put(&labels, "route=\"");
        ck_text_label(&labels, route >= 0 ? route_name(route) : "unmatched");
        ck_text_put(&labels, "\",method=\"%s\",code=\"%d\"", ck_method_name(method), code);
        if (labels.oom)
            t->oom = 1;
        else
            hist_series(t, "checkoutd_http_request_duration_seconds", labels.p, m->http[i].h.bucket,
                        &m->http[i].h.sum_us, ck_http_bucket_bounds, CK_HTTP_BUCKETS);
        free(labels.p);
    }
    family(t, "checkoutd_http_series_dropped_total", "counter",
           "HTTP requests not counted in the duration histogram because its series table was full.");
    ck_text_put(t, "checkoutd_http_series_dropped_total %lld\n", (long long)atomic_load(&m->http_dropped));
    family(t, "checkoutd_http_requests_in_flight", "gauge", "Requests being answered now.");
    ck_text_put(t, "checkoutd_http_requests_in_flight %lld\n", (long long)atomic_load(&m->in_flight));
    family(t, "checkoutd_http_connections_timed_out_total", "counter",
           "Connections closed because a request did not arrive in time (--idle-timeout, --header-timeout, "
           "--body-timeout).");
    static const char *const phase[] = {"idle", "headers", "body"};
    for (int i = 0; i < 3; i++)
        ck_text_put(t, "checkoutd_http_connections_timed_out_total{phase=\"%s\"} %lld\n", phase[i],
                    (long long)atomic_load(&m->conn_deadline[i]));
    family(t, "checkoutd_outbound_queue_depth", "gauge",
           "Requests that may call out (placements, captures, actions) waiting for an outbound worker.");
    ck_text_put(t, "checkoutd_outbound_queue_depth %lld\n", (long long)atomic_load(&m->outbound_queued));
    family(t, "checkoutd_outbound_workers_busy", "gauge", "Outbound workers running a request now.");
    ck_text_put(t, "checkoutd_outbound_workers_busy %lld\n", (long long)atomic_load(&m->outbound_busy));
}

static void write_placements(const ck_metrics *m, ck_text *t)
{
    family(t, "checkoutd_placement_duration_seconds", "histogram",
           "Time to place an order (synchronous or from the async queue), by result.");
    long long total[CK_PLACEMENT_RESULTS];
    for (int r = 0; r < CK_PLACEMENT_RESULTS; r++) {
        char labels[64];
        snprintf(labels, sizeof(labels), "result=\"%s\"", placement_names[r]);
        hist_series(t, "checkoutd_placement_duration_seconds", labels, m->placement[r].bucket,
                    &m->placement[r].sum_us, ck_place_bucket_bounds, CK_PLACE_BUCKETS);
        total[r] = 0;
        for (int b = 0; b <= CK_PLACE_BUCKETS; b++)
            total[r] += atomic_load_explicit(&m->placement[r].bucket[b], memory_order_relaxed);
    }
    family(t, "checkoutd_placements_total", "counter", "Placements made by this node, by result.");
    for (int r = 0; r < CK_PLACEMENT_RESULTS; r++)
        ck_text_put(t, "checkoutd_placements_total{result=\"%s\"} %lld\n", placement_names[r], total[r]);
    family(t, "checkoutd_placement_failures_total", "counter",
           "Placements that failed at a step on this node, by reason (a reason appears once it has happened).");
    ck_metrics *mm = (ck_metrics *)m; /* the mutex only guards the list of reasons */
    pthread_mutex_lock(&mm->fail_mu);
    for (int i = 0; i < mm->nfail; i++) {
        ck_text_put(t, "checkoutd_placement_failures_total{reason=\"");
        ck_text_label(t, mm->fail[i].reason);
        ck_text_put(t, "\"} %lld\n", (long long)atomic_load(&mm->fail[i].n));
    }
    pthread_mutex_unlock(&mm->fail_mu);
    long long other = atomic_load(&m->fail_other);
    if (other)
        ck_text_put(t, "checkoutd_placement_failures_total{reason=\"other\"} %lld\n", other);
}

static void write_calls(const ck_metrics *m, ck_text *t)
{
    family(t, "checkoutd_gateway_calls_total", "counter",
           "Calls this node made to payment gateways, by gateway kind, operation and outcome.");
    for (int k = 0; k < CK_MGW_KINDS; k++)
        for (int op = 0; op < CK_MGW_OPS; op++)
            for (int o = 0; o < CK_MGW_OUTCOMES; o++) {
                long long n = atomic_load_explicit(&m->gateway[k][op][o], memory_order_relaxed);
                if (k == CK_MGW_OTHER && n == 0)
                    continue;
                ck_text_put(t, "checkoutd_gateway_calls_total{gateway=\"%s\",operation=\"%s\",outcome=\"%s\"} %lld\n",
                            gw_kinds[k], gw_ops[op], gw_outcomes[o], n);
            }
    family(t, "checkoutd_delivery_attempts_total", "counter",
           "Event delivery attempts this node made, by subscriber kind and outcome (retry: failed, tried again "
           "later; dead: failed for the last time).");
    for (int k = 0; k < CK_MDLV_KINDS; k++)
        for (int o = 0; o < CK_MDLV_OUTCOMES; o++)
            ck_text_put(t, "checkoutd_delivery_attempts_total{kind=\"%s\",outcome=\"%s\"} %lld\n", dlv_kinds[k],
                        dlv_outcomes[o], (long long)atomic_load_explicit(&m->delivery[k][o], memory_order_relaxed));
}

/* ---------------------------------------------------------------- process */

/* Field n (1-based, as in proc(5)) of /proc/self/stat, or -1. */
static long long proc_stat_field(int n)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* The command name (field 2) may hold spaces: count from its closing paren. */
    char *p = strrchr(buf, ')');
    if (!p || n < 3)
        return -1;
    p++;
    for (int field = 3; field <= n; field++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return -1;
        if (field == n)
            return strtoll(p, NULL, 10);
        while (*p && *p != ' ')
            p++;
    }
    return -1;
}

static long long boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    char line[256];
    long long bt = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "btime %lld", &bt) == 1)
            break;
    fclose(f);
    return bt;
}

static void write_process(ck_text *t, int64_t start_ms)
{
    struct rusage ru;
    double cpu = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
              (double)ru.ru_stime.tv_usec / 1e6;
    family(t, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    ck_text_put(t, "process_cpu_seconds_total %.6f\n", cpu);

    long page = sysconf(_SC_PAGESIZE);
    long long vsize = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lld %lld", &vsize, &rss) != 2)
            vsize = rss = 0;
        fclose(f);
    }
    family(t, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    ck_text_put(t, "process_resident_memory_bytes %lld\n", rss * page);
    family(t, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    ck_text_put(t, "process_virtual_memory_bytes %lld\n", vsize * page);

    long long ticks = proc_stat_field(22), bt = boot_time();
    long hz = sysconf(_SC_CLK_TCK);
    double start = ticks >= 0 && bt > 0 && hz > 0 ? (double)bt + (double)ticks / (double)hz : (double)start_ms / 1000;
    family(t, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    ck_text_put(t, "process_start_time_seconds %.2f\n", start);

    long long fds = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                fds++;
        closedir(d);
        fds--; /* the directory's own descriptor */
    }
    family(t, "process_open_fds", "gauge", "Number of open file descriptors.");
    ck_text_put(t, "process_open_fds %lld\n", fds);
    struct rlimit rl;
    family(t, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
    ck_text_put(t, "process_max_fds %lld\n",
                getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long long)rl.rlim_cur : -1LL);
    long long threads = proc_stat_field(20);
    family(t, "process_threads", "gauge", "Number of OS threads in the process.");
    ck_text_put(t, "process_threads %lld\n", threads > 0 ? threads : 0);
}

void ck_metrics_write(const ck_metrics *m, ck_text *t, const char *(*route_name)(int), int64_t start_ms)
{
    write_http(m, t, route_name);
    write_placements(m, t);
    write_calls(m, t);
    family(t, "checkoutd_build_info", "gauge", "The running build: always 1, its version as a label.");
    ck_text_put(t, "checkoutd_build_info{version=\"%s\"} 1\n", ck_version());
    write_process(t, start_ms);
}
