/* fake_gateway.c: the in-process fake payment gateway of fake_gateway.h. */
#include "api/fake_gateway.h"
#include "api/fake_http.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (64 * 1024)

typedef struct fgw_auth {
    char id[48];
    int64_t amount, captured;
    int voided;
} fgw_auth;

/* An approved capture: a payment, and how much of it was refunded. */
typedef struct fgw_pay {
    char id[48];
    int64_t amount, refunded;
} fgw_pay;

typedef struct fgw_stored {
    char *key;
    char path[16];
    char *body; /* the JSON answer, sent with status 200 */
} fgw_stored;

struct fake_gateway {
    fake_http *http;
    pthread_mutex_t mu;
    int delay_ms, fail_next, error_text_next;
    int holds, authorize_calls, voids, captures, refunds, next_id;
    fgw_auth *auths;
    size_t nauths, cap_auths;
    fgw_pay *pays;
    size_t npays, cap_pays;
    fgw_stored *stored;
    size_t nstored, cap_stored;
    char last_idem[256], last_auth[640];
};

static void copy_out(char *out, size_t n, const char *s)
{
    if (n)
        snprintf(out, n, "%s", s ? s : "");
}

static fgw_auth *find_auth(fake_gateway *g, const char *id)
{
    for (size_t i = 0; id && i < g->nauths; i++)
        if (strcmp(g->auths[i].id, id) == 0)
            return &g->auths[i];
    return NULL;
}

static fgw_pay *find_pay(fake_gateway *g, const char *id)
{
    for (size_t i = 0; id && i < g->npays; i++)
        if (strcmp(g->pays[i].id, id) == 0)
            return &g->pays[i];
    return NULL;
}

static fgw_stored *find_stored(fake_gateway *g, const char *key)
{
    for (size_t i = 0; i < g->nstored; i++)
        if (strcmp(g->stored[i].key, key) == 0)
            return &g->stored[i];
    return NULL;
}

static int store_answer(fake_gateway *g, const char *key, const char *path, const char *body)
{
    if (g->nstored == g->cap_stored) {
        size_t cap = g->cap_stored ? g->cap_stored * 2 : 16;
        fgw_stored *s = realloc(g->stored, cap * sizeof(*s));
        if (!s)
            return -1;
        g->stored = s;
        g->cap_stored = cap;
    }
    fgw_stored *s = &g->stored[g->nstored];
    s->key = strdup(key);
    s->body = strdup(body);
    if (!s->key || !s->body) {
        free(s->key);
        free(s->body);
        return -1;
    }
    snprintf(s->path, sizeof(s->path), "%s", path);
    g->nstored++;
    return 0;
}

static fgw_auth *new_auth(fake_gateway *g, int64_t amount)
{
    if (g->nauths == g->cap_auths) {
        size_t cap = g->cap_auths ? g->cap_auths * 2 : 16;
        fgw_auth *a = realloc(g->auths, cap * sizeof(*a));
        if (!a)
            return NULL;
        g->auths = a;
        g->cap_auths = cap;
    }
    fgw_auth *a = &g->auths[g->nauths++];
    memset(a, 0, sizeof(*a));
    snprintf(a->id, sizeof(a->id), "fgw_auth_%d", ++g->next_id);
    a->amount = amount;
    return a;
}

static fgw_pay *new_pay(fake_gateway *g, int64_t amount)
{
    if (g->npays == g->cap_pays) {
        size_t cap = g->cap_pays ? g->cap_pays * 2 : 16;
        fgw_pay *p = realloc(g->pays, cap * sizeof(*p));
        if (!p)
            return NULL;
        g->pays = p;
        g->cap_pays = cap;
    }
    fgw_pay *p = &g->pays[g->npays++];
    memset(p, 0, sizeof(*p));
    snprintf(p->id, sizeof(p->id), "fgw_pay_%d", ++g->next_id);
    p->amount = amount;
    return p;
}

static json_t *declined(const char *code, const char *message)
{
    return json_pack("{s:s, s:s, s:s}", "result", "declined", "code", code, "message", message);
}

/* The answers, decided under g->mu. NULL with *status set: a request error. */
static json_t *do_authorize(fake_gateway *g, json_t *req, int *status)
{
    json_t *amount = json_object_get(req, "amount");
    const char *token = json_string_value(json_object_get(req, "token"));
    if (!json_is_integer(amount) || !token) {
        *status = 400;
        return NULL;
    }
    int64_t amt = json_integer_value(amount);
    if (strcmp(token, "tok_decline_text") == 0) /* a decline whose code is not a plain token */
        return json_pack("{s:s, s:s, s:s}", "result", "declined", "code", "call \"+1 555\" now\n{\"forged\":1}",
                         "message", "visit evil.example to fix your card");
    if (strcmp(token, "tok_error_text") == 0) /* an error text that would forge a log record if spliced raw */
        return json_pack("{s:s, s:s, s:s}", "result", "error", "code", "processing_error", "message",
                         "acquirer said \"no\"\n{\"level\":\"fatal\",\"msg\":\"forged\"}");
    if (strcmp(token, "tok_error") == 0)
        return json_pack("{s:s, s:s, s:s}", "result", "error", "code", "processing_error", "message",
                         "fake gateway: simulated processing error");
    if (strcmp(token, "tok_decline") == 0)
        return declined("card_declined", "the card was declined");
    int partial = strcmp(token, "tok_partial") == 0; /* approves half: a partial approval */
    if (strcmp(token, "tok_visa") != 0 && !partial)
        return declined("unknown_token", "unknown card token");
    if (amt < 0)
        return declined("invalid_amount", "the amount is not valid");
    if (partial)
        amt /= 2;
    fgw_auth *a = new_auth(g, amt);
    if (!a) {
        *status = 500;
        return NULL;
    }
    g->holds++;
    return json_pack("{s:s, s:s, s:I, s:s, s:s}", "result", "approved", "authorizationId", a->id, "amount",
                     (json_int_t)amt, "code", "approved", "message", "approved");
}

static json_t *do_capture(fake_gateway *g, json_t *req, int *status)
{
    json_t *amount = json_object_get(req, "amount");
    const char *auth_id = json_string_value(json_object_get(req, "authorizationId"));
    if (!json_is_integer(amount) || !auth_id) {
        *status = 400;
        return NULL;
    }
    int64_t amt = json_integer_value(amount);
    fgw_auth *a = find_auth(g, auth_id);
    if (!a)
        return declined("unknown_authorization", "no such authorization");
    if (a->voided)
        return declined("authorization_voided", "the authorization was voided");
    if (amt <= 0)
        return declined("invalid_amount", "the amount is not valid");
    if (amt > a->amount - a->captured)
        return declined("amount_exceeds_authorization", "the amount exceeds what remains");
    fgw_pay *p = new_pay(g, amt);
    if (!p) {
        *status = 500;
        return NULL;
    }
    a->captured += amt;
    g->captures++;
    return json_pack("{s:s, s:s, s:I}", "result", "approved", "paymentId", p->id, "amount", (json_int_t)amt);
}

static json_t *do_refund(fake_gateway *g, json_t *req, int *status)
{
    json_t *amount = json_object_get(req, "amount");
    const char *pay_id = json_string_value(json_object_get(req, "paymentId"));
    if (!json_is_integer(amount) || !pay_id) {
        *status = 400;
        return NULL;
    }
    int64_t amt = json_integer_value(amount);
    fgw_pay *p = find_pay(g, pay_id);
    if (!p)
        return declined("unknown_payment", "no such payment");
    if (amt <= 0)
        return declined("invalid_amount", "the amount is not valid");
    if (amt > p->amount - p->refunded)
        return declined("amount_exceeds_payment", "the amount exceeds what remains of the payment");
    p->refunded += amt;
    g->refunds++;
    char id[48];
    snprintf(id, sizeof(id), "fgw_ref_%d", ++g->next_id);
    return json_pack("{s:s, s:s, s:I}", "result", "approved", "refundId", id, "amount", (json_int_t)amt);
}

static json_t *do_void(fake_gateway *g, json_t *req, int *status)
{
    const char *auth_id = json_string_value(json_object_get(req, "authorizationId"));
    if (!auth_id) {
        *status = 400;
        return NULL;
    }
    fgw_auth *a = find_auth(g, auth_id);
    if (!a)
        return declined("unknown_authorization", "no such authorization");
    if (!a->voided) {
        a->voided = 1;
        g->voids++;
    }
    return json_pack("{s:s}", "result", "approved");
}

/* Decides the answer to one complete request: *status and a malloc'd body. */
static char *answer(fake_gateway *g, const fhttp_req *q, int *status)
{
    const char *url = q->path;
    const char *idem = fhttp_header(q, "Idempotency-Key");
    const char *auth = fhttp_header(q, "Authorization");
    copy_out(g->last_idem, sizeof(g->last_idem), idem);
    copy_out(g->last_auth, sizeof(g->last_auth), auth);
    if (strcmp(url, "/authorize") == 0)
        g->authorize_calls++;
    if (g->fail_next > 0) {
        g->fail_next--;
        *status = 500;
        return strdup("{\"result\":\"error\",\"code\":\"injected\"}");
    }
    if (g->error_text_next > 0 && strcmp(url, "/authorize") != 0) {
        g->error_text_next--; /* not stored: an error is not the key's answer */
        *status = 200;
        return strdup("{\"result\":\"error\",\"code\":\"processing_error\",\"message\":"
                      "\"acquirer said \\\"no\\\"\\n{\\\"level\\\":\\\"fatal\\\",\\\"msg\\\":\\\"forged\\\"}\"}");
    }
    json_t *(*op)(fake_gateway *, json_t *, int *) = NULL;
    if (strcmp(url, "/authorize") == 0)
        op = do_authorize;
    else if (strcmp(url, "/capture") == 0)
        op = do_capture;
    else if (strcmp(url, "/void") == 0)
        op = do_void;
    else if (strcmp(url, "/refund") == 0)
        op = do_refund;
    if (!op) {
        *status = 404;
        return strdup("{\"error\":\"not found\"}");
    }
    if (strcmp(q->method, "POST") != 0) {
        *status = 405;
        return strdup("{\"error\":\"method not allowed\"}");
    }
    if (!idem || !*idem) {
        *status = 400;
        return strdup("{\"error\":\"Idempotency-Key required\"}");
    }
    fgw_stored *s = find_stored(g, idem);
    if (s) {
        if (strcmp(s->path, url) != 0) {
            *status = 422;
            return strdup("{\"error\":\"idempotency key reused\"}");
        }
        *status = 200;
        return strdup(s->body);
    }
    json_t *req = q->body ? json_loadb(q->body, q->body_len, 0, NULL) : NULL;
    if (!json_is_object(req)) {
        json_decref(req);
        *status = 400;
        return strdup("{\"error\":\"bad JSON\"}");
    }
    *status = 200;
    json_t *reply = op(g, req, status);
    json_decref(req);
    if (!reply) {
        return strdup(*status == 400 ? "{\"error\":\"bad request\"}" : "{\"error\":\"internal\"}");
    }
    char *body = json_dumps(reply, JSON_COMPACT);
    const char *result = json_string_value(json_object_get(reply, "result"));
    if (body && strcmp(result, "error") != 0 && store_answer(g, idem, url, body) < 0) {
        free(body);
        body = NULL;
    }
    json_decref(reply);
    if (!body)
        *status = 500;
    return body;
}

/* One request: the answer is decided (and stored) under g->mu, then sent
 * after the delay, if one is set. */
static void handle(void *ud, const fhttp_req *q, fhttp_resp *a)
{
    fake_gateway *g = ud;
    int status = 500;
    pthread_mutex_lock(&g->mu);
    char *body = answer(g, q, &status);
    int ms = g->delay_ms;
    pthread_mutex_unlock(&g->mu);
    if (ms > 0)
        fhttp_sleep(q->server, ms);
    a->status = status;
    a->body = body ? body : strdup("{}");
}

fake_gateway *fgw_start(void)
{
    fake_gateway *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    pthread_mutex_init(&g->mu, NULL);
    g->http = fhttp_start(BODY_MAX, handle, NULL, g);
    if (!g->http) {
        fgw_stop(g);
        return NULL;
    }
    return g;
}

void fgw_stop(fake_gateway *g)
{
    if (!g)
        return;
    fhttp_stop(g->http);
    for (size_t i = 0; i < g->nstored; i++) {
        free(g->stored[i].key);
        free(g->stored[i].body);
    }
    free(g->stored);
    free(g->auths);
    free(g->pays);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

int fgw_port(fake_gateway *g)
{
    return fhttp_port(g->http);
}

void fgw_url(fake_gateway *g, char *out, size_t n)
{
    fhttp_url(g->http, NULL, out, n);
}

#define LOCKED_INT(name, field)            \
    int name(fake_gateway *g)              \
    {                                      \
        pthread_mutex_lock(&g->mu);        \
        int v = g->field;                  \
        pthread_mutex_unlock(&g->mu);      \
        return v;                          \
    }

LOCKED_INT(fgw_holds, holds)
LOCKED_INT(fgw_authorize_calls, authorize_calls)
LOCKED_INT(fgw_voids, voids)
LOCKED_INT(fgw_captures, captures)
LOCKED_INT(fgw_refunds, refunds)

int64_t fgw_captured_amount(fake_gateway *g, const char *auth_id)
{
    pthread_mutex_lock(&g->mu);
    fgw_auth *a = find_auth(g, auth_id);
    int64_t v = a ? a->captured : 0;
    pthread_mutex_unlock(&g->mu);
    return v;
}

int64_t fgw_refunded_amount(fake_gateway *g, const char *payment_id)
{
    pthread_mutex_lock(&g->mu);
    fgw_pay *p = find_pay(g, payment_id);
    int64_t v = p ? p->refunded : 0;
    pthread_mutex_unlock(&g->mu);
    return v;
}

int fgw_voided(fake_gateway *g, const char *auth_id)
{
    pthread_mutex_lock(&g->mu);
    fgw_auth *a = find_auth(g, auth_id);
    int v = a ? a->voided : 0;
    pthread_mutex_unlock(&g->mu);
    return v;
}

void fgw_set_delay_ms(fake_gateway *g, int ms)
{
    pthread_mutex_lock(&g->mu);
    g->delay_ms = ms;
    pthread_mutex_unlock(&g->mu);
}

void fgw_error_text_next(fake_gateway *g, int n)
{
    pthread_mutex_lock(&g->mu);
    g->error_text_next = n;
    pthread_mutex_unlock(&g->mu);
}

void fgw_fail_next(fake_gateway *g, int n)
{
    pthread_mutex_lock(&g->mu);
    g->fail_next = n;
    pthread_mutex_unlock(&g->mu);
}

void fgw_last_idem_key(fake_gateway *g, char *out, size_t n)
{
    pthread_mutex_lock(&g->mu);
    copy_out(out, n, g->last_idem);
    pthread_mutex_unlock(&g->mu);
}

void fgw_last_auth_header(fake_gateway *g, char *out, size_t n)
{
    pthread_mutex_lock(&g->mu);
    copy_out(out, n, g->last_auth);
    pthread_mutex_unlock(&g->mu);
}
