/* pool.c: the outbound workers. A route that may call out (a payment
 * gateway, an http flow step, a webhook test) runs here, not on the HTTP
 * worker that read it: libmicrohttpd's thread pool pins each connection to
 * one worker, so a placement waiting 9 s on a gateway would hold up every
 * other connection of its worker. The HTTP worker suspends the connection
 * and goes on serving; the outbound worker answers and resumes it. Workers
 * are bounded (--outbound-workers); waiting requests are bounded by the
 * connection cap, since each holds its connection. */
#include <stdlib.h>

#include "http/http_internal.h"

static void *worker(void *arg)
{
    struct ck_http_state *hs = arg;
    ck_metrics *m = &hs->cx->metrics;
    pthread_mutex_lock(&hs->pool_mu);
    for (;;) {
        while (!hs->head && !hs->pool_stop)
            pthread_cond_wait(&hs->pool_cond, &hs->pool_mu);
        if (!hs->head)
            break; /* stopping, and nothing left */
        ck_job *job = hs->head;
        hs->head = job->next;
        if (!hs->head)
            hs->tail = NULL;
        int stop = hs->pool_stop;
        pthread_mutex_unlock(&hs->pool_mu);
        atomic_fetch_sub(&m->outbound_queued, 1);
        if (stop) {
            job->cancel(job->arg);
        } else {
            atomic_fetch_add(&m->outbound_busy, 1);
            job->fn(job->arg);
            atomic_fetch_sub(&m->outbound_busy, 1);
        }
        pthread_mutex_lock(&hs->pool_mu);
    }
    pthread_mutex_unlock(&hs->pool_mu);
    return NULL;
}

int ck_pool_start(struct ck_http_state *hs, int workers)
{
    pthread_mutex_init(&hs->pool_mu, NULL);
    pthread_cond_init(&hs->pool_cond, NULL);
    hs->workers = calloc((size_t)workers, sizeof(*hs->workers));
    if (!hs->workers)
        return -1;
    for (int i = 0; i < workers; i++) {
        if (pthread_create(&hs->workers[i], NULL, worker, hs) != 0)
            return -1;
        hs->nworkers++;
    }
    return 0;
}

int ck_pool_submit(struct ck_http_state *hs, ck_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&hs->pool_mu);
    if (hs->pool_stop || !hs->nworkers) {
        pthread_mutex_unlock(&hs->pool_mu);
        return -1;
    }
    atomic_fetch_add(&hs->cx->metrics.outbound_queued, 1);
    if (hs->tail)
        hs->tail->next = job;
    else
        hs->head = job;
    hs->tail = job;
    pthread_cond_signal(&hs->pool_cond);
    pthread_mutex_unlock(&hs->pool_mu);
    return 0;
}

void ck_pool_stop(struct ck_http_state *hs)
{
    if (!hs->workers)
        return;
    pthread_mutex_lock(&hs->pool_mu);
    hs->pool_stop = 1;
    pthread_cond_broadcast(&hs->pool_cond);
    pthread_mutex_unlock(&hs->pool_mu);
    for (int i = 0; i < hs->nworkers; i++)
        pthread_join(hs->workers[i], NULL);
    free(hs->workers);
    hs->workers = NULL;
    hs->nworkers = 0;
}
