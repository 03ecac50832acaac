/* app.c: the application's life: open and migrate the database, start and
 * stop the HTTP server, and one database connection per thread. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/app_internal.h"
#include "http/http.h"
#include "store/migrations.h"
#include "checkout/engine.h"
#include "checkout/session.h"
#include "events/dispatcher.h"
#include "jobs/jobs.h"

int ck_http_start(ck_app *app, ck_error *err);
void ck_http_stop(ck_app *app);

void ck_app_config_defaults(ck_app_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen_host = "127.0.0.1";
    cfg->port = 8080;
    cfg->db_url = "sqlite:./checkout.db";
    cfg->workers = 0;
    cfg->lease_seconds = 30;
    cfg->jobs_interval = 60;
    cfg->sqlite_synchronous_full = 1;
    cfg->authorization_ttl = 7 * 86400; /* the card networks' usual window */
}

static void close_thread_db(void *p)
{
    ck_db_close(p);
}

ck_db *ck_app_db(ck_app *app, ck_error *err)
{
    if (pthread_equal(pthread_self(), app->main_thread))
        return app->main_db;
    ck_db *db = pthread_getspecific(app->db_key);
    if (db)
        return db;
    if (ck_db_open(&db, app->db_url, &app->dbopts, err) < 0)
        return NULL;
    pthread_setspecific(app->db_key, db);
    return db;
}

/* SQLite is one process's file: whatever a dead process left running is
 * released. Session leases, delivery claims, capture locks and job leases
 * go; async placements go back to the queue; a synchronous placement
 * interrupted by the crash is marked Failed (its caller saw the connection
 * drop, and placing again resumes the session). */
static int recover_sqlite(ck_db *db, ck_error *err)
{
    int rc = ck_session_leases_release_all(db, err);
    if (rc == 0)
        rc = ck_db_exec(db, NULL, err,
                        "UPDATE checkout_requests SET status = 'Queued', runner = NULL, run_lease_until = 0"
                        " WHERE status = 'Running' AND runner IS NOT NULL",
                        "");
    if (rc == 0)
        rc = ck_db_exec(db, NULL, err,
                        "UPDATE checkout_requests SET status = 'Failed', completed_at = ?, http_status = 500,"
                        " errors = '[{\"errorCode\":\"UNKNOWN_EXCEPTION\",\"reason\":\"INTERNAL_ERROR\","
                        "\"message\":\"the daemon stopped during this request; place the order again\"}]'"
                        " WHERE status = 'Running' AND runner IS NULL",
                        "i", ck_now_ms());
    if (rc == 0)
        rc = ck_db_exec(db, NULL, err,
                        "UPDATE deliveries SET lease_owner = NULL, lease_until = 0 WHERE lease_owner IS NOT NULL", "");
    if (rc == 0)
        rc = ck_db_exec(db, NULL, err,
                        "UPDATE payment_authorizations SET lock_owner = NULL, lock_until = 0 WHERE lock_owner IS NOT NULL",
                        "");
    if (rc == 0)
        rc = ck_db_exec(db, NULL, err, "UPDATE job_leases SET owner = NULL, lease_until = 0 WHERE owner IS NOT NULL", "");
    return rc;
}

int ck_app_open(ck_app **out, const ck_app_config *cfg, ck_error *err)
{
    *out = NULL;
    ck_app *app = calloc(1, sizeof(*app));
    if (!app)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    app->cfg = *cfg;
    snprintf(app->listen_host, sizeof(app->listen_host), "%s", cfg->listen_host);
    snprintf(app->db_url, sizeof(app->db_url), "%s", cfg->db_url);
    app->cfg.listen_host = app->listen_host;
    app->cfg.db_url = app->db_url;
    if (app->cfg.workers <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        app->cfg.workers = n > 0 ? (int)n : 2;
    }
    app->dbopts.busy_timeout_ms = 10000;
    app->dbopts.synchronous_full = cfg->sqlite_synchronous_full;
    app->main_thread = pthread_self();
    app->started_ms = ck_now_ms();
    ck_metrics_init(&app->metrics);
    if (pthread_key_create(&app->db_key, close_thread_db) != 0) {
        free(app);
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "pthread_key_create failed");
    }
    ck_id_new(app->node_id, "node");
    int rc = cfg->fault_injection ? ck_faults_parse(&app->faults, getenv("CHECKOUTD_FAULTS"), err) : 0;
    if (rc == 0)
        rc = ck_db_open(&app->main_db, app->db_url, &app->dbopts, err);
    if (rc == 0)
        rc = ck_migrate(app->main_db, err);
    if (rc == 0)
        rc = ck_idem_purge(app->main_db, err);
    /* SQLite is one process's file: any lease in it was left by a dead process. */
    if (rc == 0 && ck_db_driver_of(app->main_db) == &ck_sqlite_driver)
        rc = recover_sqlite(app->main_db, err);
    if (rc < 0) {
        ck_app_close(app);
        return rc;
    }
    *out = app;
    return 0;
}

int ck_app_start(ck_app *app, ck_error *err)
{
    int rc = ck_queue_start(app, err);
    if (rc == 0)
        rc = ck_jobs_start(app, err);
    if (rc == 0)
        rc = ck_dispatcher_start(app, err);
    return rc < 0 ? rc : ck_http_start(app, err);
}

int ck_app_port(const ck_app *app)
{
    return app->port;
}

void ck_app_stop(ck_app *app)
{
    atomic_store(&app->stopping, 1);
    ck_http_stop(app);
    ck_queue_stop(app);
    ck_jobs_stop(app);
    ck_dispatcher_stop(app);
}

void ck_app_close(ck_app *app)
{
    if (!app)
        return;
    ck_app_stop(app);
    ck_db_close(app->main_db);
    pthread_key_delete(app->db_key);
    ck_faults_free(app->faults);
    ck_metrics_destroy(&app->metrics);
    free(app);
}
