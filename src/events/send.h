/* send.h: one delivery attempt to a subscriber, over libcurl. */
#ifndef CK_SEND_H
#define CK_SEND_H

#include <stdatomic.h>
#include <stddef.h>

#define CK_SEND_TIMEOUT_MS 10000L

/* What a send returns when *abort cut it short (shutdown): not an attempt
 * the receiver failed. Any other failure is -1. */
#define CK_SEND_ABORTED (-2)

/* POSTs body to url with the webhook headers and its HMAC-SHA256 signature.
 * 0 when the receiver answered 2xx within the timeout; CK_SEND_ABORTED when
 * *abort became nonzero (shutdown) during the transfer; otherwise -1 with a
 * reason in errbuf. */
int ck_send_webhook(const char *url, const char *secret, const char *event_type, const char *delivery_id,
                    const char *body, atomic_int *abort_flag, char *errbuf, size_t errlen);

/* How ck_send_webhook reads the receiver's answer (its body is discarded
 * unread): curl_code (a CURLcode) and the HTTP status. 0 for CURLE_OK and a
 * 2xx; CK_SEND_ABORTED for CURLE_ABORTED_BY_CALLBACK; else -1 with the
 * reason ("HTTP 503", libcurl's text) in errbuf. */
int ck_send_webhook_result(int curl_code, long status, char *errbuf, size_t errlen);

/* Sends message (RFC 5322 text with CRLF line ends) over SMTP from `from`
 * to `to`. 0 accepted by the server; CK_SEND_ABORTED cut short by *abort;
 * -1 otherwise (errbuf). */
int ck_send_email(const char *smtp_url, const char *from, const char *to, const char *message,
                  atomic_int *abort_flag, char *errbuf, size_t errlen);

#endif
