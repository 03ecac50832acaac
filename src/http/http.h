/* http.h: the request object, routes and reply helpers every handler uses. */
#ifndef CK_HTTP_H
#define CK_HTTP_H

#include <jansson.h>
#include <stddef.h>

#include "checkout/db.h"
#include "checkout/error.h"
#include "core/context.h"
#include "core/json.h"
#include "core/user.h"
#include "core/util.h"

#define CK_MAX_PARAMS 4

typedef struct ck_req {
    ck_ctx *cx;
    ck_db *db;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const char *route; /* the matched pattern, for logs */
    int route_id;      /* the template's index (ck_route_name), -1 when none matched */
    unsigned allow;    /* after a 405: the path's methods, bits 1 << CK_METHOD_* */
    char params[CK_MAX_PARAMS][128];
    const char *body;
    size_t body_len;
    json_t *json; /* the body as an object (routes with CK_ROUTE_BODY) */
    ck_user user;
    char request_id[CK_ID_MAX];
    /* The reply. */
    int status;
    json_t *out;     /* owned; NULL with 204 */
    char *out_text;  /* a stored reply replayed verbatim (idempotency) */
    int replayed;
    const char *location;
    const char *idem_redact; /* a top-level reply field never stored for replay (a secret shown once) */
    /* A reply that is not JSON (the admin dashboard's files): static bytes,
     * not owned, with their Content-Type; used when out and out_text are NULL. */
    const void *raw;
    size_t raw_len;
    const char *raw_ctype;
    int close; /* answer with Connection: close (the request's framing was refused) */
} ck_req;

typedef int (*ck_handler)(ck_req *req, ck_error *err);

enum {
    CK_ROUTE_NOAUTH = 1 << 0, /* no API key needed */
    CK_ROUTE_BODY = 1 << 1,   /* the body must be a JSON object */
    CK_ROUTE_TX = 1 << 2,     /* run inside one write transaction (commit on success) */
    CK_ROUTE_OUTBOUND = 1 << 3, /* may call out (gateway, http steps, webhooks): runs on an outbound worker */
};

typedef struct ck_route {
    const char *method;
    const char *pattern; /* "/v1/stores/{id}/members/{accountId}"; a last "{*name}" takes the rest of the path */
    ck_handler fn;
    unsigned flags;
    unsigned perms; /* the caller needs one of these; 0 = any authenticated caller */
} ck_route;

/* The route tables (each NULL-terminated; the list too) that the router
 * matches against: api's, handed over at start by ck_http_start. The first
 * list given wins for the life of the process. */
void ck_router_use(const ck_route *const *tables);

/* Starts the HTTP server with these route tables; stops it (waiting for the
 * requests in flight, bounded). */
int ck_http_start(ck_ctx *cx, const ck_route *const *tables, ck_error *err);
void ck_http_stop(ck_ctx *cx);

/* Each resource file of api exports a NULL-terminated table. Matching
 * sets req->route_id; when only the method is wrong, *method_mismatch and
 * req->allow (the methods the path does have). */
const ck_route *ck_route_match(const char *method, const char *path, ck_req *req, int *method_mismatch);

/* The route templates of every table, each once: how many, and the name of
 * index id ("unmatched" for -1), as the `route` label of the HTTP metrics. */
int ck_route_count(void);
const char *ck_route_name(int id);

/* Sets the reply: status and body (stolen). */
int ck_reply(ck_req *req, int status, json_t *body);

/* The REST error envelope for err, with api's category (ck_error_json). */
json_t *ck_error_envelope(const ck_req *req, const ck_error *err);

/* A query-string value, or NULL. */
const char *ck_query(ck_req *req, const char *name);
/* A request header, or NULL. */
const char *ck_header(ck_req *req, const char *name);

/* Caller has any of perms. */
int ck_has_perm(const ck_req *req, unsigned perms);

/* Can the caller buy for account_id? Admins and integrators: any existing
 * account; buyers: the accounts given to them. Returns 1, 0, or <0. */
int ck_can_buy_for(ck_req *req, const char *account_id, ck_error *err);

/* Authentication: the user owning an API key. 0, CK_EUNAUTH or <0. */
int ck_auth_lookup(ck_db *db, const char *api_key, ck_user *out, ck_error *err);

/* Idempotency (idem.c). claim: 0 go on, 1 a stored reply was loaded into req,
 * <0 error (409 in use, 422 reused). save: stores req's reply. */
int ck_idem_claim(ck_req *req, const char *key, int in_tx, ck_error *err);
int ck_idem_save(ck_req *req, const char *key, ck_error *err);
int ck_idem_release(ck_req *req, const char *key);
int ck_idem_purge(ck_db *db, ck_error *err);


#endif
