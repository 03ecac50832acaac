/* harness.h: API tests drive the real checkoutd over loopback HTTP with
 * libcurl. Each test starts its own daemon on port 0 with a fresh SQLite file
 * in a temporary directory, and stops it with SIGTERM (asserting exit 0, so
 * LeakSanitizer findings fail the test under the sanitizer build). */
#ifndef CK_TEST_HARNESS_H
#define CK_TEST_HARNESS_H

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>

#define CKT_ADMIN_KEY "test-admin-key-0123456789abcdef"

typedef struct ckt_daemon {
    pid_t pid;
    int port;
    char base[64];     /* "http://127.0.0.1:PORT" */
    char dir[256];     /* the temporary directory */
    char db_path[300]; /* the SQLite file */
    char log_path[300];
    char faults[512];
    int fault_injection;
    /* PostgreSQL mode (CKT_BACKEND=postgres with CKT_PG_URL set): the daemon
     * gets a fresh database of its own on the test server. */
    int pg;
    char pg_db[64];
    char pg_url[400];
    /* HTTPS (a daemon started with --tls-cert): the certificate, which the
     * harness's requests trust as their only CA; "" for plain HTTP. */
    char cainfo[300];
} ckt_daemon;

/* Which backend the API tests drive: SQLite by default; PostgreSQL when the
 * environment says CKT_BACKEND=postgres and CKT_PG_URL names the test
 * server's admin database (scripts/test.sh starts one with scripts/pg.sh).
 * CTest registers chosen suites a second time in PostgreSQL mode. A suite in
 * PostgreSQL mode without CKT_PG_URL exits 77 (skipped). */
int ckt_backend_pg(void);

/* Starts checkoutd with a fresh database (or d->db_path if already set, for
 * restarts). faults: CHECKOUTD_FAULTS (NULL: none; also turns on
 * --enable-fault-injection). extra: NULL-terminated extra arguments or NULL.
 * Fails the test if the daemon does not print its listening line in 10 s. */
void ckt_start(ckt_daemon *d, const char *faults, const char *const *extra);
/* Restarts on the same database (after ckt_stop or ckt_kill). */
void ckt_restart(ckt_daemon *d, const char *faults, const char *const *extra);
/* SIGTERM and wait; returns the exit status (or 128+signal). */
int ckt_stop(ckt_daemon *d);
/* SIGKILL and wait. */
void ckt_kill(ckt_daemon *d);
/* Waits for the daemon to exit by itself (a crash point); returns the status. */
int ckt_wait_exit(ckt_daemon *d, int timeout_ms);
/* Stops the daemon (asserting exit 0) and removes the directory. */
void ckt_finish(ckt_daemon *d);
/* For teardowns after a failed test: kills the daemon if it still runs and
 * removes its directory; asserts nothing. */
void ckt_cleanup(ckt_daemon *d);

typedef struct ckt_resp {
    long status;
    char *body;     /* raw body, NUL-terminated */
    json_t *json;   /* parsed body or NULL */
    char *headers;  /* raw response headers */
} ckt_resp;

/* One HTTP request. key: API key or NULL (no Authorization header). body: raw
 * text or NULL. headers: NULL-terminated extra "Name: value" lines or NULL. */
ckt_resp ckt_http(ckt_daemon *d, const char *method, const char *path, const char *key,
                  const char *body, const char *const *headers);
/* As ckt_http, but a connection the daemon dropped (a crash point) is not a
 * failure: status is 0 then. */
ckt_resp ckt_http_try(ckt_daemon *d, const char *method, const char *path, const char *key, const char *body,
                      const char *const *headers);
/* As ckt_http with a printf-formatted body. */
ckt_resp ckt_httpf(ckt_daemon *d, const char *method, const char *path, const char *key,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void ckt_free(ckt_resp *r);
/* A raw TCP connection to d (for what an HTTP library will not send), with
 * a 10 s receive timeout, so a daemon that never answers fails the test. */
int ckt_dial(ckt_daemon *d);
/* Registers s (8 bytes or more) as a secret no daemon log may hold (checked
 * by ckt_finish and ckt_cleanup). Keys sent and secret-named JSON fields of
 * requests and replies are registered by ckt_http itself. */
void ckt_secret(const char *s);
void ckt_secret_forget(const char *s);
/* The lines of d's log that hold a registered secret (each printed to
 * stderr by line number, the secret cut to 4 bytes). */
int ckt_log_secrets(ckt_daemon *d);
/* A CURLOPT_WRITEFUNCTION that appends to a NUL-terminated heap string
 * (CURLOPT_WRITEDATA: a char ** starting NULL; the caller frees it). Safe on
 * any thread: for tests' own libcurl requests in worker threads. */
size_t ckt_curl_text(char *ptr, size_t size, size_t nmemb, void *ud);
/* Runs checkoutd with these arguments (shell words), stdout to /dev/null and
 * stderr to err_path; returns its exit status (for start-up refusals). */
int ckt_run_checkoutd(const char *args, const char *err_path);
/* The log records of a stderr file, each checked to be one JSON record per
 * line (ts, level, msg); the caller's array. */
json_t *ckt_log_records(const char *path);
/* A response header value (case-insensitive name), copied into out; 1 if found. */
int ckt_header(const ckt_resp *r, const char *name, char *out, size_t n);

/* Asserts status and the REST error envelope: a one-element array with
 * errorCode and reason (and field when not NULL). */
void ckt_expect_error(const ckt_resp *r, long status, const char *error_code, const char *reason,
                      const char *field);
/* Asserts the status; prints the body on mismatch. */
void ckt_expect_status(const ckt_resp *r, long status);

/* Field access on a JSON object by a dotted path ("totals.subtotal", "items.0.id"). */
json_t *ckt_get(json_t *j, const char *path);
const char *ckt_str(json_t *j, const char *path); /* fails the test if not a string */
int64_t ckt_int(json_t *j, const char *path);     /* fails the test if not an integer */

/* A number read straight from the test's database (SQLite file or PostgreSQL), e.g.
 * "SELECT count(*) FROM carts". Fails the test on a SQL error. */
int64_t ckt_db_int(ckt_daemon *d, const char *sql_fmt, ...) __attribute__((format(printf, 2, 3)));

/* A text value read straight from the test's database into out ("" when
 * no row or NULL). Fails the test on a SQL error. */
void ckt_db_text(ckt_daemon *d, char *out, size_t n, const char *sql_fmt, ...) __attribute__((format(printf, 4, 5)));

/* Runs one SQL statement against the database file directly (e.g. to stand
 * in for another node holding a lease). Fails the test on a SQL error. */
void ckt_db_exec(ckt_daemon *d, const char *sql_fmt, ...) __attribute__((format(printf, 2, 3)));

/* The ledger invariant of API.md ("Payment step by method"), read in one
 * statement (one snapshot): for every account, the sum of its prepaid rows
 * is prepaidBalance and of its credit rows creditUsed; for every contract,
 * the sum of its contract rows is remaining. Fails the test, naming the
 * first account or contract that disagrees, when one does. */
void ckt_expect_ledger_reconciles(ckt_daemon *d);

/* Fixtures through the API as the admin; each fails the test on a non-2xx
 * answer and writes the new id into out (CK_ID sized, 64 bytes). */
void ckt_store(ckt_daemon *d, char out[64]);
void ckt_account(ckt_daemon *d, const char *json_body, char out[64]); /* NULL: a default buyer */
/* A user with these permissions (JSON array text, e.g. "[\"buyer\"]"); key gets the API key. */
void ckt_user(ckt_daemon *d, const char *perms_json, char id_out[64], char key_out[128]);
void ckt_member(ckt_daemon *d, const char *store_id, const char *account_id);
void ckt_give_account(ckt_daemon *d, const char *user_id, const char *account_id);
/* A product with this JSON body, or a default one (unitPrice 1999, stock 100, 500 g) when NULL. */
void ckt_product(ckt_daemon *d, const char *store_id, const char *json_body, char out[64]);

/* Points the store at an HTTP payment gateway (the fake one of a test). */
void ckt_store_gateway(ckt_daemon *d, const char *store_id, const char *url);
/* The store's standard checkout setup: shipping method "Ground" (flatFee
 * 1000 + perKgFee 100) whose id goes to shm_out, and a US tax rate of 825 bp
 * (API.md's worked example). */
void ckt_store_shipping_tax(ckt_daemon *d, const char *store_id, char shm_out[64]);

/* The standard shop of the checkout tests: a store (on the HTTP gateway at
 * gateway_url, or the built-in test gateway when NULL) with the standard
 * shipping and tax, a default buyer account that is a member, and a buyer
 * user given that account; their ids and the buyer's key go to the outs. */
void ckt_shop_setup(ckt_daemon *d, const char *gateway_url, char store[64], char shm[64], char acct[64],
                    char buyer[64], char bkey[128]);

/* A cart of acct in store as the user with key; its id into out. */
void ckt_cart(ckt_daemon *d, const char *key, const char *store, const char *acct, char out[64]);
/* Adds qty x prod to the cart (201); the item's id into item_out unless NULL. */
void ckt_cart_item(ckt_daemon *d, const char *key, const char *cart, const char *prod, int qty, char item_out[64]);

/* A checkout ready to place: a cart of acct in store with qty units of
 * prod, its session (the action as the buyer with bkey), and its inputs:
 * addr_json as shippingAddress, shm, pay_json as payment. The session id
 * goes to sid and the cart id to cart (when not NULL); fails the test on any
 * non-2xx answer. */
void ckt_session_ready(ckt_daemon *d, const char *bkey, const char *store, const char *acct, const char *prod, int qty,
                       const char *addr_json, const char *shm, const char *pay_json, char sid[64], char cart[64]);

/* Runs fn(arg, i) on n threads at once (released together); waits for all. */
void ckt_parallel(int n, void (*fn)(void *arg, int i), void *arg);

#endif
