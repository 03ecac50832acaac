/* context.h: the context every layer may read: the configuration, the
 * per-thread database connection, metrics, fault points, and the state each
 * subsystem keeps for its own threads. The composition root (src/app/) owns
 * it and starts and stops the subsystems; nothing below it starts anything. */
#ifndef CK_CONTEXT_H
#define CK_CONTEXT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "checkout/app.h"
#include "core/faults.h"
#include "core/metrics.h"
#include "core/util.h"

#define CK_MAX_BODY (1024 * 1024)
#define CK_DELIVERY_WORKERS 4 /* event delivery threads (events/dispatcher.c) */

typedef struct ck_ctx ck_ctx;

struct ck_ctx {
    ck_app_config cfg;
    char listen_host[64];
    char db_url[1024];
    ck_db_options dbopts;
    pthread_key_t db_key;
    int key_made;
    ck_db *main_db; /* the opening thread's connection */
    pthread_t main_thread;
    struct MHD_Daemon *mhd;
    struct ck_http_state *http; /* http's own threads and connections (src/http/), opaque here */
    int port;
    int64_t started_ms;
    ck_metrics metrics;
    atomic_int stopping;
    struct {
        pthread_t thread;
        pthread_mutex_t mu;
        pthread_cond_t cond;
        int started, wake;
    } queue; /* the async placement runner (checkout/engine.h) */
    struct {
        pthread_t thread;
        pthread_mutex_t mu;
        pthread_cond_t cond;
        int started;
    } jobs; /* the job scheduler (jobs/jobs.h) */
    struct {
        pthread_t threads[CK_DELIVERY_WORKERS];
        pthread_mutex_t mu;
        pthread_cond_t cond;
        int started, wake;
        atomic_int pollers; /* the first worker to start polls; the others wait to be woken */
    } dispatch; /* the delivery workers (events/dispatcher.h) */
    /* api's table of error statuses, handed down at start by the composition
     * root: http answers with it, and the request record keeps the status
     * its caller was (or would have been) given. */
    int (*error_status)(const ck_error *err);
    const char *(*error_category)(const ck_error *err);
    ck_faults *faults;      /* NULL unless --enable-fault-injection and CHECKOUTD_FAULTS */
    char node_id[CK_ID_MAX]; /* this process, as a lease owner */
};

/* The calling thread's own database connection (opened on first use, closed
 * when the thread exits, or by ck_ctx_close for the opening thread). */
ck_db *ck_ctx_db(ck_ctx *cx, ck_error *err);

/* Fills cx from cfg and opens the opening thread's connection; 0 or <0. */
int ck_ctx_init(ck_ctx *cx, const ck_app_config *cfg, ck_error *err);
/* Closes what ck_ctx_init opened (cx itself belongs to the caller). */
void ck_ctx_close(ck_ctx *cx);

#endif
