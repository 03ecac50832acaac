/* stores.c: POST and GET /v1/stores, GET/PATCH /v1/stores/{id}, PUT /v1/stores/{id}/gateway. */
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/routes.h"

#define STORE_COLS "id, name, currency, sla_seconds, stale_auth_seconds, embargoed_countries," \
                   " active_flow_id, gateway_kind, gateway_url, created_at, updated_at"

static json_t *store_json(ck_stmt *st)
{
    json_t *emb = json_loads(ck_col_text(st, 5), 0, NULL);
    json_t *gw = json_pack("{s:s}", "kind", ck_col_text(st, 7));
    if (!ck_col_null(st, 8))
        json_object_set_new(gw, "url", json_string(ck_col_text(st, 8)));
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:s, s:o, s:o, s:o}", "id", ck_col_text(st, 0),
                     "name", ck_col_text(st, 1), "currency", ck_col_text(st, 2), "slaSeconds",
                     (json_int_t)ck_col_int(st, 3), "staleAuthorizationSeconds",
                     (json_int_t)ck_col_int(st, 4), "embargoedCountries", emb ? emb : json_array(),
                     "activeFlowId", ck_col_text(st, 6), "gateway", gw, "createdAt",
                     ck_json_time(ck_col_int(st, 9)), "updatedAt", ck_json_time(ck_col_int(st, 10)));
}

/* Replies with the store, or 404. */
static int reply_store(ck_req *req, int status, const char *id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(req->db, &st, err, "SELECT " STORE_COLS " FROM stores WHERE id = ?", "t", id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "store", id);
    json_t *j = store_json(st);
    ck_db_done(st);
    return ck_reply(req, status, j);
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

static int create_store(ck_req *req, ck_error *err)
{
    json_t *b = req->json;
    const char *name = NULL, *currency = NULL;
    int64_t sla = 900, stale = 86400;
    char *emb = NULL, id[CK_ID_MAX];
    int rc;
    if ((rc = ck_in_only(b, store_fields, err)) < 0 ||
        (rc = ck_in_str(b, "name", CK_REQUIRED, CK_NAME_MAX, &name, err)) < 0 ||
        (rc = read_currency(b, CK_REQUIRED, &currency, err)) < 0 ||
        (rc = ck_in_int(b, "slaSeconds", CK_OPTIONAL, 1, 30 * 86400, &sla, err)) < 0 ||
        (rc = ck_in_int(b, "staleAuthorizationSeconds", CK_OPTIONAL, 1, 30 * 86400, &stale, err)) < 0 ||
        (rc = read_embargoed(b, &emb, err)) < 0)
        return rc;
    ck_id_new(id, "store");
    int64_t now = ck_now_ms();
    rc = ck_db_exec(req->db, NULL, err,
                    "INSERT INTO stores (id, name, currency, sla_seconds, stale_auth_seconds,"
                    " embargoed_countries, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    "tttiitii", id, name, currency, sla, stale, emb ? emb : "[]", now, now);
    free(emb);
    return rc < 0 ? rc : reply_store(req, 201, id, err);
}

static int get_store(ck_req *req, ck_error *err)
{
    return reply_store(req, 200, req->params[0], err);
}

static int patch_store(ck_req *req, ck_error *err)
{
    json_t *b = req->json;
    const char *id = req->params[0], *name = NULL, *currency = NULL;
    int64_t sla = 0, stale = 0;
    char *emb = NULL;
    int rc;
    if ((rc = ck_in_only(b, store_fields, err)) < 0 ||
        (rc = ck_in_str(b, "name", CK_OPTIONAL, CK_NAME_MAX, &name, err)) < 0 ||
        (rc = read_currency(b, CK_OPTIONAL, &currency, err)) < 0 ||
        (rc = ck_in_int(b, "slaSeconds", CK_OPTIONAL, 1, 30 * 86400, &sla, err)) < 0 ||
        (rc = ck_in_int(b, "staleAuthorizationSeconds", CK_OPTIONAL, 1, 30 * 86400, &stale, err)) < 0 ||
        (rc = read_embargoed(b, &emb, err)) < 0)
        return rc;
    int64_t changed = 0;
    rc = ck_db_exec(req->db, &changed, err,
                    "UPDATE stores SET name = COALESCE(?, name), currency = COALESCE(?, currency),"
                    " sla_seconds = CASE WHEN ? > 0 THEN ? ELSE sla_seconds END,"
                    " stale_auth_seconds = CASE WHEN ? > 0 THEN ? ELSE stale_auth_seconds END,"
                    " embargoed_countries = COALESCE(?, embargoed_countries), updated_at = ? WHERE id = ?",
                    "ttiiiitit", name, currency, sla, sla, stale, stale, emb, ck_now_ms(), id);
    free(emb);
    if (rc < 0)
        return rc;
    if (changed == 0)
        return ck_not_found(err, "store", id);
    return reply_store(req, 200, id, err);
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
    int64_t changed = 0;
    rc = ck_db_exec(req->db, &changed, err,
                    "UPDATE stores SET gateway_kind = ?, gateway_url = ?, gateway_secret = ?, updated_at = ?"
                    " WHERE id = ?",
                    "tttit", kind, url, secret, ck_now_ms(), id);
    if (rc < 0)
        return rc;
    if (changed == 0)
        return ck_not_found(err, "store", id);
    return reply_store(req, 200, id, err);
}

/* GET /v1/stores: every store, oldest first. */
static int list_stores(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after;
    ck_stmt *st = NULL;
    int rc;
    if ((rc = ck_page_params(req, "store", &limit, &after, err)) < 0 ||
        (rc = ck_db_query(req->db, &st, err, "SELECT " STORE_COLS " FROM stores WHERE id > ? ORDER BY id LIMIT ?",
                          "ti", after, limit)) < 0)
        return rc;
    return ck_reply_page(req, st, store_json, limit, err);
}

const ck_route ck_routes_stores[] = {
    {"GET", "/v1/stores", list_stores, 0, CK_PERM_ADMIN},
    {"POST", "/v1/stores", create_store, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"GET", "/v1/stores/{id}", get_store, 0, CK_PERM_ADMIN},
    {"PATCH", "/v1/stores/{id}", patch_store, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"PUT", "/v1/stores/{id}/gateway", put_gateway, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {0},
};
