/* fake_webhook.h: an in-process webhook receiver for tests. It listens on
 * 127.0.0.1 (port chosen by the kernel) on the server of fake_http.h (a
 * thread per connection, so a hanging answer holds up no other request) and
 * records every request it gets, whatever the path or method: the body and
 * the X-Checkoutd-Event, X-Checkoutd-Delivery and X-Checkoutd-Signature
 * headers, in arrival order (recorded as soon as the body is complete,
 * before any hang or answer).
 *
 * Answers, decided per request in this order: 503 while "down"; 500 while
 * failures remain (the first fail_first_n requests; a negative count fails
 * every request until changed); otherwise 200. A hang, when set, is slept
 * before the answer is sent; fwh_stop cuts it short. Every function is
 * thread-safe. */
#ifndef CK_TEST_FAKE_WEBHOOK_H
#define CK_TEST_FAKE_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fake_webhook fake_webhook;

/* Starts the receiver answering 500 to the first fail_first_n requests (<0:
 * to every request) and 200 after. NULL when it cannot listen. */
fake_webhook *fwh_start(int fail_first_n);
/* Stops the receiver (ending any hang at once) and frees it. NULL-tolerant. */
void fwh_stop(fake_webhook *w);

int fwh_port(fake_webhook *w);
/* "http://127.0.0.1:PORT/hook" into out. */
void fwh_url(fake_webhook *w, char *out, size_t n);

/* From now on answer 500 to the next n requests (<0: to every request; 0: none). */
void fwh_set_fail(fake_webhook *w, int n);
/* Sleep ms before answering each request (0: none). */
void fwh_set_hang_ms(fake_webhook *w, int ms);
/* While down, every request gets 503 (and still counts). */
void fwh_set_down(fake_webhook *w, bool down);

/* Requests received so far (every answer counts, failures included). */
int fwh_count(fake_webhook *w);
/* Requests received whose X-Checkoutd-Event equals event. */
int fwh_count_event(fake_webhook *w, const char *event);
/* Requests answered 2xx so far (a hanging request counts once answered). */
int fwh_count_ok(fake_webhook *w);

/* Request i (0-based, arrival order), copied into out; each returns 1 when
 * request i exists, else 0 with out = "". A missing header gives "". */
int fwh_body(fake_webhook *w, int i, char *out, size_t n);
int fwh_event(fake_webhook *w, int i, char *out, size_t n);
int fwh_delivery(fake_webhook *w, int i, char *out, size_t n);
int fwh_signature(fake_webhook *w, int i, char *out, size_t n);
int fwh_signature_t(fake_webhook *w, int i, char *out, size_t n); /* Checkoutd-Signature: t=...,v1=... */
int fwh_content_type(fake_webhook *w, int i, char *out, size_t n);
/* The HTTP status request i was (or will be) answered with; 0 when unknown. */
int fwh_status(fake_webhook *w, int i);

#endif
