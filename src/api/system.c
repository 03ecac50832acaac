/* system.c: /healthz and /metrics (no auth). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "jobs/jobs.h"

static int healthz(ck_req *req, ck_error *err)
{
    return ck_reply(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* A growing text buffer for the exposition format. */
typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = t->p ? vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t ncap = t->cap ? t->cap * 2 : 4096;
        char *np = realloc(t->p, ncap);
        if (!np)
            return;
        t->p = np;
        t->cap = ncap;
    }
}

/* Gauges read from the database: they hold for every node sharing it. */
static int db_gauges(ck_req *req, text *t, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(req->db, &st, err,
                         "SELECT state, count(*) FROM checkout_sessions WHERE is_archived = 0 GROUP BY state ORDER BY state",
                         "");
    if (rc < 0)
        return rc;
    put(t, "# HELP checkoutd_sessions Unarchived checkout sessions by state.\n# TYPE checkoutd_sessions gauge\n");
    while ((rc = ck_db_next(st, err)) == 1)
        put(t, "checkoutd_sessions{state=\"%s\"} %lld\n", ck_col_text(st, 0), (long long)ck_col_int(st, 1));
    ck_db_done(st);
    if (rc < 0)
        return rc;
    char sql[1024];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM checkout_sessions s WHERE %s", ck_stuck_sessions_where);
    if ((rc = ck_db_one(req->db, &st, err, sql, "i", ck_now_ms())) < 0)
        return rc;
    put(t, "# HELP checkoutd_sessions_stuck Sessions past their store's SLA mid-checkout.\n"
           "# TYPE checkoutd_sessions_stuck gauge\ncheckoutd_sessions_stuck %lld\n",
        (long long)(rc == 1 ? ck_col_int(st, 0) : 0));
    ck_db_done(st);
    if ((rc = ck_db_query(req->db, &st, err,
                          "SELECT status, count(*) FROM deliveries WHERE status IN ('Pending', 'Dead') GROUP BY status", "")) < 0)
        return rc;
    long long pending = 0, dead = 0;
    while ((rc = ck_db_next(st, err)) == 1) {
        if (strcmp(ck_col_text(st, 0), "Pending") == 0)
            pending = ck_col_int(st, 1);
        else
            dead = ck_col_int(st, 1);
    }
    ck_db_done(st);
    if (rc < 0)
        return rc;
    put(t, "# HELP checkoutd_deliveries Event deliveries waiting or given up.\n# TYPE checkoutd_deliveries gauge\n"
           "checkoutd_deliveries{status=\"Pending\"} %lld\ncheckoutd_deliveries{status=\"Dead\"} %lld\n",
        pending, dead);
    if ((rc = ck_db_one(req->db, &st, err, "SELECT count(*) FROM orders", "")) < 0)
        return rc;
    put(t, "# HELP checkoutd_orders_total Orders created.\n# TYPE checkoutd_orders_total counter\n"
           "checkoutd_orders_total %lld\n",
        (long long)(rc == 1 ? ck_col_int(st, 0) : 0));
    ck_db_done(st);
    return 0;
}

static int metrics(ck_req *req, ck_error *err)
{
    ck_metrics *m = &req->app->metrics;
    text t = {0};
    put(&t, "# HELP checkoutd_http_requests_total HTTP requests answered, by status class.\n"
            "# TYPE checkoutd_http_requests_total counter\n"
            "checkoutd_http_requests_total{class=\"2xx\"} %lld\n"
            "checkoutd_http_requests_total{class=\"4xx\"} %lld\n"
            "checkoutd_http_requests_total{class=\"5xx\"} %lld\n"
            "# HELP checkoutd_http_request_duration_microseconds_total Time spent answering requests.\n"
            "# TYPE checkoutd_http_request_duration_microseconds_total counter\n"
            "checkoutd_http_request_duration_microseconds_total %lld\n"
            "# HELP checkoutd_http_requests_in_flight Requests being answered now.\n"
            "# TYPE checkoutd_http_requests_in_flight gauge\n"
            "checkoutd_http_requests_in_flight %lld\n"
            "# HELP checkoutd_uptime_seconds Seconds since the daemon started.\n"
            "# TYPE checkoutd_uptime_seconds gauge\n"
            "checkoutd_uptime_seconds %lld\n"
            "# HELP checkoutd_delivery_attempts_total Delivery attempts made by this node.\n"
            "# TYPE checkoutd_delivery_attempts_total counter\n"
            "checkoutd_delivery_attempts_total %lld\n"
            "# HELP checkoutd_placement_failures_total Failed placements on this node, by reason.\n"
            "# TYPE checkoutd_placement_failures_total counter\n",
        (long long)atomic_load(&m->requests_2xx), (long long)atomic_load(&m->requests_4xx),
        (long long)atomic_load(&m->requests_5xx), (long long)atomic_load(&m->request_us_total),
        (long long)atomic_load(&m->in_flight), (long long)((ck_now_ms() - req->app->started_ms) / 1000),
        (long long)atomic_load(&m->delivery_attempts));
    pthread_mutex_lock(&m->fail_mu);
    for (int i = 0; i < m->nfail; i++)
        put(&t, "checkoutd_placement_failures_total{reason=\"%s\"} %lld\n", m->fail[i].reason,
            (long long)atomic_load(&m->fail[i].n));
    pthread_mutex_unlock(&m->fail_mu);
    int rc = db_gauges(req, &t, err);
    if (rc < 0) {
        free(t.p);
        return rc;
    }
    req->status = 200;
    req->out_text = t.p;
    return 0;
}

const ck_route ck_routes_system[] = {
    {"GET", "/healthz", healthz, CK_ROUTE_NOAUTH, 0},
    {"GET", "/metrics", metrics, CK_ROUTE_NOAUTH, 0},
    {0},
};
