/* orders.c: GET /v1/orders/{id} and GET /v1/orders?accountId= (API.md "Orders"),
 * and the route of GET /v1/authorizations (authorizations.c). Any
 * authenticated caller; what it sees follows ck_order_visible. */
#include <stdlib.h>
#include <string.h>

#include "api/authorizations.h"
#include "api/common.h"
#include "api/routes.h"
#include "orders/order.h"
#include "store/accounts.h"
#include "store/orders.h"

/* The reads below run in one read transaction (ck_db_tx), so an order's
 * parts (items, summary, authorizations, payments) come from one snapshot
 * even while a capture commits. */

/* GET /v1/orders/{id} in its read transaction: the order's id in, its JSON out. */
typedef struct get_order_tx {
    const ck_user *user;
    const char *id;
    json_t *order; /* out */
} get_order_tx;

/* The ck_db_tx body of get_order: t->order (the caller's) when it returns 0. */
static int get_order_run(ck_db *db, void *arg, ck_error *err)
{
    get_order_tx *t = arg;
    json_decref(t->order); /* a run again after a busy commit */
    t->order = NULL;
    int rc = ck_order_visible(db, t->user, t->id, err);
    return rc == 0 ? ck_order_json(db, t->id, &t->order, err) : rc;
}

static int get_order(ck_req *req, ck_error *err)
{
    get_order_tx t = {&req->user, req->params[0], NULL};
    int rc = ck_db_tx(req->db, 0, get_order_run, &t, err);
    if (rc < 0) {
        json_decref(t.order);
        return rc;
    }
    return ck_reply(req, 200, t.order);
}

static int order_item_json(ck_req *req, const char *id, json_t **out, ck_error *err)
{
    return ck_order_json(req->db, id, out, err);
}

/* One page of GET /v1/orders in its read transaction: the inputs, the ids'
 * buffer (room for limit) and the page built (out). */
typedef struct list_orders_tx {
    ck_req *req;
    const char *account_id, *after;
    int64_t limit;
    char (*ids)[CK_ID_MAX];
    json_t *page; /* out */
} list_orders_tx;

/* The ck_db_tx body of list_orders: the account's check, the page's ids
 * (read whole first, so no cursor is open while each order's own queries
 * run), then each order; t->page (the caller's) when it returns 0. */
static int list_orders_run(ck_db *db, void *arg, ck_error *err)
{
    list_orders_tx *t = arg;
    int64_t n = 0;
    json_t *items = NULL;
    json_decref(t->page); /* a run again after a busy commit */
    t->page = NULL;
    int rc = ck_accounts_exists(db, t->account_id, err);
    if (rc == 1)
        rc = ck_order_account_visible(db, &t->req->user, t->account_id, err);
    if ((rc = ck_or_404(rc, "account", t->account_id, err)) < 0 ||
        (rc = ck_orders_list_ids_by_account(db, t->account_id, t->after, t->limit, t->ids, &n, err)) < 0 ||
        (rc = ck_items_from_ids(t->req, t->ids, n, order_item_json, &items, err)) < 0)
        return rc;
    t->page = ck_page(items, t->limit, n ? t->ids[n - 1] : NULL);
    return 0;
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
    list_orders_tx t = {req, ck_query(req, "accountId"), NULL, 0, NULL, NULL};
    if (!t.account_id)
        return ck_fail(err, CK_EINVALID, "MISSING_FIELD", "accountId", "'accountId' is required");
    if (!ck_id_valid(t.account_id, "acct"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "accountId", "'accountId' is not an account id");
    int rc = ck_page_params(req, "ord", &t.limit, &t.after, err);
    if (rc < 0)
        return rc;
    if (!(t.ids = calloc((size_t)t.limit, sizeof(*t.ids))))
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    rc = ck_db_tx(req->db, 0, list_orders_run, &t, err);
    free(t.ids);
    if (rc < 0) {
        json_decref(t.page);
        return rc;
    }
    return ck_reply(req, 200, t.page);
}

static int approve_order(ck_req *req, ck_error *err)
{
    int rc = ck_order_approve(req->db, &req->user, req->params[0], err);
    return rc < 0 ? rc : get_order(req, err);
}

const ck_route ck_routes_orders[] = {
    {"POST", "/v1/orders/{id}/approve", approve_order, CK_ROUTE_OUTBOUND, CK_PERM_APPROVER | CK_PERM_ADMIN},
    {"GET", "/v1/orders/{id}", get_order, 0, 0},
    {"GET", "/v1/orders", list_orders, 0, 0},
    /* Here rather than in a table of its own, which router.c would have to list. */
    {"GET", "/v1/authorizations", ck_authorizations_list, 0, 0},
    {"POST", "/v1/authorizations/{id}/void", ck_authorizations_void, CK_ROUTE_OUTBOUND, CK_PERM_ADMIN},
    {0},
};
