/* system.c: /healthz and /metrics (no auth). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "jobs/jobs.h"

static int healthz(ck_req *req, ck_error *err)
{
    return ck_reply(req, 200, json_pack("{s:s}", "status", "ok"));
}

/* Gauges read from the database: they hold for every node sharing it, so
 * none is a counter (a sum over nodes would count each row once per node). */
static int db_gauges(ck_req *req, ck_text *t, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(req->db, &st, err,
                         "SELECT state, count(*) FROM checkout_sessions WHERE is_archived = 0 GROUP BY state ORDER BY state",
                         "");
    if (rc < 0)
        return rc;
    ck_text_put(t, "# HELP checkoutd_sessions Unarchived checkout sessions by state.\n# TYPE checkoutd_sessions gauge\n");
    while ((rc = ck_db_next(st, err)) == 1) {
        ck_text_put(t, "checkoutd_sessions{state=\"");
        ck_text_label(t, ck_col_text(st, 0));
        ck_text_put(t, "\"} %lld\n", (long long)ck_col_int(st, 1));
    }
    ck_db_done(st);
    if (rc < 0)
        return rc;
    ck_text sql = {0};
    ck_text_put(&sql, "SELECT count(*) FROM checkout_sessions s WHERE %s", ck_stuck_sessions_where);
    if (sql.oom)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    rc = ck_db_one(req->db, &st, err, sql.p, "i", ck_now_ms());
    free(sql.p);
    if (rc < 0)
        return rc;
    ck_text_put(t, "# HELP checkoutd_sessions_stuck Sessions past their store's SLA mid-checkout.\n"
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
    ck_text_put(t, "# HELP checkoutd_deliveries Event deliveries waiting or given up.\n# TYPE checkoutd_deliveries gauge\n"
                   "checkoutd_deliveries{status=\"Pending\"} %lld\ncheckoutd_deliveries{status=\"Dead\"} %lld\n",
                pending, dead);
    if ((rc = ck_db_one(req->db, &st, err,
                        "SELECT count(*) FROM checkout_requests WHERE kind = 'PlaceOrder' AND status = 'Queued'", "")) < 0)
        return rc;
    ck_text_put(t, "# HELP checkoutd_placement_queue_depth Asynchronous placements queued and not yet started.\n"
                   "# TYPE checkoutd_placement_queue_depth gauge\ncheckoutd_placement_queue_depth %lld\n",
                (long long)(rc == 1 ? ck_col_int(st, 0) : 0));
    ck_db_done(st);
    if ((rc = ck_db_one(req->db, &st, err, "SELECT count(*) FROM orders", "")) < 0)
        return rc;
    ck_text_put(t, "# HELP checkoutd_orders Orders in the database.\n# TYPE checkoutd_orders gauge\n"
                   "checkoutd_orders %lld\n",
                (long long)(rc == 1 ? ck_col_int(st, 0) : 0));
    ck_db_done(st);
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

const ck_route ck_routes_system[] = {
    {"GET", "/healthz", healthz, CK_ROUTE_NOAUTH, 0},
    {"GET", "/metrics", metrics, CK_ROUTE_NOAUTH, 0},
    {0},
};
