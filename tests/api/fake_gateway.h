/* fake_gateway.h: an in-process HTTP payment gateway for tests. It listens on
 * 127.0.0.1 (port chosen by the kernel) on the server of fake_http.h and
 * speaks the `http` gateway protocol of API.md:
 *   POST /authorize {"amount","currency","token","reference"} (tok_visa approves, tok_partial
 *        approves half the amount, tok_decline declines, tok_error errors, tok_error_text
 *        errors with a message holding a quote, a newline and a JSON record, tok_decline_text
 *        declines with a code that is not a plain token and a message)
 *        -> {"result","authorizationId","amount","code","message"}
 *   POST /capture {"authorizationId","amount"} -> {"result","paymentId","amount","code","message"}
 *   POST /void {"authorizationId"} -> {"result","code","message"}
 *   POST /refund {"paymentId","amount"} -> {"result","refundId","amount","code","message"}
 * It honours Idempotency-Key like a real gateway: the same key returns the
 * stored first answer and creates nothing new (a key reused on another path
 * gets HTTP 422). "error" answers and injected failures are not stored.
 *
 * Tokens: tok_visa approved, tok_decline declined (code card_declined),
 * tok_error result "error" (code processing_error), anything else declined
 * (code unknown_token). Capture: unknown_authorization, authorization_voided,
 * invalid_amount, amount_exceeds_authorization (more than remains). Void:
 * approved for a known authorization (again approved if already voided),
 * else declined unknown_authorization. Refund (of a capture's paymentId):
 * unknown_payment (no such capture), invalid_amount (<= 0),
 * amount_exceeds_payment (more than the capture less what was refunded of
 * it). Every function is thread-safe. */
#ifndef CK_TEST_FAKE_GATEWAY_H
#define CK_TEST_FAKE_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

typedef struct fake_gateway fake_gateway;

/* Starts the server; NULL when it cannot listen. */
fake_gateway *fgw_start(void);
/* Stops the server (interrupting any delayed answer) and frees it. NULL-tolerant. */
void fgw_stop(fake_gateway *g);

int fgw_port(fake_gateway *g);
/* "http://127.0.0.1:PORT" into out. */
void fgw_url(fake_gateway *g, char *out, size_t n);

/* Distinct approved authorizations created (replays do not count). */
int fgw_holds(fake_gateway *g);
/* Every POST /authorize received, replays and injected failures included. */
int fgw_authorize_calls(fake_gateway *g);
/* Distinct authorizations voided. */
int fgw_voids(fake_gateway *g);
/* Approved captures (replays do not count). */
int fgw_captures(fake_gateway *g);
/* The amount captured so far on auth_id (0 when unknown). */
int64_t fgw_captured_amount(fake_gateway *g, const char *auth_id);
/* Distinct approved refunds (replays do not count). */
int fgw_refunds(fake_gateway *g);
/* The amount refunded so far of the payment payment_id (a capture's
 * paymentId; 0 when unknown). */
int64_t fgw_refunded_amount(fake_gateway *g, const char *payment_id);

/* 1 when the authorization auth_id was voided, else 0 (unknown included). */
int fgw_voided(fake_gateway *g, const char *auth_id);

/* Sleep this long before sending each answer (after it was decided and
 * stored, as a slow gateway would), for timeout tests. 0: none. */
void fgw_set_delay_ms(fake_gateway *g, int ms);
/* Answer result "error" with tok_error_text's hostile message (a quote, a
 * newline and a JSON record; nothing processed, nothing stored) to the next
 * n capture, void or refund calls. */
void fgw_error_text_next(fake_gateway *g, int n);
/* Answer HTTP 500 (nothing processed, nothing stored) to the next n calls. */
void fgw_fail_next(fake_gateway *g, int n);

/* The Idempotency-Key / Authorization header of the last request, copied into
 * out ("" when that request had none). */
void fgw_last_idem_key(fake_gateway *g, char *out, size_t n);
void fgw_last_auth_header(fake_gateway *g, char *out, size_t n);

#endif
