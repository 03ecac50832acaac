/* admin.c: admin views and jobs: alerts, the sweeper and SLA monitor on
 * demand, stuck sessions, deliveries, dead letters and their replay, the
 * dashboard's overview, and an account's balance ledger. */
#include <string.h>

#include "core/json.h"
#include "core/metrics.h"
#include "store/orders.h"
#include "store/requests.h"

#include "api/common.h"
#include "api/routes.h"
#include "checkout/session.h"
#include "events/dispatcher.h"
#include "jobs/jobs.h"
#include "store/deliveries.h"
#include "store/jobs.h"

static const char *const alert_kinds[] = {"StuckSession", "DeadLetter", "StaleHoldVoided", NULL};

static int list_alerts(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after, *kind = ck_query(req, "kind");
    int rc = ck_page_params(req, "alert", &limit, &after, err);
    if (rc < 0)
        return rc;
    if (kind) {
        int ok = 0;
        for (int i = 0; alert_kinds[i]; i++)
            ok |= strcmp(alert_kinds[i], kind) == 0;
        if (!ok)
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "kind",
                           "'kind' must be StuckSession, DeadLetter or StaleHoldVoided");
    }
    json_t *items = NULL;
    char last[CK_ID_MAX];
    if ((rc = ck_alerts_list(req->db, kind, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}

static int run_sweeper(ck_req *req, ck_error *err)
{
    ck_sweep_result res;
    int rc = ck_job_sweeper(req->cx, req->db, &res, err);
    if (rc < 0)
        return rc;
    return ck_reply(req, 200, json_pack("{s:I, s:I, s:I, s:I}", "voided", (json_int_t)res.voided, "expired",
                                        (json_int_t)res.expired, "released", (json_int_t)res.released, "settled",
                                        (json_int_t)res.settled));
}

static int run_sla_monitor(ck_req *req, ck_error *err)
{
    int64_t stuck = 0;
    int rc = ck_job_sla_monitor(req->cx, req->db, &stuck, err);
    return rc < 0 ? rc : ck_reply(req, 200, json_pack("{s:I}", "stuck", (json_int_t)stuck));
}

static int session_item_json(ck_req *req, const char *id, json_t **out, ck_error *err)
{
    return ck_session_json(req->db, &req->user, id, out, err);
}

/* GET /v1/admin/sessions?stuck=true: stuck sessions; without it, every
 * unarchived session. Items are full session objects. */
static int list_sessions(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after, *stuck = ck_query(req, "stuck");
    int rc = ck_page_params(req, "cs", &limit, &after, err);
    if (rc < 0)
        return rc;
    if (stuck && strcmp(stuck, "true") != 0 && strcmp(stuck, "false") != 0)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "stuck", "'stuck' must be true or false");
    int only_stuck = stuck && strcmp(stuck, "true") == 0;
    char ids[500][CK_ID_MAX];
    int n = 0;
    json_t *items = NULL;
    if ((rc = ck_jobs_sessions_page(req->db, after, only_stuck, ck_now_ms(), limit, ids, 500, &n, err)) < 0 ||
        (rc = ck_items_from_ids(req, ids, n, session_item_json, &items, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, n ? ids[n - 1] : ""));
}

static int list_dead_letters(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after;
    int rc = ck_page_params(req, "dlv", &limit, &after, err);
    if (rc < 0)
        return rc;
    json_t *items = NULL;
    char last[CK_ID_MAX];
    if ((rc = ck_deliveries_list_dead(req->db, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}

/* GET /v1/admin/deliveries?status=&subscriberId=: deliveries, oldest first. */
static int list_deliveries(ck_req *req, ck_error *err)
{
    static const char *const statuses[] = {"Pending", "Delivered", "Dead", NULL};
    const char *status = ck_query(req, "status"), *sub = ck_query(req, "subscriberId"), *after;
    int known = 0;
    for (int i = 0; status && statuses[i]; i++)
        known |= strcmp(status, statuses[i]) == 0;
    if (status && !known)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "status", "'status' must be Pending, Delivered or Dead");
    if (sub && !ck_id_valid(sub, "sub"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "subscriberId", "'subscriberId' is not a subscriber id");
    int64_t limit;
    int rc = ck_page_params(req, "dlv", &limit, &after, err);
    if (rc < 0)
        return rc;
    json_t *items = NULL;
    char last[CK_ID_MAX];
    if ((rc = ck_deliveries_list(req->db, status, sub, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}

#define OVERVIEW_MINUTES 30

/* A quantile in seconds, or null without placements. */
static json_t *quantile_json(ck_metrics *m, double q, int64_t *count)
{
    double s = ck_metrics_placement_quantile(m, q, count);
    return s < 0 ? json_null() : json_real(s);
}

/* GET /v1/admin/overview: what the dashboard's Overview charts. Placements
 * per minute come from the requests of every node (the database);
 * latency from this daemon's placement histogram since it started. */
static int overview(ck_req *req, ck_error *err)
{
    int64_t now = ck_now_ms(), minute = now - now % 60000, day = now - now % 86400000;
    int64_t since = minute - (int64_t)(OVERVIEW_MINUTES - 1) * 60000;
    int64_t ok[OVERVIEW_MINUTES], failed[OVERVIEW_MINUTES], orders = 0, count = 0;
    int rc = ck_requests_placements_per_minute(req->db, since, OVERVIEW_MINUTES, ok, failed, err);
    if (rc == 0)
        rc = ck_orders_count_since(req->db, day, &orders, err);
    if (rc < 0)
        return rc;
    json_t *per = json_array();
    for (int i = 0; i < OVERVIEW_MINUTES; i++)
        json_array_append_new(per, json_pack("{s:o, s:I, s:I}", "minute", ck_json_time(since + (int64_t)i * 60000),
                                             "succeeded", (json_int_t)ok[i], "failed", (json_int_t)failed[i]));
    json_t *p50 = quantile_json(&req->cx->metrics, 0.5, &count);
    json_t *p99 = quantile_json(&req->cx->metrics, 0.99, &count);
    return ck_reply(req, 200,
                    json_pack("{s:o, s:I, s:o, s:{s:o, s:o, s:I}}", "generatedAt", ck_json_time(now), "ordersToday",
                              (json_int_t)orders, "placements", per, "latency", "p50", p50, "p99", p99, "count",
                              (json_int_t)count));
}

static int replay_dead_letter(ck_req *req, ck_error *err)
{
    int rc = ck_delivery_replay(req->cx, req->db, req->params[0], err);
    if (rc < 0)
        return rc;
    json_t *d = NULL;
    if ((rc = ck_or_404(ck_deliveries_get(req->db, req->params[0], &d, err), "delivery", req->params[0], err)) < 0)
        return rc;
    return ck_reply(req, 200, d);
}

const ck_route ck_routes_admin[] = {
    {"POST", "/v1/admin/jobs/sla-monitor", run_sla_monitor, CK_ROUTE_OUTBOUND, CK_PERM_ADMIN},
    {"GET", "/v1/admin/sessions", list_sessions, 0, CK_PERM_ADMIN},
    {"GET", "/v1/admin/dead-letters", list_dead_letters, 0, CK_PERM_ADMIN},
    {"GET", "/v1/admin/deliveries", list_deliveries, 0, CK_PERM_ADMIN},
    {"GET", "/v1/admin/overview", overview, 0, CK_PERM_ADMIN},
    {"POST", "/v1/admin/dead-letters/{deliveryId}/replay", replay_dead_letter, CK_ROUTE_OUTBOUND, CK_PERM_ADMIN},
    {"GET", "/v1/admin/alerts", list_alerts, 0, CK_PERM_ADMIN},
    {"POST", "/v1/admin/jobs/sweeper", run_sweeper, CK_ROUTE_OUTBOUND, CK_PERM_ADMIN},
    {0},
};
