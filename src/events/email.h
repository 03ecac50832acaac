/* email.h: the order confirmation an email subscriber sends, as a MIME
 * message (API.md "Webhooks": MIME-Version, text/plain in UTF-8, Date,
 * Message-ID, an RFC 2047 subject when needed, money as "USD 76.92"). */
#ifndef CK_EMAIL_H
#define CK_EMAIL_H

#include <stddef.h>
#include <stdint.h>

typedef struct ck_email_order {
    const char *from;       /* the subscriber's address (envelope and From:) */
    const char *to;         /* the buyer's address */
    const char *store_name; /* for the subject; NULL or "" for none */
    const char *message_id; /* the local part of Message-ID: the delivery id, the same on every retry */
    const char *payload;    /* the OrderCreated event (JSON text) */
    int64_t now_ms;         /* for Date: */
} ck_email_order;

/* The confirmation of the order in in->payload: headers and a text/plain
 * body with the order number, its lines and totals, CRLF line ends, 7bit
 * when it is plain ASCII and quoted-printable otherwise. Returns a
 * malloc'd message the caller frees, or NULL with the reason in errbuf (an
 * address that would break the header, a payload without an order, out of
 * memory). */
char *ck_email_order_confirmation(const ck_email_order *in, char *errbuf, size_t errlen);

/* A header field "Name: value\r\n" into a malloc'd string: value as it is
 * when it is printable ASCII, else RFC 2047 encoded-words (UTF-8, base64)
 * of at most 75 characters each, split only between characters and folded
 * onto continuation lines. NULL when out of memory. */
char *ck_email_header(const char *name, const char *value);

/* The body encoded quoted-printable (RFC 2045 6.7): lines of at most 76
 * characters, CRLF kept as line breaks. NULL when out of memory. */
char *ck_email_quoted_printable(const char *body);

#endif
