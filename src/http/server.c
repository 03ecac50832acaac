/* server.c: libmicrohttpd glue and the request pipeline: body limit, route,
 * auth, permission, JSON body, idempotency, transaction, reply, log. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"
#include "core/text.h"
#include "http/http.h"
#include "http/http_internal.h"
#include "store/txguard.h"

/* The largest body past CK_MAX_BODY that is still read (and dropped)
 * before the 413, so the client can finish sending and read the answer. */
#define DRAIN_MAX (16 * 1024 * 1024)

typedef struct conn_ctx {
    char *body;
    size_t len, cap;
    int too_large;
    size_t drained; /* body bytes read and dropped after too_large */
    int answered;   /* dispatched before the body's end (refused, or too large to drain) */
    int raw_nul;  /* the request line's URI holds %00 (decoding would cut the path or a value short) */
    const char *refused; /* why the request is refused with 400, or NULL */
    const char *refused_reason;
    int refused_close; /* and its connection closed (its framing) */
    int64_t start_us;
    ck_req req;           /* the request being answered */
    const ck_route *rt;   /* its route, for an outbound worker */
    ck_job job;           /* its place in the outbound queue */
    _Atomic int outbound; /* OUTBOUND_*: where an outbound route's run is */
    int logged;           /* answer() logged and counted it */
} conn_ctx;

/* on_uri's context for a request line that holds %00, before on_request
 * has one: static, so nothing leaks when libmicrohttpd gives up on the
 * request before calling on_request (its pool full: a 431 of its own),
 * which it does without the completion callback. */
static conn_ctx raw_nul_mark;

enum { OUTBOUND_NONE, OUTBOUND_QUEUED, OUTBOUND_DONE };

const char *ck_query(ck_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *ck_header(ck_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int ck_reply(ck_req *req, int status, json_t *body)
{
    json_decref(req->out);
    req->status = status;
    req->out = body;
    return 0;
}

json_t *ck_error_envelope(const ck_req *req, const ck_error *err)
{
    return ck_error_json(err, req->cx->error_category(err));
}

static void reply_error(ck_req *req, const ck_error *err)
{
    ck_error e = *err;
    int status = req->cx->error_status(&e);
    if (status >= 500 && (e.code == CK_EINTERNAL || e.code == CK_EBUSY)) {
        /* Internal details go to the log, not to the caller. */
        ck_log(CK_LOG_ERROR, "internal error", "requestId", req->request_id, "reason", e.reason, "error", e.message,
               NULL);
        if (strcmp(e.reason, "INTERNAL_ERROR") == 0 || !e.reason[0])
            snprintf(e.message, sizeof(e.message), "internal error; request %s", req->request_id);
    }
    ck_reply(req, status, ck_error_json(&e, req->cx->error_category(&e)));
}

int ck_has_perm(const ck_req *req, unsigned perms)
{
    return (req->user.perms & perms) != 0;
}

/* Parses the body of routes that take one: a JSON object, nothing else. */
static int parse_body(ck_req *req, ck_error *err)
{
    if (req->body_len == 0)
        return ck_fail(err, CK_EJSON, "JSON_PARSER_ERROR", NULL, "the request needs a JSON body");
    json_error_t je;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!j)
        return ck_fail(err, CK_EJSON, "JSON_PARSER_ERROR", NULL, "malformed JSON at line %d column %d: %s",
                       je.line, je.column, je.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return ck_fail(err, CK_EINVALID, "INVALID_BODY", NULL, "the body must be a JSON object");
    }
    req->json = j;
    return 0;
}

/* A route's run inside ck_db_tx, which may run it again after a busy
 * failure: each run starts from what the request was. */
typedef struct route_run {
    ck_req *req;
    const ck_route *rt;
    const char *idem;
    int replayed;   /* the key's stored reply was loaded into req */
    int past_claim; /* the transaction began and the key's claim did not fail */
} route_run;

/* Forgets a stored reply an earlier run loaded. */
static void drop_replay(route_run *r)
{
    free(r->req->out_text);
    r->req->out_text = NULL;
    r->req->replayed = 0;
    r->replayed = 0;
}

/* A CK_ROUTE_TX route's one transaction: the key's claim, the body, the
 * handler and the stored reply. 0 (a replay: nothing was written) or <0. */
static int route_tx(ck_db *db, void *arg, ck_error *err)
{
    route_run *r = arg;
    ck_req *req = r->req;
    int rc;
    (void)db;
    drop_replay(r);
    r->past_claim = 0;
    if (r->idem) {
        if ((rc = ck_idem_claim(req, r->idem, 1, err)) < 0)
            return rc;
        if (rc == 1) {
            r->replayed = 1;
            return 0;
        }
    }
    r->past_claim = 1;
    rc = (r->rt->flags & CK_ROUTE_BODY) && !req->json ? parse_body(req, err) : 0;
    if (rc == 0)
        rc = r->rt->fn(req, err);
    if (rc == 0 && r->idem)
        rc = ck_idem_save(req, r->idem, err);
    return rc;
}

/* Remembers the error reply of a CK_ROUTE_TX route under its key (the
 * route's own transaction was rolled back, so nothing else was written). */
static int remember_error(ck_db *db, void *arg, ck_error *err)
{
    route_run *r = arg;
    (void)db;
    drop_replay(r);
    int rc = ck_idem_claim(r->req, r->idem, 1, err);
    if (rc == 0)
        rc = ck_idem_save(r->req, r->idem, err);
    return rc < 0 ? rc : 0;
}

/* The key's claim, in its own transaction, for routes that manage their own commits. */
static int claim_key(ck_db *db, void *arg, ck_error *err)
{
    route_run *r = arg;
    (void)db;
    drop_replay(r);
    int rc = ck_idem_claim(r->req, r->idem, 0, err);
    if (rc == 1)
        r->replayed = 1;
    return rc < 0 ? rc : 0;
}

/* Runs the handler with its transaction and idempotency rules. */
static void run(ck_req *req, const ck_route *rt)
{
    ck_error err;
    ck_error_clear(&err);
    const char *idem = NULL;
    int rc;

    /* A GET reads in one snapshot, its key's lookup included: one read
     * transaction where each statement would be one of its own (on
     * SQLite each also re-reads the pages another connection changed). */
    if (!(rt->flags & CK_ROUTE_TX) && strcmp(req->method, "GET") == 0) {
        if (!(req->db = ck_ctx_db(req->cx, &err)) || ck_db_snapshot(req->db, &err) < 0)
            goto fail;
    }
    if (!(rt->flags & CK_ROUTE_NOAUTH)) {
        const char *auth = ck_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!auth || strncmp(auth, "Bearer ", 7) != 0) {
            ck_fail(&err, CK_EUNAUTH, "UNAUTHORIZED", NULL, "an 'Authorization: Bearer <apiKey>' header is required");
            goto fail;
        }
        if (!req->db && !(req->db = ck_ctx_db(req->cx, &err)))
            goto fail;
        if ((rc = ck_auth_lookup(req->db, auth + 7, &req->user, &err)) < 0)
            goto fail;
        if (rt->perms && !ck_has_perm(req, rt->perms)) {
            ck_fail(&err, CK_EFORBIDDEN, "FORBIDDEN", NULL, "the caller's permissions do not allow this call");
            goto fail;
        }
        if (strcmp(req->method, "POST") == 0)
            idem = ck_header(req, "Idempotency-Key");
        if (idem && (strlen(idem) == 0 || strlen(idem) > 255)) {
            ck_fail(&err, CK_EINVALID, "INVALID_IDEMPOTENCY_KEY", "Idempotency-Key",
                    "Idempotency-Key must be 1 to 255 characters");
            goto fail;
        }
    }
    if (!req->db && !(req->db = ck_ctx_db(req->cx, &err)))
        goto fail;

    route_run r = {.req = req, .rt = rt, .idem = idem};
    if (rt->flags & CK_ROUTE_TX) {
        rc = ck_db_tx(req->db, 1, route_tx, &r, &err);
        if (r.replayed || rc >= 0)
            return;
        reply_error(req, &err);
        /* A 4xx is the first response too: remember it (nothing else was written). */
        if (idem && r.past_claim && req->status < 500) {
            ck_error ignored;
            ck_error_clear(&ignored);
            ck_db_tx(req->db, 1, remember_error, &r, &ignored);
        }
        return;
    }

    /* Routes that manage their own commits: claim the key in its own
     * transaction first, so a concurrent retry sees it in use. */
    if (idem) {
        rc = ck_db_tx(req->db, 1, claim_key, &r, &err);
        if (r.replayed)
            return;
        if (rc < 0)
            goto fail;
    }
    rc = (rt->flags & CK_ROUTE_BODY) ? parse_body(req, &err) : 0;
    if (rc == 0)
        rc = rt->fn(req, &err);
    ck_db_settle(req->db); /* a handler that left a transaction open wrote nothing */
    if (rc < 0)
        reply_error(req, &err);
    if (idem) {
        if (req->status < 500)
            ck_idem_save(req, idem, NULL);
        else
            ck_idem_release(req, idem);
    }
    return;
fail:
    ck_db_settle(req->db); /* a GET's snapshot */
    reply_error(req, &err);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, ck_req *req)
{
    char *text = NULL;
    if (req->out_text) {
        text = req->out_text;
        req->out_text = NULL;
    } else if (req->out) {
        text = json_dumps(req->out, JSON_COMPACT | JSON_ENCODE_ANY);
    }
    size_t n = text ? strlen(text) : 0;
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE)
        : req->raw ? MHD_create_response_from_buffer(req->raw_len, (void *)req->raw, MHD_RESPMEM_PERSISTENT)
                   : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    if (text) {
        const char *ctype = (req->route && strcmp(req->route, "/metrics") == 0)
                                ? "text/plain; version=0.0.4"
                                : "application/json";
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    } else if (req->raw) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, req->raw_ctype);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    }
    /* The same security headers on every answer, the API's and the admin
     * dashboard's: nothing but this origin, never in a frame, no sniffing. */
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    if (req->status == 405 && req->allow) {
        char allow[CK_METHOD_COUNT * 10] = "";
        size_t len = 0;
        for (int m = 0; m < CK_METHOD_OTHER; m++)
            if (req->allow & (1u << m))
                len += (size_t)snprintf(allow + len, sizeof(allow) - len, "%s%s", len ? ", " : "", ck_method_name(m));
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    }
    if (req->status == 401) {
        /* RFC 6750: the scheme, and invalid_token when a key was sent but is unknown. */
        const char *auth = ck_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                auth && strncmp(auth, "Bearer ", 7) == 0
                                    ? "Bearer realm=\"checkoutd\", error=\"invalid_token\""
                                    : "Bearer realm=\"checkoutd\"");
    }
    if (req->replayed)
        MHD_add_response_header(resp, "Idempotent-Replayed", "true");
    if (req->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, req->location);
    if (req->close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result r = MHD_queue_response(conn, (unsigned)req->status, resp);
    MHD_destroy_response(resp);
    return r;
}

/* The access log: one info record per request; method and route are the
 * client's text (an unknown route logs as "-"), escaped like everything. */
static void log_line(ck_req *req, int64_t us, int answered)
{
    char method[32]; /* the client's bytes: made UTF-8 for the record */
    snprintf(method, sizeof(method), "%s", req->method ? req->method : "-");
    ck_utf8_repair(method);
    json_t *f = json_pack("{s:s, s:s, s:s, s:i, s:I}", "requestId", req->request_id, "method", method, "route",
                          req->route ? req->route : "-", "status", req->status, "us", (json_int_t)us);
    if (!answered) /* the client closed before its answer could be sent */
        json_object_set_new(f, "answered", json_false());
    ck_log_obj(CK_LOG_INFO, "request", f);
}

/* libmicrohttpd's own messages (MHD_USE_ERROR_LOG), as records too. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0 || !msg) {
        ck_log(CK_LOG_WARN, "(a libmicrohttpd message that could not be formatted)", "source", "libmicrohttpd", NULL);
        return;
    }
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    ck_log(CK_LOG_WARN, msg, "source", "libmicrohttpd", NULL);
    free(msg);
}

/* After the handler, on whichever thread ran it: a reply there must be, and
 * nothing is answered before every commit it could tell of is on disk. The
 * database connection was that thread's own. */
static void settle_reply(ck_req *req)
{
    if (!req->status) {
        ck_error err;
        ck_error_clear(&err);
        ck_fail(&err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "handler set no reply");
        reply_error(req, &err);
    }
    if (req->db)
        ck_db_durable(req->db, NULL);
    req->db = NULL;
}

static void free_reply(ck_req *req)
{
    json_decref(req->out);
    json_decref(req->json);
    free(req->out_text);
    req->out = req->json = NULL;
    req->out_text = NULL;
}

/* Sends the settled reply, logs and counts the request. */
static enum MHD_Result answer(ck_ctx *cx, struct MHD_Connection *conn, conn_ctx *cc)
{
    ck_req *req = &cc->req;
    enum MHD_Result r = send_reply(conn, req);
    int64_t us = ck_mono_us() - cc->start_us;
    log_line(req, us, 1);
    ck_metrics_http(&cx->metrics, req->route_id, ck_method_index(req->method), req->status, us);
    cc->logged = 1;
    free_reply(req);
    return r;
}

/* An outbound worker's run of a suspended request (pool.c), and what
 * stands in for it when the pool stops before it ran. */
static void run_outbound(void *arg)
{
    conn_ctx *cc = arg;
    run(&cc->req, cc->rt);
    settle_reply(&cc->req);
    cc->outbound = OUTBOUND_DONE;
    MHD_resume_connection(cc->req.conn); /* its HTTP worker calls on_request again: answer() */
}

static void cancel_outbound(void *arg)
{
    conn_ctx *cc = arg;
    ck_error err;
    ck_error_clear(&err);
    ck_fail(&err, CK_EINTERNAL, "SHUTTING_DOWN", NULL, "checkoutd is stopping; nothing was done, try again");
    reply_error(&cc->req, &err);
    cc->req.close = 1;
    cc->outbound = OUTBOUND_DONE;
    MHD_resume_connection(cc->req.conn);
}

static enum MHD_Result dispatch(ck_ctx *cx, struct MHD_Connection *conn, const char *method,
                                const char *url, conn_ctx *cc)
{
    ck_req *req = &cc->req;
    memset(req, 0, sizeof(*req));
    req->cx = cx;
    req->conn = conn;
    req->method = method;
    req->path = url;
    req->body = cc->body;
    req->body_len = cc->len;
    req->route_id = -1;
    ck_id_new(req->request_id, "rid");
    if (ck_conns_phase(cx->http, conn, CK_CONN_BUSY))
        return MHD_NO; /* the watchdog closed it past its deadline */

    ck_error err;
    ck_error_clear(&err);
    int mismatch = 0;
    const ck_route *rt = NULL;
    if (cc->refused) {
        ck_fail(&err, CK_EINVALID, cc->refused_reason, NULL, "%s", cc->refused);
        reply_error(req, &err);
        req->close = cc->refused_close;
    } else if (cc->too_large) {
        ck_fail(&err, CK_ETOOLARGE, "PAYLOAD_TOO_LARGE", NULL, "request bodies are limited to %d bytes", CK_MAX_BODY);
        reply_error(req, &err);
        req->close = cc->refused_close;
    } else if (!(rt = ck_route_match(method, url, req, &mismatch))) {
        if (mismatch)
            ck_fail(&err, CK_EMETHOD, "METHOD_NOT_ALLOWED", NULL, "%s is not allowed on %s", method, url);
        else
            ck_fail(&err, CK_ENOTFOUND, "ROUTE_NOT_FOUND", NULL, "no route %s", url);
        reply_error(req, &err);
    } else {
        req->route = rt->pattern;
        if (rt->flags & CK_ROUTE_OUTBOUND) {
            /* Suspended first, so the worker's resume cannot come before it. */
            cc->rt = rt;
            cc->outbound = OUTBOUND_QUEUED;
            cc->job = (ck_job){.fn = run_outbound, .cancel = cancel_outbound, .arg = cc};
            MHD_suspend_connection(conn);
            if (ck_pool_submit(cx->http, &cc->job) == 0)
                return MHD_YES;
            MHD_resume_connection(conn); /* the pool is stopping: run it here */
            cc->outbound = OUTBOUND_NONE;
        }
        run(req, rt);
    }
    settle_reply(req);
    return answer(cx, conn, cc);
}

/* The headers that frame a request or name its caller, counted. */
typedef struct framing {
    int content_length, transfer_encoding, authorization;
    const char *cl_value, *te_value;
} framing;

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    framing *f = cls;
    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->content_length++;
        f->cl_value = value;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding++;
        f->te_value = value;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0) {
        f->authorization++;
    }
    return MHD_YES;
}

/* RFC 9112 section 6.3: a request whose body two HTTP parsers could frame
 * differently (a proxy in front of us and libmicrohttpd) is refused, and its
 * connection closed, so no request can hide behind it; and a request with
 * two Authorization headers names two callers. Returns why (and sets
 * *reason), or NULL when the headers are sound. */
static const char *refuse_framing(struct MHD_Connection *conn, const char *version, const char **reason)
{
    framing f = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &f);
    *reason = "AMBIGUOUS_FRAMING";
    if (f.content_length > 1)
        return "a request may carry one Content-Length header";
    if (f.transfer_encoding > 1)
        return "a request may carry one Transfer-Encoding header";
    if (f.content_length && f.transfer_encoding)
        return "a request may carry Content-Length or Transfer-Encoding, not both";
    if (f.transfer_encoding && strcasecmp(f.te_value, "chunked") != 0)
        return "Transfer-Encoding must be exactly 'chunked'";
    if (f.transfer_encoding && strcmp(version, MHD_HTTP_VERSION_1_1) != 0)
        return "Transfer-Encoding needs HTTP/1.1";
    if (f.content_length) {
        const char *v = f.cl_value;
        size_t n = strspn(v, "0123456789");
        if (n == 0 || v[n] != '\0' || n > 19)
            return "Content-Length must be a decimal number of bytes";
    }
    if (f.authorization > 1) {
        *reason = "DUPLICATE_HEADER";
        return "a request may carry one Authorization header";
    }
    return NULL;
}

/* Called with the request line's URI before libmicrohttpd decodes it: a
 * %00 would decode to a NUL that cuts the path (or a query value) short, so
 * "/healthz%00x" would be answered as "/healthz". Returns on_request's
 * first *con_cls: raw_nul_mark for such a URI, else NULL. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    ck_ctx *cx = cls;
    ck_conns_phase(cx->http, conn, CK_CONN_HEADERS);
    return strstr(uri, "%00") ? &raw_nul_mark : NULL;
}

static enum MHD_Result check_utf8(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    int *bad = cls;
    (void)kind;
    json_t *k = json_string(key), *v = value ? json_string(value) : json_null();
    *bad |= !k || !v;
    json_decref(k);
    json_decref(v);
    return *bad ? MHD_NO : MHD_YES;
}

/* A path or query that is not text: 400 INVALID_PATH (sets *reason), or NULL. */
static const char *refuse_path(struct MHD_Connection *conn, const char *url, const conn_ctx *cc, const char **reason)
{
    *reason = "INVALID_PATH";
    if (cc->raw_nul)
        return "the path or query holds %00";
    int bad = 0;
    check_utf8(&bad, MHD_GET_ARGUMENT_KIND, url, NULL); /* jansson's UTF-8 check */
    if (!bad)
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_utf8, &bad);
    return bad ? "the path and query must be UTF-8 once percent-decoded" : NULL;
}

/* Answers before the request's body is read (or read whole). */
static enum MHD_Result answer_now(ck_ctx *cx, struct MHD_Connection *conn, const char *method, const char *url,
                                  conn_ctx *cc)
{
    cc->answered = 1;
    return dispatch(cx, conn, method, url, cc);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    ck_ctx *cx = cls;
    conn_ctx *cc = *con_cls;
    if (!cc || cc == &raw_nul_mark) {
        int raw_nul = cc == &raw_nul_mark;
        if (!(cc = calloc(1, sizeof(*cc)))) {
            *con_cls = NULL;
            return MHD_NO;
        }
        cc->raw_nul = raw_nul;
        cc->start_us = ck_mono_us();
        *con_cls = cc;
        atomic_fetch_add(&cx->metrics.in_flight, 1);
        if (ck_conns_phase(cx->http, conn, CK_CONN_BODY))
            return MHD_NO; /* the watchdog closed it past its header deadline */
        if ((cc->refused = refuse_framing(conn, version, &cc->refused_reason))) {
            cc->refused_close = 1;
            return answer_now(cx, conn, method, url, cc);
        }
        if ((cc->refused = refuse_path(conn, url, cc, &cc->refused_reason)))
            return answer_now(cx, conn, method, url, cc);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long length = cl ? strtoull(cl, NULL, 10) : 0;
        if (length > CK_MAX_BODY) {
            cc->too_large = 1;
            /* A body up to DRAIN_MAX is read and dropped, then answered 413:
             * answering at once and closing while the client still sends
             * makes its TCP stack reset the connection, and the client
             * may never read the 413. A larger one is answered at once
             * and the connection closed. */
            if (length <= DRAIN_MAX)
                return MHD_YES;
            cc->refused_close = 1;
            return answer_now(cx, conn, method, url, cc);
        }
        return MHD_YES;
    }
    if (cc->outbound == OUTBOUND_DONE) { /* resumed by its outbound worker */
        cc->outbound = OUTBOUND_NONE;
        return answer(cx, conn, cc);
    }
    if (cc->outbound == OUTBOUND_QUEUED)
        return MHD_YES;
    if (cc->answered) { /* answered before its body: the rest is dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        if (cc->too_large || cc->len + *upload_size > CK_MAX_BODY) {
            /* A body past the limit: keep nothing, drain, answer 413 at the
             * end; past DRAIN_MAX (a chunked body has no end we know of)
             * answer now and close. */
            cc->too_large = 1;
            cc->drained += cc->len + *upload_size;
            free(cc->body);
            cc->body = NULL;
            cc->len = cc->cap = 0;
            *upload_size = 0;
            if (cc->drained > DRAIN_MAX) {
                cc->refused_close = 1;
                return answer_now(cx, conn, method, url, cc);
            }
            return MHD_YES;
        }
        if (cc->len + *upload_size + 1 > cc->cap) {
            size_t ncap = cc->cap ? cc->cap : 4096;
            while (ncap < cc->len + *upload_size + 1)
                ncap *= 2;
            char *nb = realloc(cc->body, ncap);
            if (!nb)
                return MHD_NO;
            cc->body = nb;
            cc->cap = ncap;
        }
        memcpy(cc->body + cc->len, upload, *upload_size);
        cc->len += *upload_size;
        cc->body[cc->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    return dispatch(cx, conn, method, url, cc);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    ck_ctx *cx = cls;
    conn_ctx *cc = *con_cls;
    (void)toe;
    ck_conns_phase(cx->http, conn, CK_CONN_IDLE);
    if (cc && cc != &raw_nul_mark) {
        /* A request run (an outbound worker's) whose client closed before
         * the answer could be sent: logged as not answered, its reply freed. */
        if (cc->req.request_id[0] && !cc->logged && cc->req.status)
            log_line(&cc->req, ck_mono_us() - cc->start_us, 0);
        free_reply(&cc->req);
        atomic_fetch_sub(&cx->metrics.in_flight, 1);
        free(cc->body);
        free(cc);
        *con_cls = NULL;
    }
}

/* The connection cap, within the process's open-file limit: the soft limit
 * is raised to the hard one (1024 by default, which cut new clients off
 * past about a thousand connections), and a cap that still does not fit
 * is lowered, leaving room for database files, sockets and logs. */
static unsigned connection_cap(const ck_ctx *cx)
{
    struct rlimit rl;
    unsigned cap = (unsigned)cx->cfg.max_connections;
    /* libmicrohttpd gives each worker cap / workers: at least one each. */
    if (cap < (unsigned)cx->cfg.workers)
        cap = (unsigned)cx->cfg.workers;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return cap;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t room = (rlim_t)cx->cfg.workers * 2 + 128;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)cap + room) {
        unsigned fit = rl.rlim_cur > room + 16 ? (unsigned)(rl.rlim_cur - room) : 16;
        char want[24], got[24];
        snprintf(want, sizeof(want), "%u", cap);
        snprintf(got, sizeof(got), "%u", fit);
        ck_log(CK_LOG_WARN, "--max-connections lowered to fit the open-file limit (ulimit -n)", "asked", want,
               "cap", got, NULL);
        cap = fit;
    }
    return cap;
}

int ck_http_start(ck_ctx *cx, const ck_route *const *tables, ck_error *err)
{
    ck_router_use(tables);
    unsigned cap = connection_cap(cx);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cx->cfg.port);
    if (inet_pton(AF_INET, cx->listen_host, &sa.sin_addr) != 1)
        return ck_fail(err, CK_EINVALID, "BAD_LISTEN", "listen", "--listen needs an IPv4 address, not '%s'",
                       cx->listen_host);
    struct ck_http_state *hs = calloc(1, sizeof(*hs));
    if (!hs)
        return ck_fail(err, CK_EINTERNAL, "OUT_OF_MEMORY", NULL, "out of memory");
    hs->cx = cx;
    hs->tls = cx->cfg.tls_cert_pem != NULL;
    hs->cap = cap;
    cx->http = hs;
    if (ck_conns_start(hs) < 0 || ck_pool_start(hs, cx->cfg.outbound_workers) < 0) {
        ck_http_stop(cx);
        return ck_fail(err, CK_EINTERNAL, "THREADS", NULL, "cannot start the HTTP watchdog or outbound workers");
    }
    /* libmicrohttpd's own inactivity timeout stays above ours: it is what
     * closes a client that stops reading its answer. */
    unsigned inactivity = 60;
    if ((unsigned)cx->cfg.idle_timeout > inactivity)
        inactivity = (unsigned)cx->cfg.idle_timeout;
    if ((unsigned)cx->cfg.body_timeout > inactivity)
        inactivity = (unsigned)cx->cfg.body_timeout;
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    struct MHD_OptionItem opts[16];
    size_t n = 0;
#define OPT(o, v, p) (opts[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)})
    OPT(MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL); /* first: it logs the others */
    OPT(MHD_OPTION_SOCK_ADDR, 0, &sa);
    OPT(MHD_OPTION_THREAD_POOL_SIZE, cx->cfg.workers, NULL);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, cx);
    OPT(MHD_OPTION_URI_LOG_CALLBACK, on_uri, cx);
    OPT(MHD_OPTION_NOTIFY_CONNECTION, ck_conns_notify, hs);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, inactivity, NULL);
    OPT(MHD_OPTION_CONNECTION_LIMIT, cap, NULL);
    OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, cx->cfg.max_connections_per_ip, NULL);
    /* Each connection's buffer for its request line, headers and reply
     * headers (bodies are ours, up to 1 MiB): 32 KiB, so 2,000 idle
     * keep-alive connections hold 64 MiB, not 512. */
    OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32 * 1024, NULL);
    if (cx->cfg.tls_cert_pem) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            ck_http_stop(cx);
            return ck_fail(err, CK_EINVALID, "TLS_UNSUPPORTED", "tls", "this libmicrohttpd was built without TLS");
        }
        flags |= MHD_USE_TLS;
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cx->cfg.tls_cert_pem);
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cx->cfg.tls_key_pem);
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    /* poll, not epoll (AUTO picks epoll on Linux): libmicrohttpd 0.9.75's
     * MHD_quiesce_daemon removes the listen socket from each pool worker's
     * epoll set while the workers run, and aborted the process ("Failed to
     * remove listen FD from epoll set") in about one full test run in five
     * at SIGTERM. With poll, quiescing only flags the workers through their
     * ITC. */
    cx->mhd = MHD_start_daemon(flags, (uint16_t)cx->cfg.port, NULL, NULL, on_request, cx, MHD_OPTION_ARRAY, opts,
                               MHD_OPTION_END);
    if (!cx->mhd)
        ck_http_stop(cx);
    if (!cx->mhd && cx->cfg.tls_cert_pem)
        return ck_fail(err, CK_EINVALID, "TLS_FAILED", "tls",
                       "cannot listen on %s:%d with this certificate and key (libmicrohttpd's record above says why)",
                       cx->listen_host, cx->cfg.port);
    if (!cx->mhd)
        return ck_fail(err, CK_EINTERNAL, "LISTEN_FAILED", "listen", "cannot listen on %s:%d", cx->listen_host,
                       cx->cfg.port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(cx->mhd, MHD_DAEMON_INFO_BIND_PORT);
    cx->port = info ? info->port : cx->cfg.port;
    return 0;
}

void ck_http_stop(ck_ctx *cx)
{
    MHD_socket s = MHD_INVALID_SOCKET;
    if (cx->mhd) {
        s = MHD_quiesce_daemon(cx->mhd);
        /* Finish requests in flight (bounded), then stop the workers. The
         * quiesced listen socket may be closed only after MHD_stop_daemon. */
        for (int i = 0; i < 3000 && atomic_load(&cx->metrics.in_flight) > 0; i++)
            usleep(10000);
    }
    struct ck_http_state *hs = cx->http;
    /* Outbound requests not yet started are answered 500 SHUTTING_DOWN and
     * their connections resumed before libmicrohttpd stops: it must not
     * stop with a connection suspended. */
    if (hs)
        ck_pool_stop(hs);
    if (cx->mhd) {
        MHD_stop_daemon(cx->mhd);
        cx->mhd = NULL;
        if (s != MHD_INVALID_SOCKET)
            close(s);
    }
    if (hs) {
        ck_conns_stop(hs); /* every connection's close notice came with MHD_stop_daemon */
        free(hs);
        cx->http = NULL;
    }
}
