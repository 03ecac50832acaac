/* http_harness.c: the in-process daemon of the HTTP fuzz targets and the
 * checks of every answer (http_harness.h). A connection is one end of a
 * socketpair whose other end is handed to libmicrohttpd (MHD_add_connection,
 * as if accepted from 127.0.0.1); FUZZ_HTTP_TCP=1 connects to the server's
 * loopback port instead. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/errors.h"
#include "api/routes.h"
#include "core/context.h"
#include "http_harness.h"
#include "http/http.h"
#include "store/migrations.h"
#include "store/users.h"

#define WAIT_MS 3000
/* The answers of one input, at most: pipelined GET /metrics (no key needed) after
 * a long campaign filled its series table answer about 200 KB each. */
#define RAW_MAX (64 * 1024 * 1024)

/* The sanitizers' report channel, when linked (weak: the Release replay has none). */
void __sanitizer_report_error_summary(const char *error_summary) __attribute__((weak));

static struct {
    int ready, tcp, verbose;
    int allow_empty_error; /* FUZZ_HTTP_ALLOW_EMPTY_ERROR=1: the known bug below is counted, not fatal */
    long empty_errors;
    ck_ctx cx;
    char dir[128], db[192];
    struct {
        const char *name;
        char value[128];
    } ids[24];
    int nids;
} H;

void fz_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "fuzz http: %s\n", msg);
    if (__sanitizer_report_error_summary) {
        char line[1100];
        snprintf(line, sizeof(line), "fuzz http: broken promise: %s", msg);
        __sanitizer_report_error_summary(line);
    }
    abort();
}

void fz_say(const char *fmt, ...)
{
    if (!H.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("  ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *fz_id(const char *name)
{
    for (int i = 0; i < H.nids; i++)
        if (strcmp(H.ids[i].name, name) == 0)
            return H.ids[i].value;
    return NULL;
}

static void set_id(const char *name, const char *value)
{
    if (!value || strlen(value) >= sizeof(H.ids[0].value) || H.nids == (int)(sizeof(H.ids) / sizeof(H.ids[0])))
        fz_fail("setup: no usable %s", name);
    H.ids[H.nids].name = name;
    snprintf(H.ids[H.nids].value, sizeof(H.ids[0].value), "%s", value);
    H.nids++;
}

char *fz_subst(const char *s, size_t len, size_t *out_len)
{
    size_t cap = len + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        fz_fail("out of memory");
    for (size_t i = 0; i < len;) {
        const char *v = NULL;
        size_t nl = 0;
        if (s[i] == '$') {
            while (i + 1 + nl < len && ((s[i + 1 + nl] >= 'a' && s[i + 1 + nl] <= 'z') ||
                                        (s[i + 1 + nl] >= '0' && s[i + 1 + nl] <= '9')))
                nl++;
            char name[32];
            if (nl > 0 && nl < sizeof(name)) {
                memcpy(name, s + i + 1, nl);
                name[nl] = '\0';
                v = fz_id(name);
            }
        }
        size_t add = v ? strlen(v) : 1;
        if (n + add + 1 > cap) {
            cap = (n + add + 1) * 2;
            char *grown = realloc(out, cap);
            if (!grown)
                fz_fail("out of memory");
            out = grown;
        }
        if (v) {
            memcpy(out + n, v, add);
            i += 1 + nl;
        } else {
            out[n] = s[i++];
        }
        n += add;
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

/* A new connection to the daemon: our end, non-blocking. */
static int connect_daemon(void)
{
    int fd;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (H.tcp) {
        if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
            fz_fail("socket: %s", strerror(errno));
        sa.sin_port = htons((uint16_t)H.cx.port);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            fz_fail("connect to 127.0.0.1:%d: %s", H.cx.port, strerror(errno));
        /* No TIME_WAIT left behind per input: the close resets. */
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    } else {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
            fz_fail("socketpair: %s", strerror(errno));
        sa.sin_port = htons(40000);
        /* libmicrohttpd takes sv[1] (and closes it, also on failure). It
         * treats it as TCP, as its listen socket is: its warnings that
         * TCP_NODELAY and TCP_CORK fail on it are expected. */
        if (MHD_add_connection(H.cx.mhd, sv[1], (struct sockaddr *)&sa, sizeof(sa)) != MHD_YES)
            fz_fail("MHD_add_connection: %s", strerror(errno));
        fd = sv[0];
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Writes data, half-closes (when half_close), reads until the daemon
 * closes: the bytes read in *raw. */
static void converse(const void *data, size_t len, int half_close, char **raw, size_t *raw_len)
{
    int fd = connect_daemon();
    size_t off = 0, n = 0, cap = 4096;
    char *buf = malloc(cap);
    int wr_done = 0;
    int64_t deadline = now_ms() + WAIT_MS;
    if (!buf)
        fz_fail("out of memory");
    if (len == 0) {
        if (half_close)
            shutdown(fd, SHUT_WR);
        wr_done = 1;
    }
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            fz_fail("the daemon neither closed the connection nor answered in %d ms (%zu of %zu bytes written, %zu read)",
                    WAIT_MS, off, len, n);
        struct pollfd p = {fd, (short)(POLLIN | (wr_done ? 0 : POLLOUT)), 0};
        if (poll(&p, 1, (int)left) < 0) {
            if (errno == EINTR)
                continue;
            fz_fail("poll: %s", strerror(errno));
        }
        if (!wr_done && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send(fd, (const char *)data + off, len - off, MSG_NOSIGNAL);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                wr_done = 1; /* the daemon closed its end: read what it said */
            if (off == len && !wr_done) {
                if (half_close)
                    shutdown(fd, SHUT_WR);
                wr_done = 1;
            }
        }
        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
            if (n == cap) {
                if (cap >= RAW_MAX)
                    fz_fail("more than %d bytes of answers", RAW_MAX);
                char *grown = realloc(buf, cap * 2);
                if (!grown)
                    fz_fail("out of memory");
                buf = grown;
                cap *= 2;
            }
            ssize_t r = recv(fd, buf + n, cap - n, 0);
            if (r > 0)
                n += (size_t)r;
            else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                break; /* closed (or reset) */
        }
    }
    close(fd);
    *raw = buf;
    *raw_len = n;
}

static int is_str(json_t *o, const char *k, int nonempty)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && (!nonempty || *s);
}

/* API.md's error envelope: [{"errorCode","reason","message"[,"field"]}, ...]. */
static int error_object(json_t *e)
{
    json_t *field = json_object_get(e, "field");
    return json_is_object(e) && is_str(e, "errorCode", 1) && is_str(e, "reason", 1) && is_str(e, "message", 0) &&
           (!field || json_is_string(field) || json_is_null(field));
}

/* The session actions' envelope: [{"actionName","isSuccess","errors":[{"statusCode","reason","message"}]}]. */
static int action_result(json_t *r)
{
    json_t *errors = json_object_get(r, "errors");
    if (!json_is_object(r) || !is_str(r, "actionName", 1) || !json_is_boolean(json_object_get(r, "isSuccess")) ||
        !json_is_array(errors))
        return 0;
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e) if (!json_is_object(e) || !is_str(e, "statusCode", 1) || !is_str(e, "reason", 1) ||
                                         !is_str(e, "message", 0)) return 0;
    return 1;
}

/* The reason of an envelope's first error, or NULL when j is no envelope. */
static const char *envelope_reason(json_t *j)
{
    if (!json_is_array(j) || json_array_size(j) == 0)
        return NULL;
    size_t i;
    json_t *e;
    int errors = 1, actions = 1;
    json_array_foreach(j, i, e)
    {
        errors &= error_object(e);
        actions &= action_result(e);
    }
    json_t *e0 = json_array_get(j, 0);
    if (errors)
        return json_string_value(json_object_get(e0, "reason"));
    if (actions) {
        for (i = 0; i < json_array_size(j); i++) {
            json_t *errs = json_object_get(json_array_get(j, i), "errors");
            if (json_array_size(errs))
                return json_string_value(json_object_get(json_array_get(errs, 0), "reason"));
        }
        return "";
    }
    return NULL;
}

static int header_is(const char *line, size_t n, const char *name, const char **value, size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return 0;
    const char *v = line + k + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    *value = v;
    *vlen = (size_t)(end - v);
    return 1;
}

/* Parses and checks the answer at *pos; returns 0 and moves *pos past it. */
static void read_answer(const char *raw, size_t len, size_t *pos, fz_answer *a)
{
    const char *p = raw + *pos;
    size_t left = len - *pos;
    memset(a, 0, sizeof(*a));
    if (left < 13 || (memcmp(p, "HTTP/1.1 ", 9) != 0 && memcmp(p, "HTTP/1.0 ", 9) != 0) || p[9] < '1' ||
        p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' || p[12] != ' ')
        fz_fail("an answer at byte %zu does not start with a status line: '%.40s'", *pos, p);
    a->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    const char *end = memmem(p, left, "\r\n\r\n", 4);
    if (!end)
        fz_fail("an answer's headers do not end (status %d)", a->status);
    size_t head_len = (size_t)(end - p) + 4;
    long long clen = -1;
    int nosniff = 0, allow = 0, www_auth = 0, chunked = 0;
    const char *line = memchr(p, '\n', head_len) + 1;
    while (line < end) {
        const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        size_t n = (size_t)(eol - line);
        const char *v;
        size_t vl;
        if (header_is(line, n, "Content-Length", &v, &vl)) {
            char num[24];
            if (vl == 0 || vl >= sizeof(num) || strspn(v, "0123456789") < vl)
                fz_fail("an answer's Content-Length is not a number");
            memcpy(num, v, vl);
            num[vl] = '\0';
            clen = atoll(num);
        } else if (header_is(line, n, "X-Request-Id", &v, &vl)) {
            a->ours = 1;
        } else if (header_is(line, n, "Connection", &v, &vl)) {
            a->close = vl >= 5 && strncasecmp(v, "close", 5) == 0;
        } else if (header_is(line, n, "Content-Type", &v, &vl)) {
            snprintf(a->ctype, sizeof(a->ctype), "%.*s", (int)vl, v);
        } else if (header_is(line, n, "X-Content-Type-Options", &v, &vl)) {
            nosniff = vl == 7 && memcmp(v, "nosniff", 7) == 0;
        } else if (header_is(line, n, "Allow", &v, &vl)) {
            allow = vl > 0;
        } else if (header_is(line, n, "WWW-Authenticate", &v, &vl)) {
            www_auth = vl >= 6 && strncmp(v, "Bearer", 6) == 0;
        } else if (header_is(line, n, "Transfer-Encoding", &v, &vl)) {
            chunked = 1;
        }
        line = eol + 2;
    }
    *pos += head_len;
    left -= head_len;
    if (a->status < 200) { /* 100 Continue: no headers of note, no body */
        if (a->ours)
            fz_fail("an interim %d of ours", a->status);
        return;
    }
    if (chunked)
        fz_fail("a %d answer with Transfer-Encoding: every answer has a known length", a->status);
    if (clen < 0 && (a->status == 204 || a->status == 304))
        clen = 0; /* RFC 9110 8.6: none on a 204 */
    if (clen < 0)
        fz_fail("a %d answer without Content-Length", a->status);
    if (clen > 0 && (left == 0 || (left >= 7 && memcmp(raw + *pos, "HTTP/1.", 7) == 0))) {
        a->bodyless = 1; /* the answer to a HEAD */
    } else {
        if ((size_t)clen > left)
            fz_fail("a %d answer's body has %zu of its %lld bytes", a->status, left, clen);
        a->body = raw + *pos;
        a->body_len = (size_t)clen;
        *pos += (size_t)clen;
    }
    if (!a->ours) {
        static const int mhd_status[] = {400, 413, 414, 417, 431, 501, 505};
        int known = 0;
        for (size_t i = 0; i < sizeof(mhd_status) / sizeof(mhd_status[0]); i++)
            known |= a->status == mhd_status[i];
        if (!known)
            fz_fail("a %d answer without X-Request-Id (libmicrohttpd's own are 4xx or 501/505)", a->status);
        return;
    }
    if (!nosniff)
        fz_fail("a %d answer of ours without the security headers", a->status);
    if (a->status == 405 && !allow)
        fz_fail("a 405 without Allow");
    if (a->status == 401 && !www_auth)
        fz_fail("a 401 without WWW-Authenticate: Bearer");
    if (a->status == 204 && clen != 0)
        fz_fail("a 204 with a body");
    if (a->bodyless || a->status == 204)
        return;
    if (a->status >= 400 && a->body_len == 0 && !a->ctype[0] && H.allow_empty_error) {
        /* fuzz/crashes/http/envelope-lost-*: a message cut inside a UTF-8
         * character, or holding the client's non-UTF-8 bytes, makes
         * ck_error_json fail and the error goes out without a body. */
        H.empty_errors++;
        return;
    }
    if (strcmp(a->ctype, "application/json") != 0) {
        if (a->status != 200)
            fz_fail("a %d answer of ours that is not application/json but '%s'", a->status, a->ctype);
        return; /* /metrics and the admin dashboard's files */
    }
    json_error_t je;
    a->json = json_loadb(a->body, a->body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!a->json)
        fz_fail("a %d answer's body is not JSON: %s: '%.80s'", a->status, je.text, a->body);
    if (a->status >= 400) {
        if (!(a->reason = envelope_reason(a->json))) {
            char *t = json_dumps(a->json, JSON_COMPACT | JSON_ENCODE_ANY);
            fz_fail("a %d answer without the error envelope: %.300s", a->status, t ? t : "?");
        }
        if (a->status >= 500 && strcmp(a->reason, "INVALID_CART_ID") != 0 &&
            strcmp(a->reason, "EXTENSION_UNAVAILABLE") != 0 && strcmp(a->reason, "PAYMENT_GATEWAY_ERROR") != 0) {
            char *t = json_dumps(a->json, JSON_COMPACT | JSON_ENCODE_ANY);
            fz_fail("a %d answer (an internal error): %.300s", a->status, t ? t : "?");
        }
        if ((strcmp(a->reason, "AMBIGUOUS_FRAMING") == 0 || strcmp(a->reason, "DUPLICATE_HEADER") == 0) &&
            !a->close)
            fz_fail("a refused framing (%s) without Connection: close", a->reason);
    }
}

void fz_exchange_free(fz_exchange *x)
{
    json_decref(x->first.json);
    free(x->raw);
    memset(x, 0, sizeof(*x));
}

void fz_send(const void *data, size_t len, int half_close, fz_exchange *x)
{
    fz_setup();
    memset(x, 0, sizeof(*x));
    converse(data, len, half_close, &x->raw, &x->raw_len);
    if (H.verbose >= 2)
        fprintf(stderr, "--- %zu bytes read:\n%.*s\n---\n", x->raw_len, (int)x->raw_len, x->raw);
    size_t pos = 0;
    int closed = 0;
    while (pos < x->raw_len) {
        fz_answer a;
        read_answer(x->raw, x->raw_len, &pos, &a);
        if (a.status < 200)
            continue;
        fz_say("answer %d: %d%s %s%s%s", x->count + 1, a.status, a.ours ? "" : " (libmicrohttpd)",
               a.reason ? a.reason : "", a.close ? " close" : "", a.bodyless ? " bodyless" : "");
        /* libmicrohttpd 0.9.75 writes some of its own refusals twice (the
         * first time its headers only, e.g. for "Content-Length:" with no
         * value): tolerated, but after an answer with Connection: close no
         * answer of ours may follow. */
        if (closed && a.ours)
            fz_fail("an answer of ours follows one with Connection: close");
        if (a.close && pos < x->raw_len && a.ours)
            fz_fail("%zu bytes follow an answer with Connection: close", x->raw_len - pos);
        closed |= a.close;
        if (x->count++ == 0)
            x->first = a;
        else
            json_decref(a.json);
    }
    /* The connection is closed: its requests have all completed. */
    for (int i = 0; atomic_load(&H.cx.metrics.in_flight) != 0; i++) {
        if (i == 2000)
            fz_fail("%lld requests still in flight 2 s after their connection closed",
                    (long long)atomic_load(&H.cx.metrics.in_flight));
        usleep(1000);
    }
}

void fz_request(const char *method, const char *path, const char *key, const char *headers, const char *body,
                size_t body_len, fz_exchange *x)
{
    char auth[300] = "";
    if (key)
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", key);
    char *req = NULL;
    int n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     method, path, auth, headers ? headers : "", body ? body_len : 0);
    if (n < 0)
        fz_fail("out of memory");
    size_t total = (size_t)n + (body ? body_len : 0);
    char *all = malloc(total + 1);
    if (!all)
        fz_fail("out of memory");
    memcpy(all, req, (size_t)n);
    if (body)
        memcpy(all + n, body, body_len);
    free(req);
    fz_send(all, total, 0, x);
    free(all);
    if (x->count != 1)
        fz_fail("%s %s: %d answers, not one", method, path, x->count);
}

/* A setup call that must succeed with status: returns the answer's JSON (borrowed from x). */
static json_t *setup_call(fz_exchange *x, const char *method, const char *path_fmt, const char *key, int status,
                          const char *body_fmt, ...)
{
    char path[512], body[2048];
    va_list ap;
    va_start(ap, body_fmt);
    vsnprintf(body, sizeof(body), body_fmt, ap);
    va_end(ap);
    size_t pl;
    char *p = fz_subst(path_fmt, strlen(path_fmt), &pl);
    snprintf(path, sizeof(path), "%s", p);
    free(p);
    size_t bl;
    char *b = fz_subst(body, strlen(body), &bl);
    fz_request(method, path, key, NULL, bl ? b : NULL, bl, x);
    free(b);
    if (x->first.status != status)
        fz_fail("setup: %s %s: %d, not %d: %.300s", method, path, x->first.status, status,
                x->first.body ? x->first.body : "");
    return x->first.json;
}

static void teardown(void)
{
    if (!H.ready)
        return;
    if (H.allow_empty_error)
        fprintf(stderr, "fuzz http: %ld error answers without their envelope (FUZZ_HTTP_ALLOW_EMPTY_ERROR)\n",
                H.empty_errors);
    ck_http_stop(&H.cx);
    ck_ctx_close(&H.cx);
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char f[256];
        snprintf(f, sizeof(f), "%s%s", H.db, suffix[i]);
        unlink(f);
    }
    rmdir(H.dir);
    H.ready = 0;
}

/* The shop every target's $names refer to. */
static void make_shop(void)
{
    fz_exchange x;
    const char *K = FZ_ADMIN_KEY;
    json_t *j;
#define ID(name, key) set_id(name, json_string_value(json_object_get(j, key)))
    j = setup_call(&x, "POST", "/v1/stores", K, 201, "{\"name\":\"Fuzz\",\"currency\":\"USD\"}");
    ID("store", "id");
    fz_exchange_free(&x);
    setup_call(&x, "PUT", "/v1/stores/$store/gateway", K, 200, "{\"kind\":\"test\"}");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/accounts", K, 201,
                   "{\"name\":\"Acme\",\"isBuyer\":true,\"creditLimit\":100000000,\"prepaidBalance\":50000,"
                   "\"hazmatApproved\":false,\"country\":\"US\"}");
    ID("account", "id");
    fz_exchange_free(&x);
    setup_call(&x, "POST", "/v1/stores/$store/members", K, 201, "{\"accountId\":\"$account\"}");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/users", K, 201,
                   "{\"name\":\"Buyer\",\"email\":\"buyer@example.com\",\"permissions\":[\"buyer\"]}");
    ID("user", "id");
    ID("buyerkey", "apiKey");
    fz_exchange_free(&x);
    setup_call(&x, "POST", "/v1/users/$user/accounts", K, 201, "{\"accountId\":\"$account\"}");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/users", K, 201,
                   "{\"name\":\"Integrator\",\"email\":\"int@example.com\",\"permissions\":[\"integrator\"]}");
    ID("user2", "id");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/stores/$store/products", K, 201,
                   "{\"sku\":\"FZ-1\",\"name\":\"Widget\",\"unitPrice\":1999,\"stock\":100000000,\"minQuantity\":1,"
                   "\"priceTiers\":[{\"minQuantity\":10,\"unitPrice\":1799}],\"hazmat\":false,"
                   "\"exportControlled\":false,\"weightGrams\":500,\"active\":true}");
    ID("product", "id");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/stores/$store/shipping-methods", K, 201,
                   "{\"name\":\"Ground\",\"flatFee\":1000,\"perKgFee\":100}");
    ID("shm", "id");
    fz_exchange_free(&x);
    setup_call(&x, "POST", "/v1/stores/$store/tax-rates", K, 201, "{\"country\":\"US\",\"rateBasisPoints\":825}");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/contracts", K, 201, "{\"accountId\":\"$account\",\"amount\":500000}");
    ID("contract", "id");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/subscribers", K, 201,
                   "{\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:9/hook\",\"secret\":\"s3cret\","
                   "\"events\":[\"OrderCreated\"],\"maxAttempts\":2,\"backoffBaseMs\":1000}");
    ID("subscriber", "id");
    fz_exchange_free(&x);
    /* One order placed (purchase order), for the order and fulfillment routes. */
    const char *B = fz_id("buyerkey");
    j = setup_call(&x, "POST", "/v1/stores/$store/carts", B, 201, "{\"accountId\":\"$account\"}");
    ID("cart0", "id");
    fz_exchange_free(&x);
    setup_call(&x, "POST", "/v1/carts/$cart0/items", B, 201, "{\"productId\":\"$product\",\"quantity\":2}");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/checkouts", B, 201, "{\"cartId\":\"$cart0\"}");
    j = json_object_get(j, "session");
    ID("checkout0", "id");
    fz_exchange_free(&x);
    setup_call(&x, "PATCH", "/v1/checkouts/$checkout0", B, 200,
               "{\"shippingAddress\":{\"name\":\"A\",\"street\":\"1 Main St\",\"city\":\"Springfield\","
               "\"region\":\"IL\",\"postalCode\":\"62701\",\"country\":\"US\"},\"shippingMethodId\":\"$shm\","
               "\"payment\":{\"method\":\"purchase_order\",\"poNumber\":\"PO-FZ-1\"}}");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/checkouts/$checkout0/place-order", B, 201, "%s", "");
    ID("order", "orderId");
    j = json_array_get(json_object_get(json_object_get(j, "order"), "items"), 0);
    ID("orderitem", "id");
    fz_exchange_free(&x);
    j = setup_call(&x, "GET", "/v1/fulfillment-orders", K, 200, "%s", "");
    j = json_array_get(json_object_get(j, "items"), 0);
    ID("fo", "id");
    fz_exchange_free(&x);
    /* A cart with an item, and a session of another cart, for the fuzzed edits. */
    j = setup_call(&x, "POST", "/v1/stores/$store/carts", B, 201, "{\"accountId\":\"$account\"}");
    ID("cart", "id");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/carts/$cart/items", B, 201, "{\"productId\":\"$product\",\"quantity\":3}");
    ID("item", "id");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/stores/$store/carts", B, 201, "{\"accountId\":\"$account\"}");
    ID("cart1", "id");
    fz_exchange_free(&x);
    setup_call(&x, "POST", "/v1/carts/$cart1/items", B, 201, "{\"productId\":\"$product\",\"quantity\":1}");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/checkouts", B, 201, "{\"cartId\":\"$cart1\"}");
    j = json_object_get(j, "session");
    ID("checkout", "id");
    fz_exchange_free(&x);
    j = setup_call(&x, "POST", "/v1/flows/flow_standard/clone", K, 201, "{\"storeId\":\"$store\"}");
    ID("flow", "id");
    fz_exchange_free(&x);
#undef ID
}

void fz_setup(void)
{
    if (H.ready)
        return;
    H.ready = 1;
    H.verbose = getenv("FUZZ_HTTP_VERBOSE") ? atoi(getenv("FUZZ_HTTP_VERBOSE")) : 0;
    H.tcp = getenv("FUZZ_HTTP_TCP") && *getenv("FUZZ_HTTP_TCP") == '1';
    H.allow_empty_error = getenv("FUZZ_HTTP_ALLOW_EMPTY_ERROR") && *getenv("FUZZ_HTTP_ALLOW_EMPTY_ERROR") == '1';
    /* Outbound calls (an http gateway, a flow's http step, a webhook) go to
     * a proxy port nothing listens on: refused at once, never a wait. */
    setenv("http_proxy", "http://127.0.0.1:9", 1);
    setenv("https_proxy", "http://127.0.0.1:9", 1);
    setenv("ALL_PROXY", "http://127.0.0.1:9", 1);
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    snprintf(H.dir, sizeof(H.dir), "%s/ckfuzz-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(H.dir))
        fz_fail("mkdtemp %s: %s", H.dir, strerror(errno));
    snprintf(H.db, sizeof(H.db), "%s/fuzz.db", H.dir);
    char url[256];
    snprintf(url, sizeof(url), "sqlite:%s", H.db);

    ck_app_config cfg;
    ck_app_config_defaults(&cfg);
    cfg.listen_host = "127.0.0.1";
    cfg.port = 0;
    cfg.db_url = url;
    cfg.workers = 2;
    cfg.sqlite_synchronous_full = 0;
    ck_error err;
    ck_error_clear(&err);
    H.cx.error_status = ck_api_status;
    H.cx.error_category = ck_api_category;
    if (ck_ctx_init(&H.cx, &cfg, &err) < 0 || ck_migrate(H.cx.main_db, &err) < 0 ||
        ck_user_ensure_admin_key(H.cx.main_db, FZ_ADMIN_KEY, &err) < 0 ||
        ck_http_start(&H.cx, ck_api_routes(), &err) < 0)
        fz_fail("setup: %s: %s", err.reason, err.message);
    atexit(teardown);
    int verbose = H.verbose;
    H.verbose = 0;
    make_shop();
    H.verbose = verbose;
}
