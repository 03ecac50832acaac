/* system.c: /healthz and /metrics (no auth). */
#include <stdio.h>
#include <string.h>

#include "api/routes.h"

static int healthz(ck_req *req, ck_error *err)
{
    return ck_reply(req, 200, json_pack("{s:s}", "status", "ok"));
}

static int metrics(ck_req *req, ck_error *err)
{
    ck_metrics *m = &req->app->metrics;
    char buf[2048];
    int n = snprintf(buf, sizeof(buf),
                     "# HELP checkoutd_http_requests_total HTTP requests answered, by status class.\n"
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
                     "checkoutd_uptime_seconds %lld\n",
                     (long long)atomic_load(&m->requests_2xx), (long long)atomic_load(&m->requests_4xx),
                     (long long)atomic_load(&m->requests_5xx), (long long)atomic_load(&m->request_us_total),
                     (long long)atomic_load(&m->in_flight),
                     (long long)((ck_now_ms() - req->app->started_ms) / 1000));
    req->status = 200;
    req->out_text = strndup(buf, (size_t)n);
    return 0;
}

const ck_route ck_routes_system[] = {
    {"GET", "/healthz", healthz, CK_ROUTE_NOAUTH, 0},
    {"GET", "/metrics", metrics, CK_ROUTE_NOAUTH, 0},
    {0},
};
