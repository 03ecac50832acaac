/* fake_webhook.c: the in-process webhook receiver of fake_webhook.h. */
#include "api/fake_webhook.h"
#include "api/fake_http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (1024 * 1024)

typedef struct fwh_req {
    char *body;
    char *event, *delivery, *signature, *signature_t, *content_type;
    int status;
} fwh_req;

struct fake_webhook {
    fake_http *http;
    pthread_mutex_t mu;
    int fail; /* >0: fail that many more; <0: fail all */
    int hang_ms;
    bool down;
    int ok;
    fwh_req *reqs;
    size_t nreqs, cap;
};

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static void copy_out(char *out, size_t n, const char *s)
{
    if (out && n)
        snprintf(out, n, "%s", s ? s : "");
}

/* Records the request and decides its status, under w->mu. Returns the index. */
static long record(fake_webhook *w, const fhttp_req *q, int *status)
{
    if (w->down)
        *status = 503;
    else if (w->fail != 0) {
        *status = 500;
        if (w->fail > 0)
            w->fail--;
    } else {
        *status = 200;
    }
    if (w->nreqs == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        fwh_req *r = realloc(w->reqs, cap * sizeof(*r));
        if (!r)
            return -1;
        w->reqs = r;
        w->cap = cap;
    }
    fwh_req *r = &w->reqs[w->nreqs];
    r->body = q->too_large ? strdup("<too large>") : dup_or_empty(q->body);
    r->event = dup_or_empty(fhttp_header(q, "X-Checkoutd-Event"));
    r->delivery = dup_or_empty(fhttp_header(q, "X-Checkoutd-Delivery"));
    r->signature = dup_or_empty(fhttp_header(q, "X-Checkoutd-Signature"));
    r->signature_t = dup_or_empty(fhttp_header(q, "Checkoutd-Signature"));
    r->content_type = dup_or_empty(fhttp_header(q, "Content-Type"));
    r->status = *status;
    if (!r->body || !r->event || !r->delivery || !r->signature || !r->signature_t || !r->content_type) {
        free(r->body);
        free(r->event);
        free(r->delivery);
        free(r->signature);
        free(r->signature_t);
        free(r->content_type);
        return -1;
    }
    return (long)w->nreqs++;
}

/* One request: recorded, then answered after the hang, if one is set. */
static void handle(void *ud, const fhttp_req *q, fhttp_resp *a)
{
    fake_webhook *w = ud;
    int status = 500;
    pthread_mutex_lock(&w->mu);
    record(w, q, &status);
    int ms = w->hang_ms;
    pthread_mutex_unlock(&w->mu);
    if (ms > 0)
        fhttp_sleep(q->server, ms);
    a->status = status;
    a->body = strdup(status == 200 ? "{\"ok\":true}" : "{\"ok\":false}");
}

static void sent(void *ud, int status)
{
    fake_webhook *w = ud;
    if (status >= 200 && status <= 299) {
        pthread_mutex_lock(&w->mu);
        w->ok++;
        pthread_mutex_unlock(&w->mu);
    }
}

fake_webhook *fwh_start(int fail_first_n)
{
    fake_webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    pthread_mutex_init(&w->mu, NULL);
    w->fail = fail_first_n;
    w->http = fhttp_start(BODY_MAX, handle, sent, w);
    if (!w->http) {
        fwh_stop(w);
        return NULL;
    }
    return w;
}

void fwh_stop(fake_webhook *w)
{
    if (!w)
        return;
    fhttp_stop(w->http);
    for (size_t i = 0; i < w->nreqs; i++) {
        free(w->reqs[i].body);
        free(w->reqs[i].event);
        free(w->reqs[i].delivery);
        free(w->reqs[i].signature);
        free(w->reqs[i].signature_t);
        free(w->reqs[i].content_type);
    }
    free(w->reqs);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

int fwh_port(fake_webhook *w)
{
    return fhttp_port(w->http);
}

void fwh_url(fake_webhook *w, char *out, size_t n)
{
    fhttp_url(w->http, "/hook", out, n);
}

void fwh_set_fail(fake_webhook *w, int n)
{
    pthread_mutex_lock(&w->mu);
    w->fail = n;
    pthread_mutex_unlock(&w->mu);
}

void fwh_set_hang_ms(fake_webhook *w, int ms)
{
    pthread_mutex_lock(&w->mu);
    w->hang_ms = ms;
    pthread_mutex_unlock(&w->mu);
}

void fwh_set_down(fake_webhook *w, bool down)
{
    pthread_mutex_lock(&w->mu);
    w->down = down;
    pthread_mutex_unlock(&w->mu);
}

int fwh_count(fake_webhook *w)
{
    pthread_mutex_lock(&w->mu);
    int n = (int)w->nreqs;
    pthread_mutex_unlock(&w->mu);
    return n;
}

int fwh_count_event(fake_webhook *w, const char *event)
{
    int n = 0;
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->nreqs; i++)
        n += strcmp(w->reqs[i].event, event) == 0;
    pthread_mutex_unlock(&w->mu);
    return n;
}

int fwh_count_ok(fake_webhook *w)
{
    pthread_mutex_lock(&w->mu);
    int n = w->ok;
    pthread_mutex_unlock(&w->mu);
    return n;
}

#define FIELD_ACCESSOR(name, field)                                  \
    int name(fake_webhook *w, int i, char *out, size_t n)            \
    {                                                                \
        pthread_mutex_lock(&w->mu);                                  \
        int found = i >= 0 && (size_t)i < w->nreqs;                  \
        copy_out(out, n, found ? w->reqs[i].field : "");             \
        pthread_mutex_unlock(&w->mu);                                \
        return found;                                                \
    }

FIELD_ACCESSOR(fwh_body, body)
FIELD_ACCESSOR(fwh_event, event)
FIELD_ACCESSOR(fwh_delivery, delivery)
FIELD_ACCESSOR(fwh_signature, signature)
FIELD_ACCESSOR(fwh_signature_t, signature_t)
FIELD_ACCESSOR(fwh_content_type, content_type)

int fwh_status(fake_webhook *w, int i)
{
    pthread_mutex_lock(&w->mu);
    int s = i >= 0 && (size_t)i < w->nreqs ? w->reqs[i].status : 0;
    pthread_mutex_unlock(&w->mu);
    return s;
}
