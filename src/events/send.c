/* send.c: webhook and email delivery attempts over libcurl. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/curl.h"
#include "core/util.h"
#include "events/send.h"

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * nmemb;
}

static CURL *easy(atomic_int *abort_flag, char *errbuf, size_t errlen)
{
    if (ck_curl_init() < 0) {
        snprintf(errbuf, errlen, "libcurl failed to initialise");
        return NULL;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, CK_SEND_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, ck_curl_abort_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, abort_flag);
    return c;
}

int ck_send_webhook(const char *url, const char *secret, const char *event_type, const char *delivery_id,
                    const char *body, atomic_int *abort_flag, char *errbuf, size_t errlen)
{
    CURL *c = easy(abort_flag, errbuf, errlen);
    if (!c)
        return -1;
    char sig[65], h_event[128], h_delivery[128], h_sig[128], tsig[CK_SIG_T_MAX], h_tsig[CK_SIG_T_MAX + 32];
    const char *key = secret ? secret : "";
    ck_hmac_sha256_hex(sig, key, strlen(key), body, strlen(body));
    /* Signed at each attempt: a receiver refuses a t outside its window. */
    if (ck_sign_timestamped(tsig, key, ck_now_ms() / 1000, body, strlen(body)) < 0) {
        curl_easy_cleanup(c);
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    snprintf(h_tsig, sizeof(h_tsig), "Checkoutd-Signature: %s", tsig);
    snprintf(h_event, sizeof(h_event), "X-Checkoutd-Event: %s", event_type);
    snprintf(h_delivery, sizeof(h_delivery), "X-Checkoutd-Delivery: %s", delivery_id);
    snprintf(h_sig, sizeof(h_sig), "X-Checkoutd-Signature: sha256=%s", sig);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, h_event);
    h = curl_slist_append(h, h_delivery);
    h = curl_slist_append(h, h_sig); /* the old, untimed header: kept for one release */
    h = curl_slist_append(h, h_tsig);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return ck_send_webhook_result(rc, status, errbuf, errlen);
}

int ck_send_webhook_result(int curl_code, long status, char *errbuf, size_t errlen)
{
    if (curl_code != CURLE_OK) {
        snprintf(errbuf, errlen, "%s", curl_easy_strerror((CURLcode)curl_code));
        return curl_code == CURLE_ABORTED_BY_CALLBACK ? CK_SEND_ABORTED : -1;
    }
    if (status < 200 || status > 299) {
        snprintf(errbuf, errlen, "HTTP %ld", status);
        return -1;
    }
    return 0;
}

typedef struct reader {
    const char *p;
    size_t left;
} reader;

static size_t read_msg(char *buf, size_t size, size_t nmemb, void *ud)
{
    reader *r = ud;
    size_t n = size * nmemb < r->left ? size * nmemb : r->left;
    memcpy(buf, r->p, n);
    r->p += n;
    r->left -= n;
    return n;
}

int ck_send_email(const char *smtp_url, const char *from, const char *to, const char *message,
                  atomic_int *abort_flag, char *errbuf, size_t errlen)
{
    CURL *c = easy(abort_flag, errbuf, errlen);
    if (!c)
        return -1;
    char mail_from[300], rcpt[300];
    snprintf(mail_from, sizeof(mail_from), "<%s>", from);
    snprintf(rcpt, sizeof(rcpt), "<%s>", to);
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    reader r = {message, strlen(message)};
    curl_easy_setopt(c, CURLOPT_URL, smtp_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_msg);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        snprintf(errbuf, errlen, "%s", curl_easy_strerror(rc));
        return rc == CURLE_ABORTED_BY_CALLBACK ? CK_SEND_ABORTED : -1;
    }
    return 0;
}
