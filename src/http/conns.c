/* conns.c: deadlines for the connections a client holds without sending.
 * libmicrohttpd 0.9.75 has only an inactivity timeout, which a client that
 * sends one byte a second never reaches; so a watchdog closes a connection
 * whose request line, headers or body take longer than their deadline,
 * with a 408 in the error envelope where one can be sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "http/http_internal.h"

struct ck_conn {
    ck_conn *prev, *next;
    int fd;
    ck_conn_phase phase;
    int64_t since_us;
    int closed; /* the watchdog shut it down */
};

void ck_conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
    struct ck_http_state *hs = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        ck_conn *c = calloc(1, sizeof(*c));
        if (!c || !fd) {
            free(c); /* without its entry a connection has only libmicrohttpd's timeout */
            *socket_context = NULL;
            return;
        }
        c->fd = fd->connect_fd;
        c->phase = CK_CONN_IDLE;
        c->since_us = ck_mono_us();
        pthread_mutex_lock(&hs->mu);
        c->next = hs->conns;
        if (hs->conns)
            hs->conns->prev = c;
        hs->conns = c;
        hs->nconns++;
        pthread_mutex_unlock(&hs->mu);
        *socket_context = c;
        return;
    }
    /* MHD_CONNECTION_NOTIFY_CLOSED: before libmicrohttpd closes the socket
     * (0.9.75, daemon.c), so once the entry is out of the list under mu,
     * the watchdog can no longer touch a socket number reused by another. */
    ck_conn *c = *socket_context;
    if (!c)
        return;
    pthread_mutex_lock(&hs->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        hs->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    hs->nconns--;
    pthread_mutex_unlock(&hs->mu);
    free(c);
    *socket_context = NULL;
}

int ck_conns_phase(struct ck_http_state *hs, struct MHD_Connection *conn, ck_conn_phase phase)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    ck_conn *c = ci ? ci->socket_context : NULL;
    if (!c)
        return 0;
    pthread_mutex_lock(&hs->mu);
    c->phase = phase;
    c->since_us = ck_mono_us();
    int closed = c->closed;
    pthread_mutex_unlock(&hs->mu);
    return closed;
}

/* The 408 a connection past its header or body deadline gets: a whole
 * response written by the watchdog, which libmicrohttpd cannot be writing
 * then (it writes only once a request is complete). */
static char *timeout_answer(ck_ctx *cx, ck_conn_phase phase, int seconds, size_t *len)
{
    ck_error e;
    ck_error_clear(&e);
    ck_fail(&e, CK_EINVALID, "REQUEST_TIMEOUT", NULL, "the request's %s did not arrive within %d s",
            phase == CK_CONN_HEADERS ? "headers" : "body", seconds);
    json_t *env = ck_error_json(&e, cx->error_category(&e));
    char *body = env ? json_dumps(env, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(env);
    if (!body)
        return NULL;
    char *out = NULL;
    int n = asprintf(&out,
                     "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     strlen(body), body);
    free(body);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return out;
}

/* Under pressure (three quarters of the connection cap in use) an idle
 * keep-alive connection gets 1 s, not --idle-timeout: a slot an honest
 * client waits for is worth more than a connection someone may reuse. */
static int deadline_of(const ck_ctx *cx, ck_conn_phase phase, int pressure)
{
    switch (phase) {
    case CK_CONN_IDLE: return pressure && cx->cfg.idle_timeout > 1 ? 1 : cx->cfg.idle_timeout;
    case CK_CONN_HEADERS: return cx->cfg.header_timeout;
    case CK_CONN_BODY: return cx->cfg.body_timeout;
    default: return 0;
    }
}

/* At most this many closes per sweep (four sweeps a second): 2,000 idle
 * connections reaching --idle-timeout together were closed in one sweep,
 * which held the list's mutex (and so every new connection's start) and
 * the workers for long enough to delay an honest client's /healthz past
 * 100 ms. Spread, they leave over two seconds. */
#define SWEEP_MAX 256

static void sweep(struct ck_http_state *hs)
{
    ck_ctx *cx = hs->cx;
    int64_t now = ck_mono_us();
    pthread_mutex_lock(&hs->mu);
    int pressure = hs->cap && hs->nconns * 4 >= hs->cap * 3, budget = SWEEP_MAX;
    for (ck_conn *c = hs->conns; c && budget > 0; c = c->next) {
        int secs = deadline_of(cx, c->phase, pressure);
        if (c->closed || secs <= 0 || now - c->since_us < (int64_t)secs * 1000000)
            continue;
        if (c->phase != CK_CONN_IDLE && !hs->tls) {
            size_t len = 0;
            char *answer = timeout_answer(cx, c->phase, secs, &len);
            if (answer)
                (void)!send(c->fd, answer, len, MSG_NOSIGNAL | MSG_DONTWAIT);
            free(answer);
        }
        /* libmicrohttpd sees the end of the stream and closes it. */
        shutdown(c->fd, SHUT_RDWR);
        c->closed = 1;
        budget--;
        atomic_fetch_add(&cx->metrics.conn_deadline[c->phase], 1);
    }
    pthread_mutex_unlock(&hs->mu);
}

static void *watchdog(void *arg)
{
    struct ck_http_state *hs = arg;
    pthread_mutex_lock(&hs->mu);
    while (!hs->stop) {
        struct timespec ts;
        ck_timespec_in(&ts, CLOCK_MONOTONIC, 250);
        pthread_cond_timedwait(&hs->cond, &hs->mu, &ts);
        if (hs->stop)
            break;
        pthread_mutex_unlock(&hs->mu);
        sweep(hs);
        pthread_mutex_lock(&hs->mu);
    }
    pthread_mutex_unlock(&hs->mu);
    return NULL;
}

int ck_conns_start(struct ck_http_state *hs)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&hs->mu, NULL);
    pthread_cond_init(&hs->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&hs->watchdog, NULL, watchdog, hs) != 0)
        return -1;
    hs->watchdog_started = 1;
    return 0;
}

void ck_conns_stop(struct ck_http_state *hs)
{
    if (!hs->watchdog_started)
        return;
    pthread_mutex_lock(&hs->mu);
    hs->stop = 1;
    pthread_cond_broadcast(&hs->cond);
    pthread_mutex_unlock(&hs->mu);
    pthread_join(hs->watchdog, NULL);
    hs->watchdog_started = 0;
}
