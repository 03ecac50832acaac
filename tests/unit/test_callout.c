/* test_callout.c: the `http` step's callout against real peers on
 * loopback: what arrives (method, body bytes, a signature recomputed here
 * with OpenSSL, the idempotency key, the content type, no Expect), and how
 * each kind of answer reads (ok, rejected with and without a message,
 * non-2xx, a redirect not followed, bodies that are not JSON, not objects,
 * without a boolean "ok", over the bound; a slow peer, a closed port, a
 * dropped connection, a shutdown before and during the call); then the URL
 * check made when a flow is saved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/fake_http.h"
#include "core/util.h"
#include "flows/callout.h"

#define SECRET "whsec_callout_s3cret"
#define KEY "cs_123:erp/credit_check:2"

/* A peer: what it answers, and what reached it (the last request). */
typedef struct peer {
    fake_http *srv;
    pthread_mutex_t mu;
    int status;
    char *answer;      /* sent as is (a copy per request); NULL: the connection is dropped */
    int sleep_ms;      /* before answering */
    atomic_int *raise; /* set to 1 when a request arrives */
    int calls;
    char *method, *body, *sig, *key, *ctype, *expect; /* NULL when absent */
    size_t body_len;
} peer;

/* The number of requests so far, read under the lock the handler writes under. */
static int calls_of(peer *p)
{
    pthread_mutex_lock(&p->mu);
    int n = p->calls;
    pthread_mutex_unlock(&p->mu);
    return n;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void on_request(void *ud, const fhttp_req *q, fhttp_resp *a)
{
    peer *p = ud;
    pthread_mutex_lock(&p->mu);
    p->calls++;
    free(p->method), free(p->body), free(p->sig), free(p->key), free(p->ctype), free(p->expect);
    p->method = dup_or_null(q->method);
    p->body = q->body ? malloc(q->body_len + 1) : NULL;
    if (p->body)
        memcpy(p->body, q->body, q->body_len + 1);
    p->body_len = q->body_len;
    p->sig = dup_or_null(fhttp_header(q, "X-Checkoutd-Signature"));
    p->key = dup_or_null(fhttp_header(q, "Idempotency-Key"));
    p->ctype = dup_or_null(fhttp_header(q, "Content-Type"));
    p->expect = dup_or_null(fhttp_header(q, "Expect"));
    int status = p->status, sleep_ms = p->sleep_ms;
    char *answer = dup_or_null(p->answer);
    atomic_int *raise = p->raise;
    pthread_mutex_unlock(&p->mu);
    if (raise)
        atomic_store(raise, 1);
    if (sleep_ms)
        fhttp_sleep(q->server, sleep_ms);
    a->status = status;
    a->body = answer;
}

static int setup(void **state)
{
    peer *p = calloc(1, sizeof(*p));
    if (!p)
        return -1;
    pthread_mutex_init(&p->mu, NULL);
    p->status = 200;
    p->answer = strdup("{\"ok\":true}");
    if (!(p->srv = fhttp_start(4 * 1024 * 1024, on_request, NULL, p)))
        return -1;
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    peer *p = *state;
    fhttp_stop(p->srv); /* first: no handler runs after this */
    free(p->method), free(p->body), free(p->sig), free(p->key), free(p->ctype), free(p->expect);
    free(p->answer);
    pthread_mutex_destroy(&p->mu);
    free(p);
    return 0;
}

/* The peer's next answer: status and a JSON document (stolen) or raw text. */
static void answer_json(peer *p, int status, json_t *doc)
{
    assert_non_null(doc);
    free(p->answer);
    p->answer = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    p->status = status;
}

static void answer_raw(peer *p, int status, const char *text)
{
    free(p->answer);
    p->answer = dup_or_null(text);
    p->status = status;
}

/* The body the step would send (the caller builds it; built here with jansson). */
static char *checkout_body(void)
{
    json_t *doc = json_pack("{s:s,s:{s:s,s:[{s:s,s:i}],s:s},s:{s:s}}", "sessionId", "cs_123", "cart", "id",
                            "cart_1", "items", "sku", "SKU-1", "quantity", 3, "total", "76.92", "inputs",
                            "poNumber", "PO-1");
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    assert_non_null(s);
    return s;
}

/* Posts body to the peer's path and checks what holds for every outcome:
 * the secret is in no message. */
static void post(peer *p, const char *path, long timeout_ms, const char *body, atomic_int *abort_flag,
                 ck_callout_result *r)
{
    char url[128];
    fhttp_url(p->srv, path, url, sizeof(url));
    ck_callout_post(url, timeout_ms, SECRET, KEY, body, abort_flag, r);
    assert_null(strstr(r->message, SECRET));
    assert_true(strlen(r->message) < sizeof(r->message));
}

/* "sha256=<hex>" of body with SECRET, by OpenSSL directly. */
static void expected_signature(const char *body, size_t len, char out[80])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)body, len, md, &mdlen));
    assert_int_equal(mdlen, 32);
    int n = snprintf(out, 80, "sha256=");
    for (unsigned i = 0; i < mdlen; i++)
        n += snprintf(out + n, (size_t)(80 - n), "%02x", md[i]);
}

static void sends_signed_post(void **state)
{
    peer *p = *state;
    char *body = checkout_body(), sig[80];
    ck_callout_result r;
    post(p, "/credit", 2000, body, NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.message, "");
    assert_int_equal(calls_of(p), 1);
    assert_string_equal(p->method, "POST");
    assert_int_equal(p->body_len, strlen(body));
    assert_memory_equal(p->body, body, strlen(body));
    expected_signature(body, strlen(body), sig);
    assert_non_null(p->sig);
    assert_string_equal(p->sig, sig);
    assert_non_null(p->key);
    assert_string_equal(p->key, KEY);
    assert_non_null(p->ctype);
    assert_string_equal(p->ctype, "application/json");
    assert_null(p->expect);
    free(body);
}

/* Over 1 MiB libcurl would ask Expect: 100-continue unless told not to. */
static void large_body_without_expect(void **state)
{
    peer *p = *state;
    size_t n = 2 * 1024 * 1024;
    char *pad = malloc(n + 1), sig[80];
    assert_non_null(pad);
    memset(pad, 'x', n);
    pad[n] = '\0';
    json_t *doc = json_pack("{s:s,s:{s:s},s:{}}", "sessionId", "cs_123", "cart", "note", pad, "inputs");
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    free(pad);
    ck_callout_result r;
    post(p, "/credit", 10000, body, NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_OK);
    assert_null(p->expect);
    assert_int_equal(p->body_len, strlen(body));
    assert_memory_equal(p->body, body, strlen(body));
    expected_signature(body, strlen(body), sig);
    assert_string_equal(p->sig, sig);
    free(body);
}

static void rejected_with_message(void **state)
{
    peer *p = *state;
    answer_json(p, 200, json_pack("{s:b,s:s}", "ok", 0, "message", "credit limit exceeded by USD 120.00"));
    ck_callout_result r;
    post(p, "/credit", 2000, "{}", NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_REJECTED);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.message, "credit limit exceeded by USD 120.00");
}

static void rejected_default_message(void **state)
{
    peer *p = *state;
    json_t *cases[] = {json_pack("{s:b}", "ok", 0), json_pack("{s:b,s:i}", "ok", 0, "message", 42),
                       json_pack("{s:b,s:s}", "ok", 0, "message", ""), json_pack("{s:b,s:n}", "ok", 0, "message")};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        answer_json(p, 201, cases[i]);
        ck_callout_result r;
        post(p, "/credit", 2000, "{}", NULL, &r);
        assert_int_equal(r.outcome, CK_CALLOUT_REJECTED);
        assert_int_equal(r.status, 201);
        assert_string_equal(r.message, "the service rejected the checkout");
    }
}

/* The status decides before the body: a 500 saying ok is still a 500. */
static void non_2xx_unavailable(void **state)
{
    peer *p = *state;
    int statuses[] = {500, 503, 404, 400};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        answer_json(p, statuses[i], json_pack("{s:b}", "ok", 1));
        ck_callout_result r;
        char want[32];
        post(p, "/credit", 2000, "{}", NULL, &r);
        snprintf(want, sizeof(want), "HTTP %d", statuses[i]);
        assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
        assert_int_equal(r.status, statuses[i]);
        assert_string_equal(r.message, want);
    }
}

static void bad_answers_unavailable(void **state)
{
    peer *p = *state;
    struct {
        const char *text, *message;
    } cases[] = {
        {"<html>hello</html>", "the answer is not JSON"},
        {"", "the answer is not JSON"},
        {"{\"ok\":true} trailing", "the answer is not JSON"},
        {"[{\"ok\":true}]", "the answer is not a JSON object"},
        {"true", "the answer is not a JSON object"},
        {"{\"ok\":\"yes\"}", "the answer has no boolean \"ok\""},
        {"{\"ok\":1}", "the answer has no boolean \"ok\""},
        {"{\"message\":\"fine\"}", "the answer has no boolean \"ok\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        answer_raw(p, 200, cases[i].text);
        ck_callout_result r;
        post(p, "/credit", 2000, "{}", NULL, &r);
        assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.message, cases[i].message);
    }
}

/* {"ok":true,"pad":"xx..."} of exactly len bytes: a valid OK answer but for its size. */
static json_t *padded_ok(size_t len)
{
    json_t *doc = json_pack("{s:b,s:s}", "ok", 1, "pad", "");
    char *bare = json_dumps(doc, JSON_COMPACT);
    size_t n = len - strlen(bare);
    char *pad = malloc(n + 1);
    assert_non_null(pad);
    memset(pad, 'x', n);
    pad[n] = '\0';
    json_object_set_new(doc, "pad", json_string(pad));
    free(pad);
    free(bare);
    return doc;
}

static void answer_bound(void **state)
{
    peer *p = *state;
    ck_callout_result r;
    answer_json(p, 200, padded_ok(CK_CALLOUT_ANSWER_MAX));
    assert_int_equal(strlen(p->answer), CK_CALLOUT_ANSWER_MAX);
    post(p, "/credit", 2000, "{}", NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_OK);

    answer_json(p, 200, padded_ok(CK_CALLOUT_ANSWER_MAX + 1));
    post(p, "/credit", 2000, "{}", NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.message, "the answer is longer than 65536 bytes");

    answer_json(p, 200, padded_ok(1024 * 1024));
    post(p, "/credit", 2000, "{}", NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
    assert_string_equal(r.message, "the answer is longer than 65536 bytes");

    /* A failing status is the more useful message, whatever the size. */
    answer_json(p, 503, padded_ok(1024 * 1024));
    post(p, "/credit", 2000, "{}", NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
    assert_string_equal(r.message, "HTTP 503");
}

static void long_message_cut(void **state)
{
    peer *p = *state;
    char text[1000];
    for (size_t i = 0; i < sizeof(text) - 1; i++)
        text[i] = (char)('a' + i % 26);
    text[sizeof(text) - 1] = '\0';
    answer_json(p, 200, json_pack("{s:b,s:s}", "ok", 0, "message", text));
    ck_callout_result r;
    post(p, "/credit", 2000, "{}", NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_REJECTED);
    size_t n = strlen(r.message);
    assert_int_equal(n, sizeof(r.message) - 1);
    assert_string_equal(r.message + n - 3, "...");
    assert_memory_equal(r.message, text, n - 3);

    /* "x" then two-byte characters, so that the last byte that would fit
     * is the first of one: the cut falls before it, never inside. */
    char wide[1 + 2 * 300 + 1];
    wide[0] = 'x';
    for (size_t i = 0; i < 300; i++)
        memcpy(wide + 1 + 2 * i, "\xc3\xa9", 2); /* é */
    wide[sizeof(wide) - 1] = '\0';
    answer_json(p, 200, json_pack("{s:b,s:s}", "ok", 0, "message", wide));
    post(p, "/credit", 2000, "{}", NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_REJECTED);
    n = strlen(r.message);
    assert_string_equal(r.message + n - 3, "...");
    assert_int_equal(n, sizeof(r.message) - 2); /* one byte short of full */
    assert_int_equal((unsigned char)r.message[n - 4], 0xa9);
    assert_memory_equal(r.message, wide, n - 3);

    /* A message that fits is kept whole. */
    text[sizeof(r.message) - 1] = '\0';
    answer_json(p, 200, json_pack("{s:b,s:s}", "ok", 0, "message", text));
    post(p, "/credit", 2000, "{}", NULL, &r);
    assert_string_equal(r.message, text);
}

static void slow_peer_times_out(void **state)
{
    peer *p = *state;
    p->sleep_ms = 3000;
    ck_callout_result r;
    int64_t t0 = ck_mono_us();
    post(p, "/credit", 200, "{}", NULL, &r);
    int64_t took_ms = (ck_mono_us() - t0) / 1000;
    assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.message, "timed out after 200 ms");
    assert_true(took_ms < 2000);
    assert_int_equal(calls_of(p), 1);
}

static void closed_port_unavailable(void **state)
{
    (void)state;
    fake_http *gone = fhttp_start(1024, on_request, NULL, NULL);
    assert_non_null(gone);
    char url[128];
    fhttp_url(gone, "/credit", url, sizeof(url));
    fhttp_stop(gone);
    ck_callout_result r;
    ck_callout_post(url, 2000, SECRET, KEY, "{}", NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.message, "the service could not be reached: Couldn't connect to server");
}

static void dropped_connection_unavailable(void **state)
{
    peer *p = *state;
    answer_raw(p, 200, NULL);
    ck_callout_result r;
    post(p, "/credit", 2000, "{}", NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.message, "the service could not be reached: "));
    assert_int_equal(calls_of(p), 1);
}

/* A one-shot server that answers whatever it is sent with a fixed reply:
 * fake_http cannot set a Location header. */
typedef struct raw_peer {
    int fd, port, served, sent_all;
    const char *reply;
    pthread_t thread;
} raw_peer;

static void *raw_serve(void *ud)
{
    raw_peer *rp = ud;
    int c = accept(rp->fd, NULL, NULL);
    if (c < 0)
        return NULL; /* shut down without a caller */
    char buf[8192];
    size_t len = 0, need = 0;
    for (;;) {
        ssize_t n = recv(c, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end && !need) {
            char *cl = strcasestr(buf, "\r\nContent-Length:");
            need = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if ((need && len >= need) || len == sizeof(buf) - 1)
            break;
    }
    for (size_t off = 0, total = strlen(rp->reply); off < total;) {
        ssize_t n = send(c, rp->reply + off, total - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the caller stopped reading */
        off += (size_t)n;
        rp->served = 1;
        rp->sent_all = off == total;
    }
    close(c);
    return NULL;
}

static void raw_start(raw_peer *rp, const char *reply)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    rp->reply = reply;
    rp->served = rp->sent_all = 0;
    rp->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(rp->fd >= 0);
    assert_int_equal(bind(rp->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(rp->fd, 4), 0);
    assert_int_equal(getsockname(rp->fd, (struct sockaddr *)&sa, &sl), 0);
    rp->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&rp->thread, NULL, raw_serve, rp), 0);
}

static void raw_stop(raw_peer *rp)
{
    shutdown(rp->fd, SHUT_RDWR); /* wakes an accept still waiting */
    pthread_join(rp->thread, NULL);
    close(rp->fd);
}

static void redirect_not_followed(void **state)
{
    peer *target = *state;
    char location[128], reply[512], url[128];
    fhttp_url(target->srv, "/moved", location, sizeof(location));
    snprintf(reply, sizeof(reply),
             "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
             "Connection: close\r\n\r\n{\"ok\":true}",
             location);
    raw_peer rp;
    raw_start(&rp, reply);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/credit", rp.port);
    ck_callout_result r;
    ck_callout_post(url, 2000, SECRET, KEY, "{}", NULL, &r);
    raw_stop(&rp);
    assert_int_equal(rp.served, 1);
    assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
    assert_int_equal(r.status, 302);
    assert_string_equal(r.message, "HTTP 302");
    assert_int_equal(calls_of(target), 0);
}

/* Without a Content-Length the bound is found while reading: the call
 * stops there and closes, so the peer cannot hand over all of 16 MiB
 * (more than loopback's socket buffers hold: tcp_wmem 4 MiB at most, and
 * the receiver's window does not grow past what curl reads). */
static void unbounded_answer_cut(void **state)
{
    (void)state;
    size_t n = 16 * 1024 * 1024;
    const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
    json_t *doc = padded_ok(n);
    char *answer = json_dumps(doc, JSON_COMPACT), *reply = malloc(strlen(head) + n + 1);
    json_decref(doc);
    assert_non_null(answer);
    assert_non_null(reply);
    memcpy(reply, head, strlen(head));
    memcpy(reply + strlen(head), answer, n + 1);
    free(answer);
    raw_peer rp;
    raw_start(&rp, reply);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/credit", rp.port);
    ck_callout_result r;
    ck_callout_post(url, 10000, SECRET, KEY, "{}", NULL, &r);
    raw_stop(&rp);
    free(reply);
    assert_int_equal(rp.served, 1);
    assert_int_equal(rp.sent_all, 0);
    assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.message, "the answer is longer than 65536 bytes");
}

static void abort_before_call(void **state)
{
    peer *p = *state;
    atomic_int stop = 1;
    ck_callout_result r;
    post(p, "/credit", 2000, "{}", &stop, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
    assert_string_equal(r.message, "cancelled: checkoutd is shutting down");
    assert_int_equal(calls_of(p), 0);
}

/* The flag rises while the peer holds the answer back for 5 s under a 10 s
 * timeout: only the progress callback can end the call before either. */
static void abort_during_call(void **state)
{
    peer *p = *state;
    atomic_int stop = 0;
    p->raise = &stop;
    p->sleep_ms = 5000;
    ck_callout_result r;
    int64_t t0 = ck_mono_us();
    post(p, "/credit", 10000, "{}", &stop, &r);
    int64_t took_ms = (ck_mono_us() - t0) / 1000;
    assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
    assert_string_equal(r.message, "cancelled: checkoutd is shutting down");
    assert_int_equal(calls_of(p), 1);
    assert_true(took_ms < 4000);
}

static void bad_key_or_url_not_sent(void **state)
{
    peer *p = *state;
    char url[128];
    fhttp_url(p->srv, "/credit", url, sizeof(url));
    const char *keys[] = {"cs_1:x:1\r\nX-Injected: 1", "", NULL};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        ck_callout_result r;
        ck_callout_post(url, 2000, SECRET, keys[i], "{}", NULL, &r);
        assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
        assert_string_equal(r.message, "the idempotency key is not a valid header value");
    }
    ck_callout_result r;
    ck_callout_post("ftp://127.0.0.1/x", 2000, SECRET, KEY, "{}", NULL, &r);
    assert_int_equal(r.outcome, CK_CALLOUT_UNAVAILABLE);
    assert_string_equal(r.message, "the URL must be http or https");
    assert_int_equal(calls_of(p), 0);
}

static void url_check(void **state)
{
    (void)state;
    char msg[128];
    assert_int_equal(ck_callout_url_check("http://127.0.0.1:1/x", msg, sizeof(msg)), 0);
    assert_int_equal(ck_callout_url_check("https://erp.example.com/credit", msg, sizeof(msg)), 0);
    assert_int_equal(ck_callout_url_check("HTTPS://erp.example.com/credit?x=1", msg, sizeof(msg)), 0);
    const char *bad[] = {"ftp://x", "not a url", "http://", "file:///etc/passwd", "", "erp.example.com/credit",
                         "gopher://erp.example.com/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        msg[0] = '\0';
        if (ck_callout_url_check(bad[i], msg, sizeof(msg)) != -1)
            fail_msg("accepted '%s'", bad[i]);
        assert_true(msg[0] != '\0');
    }
    assert_int_equal(ck_callout_url_check(NULL, msg, sizeof(msg)), -1);
    assert_string_equal(msg, "the URL is empty");
    ck_callout_url_check("ftp://x", msg, sizeof(msg));
    assert_string_equal(msg, "the URL must be http or https");
    ck_callout_url_check("file:///etc/passwd", msg, sizeof(msg));
    assert_string_equal(msg, "the URL must be http or https");
    ck_callout_url_check("http://", msg, sizeof(msg));
    assert_non_null(strstr(msg, "the URL does not parse: "));
}

#define CASE(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(sends_signed_post),       CASE(large_body_without_expect), CASE(rejected_with_message),
        CASE(rejected_default_message), CASE(non_2xx_unavailable),      CASE(bad_answers_unavailable),
        CASE(answer_bound),            CASE(long_message_cut),          CASE(slow_peer_times_out),
        CASE(closed_port_unavailable), CASE(dropped_connection_unavailable), CASE(redirect_not_followed), CASE(unbounded_answer_cut),
        CASE(abort_before_call),       CASE(abort_during_call),         CASE(bad_key_or_url_not_sent),
        cmocka_unit_test(url_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
