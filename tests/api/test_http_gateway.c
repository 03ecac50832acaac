/* test_http_gateway.c: the `http` gateway adapter (payments/http_gateway.c)
 * against the in-process fake gateway (api/fake_gateway.h). No daemon. The
 * 10 s timeout case is slow, so it runs only with CK_SLOW_TESTS=1. */
#include "api/harness.h"
#include "api/fake_gateway.h"
#include "payments/gateway.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct fixture {
    fake_gateway *fgw;
    ck_gw_config cfg;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->fgw = fgw_start();
    assert_non_null(f->fgw);
    snprintf(f->cfg.kind, sizeof(f->cfg.kind), "http");
    fgw_url(f->fgw, f->cfg.url, sizeof(f->cfg.url));
    snprintf(f->cfg.secret, sizeof(f->cfg.secret), "s3cret-value");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fgw_stop(f->fgw);
    free(f);
    return 0;
}

static ck_gw_answer authorize(const ck_gw_config *cfg, const char *key, int64_t amount, const char *token)
{
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a));
    assert_int_equal(ck_gateway_http.authorize(cfg, NULL, key, amount, "USD", token, "cs_ref", &a), 0);
    return a;
}

static ck_gw_answer capture(const ck_gw_config *cfg, const char *key, const char *auth, int64_t amount)
{
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a));
    assert_int_equal(ck_gateway_http.capture(cfg, NULL, key, auth, amount, &a), 0);
    return a;
}

static ck_gw_answer void_auth(const ck_gw_config *cfg, const char *key, const char *auth)
{
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a));
    assert_int_equal(ck_gateway_http.void_auth(cfg, NULL, key, auth, &a), 0);
    return a;
}

static void authorize_by_token(void **state)
{
    fixture *f = *state;
    ck_gw_answer a = authorize(&f->cfg, "cs_1:payment:1", 7692, "tok_visa");
    assert_int_equal(a.result, CK_GW_APPROVED);
    assert_int_equal(strncmp(a.ref_id, "fgw_auth_", 9), 0);
    assert_int_equal(a.amount, 7692);

    a = authorize(&f->cfg, "cs_2:payment:1", 7692, "tok_decline");
    assert_int_equal(a.result, CK_GW_DECLINED);
    assert_string_equal(a.code, "card_declined");
    assert_string_equal(a.ref_id, "");
    assert_true(a.message[0] != '\0');

    a = authorize(&f->cfg, "cs_3:payment:1", 7692, "tok_error");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "processing_error");

    a = authorize(&f->cfg, "cs_4:payment:1", 7692, "tok_other");
    assert_int_equal(a.result, CK_GW_DECLINED);
    assert_string_equal(a.code, "unknown_token");

    assert_int_equal(fgw_holds(f->fgw), 1);
    assert_int_equal(fgw_authorize_calls(f->fgw), 4);
}

static void same_key_one_hold(void **state)
{
    fixture *f = *state;
    ck_gw_answer a1 = authorize(&f->cfg, "cs_9:payment:3", 500, "tok_visa");
    ck_gw_answer a2 = authorize(&f->cfg, "cs_9:payment:3", 500, "tok_visa");
    assert_int_equal(a1.result, CK_GW_APPROVED);
    assert_int_equal(a2.result, CK_GW_APPROVED);
    assert_string_equal(a1.ref_id, a2.ref_id);
    assert_int_equal(fgw_holds(f->fgw), 1);
    assert_int_equal(fgw_authorize_calls(f->fgw), 2);
    ck_gw_answer a3 = authorize(&f->cfg, "cs_9:payment:4", 500, "tok_visa");
    assert_string_not_equal(a3.ref_id, a1.ref_id);
    assert_int_equal(fgw_holds(f->fgw), 2);
}

static void headers_carry_key_and_secret(void **state)
{
    fixture *f = *state;
    char seen[640];
    authorize(&f->cfg, "cs_h:payment:7", 100, "tok_visa");
    fgw_last_idem_key(f->fgw, seen, sizeof(seen));
    assert_string_equal(seen, "cs_h:payment:7");
    fgw_last_auth_header(f->fgw, seen, sizeof(seen));
    assert_string_equal(seen, "Bearer s3cret-value");

    /* No secret configured: no Authorization header at all. */
    ck_gw_config open = f->cfg;
    open.secret[0] = '\0';
    authorize(&open, "cs_h:payment:8", 100, "tok_visa");
    fgw_last_idem_key(f->fgw, seen, sizeof(seen));
    assert_string_equal(seen, "cs_h:payment:8");
    fgw_last_auth_header(f->fgw, seen, sizeof(seen));
    assert_string_equal(seen, "");

    /* A key that would end the header early is refused before sending. */
    ck_gw_answer a = authorize(&f->cfg, "cs_h:payment:9\r\nX-Evil: 1", 100, "tok_visa");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_int_equal(fgw_authorize_calls(f->fgw), 2);
}

static void http_failure_then_retry(void **state)
{
    fixture *f = *state;
    fgw_fail_next(f->fgw, 1);
    ck_gw_answer a = authorize(&f->cfg, "cs_f:payment:1", 100, "tok_visa");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "http_status");
    assert_non_null(strstr(a.message, "500"));
    assert_null(strstr(a.message, "s3cret"));
    assert_int_equal(fgw_holds(f->fgw), 0);
    a = authorize(&f->cfg, "cs_f:payment:1", 100, "tok_visa");
    assert_int_equal(a.result, CK_GW_APPROVED);
    assert_int_equal(fgw_holds(f->fgw), 1);
}

static void not_found_path_is_error(void **state)
{
    fixture *f = *state;
    ck_gw_config cfg = f->cfg;
    size_t n = strlen(cfg.url);
    snprintf(cfg.url + n, sizeof(cfg.url) - n, "/nowhere");
    ck_gw_answer a = authorize(&cfg, "cs_n:payment:1", 100, "tok_visa");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_non_null(strstr(a.message, "404"));

    /* A trailing slash on the base URL is fine. */
    cfg = f->cfg;
    n = strlen(cfg.url);
    snprintf(cfg.url + n, sizeof(cfg.url) - n, "/");
    assert_int_equal(authorize(&cfg, "cs_n:payment:2", 100, "tok_visa").result, CK_GW_APPROVED);

    cfg.url[0] = '\0';
    a = authorize(&cfg, "cs_n:payment:3", 100, "tok_visa");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "not_configured");
}

static void connect_refused_is_error(void **state)
{
    /* A port that was free a moment ago: nothing listens there. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
    close(s);
    ck_gw_config cfg = {.kind = "http"};
    snprintf(cfg.url, sizeof(cfg.url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
    ck_gw_answer a = authorize(&cfg, "cs_c:payment:1", 100, "tok_visa");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "transport_error");
    assert_true(a.message[0] != '\0');
}

static void capture_and_void(void **state)
{
    fixture *f = *state;
    ck_gw_answer auth = authorize(&f->cfg, "cs_p:payment:1", 1000, "tok_visa");
    assert_int_equal(auth.result, CK_GW_APPROVED);

    ck_gw_answer p1 = capture(&f->cfg, "cs_p:capture:1", auth.ref_id, 400);
    assert_int_equal(p1.result, CK_GW_APPROVED);
    assert_int_equal(strncmp(p1.ref_id, "fgw_pay_", 8), 0);
    assert_int_equal(p1.amount, 400);
    ck_gw_answer again = capture(&f->cfg, "cs_p:capture:1", auth.ref_id, 400);
    assert_string_equal(again.ref_id, p1.ref_id);
    assert_int_equal(fgw_captured_amount(f->fgw, auth.ref_id), 400);

    ck_gw_answer p2 = capture(&f->cfg, "cs_p:capture:2", auth.ref_id, 600);
    assert_int_equal(p2.result, CK_GW_APPROVED);
    ck_gw_answer p3 = capture(&f->cfg, "cs_p:capture:3", auth.ref_id, 1);
    assert_int_equal(p3.result, CK_GW_DECLINED);
    assert_string_equal(p3.code, "amount_exceeds_authorization");
    assert_int_equal(fgw_captures(f->fgw), 2);
    assert_int_equal(fgw_captured_amount(f->fgw, auth.ref_id), 1000);

    ck_gw_answer auth2 = authorize(&f->cfg, "cs_v:payment:1", 300, "tok_visa");
    ck_gw_answer v = void_auth(&f->cfg, "cs_v:void:1", auth2.ref_id);
    assert_int_equal(v.result, CK_GW_APPROVED);
    assert_int_equal(void_auth(&f->cfg, "cs_v:void:1", auth2.ref_id).result, CK_GW_APPROVED);
    assert_int_equal(fgw_voids(f->fgw), 1);
    v = void_auth(&f->cfg, "cs_v:void:2", "fgw_auth_999");
    assert_int_equal(v.result, CK_GW_DECLINED);
    assert_string_equal(v.code, "unknown_authorization");
}

typedef struct burst {
    const ck_gw_config *cfg;
    int same_key;
    ck_gw_answer answers[8];
} burst;

static void burst_one(void *arg, int i)
{
    burst *b = arg;
    char key[64];
    snprintf(key, sizeof(key), "cs_b:payment:%d", b->same_key ? 0 : i + 1);
    ck_gateway_http.authorize(b->cfg, NULL, key, 250, "USD", "tok_visa", "cs_b", &b->answers[i]);
}

static void concurrent_calls(void **state)
{
    fixture *f = *state;
    burst b = {.cfg = &f->cfg, .same_key = 1};
    ckt_parallel(8, burst_one, &b);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(b.answers[i].result, CK_GW_APPROVED);
        assert_string_equal(b.answers[i].ref_id, b.answers[0].ref_id);
    }
    assert_int_equal(fgw_holds(f->fgw), 1);
    b.same_key = 0;
    ckt_parallel(8, burst_one, &b);
    for (int i = 0; i < 8; i++)
        assert_int_equal(b.answers[i].result, CK_GW_APPROVED);
    assert_int_equal(fgw_holds(f->fgw), 9);
}

/* A one-shot HTTP server that sends a canned reply, for answers the fake
 * gateway never gives (bad JSON, oversized bodies, odd results). */
typedef struct canned {
    int listener;
    int port;
    const char *status_line;
    char *body;
    pthread_t thread;
} canned;

static void *canned_main(void *arg)
{
    canned *c = arg;
    int s = accept(c->listener, NULL, NULL);
    if (s < 0)
        return NULL;
    /* Read the request: headers, then Content-Length bytes. */
    char buf[8192];
    size_t len = 0;
    long want = -1;
    for (;;) {
        ssize_t n = read(s, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end && want < 0) {
            char *cl = strcasestr(buf, "Content-Length:");
            want = (long)(end + 4 - buf) + (cl ? strtol(cl + 15, NULL, 10) : 0);
        }
        if (want >= 0 && (long)len >= want)
            break;
    }
    char head[256];
    int hn = snprintf(head, sizeof(head),
                      "%s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                      c->status_line, strlen(c->body));
    /* The client may hang up early (the oversized case): no SIGPIPE. */
    if (send(s, head, (size_t)hn, MSG_NOSIGNAL) < 0 || send(s, c->body, strlen(c->body), MSG_NOSIGNAL) < 0)
        perror("canned send");
    shutdown(s, SHUT_WR);
    while (read(s, buf, sizeof(buf)) > 0)
        ;
    close(s);
    return NULL;
}

static ck_gw_answer canned_authorize(const char *status_line, const char *body)
{
    canned c = {.status_line = status_line, .body = strdup(body)};
    assert_non_null(c.body);
    c.listener = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(c.listener >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(c.listener, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(c.listener, 1), 0);
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(c.listener, (struct sockaddr *)&sa, &len), 0);
    assert_int_equal(pthread_create(&c.thread, NULL, canned_main, &c), 0);
    ck_gw_config cfg = {.kind = "http"};
    snprintf(cfg.url, sizeof(cfg.url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
    ck_gw_answer a = authorize(&cfg, "cs_x:payment:1", 4200, "tok_visa");
    pthread_join(c.thread, NULL);
    close(c.listener);
    free(c.body);
    return a;
}

static void odd_replies(void **state)
{
    ck_gw_answer a = canned_authorize("HTTP/1.1 200 OK", "not json!");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "bad_reply");

    a = canned_authorize("HTTP/1.1 200 OK", "[1,2]");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "bad_reply");

    a = canned_authorize("HTTP/1.1 200 OK", "{\"result\":\"approved\"}");
    assert_int_equal(a.result, CK_GW_ERROR); /* approved without an authorizationId */
    assert_string_equal(a.code, "bad_reply");

    a = canned_authorize("HTTP/1.1 200 OK", "{\"result\":\"maybe\",\"authorizationId\":\"x\"}");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "bad_reply");

    a = canned_authorize("HTTP/1.1 200 OK", "{\"result\":\"approved\",\"authorizationId\":\"x\",\"amount\":\"12\"}");
    assert_int_equal(a.result, CK_GW_ERROR);

    /* 4xx is an error even with a "declined" body. */
    a = canned_authorize("HTTP/1.1 402 Payment Required", "{\"result\":\"declined\",\"code\":\"card_declined\"}");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "http_status");

    /* No amount in the approval: the requested amount. */
    a = canned_authorize("HTTP/1.1 200 OK", "{\"result\":\"approved\",\"authorizationId\":\"gw_77\"}");
    assert_int_equal(a.result, CK_GW_APPROVED);
    assert_string_equal(a.ref_id, "gw_77");
    assert_int_equal(a.amount, 4200);

    a = canned_authorize("HTTP/1.1 201 Created",
                         "{\"result\":\"approved\",\"authorizationId\":\"gw_78\",\"amount\":4000}");
    assert_int_equal(a.result, CK_GW_APPROVED);
    assert_int_equal(a.amount, 4000);

    /* A reply past 64 KiB is cut off and is an error. */
    size_t big = 70 * 1024;
    char *body = malloc(big + 1);
    assert_non_null(body);
    int n = snprintf(body, big + 1, "{\"result\":\"approved\",\"authorizationId\":\"gw_79\",\"pad\":\"");
    memset(body + n, 'x', big - (size_t)n - 2);
    memcpy(body + big - 2, "\"}", 3);
    a = canned_authorize("HTTP/1.1 200 OK", body);
    free(body);
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "bad_reply");
}

static void timeout_is_error(void **state)
{
    const char *slow = getenv("CK_SLOW_TESTS");
    if (!slow || strcmp(slow, "1") != 0)
        skip();
    fixture *f = *state;
    fgw_set_delay_ms(f->fgw, 11000);
    int64_t t0 = ck_mono_us();
    ck_gw_answer a = authorize(&f->cfg, "cs_t:payment:1", 100, "tok_visa");
    int64_t took_ms = (ck_mono_us() - t0) / 1000;
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "timeout");
    assert_in_range(took_ms, 9500, 10900);
    /* The slow gateway made the hold; the retry with the same key finds it. */
    fgw_set_delay_ms(f->fgw, 0);
    a = authorize(&f->cfg, "cs_t:payment:1", 100, "tok_visa");
    assert_int_equal(a.result, CK_GW_APPROVED);
    assert_int_equal(fgw_holds(f->fgw), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(authorize_by_token, setup, teardown),
        cmocka_unit_test_setup_teardown(same_key_one_hold, setup, teardown),
        cmocka_unit_test_setup_teardown(headers_carry_key_and_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(http_failure_then_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(not_found_path_is_error, setup, teardown),
        cmocka_unit_test(connect_refused_is_error),
        cmocka_unit_test_setup_teardown(capture_and_void, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_calls, setup, teardown),
        cmocka_unit_test(odd_replies),
        cmocka_unit_test_setup_teardown(timeout_is_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
