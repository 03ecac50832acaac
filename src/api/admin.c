/* admin.c: admin views and jobs: alerts, the sweeper and SLA monitor on
 * demand, stuck sessions, dead letters and their replay, and an account's
 * balance ledger. */
#include <string.h>

#include "api/common.h"
#include "api/routes.h"
#include "checkout/session.h"
#include "events/dispatcher.h"
#include "jobs/jobs.h"

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
    ck_stmt *st = NULL;
    rc = ck_db_query(req->db, &st, err,
                     "SELECT id, kind, subject_id, message, created_at FROM alerts WHERE id > ?"
                     " AND (? = '' OR kind = ?) ORDER BY id LIMIT ?",
                     "ttti", after, kind ? kind : "", kind ? kind : "", limit);
    if (rc < 0)
        return rc;
    json_t *items = json_array();
    char last[CK_ID_MAX] = "";
    while ((rc = ck_db_next(st, err)) == 1) {
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", ck_col_text(st, 0), "kind",
                                               ck_col_text(st, 1), "subjectId", ck_col_text(st, 2), "message",
                                               ck_col_text(st, 3), "createdAt", ck_json_time(ck_col_int(st, 4))));
        snprintf(last, sizeof(last), "%s", ck_col_text(st, 0));
    }
    ck_db_done(st);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    return ck_reply(req, 200, ck_page(items, limit, last));
}

static int run_sweeper(ck_req *req, ck_error *err)
{
    ck_sweep_result res;
    int rc = ck_job_sweeper(req->cx, req->db, &res, err);
    if (rc < 0)
        return rc;
    return ck_reply(req, 200, json_pack("{s:I, s:I, s:I}", "voided", (json_int_t)res.voided, "expired",
                                        (json_int_t)res.expired, "released", (json_int_t)res.released));
}

static int run_sla_monitor(ck_req *req, ck_error *err)
{
    int64_t stuck = 0;
    int rc = ck_job_sla_monitor(req->cx, req->db, &stuck, err);
    return rc < 0 ? rc : ck_reply(req, 200, json_pack("{s:I}", "stuck", (json_int_t)stuck));
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
    char sql[1024], ids[500][CK_ID_MAX];
    snprintf(sql, sizeof(sql),
             "SELECT s.id FROM checkout_sessions s WHERE s.id > ? AND s.is_archived = 0 AND (? = 0 OR (%s))"
             " ORDER BY s.id LIMIT ?",
             ck_stuck_sessions_where);
    ck_stmt *st = NULL;
    if ((rc = ck_db_query(req->db, &st, err, sql, "tiii", after, (int64_t)only_stuck, ck_now_ms(), limit)) < 0)
        return rc;
    int n = 0;
    while (n < 500 && (rc = ck_db_next(st, err)) == 1)
        snprintf(ids[n++], CK_ID_MAX, "%s", ck_col_text(st, 0));
    ck_db_done(st);
    json_t *items = json_array();
    for (int i = 0; rc >= 0 && i < n; i++) {
        json_t *j = NULL;
        if ((rc = ck_session_json(req->db, &req->user, ids[i], &j, err)) == 0)
            json_array_append_new(items, j);
    }
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    return ck_reply(req, 200, ck_page(items, limit, n ? ids[n - 1] : ""));
}

static json_t *delivery_json(ck_stmt *st)
{
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o}", "id", ck_col_text(st, 0), "subscriberId",
                          ck_col_text(st, 1), "eventId", ck_col_text(st, 2), "event", ck_col_text(st, 3), "status",
                          ck_col_text(st, 5), "attempts", (json_int_t)ck_col_int(st, 6), "createdAt",
                          ck_json_time(ck_col_int(st, 8)), "updatedAt", ck_json_time(ck_col_int(st, 9)));
    const char *order = ck_col_text_or_null(st, 4), *last = ck_col_text_or_null(st, 7);
    json_object_set_new(d, "orderId", order ? json_string(order) : json_null());
    json_object_set_new(d, "lastError", last ? json_string(last) : json_null());
    return d;
}

#define DELIVERY_COLS "id, subscriber_id, event_id, event_type, order_id, status, attempts, last_error, created_at, updated_at"

static int list_dead_letters(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after;
    int rc = ck_page_params(req, "dlv", &limit, &after, err);
    if (rc < 0)
        return rc;
    ck_stmt *st = NULL;
    if ((rc = ck_db_query(req->db, &st, err,
                          "SELECT " DELIVERY_COLS " FROM deliveries WHERE status = 'Dead' AND id > ? ORDER BY id LIMIT ?",
                          "ti", after, limit)) < 0)
        return rc;
    return ck_reply_page(req, st, delivery_json, limit, err);
}

static int replay_dead_letter(ck_req *req, ck_error *err)
{
    int rc = ck_delivery_replay(req->cx, req->db, req->params[0], err);
    if (rc < 0)
        return rc;
    ck_stmt *st = NULL;
    if ((rc = ck_db_one(req->db, &st, err, "SELECT " DELIVERY_COLS " FROM deliveries WHERE id = ?", "t",
                        req->params[0])) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "delivery", req->params[0]);
    json_t *d = delivery_json(st);
    ck_db_done(st);
    return ck_reply(req, 200, d);
}

const ck_route ck_routes_admin[] = {
    {"POST", "/v1/admin/jobs/sla-monitor", run_sla_monitor, 0, CK_PERM_ADMIN},
    {"GET", "/v1/admin/sessions", list_sessions, 0, CK_PERM_ADMIN},
    {"GET", "/v1/admin/dead-letters", list_dead_letters, 0, CK_PERM_ADMIN},
    {"POST", "/v1/admin/dead-letters/{deliveryId}/replay", replay_dead_letter, 0, CK_PERM_ADMIN},
    {"GET", "/v1/admin/alerts", list_alerts, 0, CK_PERM_ADMIN},
    {"POST", "/v1/admin/jobs/sweeper", run_sweeper, 0, CK_PERM_ADMIN},
    {0},
};
