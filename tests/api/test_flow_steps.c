/* test_flow_steps.c: the step kinds of a configurable flow over the real
 * daemon (API.md "Flows", "Fault injection"; issue 12 "Step kinds",
 * "Tests"): a Lua rule that rejects orders over a total; the Lua sandbox
 * against hostile scripts (each rejected in well under a second, the daemon
 * healthy, another checkout served meanwhile); the http callout (rejected,
 * signed and keyed, timed out then resumed, approved, unavailable, and the
 * key following the inputsVersion after a PATCH); when.paymentMethod
 * (skipped steps recorded like a success); a subflow whose nested steps fail
 * and resume on the nested step; and the crash matrix (crash.after a Lua, an
 * http and a nested step: one order, one authorization, one callout per
 * idempotency key). Each test installs its flow on the fixture's store
 * (clone flow_standard, PUT, activate) before it creates the sessions that
 * pin it; the http steps call a recording peer on 127.0.0.1. */
#include "api/fake_http.h"
#include "api/place_fx.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAY_PO(po) "{\"method\":\"purchase_order\",\"poNumber\":\"" po "\"}"
#define GRAND_3 7692  /* 3 x 1999, 500 g: API.md's worked example */
#define GRAND_6 14284 /* 6 x 1999: 11994 + 1000 + 100 x 3 + round_half_up(989.505) */
#define SECRET "erp-shared-secret"

/* ------------------------------------------------------------ the peer */

/* An ERP-style service for the http steps: records every request (body,
 * X-Checkoutd-Signature, Idempotency-Key, path) and answers as told. */
enum { ANS_OK, ANS_REJECT, ANS_503, ANS_TEXT, ANS_NO_OK };

#define PEER_MAX 32

typedef struct peer_call {
    char path[128], sig[160], tsig[160], key[300];
    char *body;
} peer_call;

typedef struct peer {
    fake_http *srv;
    pthread_mutex_t mu;
    peer_call calls[PEER_MAX];
    int n;
    int answer;
    int sleep_first_ms; /* the first call sleeps this long before answering ok */
} peer;

static void copy_header(const fhttp_req *q, const char *name, char *out, size_t n)
{
    const char *v = fhttp_header(q, name);
    snprintf(out, n, "%s", v ? v : "");
}

static void peer_handle(void *ud, const fhttp_req *q, fhttp_resp *a)
{
    peer *p = ud;
    pthread_mutex_lock(&p->mu);
    int i = p->n++, answer = p->answer, nap = i == 0 ? p->sleep_first_ms : 0;
    if (i < PEER_MAX) {
        peer_call *c = &p->calls[i];
        snprintf(c->path, sizeof(c->path), "%s", q->path);
        copy_header(q, "X-Checkoutd-Signature", c->sig, sizeof(c->sig));
        copy_header(q, "Checkoutd-Signature", c->tsig, sizeof(c->tsig));
        copy_header(q, "Idempotency-Key", c->key, sizeof(c->key));
        c->body = q->body ? strdup(q->body) : NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (nap) {
        fhttp_sleep(q->server, nap);
        answer = ANS_OK;
    }
    a->status = answer == ANS_503 ? 503 : 200;
    switch (answer) {
    case ANS_OK: a->body = strdup("{\"ok\":true}"); break;
    case ANS_REJECT: a->body = strdup("{\"ok\":false,\"message\":\"credit hold\"}"); break;
    case ANS_503: a->body = strdup("{\"error\":\"maintenance\"}"); break;
    case ANS_TEXT:
        a->body = strdup("all good");
        a->content_type = "text/plain";
        break;
    default: a->body = strdup("{\"result\":\"fine\"}"); break;
    }
}

/* Static so that the teardown stops what a failed test left running. */
static ckt_fx F;
static peer P;
static ckt_resp HELD;

static void peer_start(int answer)
{
    memset(&P, 0, sizeof(P));
    pthread_mutex_init(&P.mu, NULL);
    P.answer = answer;
    P.srv = fhttp_start(256 * 1024, peer_handle, NULL, &P);
    assert_non_null(P.srv);
}

static void peer_stop(void)
{
    if (!P.srv)
        return;
    fhttp_stop(P.srv);
    for (int i = 0; i < PEER_MAX; i++)
        free(P.calls[i].body);
    pthread_mutex_destroy(&P.mu);
    memset(&P, 0, sizeof(P));
}

static void peer_answer(int answer)
{
    pthread_mutex_lock(&P.mu);
    P.answer = answer;
    pthread_mutex_unlock(&P.mu);
}

static int peer_calls(void)
{
    pthread_mutex_lock(&P.mu);
    int n = P.n;
    pthread_mutex_unlock(&P.mu);
    return n;
}

/* Call i (the test reads it after the daemon answered, so it is complete). */
static const peer_call *peer_call_at(int i)
{
    assert_true(i < peer_calls() && i < PEER_MAX);
    return &P.calls[i];
}

static void peer_url(const char *path, char *out, size_t n)
{
    fhttp_url(P.srv, path, out, n);
}

/* How many calls carried this Idempotency-Key. */
static int peer_key_count(const char *key)
{
    int k = 0;
    for (int i = 0; i < peer_calls() && i < PEER_MAX; i++)
        k += strcmp(P.calls[i].key, key) == 0;
    return k;
}

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F);
    peer_stop();
    ckt_free(&HELD);
    return 0;
}

/* ------------------------------------------------------------ flows */

static json_t *builtin(const char *name)
{
    return json_pack("{s:s, s:s}", "name", name, "kind", "builtin");
}

static json_t *lua_step(const char *name, const char *script)
{
    return json_pack("{s:s, s:s, s:{s:s}}", "name", name, "kind", "lua", "config", "script", script);
}

/* An http step calling the peer at /<name>; timeout_ms 0: the default. */
static json_t *http_step(const char *name, long timeout_ms)
{
    char url[160], path[64];
    snprintf(path, sizeof(path), "/%s", name);
    peer_url(path, url, sizeof(url));
    json_t *cfg = json_pack("{s:s, s:s}", "url", url, "secret", SECRET);
    if (timeout_ms)
        json_object_set_new(cfg, "timeoutMs", json_integer(timeout_ms));
    return json_pack("{s:s, s:s, s:o}", "name", name, "kind", "http", "config", cfg);
}

/* The step (returned) runs only for purchase_order and net_terms. */
static json_t *when_po(json_t *step)
{
    json_object_set_new(step, "when", json_pack("{s:[s, s]}", "paymentMethod", "purchase_order", "net_terms"));
    return step;
}

static json_t *subflow(const char *name, json_t *children)
{
    return json_pack("{s:s, s:s, s:{s:o}}", "name", name, "kind", "subflow", "config", "steps", children);
}

/* The standard steps with ins (an array, taken) right after the built-in `after`. */
static json_t *std_with(const char *after, json_t *ins)
{
    static const char *const std[] = {"validate_cart", "pricing", "shipping", "tax", "business_rules",
                                      "payment", "create_order", "confirm", "close_cart", NULL};
    json_t *steps = json_array();
    for (int i = 0; std[i]; i++) {
        json_array_append_new(steps, builtin(std[i]));
        if (strcmp(std[i], after) == 0)
            json_array_extend(steps, ins);
    }
    json_decref(ins);
    return steps;
}


/* A checkout of the fixture's buyer (qty x f->prod, US address, pay) that
 * pinned flow (NULL: flow_standard). */
static void session_on(ckt_fx *f, const char *flow, int qty, const char *pay, char sid[64])
{
    ckt_fx_session(f, f->prod, qty, ADDR_US, pay, sid, NULL);
    json_t *s = po_get_session(f, sid);
    assert_string_equal(ckt_str(s, "flowId"), flow ? flow : "flow_standard");
    assert_int_equal(ckt_int(s, "flowVersion"), flow ? 2 : 1);
    json_decref(s);
}

/* The session after a failed placement: isError, lastSuccessfulStep (NULL:
 * null), state, the last error at step with reason, no order. */
static void expect_failed(ckt_fx *f, const char *sid, const char *reason, const char *step, const char *last,
                          const char *state)
{
    json_t *s = po_get_session(f, sid);
    assert_true(json_is_true(ckt_get(s, "isError")));
    assert_true(json_is_false(ckt_get(s, "isProcessing")));
    po_expect_str_or_null(s, "lastSuccessfulStep", last);
    assert_string_equal(ckt_str(s, "state"), state);
    assert_true(json_is_null(ckt_get(s, "orderId")));
    json_t *errs = ckt_get(s, "errors");
    assert_true(json_array_size(errs) > 0);
    json_t *e = json_array_get(errs, json_array_size(errs) - 1);
    assert_string_equal(ckt_str(e, "step"), step);
    assert_string_equal(ckt_str(e, "reason"), reason);
    json_decref(s);
}

static long long inputs_version(ckt_fx *f, const char *sid)
{
    json_t *s = po_get_session(f, sid);
    long long v = ckt_int(s, "inputsVersion");
    json_decref(s);
    return v;
}

/* Places and expects the step failure; its message into msg unless NULL. */
static void place_fails(ckt_fx *f, const char *sid, long status, const char *reason, const char *step, char *msg,
                        size_t n)
{
    HELD = ckt_place(f, sid);
    ckt_expect_step_error(&HELD, status, reason, step);
    if (msg)
        snprintf(msg, n, "%s", ckt_str(HELD.json, "0.message"));
    ckt_free(&HELD);
}

static void expect_key(const peer_call *c, const char *sid, const char *path, long long version)
{
    char want[300];
    snprintf(want, sizeof(want), "%s:%s:%lld", sid, path, version);
    assert_string_equal(c->key, want);
}

/* ------------------------------------------------------------ lua rule */

#define QUOTE_SCRIPT                                                                                              \
    "function check(cart) if cart.totals.grandTotal > 10000 then return false, \"orders over 100.00 need a "    \
    "quote\" end return true end"

/* 1. Orders over a total need a quote: over it, 400 EXTENSION_REJECTED at
 * the lua step with the script's message and no authorization; under it,
 * 201. */
static void lua_rule_rejects_over_total(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    ckt_fx_opts o = {.fake_gateway = 1, .default_product = 1};
    ckt_fx_setup(f, &o);
    char flow[64], big[64], small[64], msg[256];
    ckt_fx_install_flow(f, f->store, std_with("business_rules", json_pack("[o]", lua_step("quote", QUOTE_SCRIPT))), flow);

    session_on(f, flow, 6, PAY_CARD("tok_visa"), big);
    place_fails(f, big, 400, "EXTENSION_REJECTED", "quote", msg, sizeof(msg));
    assert_string_equal(msg, "orders over 100.00 need a quote");
    /* The lua step shares the pure steps' commit, rolled back whole. */
    expect_failed(f, big, "EXTENSION_REJECTED", "quote", NULL, "Start");
    json_t *s = po_get_session(f, big);
    json_t *errs = ckt_get(s, "errors");
    assert_string_equal(ckt_str(json_array_get(errs, json_array_size(errs) - 1), "message"),
                        "orders over 100.00 need a quote");
    json_decref(s);
    assert_int_equal(fgw_authorize_calls(f->gw), 0);
    /* Again: the same answer (nothing was half done). */
    place_fails(f, big, 400, "EXTENSION_REJECTED", "quote", NULL, 0);
    assert_int_equal(fgw_authorize_calls(f->gw), 0);

    session_on(f, flow, 3, PAY_CARD("tok_visa"), small);
    ckt_place_ok(f, small, GRAND_3, NULL);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    ckt_fx_finish(f);
}

/* ------------------------------------------------------------ sandbox */

typedef struct hostile {
    const char *what, *script, *says; /* says: a substring of the rejection's message */
} hostile;

#define ENDLESS "function check(cart) while true do end end"

/* The concurrent part: thread 0 places endless-loop checkouts over and
 * over until thread 1 has had /healthz and a normal order of another store
 * answered, so thread 1 is served while hostile scripts keep arriving. */
#define BESIDE_MAX 200

typedef struct beside {
    ckt_fx *f;
    const char *hostile_sid[3], *normal_sid;
    atomic_int normal_done;
    int hostile_runs, hostile_bad; /* placements made, and those not answered 400 */
    long health_status, normal_status;
} beside;

static void run_beside(void *arg, int i)
{
    beside *b = arg;
    char path[256];
    if (i == 0) {
        while (b->hostile_runs < BESIDE_MAX && (b->hostile_runs == 0 || !atomic_load(&b->normal_done))) {
            snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", b->hostile_sid[b->hostile_runs % 3]);
            ckt_resp r = ckt_http_try(&b->f->d, "POST", path, b->f->bkey, NULL, NULL);
            b->hostile_bad += r.status != 400;
            b->hostile_runs++;
            ckt_free(&r);
        }
        return;
    }
    ckt_resp r = ckt_http_try(&b->f->d, "GET", "/healthz", NULL, NULL, NULL);
    b->health_status = r.status;
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", b->normal_sid);
    r = ckt_http_try(&b->f->d, "POST", path, b->f->bkey, NULL, NULL);
    b->normal_status = r.status;
    ckt_free(&r);
    atomic_store(&b->normal_done, 1);
}

static void expect_healthy(ckt_daemon *d)
{
    ckt_resp r = ckt_http(d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "status"), "ok");
    ckt_free(&r);
}

/* 2. Hostile scripts over the real daemon: each placement is 400
 * EXTENSION_REJECTED at the lua step, with a message saying what stopped
 * it, in under 2 s; no side effect; the daemon stays healthy; a tampered
 * library does not leak into a later call; and while endless loops run,
 * /healthz and a normal order in another store are served. */
static void lua_sandbox_hostile_scripts(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    ckt_fx_opts o = {.default_product = 1};
    ckt_fx_setup(f, &o);
    char pwned[400], script_os[1024], script_io[1024];
    snprintf(pwned, sizeof(pwned), "%.300s/pwned", f->d.dir);
    snprintf(script_os, sizeof(script_os), "function check(cart) os.execute(\"touch %s\") return true end", pwned);
    snprintf(script_io, sizeof(script_io),
             "function check(cart) local h = io.open(\"%s\", \"w\") h:write(\"x\") return true end", pwned);
    const hostile cases[] = {
        {"os.execute", script_os, "'os'"},
        {"io.open", script_io, "'io'"},
        {"load", "function check(cart) return load(\"return true\")() end", "'load'"},
        {"require", "function check(cart) local os = require(\"os\") return os ~= nil end", "'require'"},
        {"dofile", "function check(cart) dofile(\"/etc/passwd\") return true end", "'dofile'"},
        {"string.rep bomb", "function check(cart) local s = string.rep(\"x\", 2^30) return #s > 0 end",
         "memory limit"},
        {"endless loop", ENDLESS, "instruction limit"},
        {"memory bomb",
         "function check(cart) local t = {} local i = 0 while true do i = i + 1 "
         "t[i] = string.rep(\"x\", 1024) .. i end end",
         "memory limit"},
        {"string metatable",
         "function check(cart) local mt = getmetatable(\"\") mt.__index.upper = function() return \"x\" end "
         "return true end",
         "(local 'mt')"},
        {"string library tampered",
         "function check(cart) string.upper = function() return \"pwned\" end "
         "string.rep = nil return false, \"tampered\" end",
         "tampered"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char flow[64], sid[64], msg[256];
        ckt_fx_install_flow(f, f->store, std_with("business_rules", json_pack("[o]", lua_step("rule", cases[i].script))),
                     flow);
        session_on(f, flow, 3, PAY_CARD("tok_visa"), sid);
        long long t0 = ckt_mono_ms();
        place_fails(f, sid, 400, "EXTENSION_REJECTED", "rule", msg, sizeof(msg));
        long long took = ckt_mono_ms() - t0;
        if (!strstr(msg, cases[i].says) || took >= 2000)
            fprintf(stderr, "%s: %lld ms, message '%s' (want '%s')\n", cases[i].what, took, msg, cases[i].says);
        assert_non_null(strstr(msg, cases[i].says));
        assert_true(took < 2000);
        expect_failed(f, sid, "EXTENSION_REJECTED", "rule", NULL, "Start");
        expect_healthy(&f->d);
    }
    assert_int_equal(access(pwned, F_OK), -1);

    /* After the tampering: a fresh sandbox, the string library intact. */
    char flow[64], sid[64];
    ckt_fx_install_flow(f, f->store,
                 std_with("business_rules",
                          json_pack("[o]", lua_step("rule", "function check(cart) if string.upper(\"a\") ~= \"A\" "
                                                            "or (\"a\"):upper() ~= \"A\" or string.rep == nil "
                                                            "then return false, \"string library tampered\" end "
                                                            "return true end"))),
                 flow);
    session_on(f, flow, 3, PAY_CARD("tok_visa"), sid);
    ckt_place_ok(f, sid, GRAND_3, NULL);

    /* Endless loops beside a normal checkout of another store. */
    char loop_flow[64], h[3][64], store2[64], shm2[64], prod2[64], normal[64];
    ckt_fx_install_flow(f, f->store, std_with("business_rules", json_pack("[o]", lua_step("rule", ENDLESS))), loop_flow);
    for (int k = 0; k < 3; k++)
        session_on(f, loop_flow, 3, PAY_CARD("tok_visa"), h[k]);
    ckt_store(&f->d, store2);
    ckt_store_shipping_tax(&f->d, store2, shm2);
    ckt_member(&f->d, store2, f->acct);
    ckt_product(&f->d, store2, NULL, prod2);
    ckt_session_ready(&f->d, f->bkey, store2, f->acct, prod2, 3, ADDR_US, shm2, PAY_CARD("tok_visa"), normal, NULL);
    beside b = {.f = f, .hostile_sid = {h[0], h[1], h[2]}, .normal_sid = normal};
    atomic_init(&b.normal_done, 0);
    ckt_parallel(2, run_beside, &b);
    assert_int_equal(b.health_status, 200);
    assert_int_equal(b.normal_status, 201);
    assert_true(b.hostile_runs >= 1);
    assert_int_equal(b.hostile_bad, 0);
    for (int k = 0; k < 3 && k < b.hostile_runs; k++)
        expect_failed(f, h[k], "EXTENSION_REJECTED", "rule", NULL, "Start");
    json_t *s = po_get_session(f, normal);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    assert_string_equal(ckt_str(s, "flowId"), "flow_standard");
    json_decref(s);
    expect_healthy(&f->d);
    ckt_fx_finish(f);
}

/* ------------------------------------------------------------ http */

/* The shop (on the fake gateway), the peer answering `answer`, and a flow
 * with an http step "credit" (timeout_ms; 0: default) after business_rules. */
static void http_setup(ckt_fx *f, int answer, long timeout_ms, char flow[64])
{
    peer_start(answer);
    ckt_fx_opts o = {.fake_gateway = 1, .sku_prefix = "ERP", .stock = 100};
    ckt_fx_setup(f, &o);
    ckt_fx_install_flow(f, f->store, std_with("business_rules", json_pack("[o]", http_step("credit", timeout_ms))), flow);
}

/* 3a. {"ok":false,"message":"credit hold"}: 400 EXTENSION_REJECTED at the
 * step with that message, no authorization; after a PATCH of the payment
 * the next callout carries the new inputsVersion and, approved, the order is
 * placed. */
static void http_rejected(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    char flow[64], sid[64], msg[256];
    http_setup(f, ANS_REJECT, 0, flow);
    session_on(f, flow, 3, PAY_CARD("tok_visa"), sid);
    long long v = inputs_version(f, sid);
    place_fails(f, sid, 400, "EXTENSION_REJECTED", "credit", msg, sizeof(msg));
    assert_string_equal(msg, "credit hold");
    expect_failed(f, sid, "EXTENSION_REJECTED", "credit", "business_rules", "credit");
    assert_int_equal(peer_calls(), 1);
    expect_key(peer_call_at(0), sid, "credit", v);
    assert_int_equal(fgw_authorize_calls(f->gw), 0);

    /* A new card: rewound to before business_rules (the first step that
     * reads the payment), a new inputsVersion. */
    ckt_resp r = po_patch(f, sid, f->bkey, "{\"payment\":" PAY_CARD("tok_visa2") "}");
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), v + 1);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "tax");
    assert_true(json_is_false(ckt_get(r.json, "isError")));
    ckt_free(&r);
    po_set_inputs(f, sid, NULL, NULL, PAY_CARD("tok_visa"));
    peer_answer(ANS_OK);
    ckt_place_ok(f, sid, GRAND_3, NULL);
    assert_int_equal(peer_calls(), 2);
    expect_key(peer_call_at(1), sid, "credit", v + 2);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    ckt_fx_finish(f);
}

/* 3b. The callout's signature (checked here with OpenSSL over the
 * recorded body), its Idempotency-Key and its body. */
static void http_signed_and_keyed(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    char flow[64], sid[64];
    http_setup(f, ANS_OK, 0, flow);
    session_on(f, flow, 3, PAY_CARD("tok_visa"), sid);
    long long v = inputs_version(f, sid);
    assert_true(v > 0);
    ckt_place_ok(f, sid, GRAND_3, NULL);
    assert_int_equal(peer_calls(), 1);
    const peer_call *c = peer_call_at(0);
    assert_string_equal(c->path, "/credit");
    assert_non_null(c->body);

    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)c->body,
                         strlen(c->body), mac, &maclen));
    char want[160] = "sha256=";
    for (unsigned int i = 0; i < maclen; i++)
        snprintf(want + 7 + 2 * i, sizeof(want) - 7 - 2 * i, "%02x", mac[i]);
    assert_string_equal(c->sig, want);
    /* The timed one: t=<unix>,v1=HMAC("<t>.<body>"), t within 5 minutes. */
    long t = 0;
    int off = 0;
    assert_int_equal(sscanf(c->tsig, "t=%ld,v1=%n", &t, &off), 1);
    assert_true(off > 0 && t > (long)time(NULL) - 300 && t <= (long)time(NULL) + 5);
    char *signed_text = NULL;
    assert_true(asprintf(&signed_text, "%ld.%s", t, c->body) > 0);
    assert_non_null(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)signed_text,
                         strlen(signed_text), mac, &maclen));
    free(signed_text);
    for (unsigned int i = 0; i < maclen; i++)
        snprintf(want + 2 * i, sizeof(want) - 2 * i, "%02x", mac[i]);
    assert_string_equal(c->tsig + off, want);
    expect_key(c, sid, "credit", v);

    json_t *b = json_loads(c->body, 0, NULL);
    assert_non_null(b);
    assert_string_equal(ckt_str(b, "sessionId"), sid);
    assert_string_equal(ckt_str(b, "cart.items.0.sku"), f->sku);
    assert_int_equal(ckt_int(b, "cart.items.0.quantity"), 3);
    assert_int_equal(ckt_int(b, "cart.items.0.salesPrice"), 1999);
    assert_int_equal(ckt_int(b, "cart.totals.grandTotal"), GRAND_3);
    assert_string_equal(ckt_str(b, "cart.account.id"), f->acct);
    assert_string_equal(ckt_str(b, "cart.paymentMethod"), "card");
    assert_string_equal(ckt_str(b, "inputs.payment.method"), "card");
    assert_string_equal(ckt_str(b, "inputs.shippingAddress.city"), "Springfield");
    json_decref(b);
    ckt_fx_finish(f);
}

/* 3c. Timed out (timeoutMs 300, the peer sleeps 3 s): 500
 * EXTENSION_UNAVAILABLE, resumable; placing again calls with the same key
 * and, approved, places the order. */
static void http_timeout_then_resumed(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    char flow[64], sid[64];
    http_setup(f, ANS_OK, 300, flow);
    P.sleep_first_ms = 3000;
    session_on(f, flow, 3, PAY_CARD("tok_visa"), sid);
    /* Cut at the step's 300 ms: the peer would have answered ok after 3 s. */
    place_fails(f, sid, 500, "EXTENSION_UNAVAILABLE", "credit", NULL, 0);
    expect_failed(f, sid, "EXTENSION_UNAVAILABLE", "credit", "business_rules", "credit");
    assert_int_equal(fgw_authorize_calls(f->gw), 0);
    ckt_place_ok(f, sid, GRAND_3, NULL);
    assert_int_equal(peer_calls(), 2);
    assert_string_equal(peer_call_at(0)->key, peer_call_at(1)->key);
    expect_key(peer_call_at(1), sid, "credit", inputs_version(f, sid));
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    ckt_fx_finish(f);
}

/* 3d. Approved: 201 and exactly one callout. */
static void http_approved(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    char flow[64], sid[64], oid[64];
    http_setup(f, ANS_OK, 0, flow);
    session_on(f, flow, 3, PAY_CARD("tok_visa"), sid);
    ckt_place_ok(f, sid, GRAND_3, oid);
    assert_int_equal(peer_calls(), 1);
    json_t *s = po_get_session(f, sid);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    assert_string_equal(ckt_str(s, "orderId"), oid);
    json_decref(s);
    /* The replay calls nobody. */
    HELD = ckt_place(f, sid);
    ckt_expect_status(&HELD, 200);
    assert_string_equal(ckt_str(HELD.json, "orderId"), oid);
    ckt_free(&HELD);
    assert_int_equal(peer_calls(), 1);
    ckt_fx_finish(f);
}

/* 3e. A 503, a body that is not JSON, and JSON without a boolean ok: each
 * 500 EXTENSION_UNAVAILABLE, resumable with the same key. */
static void http_unavailable(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    char flow[64], sid[64], msg[256];
    http_setup(f, ANS_503, 0, flow);
    session_on(f, flow, 3, PAY_CARD("tok_visa"), sid);
    place_fails(f, sid, 500, "EXTENSION_UNAVAILABLE", "credit", msg, sizeof(msg));
    assert_non_null(strstr(msg, "503"));
    expect_failed(f, sid, "EXTENSION_UNAVAILABLE", "credit", "business_rules", "credit");
    peer_answer(ANS_TEXT);
    place_fails(f, sid, 500, "EXTENSION_UNAVAILABLE", "credit", NULL, 0);
    peer_answer(ANS_NO_OK);
    place_fails(f, sid, 500, "EXTENSION_UNAVAILABLE", "credit", NULL, 0);
    expect_failed(f, sid, "EXTENSION_UNAVAILABLE", "credit", "business_rules", "credit");
    assert_int_equal(fgw_authorize_calls(f->gw), 0);
    peer_answer(ANS_OK);
    ckt_place_ok(f, sid, GRAND_3, NULL);
    assert_int_equal(peer_calls(), 4);
    assert_int_equal(peer_key_count(peer_call_at(0)->key), 4);
    ckt_fx_finish(f);
}

/* 3f. An http step between pricing and shipping is the first step that
 * reads the payment: after it passed and a later step failed, a PATCH of
 * the payment rewinds to just before it (pricing), and the next callout
 * carries the new inputsVersion. */
static void http_patch_rewinds_to_callout(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    peer_start(ANS_OK);
    ckt_fx_opts o = {.fake_gateway = 1, .default_product = 1};
    ckt_fx_setup(f, &o);
    char flow[64], sid[64];
    ckt_fx_install_flow(f, f->store, std_with("pricing", json_pack("[o]", http_step("gate", 0))), flow);
    session_on(f, flow, 3, PAY_CARD("tok_decline"), sid);
    long long v = inputs_version(f, sid);
    place_fails(f, sid, 400, "PAYMENT_DECLINED", "payment", NULL, 0);
    expect_failed(f, sid, "PAYMENT_DECLINED", "payment", "business_rules", "payment");
    assert_int_equal(peer_calls(), 1);
    expect_key(peer_call_at(0), sid, "gate", v);

    ckt_resp r = po_patch(f, sid, f->bkey, "{\"payment\":" PAY_CARD("tok_visa") "}");
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "inputsVersion"), v + 1);
    assert_string_equal(ckt_str(r.json, "lastSuccessfulStep"), "pricing");
    assert_string_equal(ckt_str(r.json, "state"), "gate");
    ckt_free(&r);
    ckt_place_ok(f, sid, GRAND_3, NULL);
    assert_int_equal(peer_calls(), 2);
    expect_key(peer_call_at(1), sid, "gate", v + 1);
    json_t *b = json_loads(peer_call_at(1)->body, 0, NULL);
    assert_non_null(b);
    assert_string_equal(ckt_str(b, "inputs.payment.cardToken"), "tok_visa");
    json_decref(b);
    ckt_fx_finish(f);
}

/* ------------------------------------------------------------ when */

/* 4a. An http step for purchase_order and net_terms only: called for a
 * purchase order; skipped for a card (never called, the order placed), and
 * the skip recorded like a success (a failure at payment leaves progress
 * past it). */
static void when_http_by_method(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    peer_start(ANS_OK);
    ckt_fx_opts o = {.faults = "step.fail:payment*1", .default_product = 1};
    ckt_fx_setup(f, &o);
    char flow[64], card[64], po[64];
    ckt_fx_install_flow(f, f->store, std_with("business_rules", json_pack("[o]", when_po(http_step("po_check", 0)))), flow);

    session_on(f, flow, 3, PAY_CARD("tok_visa"), card);
    place_fails(f, card, 500, "INTERNAL_ERROR", "payment", NULL, 0);
    expect_failed(f, card, "INTERNAL_ERROR", "payment", "po_check", "payment");
    assert_int_equal(peer_calls(), 0);
    ckt_place_ok(f, card, GRAND_3, NULL);
    assert_int_equal(peer_calls(), 0);

    session_on(f, flow, 3, PAY_PO("PO-7001"), po);
    ckt_place_ok(f, po, GRAND_3, NULL);
    assert_int_equal(peer_calls(), 1);
    expect_key(peer_call_at(0), po, "po_check", inputs_version(f, po));
    json_t *b = json_loads(peer_call_at(0)->body, 0, NULL);
    assert_non_null(b);
    assert_string_equal(ckt_str(b, "cart.paymentMethod"), "purchase_order");
    json_decref(b);
    ckt_fx_finish(f);
}

/* 4b. A rejecting lua step for purchase_order and net_terms only: it
 * rejects a purchase order and is skipped for a card. */
static void when_lua_by_method(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    ckt_fx_opts o = {.default_product = 1};
    ckt_fx_setup(f, &o);
    char flow[64], card[64], po[64], msg[256];
    json_t *rule = when_po(lua_step("po_rule", "function check(cart) return false, \"no purchase orders for \" .. "
                                               "cart.paymentMethod end"));
    ckt_fx_install_flow(f, f->store, std_with("business_rules", json_pack("[o]", rule)), flow);
    session_on(f, flow, 3, PAY_PO("PO-7002"), po);
    place_fails(f, po, 400, "EXTENSION_REJECTED", "po_rule", msg, sizeof(msg));
    assert_string_equal(msg, "no purchase orders for purchase_order");
    session_on(f, flow, 3, PAY_CARD("tok_visa"), card);
    ckt_place_ok(f, card, GRAND_3, NULL);
    /* Switching the rejected one to a card: the skip lets it through. */
    po_set_inputs(f, po, NULL, NULL, PAY_CARD("tok_visa"));
    ckt_place_ok(f, po, GRAND_3, NULL);
    ckt_fx_finish(f);
}

/* ------------------------------------------------------------ subflow */

#define LIMITS_SCRIPT "function check(cart) return cart.totals.grandTotal <= 50000, \"over the erp limit\" end"

/* validate_cart .. business_rules, erp{credit (http), limits (lua)}, payment .. close_cart. */
static void erp_setup(ckt_fx *f, const char *faults, const char *const *extra, char flow[64])
{
    peer_start(ANS_OK);
    ckt_fx_opts o = {.faults = faults, .extra = extra, .fake_gateway = 1, .default_product = 1};
    ckt_fx_setup(f, &o);
    json_t *erp = subflow("erp", json_pack("[o, o]", http_step("credit", 0), lua_step("limits", LIMITS_SCRIPT)));
    ckt_fx_install_flow(f, f->store, std_with("business_rules", json_pack("[o]", erp)), flow);
}

/* 5a. The nested http step fails once: 500 at "erp/credit", progress at
 * business_rules; placing again resumes there and succeeds. */
static void subflow_nested_step_fails_then_resumes(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    char flow[64], sid[64];
    erp_setup(f, "step.fail:erp/credit*1", NULL, flow);
    session_on(f, flow, 3, PAY_CARD("tok_visa"), sid);
    place_fails(f, sid, 500, "INTERNAL_ERROR", "erp/credit", NULL, 0);
    expect_failed(f, sid, "INTERNAL_ERROR", "erp/credit", "business_rules", "erp/credit");
    assert_int_equal(peer_calls(), 0);
    ckt_place_ok(f, sid, GRAND_3, NULL);
    assert_int_equal(peer_calls(), 1);
    expect_key(peer_call_at(0), sid, "erp/credit", inputs_version(f, sid));
    assert_string_equal(peer_call_at(0)->path, "/credit");
    ckt_fx_finish(f);
}

/* 5b. The second nested step fails once: progress at "erp/credit", and the
 * resume lands on erp/limits without calling the service again. */
static void subflow_resume_lands_on_nested_step(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    char flow[64], sid[64];
    erp_setup(f, "step.fail:erp/limits*1", NULL, flow);
    session_on(f, flow, 3, PAY_CARD("tok_visa"), sid);
    place_fails(f, sid, 500, "INTERNAL_ERROR", "erp/limits", NULL, 0);
    expect_failed(f, sid, "INTERNAL_ERROR", "erp/limits", "erp/credit", "erp/limits");
    assert_int_equal(peer_calls(), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 0);
    ckt_place_ok(f, sid, GRAND_3, NULL);
    assert_int_equal(peer_calls(), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);
    ckt_fx_finish(f);
}

/* 5c. The nested lua step rejects: 400 at "erp/limits" with its message. */
static void subflow_nested_lua_rejects(void **state)
{
    (void)state;
    ckt_fx *f = &F;
    char flow[64], sid[64], msg[256];
    erp_setup(f, NULL, NULL, flow);
    session_on(f, flow, 30, PAY_CARD("tok_visa"), sid);
    place_fails(f, sid, 400, "EXTENSION_REJECTED", "erp/limits", msg, sizeof(msg));
    assert_string_equal(msg, "over the erp limit");
    expect_failed(f, sid, "EXTENSION_REJECTED", "erp/limits", "erp/credit", "erp/limits");
    assert_int_equal(fgw_authorize_calls(f->gw), 0);
    ckt_fx_finish(f);
}

/* ------------------------------------------------------------ crashes */

/* PostgreSQL keeps a dead process's lease for --lease-seconds (SQLite
 * releases it on start-up): one second, and the placement after the
 * restart waits it out with a bounded poll. */
static const char *const SHORT_LEASE[] = {"--lease-seconds", "1", NULL};

/* The crash matrix's flow: the pure steps, quote (lua), gate (http), then
 * erp{credit (http), limits (lua)}, then payment .. close_cart. */
static void crash_setup(ckt_fx *f, const char *faults, char flow[64])
{
    peer_start(ANS_OK);
    ckt_fx_opts o = {.faults = faults, .extra = SHORT_LEASE, .fake_gateway = 1, .default_product = 1};
    ckt_fx_setup(f, &o);
    json_t *erp = subflow("erp", json_pack("[o, o]", http_step("credit", 0), lua_step("limits", LIMITS_SCRIPT)));
    json_t *ins = json_pack("[o, o, o]", lua_step("quote", QUOTE_SCRIPT), http_step("gate", 0), erp);
    ckt_fx_install_flow(f, f->store, std_with("business_rules", ins), flow);
}

/* Places after the restart: 201 (or a 200 replay); on PostgreSQL, while
 * the dead process's lease lives, CART_ALREADY_IN_PROGRESS is waited out
 * (at most 15 s). The order id into oid. */
static void place_after_restart(ckt_fx *f, const char *sid, char oid[64])
{
    long long until = ckt_mono_ms() + 15000;
    for (;;) {
        HELD = ckt_place(f, sid);
        int held = HELD.status == 400 && json_is_string(ckt_get(HELD.json, "0.reason")) &&
                   strcmp(ckt_str(HELD.json, "0.reason"), "CART_ALREADY_IN_PROGRESS") == 0;
        if (!held || !f->d.pg || ckt_mono_ms() > until)
            break;
        ckt_free(&HELD);
        ckt_sleep_ms(100);
    }
    if (HELD.status != 201 && HELD.status != 200)
        ckt_expect_status(&HELD, 201);
    snprintf(oid, 64, "%s", ckt_str(HELD.json, "orderId"));
    ckt_free(&HELD);
}

/* crash.after:<path>: the placement's connection drops, the daemon exits
 * 99 at once after that step's commit; restarted without faults, the
 * placement resumes: one order for the session and the cart, one
 * authorization, and every callout key seen exactly once. peer_before:
 * the calls the peer saw before the crash. */
static void crash_after(const char *path, int peer_before)
{
    ckt_fx *f = &F;
    char faults[128], flow[64], sid[64], oid[64], req[256];
    snprintf(faults, sizeof(faults), "crash.after:%s", path);
    crash_setup(f, faults, flow);
    session_on(f, flow, 3, PAY_CARD("tok_visa"), sid);
    snprintf(req, sizeof(req), "/v1/checkouts/%s/place-order", sid);
    HELD = ckt_http_try(&f->d, "POST", req, f->bkey, NULL, NULL);
    if (HELD.status != 0)
        fprintf(stderr, "expected the daemon to die at %s, got %ld %s\n", path, HELD.status, HELD.body);
    assert_int_equal(HELD.status, 0);
    ckt_free(&HELD);
    assert_int_equal(ckt_wait_exit(&f->d, 10000), 99);
    assert_int_equal(peer_calls(), peer_before);
    assert_int_equal(fgw_authorize_calls(f->gw), 0);

    ckt_restart(&f->d, NULL, SHORT_LEASE);
    json_t *s = po_get_session(f, sid);
    assert_string_equal(ckt_str(s, "lastSuccessfulStep"), path);
    json_decref(s);
    place_after_restart(f, sid, oid);

    s = po_get_session(f, sid);
    assert_string_equal(ckt_str(s, "state"), "Completed");
    assert_string_equal(ckt_str(s, "orderId"), oid);
    char cart[64];
    snprintf(cart, sizeof(cart), "%s", ckt_str(s, "cartId"));
    json_decref(s);
    char q[512];
    snprintf(q, sizeof(q), "/v1/orders?accountId=%s", f->acct);
    json_t *list = po_get_json(f, q, f->bkey, 200);
    assert_int_equal(json_array_size(ckt_get(list, "items")), 1);
    assert_string_equal(ckt_str(list, "items.0.id"), oid);
    assert_string_equal(ckt_str(list, "items.0.cartId"), cart);
    json_decref(list);
    snprintf(q, sizeof(q), "/v1/orders/%s", oid);
    json_t *o = po_get_json(f, q, f->bkey, 200);
    assert_int_equal(json_array_size(ckt_get(o, "authorizations")), 1);
    assert_string_equal(ckt_str(o, "authorizations.0.status"), "Authorized");
    assert_int_equal(ckt_int(o, "totals.grandTotal"), GRAND_3);
    json_decref(o);
    assert_int_equal(fgw_holds(f->gw), 1);
    assert_int_equal(fgw_authorize_calls(f->gw), 1);

    /* Two callouts in the flow (gate, erp/credit), each key exactly once. */
    assert_int_equal(peer_calls(), 2);
    long long v = inputs_version(f, sid);
    char key[300];
    snprintf(key, sizeof(key), "%s:gate:%lld", sid, v);
    assert_int_equal(peer_key_count(key), 1);
    snprintf(key, sizeof(key), "%s:erp/credit:%lld", sid, v);
    assert_int_equal(peer_key_count(key), 1);
    ckt_fx_finish(f);
}

/* 6a. After the lua step's commit (shared with the pure built-ins). */
static void crash_after_lua_step(void **state)
{
    (void)state;
    crash_after("quote", 0);
}

/* 6b. After the http step's own commit: never called again. */
static void crash_after_http_step(void **state)
{
    (void)state;
    crash_after("gate", 1);
}

/* 6c. After a nested http step's commit. */
static void crash_after_nested_step(void **state)
{
    (void)state;
    crash_after("erp/credit", 2);
}

/* 6d. After a nested lua step's commit. */
static void crash_after_nested_lua_step(void **state)
{
    (void)state;
    crash_after("erp/limits", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(lua_rule_rejects_over_total, teardown),
        cmocka_unit_test_teardown(lua_sandbox_hostile_scripts, teardown),
        cmocka_unit_test_teardown(http_rejected, teardown),
        cmocka_unit_test_teardown(http_signed_and_keyed, teardown),
        cmocka_unit_test_teardown(http_timeout_then_resumed, teardown),
        cmocka_unit_test_teardown(http_approved, teardown),
        cmocka_unit_test_teardown(http_unavailable, teardown),
        cmocka_unit_test_teardown(http_patch_rewinds_to_callout, teardown),
        cmocka_unit_test_teardown(when_http_by_method, teardown),
        cmocka_unit_test_teardown(when_lua_by_method, teardown),
        cmocka_unit_test_teardown(subflow_nested_step_fails_then_resumes, teardown),
        cmocka_unit_test_teardown(subflow_resume_lands_on_nested_step, teardown),
        cmocka_unit_test_teardown(subflow_nested_lua_rejects, teardown),
        cmocka_unit_test_teardown(crash_after_lua_step, teardown),
        cmocka_unit_test_teardown(crash_after_http_step, teardown),
        cmocka_unit_test_teardown(crash_after_nested_step, teardown),
        cmocka_unit_test_teardown(crash_after_nested_lua_step, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
