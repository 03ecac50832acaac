/* checkout/app.h: the checkoutd application as a library: configuration,
 * opening the database, serving HTTP, and stopping cleanly. */
#ifndef CHECKOUT_APP_H
#define CHECKOUT_APP_H

#include "checkout/db.h"
#include "checkout/error.h"

typedef struct ck_app ck_app; /* opaque: the composition root (src/app/) */

typedef struct ck_app_config {
    const char *listen_host;   /* "127.0.0.1" */
    int port;                  /* 0 picks a free port */
    const char *db_url;        /* "sqlite:./checkout.db" */
    int workers;               /* HTTP worker threads; 0 = four per core, 8 to 64 */
    int max_connections;       /* open HTTP connections at most (default 4096; capped by the open-file limit) */
    int max_connections_per_ip; /* from one client address at most (default 256; 0 = no cap, behind a proxy) */
    int lease_seconds;         /* checkout session lease length */
    int jobs_interval;         /* seconds between background job runs */
    int fault_injection;       /* honour CHECKOUTD_FAULTS */
    int sqlite_synchronous_full;
    int authorization_ttl;     /* seconds a card authorization lives (default 7 days) */
    /* HTTPS: the certificate chain and the private key, PEM text (both or
     * neither; NULL: plain HTTP). Read by the caller (--tls-cert, --tls-key). */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    /* A connection's deadlines, seconds: idle between requests (and while a
     * request line is still arriving), from the request line to the end of
     * the headers, and from there to the end of the body. */
    int idle_timeout;   /* default 30 */
    int header_timeout; /* default 10 */
    int body_timeout;   /* default 30 */
    int outbound_workers; /* threads that run the routes that may call out (gateway, http steps); default 16 */
} ck_app_config;

void ck_app_config_defaults(ck_app_config *cfg);

/* The version of checkoutd and libcheckout ("MAJOR.MINOR.PATCH"), static. */
const char *ck_version(void);

/* Opens the database, applies migrations, and prepares (but does not start)
 * the HTTP server. *out belongs to the caller: ck_app_close. */
int ck_app_open(ck_app **out, const ck_app_config *cfg, ck_error *err);

/* Starts listening; ck_app_port then gives the bound port. */
int ck_app_start(ck_app *app, ck_error *err);
int ck_app_port(const ck_app *app);

/* Stops accepting, waits for requests in flight, stops the workers. */
void ck_app_stop(ck_app *app);
void ck_app_close(ck_app *app);

/* Makes sure a user with the admin permission and this API key exists. */
int ck_app_ensure_admin_key(ck_app *app, const char *key, ck_error *err);

#endif
