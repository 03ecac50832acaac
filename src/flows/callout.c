/* callout.c: a flow's `http` step on the wire: the URL check made when a
 * flow is saved, and the signed POST, with its answer bounded, parsed and
 * read as OK, REJECTED or UNAVAILABLE. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/curl.h"
#include "core/util.h"
#include "flows/callout.h"

#define DEFAULT_REJECTION "the service rejected the checkout"
#define KEY_MAX 255 /* bytes of Idempotency-Key value */

/* Copies src into out->message; a src too long for it is cut so that "..."
 * ends it, never inside a UTF-8 sequence (jansson hands us valid UTF-8, and
 * the message goes back out in JSON). */
static void set_message(ck_callout_result *out, const char *src)
{
    size_t cap = sizeof(out->message), n = strlen(src);
    if (n < cap) {
        memcpy(out->message, src, n + 1);
        return;
    }
    n = cap - sizeof("...");
    while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
        n--; /* src[n] is the first byte dropped: back up to the start of its character */
    memcpy(out->message, src, n);
    memcpy(out->message + n, "...", sizeof("..."));
}

static void settle(ck_callout_result *out, ck_callout_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets the outcome and a printf-formatted message (cut like set_message). */
static void settle(ck_callout_result *out, ck_callout_outcome outcome, const char *fmt, ...)
{
    char buf[2 * CK_CALLOUT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    out->outcome = outcome;
    set_message(out, buf);
}

int ck_callout_url_check(const char *url, char *msg, size_t msglen)
{
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL;
    int rc = -1;
    if (!url || !url[0]) {
        snprintf(msg, msglen, "the URL is empty");
        goto done;
    }
    if (!(u = curl_url())) {
        snprintf(msg, msglen, "out of memory");
        goto done;
    }
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        snprintf(msg, msglen, "the URL does not parse: %s", curl_url_strerror(uc));
        goto done;
    }
    /* curl_url lower-cases the scheme and, without CURLU_DEFAULT_SCHEME,
     * has refused a URL without one. */
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        snprintf(msg, msglen, "the URL must be http or https");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        snprintf(msg, msglen, "the URL has no host");
        goto done;
    }
    rc = 0;
done:
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

/* 1 when key can be a header value: non-empty, at most KEY_MAX bytes, no
 * control characters (no CR or LF to end the header early). */
static int key_valid(const char *key)
{
    size_t n = 0;
    for (; key && key[n]; n++)
        if ((unsigned char)key[n] < 0x20 || key[n] == 0x7f)
            return 0;
    return n > 0 && n <= KEY_MAX;
}

/* Reads a 2xx answer: OK, REJECTED or UNAVAILABLE as ck_callout_post says. */
static void read_answer(const char *data, size_t len, ck_callout_result *out)
{
    json_error_t jerr;
    json_t *doc = len ? json_loadb(data, len, JSON_DECODE_ANY, &jerr) : NULL;
    json_t *ok = json_object_get(doc, "ok");
    if (!doc)
        settle(out, CK_CALLOUT_UNAVAILABLE, "the answer is not JSON");
    else if (!json_is_object(doc))
        settle(out, CK_CALLOUT_UNAVAILABLE, "the answer is not a JSON object");
    else if (!json_is_boolean(ok))
        settle(out, CK_CALLOUT_UNAVAILABLE, "the answer has no boolean \"ok\"");
    else if (json_is_true(ok))
        settle(out, CK_CALLOUT_OK, "%s", "");
    else {
        const char *m = json_string_value(json_object_get(doc, "message"));
        out->outcome = CK_CALLOUT_REJECTED;
        set_message(out, m && m[0] ? m : DEFAULT_REJECTION);
    }
    json_decref(doc);
}

void ck_callout_read_answer(int curl_code, long status, const char *data, size_t len, int too_large,
                            long timeout_ms, ck_callout_result *out)
{
    out->status = status;
    int answered_2xx = out->status >= 200 && out->status <= 299;
    if (curl_code == CURLE_ABORTED_BY_CALLBACK)
        settle(out, CK_CALLOUT_UNAVAILABLE, "cancelled: checkoutd is shutting down");
    else if (curl_code == CURLE_OPERATION_TIMEDOUT)
        settle(out, CK_CALLOUT_UNAVAILABLE, "timed out after %ld ms", timeout_ms);
    else if (out->status && !answered_2xx)
        settle(out, CK_CALLOUT_UNAVAILABLE, "HTTP %ld", out->status); /* even if its body was too long */
    else if (too_large || curl_code == CURLE_FILESIZE_EXCEEDED)
        settle(out, CK_CALLOUT_UNAVAILABLE, "the answer is longer than %d bytes", CK_CALLOUT_ANSWER_MAX);
    else if (curl_code != CURLE_OK)
        settle(out, CK_CALLOUT_UNAVAILABLE, "the service could not be reached: %s",
               curl_easy_strerror((CURLcode)curl_code));
    else
        read_answer(data, len, out);
}

void ck_callout_post(const char *url, long timeout_ms, const char *secret, const char *idempotency_key,
                     const char *body, atomic_int *abort_flag, ck_callout_result *out)
{
    CURL *c = NULL;
    struct curl_slist *h = NULL, *more;
    ck_curl_body a = {.max = CK_CALLOUT_ANSWER_MAX};
    char sig[65], h_sig[128], h_key[sizeof("Idempotency-Key: ") + KEY_MAX], why[CK_CALLOUT_MESSAGE_MAX];
    char tsig[CK_SIG_T_MAX], h_tsig[CK_SIG_T_MAX + 32];
    const char *key = secret ? secret : "";
    memset(out, 0, sizeof(*out));
    if (!body)
        body = "";
    if (timeout_ms <= 0)
        timeout_ms = CK_CALLOUT_TIMEOUT_DEFAULT_MS;
    if (ck_callout_url_check(url, why, sizeof(why)) < 0) {
        settle(out, CK_CALLOUT_UNAVAILABLE, "%s", why);
        goto done;
    }
    if (!key_valid(idempotency_key)) {
        settle(out, CK_CALLOUT_UNAVAILABLE, "the idempotency key is not a valid header value");
        goto done;
    }
    if (abort_flag && atomic_load(abort_flag)) {
        settle(out, CK_CALLOUT_UNAVAILABLE, "cancelled: checkoutd is shutting down");
        goto done;
    }
    if (ck_curl_init() < 0) {
        settle(out, CK_CALLOUT_UNAVAILABLE, "libcurl failed to initialise");
        goto done;
    }
    ck_hmac_sha256_hex(sig, key, strlen(key), body, strlen(body));
    snprintf(h_sig, sizeof(h_sig), "X-Checkoutd-Signature: sha256=%s", sig); /* untimed: kept for one release */
    if (ck_sign_timestamped(tsig, key, ck_now_ms() / 1000, body, strlen(body)) < 0) {
        settle(out, CK_CALLOUT_UNAVAILABLE, "out of memory");
        goto done;
    }
    snprintf(h_tsig, sizeof(h_tsig), "Checkoutd-Signature: %s", tsig);
    snprintf(h_key, sizeof(h_key), "Idempotency-Key: %s", idempotency_key); /* fits: key_valid bounds it */
    const char *lines[] = {"Content-Type: application/json", h_sig, h_tsig, h_key, "Expect:"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (!(more = curl_slist_append(h, lines[i]))) {
            settle(out, CK_CALLOUT_UNAVAILABLE, "out of memory");
            goto done;
        }
        h = more;
    }
    if (!(c = curl_easy_init())) {
        settle(out, CK_CALLOUT_UNAVAILABLE, "out of memory");
        goto done;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* TIMEOUT_MS covers the whole call, connect included; the connect
     * timeout is set too, else libcurl's own 300 s default would apply. */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, ck_curl_abort_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, abort_flag);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    /* A Content-Length over the bound is refused before the body is read. */
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CK_CALLOUT_ANSWER_MAX);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ck_curl_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    ck_callout_read_answer(rc, status, a.data, a.len, a.too_large, timeout_ms, out);
done:
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(a.data);
}
