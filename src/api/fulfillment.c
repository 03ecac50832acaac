/* fulfillment.c: after the order (API.md "Fulfillment, cancellation and
 * returns"): fulfillment orders (list, read, fulfil), and an order's cancel,
 * returns and manual capture. The rules are in src/fulfillment/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/routes.h"
#include "core/jsonin.h"
#include "fulfillment/fulfillment.h"
#include "store/fulfillment.h"

#define CHANGE_ITEMS_MAX 500
#define TRACKING_MAX 255

/* The change's request key: the caller's Idempotency-Key with its user, so
 * a retry after a crash finds the change it made (NULL without a key). */
static const char *request_key(ck_req *req, char *buf, size_t n)
{
    const char *key = ck_header(req, "Idempotency-Key");
    if (!key || !*key)
        return NULL;
    snprintf(buf, n, "%s\n%s", req->user.id, key);
    return buf;
}

/* Reads items ([{"orderItemId","quantity"}]) of the body into rq. required:
 * absent is 400 MISSING_FIELD; else absent leaves rq->items NULL. */
static int read_items(json_t *body, int required, ck_change_req *rq, ck_error *err)
{
    json_t *items = NULL;
    int rc = ck_in_array(body, "items", required, CHANGE_ITEMS_MAX, &items, err);
    if (rc <= 0)
        return rc;
    if (json_array_size(items) == 0)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "items", "'items' must name at least one item");
    static const char *const fields[] = {"orderItemId", "quantity", NULL};
    size_t i;
    json_t *e;
    json_array_foreach(items, i, e)
    {
        const char *id = NULL;
        int64_t qty = 0;
        ck_error inner;
        if (!json_is_object(e) || ck_in_only(e, fields, &inner) < 0 ||
            ck_in_str(e, "orderItemId", CK_REQUIRED, CK_ID_MAX - 1, &id, &inner) < 0 ||
            ck_in_int(e, "quantity", CK_REQUIRED, 1, CK_QTY_MAX, &qty, &inner) < 0)
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "items",
                           "items[%zu] must be {\"orderItemId\": \"oitem_...\", \"quantity\": 1 to %d}", i,
                           CK_QTY_MAX);
    }
    rq->items = items;
    return 1;
}

/* GET /v1/fulfillment-orders/{id} */
static int get_fo(ck_req *req, ck_error *err)
{
    json_t *fo = NULL;
    int rc = ck_fo_view(req->db, req->params[0], &fo, err);
    return rc < 0 ? rc : ck_reply(req, 200, fo);
}

static int fo_item_json(ck_req *req, const char *id, json_t **out, ck_error *err)
{
    return ck_fo_view(req->db, id, out, err);
}

/* GET /v1/fulfillment-orders?storeId=&status=&limit=&pageToken= */
static int list_fos(ck_req *req, ck_error *err)
{
    static const char *const statuses[] = {"Allocated", "PartiallyFulfilled", "Fulfilled", "Cancelled", NULL};
    const char *store_id = ck_query(req, "storeId"), *status = ck_query(req, "status"), *after = NULL;
    if (store_id && !ck_id_valid(store_id, "store"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "storeId", "'storeId' is not a store id");
    if (status) {
        int ok = 0;
        for (int i = 0; statuses[i]; i++)
            ok |= strcmp(statuses[i], status) == 0;
        if (!ok)
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "status",
                           "'status' must be one of: Allocated, PartiallyFulfilled, Fulfilled, Cancelled");
    }
    int64_t limit = 0, n = 0;
    int rc = ck_page_params(req, "fo", &limit, &after, err);
    if (rc < 0)
        return rc;
    char (*ids)[CK_ID_MAX] = calloc((size_t)limit, sizeof(*ids));
    if (!ids)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    json_t *items = NULL;
    if ((rc = ck_fo_list_ids(req->db, store_id, status, after, limit, ids, &n, err)) == 0)
        rc = ck_items_from_ids(req, ids, n, fo_item_json, &items, err);
    if (rc == 0)
        rc = ck_reply(req, 200, ck_page(items, limit, n ? ids[n - 1] : NULL));
    free(ids);
    return rc;
}

/* POST /v1/fulfillment-orders/{id}/fulfill {"items","trackingNumber"?}: 200 the fulfillment order. */
static int fulfil(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"items", "trackingNumber", NULL};
    char keybuf[CK_ID_MAX + 260];
    ck_change_req rq = {.amount = -1, .request_key = request_key(req, keybuf, sizeof(keybuf))};
    int rc;
    if ((rc = ck_in_only(req->json, fields, err)) < 0 || (rc = read_items(req->json, CK_REQUIRED, &rq, err)) < 0 ||
        (rc = ck_in_str(req->json, "trackingNumber", CK_OPTIONAL, TRACKING_MAX, &rq.tracking, err)) < 0)
        return rc;
    json_t *fo = NULL;
    if ((rc = ck_fulfil(req->cx, req->db, req->params[0], &rq, &fo, err)) < 0)
        return rc;
    return ck_reply(req, 200, fo);
}

/* POST /v1/orders/{id}/cancel {"items"?}: 200 the order. */
static int cancel(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"items", NULL};
    char keybuf[CK_ID_MAX + 260];
    ck_change_req rq = {.amount = -1, .request_key = request_key(req, keybuf, sizeof(keybuf))};
    int rc = ck_body_optional(req, err);
    if (rc < 0)
        return rc;
    if (req->json && ((rc = ck_in_only(req->json, fields, err)) < 0 ||
                      (rc = read_items(req->json, CK_OPTIONAL, &rq, err)) < 0))
        return rc;
    json_t *order = NULL;
    if ((rc = ck_order_cancel(req->cx, req->db, req->params[0], &rq, &order, err)) < 0)
        return rc;
    return ck_reply(req, 200, order);
}

/* POST /v1/orders/{id}/returns {"items"}: 201 the order with its refunds. */
static int returns(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"items", NULL};
    char keybuf[CK_ID_MAX + 260];
    ck_change_req rq = {.amount = -1, .request_key = request_key(req, keybuf, sizeof(keybuf))};
    int rc;
    if ((rc = ck_in_only(req->json, fields, err)) < 0 || (rc = read_items(req->json, CK_REQUIRED, &rq, err)) < 0)
        return rc;
    json_t *order = NULL;
    if ((rc = ck_order_return(req->cx, req->db, req->params[0], &rq, &order, err)) < 0)
        return rc;
    return ck_reply(req, 201, order);
}

/* POST /v1/orders/{id}/capture {"amount"?}: 201 payment. */
static int capture(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"amount", NULL};
    char keybuf[CK_ID_MAX + 260];
    ck_change_req rq = {.amount = -1, .request_key = request_key(req, keybuf, sizeof(keybuf))};
    int rc = ck_body_optional(req, err);
    if (rc < 0)
        return rc;
    if (req->json && ((rc = ck_in_only(req->json, fields, err)) < 0 ||
                      (rc = ck_in_int(req->json, "amount", CK_OPTIONAL, 1, CK_MONEY_MAX, &rq.amount, err)) < 0))
        return rc;
    json_t *payment = NULL;
    if ((rc = ck_order_capture(req->cx, req->db, &req->user, req->params[0], &rq, &payment, err)) < 0)
        return rc;
    return ck_reply(req, 201, payment);
}

const ck_route ck_routes_fulfillment[] = {
    {"GET", "/v1/fulfillment-orders", list_fos, 0, CK_PERM_FULFILLMENT | CK_PERM_ADMIN},
    {"GET", "/v1/fulfillment-orders/{id}", get_fo, 0, CK_PERM_FULFILLMENT | CK_PERM_ADMIN},
    {"POST", "/v1/fulfillment-orders/{id}/fulfill", fulfil, CK_ROUTE_BODY | CK_ROUTE_OUTBOUND, CK_PERM_FULFILLMENT | CK_PERM_ADMIN},
    {"POST", "/v1/orders/{id}/cancel", cancel, CK_ROUTE_OUTBOUND, CK_PERM_ADMIN},
    {"POST", "/v1/orders/{id}/returns", returns, CK_ROUTE_BODY | CK_ROUTE_OUTBOUND, CK_PERM_ADMIN},
    {"POST", "/v1/orders/{id}/capture", capture, CK_ROUTE_OUTBOUND, CK_PERM_FULFILLMENT | CK_PERM_ADMIN},
    {0},
};
