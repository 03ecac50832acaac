/* http_gateway.c: the `http` gateway: JSON over HTTP(S) with libcurl, one easy
 * handle per call (so any thread may call it), the idempotency key in the
 * Idempotency-Key header and the secret as a bearer token. Every failure
 * (connect, timeout, non-2xx, a reply it cannot read) is a CK_GW_ERROR answer;
 * the secret never appears in an answer or a log line. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/curl.h"
#include "payments/gateway.h"

#define REPLY_MAX (64 * 1024)
#define TIMEOUT_MS 10000L
#define CONNECT_TIMEOUT_MS 5000L

/* A header value must not end the header early. */
static int header_safe(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

/* Zeroes every header line before freeing the list: one holds the secret. */
static void headers_free(struct curl_slist *h)
{
    for (struct curl_slist *i = h; i; i = i->next)
        if (i->data)
            ck_secure_zero(i->data, strlen(i->data));
    curl_slist_free_all(h);
}

/* POSTs body (JSON) to {cfg->url}{path}. On 0 the gateway answered: *status
 * is its HTTP status and *r its body (r->data belongs to the caller, who
 * frees it also on failure). On failure fills *out as CK_GW_ERROR and
 * returns -1. */
static int post_json(const ck_gw_config *cfg, const char *path, const char *idem_key, json_t *body,
                     ck_curl_body *r, long *status, ck_gw_answer *out)
{
    CURL *c = NULL;
    struct curl_slist *headers = NULL;
    char *text = NULL, *url = NULL;
    int rc = -1;
    *status = 0;

    if (ck_curl_init() < 0) {
        ck_gw_answer_error(out, "transport_error", "gateway: libcurl failed to initialise");
        goto done;
    }
    if (!cfg->url[0]) {
        ck_gw_answer_error(out, "not_configured", "gateway: no URL configured");
        goto done;
    }
    if (!idem_key || !*idem_key || !header_safe(idem_key)) {
        ck_gw_answer_error(out, "bad_idempotency_key", "gateway: missing or invalid idempotency key");
        goto done;
    }
    if (!header_safe(cfg->secret)) {
        ck_gw_answer_error(out, "not_configured", "gateway: the configured secret is not a valid header value");
        goto done;
    }
    size_t base = strlen(cfg->url);
    while (base > 0 && cfg->url[base - 1] == '/')
        base--;
    size_t ulen = base + strlen(path) + 1;
    if (!(url = malloc(ulen)) || !(text = json_dumps(body, JSON_COMPACT))) {
        ck_gw_answer_error(out, "transport_error", "gateway: out of memory");
        goto done;
    }
    memcpy(url, cfg->url, base);
    memcpy(url + base, path, strlen(path) + 1);

    char line[700];
    struct curl_slist *h;
    headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (headers && (h = curl_slist_append(headers, "Accept: application/json")))
        headers = h;
    /* Idempotency keys are short (ours are under 100 bytes); refuse a longer one
     * rather than send a cut key. */
    if (snprintf(line, sizeof(line), "Idempotency-Key: %s", idem_key) >= (int)sizeof(line)) {
        ck_gw_answer_error(out, "bad_idempotency_key", "gateway: idempotency key too long");
        goto done;
    }
    if (headers && (h = curl_slist_append(headers, line)))
        headers = h;
    else
        goto oom;
    if (cfg->secret[0]) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", cfg->secret);
        h = curl_slist_append(headers, line);
        ck_secure_zero(line, sizeof(line));
        if (!h)
            goto oom;
        headers = h;
    }

    if (!(c = curl_easy_init()))
        goto oom;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ck_curl_body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        if (r->too_large)
            ck_gw_answer_error(out, "bad_reply", "gateway %s: reply larger than %d bytes", path, REPLY_MAX);
        else if (cc == CURLE_OPERATION_TIMEDOUT)
            ck_gw_answer_error(out, "timeout", "gateway %s: no answer within %ld ms", path, TIMEOUT_MS);
        else
            ck_gw_answer_error(out, "transport_error", "gateway %s: %s", path,
                         errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    rc = 0;
    goto done;
oom:
    ck_gw_answer_error(out, "transport_error", "gateway: out of memory");
done:
    if (c)
        curl_easy_cleanup(c);
    headers_free(headers);
    free(url);
    free(text);
    return rc;
}

/* Turns a reply object into *out. ref_key names the reference field of an
 * approval ("authorizationId", "paymentId", "refundId") or is NULL (void). */
static void read_reply(json_t *j, const char *path, const char *ref_key, int64_t requested,
                       ck_gw_answer *out)
{
    const char *result = json_string_value(json_object_get(j, "result"));
    const char *code = json_string_value(json_object_get(j, "code"));
    const char *message = json_string_value(json_object_get(j, "message"));
    if (!result) {
        ck_gw_answer_error(out, "bad_reply", "gateway %s: the reply has no result", path);
        return;
    }
    memset(out, 0, sizeof(*out));
    if (strcmp(result, "approved") == 0) {
        out->result = CK_GW_APPROVED;
        if (ref_key) {
            const char *ref = json_string_value(json_object_get(j, ref_key));
            if (!ref || !*ref || strlen(ref) >= sizeof(out->ref_id)) {
                ck_gw_answer_error(out, "bad_reply", "gateway %s: approved without a usable %s", path, ref_key);
                return;
            }
            snprintf(out->ref_id, sizeof(out->ref_id), "%s", ref);
        }
        json_t *amount = json_object_get(j, "amount");
        if (amount && !json_is_null(amount) && !json_is_integer(amount)) {
            ck_gw_answer_error(out, "bad_reply", "gateway %s: amount is not an integer", path);
            return;
        }
        out->amount = json_is_integer(amount) ? (int64_t)json_integer_value(amount) : requested;
    } else if (strcmp(result, "declined") == 0) {
        out->result = CK_GW_DECLINED;
    } else if (strcmp(result, "error") == 0) {
        out->result = CK_GW_ERROR;
    } else {
        ck_gw_answer_error(out, "bad_reply", "gateway %s: unknown result", path);
        return;
    }
    snprintf(out->code, sizeof(out->code), "%s", code ? code : "");
    if (message)
        snprintf(out->message, sizeof(out->message), "%s", message);
    else if (out->result != CK_GW_APPROVED)
        snprintf(out->message, sizeof(out->message), "gateway %s: %s", path, result);
}

void ck_gw_http_read_answer(long status, const char *data, size_t len, const char *path, const char *ref_key,
                            int64_t requested, ck_gw_answer *out)
{
    if (status < 200 || status > 299) {
        ck_gw_answer_error(out, "http_status", "gateway %s: HTTP %ld", path, status);
        return;
    }
    json_error_t jerr;
    json_t *j = data ? json_loadb(data, len, 0, &jerr) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        ck_gw_answer_error(out, "bad_reply", "gateway %s: the reply is not a JSON object", path);
        return;
    }
    read_reply(j, path, ref_key, requested, out);
    json_decref(j);
}

/* Sends body and reads the answer; always 0 with *out filled (body is freed). */
static int call(const ck_gw_config *cfg, const char *path, const char *idem_key, json_t *body,
                const char *ref_key, int64_t requested, ck_gw_answer *out)
{
    ck_curl_body reply = {.max = REPLY_MAX};
    long status = 0;
    if (!body)
        ck_gw_answer_error(out, "transport_error", "gateway: out of memory");
    else if (post_json(cfg, path, idem_key, body, &reply, &status, out) == 0)
        ck_gw_http_read_answer(status, reply.data, reply.len, path, ref_key, requested, out);
    free(reply.data);
    json_decref(body);
    return 0;
}

static int hgw_authorize(const ck_gw_config *cfg, ck_db *db, const char *idem_key, int64_t amount,
                         const char *currency, const char *token, const char *reference, ck_gw_answer *out)
{
    if (!cfg || !out)
        return CK_EINVALID;
    json_t *body = json_pack("{s:I, s:s?, s:s?, s:s?}", "amount", (json_int_t)amount, "currency", currency,
                             "token", token, "reference", reference);
    return call(cfg, "/authorize", idem_key, body, "authorizationId", amount, out);
}

static int hgw_capture(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *auth_id,
                       int64_t amount, ck_gw_answer *out)
{
    if (!cfg || !out)
        return CK_EINVALID;
    json_t *body = json_pack("{s:s?, s:I}", "authorizationId", auth_id, "amount", (json_int_t)amount);
    return call(cfg, "/capture", idem_key, body, "paymentId", amount, out);
}

static int hgw_void(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *auth_id,
                    ck_gw_answer *out)
{
    if (!cfg || !out)
        return CK_EINVALID;
    json_t *body = json_pack("{s:s?}", "authorizationId", auth_id);
    return call(cfg, "/void", idem_key, body, NULL, 0, out);
}

/* POST {url}/refund {"paymentId","amount"}: ref_id is the refundId, amount
 * the answer's or else the amount asked for. */
static int hgw_refund(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *payment_id,
                      int64_t amount, ck_gw_answer *out)
{
    if (!cfg || !out)
        return CK_EINVALID;
    json_t *body = json_pack("{s:s?, s:I}", "paymentId", payment_id, "amount", (json_int_t)amount);
    return call(cfg, "/refund", idem_key, body, "refundId", amount, out);
}

const ck_gateway_ops ck_gateway_http = {
    .kind = "http",
    .authorize = hgw_authorize,
    .capture = hgw_capture,
    .void_auth = hgw_void,
    .refund = hgw_refund,
};
