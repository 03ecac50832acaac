/* admin.c: admin views and jobs: alerts, running the sweeper now, and an
 * account's balance ledger. */
#include <string.h>

#include "api/common.h"
#include "api/routes.h"
#include "jobs/jobs.h"

static const char *const alert_kinds[] = {"StuckSession", "DeadLetter", "StaleHoldVoided", NULL};

static int list_alerts(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after, *kind = ck_query(req, "kind");
    int rc = ck_page_params(req, &limit, &after, err);
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
    int rc = ck_job_sweeper(req->app, req->db, &res, err);
    if (rc < 0)
        return rc;
    return ck_reply(req, 200, json_pack("{s:I, s:I, s:I}", "voided", (json_int_t)res.voided, "expired",
                                        (json_int_t)res.expired, "released", (json_int_t)res.released));
}

/* GET /v1/accounts/{id}/ledger: every balance change of the account. */
static int account_ledger(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after;
    int rc = ck_page_params(req, &limit, &after, err);
    if (rc < 0)
        return rc;
    ck_stmt *st = NULL;
    if ((rc = ck_db_one(req->db, &st, err, "SELECT 1 FROM accounts WHERE id = ?", "t", req->params[0])) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "account", req->params[0]);
    ck_db_done(st);
    rc = ck_db_query(req->db, &st, err,
                     "SELECT id, kind, amount, entry, contract_id, session_id, order_id, created_at FROM balance_ledger"
                     " WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?",
                     "tti", req->params[0], after, limit);
    if (rc < 0)
        return rc;
    json_t *items = json_array();
    char last[CK_ID_MAX] = "";
    while ((rc = ck_db_next(st, err)) == 1) {
        json_t *e = json_pack("{s:s, s:s, s:I, s:s, s:o}", "id", ck_col_text(st, 0), "kind", ck_col_text(st, 1),
                              "amount", (json_int_t)ck_col_int(st, 2), "entry", ck_col_text(st, 3), "createdAt",
                              ck_json_time(ck_col_int(st, 7)));
        const char *keys[] = {"contractId", "sessionId", "orderId"};
        for (int k = 0; k < 3; k++) {
            const char *v = ck_col_text_or_null(st, 4 + k);
            json_object_set_new(e, keys[k], v ? json_string(v) : json_null());
        }
        json_array_append_new(items, e);
        snprintf(last, sizeof(last), "%s", ck_col_text(st, 0));
    }
    ck_db_done(st);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    return ck_reply(req, 200, ck_page(items, limit, last));
}

const ck_route ck_routes_admin[] = {
    {"GET", "/v1/admin/alerts", list_alerts, 0, CK_PERM_ADMIN},
    {"POST", "/v1/admin/jobs/sweeper", run_sweeper, 0, CK_PERM_ADMIN},
    {"GET", "/v1/accounts/{id}/ledger", account_ledger, 0, CK_PERM_ADMIN},
    {0},
};
