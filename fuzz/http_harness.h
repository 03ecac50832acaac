/* http_harness.h: the in-process daemon that the HTTP fuzz targets (http,
 * body, query) talk to, and the promises every answer must keep. One per
 * process, started by the first call: the daemon context on a temporary
 * SQLite file (migrated, with the admin key FZ_ADMIN_KEY), the real HTTP
 * server (ck_http_start with api's routes: server, router and body reader),
 * and a small shop made through the API (a store with the test gateway, a
 * buyer account, a buyer user, a product, a cart with an item, a session,
 * one placed order and its fulfillment order...), whose ids fz_subst puts in
 * place of $names. Outbound HTTP goes to a proxy that refuses (http_proxy),
 * so a fuzzed gateway or callout URL never waits on the network. The server
 * and the files go at exit. fuzz/README.md describes the targets. */
#ifndef CK_FUZZ_HTTP_HARNESS_H
#define CK_FUZZ_HTTP_HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define FZ_ADMIN_KEY "fz-admin-key-0123456789abcdef"

/* One answer read off a connection. Pointers point into the exchange's raw
 * bytes or are owned by it (json). */
typedef struct fz_answer {
    int status;
    int ours;        /* carries X-Request-Id: written by server.c's send_reply, not by libmicrohttpd */
    int close;       /* Connection: close */
    int bodyless;    /* no body although Content-Length says one (a HEAD) */
    const char *body;
    size_t body_len;
    char ctype[128];
    json_t *json;    /* the body parsed (ours with application/json), else NULL */
    const char *reason; /* the first error's reason (an envelope), else NULL; borrowed from json */
} fz_answer;

typedef struct fz_exchange {
    char *raw;        /* every byte read until the daemon closed */
    size_t raw_len;
    int count;        /* answers read */
    fz_answer first;  /* the first of them (status 0 when none) */
} fz_exchange;

/* Starts the daemon and makes the shop, once; aborts when it cannot. */
void fz_setup(void);

/* Writes data on a new connection, half-closes it (when half_close: else
 * the data must end the connection itself, as Connection: close does), reads
 * until the daemon closes it (at most 3 s, else abort) and checks every
 * answer against the promises below (abort on a broken one):
 * - each answer is a status line, headers and a body of its Content-Length;
 * - libmicrohttpd's own answers (no X-Request-Id) are 400, 413, 414, 417,
 *   431, 501 or 505; ours carry the security headers;
 * - ours with application/json have a JSON body; a status >= 400 has the
 *   error envelope of API.md ([{"errorCode","reason","message"[,"field"]}])
 *   or the action envelope ([{"actionName","isSuccess","errors":[...]}]);
 *   405 has Allow, 401 WWW-Authenticate, 204 no body;
 * - a 5xx of ours is one of API.md's (INVALID_CART_ID, EXTENSION_UNAVAILABLE,
 *   PAYMENT_GATEWAY_ERROR), never an internal error;
 * - a refused framing (AMBIGUOUS_FRAMING, DUPLICATE_HEADER) closes the
 *   connection, and nothing follows an answer with Connection: close;
 * - once closed, no request of it is still in flight (within 2 s).
 * FUZZ_HTTP_ALLOW_EMPTY_ERROR=1 counts instead of failing an error answer
 * of ours with no body at all (the bug of fuzz/crashes/http/envelope-lost-*),
 * so a campaign can look past it.
 * Fills *x (fz_exchange_free). */
void fz_send(const void *data, size_t len, int half_close, fz_exchange *x);
void fz_exchange_free(fz_exchange *x);

/* One request: method, path (with query), the API key (NULL: none), extra
 * header lines (each ending in CRLF; NULL: none), and a body (NULL: none).
 * Sent with Connection: close and no half-close (libmicrohttpd drops a
 * suspended request whose client half-closed: the routes that run on an
 * outbound worker); fz_send's checks, and exactly one answer. */
void fz_request(const char *method, const char *path, const char *key, const char *headers, const char *body,
                size_t body_len, fz_exchange *x);

/* The shop's ids: "store", "account", "user" (the buyer), "user2" (an
 * integrator), "product", "shm", "contract",
 * "subscriber", "cart", "item", "checkout", "order", "orderitem", "fo", "flow", "cart0",
 * "checkout0" (the placed order's), "cart1" (checkout's), "buyerkey"; NULL
 * when unknown. */
const char *fz_id(const char *name);

/* A copy of s (len bytes) with each $name of fz_id replaced by its value
 * (an unknown $name stays); NUL-terminated, *out_len bytes; the caller frees it. */
char *fz_subst(const char *s, size_t len, size_t *out_len);

/* Reports a broken promise (through the sanitizer's report when there is
 * one, so libFuzzer's -close_fd_mask=2 does not hide it) and aborts. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* FUZZ_HTTP_VERBOSE=1: fz_say prints what each input came to. */
void fz_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
