/* test_events.c: order events and their delivery (API.md "Webhooks", the
 * email subscriber paragraph, "Admin and jobs", "Orders" deliveries,
 * "Events", POST /v1/subscribers): webhook retries with backoff and a signed,
 * stable body; dead letters, their alert and replay; the email confirmation
 * over SMTP; OrderReleased only on approval for net terms; a receiver down
 * across a daemon restart; a hanging receiver holding up neither the
 * checkout nor other subscribers; the SLA monitor and its alerts; /metrics;
 * and no event for an order that was rolled back. The receivers are
 * in-process fakes (fake_webhook.h, fake_smtp.h). */
#include "api/fixtures.h"
#include "api/fake_smtp.h"
#include "api/fake_webhook.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ADDR_US                                                                                                  \
    "{\"name\":\"Ann Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"region\":\"IL\","            \
    "\"postalCode\":\"62701\",\"country\":\"US\"}"
#define PAY_VISA "{\"method\":\"card\",\"cardToken\":\"tok_visa\"}"
#define PAY_DECLINE "{\"method\":\"card\",\"cardToken\":\"tok_decline\"}"
#define BUYER_EMAIL "buyer@example.com"
#define UNKNOWN_DLV "dlv_01M80V5EQG4YHAXXJRNX68ZH9P"
#define BODY_CAP (256 * 1024)

/* ---------------------------------------------------------------- fixture */

typedef struct fx {
    /* Store with shipping 1000 + 100/kg and US tax 825 bp; a buyer account
     * (member, large credit limit); a buyer user (buyer@example.com) given
     * the account; a 1999 / 500 g product with a known SKU. */
    CKT_FX_BASE;
    fake_webhook *wh[2];
    fake_smtp *smtp;
} fx;

/* Static so that the teardown can stop the daemon and the fakes of a test
 * that failed half-way (cmocka leaves the test by longjmp). */
static fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F.base);
    for (int i = 0; i < 2; i++)
        fwh_stop(F.wh[i]);
    fsmtp_stop(F.smtp);
    memset(&F, 0, sizeof(F));
    return 0;
}

static char *dump(json_t *j)
{
    return j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(null)");
}

static void fx_setup(fx *f, const char *faults)
{
    memset(f, 0, sizeof(*f));
    ckt_fx_opts o = {.faults = faults,
                     .balances = 1,
                     .credit_limit = 100000000,
                     .buyer_name = "Ann Buyer",
                     .buyer_email = BUYER_EMAIL,
                     .sku_prefix = "EVT-SKU",
                     .stock = 1000};
    ckt_fx_setup(&f->base, &o);
}

/* A cart of the buyer's holding qty x the product, and its session (Start). */
static void new_session(fx *f, int qty, char sid[64])
{
    char cart[64];
    ckt_cart(&f->d, f->bkey, f->store, f->acct, cart);
    if (qty > 0)
        ckt_cart_item(&f->d, f->bkey, cart, f->prod, qty, NULL);
    ckt_resp r = ckt_httpf(&f->d, "POST", "/v1/checkouts", f->bkey, "{\"cartId\":\"%s\"}", cart);
    ckt_expect_status(&r, 201);
    assert_string_equal(ckt_str(r.json, "session.state"), "Start");
    snprintf(sid, 64, "%s", ckt_str(r.json, "session.id"));
    ckt_free(&r);
}

/* PATCH the address, the shipping method and this payment (JSON text). */
static void set_inputs(fx *f, const char *sid, const char *pay)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    ckt_resp r = ckt_httpf(&f->d, "PATCH", path, f->bkey,
                           "{\"shippingAddress\":" ADDR_US ",\"shippingMethodId\":\"%s\",\"payment\":%s}", f->shm,
                           pay);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
}

/* A whole checkout of 3 x the product paid with pay: 201; the order id. */
static void place_order(fx *f, const char *pay, char order[64])
{
    char sid[64];
    new_session(f, 3, sid);
    set_inputs(f, sid, pay);
    ckt_place_ok(&f->base, sid, -1, order);
}

/* POST /v1/subscribers for a webhook to w; the id into out, the secret into secret_out (64). */
static void subscribe_webhook(fx *f, fake_webhook *w, const char *events, int max_attempts, int backoff_ms,
                              char out[64], char secret_out[64])
{
    static int seq;
    char url[128], secret[64];
    fwh_url(w, url, sizeof(url));
    snprintf(secret, sizeof(secret), "whsec-test-%d-%ld", ++seq, (long)getpid());
    ckt_resp r = ckt_httpf(&f->d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                           "{\"kind\":\"webhook\",\"url\":\"%s\",\"secret\":\"%s\",\"events\":%s,"
                           "\"maxAttempts\":%d,\"backoffBaseMs\":%d}",
                           url, secret, events, max_attempts, backoff_ms);
    ckt_expect_status(&r, 201);
    assert_string_equal(ckt_str(r.json, "kind"), "webhook");
    assert_null(json_object_get(r.json, "secret")); /* never shown again */
    snprintf(out, 64, "%s", ckt_str(r.json, "id"));
    if (secret_out)
        snprintf(secret_out, 64, "%s", secret);
    ckt_free(&r);
}

static json_t *get_order(fx *f, const char *order)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/orders/%s", order);
    ckt_resp r = ckt_http(&f->d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *j = json_incref(r.json);
    ckt_free(&r);
    return j;
}

/* The order's delivery to sub for event, or NULL (borrowed from o). */
static json_t *find_delivery(json_t *o, const char *sub, const char *event)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(o, "deliveries"), i, d) {
        const char *s = json_string_value(json_object_get(d, "subscriberId"));
        const char *e = json_string_value(json_object_get(d, "event"));
        if (s && e && strcmp(s, sub) == 0 && strcmp(e, event) == 0)
            return d;
    }
    return NULL;
}

/* Polls GET /v1/orders/{id} (50 ms steps) until the delivery to sub for
 * event has this status; returns a copy of it (owned). Fails after timeout_ms. */
static json_t *wait_delivery(fx *f, const char *order, const char *sub, const char *event, const char *status,
                             int timeout_ms)
{
    long long until = ckt_mono_ms() + timeout_ms;
    json_t *o = NULL;
    for (;;) {
        json_decref(o);
        o = get_order(f, order);
        json_t *d = find_delivery(o, sub, event);
        const char *s = d ? json_string_value(json_object_get(d, "status")) : NULL;
        if (s && strcmp(s, status) == 0) {
            json_t *copy = json_deep_copy(d);
            json_decref(o);
            return copy;
        }
        if (ckt_mono_ms() > until)
            break;
        ckt_sleep_ms(50);
    }
    char *s = dump(json_object_get(o, "deliveries"));
    fprintf(stderr, "delivery of %s to %s for order %s never became %s in %d ms; deliveries: %s\n", event, sub,
            order, status, timeout_ms, s);
    free(s);
    json_decref(o);
    {
        char cmd[1024];
        /* Diagnostics straight from the database file (when the sqlite3 tool is there). */
        snprintf(cmd, sizeof(cmd),
                 "sqlite3 '%s' 'SELECT id, event_id, subscriber_id, order_id, event_type, status, attempts"
                 " FROM deliveries; SELECT id, events FROM subscribers;' >&2 2>/dev/null",
                 f->d.db_path);
        if (system(cmd) != 0)
            fprintf(stderr, "(no sqlite3 tool for diagnostics)\n");
    }
    fail_msg("delivery did not become %s", status);
    return NULL;
}

/* Waits until cond_count() >= want (50 ms steps); fails after timeout_ms. */
static void wait_count(int (*count)(fake_webhook *), fake_webhook *w, int want, int timeout_ms, const char *what)
{
    long long until = ckt_mono_ms() + timeout_ms;
    while (count(w) < want) {
        if (ckt_mono_ms() > until) {
            fprintf(stderr, "%s: %d requests after %d ms, wanted %d\n", what, count(w), timeout_ms, want);
            fail_msg("%s: too few requests", what);
        }
        ckt_sleep_ms(50);
    }
}

static void wait_event(fake_webhook *w, const char *event, int want, int timeout_ms)
{
    long long until = ckt_mono_ms() + timeout_ms;
    while (fwh_count_event(w, event) < want) {
        if (ckt_mono_ms() > until) {
            fprintf(stderr, "%d %s requests after %d ms, wanted %d\n", fwh_count_event(w, event), event,
                    timeout_ms, want);
            fail_msg("too few %s requests", event);
        }
        ckt_sleep_ms(50);
    }
}

/* X-Checkoutd-Signature must be "sha256=" + the lowercase hex HMAC-SHA256 of
 * the exact body with the secret (computed here with OpenSSL). */
static void expect_signature(const char *secret, const char *body, const char *header)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body), mac,
                         &len));
    assert_int_equal(len, 32);
    char want[8 + 64 + 1];
    int n = snprintf(want, sizeof(want), "sha256=");
    for (unsigned i = 0; i < len; i++)
        n += snprintf(want + n, sizeof(want) - (size_t)n, "%02x", mac[i]);
    if (strcmp(want, header) != 0)
        fprintf(stderr, "signature: expected %s, got '%s'\n", want, header);
    assert_string_equal(header, want);
}

/* Checkoutd-Signature must be "t=<unix seconds>,v1=" + the lowercase hex
 * HMAC-SHA256 of "<t>.<body>" with the secret (computed here with
 * OpenSSL), with t within 5 minutes of now: what a receiver checks to
 * refuse a captured request replayed later. A body signed at another t, or
 * the untimed signature, does not match. Returns t. */
static long expect_timed_signature(const char *secret, const char *body, const char *header)
{
    long t = 0;
    int off = 0;
    if (sscanf(header, "t=%ld,v1=%n", &t, &off) != 1 || off == 0)
        fail_msg("Checkoutd-Signature is '%s'", header);
    long now = (long)time(NULL);
    assert_true(t > now - 300 && t <= now + 5);
    size_t blen = strlen(body);
    char *signed_text = malloc(blen + 32);
    assert_non_null(signed_text);
    int tl = snprintf(signed_text, 32, "%ld.", t);
    memcpy(signed_text + tl, body, blen);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)signed_text,
                         (size_t)tl + blen, mac, &len));
    free(signed_text);
    char want[65];
    for (unsigned i = 0; i < len; i++)
        snprintf(want + 2 * i, 3, "%02x", mac[i]);
    assert_int_equal(strlen(header + off), 64);
    assert_string_equal(header + off, want);
    return t;
}

/* The event body of a webhook request: {"id":"evt_...","type","createdAt","data":{"order":{...}}}
 * for this order. Returns the parsed body (owned). */
static json_t *expect_event_body(const char *body, const char *type, const char *order)
{
    json_error_t jerr;
    json_t *ev = json_loads(body, 0, &jerr);
    if (!ev)
        fprintf(stderr, "webhook body is not JSON (%s): %s\n", jerr.text, body);
    assert_non_null(ev);
    assert_true(json_is_object(ev));
    const char *id = ckt_str(ev, "id");
    assert_true(strncmp(id, "evt_", 4) == 0);
    assert_string_equal(ckt_str(ev, "type"), type);
    ckt_expect_time(ev, "createdAt");
    assert_true(json_is_object(ckt_get(ev, "data.order")));
    assert_string_equal(ckt_str(ev, "data.order.id"), order);
    return ev;
}

static ckt_resp admin_get(fx *f, const char *path)
{
    return ckt_http(&f->d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
}

/* Alerts of this kind whose subjectId is subject (NULL: any subject). */
static int count_alerts(fx *f, const char *kind, const char *subject)
{
    ckt_resp r = admin_get(f, "/v1/admin/alerts?limit=500");
    ckt_expect_status(&r, 200);
    int n = 0;
    size_t i;
    json_t *a;
    json_array_foreach(ckt_get(r.json, "items"), i, a) {
        const char *k = json_string_value(json_object_get(a, "kind"));
        const char *s = json_string_value(json_object_get(a, "subjectId"));
        if (k && strcmp(k, kind) == 0 && (!subject || (s && strcmp(s, subject) == 0))) {
            n++;
            assert_true(strlen(ckt_str(a, "message")) > 0);
            ckt_expect_time(a, "createdAt");
            assert_non_null(json_string_value(json_object_get(a, "id")));
        }
    }
    ckt_free(&r);
    return n;
}

/* The value of the sample whose name (with labels) is exactly `series` in
 * the Prometheus text; -1 when absent. */
static long long metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtoll(p + n + 1, NULL, 10);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

static char *get_metrics(fx *f)
{
    ckt_resp r = ckt_http(&f->d, "GET", "/metrics", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    char *text = strdup(r.body);
    ckt_free(&r);
    assert_non_null(text);
    return text;
}

static void expect_metric(const char *text, const char *series, long long want)
{
    long long got = metric(text, series);
    if (got != want)
        fprintf(stderr, "metric %s: expected %lld, got %lld in:\n%s\n", series, want, got, text);
    assert_int_equal(got, want);
}

/* No OrderCreated / OrderReleased event names an order that does not exist. */
static void expect_no_orphan_events(fx *f)
{
    int64_t orphans = ckt_db_int(&f->d, "SELECT count(*) FROM outbox_events e WHERE e.type IN ('OrderCreated',"
                                        " 'OrderReleased') AND (e.order_id IS NULL OR NOT EXISTS"
                                        " (SELECT 1 FROM orders o WHERE o.id = e.order_id))");
    assert_int_equal(orphans, 0);
}

static void finish(fx *f)
{
    expect_no_orphan_events(f);
    ckt_finish(&f->d);
    memset(&f->d, 0, sizeof(f->d));
}

/* ---------------------------------------------------------------- cases */

/* A receiver failing twice: three attempts of the same delivery, backing
 * off, each with the same delivery id, event header, a valid signature over
 * the exact (identical) body; then Delivered with attempts 3. */
static void test_delivery_after_failures(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    assert_non_null(f->wh[0] = fwh_start(2));
    char sub[64], secret[64], order[64];
    subscribe_webhook(f, f->wh[0], "[\"OrderCreated\"]", 5, 20, sub, secret);
    place_order(f, PAY_VISA, order);

    json_t *d = wait_delivery(f, order, sub, "OrderCreated", "Delivered", 10000);
    assert_int_equal(ckt_int(d, "attempts"), 3);
    const char *dlv = ckt_str(d, "id");
    assert_true(strncmp(dlv, "dlv_", 4) == 0);
    json_t *o = get_order(f, order);
    assert_int_equal(json_array_size(json_object_get(o, "deliveries")), 1);
    assert_string_equal(ckt_str(o, "deliveries.0.id"), dlv);
    assert_string_equal(ckt_str(o, "deliveries.0.subscriberId"), sub);
    assert_string_equal(ckt_str(o, "deliveries.0.event"), "OrderCreated");

    ckt_sleep_ms(300); /* nothing more after the success */
    assert_int_equal(fwh_count(f->wh[0]), 3);
    assert_int_equal(fwh_status(f->wh[0], 0), 500);
    assert_int_equal(fwh_status(f->wh[0], 1), 500);
    assert_int_equal(fwh_status(f->wh[0], 2), 200);
    static char body0[BODY_CAP], body[BODY_CAP];
    char hdr[256];
    assert_true(fwh_body(f->wh[0], 0, body0, sizeof(body0)));
    for (int i = 0; i < 3; i++) {
        assert_true(fwh_body(f->wh[0], i, body, sizeof(body)));
        assert_string_equal(body, body0); /* the same event each time */
        fwh_delivery(f->wh[0], i, hdr, sizeof(hdr));
        assert_string_equal(hdr, dlv);
        fwh_event(f->wh[0], i, hdr, sizeof(hdr));
        assert_string_equal(hdr, "OrderCreated");
        fwh_content_type(f->wh[0], i, hdr, sizeof(hdr));
        assert_true(strncmp(hdr, "application/json", 16) == 0);
        fwh_signature(f->wh[0], i, hdr, sizeof(hdr));
        expect_signature(secret, body, hdr);
        fwh_signature_t(f->wh[0], i, hdr, sizeof(hdr));
        expect_timed_signature(secret, body, hdr);
    }
    json_t *ev = expect_event_body(body0, "OrderCreated", order);
    assert_string_equal(ckt_str(ev, "data.order.orderNumber"), ckt_str(o, "orderNumber"));
    assert_int_equal(ckt_int(ev, "data.order.totals.grandTotal"), 7692);
    /* The body's id is the outbox event of this order. */
    assert_int_equal(ckt_db_int(&f->d,
                                "SELECT count(*) FROM outbox_events WHERE id = '%s' AND type = 'OrderCreated'"
                                " AND order_id = '%s'",
                                ckt_str(ev, "id"), order),
                     1);
    json_decref(ev);
    json_decref(o);
    json_decref(d);
    finish(f);
}

/* Always failing with maxAttempts 3: exactly 3 attempts, Dead, one
 * DeadLetter alert, listed in dead letters; replay after the receiver
 * recovers delivers it; replay of a non-dead delivery 409, unknown 404,
 * a buyer 403. */
static void test_dead_letter_and_replay(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    assert_non_null(f->wh[0] = fwh_start(-1));
    char sub[64], order[64], path[1024];
    subscribe_webhook(f, f->wh[0], "[\"OrderCreated\"]", 3, 20, sub, NULL);
    place_order(f, PAY_VISA, order);

    json_t *d = wait_delivery(f, order, sub, "OrderCreated", "Dead", 10000);
    assert_int_equal(ckt_int(d, "attempts"), 3);
    char dlv[64];
    snprintf(dlv, sizeof(dlv), "%s", ckt_str(d, "id"));
    json_decref(d);
    ckt_sleep_ms(600); /* no 4th attempt after Dead */
    assert_int_equal(fwh_count(f->wh[0]), 3);
    d = wait_delivery(f, order, sub, "OrderCreated", "Dead", 0);
    assert_int_equal(ckt_int(d, "attempts"), 3);
    json_decref(d);

    /* The dead-letter list. */
    ckt_resp r = admin_get(f, "/v1/admin/dead-letters");
    ckt_expect_status(&r, 200);
    json_t *items = ckt_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(ckt_str(items, "0.id"), dlv);
    assert_string_equal(ckt_str(items, "0.status"), "Dead");
    assert_int_equal(ckt_int(items, "0.attempts"), 3);
    assert_string_equal(ckt_str(items, "0.subscriberId"), sub);
    assert_string_equal(ckt_str(items, "0.event"), "OrderCreated");
    assert_string_equal(ckt_str(items, "0.orderId"), order);
    ckt_free(&r);

    /* One DeadLetter alert for it. */
    assert_int_equal(count_alerts(f, "DeadLetter", NULL), 1);
    assert_int_equal(count_alerts(f, "DeadLetter", dlv), 1);
    char *m = get_metrics(f);
    expect_metric(m, "checkoutd_deliveries{status=\"Dead\"}", 1);
    expect_metric(m, "checkoutd_deliveries{status=\"Pending\"}", 0);
    free(m);

    /* A buyer may neither list nor replay. */
    snprintf(path, sizeof(path), "/v1/admin/dead-letters/%s/replay", dlv);
    r = ckt_http(&f->d, "GET", "/v1/admin/dead-letters", f->bkey, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    r = ckt_http(&f->d, "POST", path, f->bkey, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    ckt_sleep_ms(200);
    assert_int_equal(fwh_count(f->wh[0]), 3);

    /* The receiver recovers; the replay delivers it. */
    fwh_set_fail(f->wh[0], 0);
    r = ckt_http(&f->d, "POST", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), dlv);
    const char *st = ckt_str(r.json, "status");
    assert_true(strcmp(st, "Pending") == 0 || strcmp(st, "Delivered") == 0);
    ckt_free(&r);
    d = wait_delivery(f, order, sub, "OrderCreated", "Delivered", 10000);
    assert_int_equal(ckt_int(d, "attempts"), 1); /* attempts start again */
    json_decref(d);
    assert_int_equal(fwh_count(f->wh[0]), 4);
    char hdr[128];
    fwh_delivery(f->wh[0], 3, hdr, sizeof(hdr));
    assert_string_equal(hdr, dlv);
    assert_int_equal(fwh_status(f->wh[0], 3), 200);
    r = admin_get(f, "/v1/admin/dead-letters");
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 0);
    ckt_free(&r);

    /* Replaying what is not dead: 409; unknown: 404. */
    r = ckt_http(&f->d, "POST", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 409, "CONFLICT", "DELIVERY_NOT_DEAD", NULL);
    ckt_free(&r);
    r = ckt_http(&f->d, "POST", "/v1/admin/dead-letters/" UNKNOWN_DLV "/replay", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    ckt_sleep_ms(200);
    assert_int_equal(fwh_count(f->wh[0]), 4);
    assert_int_equal(count_alerts(f, "DeadLetter", NULL), 1);
    finish(f);
}

/* Fan-out: every matching subscriber gets its own delivery of each event
 * (API.md "Webhooks": deliveries are per subscriber; the order shows each
 * subscriber's delivery of each of its events). Two webhook subscribers and
 * an email subscriber, one order: three deliveries, all Delivered. */
static void test_fanout_to_every_subscriber(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    assert_non_null(f->wh[0] = fwh_start(0));
    assert_non_null(f->wh[1] = fwh_start(0));
    assert_non_null(f->smtp = fsmtp_start());
    char sub[3][64], url[128], order[64];
    subscribe_webhook(f, f->wh[0], "[\"OrderCreated\"]", 5, 20, sub[0], NULL);
    subscribe_webhook(f, f->wh[1], "[\"OrderCreated\"]", 5, 20, sub[1], NULL);
    fsmtp_url(f->smtp, url, sizeof(url));
    ckt_resp r = ckt_httpf(&f->d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                           "{\"kind\":\"email\",\"smtpUrl\":\"%s\",\"from\":\"orders@shop.example\"}", url);
    ckt_expect_status(&r, 201);
    snprintf(sub[2], sizeof(sub[2]), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);

    place_order(f, PAY_VISA, order);
    for (int i = 0; i < 3; i++)
        json_decref(wait_delivery(f, order, sub[i], "OrderCreated", "Delivered", 5000));
    json_t *o = get_order(f, order);
    assert_int_equal(json_array_size(json_object_get(o, "deliveries")), 3);
    json_decref(o);
    ckt_sleep_ms(200);
    assert_int_equal(fwh_count(f->wh[0]), 1);
    assert_int_equal(fwh_count(f->wh[1]), 1);
    assert_int_equal(fsmtp_count(f->smtp), 1);
    char d0[128], d1[128];
    fwh_delivery(f->wh[0], 0, d0, sizeof(d0));
    fwh_delivery(f->wh[1], 0, d1, sizeof(d1));
    assert_string_not_equal(d0, d1); /* one delivery each */
    finish(f);
}

/* ------------------------------------------------------------ email */

/* The header block of a MIME message: up to the first empty line. */
static const char *mail_body(const char *msg)
{
    const char *b = strstr(msg, "\r\n\r\n");
    assert_non_null(b);
    return b + 4;
}

/* The unfolded value of header `name` (case-insensitive), into out; fails
 * the test when the header is missing or appears twice. */
static void mail_header(const char *msg, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name), len = 0;
    int found = 0, in = 0;
    const char *end = strstr(msg, "\r\n\r\n");
    assert_non_null(end);
    out[0] = '\0';
    for (const char *p = msg; p < end;) {
        const char *e = strstr(p, "\r\n");
        size_t ll = (size_t)(e - p);
        if (p[0] == ' ' || p[0] == '\t') {
            if (in) { /* a continuation: unfolding drops the CRLF only */
                assert_true(len + ll < n);
                memcpy(out + len, p, ll);
                out[len += ll] = '\0';
            }
        } else {
            in = ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':';
            if (in) {
                if (found++)
                    fail_msg("header %s appears twice in:\n%s", name, msg);
                const char *v = p + nl + 1;
                while (*v == ' ')
                    v++;
                len = (size_t)(e - v);
                assert_true(len < n);
                memcpy(out, v, len);
                out[len] = '\0';
            }
        }
        p = e + 2;
    }
    if (!found)
        fail_msg("no %s header in:\n%s", name, msg);
}

/* Is s (n bytes) whole UTF-8 characters? */
static int whole_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 : (s[i] & 0xf0) == 0xe0 ? 3 : (s[i] & 0xf8) == 0xf0 ? 4 : 0;
        if (!k || i + k > n)
            return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
        i += k;
    }
    return 1;
}

/* Decodes a header value made of RFC 2047 encoded-words (UTF-8, B) into
 * out. Each word must be at most 75 characters and hold whole characters
 * (RFC 2047 sections 2 and 5). */
static void decode_words(const char *v, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = v; *p;) {
        while (*p == ' ' || *p == '\t')
            p++; /* white space between encoded-words is not text */
        if (!*p)
            break;
        assert_true(strncmp(p, "=?UTF-8?B?", 10) == 0);
        const char *e = strstr(p + 10, "?=");
        assert_non_null(e);
        assert_true(e + 2 - p <= 75);
        unsigned char buf[128];
        int b64 = (int)(e - (p + 10));
        assert_true(b64 % 4 == 0);
        int got = EVP_DecodeBlock(buf, (const unsigned char *)p + 10, b64);
        assert_true(got >= 0);
        for (const char *q = e - 1; q > p + 10 && *q == '='; q--)
            got--; /* EVP_DecodeBlock counts the padding as zero bytes */
        assert_true(whole_utf8(buf, (size_t)got));
        assert_true(len + (size_t)got < n);
        memcpy(out + len, buf, (size_t)got);
        out[len += (size_t)got] = '\0';
        p = e + 2;
    }
}

/* Decodes a quoted-printable body, checking its lines are at most 76
 * characters and hold only printable ASCII. */
static void decode_qp(const char *body, char *out, size_t n)
{
    size_t len = 0, col = 0;
    for (const char *p = body; *p; p++) {
        assert_true(len + 2 < n);
        if (p[0] == '\r' && p[1] == '\n') { /* a line break of the text */
            out[len++] = '\r';
            out[len++] = '\n';
            p++;
            col = 0;
            continue;
        }
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p <= 0x7e);
        if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
            assert_true(++col <= 76);
            p += 2; /* a soft line break */
            col = 0;
        } else if (p[0] == '=') {
            unsigned v;
            assert_true(isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]));
            assert_true(!islower((unsigned char)p[1]) && !islower((unsigned char)p[2]));
            assert_int_equal(sscanf(p + 1, "%2X", &v), 1);
            out[len++] = (char)v;
            p += 2;
            col += 3;
        } else {
            out[len++] = *p;
            col++;
        }
        assert_true(col <= 76);
    }
    out[len] = '\0';
}

/* Date: is RFC 5322 (English names, +0000) and about now. */
static void expect_mail_date(const char *v)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    if (!end || *end)
        fail_msg("Date: %s is not RFC 5322 date-time in UTC", v);
    long long at = (long long)timegm(&tm), now = (long long)time(NULL);
    assert_true(at <= now + 1 && at >= now - 300);
}

/* An email subscriber of the fixture, over the fake SMTP sink; its id into sub. */
static void subscribe_email(fx *f, char sub[64])
{
    char url[128];
    assert_non_null(f->smtp = fsmtp_start());
    fsmtp_url(f->smtp, url, sizeof(url));
    ckt_resp r = ckt_httpf(&f->d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                           "{\"kind\":\"email\",\"smtpUrl\":\"%s\",\"from\":\"orders@shop.example\"}", url);
    ckt_expect_status(&r, 201);
    assert_string_equal(ckt_str(r.json, "kind"), "email");
    assert_int_equal(json_array_size(ckt_get(r.json, "events")), 1);
    assert_string_equal(ckt_str(r.json, "events.0"), "OrderCreated");
    snprintf(sub, 64, "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
}

/* Places an order, waits for its email and copies the message into data;
 * the order's number and the delivery's id go to number and dlv. */
static void email_of_order(fx *f, const char *sub, char *data, size_t n, char number[64], char dlv[64])
{
    char order[64];
    place_order(f, PAY_VISA, order);
    json_t *d = wait_delivery(f, order, sub, "OrderCreated", "Delivered", 10000);
    assert_int_equal(ckt_int(d, "attempts"), 1);
    snprintf(dlv, 64, "%s", ckt_str(d, "id"));
    json_decref(d);
    assert_int_equal(fsmtp_count(f->smtp), 1);
    char from[256], rcpts[512];
    assert_true(fsmtp_message(f->smtp, 0, from, sizeof(from), rcpts, sizeof(rcpts), data, n));
    assert_string_equal(from, "orders@shop.example");
    assert_string_equal(rcpts, BUYER_EMAIL);
    json_t *o = get_order(f, order);
    snprintf(number, 64, "%s", ckt_str(o, "orderNumber"));
    assert_int_equal(ckt_int(o, "totals.grandTotal"), 7692); /* API.md's worked example */
    json_decref(o);
}

/* An email subscriber: the confirmation goes over SMTP from the subscriber's
 * address to the buyer's as a MIME message (API.md "Webhooks"), plain ASCII
 * here so 7bit, with the order number, the SKU and money as a person reads
 * it, never minor units. */
static void test_email_confirmation(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    char sub[64], number[64], dlv[64], v[1024];

    /* An email subscriber takes only OrderCreated. */
    char url[128];
    fake_smtp *probe = fsmtp_start();
    assert_non_null(probe);
    fsmtp_url(probe, url, sizeof(url));
    ckt_resp r = ckt_httpf(&f->d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                           "{\"kind\":\"email\",\"smtpUrl\":\"%s\",\"from\":\"orders@shop.example\","
                           "\"events\":[\"OrderReleased\"]}",
                           url);
    ckt_expect_status(&r, 400);
    ckt_free(&r);
    fsmtp_stop(probe);

    subscribe_email(f, sub);
    static char data[BODY_CAP];
    email_of_order(f, sub, data, sizeof(data), number, dlv);

    mail_header(data, "From", v, sizeof(v));
    assert_string_equal(v, "<orders@shop.example>");
    mail_header(data, "To", v, sizeof(v));
    assert_string_equal(v, "<" BUYER_EMAIL ">");
    mail_header(data, "MIME-Version", v, sizeof(v));
    assert_string_equal(v, "1.0");
    mail_header(data, "Content-Type", v, sizeof(v));
    assert_string_equal(v, "text/plain; charset=UTF-8");
    mail_header(data, "Content-Transfer-Encoding", v, sizeof(v));
    assert_string_equal(v, "7bit");
    mail_header(data, "Date", v, sizeof(v));
    expect_mail_date(v);
    /* The delivery's id, the same on every retry, at the sender's domain. */
    mail_header(data, "Message-ID", v, sizeof(v));
    char want[256];
    snprintf(want, sizeof(want), "<%s@shop.example>", dlv);
    assert_string_equal(v, want);
    /* Plain ASCII: no encoded-word. */
    mail_header(data, "Subject", v, sizeof(v));
    snprintf(want, sizeof(want), "Test Store: order %s confirmed", number);
    assert_string_equal(v, want);

    const char *body = mail_body(data);
    for (const char *p = body; *p; p++)
        if (!(p[0] == '\r' && p[1] == '\n') && !(p[0] == '\n' && p > body && p[-1] == '\r'))
            assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p <= 0x7e); /* 7bit, CRLF only */
    if (!strstr(body, number) || !strstr(body, "Total:       USD 76.92\r\n"))
        fprintf(stderr, "the email lacks the order number %s or 'Total: USD 76.92':\n%s\n", number, data);
    assert_non_null(strstr(body, number));
    snprintf(want, sizeof(want), "  3 x %s at USD 19.99, tax USD 4.95: USD 64.92\r\n", f->sku);
    assert_non_null(strstr(body, want));
    assert_non_null(strstr(body, "Subtotal:    USD 59.97\r\n"));
    assert_non_null(strstr(body, "Adjustments: USD 0.00\r\n"));
    assert_non_null(strstr(body, "Shipping:    USD 12.00\r\n"));
    assert_non_null(strstr(body, "Tax:         USD 4.95\r\n"));
    assert_non_null(strstr(body, "Total:       USD 76.92\r\n"));
    /* Never raw minor units (with the space before them: a SKU or an order
     * number may hold these digits). */
    assert_null(strstr(body, " 7692"));
    assert_null(strstr(body, " 1999"));
    assert_null(strstr(body, " 5997"));
    finish(f);
}

/* A store name and a SKU beyond ASCII: the subject is RFC 2047 encoded-words
 * (each at most 75 characters, none splitting a character), the body is
 * quoted-printable with lines of at most 76, and both decode to the UTF-8
 * text. */
static void test_email_unicode(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    /* Long enough for more than one encoded-word, with multi-byte characters at the cuts. */
    static const char store_name[] = "Caf\u00e9 Z\u00fcrich \u2014 Gro\u00dfhandel f\u00fcr K\u00e4se, "
                                     "\u00d6l & Br\u00f6tchen \u2615 GmbH";
    char path[1024], sub[64], number[64], dlv[64], v[2048], text[2048];
    snprintf(path, sizeof(path), "/v1/stores/%s", f->store);
    ckt_resp r = ckt_httpf(&f->d, "PATCH", path, CKT_ADMIN_KEY, "{\"name\":\"%s\"}", store_name);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    /* A product with a SKU beyond ASCII, the same price and weight, in place of the fixture's. */
    snprintf(f->sku, sizeof(f->sku), "KAFFEE-\u00c4\u20ac-%ld", (long)getpid());
    char body[512];
    snprintf(body, sizeof(body),
             "{\"sku\":\"%s\",\"name\":\"Kaffee\",\"unitPrice\":1999,\"stock\":1000,\"minQuantity\":1,"
             "\"priceTiers\":[],\"hazmat\":false,\"exportControlled\":false,\"weightGrams\":500,\"active\":true}",
             f->sku);
    ckt_product(&f->d, f->store, body, f->prod);
    subscribe_email(f, sub);
    static char data[BODY_CAP], decoded[BODY_CAP];
    email_of_order(f, sub, data, sizeof(data), number, dlv);

    /* Every header line is 7-bit. */
    for (const char *p = data; p < mail_body(data); p++)
        assert_true((unsigned char)*p < 0x80);
    mail_header(data, "Subject", v, sizeof(v));
    assert_non_null(strstr(v, "?= =?UTF-8?B?")); /* more than one word, folded */
    decode_words(v, text, sizeof(text));
    char want[512];
    snprintf(want, sizeof(want), "%s: order %s confirmed", store_name, number);
    assert_string_equal(text, want);
    mail_header(data, "Content-Type", v, sizeof(v));
    assert_string_equal(v, "text/plain; charset=UTF-8");
    mail_header(data, "Content-Transfer-Encoding", v, sizeof(v));
    assert_string_equal(v, "quoted-printable");
    mail_header(data, "MIME-Version", v, sizeof(v));
    assert_string_equal(v, "1.0");

    decode_qp(mail_body(data), decoded, sizeof(decoded));
    assert_true(whole_utf8((const unsigned char *)decoded, strlen(decoded)));
    snprintf(want, sizeof(want), "Thank you for your order %s at %s.\r\n", number, store_name);
    assert_non_null(strstr(decoded, want));
    snprintf(want, sizeof(want), "  3 x %s at USD 19.99, tax USD 4.95: USD 64.92\r\n", f->sku);
    assert_non_null(strstr(decoded, want));
    assert_non_null(strstr(decoded, "Total:       USD 76.92\r\n"));
    finish(f);
}

/* Net terms: OrderCreated at once, OrderReleased only on approval; a card
 * order (Activated at once) is released at once. */
static void test_net_terms_released_on_approval(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    assert_non_null(f->wh[0] = fwh_start(0));
    char sub[64], secret[64], order[64], path[1024];
    subscribe_webhook(f, f->wh[0], "[\"OrderCreated\",\"OrderReleased\"]", 5, 20, sub, secret);

    place_order(f, "{\"method\":\"net_terms\",\"poNumber\":\"PO-EVT-1\"}", order);
    json_t *o = get_order(f, order);
    assert_string_equal(ckt_str(o, "status"), "PendingApproval");
    json_decref(o);
    wait_event(f->wh[0], "OrderCreated", 1, 10000);
    json_decref(wait_delivery(f, order, sub, "OrderCreated", "Delivered", 10000));
    ckt_sleep_ms(500);
    assert_int_equal(fwh_count_event(f->wh[0], "OrderReleased"), 0);
    assert_int_equal(fwh_count(f->wh[0]), 1);
    o = get_order(f, order);
    assert_null(find_delivery(o, sub, "OrderReleased"));
    json_decref(o);
    assert_int_equal(ckt_db_int(&f->d,
                                "SELECT count(*) FROM outbox_events WHERE type = 'OrderReleased' AND order_id = '%s'",
                                order),
                     0);

    snprintf(path, sizeof(path), "/v1/orders/%s/approve", order);
    ckt_resp r = ckt_http(&f->d, "POST", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    wait_event(f->wh[0], "OrderReleased", 1, 10000);
    json_t *d = wait_delivery(f, order, sub, "OrderReleased", "Delivered", 10000);
    static char body[BODY_CAP];
    char hdr[256];
    int idx = fwh_count(f->wh[0]) - 1;
    fwh_event(f->wh[0], idx, hdr, sizeof(hdr));
    assert_string_equal(hdr, "OrderReleased");
    fwh_delivery(f->wh[0], idx, hdr, sizeof(hdr));
    assert_string_equal(hdr, ckt_str(d, "id"));
    fwh_body(f->wh[0], idx, body, sizeof(body));
    fwh_signature(f->wh[0], idx, hdr, sizeof(hdr));
    expect_signature(secret, body, hdr);
    fwh_signature_t(f->wh[0], idx, hdr, sizeof(hdr));
    expect_timed_signature(secret, body, hdr);
    json_t *ev = expect_event_body(body, "OrderReleased", order);
    assert_string_equal(ckt_str(ev, "data.order.status"), "Activated");
    json_decref(ev);
    json_decref(d);
    ckt_sleep_ms(300);
    assert_int_equal(fwh_count_event(f->wh[0], "OrderReleased"), 1);
    assert_int_equal(fwh_count_event(f->wh[0], "OrderCreated"), 1);

    /* A card order is Activated at once: both events. */
    char order2[64];
    place_order(f, PAY_VISA, order2);
    json_decref(wait_delivery(f, order2, sub, "OrderCreated", "Delivered", 10000));
    json_decref(wait_delivery(f, order2, sub, "OrderReleased", "Delivered", 10000));
    assert_int_equal(fwh_count_event(f->wh[0], "OrderReleased"), 2);
    finish(f);
}

/* A receiver down (503) across a clean restart: the delivery stays Pending
 * and is delivered by the restarted daemon once the receiver is back. */
static void test_receiver_down_across_restart(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    assert_non_null(f->wh[0] = fwh_start(0));
    fwh_set_down(f->wh[0], true);
    char sub[64], order[64];
    subscribe_webhook(f, f->wh[0], "[\"OrderCreated\"]", 20, 200, sub, NULL);
    place_order(f, PAY_VISA, order);
    wait_count(fwh_count, f->wh[0], 1, 10000, "first attempt");
    assert_int_equal(fwh_status(f->wh[0], 0), 503);

    assert_int_equal(ckt_stop(&f->d), 0);
    assert_int_equal(ckt_db_int(&f->d,
                                "SELECT count(*) FROM deliveries WHERE order_id = '%s' AND status = 'Pending'"
                                " AND attempts >= 1",
                                order),
                     1);
    ckt_restart(&f->d, NULL, NULL);
    fwh_set_down(f->wh[0], false);
    json_t *d = wait_delivery(f, order, sub, "OrderCreated", "Delivered", 10000);
    int n = fwh_count(f->wh[0]);
    assert_int_equal(fwh_status(f->wh[0], n - 1), 200);
    assert_int_equal(fwh_count_ok(f->wh[0]), 1);
    assert_true(ckt_int(d, "attempts") >= 2);
    assert_true(ckt_int(d, "attempts") <= n);
    char hdr[128];
    for (int i = 0; i < n; i++) {
        fwh_delivery(f->wh[0], i, hdr, sizeof(hdr));
        assert_string_equal(hdr, ckt_str(d, "id"));
    }
    static char body[BODY_CAP];
    fwh_body(f->wh[0], n - 1, body, sizeof(body));
    json_decref(expect_event_body(body, "OrderCreated", order));
    json_decref(d);
    finish(f);
}

/* A receiver that hangs 8 s holds up neither place-order nor another
 * subscriber; only one of its deliveries is in flight at a time; a stop
 * cuts the hung attempt short without counting it. */
static void test_hanging_receiver(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    assert_non_null(f->wh[0] = fwh_start(0));
    assert_non_null(f->wh[1] = fwh_start(0));
    fwh_set_hang_ms(f->wh[0], 8000);
    char slow[64], healthy[64], orders[3][64];
    subscribe_webhook(f, f->wh[0], "[\"OrderCreated\"]", 5, 20, slow, NULL);
    subscribe_webhook(f, f->wh[1], "[\"OrderCreated\"]", 5, 20, healthy, NULL);

    long long t_first = ckt_mono_ms();
    for (int i = 0; i < 3; i++) {
        char sid[64];
        new_session(f, 3, sid);
        set_inputs(f, sid, PAY_VISA);
        long long t0 = ckt_mono_ms();
        ckt_resp r = ckt_place(&f->base, sid);
        long long took = ckt_mono_ms() - t0;
        ckt_expect_status(&r, 201);
        snprintf(orders[i], 64, "%s", ckt_str(r.json, "orderId"));
        ckt_free(&r);
        if (took >= 4000)
            fprintf(stderr, "place-order %d took %lld ms while a subscriber hangs\n", i, took);
        assert_true(took < 4000);
        if (i == 0) /* the hung receiver has the first event before the next placement */
            wait_count(fwh_count, f->wh[0], 1, 5000, "hung receiver");
    }
    for (int i = 0; i < 3; i++) {
        long long left = 5000 - (ckt_mono_ms() - t_first);
        json_decref(wait_delivery(f, orders[i], healthy, "OrderCreated", "Delivered", left > 0 ? (int)left : 0));
    }
    assert_int_equal(fwh_count(f->wh[1]), 3);
    /* Still hanging on the first: one in flight for that subscriber, none answered. */
    assert_int_equal(fwh_count(f->wh[0]), 1);
    assert_int_equal(fwh_count_ok(f->wh[0]), 0);
    for (int i = 0; i < 3; i++) {
        json_t *o = get_order(f, orders[i]);
        json_t *d = find_delivery(o, slow, "OrderCreated");
        assert_non_null(d);
        assert_string_equal(ckt_str(d, "status"), "Pending");
        assert_int_equal(ckt_int(d, "attempts"), 0);
        json_decref(o);
    }

    /* SIGTERM while the attempt hangs: cut short, exit 0, no attempt counted, lease released. */
    expect_no_orphan_events(f);
    long long t0 = ckt_mono_ms();
    int st = ckt_stop(&f->d);
    long long took = ckt_mono_ms() - t0;
    assert_int_equal(st, 0);
    if (took >= 4000)
        fprintf(stderr, "stopping took %lld ms with a hung delivery\n", took);
    assert_true(took < 4000);
    assert_int_equal(ckt_db_int(&f->d,
                                "SELECT count(*) FROM deliveries WHERE subscriber_id = '%s' AND status = 'Pending'"
                                " AND attempts = 0 AND lease_owner IS NULL",
                                slow),
                     3);
    ckt_finish(&f->d); /* removes nothing more: already stopped */
    memset(&f->d, 0, sizeof(f->d));
}

/* The SLA monitor: a session that failed at payment, idle past the SLA, is
 * stuck (one alert, never two); a session at Start is not; admin only. */
static void test_sla_monitor(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    char failed[64], fresh[64], path[1024];
    new_session(f, 3, failed);
    set_inputs(f, failed, PAY_DECLINE);
    ckt_resp r = ckt_place(&f->base, failed);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "PAYMENT_DECLINED", NULL);
    ckt_free(&r);
    new_session(f, 1, fresh);

    /* Within the SLA (900 s): nothing stuck. */
    r = ckt_http(&f->d, "POST", "/v1/admin/jobs/sla-monitor", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "stuck"), 0);
    ckt_free(&r);
    assert_int_equal(count_alerts(f, "StuckSession", NULL), 0);

    snprintf(path, sizeof(path), "/v1/stores/%s", f->store);
    r = ckt_http(&f->d, "PATCH", path, CKT_ADMIN_KEY, "{\"slaSeconds\":1}", NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "slaSeconds"), 1);
    ckt_free(&r);
    ckt_db_exec(&f->d, "UPDATE checkout_sessions SET updated_at = updated_at - 5000 WHERE id IN ('%s', '%s')", failed,
                fresh);

    r = ckt_http(&f->d, "POST", "/v1/admin/jobs/sla-monitor", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "stuck"), 1);
    ckt_free(&r);
    r = admin_get(f, "/v1/admin/sessions?stuck=true");
    ckt_expect_status(&r, 200);
    json_t *items = ckt_get(r.json, "items");
    if (json_array_size(items) != 1) {
        char *s = dump(items);
        fprintf(stderr, "stuck sessions: %s\n", s);
        free(s);
    }
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(ckt_str(items, "0.id"), failed);
    ckt_free(&r);
    assert_int_equal(count_alerts(f, "StuckSession", NULL), 1);
    assert_int_equal(count_alerts(f, "StuckSession", failed), 1);
    assert_int_equal(count_alerts(f, "StuckSession", fresh), 0);
    char *m = get_metrics(f);
    expect_metric(m, "checkoutd_sessions_stuck", 1);
    free(m);

    /* Again: still stuck, still one alert. */
    r = ckt_http(&f->d, "POST", "/v1/admin/jobs/sla-monitor", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "stuck"), 1);
    ckt_free(&r);
    assert_int_equal(count_alerts(f, "StuckSession", NULL), 1);

    /* Admin only. */
    static const char *const routes[][2] = {
        {"GET", "/v1/admin/sessions?stuck=true"},
        {"GET", "/v1/admin/alerts"},
        {"GET", "/v1/admin/dead-letters"},
        {"POST", "/v1/admin/dead-letters/" UNKNOWN_DLV "/replay"},
        {"POST", "/v1/admin/jobs/sla-monitor"},
        {"POST", "/v1/admin/jobs/sweeper"},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        r = ckt_http(&f->d, routes[i][0], routes[i][1], f->bkey, NULL, NULL);
        if (r.status != 403)
            fprintf(stderr, "%s %s as a buyer\n", routes[i][0], routes[i][1]);
        ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
        ckt_free(&r);
        r = ckt_http(&f->d, routes[i][0], routes[i][1], NULL, NULL, NULL);
        if (r.status != 401)
            fprintf(stderr, "%s %s without a key\n", routes[i][0], routes[i][1]);
        ckt_expect_status(&r, 401);
        ckt_free(&r);
    }
    assert_int_equal(count_alerts(f, "StuckSession", NULL), 1);
    finish(f);
}

/* /metrics without auth: sessions by state, stuck, deliveries, orders (a
 * gauge), placements by result and failures by reason, delivery attempts by
 * kind and outcome. */
static void test_metrics(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    assert_non_null(f->wh[0] = fwh_start(0));
    char sub[64], order[64], declined[64];
    subscribe_webhook(f, f->wh[0], "[\"OrderCreated\"]", 5, 20, sub, NULL);
    char *m = get_metrics(f);
    expect_metric(m, "checkoutd_orders", 0);
    expect_metric(m, "checkoutd_placement_failures_total{reason=\"PAYMENT_DECLINED\"}", -1);
    expect_metric(m, "checkoutd_placements_total{result=\"placed\"}", 0);
    expect_metric(m, "checkoutd_delivery_attempts_total{kind=\"webhook\",outcome=\"delivered\"}", 0);
    free(m);

    new_session(f, 3, declined);
    set_inputs(f, declined, PAY_DECLINE);
    ckt_resp r = ckt_place(&f->base, declined);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "PAYMENT_DECLINED", NULL);
    ckt_free(&r);
    char path[1024], series[128];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", declined);
    r = ckt_http(&f->d, "GET", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    snprintf(series, sizeof(series), "checkoutd_sessions{state=\"%s\"}", ckt_str(r.json, "state"));
    ckt_free(&r);

    place_order(f, PAY_VISA, order);
    json_decref(wait_delivery(f, order, sub, "OrderCreated", "Delivered", 10000));

    r = ckt_http(&f->d, "GET", "/metrics", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    char ctype[128] = "";
    assert_true(ckt_header(&r, "Content-Type", ctype, sizeof(ctype)));
    if (strncmp(ctype, "text/plain", 10) != 0)
        fprintf(stderr, "/metrics Content-Type: %s\n", ctype);
    assert_true(strncmp(ctype, "text/plain", 10) == 0);
    m = strdup(r.body);
    ckt_free(&r);
    assert_non_null(strstr(m, "checkoutd_sessions{state="));
    expect_metric(m, series, 1); /* the declined one; the ordered one is archived */
    expect_metric(m, "checkoutd_sessions_stuck", 0);
    expect_metric(m, "checkoutd_deliveries{status=\"Pending\"}", 0);
    expect_metric(m, "checkoutd_deliveries{status=\"Dead\"}", 0);
    expect_metric(m, "checkoutd_orders", 1);
    expect_metric(m, "checkoutd_placement_failures_total{reason=\"PAYMENT_DECLINED\"}", 1);
    /* One declined (the buyer can fix it: rejected) and one placed, each timed. */
    expect_metric(m, "checkoutd_placements_total{result=\"rejected\"}", 1);
    expect_metric(m, "checkoutd_placements_total{result=\"placed\"}", 1);
    expect_metric(m, "checkoutd_placements_total{result=\"failed\"}", 0);
    expect_metric(m, "checkoutd_placement_duration_seconds_count{result=\"rejected\"}", 1);
    expect_metric(m, "checkoutd_placement_duration_seconds_count{result=\"placed\"}", 1);
    expect_metric(m, "checkoutd_placement_duration_seconds_bucket{result=\"placed\",le=\"+Inf\"}", 1);
    /* The placement's request counted under its route template, not its path. */
    expect_metric(m,
                  "checkoutd_http_request_duration_seconds_count{route=\"/v1/checkouts/{id}/place-order\","
                  "method=\"POST\",code=\"201\"}",
                  1);
    /* One subscriber, one OrderCreated, delivered at the first attempt. */
    expect_metric(m, "checkoutd_delivery_attempts_total{kind=\"webhook\",outcome=\"delivered\"}", 1);
    expect_metric(m, "checkoutd_delivery_attempts_total{kind=\"webhook\",outcome=\"retry\"}", 0);
    free(m);
    finish(f);
}

/* A placement rolled back after create_order (a fault at confirm, in the
 * same commit) leaves no event and sends nothing; the retry sends exactly
 * one OrderCreated and one OrderReleased for the order that exists. */
static void test_no_event_for_rolled_back_order(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:confirm*1");
    assert_non_null(f->wh[0] = fwh_start(0));
    char sub[64], sid[64];
    subscribe_webhook(f, f->wh[0], "[\"OrderCreated\",\"OrderReleased\"]", 5, 20, sub, NULL);
    new_session(f, 3, sid);
    set_inputs(f, sid, PAY_VISA);
    ckt_resp r = ckt_place(&f->base, sid);
    ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "INTERNAL_ERROR", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders"), 0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM outbox_events WHERE type IN ('OrderCreated',"
                                       " 'OrderReleased')"),
                     0);
    ckt_sleep_ms(300);
    assert_int_equal(fwh_count(f->wh[0]), 0);
    expect_no_orphan_events(f);

    r = ckt_place(&f->base, sid);
    ckt_expect_status(&r, 201);
    char order[64];
    snprintf(order, sizeof(order), "%s", ckt_str(r.json, "orderId"));
    ckt_free(&r);
    json_decref(wait_delivery(f, order, sub, "OrderCreated", "Delivered", 10000));
    json_decref(wait_delivery(f, order, sub, "OrderReleased", "Delivered", 10000));
    ckt_sleep_ms(300);
    assert_int_equal(fwh_count_event(f->wh[0], "OrderCreated"), 1);
    assert_int_equal(fwh_count_event(f->wh[0], "OrderReleased"), 1);
    assert_int_equal(fwh_count(f->wh[0]), 2);
    static char body[BODY_CAP];
    for (int i = 0; i < 2; i++) {
        char ev[64];
        fwh_event(f->wh[0], i, ev, sizeof(ev));
        fwh_body(f->wh[0], i, body, sizeof(body));
        json_decref(expect_event_body(body, ev, order));
    }
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM outbox_events WHERE type = 'OrderCreated'"), 1);
    finish(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_delivery_after_failures, teardown),
        cmocka_unit_test_teardown(test_dead_letter_and_replay, teardown),
        cmocka_unit_test_teardown(test_email_confirmation, teardown),
        cmocka_unit_test_teardown(test_email_unicode, teardown),
        cmocka_unit_test_teardown(test_fanout_to_every_subscriber, teardown),
        cmocka_unit_test_teardown(test_net_terms_released_on_approval, teardown),
        cmocka_unit_test_teardown(test_receiver_down_across_restart, teardown),
        cmocka_unit_test_teardown(test_hanging_receiver, teardown),
        cmocka_unit_test_teardown(test_sla_monitor, teardown),
        cmocka_unit_test_teardown(test_metrics, teardown),
        cmocka_unit_test_teardown(test_no_event_for_rolled_back_order, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
