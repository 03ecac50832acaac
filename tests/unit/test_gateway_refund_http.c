/* test_gateway_refund_http.c: the `http` gateway's refund (payments/
 * http_gateway.c) through ck_gw_refund, against the in-process fake gateway
 * (api/fake_gateway.h): authorize, capture, then refund the capture's
 * payment (approved, a replay under the same key refunding once, over-refund
 * and unknown payment declined, HTTP 500 an error that a retry with the same
 * key then completes); and against a scripted peer (api/fake_http.h) what
 * the request carries (path, body, Idempotency-Key, secret) and how each
 * kind of answer reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fake_gateway.h"
#include "api/fake_http.h"
#include "core/metrics.h"
#include "payments/gateway.h"

#define SECRET "s3cret-refund"

typedef struct fixture {
    fake_gateway *fgw;
    ck_gw_config cfg;
    ck_metrics m;
    char auth[128], pay[128]; /* the hold and the capture the cases refund */
} fixture;

static ck_gw_answer authorize(fixture *f, const char *key, int64_t amount)
{
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a));
    ck_gw_authorize(&f->m, &ck_gateway_http, &f->cfg, NULL, key, amount, "USD", "tok_visa", "cs_ref", &a);
    return a;
}

static ck_gw_answer capture(fixture *f, const char *key, const char *auth, int64_t amount)
{
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a));
    ck_gw_capture(&f->m, &ck_gateway_http, &f->cfg, NULL, key, auth, amount, &a);
    return a;
}

static ck_gw_answer refund(fixture *f, const char *key, const char *payment, int64_t amount)
{
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a));
    ck_gw_refund(&f->m, &ck_gateway_http, &f->cfg, NULL, key, payment, amount, &a);
    return a;
}

static long long counted(fixture *f, int outcome)
{
    return atomic_load(&f->m.gateway[CK_MGW_HTTP][CK_MGW_REFUND][outcome]);
}

/* A fake gateway with a hold of 1000 and a capture of 600 of it. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    ck_metrics_init(&f->m);
    f->fgw = fgw_start();
    assert_non_null(f->fgw);
    snprintf(f->cfg.kind, sizeof(f->cfg.kind), "http");
    fgw_url(f->fgw, f->cfg.url, sizeof(f->cfg.url));
    snprintf(f->cfg.secret, sizeof(f->cfg.secret), SECRET);

    ck_gw_answer a = authorize(f, "cs_r:payment:1", 1000);
    assert_int_equal(a.result, CK_GW_APPROVED);
    snprintf(f->auth, sizeof(f->auth), "%s", a.ref_id);
    ck_gw_answer p = capture(f, "fo_r:fulfill:1", f->auth, 600);
    assert_int_equal(p.result, CK_GW_APPROVED);
    assert_int_equal(p.amount, 600);
    assert_int_equal(strncmp(p.ref_id, "fgw_pay_", 8), 0);
    snprintf(f->pay, sizeof(f->pay), "%s", p.ref_id);
    assert_int_equal(fgw_captures(f->fgw), 1);
    assert_int_equal(fgw_refunds(f->fgw), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fgw_stop(f->fgw);
    ck_metrics_destroy(&f->m);
    free(f);
    return 0;
}

static void refund_approved(void **state)
{
    fixture *f = *state;
    ck_gw_answer r = refund(f, "chg_1:refund:pay", f->pay, 250);
    assert_int_equal(r.result, CK_GW_APPROVED);
    assert_int_equal(strncmp(r.ref_id, "fgw_ref_", 8), 0);
    assert_int_equal(r.amount, 250);
    assert_string_equal(r.code, "");
    assert_int_equal(fgw_refunds(f->fgw), 1);
    assert_int_equal(fgw_refunded_amount(f->fgw, f->pay), 250);
    assert_int_equal(fgw_captured_amount(f->fgw, f->auth), 600); /* a refund is not a capture */

    char seen[640];
    fgw_last_idem_key(f->fgw, seen, sizeof(seen));
    assert_string_equal(seen, "chg_1:refund:pay");
    fgw_last_auth_header(f->fgw, seen, sizeof(seen));
    assert_string_equal(seen, "Bearer " SECRET);
    assert_int_equal(counted(f, CK_MGW_APPROVED), 1);
    assert_int_equal(counted(f, CK_MGW_DECLINED), 0);
    assert_int_equal(counted(f, CK_MGW_ERROR), 0);

    /* The rest of the payment, exactly, is still refundable; then nothing. */
    ck_gw_answer rest = refund(f, "chg_2:refund:pay", f->pay, 350);
    assert_int_equal(rest.result, CK_GW_APPROVED);
    assert_string_not_equal(rest.ref_id, r.ref_id);
    assert_int_equal(fgw_refunds(f->fgw), 2);
    assert_int_equal(fgw_refunded_amount(f->fgw, f->pay), 600);
    ck_gw_answer more = refund(f, "chg_3:refund:pay", f->pay, 1);
    assert_int_equal(more.result, CK_GW_DECLINED);
    assert_string_equal(more.code, "amount_exceeds_payment");
    assert_int_equal(fgw_refunded_amount(f->fgw, f->pay), 600);
}

static void replay_refunds_once(void **state)
{
    fixture *f = *state;
    ck_gw_answer first = refund(f, "chg_r:refund:pay", f->pay, 200);
    assert_int_equal(first.result, CK_GW_APPROVED);
    /* The retry after a crash or a timeout sends the same key: the first answer, nothing new. */
    ck_gw_answer again = refund(f, "chg_r:refund:pay", f->pay, 200);
    assert_int_equal(again.result, CK_GW_APPROVED);
    assert_string_equal(again.ref_id, first.ref_id);
    assert_int_equal(again.amount, 200);
    char seen[640];
    fgw_last_idem_key(f->fgw, seen, sizeof(seen));
    assert_string_equal(seen, "chg_r:refund:pay");
    assert_int_equal(fgw_refunds(f->fgw), 1);
    assert_int_equal(fgw_refunded_amount(f->fgw, f->pay), 200);
    assert_int_equal(counted(f, CK_MGW_APPROVED), 2); /* both calls were made */

    /* So 400 remain, not 200. */
    ck_gw_answer rest = refund(f, "chg_s:refund:pay", f->pay, 400);
    assert_int_equal(rest.result, CK_GW_APPROVED);
    assert_int_equal(fgw_refunds(f->fgw), 2);
    assert_int_equal(fgw_refunded_amount(f->fgw, f->pay), 600);
}

static void declines(void **state)
{
    fixture *f = *state;
    ck_gw_answer over = refund(f, "chg_o:refund:pay", f->pay, 601);
    assert_int_equal(over.result, CK_GW_DECLINED);
    assert_string_equal(over.code, "amount_exceeds_payment");
    assert_string_equal(over.ref_id, "");
    assert_true(over.message[0] != '\0');
    assert_int_equal(counted(f, CK_MGW_DECLINED), 1);

    ck_gw_answer unknown = refund(f, "chg_u:refund:nope", "fgw_pay_999", 10);
    assert_int_equal(unknown.result, CK_GW_DECLINED);
    assert_string_equal(unknown.code, "unknown_payment");
    /* An authorization is not a payment. */
    assert_string_equal(refund(f, "chg_u:refund:auth", f->auth, 10).code, "unknown_payment");

    ck_gw_answer zero = refund(f, "chg_z:refund:pay", f->pay, 0);
    assert_int_equal(zero.result, CK_GW_DECLINED);
    assert_string_equal(zero.code, "invalid_amount");

    assert_int_equal(fgw_refunds(f->fgw), 0);
    assert_int_equal(fgw_refunded_amount(f->fgw, f->pay), 0);

    /* A stored decline replays as the decline, even once the amount would fit. */
    ck_gw_answer replay = refund(f, "chg_o:refund:pay", f->pay, 100);
    assert_int_equal(replay.result, CK_GW_DECLINED);
    assert_string_equal(replay.code, "amount_exceeds_payment");
    assert_int_equal(fgw_refunds(f->fgw), 0);
}

static void http_500_is_error(void **state)
{
    fixture *f = *state;
    fgw_fail_next(f->fgw, 1);
    ck_gw_answer r = refund(f, "chg_e:refund:pay", f->pay, 100);
    assert_int_equal(r.result, CK_GW_ERROR);
    assert_string_equal(r.code, "http_status");
    assert_non_null(strstr(r.message, "500"));
    assert_string_equal(r.ref_id, "");
    assert_int_equal(fgw_refunds(f->fgw), 0);
    assert_int_equal(fgw_refunded_amount(f->fgw, f->pay), 0);
    assert_int_equal(counted(f, CK_MGW_ERROR), 1);
    char seen[640];
    fgw_last_idem_key(f->fgw, seen, sizeof(seen));
    assert_string_equal(seen, "chg_e:refund:pay");

    /* Nothing was stored for the failure: the retry with the same key refunds, once. */
    ck_gw_answer retry = refund(f, "chg_e:refund:pay", f->pay, 100);
    assert_int_equal(retry.result, CK_GW_APPROVED);
    assert_int_equal(fgw_refunds(f->fgw), 1);
    assert_int_equal(fgw_refunded_amount(f->fgw, f->pay), 100);
}

static void key_checked_before_sending(void **state)
{
    fixture *f = *state;
    ck_gw_answer r = refund(f, "chg_k:refund:pay\r\nX-Evil: 1", f->pay, 10);
    assert_int_equal(r.result, CK_GW_ERROR);
    assert_string_equal(r.code, "bad_idempotency_key");
    r = refund(f, "", f->pay, 10);
    assert_int_equal(r.result, CK_GW_ERROR);
    r = refund(f, NULL, f->pay, 10);
    assert_int_equal(r.result, CK_GW_ERROR);
    assert_int_equal(fgw_refunds(f->fgw), 0);
    char seen[640];
    fgw_last_idem_key(f->fgw, seen, sizeof(seen));
    assert_string_equal(seen, "fo_r:fulfill:1"); /* the capture's: no refund request went out */

    /* A key the capture used, sent to /refund: the gateway refuses (422), an error. */
    r = refund(f, "fo_r:fulfill:1", f->pay, 10);
    assert_int_equal(r.result, CK_GW_ERROR);
    assert_string_equal(r.code, "http_status");
    assert_int_equal(fgw_refunds(f->fgw), 0);
}

/* A scripted peer: answers `answer` with `status` and keeps the last request. */
typedef struct peer {
    fake_http *srv;
    pthread_mutex_t mu;
    int status;
    const char *answer;
    char method[16], path[64], key[128], auth[128];
    json_t *body;
} peer;

static void on_request(void *ud, const fhttp_req *q, fhttp_resp *a)
{
    peer *p = ud;
    pthread_mutex_lock(&p->mu);
    snprintf(p->method, sizeof(p->method), "%s", q->method);
    snprintf(p->path, sizeof(p->path), "%s", q->path);
    const char *k = fhttp_header(q, "Idempotency-Key"), *au = fhttp_header(q, "Authorization");
    snprintf(p->key, sizeof(p->key), "%s", k ? k : "");
    snprintf(p->auth, sizeof(p->auth), "%s", au ? au : "");
    json_decref(p->body);
    p->body = q->body ? json_loadb(q->body, q->body_len, 0, NULL) : NULL;
    a->status = p->status;
    a->body = strdup(p->answer);
    pthread_mutex_unlock(&p->mu);
}

/* Refunds 250 of "pay_x" at a peer answering (status, answer). */
static ck_gw_answer refund_at(peer *p, int status, const char *answer)
{
    pthread_mutex_lock(&p->mu);
    p->status = status;
    p->answer = answer;
    pthread_mutex_unlock(&p->mu);
    ck_gw_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.kind, sizeof(cfg.kind), "http");
    fhttp_url(p->srv, "/gw/", cfg.url, sizeof(cfg.url)); /* a trailing slash is dropped */
    snprintf(cfg.secret, sizeof(cfg.secret), SECRET);
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a));
    ck_gw_refund(NULL, &ck_gateway_http, &cfg, NULL, "chg_p:refund:pay_x", "pay_x", 250, &a);
    return a;
}

static void request_and_answers(void **state)
{
    peer p;
    memset(&p, 0, sizeof(p));
    pthread_mutex_init(&p.mu, NULL);
    p.srv = fhttp_start(64 * 1024, on_request, NULL, &p);
    assert_non_null(p.srv);

    /* What goes out; an approval without an amount is of the amount asked for. */
    ck_gw_answer a = refund_at(&p, 200, "{\"result\":\"approved\",\"refundId\":\"re_1\"}");
    assert_int_equal(a.result, CK_GW_APPROVED);
    assert_string_equal(a.ref_id, "re_1");
    assert_int_equal(a.amount, 250);
    pthread_mutex_lock(&p.mu);
    assert_string_equal(p.method, "POST");
    assert_string_equal(p.path, "/gw/refund");
    assert_string_equal(p.key, "chg_p:refund:pay_x");
    assert_string_equal(p.auth, "Bearer " SECRET);
    assert_true(json_is_object(p.body));
    assert_int_equal(json_object_size(p.body), 2);
    assert_string_equal(json_string_value(json_object_get(p.body, "paymentId")), "pay_x");
    assert_true(json_is_integer(json_object_get(p.body, "amount")));
    assert_int_equal(json_integer_value(json_object_get(p.body, "amount")), 250);
    pthread_mutex_unlock(&p.mu);

    /* The gateway's amount when it gives one. */
    a = refund_at(&p, 200, "{\"result\":\"approved\",\"refundId\":\"re_2\",\"amount\":200}");
    assert_int_equal(a.result, CK_GW_APPROVED);
    assert_string_equal(a.ref_id, "re_2");
    assert_int_equal(a.amount, 200);

    /* An approval that names no refund cannot be recorded: an error. */
    a = refund_at(&p, 200, "{\"result\":\"approved\"}");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "bad_reply");
    a = refund_at(&p, 200, "{\"result\":\"approved\",\"refundId\":\"re_3\",\"amount\":\"200\"}");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "bad_reply");

    a = refund_at(&p, 200, "{\"result\":\"declined\",\"code\":\"amount_exceeds_payment\",\"message\":\"too much\"}");
    assert_int_equal(a.result, CK_GW_DECLINED);
    assert_string_equal(a.code, "amount_exceeds_payment");
    assert_string_equal(a.message, "too much");
    assert_string_equal(a.ref_id, "");

    a = refund_at(&p, 200, "{\"result\":\"error\",\"code\":\"processing_error\"}");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "processing_error");
    a = refund_at(&p, 200, "{\"result\":\"maybe\"}");
    assert_int_equal(a.result, CK_GW_ERROR);
    a = refund_at(&p, 200, "not json");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "bad_reply");
    a = refund_at(&p, 503, "{\"result\":\"approved\",\"refundId\":\"re_4\"}");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "http_status");

    fhttp_stop(p.srv);
    json_decref(p.body);
    pthread_mutex_destroy(&p.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(refund_approved, setup, teardown),
        cmocka_unit_test_setup_teardown(replay_refunds_once, setup, teardown),
        cmocka_unit_test_setup_teardown(declines, setup, teardown),
        cmocka_unit_test_setup_teardown(http_500_is_error, setup, teardown),
        cmocka_unit_test_setup_teardown(key_checked_before_sending, setup, teardown),
        cmocka_unit_test(request_and_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
