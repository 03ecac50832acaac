/* app_internal.h: the application object shared by the HTTP layer, the
 * handlers and the background jobs. */
#ifndef CK_APP_INTERNAL_H
#define CK_APP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "checkout/app.h"
#include "core/faults.h"
#include "core/metrics.h"
#include "core/util.h"

#define CK_MAX_BODY (1024 * 1024)
#define CK_DELIVERY_WORKERS 4 /* event delivery threads (events/dispatcher.c) */

struct ck_app {
    ck_app_config cfg;
    char listen_host[64];
    char db_url[1024];
    ck_db_options dbopts;
    pthread_key_t db_key;
    ck_db *main_db; /* the opening thread's connection */
    pthread_t main_thread;
    struct MHD_Daemon *mhd;
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
    } dispatch; /* the delivery workers (events/dispatcher.h) */
    ck_faults *faults;      /* NULL unless --enable-fault-injection and CHECKOUTD_FAULTS */
    char node_id[CK_ID_MAX]; /* this process, as a lease owner */
};

#endif
