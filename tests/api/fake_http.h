/* fake_http.h: the small HTTP server under the tests' fake peers (the
 * payment gateway of fake_gateway.h, the webhook receiver of
 * fake_webhook.h, and any other service a test needs the daemon to call).
 * It listens on 127.0.0.1 on a port the kernel chooses, with
 * libmicrohttpd's own threads: one accepts, and each connection gets a
 * thread of its own, so a handler that sleeps holds up no other request.
 * It reads the request line, the headers and the body (up to body_max
 * bytes; a longer body is flagged, not kept), then calls the handler once
 * per request on that connection's thread and sends what it answers.
 *
 * A peer is a handler and its state. The least one, answering every
 * request with 200 {"ok":true}:
 *
 *     static void ok(void *ud, const fhttp_req *q, fhttp_resp *a)
 *     {
 *         a->status = 200;
 *         a->body = strdup("{\"ok\":true}");
 *     }
 *     fake_http *s = fhttp_start(64 * 1024, ok, NULL, NULL);
 *     char url[128];
 *     fhttp_url(s, "/hook", url, sizeof(url));
 *     ...
 *     fhttp_stop(s);
 *
 * The handler runs on several threads at once: it guards its own state. */
#ifndef CK_TEST_FAKE_HTTP_H
#define CK_TEST_FAKE_HTTP_H

#include <stddef.h>

typedef struct fake_http fake_http;

/* One complete request, valid during the handler call. */
typedef struct fhttp_req {
    fake_http *server;
    const char *method, *path; /* the path without the query string */
    const char *body;          /* NUL-terminated; NULL when there was none or it was too large */
    size_t body_len;
    int too_large; /* the body was longer than body_max */
    void *conn;    /* for fhttp_header */
} fhttp_req;

/* The answer the handler fills in: status (500 unless set) and a body
 * allocated with malloc, which the server frees (NULL: the connection is
 * dropped without an answer); Content-Type is application/json unless set. */
typedef struct fhttp_resp {
    int status;
    char *body;
    const char *content_type;
} fhttp_resp;

typedef void (*fhttp_handler)(void *ud, const fhttp_req *req, fhttp_resp *resp);
/* Called after an answer was handed to the connection (may be NULL). */
typedef void (*fhttp_sent)(void *ud, int status);

/* Starts the server; NULL when it cannot listen. */
fake_http *fhttp_start(size_t body_max, fhttp_handler handler, fhttp_sent sent, void *ud);
/* Ends every fhttp_sleep at once, waits for the handlers running to
 * return, closes the socket and frees the server. NULL-tolerant. */
void fhttp_stop(fake_http *s);

int fhttp_port(fake_http *s);
/* "http://127.0.0.1:PORT" followed by path (NULL: none) into out. */
void fhttp_url(fake_http *s, const char *path, char *out, size_t n);

/* A request header (case-insensitive name), or NULL. */
const char *fhttp_header(const fhttp_req *req, const char *name);
/* Sleeps ms on a handler's thread, as a slow peer would; fhttp_stop cuts
 * it short. */
void fhttp_sleep(fake_http *s, int ms);

#endif
