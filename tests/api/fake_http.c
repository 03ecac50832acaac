/* fake_http.c: the in-process HTTP server of fake_http.h, on libmicrohttpd. */
#include "api/fake_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fake_http {
    struct MHD_Daemon *mhd;
    int port;
    size_t body_max;
    fhttp_handler handler;
    fhttp_sent sent;
    void *ud;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* signalled on stop, to end sleeps early */
    int stopping;
};

/* The body of the request on one connection, as it arrives. */
typedef struct upload {
    char *data;
    size_t len;
    int too_large;
} upload;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **con_cls)
{
    (void)version;
    fake_http *s = cls;
    upload *up = *con_cls;
    if (!up) {
        if (!(up = calloc(1, sizeof(*up))))
            return MHD_NO;
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_size) {
        if (up->len + *upload_size > s->body_max) {
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
    fhttp_req req = {.server = s,
                     .method = method,
                     .path = url,
                     .body = up->too_large ? NULL : up->data,
                     .body_len = up->too_large ? 0 : up->len,
                     .too_large = up->too_large,
                     .conn = conn};
    fhttp_resp resp = {.status = 500};
    s->handler(s->ud, &req, &resp);
    if (!resp.body)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(resp.body), resp.body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(resp.body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", resp.content_type ? resp.content_type : "application/json");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp.status, r);
    MHD_destroy_response(r);
    if (rc == MHD_YES && s->sent)
        s->sent(s->ud, resp.status);
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

fake_http *fhttp_start(size_t body_max, fhttp_handler handler, fhttp_sent sent, void *ud)
{
    fake_http *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->body_max = body_max;
    s->handler = handler;
    s->sent = sent;
    s->ud = ud;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
                              0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT,
                              (unsigned)30, MHD_OPTION_END);
    const union MHD_DaemonInfo *info = s->mhd ? MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || !info->port) {
        fhttp_stop(s);
        return NULL;
    }
    s->port = info->port;
    return s;
}

void fhttp_stop(fake_http *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mu);
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int fhttp_port(fake_http *s)
{
    return s->port;
}

void fhttp_url(fake_http *s, const char *path, char *out, size_t n)
{
    snprintf(out, n, "http://127.0.0.1:%d%s", s->port, path ? path : "");
}

const char *fhttp_header(const fhttp_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void fhttp_sleep(fake_http *s, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->stopping && pthread_cond_timedwait(&s->wake, &s->mu, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&s->mu);
}
