/* system.c: /healthz and /metrics (no auth). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "store/deliveries.h"
#include "store/jobs.h"
#include "store/orders.h"
#include "store/requests.h"
#include "store/sessions.h"

static int healthz(ck_req *req, ck_error *err)
{
    return ck_reply(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* Gauges read from the database: they hold for every node sharing it, so
 * none is a counter (a sum over nodes would count each row once per node). */
static int db_gauges(ck_req *req, ck_text *t, ck_error *err)
{
    json_t *states = NULL, *s;
    int64_t stuck = 0, pending = 0, dead = 0, queued = 0, orders = 0;
    size_t i;
    int rc = ck_sessions_count_by_state(req->db, &states, err);
    if (rc < 0)
        return rc;
    ck_text_put(t, "# HELP checkoutd_sessions Unarchived checkout sessions by state.\n# TYPE checkoutd_sessions gauge\n");
    json_array_foreach(states, i, s) {
        ck_text_put(t, "checkoutd_sessions{state=\"");
        ck_text_label(t, json_string_value(json_object_get(s, "state")));
        ck_text_put(t, "\"} %lld\n", (long long)json_integer_value(json_object_get(s, "count")));
    }
    json_decref(states);
    if ((rc = ck_jobs_stuck_count(req->db, ck_now_ms(), &stuck, err)) < 0)
        return rc;
    ck_text_put(t, "# HELP checkoutd_sessions_stuck Sessions past their store's SLA mid-checkout.\n"
                   "# TYPE checkoutd_sessions_stuck gauge\ncheckoutd_sessions_stuck %lld\n",
                (long long)stuck);
    if ((rc = ck_deliveries_count_backlog(req->db, &pending, &dead, err)) < 0)
        return rc;
    ck_text_put(t, "# HELP checkoutd_deliveries Event deliveries waiting or given up.\n# TYPE checkoutd_deliveries gauge\n"
                   "checkoutd_deliveries{status=\"Pending\"} %lld\ncheckoutd_deliveries{status=\"Dead\"} %lld\n",
                (long long)pending, (long long)dead);
    if ((rc = ck_requests_count_queued_placements(req->db, &queued, err)) < 0)
        return rc;
    ck_text_put(t, "# HELP checkoutd_placement_queue_depth Asynchronous placements queued and not yet started.\n"
                   "# TYPE checkoutd_placement_queue_depth gauge\ncheckoutd_placement_queue_depth %lld\n",
                (long long)queued);
    if ((rc = ck_orders_count(req->db, &orders, err)) < 0)
        return rc;
    ck_text_put(t, "# HELP checkoutd_orders Orders in the database.\n# TYPE checkoutd_orders gauge\n"
                   "checkoutd_orders %lld\n",
                (long long)orders);
    int64_t txs = 0, stmts = 0;
    ck_db_counts(&txs, &stmts);
    ck_text_put(t, "# HELP checkoutd_db_transactions_total Database transactions this process ran (an autocommit "
                   "statement is one).\n# TYPE checkoutd_db_transactions_total counter\n"
                   "checkoutd_db_transactions_total %lld\n"
                   "# HELP checkoutd_db_statements_total Statements this process sent to the database, "
                   "transaction control included.\n# TYPE checkoutd_db_statements_total counter\n"
                   "checkoutd_db_statements_total %lld\n",
                (long long)txs, (long long)stmts);
    return 0;
}

static int metrics(ck_req *req, ck_error *err)
{
    ck_text t = {0};
    ck_metrics_write(&req->cx->metrics, &t, ck_route_name, req->cx->started_ms);
    int rc = db_gauges(req, &t, err);
    if (rc == 0 && t.oom)
        rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory writing /metrics");
    if (rc < 0) {
        free(t.p);
        return rc;
    }
    req->status = 200;
    req->out_text = t.p;
    return 0;
}

/* GET /favicon.ico: 204. Browsers ask for it on the dashboard's first load;
 * there is no icon, and a 404 would read as an error in their console. */
static int no_icon(ck_req *req, ck_error *err)
{
    (void)err;
    req->status = 204;
    return 0;
}

const ck_route ck_routes_system[] = {
    {"GET", "/healthz", healthz, CK_ROUTE_NOAUTH, 0},
    {"GET", "/favicon.ico", no_icon, CK_ROUTE_NOAUTH, 0},
    {"GET", "/metrics", metrics, CK_ROUTE_NOAUTH, 0},
    {0},
};
