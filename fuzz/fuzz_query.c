/* fuzz_query.c: the query strings of the list routes (limit, pageToken,
 * and each list's filters: storeId, accountId, status, state, kind, ...).
 * The first byte picks the route (its low 6 bits, modulo the table below;
 * bit 6: the buyer's key instead of the admin's); the rest is the query,
 * with each $name of the harness's shop (http_harness.h) put in place, and
 * then the bytes a request line cannot hold (controls, space, '#', bytes
 * past ASCII) percent-encoded; '%' is kept, so %00 and bad escapes reach
 * the server. Sent as a GET through the real server in process. Besides
 * fz_send's promises: one answer, ours, never a 5xx; a list's 200 is
 * {"items":[at most 500],"nextPageToken":null|string}; a nextPageToken
 * given is taken back (the same query led by pageToken=<it> is a 200). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    const char *path;
    int list;
} routes[] = {
    {"/v1/stores", 1},
    {"/v1/accounts", 1},
    {"/v1/users", 1},
    {"/v1/subscribers", 1},
    {"/v1/stores/$store/products", 1},
    {"/v1/stores/$store/carts", 1},
    {"/v1/contracts", 1},
    {"/v1/checkouts", 1},
    {"/v1/authorizations", 1},
    {"/v1/orders", 1},
    {"/v1/fulfillment-orders", 1},
    {"/v1/admin/sessions", 1},
    {"/v1/admin/dead-letters", 1},
    {"/v1/admin/deliveries", 1},
    {"/v1/admin/alerts", 1},
    {"/v1/flows", 1},
    {"/v1/accounts/$account/ledger", 1},
    {"/v1/carts/$cart/validation-outputs", 1},
    {"/v1/stores/$store/shipping-methods", 1},
    {"/v1/admin/overview", 0},
    {"/v1/actions/standard", 0},
    {"/services/data/v58.0/actions/standard", 0},
    {"/v1/flows/$flow", 0},
    {"/v1/carts/$cart", 0},
    {"/v1/checkouts/$checkout", 0},
    {"/healthz", 0},
    {"/metrics", 0},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* path?query with what a request line cannot carry percent-encoded. */
static char *target(const char *path, const char *query, size_t qlen)
{
    size_t n = strlen(path);
    char *t = malloc(n + 2 + 3 * qlen);
    if (!t)
        fz_fail("out of memory");
    memcpy(t, path, n);
    t[n++] = '?';
    for (size_t i = 0; i < qlen; i++) {
        unsigned char c = (unsigned char)query[i];
        if (c <= 0x20 || c >= 0x7f || c == '#')
            n += (size_t)sprintf(t + n, "%%%02X", c);
        else
            t[n++] = (char)c;
    }
    t[n] = '\0';
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    fz_setup();
    size_t r = (data[0] & 0x3f) % NROUTES;
    int buyer = data[0] & 0x40;
    size_t plen, qlen;
    char *path = fz_subst(routes[r].path, strlen(routes[r].path), &plen);
    char *query = fz_subst((const char *)data + 1, size - 1, &qlen);
    char *t = target(path, query, qlen);
    const char *key = buyer ? fz_id("buyerkey") : FZ_ADMIN_KEY;
    fz_exchange x;
    fz_request("GET", t, key, NULL, NULL, 0, &x);
    fz_say("GET %s%s: %d %s", t, buyer ? " (buyer)" : "", x.first.status, x.first.reason ? x.first.reason : "");
    if (!x.first.ours)
        fz_fail("GET %s: libmicrohttpd answered %d", t, x.first.status);
    if (x.first.status >= 500 || (x.first.status >= 300 && x.first.status < 400))
        fz_fail("GET %s: %d", t, x.first.status);
    if (routes[r].list && x.first.status == 200) {
        json_t *items = json_object_get(x.first.json, "items");
        json_t *next = json_object_get(x.first.json, "nextPageToken");
        if (!json_is_array(items) || json_array_size(items) > 500 || !(json_is_null(next) || json_is_string(next)))
            fz_fail("GET %s: a 200 that is not a page of at most 500 items", t);
        if (json_is_string(next)) {
            size_t tl = strlen(json_string_value(next));
            char *q2 = malloc(tl + qlen + 12);
            if (!q2)
                fz_fail("out of memory");
            size_t n = (size_t)sprintf(q2, "pageToken=%s&", json_string_value(next));
            memcpy(q2 + n, query, qlen);
            char *t2 = target(path, q2, n + qlen);
            fz_exchange y;
            fz_request("GET", t2, key, NULL, NULL, 0, &y);
            if (y.first.status != 200)
                fz_fail("GET %s: %d %s for the nextPageToken of GET %s", t2, y.first.status,
                        y.first.reason ? y.first.reason : "", t);
            fz_exchange_free(&y);
            free(t2);
            free(q2);
        }
    }
    fz_exchange_free(&x);
    free(t);
    free(path);
    free(query);
    return 0;
}
