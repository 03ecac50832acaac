/* checkouts.c: the checkout session as a resource (POST /v1/checkouts, the
 * session view, PATCH, DELETE, place-order), the list of sessions and the
 * request view. The action shape of the session action is actions.c's. */
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/errors.h"
#include "api/routes.h"
#include "checkout/engine.h"
#include "flows/flows.h"
#include "orders/order.h"
#include "checkout/session.h"
#include "store/sessions.h"
#include "store/stores.h"

/* POST /v1/checkouts {"cartId"}: 201 created or 200 existing {"requestId","session"}. */
static int create_checkout(ck_req *req, ck_error *err)
{
    ck_session_action_result res;
    int rc = ck_session_action(req->cx, req->db, &req->user, json_object_get(req->json, "cartId"), &res, err);
    if (rc < 0)
        return rc;
    json_t *session = NULL;
    if ((rc = ck_session_json(req->db, &req->user, res.session_id, &session, err)) < 0)
        return rc;
    return ck_reply(req, res.created ? 201 : 200,
                    json_pack("{s:s, s:o}", "requestId", res.request_id, "session", session));
}

static int get_checkout(ck_req *req, ck_error *err)
{
    json_t *j = NULL;
    int rc = ck_session_json(req->db, &req->user, req->params[0], &j, err);
    return rc < 0 ? rc : ck_reply(req, 200, j);
}

static int session_item_json(ck_req *req, const char *id, json_t **out, ck_error *err)
{
    return ck_session_json(req->db, &req->user, id, out, err);
}

/* One page of GET /v1/checkouts, read in one read transaction (ck_db_tx):
 * the inputs, the ids' buffer (room for limit) and the page built (out). */
typedef struct list_checkouts_tx {
    ck_req *req;
    ck_sessions_filter f;
    const char *after;
    int64_t limit;
    char (*ids)[CK_ID_MAX];
    json_t *page; /* out */
} list_checkouts_tx;

/* The ck_db_tx body: the store and account filters' checks, the page's ids,
 * then each session; t->page (the caller's) when it returns >= 0. */
static int list_checkouts_run(ck_db *db, void *arg, ck_error *err)
{
    list_checkouts_tx *t = arg;
    int64_t n = 0;
    json_t *items = NULL;
    int rc;
    json_decref(t->page); /* a run again after a busy commit */
    t->page = NULL;
    if ((!t->f.store_id ||
         (rc = ck_or_404(ck_stores_exists(db, t->f.store_id, err), "store", t->f.store_id, err)) >= 0) &&
        (rc = ck_query_buyer_account(t->req, "accountId", &t->f.account_id, err)) >= 0 &&
        (rc = ck_sessions_list_ids(db, &t->f, t->after, t->limit, t->ids, &n, err)) >= 0 &&
        (rc = ck_items_from_ids(t->req, t->ids, n, session_item_json, &items, err)) >= 0)
        t->page = ck_page(items, t->limit, n ? t->ids[n - 1] : NULL);
    return rc;
}

/* GET /v1/checkouts[?storeId=&state=&accountId=]: sessions, oldest first,
 * as GET /v1/checkouts/{id} shows them, archived ones included. Admins and
 * integrators see every session; a buyer only those of the accounts it was
 * given. state is the session's `state`: Start, a step of the standard
 * flow or of one of the store's flows, or Completed. */
static int list_checkouts(ck_req *req, ck_error *err)
{
    const char *store_id = ck_query(req, "storeId"), *state = ck_query(req, "state");
    list_checkouts_tx t = {req, {store_id, state, NULL, req->user.id, 0}, NULL, 0, NULL, NULL};
    t.f.wide = (req->user.perms & (CK_PERM_ADMIN | CK_PERM_INTEGRATOR)) != 0;
    int rc;
    if (store_id && !ck_id_valid(store_id, "store"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "storeId", "'storeId' is not a store id");
    if (state && (rc = ck_flow_state_known(req->db, store_id, state, err)) <= 0)
        return rc < 0 ? rc
                      : ck_fail(err, CK_EINVALID, "INVALID_FIELD", "state",
                                "'state' must be Start, a step of a flow (validate_cart ... close_cart, or a step"
                                " path of the store's own flows) or Completed");
    if ((rc = ck_page_params(req, "cs", &t.limit, &t.after, err)) < 0)
        return rc;
    if (!(t.ids = calloc((size_t)t.limit, sizeof(*t.ids))))
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    rc = ck_db_tx(req->db, 0, list_checkouts_run, &t, err);
    free(t.ids);
    if (rc < 0) {
        json_decref(t.page);
        return rc;
    }
    return ck_reply(req, 200, t.page);
}

static int get_request(ck_req *req, ck_error *err)
{
    json_t *j = NULL;
    int rc = ck_request_json(req->db, &req->user, req->params[0], &j, err);
    return rc < 0 ? rc : ck_reply(req, 200, j);
}

#include "api/checkout_inputs.h" /* here, beside its one user: patch_checkout */

/* PATCH /v1/checkouts/{id}: the body is read into typed changes here; an
 * invalid body is answered by the domain after its visibility check. */
/* Checkout operations (place-order, session updates) answer a caller
 * without a checkout permission with the session action's table
 * (API.md Conventions): 400 CANNOT_INVOKE_ACTION, not 403. */
static int may_check_out(ck_req *req, ck_error *err)
{
    if (ck_has_perm(req, CK_PERM_BUYER | CK_PERM_INTEGRATOR | CK_PERM_ADMIN))
        return 0;
    return ck_fail(err, CK_EINVALID, "CANNOT_INVOKE_ACTION", NULL,
                   "the caller needs the buyer, integrator or admin permission to check out");
}

static int patch_checkout(ck_req *req, ck_error *err)
{
    if (may_check_out(req, err) < 0)
        return err->code;
    ck_session_changes changes;
    ck_error invalid;
    ck_error_clear(&invalid);
    ck_api_read_session_changes(req->json, &changes, &invalid);
    int rc = ck_session_update_inputs(req->cx, req->db, &req->user, req->params[0], &changes, err);
    return rc < 0 ? rc : get_checkout(req, err);
}

static int delete_checkout(ck_req *req, ck_error *err)
{
    int rc = ck_session_abandon(req->cx, req->db, &req->user, req->params[0], err);
    return rc < 0 ? rc : get_checkout(req, err);
}

/* Does the caller ask for an asynchronous answer (Prefer: respond-async)? */
static int wants_async(ck_req *req)
{
    const char *p = ck_header(req, "Prefer");
    return p && strstr(p, "respond-async") != NULL;
}

/* The order's view, read in one snapshot (its ten reads are one transaction). */
typedef struct order_view {
    const char *id;
    json_t **out;
} order_view;

static int order_view_run(ck_db *db, void *arg, ck_error *err)
{
    order_view *v = arg;
    return ck_order_json(db, v->id, v->out, err);
}

/* POST /v1/checkouts/{id}/place-order: 201 placed, 200 replay of a completed
 * session, 202 queued; a failed step is the REST envelope with "step". */
static int place_order(ck_req *req, ck_error *err)
{
    const char *sid = req->params[0];
    if (may_check_out(req, err) < 0)
        return err->code;
    if (wants_async(req)) {
        char request_id[CK_ID_MAX];
        int rc = ck_place_enqueue(req->cx, req->db, &req->user, sid, request_id, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return ck_reply(req, 202, json_pack("{s:s}", "requestId", request_id));
        /* A completed session is answered at once, as a replay. */
    }
    ck_place_result res;
    int64_t start = ck_mono_us();
    int rc = ck_place_order(req->cx, req->db, &req->user, sid, NULL, &res, err);
    ck_metrics_placement_done(&req->cx->metrics, rc, res.replayed, err, start);
    if (rc < 0)
        return rc;
    /* The view the order's commit built for its events, when this call
     * made the order: the state it committed, read once. */
    json_t *order = res.order;
    if (!order && (rc = ck_db_tx(req->db, 0, order_view_run, &(order_view){res.order_id, &order}, err)) < 0)
        return rc;
    return ck_reply(req, res.replayed ? 200 : 201,
                    json_pack("{s:s, s:s, s:o}", "requestId", res.request_id, "orderId", res.order_id, "order", order));
}

#define CHECKOUT_PERMS (CK_PERM_BUYER | CK_PERM_INTEGRATOR | CK_PERM_ADMIN)

const ck_route ck_routes_checkouts[] = {
    /* No route permission on the checkout operations (the session action,
     * its session's updates, place-order): a caller without one gets the
     * table's CANNOT_INVOKE_ACTION, not 403. */
    {"POST", "/v1/checkouts", create_checkout, CK_ROUTE_BODY | CK_ROUTE_OUTBOUND, 0},
    {"GET", "/v1/checkouts", list_checkouts, 0, CHECKOUT_PERMS},
    {"GET", "/v1/checkouts/{id}", get_checkout, 0, CHECKOUT_PERMS},
    {"PATCH", "/v1/checkouts/{id}", patch_checkout, CK_ROUTE_BODY | CK_ROUTE_OUTBOUND, 0},
    {"DELETE", "/v1/checkouts/{id}", delete_checkout, CK_ROUTE_OUTBOUND, CHECKOUT_PERMS},
    {"POST", "/v1/checkouts/{id}/place-order", place_order, CK_ROUTE_OUTBOUND, 0},
    {"GET", "/v1/requests/{id}", get_request, 0, 0},
    {0},
};
