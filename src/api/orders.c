/* orders.c: GET /v1/orders/{id} and GET /v1/orders?accountId= (API.md "Orders"),
 * and the route of GET /v1/authorizations (authorizations.c). Any
 * authenticated caller; what it sees follows ck_order_visible. */
#include <stdlib.h>
#include <string.h>

#include "api/authorizations.h"
#include "api/common.h"
#include "api/routes.h"
#include "orders/order.h"
#include "payments/capture.h"

/* The reads below run in one read transaction, so an order's parts (items,
 * summary, authorizations, payments) come from one snapshot even while a
 * capture commits. The server rolls back whatever a handler leaves open. */

static int get_order(ck_req *req, ck_error *err)
{
    const char *id = req->params[0];
    json_t *o = NULL;
    int rc = ck_db_begin(req->db, 0, err);
    if (rc == 0 && (rc = ck_order_visible(req->db, &req->user, id, err)) == 0)
        rc = ck_order_json(req->db, id, &o, err);
    ck_db_rollback(req->db);
    return rc < 0 ? rc : ck_reply(req, 200, o);
}

/* GET /v1/orders?accountId=acct_...[&limit=&pageToken=]: the account's orders
 * in id (creation) order. accountId is required: absent 400 MISSING_FIELD,
 * malformed 400 INVALID_FIELD, both with field "accountId".
 * Decision: an account the caller may not see (a buyer or approver not given
 * it) is 404 NOT_FOUND, the same reply as for an account that does not
 * exist, and not 200 with an empty list. An empty list would look different
 * from the 404 of an unknown account, so account ids could be probed; 404
 * follows the rule for every account-owned object (404, never 403). Admins,
 * integrators and fulfillment users get 404 for an unknown account and the
 * (possibly empty) list for an existing one. */
static int list_orders(ck_req *req, ck_error *err)
{
    const char *account_id = ck_query(req, "accountId");
    if (!account_id)
        return ck_fail(err, CK_EINVALID, "MISSING_FIELD", "accountId", "'accountId' is required");
    if (!ck_id_valid(account_id, "acct"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "accountId", "'accountId' is not an account id");
    int64_t limit;
    const char *after;
    int rc = ck_page_params(req, "ord", &limit, &after, err);
    if (rc < 0)
        return rc;
    if ((rc = ck_db_begin(req->db, 0, err)) < 0)
        return rc;

    ck_stmt *st = NULL;
    rc = ck_db_one(req->db, &st, err, "SELECT 1 FROM accounts WHERE id = ?", "t", account_id);
    ck_db_done(st);
    if (rc == 1)
        rc = ck_order_account_visible(req->db, &req->user, account_id, err);
    if (rc == 0)
        rc = ck_not_found(err, "account", account_id);
    if (rc < 0) {
        ck_db_rollback(req->db);
        return rc;
    }

    /* The page's ids first, then each order (no cursor left open while the
     * order's own queries run). */
    char(*ids)[CK_ID_MAX] = calloc((size_t)limit, sizeof(*ids));
    json_t *items = json_array();
    size_t n = 0;
    if (!ids) {
        rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    } else {
        rc = ck_db_query(req->db, &st, err,
                         "SELECT id FROM orders WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?", "tti",
                         account_id, after, limit);
        if (rc == 0) {
            while (n < (size_t)limit && (rc = ck_db_next(st, err)) == 1)
                snprintf(ids[n++], CK_ID_MAX, "%s", ck_col_text(st, 0));
            ck_db_done(st);
        }
    }
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        json_t *o = NULL;
        if ((rc = ck_order_json(req->db, ids[i], &o, err)) == 0)
            json_array_append_new(items, o);
    }
    ck_db_rollback(req->db);
    if (rc < 0) {
        free(ids);
        json_decref(items);
        return rc;
    }
    json_t *page = ck_page(items, limit, n ? ids[n - 1] : NULL);
    free(ids);
    return ck_reply(req, 200, page);
}

static int approve_order(ck_req *req, ck_error *err)
{
    int rc = ck_order_approve(req->db, &req->user, req->params[0], err);
    return rc < 0 ? rc : get_order(req, err);
}

/* POST /v1/orders/{id}/capture {"amount"?}: 201 payment. */
static int capture_order(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"amount", NULL};
    int64_t amount = -1;
    json_t *body = NULL;
    int rc = 0;
    if (req->body_len) {
        json_error_t je;
        body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
        if (!body)
            return ck_fail(err, CK_EJSON, "JSON_PARSER_ERROR", NULL, "malformed JSON: %s", je.text);
        if (!json_is_object(body))
            rc = ck_fail(err, CK_EINVALID, "INVALID_BODY", NULL, "the body must be a JSON object");
        if (rc == 0 && (rc = ck_in_only(body, fields, err)) == 0)
            rc = ck_in_int(body, "amount", CK_OPTIONAL, 1, CK_MONEY_MAX, &amount, err);
        json_decref(body);
        if (rc < 0)
            return rc;
    }
    json_t *payment = NULL;
    if ((rc = ck_order_capture(req->cx, req->db, &req->user, req->params[0], amount, &payment, err)) < 0)
        return rc;
    return ck_reply(req, 201, payment);
}

const ck_route ck_routes_orders[] = {
    {"POST", "/v1/orders/{id}/approve", approve_order, 0, CK_PERM_APPROVER | CK_PERM_ADMIN},
    {"POST", "/v1/orders/{id}/capture", capture_order, 0, CK_PERM_FULFILLMENT | CK_PERM_ADMIN},
    {"GET", "/v1/orders/{id}", get_order, 0, 0},
    {"GET", "/v1/orders", list_orders, 0, 0},
    /* Here rather than in a table of its own, which router.c would have to list. */
    {"GET", "/v1/authorizations", ck_authorizations_list, 0, 0},
    {0},
};
