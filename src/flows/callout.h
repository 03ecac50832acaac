/* callout.h: the HTTP callout of a flow's `http` step: one signed POST to
 * the step's URL and the answer read as an outcome (API.md, "Flows"). The
 * caller builds the body and the idempotency key and maps the outcome to
 * EXTENSION_REJECTED (400, buyer-fixable) or EXTENSION_UNAVAILABLE (500,
 * resumable). Depends on core/, libcurl and jansson only. */
#ifndef CK_FLOWS_CALLOUT_H
#define CK_FLOWS_CALLOUT_H

#include <stdatomic.h>
#include <stddef.h>

#define CK_CALLOUT_TIMEOUT_DEFAULT_MS 2000L /* config.timeoutMs when absent */
#define CK_CALLOUT_ANSWER_MAX (64 * 1024)   /* bytes of answer read; a longer one is UNAVAILABLE */
#define CK_CALLOUT_MESSAGE_MAX 256          /* sizeof(ck_callout_result.message), NUL included */

typedef enum {
    CK_CALLOUT_OK,          /* 2xx {"ok":true} */
    CK_CALLOUT_REJECTED,    /* 2xx {"ok":false,...}: EXTENSION_REJECTED */
    CK_CALLOUT_UNAVAILABLE, /* anything else: EXTENSION_UNAVAILABLE */
} ck_callout_outcome;

typedef struct ck_callout_result {
    ck_callout_outcome outcome;
    long status;                          /* the HTTP status, 0 when none was received */
    char message[CK_CALLOUT_MESSAGE_MAX]; /* "" for OK; never holds the secret */
} ck_callout_result;

/* POSTs body (NUL-terminated, sent as is) to url with Content-Type:
 * application/json, X-Checkoutd-Signature: sha256=<hex HMAC-SHA256 of body
 * with secret> (as a webhook is signed; NULL secret: the empty key),
 * Idempotency-Key: idempotency_key, and no Expect: 100-continue. Redirects
 * are not followed; only http and https are spoken. timeout_ms (<= 0: the
 * default) bounds connect and transfer together.
 *
 * Never fails otherwise: every problem is an outcome in *out.
 * - OK: a 2xx answer that is a JSON object with "ok": true.
 * - REJECTED: a 2xx answer with "ok": false; message is its "message" when
 *   that is a non-empty string, else "the service rejected the checkout".
 * - UNAVAILABLE: a bad URL or key, a connection failure, a timeout ("timed
 *   out after N ms"), a non-2xx status ("HTTP 503", a 3xx too), an answer
 *   over CK_CALLOUT_ANSWER_MAX bytes (reading stops there), one that is not
 *   JSON, not an object or has no boolean "ok", or *abort_flag becoming
 *   nonzero (may be NULL): checked before connecting, then by libcurl's
 *   progress callback, which runs at least once a second while waiting.
 * A message longer than the buffer (the peer's, in practice) is cut at a
 * UTF-8 character boundary and ends with "...". */
void ck_callout_post(const char *url, long timeout_ms, const char *secret, const char *idempotency_key,
                     const char *body, atomic_int *abort_flag, ck_callout_result *out);

/* How ck_callout_post reads what its transfer came to: curl_code (a
 * CURLcode), the HTTP status (0: none received), the answer's first len
 * bytes in data (outside text; NULL with len 0 when none; not necessarily
 * NUL-terminated) and too_large (the answer passed CK_CALLOUT_ANSWER_MAX and
 * reading stopped). Sets out->status, out->outcome and out->message (the
 * rest of *out is the caller's); allocates nothing it keeps. */
void ck_callout_read_answer(int curl_code, long status, const char *data, size_t len, int too_large,
                            long timeout_ms, ck_callout_result *out);

/* The check made when a flow is saved: 0 when url is an absolute http or
 * https URL with a host that curl_url parses; else -1 with the reason in msg
 * (truncated to msglen). The URL itself is not repeated in msg. */
int ck_callout_url_check(const char *url, char *msg, size_t msglen);

#endif
