/* stores.c: POST and GET /v1/stores, GET/PATCH /v1/stores/{id}, PUT /v1/stores/{id}/gateway. */
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/routes.h"
#include "store/stores.h"

/* Replies with the store as JSON, or 404. */
static int reply_store(ck_req *req, int status, const char *id, ck_error *err)
{
    json_t *j = NULL;
    int rc = ck_stores_json(req->db, id, &j, err);
    return rc < 0 ? rc : ck_reply(req, status, j);
}

static int read_currency(json_t *body, int required, const char **out, ck_error *err)
{
    int rc = ck_in_str(body, "currency", required, 3, out, err);
    if (rc <= 0)
        return rc;
    const char *c = *out;
    if (strlen(c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' || c[2] < 'A' || c[2] > 'Z')
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "currency",
                       "'currency' must be a three-letter ISO 4217 code such as USD");
    return 1;
}

/* embargoedCountries as canonical JSON text in *out (caller frees), when present. */
static int read_embargoed(json_t *body, char **out, ck_error *err)
{
    json_t *arr = NULL;
    int rc = ck_in_array(body, "embargoedCountries", CK_OPTIONAL, 300, &arr, err);
    if (rc <= 0)
        return rc;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *c = json_is_string(v) ? json_string_value(v) : "";
        if (strlen(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z')
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "embargoedCountries",
                           "'embargoedCountries' must hold two-letter upper-case country codes");
    }
    *out = ck_json_text(arr);
    return 1;
}

static const char *const store_fields[] = {"name", "currency", "slaSeconds",
                                           "staleAuthorizationSeconds", "embargoedCountries", NULL};

/* Reads a store body (store_fields) into in, name and currency with
 * presence `need` (CK_REQUIRED to create, CK_OPTIONAL to patch); *emb (the
 * caller frees it) is embargoedCountries as stored, NULL when absent. */
static int read_store(json_t *b, int need, ck_store_fields *in, char **emb, ck_error *err)
{
    int rc;
    if ((rc = ck_in_only(b, store_fields, err)) < 0 ||
        (rc = ck_in_str(b, "name", need, CK_NAME_MAX, &in->name, err)) < 0 ||
        (rc = read_currency(b, need, &in->currency, err)) < 0 ||
        (rc = ck_in_int(b, "slaSeconds", CK_OPTIONAL, 1, 30 * 86400, &in->sla_seconds, err)) < 0 ||
        (rc = ck_in_int(b, "staleAuthorizationSeconds", CK_OPTIONAL, 1, 30 * 86400, &in->stale_auth_seconds,
                        err)) < 0 ||
        (rc = read_embargoed(b, emb, err)) < 0)
        return rc;
    in->embargoed_countries = *emb;
    return 0;
}

static int create_store(ck_req *req, ck_error *err)
{
    ck_store_fields in = {.sla_seconds = 900, .stale_auth_seconds = 86400};
    char *emb = NULL, id[CK_ID_MAX];
    int rc;
    if ((rc = read_store(req->json, CK_REQUIRED, &in, &emb, err)) < 0)
        return rc;
    rc = ck_stores_insert(req->db, &in, id, err);
    free(emb);
    return rc < 0 ? rc : reply_store(req, 201, id, err);
}

static int get_store(ck_req *req, ck_error *err)
{
    return reply_store(req, 200, req->params[0], err);
}

static int patch_store(ck_req *req, ck_error *err)
{
    const char *id = req->params[0];
    ck_store_fields in = {0};
    char *emb = NULL;
    int rc;
    if ((rc = read_store(req->json, CK_OPTIONAL, &in, &emb, err)) < 0)
        return rc;
    rc = ck_stores_update(req->db, id, &in, err);
    free(emb);
    if (rc < 0)
        return rc;
    return rc == 0 ? ck_not_found(err, "store", id) : reply_store(req, 200, id, err);
}

static int put_gateway(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"kind", "url", "secret", NULL};
    static const char *const kinds[] = {"test", "http", NULL};
    json_t *b = req->json;
    const char *id = req->params[0], *kind = NULL, *url = NULL, *secret = NULL;
    int rc;
    if ((rc = ck_in_only(b, fields, err)) < 0 ||
        (rc = ck_in_enum(b, "kind", CK_REQUIRED, kinds, &kind, err)) < 0)
        return rc;
    int http = strcmp(kind, "http") == 0;
    if ((rc = ck_in_url(b, "url", http, 0, &url, err)) < 0 ||
        (rc = ck_in_str(b, "secret", http, 512, &secret, err)) < 0)
        return rc;
    if (!http && (url || secret))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", url ? "url" : "secret",
                       "the test gateway takes no url or secret");
    if ((rc = ck_stores_set_gateway(req->db, id, kind, url, secret, err)) < 0)
        return rc;
    return rc == 0 ? ck_not_found(err, "store", id) : reply_store(req, 200, id, err);
}

/* GET /v1/stores: every store, oldest first. */
static int list_stores(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after;
    json_t *items = NULL;
    char last[CK_ID_MAX];
    int rc;
    if ((rc = ck_page_params(req, "store", &limit, &after, err)) < 0 ||
        (rc = ck_stores_list(req->db, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}

const ck_route ck_routes_stores[] = {
    {"GET", "/v1/stores", list_stores, 0, CK_PERM_ADMIN},
    {"POST", "/v1/stores", create_store, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"GET", "/v1/stores/{id}", get_store, 0, CK_PERM_ADMIN},
    {"PATCH", "/v1/stores/{id}", patch_store, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"PUT", "/v1/stores/{id}/gateway", put_gateway, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {0},
};
