/* app.c: the composition root. It opens the context and the database,
 * migrates and recovers it, then starts the subsystems from above (the
 * async placement runner, the jobs, the delivery workers, and the HTTP
 * server with api's routes) and stops them in reverse. Nothing below this
 * layer starts a subsystem. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/errors.h"
#include "api/routes.h"
#include "core/context.h"
#include "core/util.h"
#include "store/deliveries.h"
#include "store/fulfillment.h"
#include "store/idempotency.h"
#include "store/jobs.h"
#include "store/payments.h"
#include "store/requests.h"
#include "store/users.h"
#include "http/http.h"
#include "store/migrations.h"
#include "checkout/engine.h"
#include "checkout/session.h"
#include "events/dispatcher.h"
#include "flows/flows.h"
#include "jobs/jobs.h"

struct ck_app {
    ck_ctx cx;
};

/* SQLite is one process's file: whatever a dead process left running is
 * released. Session leases, delivery claims, job leases, the leases of
 * changes to orders left Pending, and the claims of Idempotency-Keys whose
 * request was running go (a retry under the key runs again, and a change to
 * an order finds what its key made); async placements go back to the
 * queue; a synchronous placement interrupted by the crash is marked Failed
 * (its caller saw the connection drop, and placing again resumes the
 * session). */
static int recover_sqlite(ck_db *db, ck_error *err)
{
    int rc = ck_session_leases_release_all(db, err);
    if (rc == 0)
        rc = ck_requests_recover_running(db, ck_now_ms(), err);
    if (rc == 0)
        rc = ck_deliveries_claims_release_all(db, err);
    if (rc == 0)
        rc = ck_job_leases_release_all(db, err);
    if (rc == 0)
        rc = ck_idempotency_release_all_running(db, err);
    if (rc == 0)
        rc = ck_changes_leases_release_all(db, err);
    return rc;
}

int ck_app_open(ck_app **out, const ck_app_config *cfg, ck_error *err)
{
    *out = NULL;
    ck_app *app = calloc(1, sizeof(*app));
    if (!app)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    ck_ctx *cx = &app->cx;
    cx->error_status = ck_api_status;
    cx->error_category = ck_api_category;
    int rc = ck_ctx_init(cx, cfg, err);
    if (rc == 0)
        rc = ck_migrate(cx->main_db, err);
    if (rc == 0)
        rc = ck_idem_purge(cx->main_db, err);
    /* SQLite is one process's file: any lease in it was left by a dead process. */
    if (rc == 0 && ck_db_driver_of(cx->main_db) == &ck_sqlite_driver)
        rc = recover_sqlite(cx->main_db, err);
    if (rc < 0) {
        ck_app_close(app);
        return rc;
    }
    *out = app;
    return 0;
}

/* The outbound barrier (core/util.h): the calling thread's connection waits
 * for this process's commits to be on disk (group commit, checkout/db.h). */
static int outbound_barrier(void *arg)
{
    ck_ctx *cx = arg;
    ck_error err;
    ck_error_clear(&err);
    ck_db *db = ck_ctx_db(cx, &err);
    return db ? ck_db_durable(db, &err) : -1;
}

int ck_app_start(ck_app *app, ck_error *err)
{
    ck_ctx *cx = &app->cx;
    ck_curl_set_barrier(outbound_barrier, cx);
    int rc = ck_queue_start(cx, err);
    if (rc == 0)
        rc = ck_jobs_start(cx, err);
    if (rc == 0)
        rc = ck_dispatcher_start(cx, err);
    return rc < 0 ? rc : ck_http_start(cx, ck_api_routes(), err);
}

int ck_app_port(const ck_app *app)
{
    return app->cx.port;
}

void ck_app_stop(ck_app *app)
{
    ck_ctx *cx = &app->cx;
    atomic_store(&cx->stopping, 1);
    ck_http_stop(cx);
    ck_queue_stop(cx);
    ck_jobs_stop(cx);
    ck_dispatcher_stop(cx);
    ck_curl_set_barrier(NULL, NULL);
}

void ck_app_close(ck_app *app)
{
    if (!app)
        return;
    ck_app_stop(app);
    ck_ctx_close(&app->cx);
    /* Nothing runs a flow any more. */
    ck_flow_cache_clear();
    free(app);
}

int ck_app_ensure_admin_key(ck_app *app, const char *key, ck_error *err)
{
    return ck_user_ensure_admin_key(app->cx.main_db, key, err);
}
