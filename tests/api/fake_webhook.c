/* fake_webhook.c: the in-process webhook receiver of fake_webhook.h. */
#include "api/fake_webhook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_MAX (1024 * 1024)

typedef struct fwh_req {
    char *body;
    char *event, *delivery, *signature, *content_type;
    int status;
} fwh_req;

struct fake_webhook {
    struct MHD_Daemon *mhd;
    int port;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* signalled on stop, to end hangs early */
    int stopping;
    int fail; /* >0: fail that many more; <0: fail all */
    int hang_ms;
    bool down;
    int ok;
    fwh_req *reqs;
    size_t nreqs, cap;
};

typedef struct upload {
    char *data;
    size_t len;
    int too_large;
} upload;

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
static long record(fake_webhook *w, struct MHD_Connection *conn, const upload *up, int *status)
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
    r->body = up->too_large ? strdup("<too large>") : dup_or_empty(up->data);
    r->event = dup_or_empty(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Checkoutd-Event"));
    r->delivery = dup_or_empty(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Checkoutd-Delivery"));
    r->signature = dup_or_empty(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Checkoutd-Signature"));
    r->content_type = dup_or_empty(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"));
    r->status = *status;
    if (!r->body || !r->event || !r->delivery || !r->signature || !r->content_type) {
        free(r->body);
        free(r->event);
        free(r->delivery);
        free(r->signature);
        free(r->content_type);
        return -1;
    }
    return (long)w->nreqs++;
}

static void hang(fake_webhook *w, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->stopping && pthread_cond_timedwait(&w->wake, &w->mu, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&w->mu);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **con_cls)
{
    (void)url, (void)method, (void)version;
    fake_webhook *w = cls;
    upload *up = *con_cls;
    if (!up) {
        if (!(up = calloc(1, sizeof(*up))))
            return MHD_NO;
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_size) {
        if (up->len + *upload_size > BODY_MAX) {
            up->too_large = 1;
        } else {
            char *d = realloc(up->data, up->len + *upload_size + 1);
            if (!d)
                return MHD_NO;
            memcpy(d + up->len, upload_data, *upload_size);
            up->data = d;
            up->len += *upload_size;
            d[up->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    int status = 500;
    pthread_mutex_lock(&w->mu);
    record(w, conn, up, &status);
    int ms = w->hang_ms;
    pthread_mutex_unlock(&w->mu);
    if (ms > 0)
        hang(w, ms);
    const char *text = status == 200 ? "{\"ok\":true}" : "{\"ok\":false}";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (rc == MHD_YES && status >= 200 && status <= 299) {
        pthread_mutex_lock(&w->mu);
        w->ok++;
        pthread_mutex_unlock(&w->mu);
    }
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    upload *up = *con_cls;
    if (up) {
        free(up->data);
        free(up);
        *con_cls = NULL;
    }
}

fake_webhook *fwh_start(int fail_first_n)
{
    fake_webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->mu, NULL);
    w->fail = fail_first_n;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    w->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
                              0, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_CONNECTION_TIMEOUT,
                              (unsigned)30, MHD_OPTION_END);
    const union MHD_DaemonInfo *info = w->mhd ? MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || !info->port) {
        fwh_stop(w);
        return NULL;
    }
    w->port = info->port;
    return w;
}

void fwh_stop(fake_webhook *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->mu);
    if (w->mhd)
        MHD_stop_daemon(w->mhd);
    for (size_t i = 0; i < w->nreqs; i++) {
        free(w->reqs[i].body);
        free(w->reqs[i].event);
        free(w->reqs[i].delivery);
        free(w->reqs[i].signature);
        free(w->reqs[i].content_type);
    }
    free(w->reqs);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

int fwh_port(fake_webhook *w)
{
    return w->port;
}

void fwh_url(fake_webhook *w, char *out, size_t n)
{
    snprintf(out, n, "http://127.0.0.1:%d/hook", w->port);
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
FIELD_ACCESSOR(fwh_content_type, content_type)

int fwh_status(fake_webhook *w, int i)
{
    pthread_mutex_lock(&w->mu);
    int s = i >= 0 && (size_t)i < w->nreqs ? w->reqs[i].status : 0;
    pthread_mutex_unlock(&w->mu);
    return s;
}
