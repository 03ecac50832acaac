/* email.c: the order confirmation message of an email subscriber. */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/money.h"
#include "core/text.h"
#include "events/email.h"

#define ENCODED_WORD_MAX 75 /* RFC 2047 section 2 */
#define QP_LINE_MAX 76      /* RFC 2045 section 6.7, rule 5 */

static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* An address goes into the header between < and >: nothing that could end
 * the field or the brackets. */
static int safe_address(const char *s)
{
    return s && *s && printable_ascii(s) && !strpbrk(s, "<>\" ");
}

char *ck_email_header(const char *name, const char *value)
{
    ck_text t = {0};
    ck_text_put(&t, "%s:", name);
    if (printable_ascii(value)) {
        ck_text_put(&t, " %s\r\n", value);
        return t.oom ? (free(t.p), NULL) : t.p;
    }
    /* "=?UTF-8?B?" + base64 + "?=": 12 characters around the base64, which
     * takes 4 for every 3 bytes. */
    const size_t max_in = (ENCODED_WORD_MAX - 12) / 4 * 3;
    size_t len = strlen(value);
    for (size_t at = 0; at < len;) {
        size_t end = at + max_in < len ? at + max_in : len;
        while (end < len && end > at + 1 && ((unsigned char)value[end] & 0xc0) == 0x80)
            end--; /* not inside a UTF-8 sequence */
        unsigned char b64[ENCODED_WORD_MAX];
        int n = EVP_EncodeBlock(b64, (const unsigned char *)value + at, (int)(end - at));
        ck_text_put(&t, "%s=?UTF-8?B?%.*s?=", at ? "\r\n " : " ", n, (const char *)b64);
        at = end;
    }
    ck_text_put(&t, "\r\n");
    return t.oom ? (free(t.p), NULL) : t.p;
}

char *ck_email_quoted_printable(const char *body)
{
    static const char hex[] = "0123456789ABCDEF";
    ck_text t = {0};
    size_t col = 0;
    ck_text_add(&t, "", 0);
    for (const unsigned char *p = (const unsigned char *)body; *p; p++) {
        if (p[0] == '\r' && p[1] == '\n') {
            ck_text_add(&t, "\r\n", 2);
            p++;
            col = 0;
            continue;
        }
        int at_line_end = p[1] == '\0' || (p[1] == '\r' && p[2] == '\n');
        char tok[3];
        size_t n = 1;
        if ((*p >= 33 && *p <= 126 && *p != '=') || ((*p == ' ' || *p == '\t') && !at_line_end)) {
            tok[0] = (char)*p;
        } else {
            tok[0] = '=';
            tok[1] = hex[*p >> 4];
            tok[2] = hex[*p & 15];
            n = 3;
        }
        /* Room for the token and a soft break's "=" after it. */
        if (col + n > QP_LINE_MAX - 1 && !(at_line_end && col + n <= QP_LINE_MAX)) {
            ck_text_add(&t, "=\r\n", 3);
            col = 0;
        }
        ck_text_add(&t, tok, n);
        col += n;
    }
    return t.oom ? (free(t.p), NULL) : t.p;
}

/* RFC 5322 date-time in UTC, named in English whatever the locale. */
static void rfc5322_date(char out[40], int64_t ms)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void put_money(ck_text *t, json_int_t minor, const char *currency)
{
    char buf[64];
    if (ck_money_format(buf, sizeof(buf), (int64_t)minor, currency) < 0)
        t->oom = 1; /* a currency code longer than any: refuse the message */
    else
        ck_text_put(t, "%s", buf);
}

static void fail(char *errbuf, size_t errlen, const char *msg)
{
    snprintf(errbuf, errlen, "%s", msg);
}

/* The text/plain body, before any transfer encoding. */
static char *body_text(json_t *order, const char *number, const char *currency, const char *store)
{
    ck_text t = {0};
    if (store && *store)
        ck_text_put(&t, "Thank you for your order %s at %s.\r\n\r\n", number, store);
    else
        ck_text_put(&t, "Thank you for your order %s.\r\n\r\n", number);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(order, "items"), i, it) {
        const char *sku = json_string_value(json_object_get(it, "sku"));
        /* "3 x SKU at USD 19.99[, adjustment USD -1.00], tax USD 4.95: USD 64.92" (the line's total). */
        ck_text_put(&t, "  %lld x %s at ", (long long)json_integer_value(json_object_get(it, "quantity")),
                    sku ? sku : "");
        put_money(&t, json_integer_value(json_object_get(it, "unitPrice")), currency);
        json_int_t adj = json_integer_value(json_object_get(it, "adjustment"));
        if (adj) {
            ck_text_put(&t, ", adjustment ");
            put_money(&t, adj, currency);
        }
        ck_text_put(&t, ", tax ");
        put_money(&t, json_integer_value(json_object_get(it, "tax")), currency);
        ck_text_put(&t, ": ");
        put_money(&t, json_integer_value(json_object_get(it, "total")), currency);
        ck_text_put(&t, "\r\n");
    }
    static const char *const keys[] = {"subtotal", "adjustments", "shipping", "tax", "grandTotal"};
    static const char *const labels[] = {"Subtotal:   ", "Adjustments:", "Shipping:   ", "Tax:        ",
                                         "Total:      "};
    json_t *tot = json_object_get(order, "totals");
    ck_text_put(&t, "\r\n");
    for (int k = 0; k < 5; k++) {
        ck_text_put(&t, "%s ", labels[k]);
        put_money(&t, json_integer_value(json_object_get(tot, keys[k])), currency);
        ck_text_put(&t, "\r\n");
    }
    return t.oom ? (free(t.p), NULL) : t.p;
}

char *ck_email_order_confirmation(const ck_email_order *in, char *errbuf, size_t errlen)
{
    char *body = NULL, *subject_h = NULL, *encoded = NULL, *result = NULL;
    json_t *ev = NULL;
    ck_text t = {0};
    if (!safe_address(in->from) || !safe_address(in->to) || !in->message_id || !safe_address(in->message_id)) {
        fail(errbuf, errlen, "an address (from, to) or the message id cannot go into a mail header as it is");
        goto done;
    }
    ev = json_loads(in->payload ? in->payload : "", 0, NULL);
    json_t *order = json_object_get(json_object_get(ev, "data"), "order");
    const char *number = json_string_value(json_object_get(order, "orderNumber"));
    const char *currency = json_string_value(json_object_get(order, "currency"));
    if (!number || !currency) {
        fail(errbuf, errlen, "the event holds no order with a number and a currency");
        goto done;
    }
    const char *store = in->store_name && *in->store_name ? in->store_name : NULL;
    ck_text subject = {0};
    if (store)
        ck_text_put(&subject, "%s: order %s confirmed", store, number);
    else
        ck_text_put(&subject, "Order %s confirmed", number);
    subject_h = subject.oom ? NULL : ck_email_header("Subject", subject.p);
    free(subject.p);
    body = body_text(order, number, currency, store);
    if (!subject_h || !body) {
        fail(errbuf, errlen, "out of memory");
        goto done;
    }
    /* 7bit when every line is printable ASCII (and short: ours are), else
     * quoted-printable: a SKU may hold any character, and SMTP without
     * 8BITMIME carries 7-bit text only. */
    int plain = 1;
    for (const char *p = body; *p && plain; p++)
        if (*p == '\r' && p[1] == '\n')
            p++;
        else if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            plain = 0;
    if (!plain && !(encoded = ck_email_quoted_printable(body))) {
        fail(errbuf, errlen, "out of memory");
        goto done;
    }
    const char *domain = strchr(in->from, '@');
    char date[40];
    rfc5322_date(date, in->now_ms);
    ck_text_put(&t, "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n", in->from, in->to, date,
                in->message_id, domain && domain[1] ? domain + 1 : "checkoutd.invalid");
    ck_text_put(&t, "%s", subject_h);
    ck_text_put(&t, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                    "Content-Transfer-Encoding: %s\r\n\r\n",
                plain ? "7bit" : "quoted-printable");
    ck_text_put(&t, "%s", plain ? body : encoded);
    if (t.oom) {
        fail(errbuf, errlen, "out of memory");
        goto done;
    }
    result = t.p;
    t.p = NULL;
done:
    free(t.p);
    free(body);
    free(subject_h);
    free(encoded);
    json_decref(ev);
    return result;
}
