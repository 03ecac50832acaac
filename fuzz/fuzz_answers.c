/* fuzz_answers.c: what outside services answer us, read by the functions
 * that read them once the transfer is over: a payment gateway's HTTP answer
 * (ck_gw_http_read_answer, payments/http_gateway.c), a flow callout's
 * (ck_callout_read_answer, flows/callout.c; http_step.c maps its outcome)
 * and a webhook receiver's (ck_send_webhook_result, events/send.c: the body
 * is discarded, the status read). The first byte picks the reader (value
 * modulo 3: 0 gateway, 1 callout, 2 webhook), the second what the transfer
 * came to (the gateway's operation; the HTTP status; for the callout and
 * the webhook also libcurl's code); the rest is the answer's body. Each is
 * checked against an oracle written from its header's promise:
 *   gateway: a non-2xx is CK_GW_ERROR "http_status"; a body that is not a
 *     JSON object, or without a "result" of approved/declined/error, is
 *     "bad_reply"; an approval carries the body's ref field (non-empty,
 *     under 128 bytes) and its integer amount (absent: the amount asked),
 *     else is "bad_reply"; code and message are NUL-terminated, and
 *     ck_gw_public_code is a plain token or "";
 *   callout: OK only for CURLE_OK, a 2xx and an object with "ok": true;
 *     REJECTED only for "ok": false, with the body's non-empty message (cut
 *     to fit at a UTF-8 boundary, ending in "...") or the default one;
 *     everything else UNAVAILABLE; the message is NUL-terminated UTF-8;
 *   webhook: 0 only for CURLE_OK and a 2xx, CK_SEND_ABORTED only for
 *     CURLE_ABORTED_BY_CALLBACK, else -1 with a reason. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/send.h"
#include "flows/callout.h"
#include "payments/gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz answers: %s: %s\n", what, detail);
    abort();
}

static const long statuses[] = {200, 201, 202, 204, 299, 0, 100, 199, 300, 302, 400, 402, 404, 409, 500, 503};
static const int curl_codes[] = {CURLE_OK, CURLE_OK, CURLE_OK, CURLE_OK, CURLE_OPERATION_TIMEDOUT,
                                 CURLE_ABORTED_BY_CALLBACK, CURLE_FILESIZE_EXCEEDED, CURLE_WRITE_ERROR,
                                 CURLE_COULDNT_CONNECT, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_SSL_CONNECT_ERROR};

static int terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static int utf8(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    return j != NULL;
}

static void gateway(uint8_t sel, const char *body, size_t len)
{
    static const struct {
        const char *path, *ref_key;
    } ops[] = {{"/authorize", "authorizationId"}, {"/capture", "paymentId"}, {"/void", NULL}, {"/refund", "refundId"}};
    const char *path = ops[sel & 3].path, *ref_key = ops[sel & 3].ref_key;
    long status = statuses[(sel >> 2) % (sizeof(statuses) / sizeof(statuses[0]))];
    const int64_t requested = 12345;
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a)); /* whatever a caller's answer held before */
    ck_gw_http_read_answer(status, len ? body : NULL, len, path, ref_key, requested, &a);
    if (!terminated(a.code, sizeof(a.code)) || !terminated(a.message, sizeof(a.message)) ||
        !terminated(a.ref_id, sizeof(a.ref_id)))
        fail("gateway", "code, message or ref_id not NUL-terminated");
    if (a.result != CK_GW_APPROVED && a.result != CK_GW_DECLINED && a.result != CK_GW_ERROR)
        fail("gateway", "a result outside the enum");
    const char *pub = ck_gw_public_code(&a);
    size_t pl = strlen(pub);
    if (pl > 63 || strspn(pub, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != pl)
        fail("gateway", "ck_gw_public_code is not a plain token");

    /* The oracle. */
    if (status < 200 || status > 299) {
        if (a.result != CK_GW_ERROR || strcmp(a.code, "http_status") != 0)
            fail("gateway", "a non-2xx that is not http_status");
        return;
    }
    json_error_t je;
    json_t *j = len ? json_loadb(body, len, 0, &je) : NULL;
    const char *result = json_string_value(json_object_get(j, "result"));
    int known = result && (!strcmp(result, "approved") || !strcmp(result, "declined") || !strcmp(result, "error"));
    if (!json_is_object(j) || !known) {
        if (a.result != CK_GW_ERROR || strcmp(a.code, "bad_reply") != 0)
            fail("gateway", "a body without a known result that is not bad_reply");
    } else if (!strcmp(result, "approved")) {
        const char *ref = ref_key ? json_string_value(json_object_get(j, ref_key)) : NULL;
        json_t *amount = json_object_get(j, "amount");
        int ref_ok = !ref_key || (ref && *ref && strlen(ref) < sizeof(a.ref_id));
        int amount_ok = !amount || json_is_null(amount) || json_is_integer(amount);
        if (!ref_ok || !amount_ok) {
            if (a.result != CK_GW_ERROR || strcmp(a.code, "bad_reply") != 0)
                fail("gateway", "an unusable approval that is not bad_reply");
        } else {
            if (a.result != CK_GW_APPROVED)
                fail("gateway", "a usable approval not approved");
            if (ref_key && strcmp(a.ref_id, ref) != 0)
                fail("gateway", "the approval's reference is not the body's");
            if (a.amount != (json_is_integer(amount) ? (int64_t)json_integer_value(amount) : requested))
                fail("gateway", "the approval's amount is not the body's (or the one asked)");
        }
    } else if (a.result != (!strcmp(result, "declined") ? CK_GW_DECLINED : CK_GW_ERROR)) {
        fail("gateway", "declined/error read as something else");
    }
    json_decref(j);
}

static void callout(uint8_t sel, uint8_t sel2, const char *body, size_t len)
{
    long status = statuses[sel % (sizeof(statuses) / sizeof(statuses[0]))];
    int code = curl_codes[sel2 % (sizeof(curl_codes) / sizeof(curl_codes[0]))];
    int too_large = (sel2 >> 4) == 0xf;
    ck_callout_result r;
    memset(&r, 0x5a, sizeof(r));
    ck_callout_read_answer(code, status, len ? body : NULL, len, too_large, 2000, &r);
    if (!terminated(r.message, sizeof(r.message)))
        fail("callout", "message not NUL-terminated");
    if (!utf8(r.message))
        fail("callout", "message not UTF-8 (it goes back out in JSON)");
    if (r.status != status)
        fail("callout", "status not kept");
    if (r.outcome != CK_CALLOUT_OK && r.outcome != CK_CALLOUT_REJECTED && r.outcome != CK_CALLOUT_UNAVAILABLE)
        fail("callout", "an outcome outside the enum");
    int readable = code == CURLE_OK && !too_large && (status == 0 || (status >= 200 && status <= 299));
    json_error_t je;
    json_t *j = readable && len ? json_loadb(body, len, JSON_DECODE_ANY, &je) : NULL;
    json_t *ok = json_object_get(j, "ok");
    if (!json_is_object(j) || !json_is_boolean(ok)) {
        if (r.outcome != CK_CALLOUT_UNAVAILABLE)
            fail("callout", "an unreadable answer that is not UNAVAILABLE");
    } else if (json_is_true(ok)) {
        if (r.outcome != CK_CALLOUT_OK || r.message[0])
            fail("callout", "{\"ok\":true} not OK with an empty message");
    } else {
        const char *m = json_string_value(json_object_get(j, "message"));
        if (!m || !*m)
            m = "the service rejected the checkout";
        size_t ml = strlen(m), rl = strlen(r.message);
        if (r.outcome != CK_CALLOUT_REJECTED)
            fail("callout", "{\"ok\":false} not REJECTED");
        if (ml < sizeof(r.message) ? strcmp(r.message, m) != 0
                                   : (rl < 4 || strcmp(r.message + rl - 3, "...") != 0 ||
                                      memcmp(r.message, m, rl - 3) != 0))
            fail("callout", "a rejection's message is not the body's (cut with ...)");
    }
    json_decref(j);
}

static void webhook(uint8_t sel, uint8_t sel2)
{
    long status = statuses[sel % (sizeof(statuses) / sizeof(statuses[0]))];
    int code = curl_codes[sel2 % (sizeof(curl_codes) / sizeof(curl_codes[0]))];
    char errbuf[CURL_ERROR_SIZE];
    memset(errbuf, 0x5a, sizeof(errbuf));
    errbuf[sizeof(errbuf) - 1] = '\0';
    int rc = ck_send_webhook_result(code, status, errbuf, sizeof(errbuf));
    int want = code == CURLE_ABORTED_BY_CALLBACK ? CK_SEND_ABORTED
             : code == CURLE_OK && status >= 200 && status <= 299 ? 0 : -1;
    if (rc != want)
        fail("webhook", "the wrong result");
    if (rc != 0 && (!errbuf[0] || !terminated(errbuf, sizeof(errbuf))))
        fail("webhook", "a failure without a reason");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    /* The body as libcurl leaves it: NUL-terminated after len bytes. */
    size_t len = size - 2;
    char *body = malloc(len + 1);
    if (!body)
        return 0;
    memcpy(body, data + 2, len);
    body[len] = '\0';
    switch (data[0] % 3) {
    case 0: gateway(data[1], body, len); break;
    case 1: callout(data[1], (uint8_t)(len ? data[2] ^ data[size - 1] : 0), body, len); break;
    default: webhook(data[1], (uint8_t)(len ? data[2] : 0)); break;
    }
    free(body);
    return 0;
}
