/* subscribers.c: POST and GET /v1/subscribers, GET/PATCH/DELETE
 * /v1/subscribers/{id}: who is told about order events, by webhook or by
 * email. The webhook secret is stored for signing and never shown again. A
 * deleted subscriber keeps its row (deliveries name it) but is in no answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/routes.h"
#include "store/deliveries.h"
#include "store/subscribers.h"
#define ADDRESS_MAX 254
#define SECRET_MAX 512

static const char *const event_types[] = {"OrderCreated",   "OrderReleased",  "CheckoutFailed", "FulfillmentOrderCreated",
                                          "OrderFulfilled", "OrderCancelled", "OrderReturned",  NULL};

/* A URL for display: a password in its user info becomes "****". Returns a new string. */
static json_t *shown_url(const char *url)
{
    const char *host = strstr(url, "://");
    if (!host)
        return json_string(url);
    host += 3;
    size_t auth_len = strcspn(host, "/?#");
    const char *at = memrchr(host, '@', auth_len);
    const char *colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;
    if (!colon)
        return json_string(url);
    char buf[CK_URL_MAX + 8];
    snprintf(buf, sizeof(buf), "%.*s****%s", (int)(colon + 1 - url), url, at);
    return json_string(buf);
}

/* The repository's subscriber as it goes out: a password in url or smtpUrl masked. Returns j. */
static json_t *masked(json_t *j)
{
    static const char *const keys[] = {"url", "smtpUrl", NULL};
    for (int i = 0; keys[i]; i++) {
        const char *u = json_string_value(json_object_get(j, keys[i]));
        if (u)
            json_object_set_new(j, keys[i], shown_url(u));
    }
    return j;
}

/* Replies with the subscriber, or 404. */
static int reply_subscriber(ck_req *req, int status, const char *id, ck_error *err)
{
    json_t *j = NULL;
    int rc = ck_or_404(ck_subscribers_get(req->db, id, &j, err), "subscriber", id, err);
    return rc < 0 ? rc : ck_reply(req, status, masked(j));
}

/* events as JSON text in *out (caller frees), when present. On create
 * (create set) they are required for webhooks, and email subscribers, which
 * send order confirmations and so take only OrderCreated, default to it. */
static int read_events(json_t *b, int email, int create, char **out, ck_error *err)
{
    json_t *arr = NULL, *v;
    int rc = ck_in_array(b, "events", create && !email, sizeof(event_types) / sizeof(event_types[0]) - 1, &arr, err);
    if (rc < 0 || (rc == 0 && !create))
        return rc;
    if (rc == 0) {
        json_t *def = json_pack("[s]", "OrderCreated");
        *out = ck_json_text(def);
        json_decref(def);
        return 0;
    }
    if (json_array_size(arr) == 0)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "events", "'events' must name at least one event type");
    size_t i, k;
    json_array_foreach(arr, i, v) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        int known = 0;
        for (k = 0; event_types[k]; k++)
            known |= strcmp(s, event_types[k]) == 0;
        if (!known || (email && strcmp(s, "OrderCreated") != 0))
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "events", "'events' must hold %s",
                           email ? "only OrderCreated for an email subscriber"
                                 : "OrderCreated, OrderReleased, CheckoutFailed, FulfillmentOrderCreated,"
                                   " OrderFulfilled, OrderCancelled or OrderReturned");
        for (k = 0; k < i; k++)
            if (json_equal(v, json_array_get(arr, k)))
                return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "events", "'events' names %s twice", s);
    }
    *out = ck_json_text(arr);
    return 1;
}

/* "from": one address, local@domain, with no spaces, controls or header syntax. */
static int read_from(json_t *b, const char **out, ck_error *err)
{
    int rc = ck_in_str(b, "from", CK_REQUIRED, ADDRESS_MAX, out, err);
    if (rc <= 0)
        return rc;
    const char *s = *out, *at = strchr(s, '@');
    int ok = at && at > s && at[1] && !strchr(at + 1, '@');
    for (const unsigned char *c = (const unsigned char *)s; ok && *c; c++)
        ok = *c > ' ' && *c != 0x7f && !strchr("<>()[],;:\\\"", *c);
    if (!ok)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "from",
                       "'from' must be one email address such as orders@example.com");
    return 1;
}

/* A field that belongs to the other kind of subscriber: 400 when present. */
static int refuse(json_t *b, const char *key, const char *kind, ck_error *err)
{
    json_t *v = json_object_get(b, key);
    if (!v || json_is_null(v))
        return 0;
    return ck_fail(err, CK_EINVALID, "INVALID_FIELD", key, "a %s subscriber takes no '%s'", kind, key);
}

static int create_subscriber(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"kind", "url", "secret", "smtpUrl", "from",
                                         "events", "maxAttempts", "backoffBaseMs", NULL};
    static const char *const kinds[] = {"webhook", "email", NULL};
    json_t *b = req->json;
    const char *kind = NULL, *url = NULL, *secret = NULL, *smtp_url = NULL, *from = NULL;
    int64_t max_attempts = 8, backoff = 1000;
    char *events = NULL, id[CK_ID_MAX];
    int rc;
    if ((rc = ck_in_only(b, fields, err)) < 0 ||
        (rc = ck_in_enum(b, "kind", CK_REQUIRED, kinds, &kind, err)) < 0)
        return rc;
    int email = strcmp(kind, "email") == 0;
    if (email) {
        if ((rc = refuse(b, "url", kind, err)) < 0 || (rc = refuse(b, "secret", kind, err)) < 0 ||
            (rc = ck_in_url(b, "smtpUrl", CK_REQUIRED, 1, &smtp_url, err)) < 0 ||
            (rc = read_from(b, &from, err)) < 0)
            return rc;
    } else {
        if ((rc = refuse(b, "smtpUrl", kind, err)) < 0 || (rc = refuse(b, "from", kind, err)) < 0 ||
            (rc = ck_in_url(b, "url", CK_REQUIRED, 0, &url, err)) < 0 ||
            (rc = ck_in_str(b, "secret", CK_REQUIRED, SECRET_MAX, &secret, err)) < 0)
            return rc;
    }
    if ((rc = read_events(b, email, 1, &events, err)) < 0 ||
        (rc = ck_in_int(b, "maxAttempts", CK_OPTIONAL, 1, 50, &max_attempts, err)) < 0 ||
        (rc = ck_in_int(b, "backoffBaseMs", CK_OPTIONAL, 1, 3600000, &backoff, err)) < 0)
        goto done;
    if (!events) {
        rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
        goto done;
    }
    ck_subscriber_fields f = {kind, url, secret, smtp_url, from, events, max_attempts, backoff};
    if ((rc = ck_subscribers_insert(req->db, &f, id, err)) == 0)
        rc = reply_subscriber(req, 201, id, err);
done:
    free(events);
    return rc;
}

static int get_subscriber(ck_req *req, ck_error *err)
{
    return reply_subscriber(req, 200, req->params[0], err);
}

/* GET /v1/subscribers: every subscriber not deleted, oldest first. */
static int list_subscribers(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after;
    char last[CK_ID_MAX];
    json_t *items = NULL, *j;
    size_t i;
    int rc;
    if ((rc = ck_page_params(req, "sub", &limit, &after, err)) < 0 ||
        (rc = ck_subscribers_list(req->db, after, limit, &items, last, err)) < 0)
        return rc;
    json_array_foreach(items, i, j)
        masked(j);
    return ck_reply(req, 200, ck_page(items, limit, last));
}

/* A URL field of a PATCH (the kind's own): absent leaves *out NULL. The URL
 * exactly as GET shows it (a password masked as ****) keeps the stored one,
 * so sending a fetched subscriber back does not overwrite the password. */
static int read_patch_url(json_t *b, const char *key, int smtp, const char *stored, const char **out, ck_error *err)
{
    int rc = ck_in_str(b, key, CK_OPTIONAL, CK_URL_MAX, out, err);
    if (rc <= 0)
        return rc;
    json_t *shown = stored ? shown_url(stored) : NULL;
    int same = shown && strcmp(json_string_value(shown), *out) == 0;
    json_decref(shown);
    if (same) {
        *out = NULL;
        return 0;
    }
    return ck_in_url(b, key, CK_OPTIONAL, smtp, out, err);
}

/* PATCH /v1/subscribers/{id}: any field of its kind (url and secret for a
 * webhook; smtpUrl and from for email; events, maxAttempts, backoffBaseMs).
 * kind may be sent but not changed. A change applies to the next attempt
 * of every pending delivery (the dispatcher reads the subscriber when it
 * claims one) and to the events fanned out from now on. An empty body
 * changes nothing and returns the subscriber. */
static int patch_subscriber(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"kind", "url", "secret", "smtpUrl", "from",
                                         "events", "maxAttempts", "backoffBaseMs", NULL};
    json_t *b = req->json;
    const char *id = req->params[0], *url = NULL, *secret = NULL, *smtp_url = NULL, *from = NULL, *kind = NULL;
    char stored_kind[16], *stored_url = NULL, *events = NULL;
    int64_t max_attempts = 0, backoff = 0;
    int rc;
    if ((rc = ck_in_only(b, fields, err)) < 0)
        return rc;
    if ((rc = ck_or_404(ck_subscribers_kind_url(req->db, id, stored_kind, &stored_url, err), "subscriber", id,
                        err)) < 0)
        return rc;
    int email = strcmp(stored_kind, "email") == 0;
    if ((rc = ck_in_str(b, "kind", CK_OPTIONAL, 16, &kind, err)) < 0)
        goto done;
    if (kind && strcmp(kind, stored_kind) != 0) {
        rc = ck_fail(err, CK_EINVALID, "INVALID_FIELD", "kind",
                     "a subscriber's kind cannot change: delete it and create a %s subscriber", kind);
        goto done;
    }
    if (email) {
        if ((rc = refuse(b, "url", stored_kind, err)) < 0 || (rc = refuse(b, "secret", stored_kind, err)) < 0 ||
            (rc = read_patch_url(b, "smtpUrl", 1, stored_url, &smtp_url, err)) < 0 ||
            (json_object_get(b, "from") && !json_is_null(json_object_get(b, "from")) &&
             (rc = read_from(b, &from, err)) < 0))
            goto done;
    } else {
        if ((rc = refuse(b, "smtpUrl", stored_kind, err)) < 0 || (rc = refuse(b, "from", stored_kind, err)) < 0 ||
            (rc = read_patch_url(b, "url", 0, stored_url, &url, err)) < 0 ||
            (rc = ck_in_str(b, "secret", CK_OPTIONAL, SECRET_MAX, &secret, err)) < 0)
            goto done;
    }
    if ((rc = read_events(b, email, 0, &events, err)) < 0 ||
        (rc = ck_in_int(b, "maxAttempts", CK_OPTIONAL, 1, 50, &max_attempts, err)) < 0 ||
        (rc = ck_in_int(b, "backoffBaseMs", CK_OPTIONAL, 1, 3600000, &backoff, err)) < 0)
        goto done;
    if (url || secret || smtp_url || from || events || max_attempts || backoff) {
        ck_subscriber_fields f = {NULL, url, secret, smtp_url, from, events, max_attempts, backoff};
        rc = ck_subscribers_update(req->db, id, &f, err);
    }
    if (rc >= 0)
        rc = reply_subscriber(req, 200, id, err);
done:
    free(stored_url);
    free(events);
    return rc;
}

/* DELETE /v1/subscribers/{id}: 204. In this one commit the subscriber stops
 * for good: it subscribes to nothing (so fan-out skips it), its secret and
 * URLs are forgotten, and every delivery of it not yet delivered (Pending,
 * including one being attempted right now, or Dead) becomes Cancelled: never
 * attempted again, not a dead letter, not replayable. Delivered ones keep
 * their history. Deleting it again is 404. */
static int delete_subscriber(ck_req *req, ck_error *err)
{
    const char *id = req->params[0];
    int64_t now = ck_now_ms();
    int rc = ck_or_404(ck_subscribers_delete(req->db, id, now, err), "subscriber", id, err);
    /* Clearing the lease makes an attempt in flight unable to record its
     * outcome (that update needs its lease), so Cancelled stands. */
    if (rc < 0 || (rc = ck_deliveries_cancel_for_subscriber(req->db, id, now, err)) < 0)
        return rc;
    return ck_reply(req, 204, NULL);
}

const ck_route ck_routes_subscribers[] = {
    {"POST", "/v1/subscribers", create_subscriber, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"GET", "/v1/subscribers", list_subscribers, 0, CK_PERM_ADMIN},
    {"GET", "/v1/subscribers/{id}", get_subscriber, 0, CK_PERM_ADMIN},
    {"PATCH", "/v1/subscribers/{id}", patch_subscriber, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"DELETE", "/v1/subscribers/{id}", delete_subscriber, CK_ROUTE_TX, CK_PERM_ADMIN},
    {0},
};
