/* flows.c: GET /v1/flows, GET and PUT /v1/flows/{id}, POST
 * /v1/flows/{id}/clone and /v1/flows/{id}/activate (API.md "Flows"): parse
 * the body, call the flows domain (flows/flows.h), answer the flow. */
#include <stdint.h>
#include <string.h>

#include "api/common.h"
#include "api/routes.h"
#include "flows/flows.h"

/* Replies with flow id as store_id sees it (NULL: as itself). */
static int reply_flow(ck_req *req, int status, const char *id, const char *store_id, ck_error *err)
{
    json_t *j = NULL;
    int rc = ck_flow_view(req->db, id, store_id, &j, err);
    return rc < 0 ? rc : ck_reply(req, status, j);
}

static int list_flows(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after, *store_id = ck_query(req, "storeId");
    json_t *items = NULL;
    char last[CK_ID_MAX];
    int rc;
    if ((rc = ck_page_params(req, "flow", &limit, &after, err)) < 0)
        return rc;
    if (store_id && strncmp(store_id, "store_", 6) != 0)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "storeId", "'storeId' must be a store id (store_...)");
    if ((rc = ck_flow_list(req->db, store_id, after, limit, &items, last, err)) < 0)
        return rc;
    /* The standard flow leads the first page and counts toward no limit. */
    int64_t stored = (int64_t)json_array_size(items) - (after[0] ? 0 : 1);
    json_t *next = stored == limit && last[0] ? json_string(last) : json_null();
    return ck_reply(req, 200, json_pack("{s:o, s:o}", "items", items, "nextPageToken", next));
}

static int get_flow(ck_req *req, ck_error *err)
{
    const char *store_id = ck_query(req, "storeId");
    return reply_flow(req, 200, req->params[0], store_id, err);
}

static int clone_flow(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"name", "storeId", NULL};
    const char *name = NULL, *store_id = NULL;
    char id[CK_ID_MAX];
    int rc;
    if ((rc = ck_body_optional(req, err)) < 0 ||
        (req->json && ((rc = ck_in_only(req->json, fields, err)) < 0 ||
                       (rc = ck_in_str(req->json, "name", CK_OPTIONAL, CK_NAME_MAX, &name, err)) < 0 ||
                       (rc = ck_in_id(req->json, "storeId", CK_OPTIONAL, "store", &store_id, err)) < 0)) ||
        (rc = ck_flow_clone(req->db, req->params[0], name, store_id, id, err)) < 0)
        return rc;
    return reply_flow(req, 201, id, NULL, err);
}

static int put_flow(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"name", "steps", NULL};
    const char *name = NULL;
    json_t *steps = NULL;
    int rc;
    if ((rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_str(req->json, "name", CK_OPTIONAL, CK_NAME_MAX, &name, err)) < 0 ||
        /* Bounded by the body's size; the flow's own bound (CK_FLOW_STEPS_MAX,
         * subflows' children counted) is the parser's, as INVALID_FLOW. */
        (rc = ck_in_array(req->json, "steps", CK_REQUIRED, SIZE_MAX, &steps, err)) < 0 ||
        (rc = ck_flow_update(req->db, req->params[0], name, steps, err)) < 0)
        return rc;
    return reply_flow(req, 200, req->params[0], NULL, err);
}

static int activate_flow(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"storeId", NULL};
    const char *store_id = NULL;
    int rc;
    if ((rc = ck_body_optional(req, err)) < 0 ||
        (req->json && ((rc = ck_in_only(req->json, fields, err)) < 0 ||
                       (rc = ck_in_id(req->json, "storeId", CK_OPTIONAL, "store", &store_id, err)) < 0)) ||
        (rc = ck_flow_activate(req->db, req->params[0], store_id, err)) < 0)
        return rc;
    return reply_flow(req, 200, req->params[0], store_id, err);
}

const ck_route ck_routes_flows[] = {
    {"GET", "/v1/flows", list_flows, 0, CK_PERM_ADMIN},
    {"GET", "/v1/flows/{id}", get_flow, 0, CK_PERM_ADMIN},
    {"PUT", "/v1/flows/{id}", put_flow, CK_ROUTE_BODY, CK_PERM_ADMIN},
    {"POST", "/v1/flows/{id}/clone", clone_flow, 0, CK_PERM_ADMIN},
    {"POST", "/v1/flows/{id}/activate", activate_flow, 0, CK_PERM_ADMIN},
    {0},
};
