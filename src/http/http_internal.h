/* http_internal.h: what the files of src/http share and nothing else sees:
 * the connection deadlines (conns.c) and the outbound pool (pool.c). */
#ifndef CK_HTTP_INTERNAL_H
#define CK_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>

#include "core/context.h"

/* Where a connection is, for its deadline. */
typedef enum {
    CK_CONN_IDLE,    /* between requests, or a request line still arriving: --idle-timeout */
    CK_CONN_HEADERS, /* request line read, headers still arriving: --header-timeout */
    CK_CONN_BODY,    /* headers read, body still arriving: --body-timeout */
    CK_CONN_BUSY,    /* being answered: no deadline of ours */
} ck_conn_phase;

typedef struct ck_conn ck_conn;
typedef struct ck_job ck_job;

struct ck_http_state {
    ck_ctx *cx;
    int tls;
    /* Connections (conns.c), each from libmicrohttpd's start notice to its
     * close notice, which comes before it closes the socket: a socket in
     * this list under mu is still that connection's. */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    ck_conn *conns;
    unsigned nconns, cap; /* connections in the list; the connection cap in force */
    pthread_t watchdog;
    int watchdog_started, stop;
    /* The outbound pool (pool.c). */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cond;
    ck_job *head, *tail;
    pthread_t *workers;
    int nworkers, pool_stop;
};

/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback (cls: the state). */
void ck_conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                     enum MHD_ConnectionNotificationCode code);
/* The connection moves to phase (its deadline counts from now). Returns 1
 * when the watchdog already closed it (the caller answers nothing). */
int ck_conns_phase(struct ck_http_state *hs, struct MHD_Connection *conn, ck_conn_phase phase);
int ck_conns_start(struct ck_http_state *hs);
void ck_conns_stop(struct ck_http_state *hs);

/* A request that may call out, run on an outbound worker: fn(arg), or at
 * stop before it ran, cancel(arg). Either resumes the connection. */
struct ck_job {
    ck_job *next;
    void (*fn)(void *arg);
    void (*cancel)(void *arg);
    void *arg;
};
int ck_pool_start(struct ck_http_state *hs, int workers);
/* Queues job; -1 when the pool is stopping (the caller runs it itself). */
int ck_pool_submit(struct ck_http_state *hs, ck_job *job);
/* Cancels what has not started, waits for what runs, joins the workers. */
void ck_pool_stop(struct ck_http_state *hs);

#endif
