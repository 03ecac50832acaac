/* fuzz_body.c: every route's request body. The first byte picks the route
 * (its low 6 bits, modulo the table below) and how it is called (bit 6: with
 * the buyer's key instead of the admin's; bit 7: with an Idempotency-Key,
 * and then sent twice); the rest is the body, with each $name of the
 * harness's shop (http_harness.h: $store, $account, $product, $cart, ...)
 * put in place first so bodies can name what exists. The request goes
 * through the real server in process (http_harness.c). Besides fz_send's
 * promises: one answer, ours (libmicrohttpd refuses nothing of it), 2xx or
 * 4xx (a 5xx only where API.md names one), JSON unless 204, errors in the
 * envelope; with an Idempotency-Key the second call answers as the first.
 * The shop's rows change as inputs run (a fuzzed PATCH stays), so a crash
 * may need the inputs before it: rerun the corpus with it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    const char *method, *path;
} routes[] = {
    {"POST", "/v1/stores"},
    {"PATCH", "/v1/stores/$store"},
    {"PUT", "/v1/stores/$store/gateway"},
    {"POST", "/v1/accounts"},
    {"PATCH", "/v1/accounts/$account"},
    {"POST", "/v1/accounts/$account/adjustments"},
    {"POST", "/v1/stores/$store/members"},
    {"POST", "/v1/users"},
    {"PATCH", "/v1/users/$user"},
    {"POST", "/v1/users/$user2/keys"},
    {"POST", "/v1/users/$user/accounts"},
    {"POST", "/v1/stores/$store/products"},
    {"PATCH", "/v1/products/$product"},
    {"POST", "/v1/stores/$store/shipping-methods"},
    {"POST", "/v1/stores/$store/tax-rates"},
    {"POST", "/v1/stores/$store/promotions"},
    {"POST", "/v1/contracts"},
    {"POST", "/v1/subscribers"},
    {"PATCH", "/v1/subscribers/$subscriber"},
    {"POST", "/v1/stores/$store/carts"},
    {"POST", "/v1/carts/$cart/items"},
    {"PATCH", "/v1/carts/$cart/items/$item"},
    {"POST", "/v1/carts/$cart/validation-outputs"},
    {"POST", "/v1/checkouts"},
    {"PATCH", "/v1/checkouts/$checkout"},
    {"POST", "/v1/checkouts/$checkout/place-order"},
    {"PUT", "/v1/flows/$flow"},
    {"POST", "/v1/flows/$flow/clone"},
    {"POST", "/v1/actions/standard/checkoutSessionAction"},
    {"POST", "/v1/actions/standard/setCheckoutDeliveryMethod"},
    {"POST", "/v1/actions/standard/updateCheckoutSessionStateAction"},
    {"POST", "/v1/actions/standard/priceCart"},
    {"POST", "/v1/actions/standard/authorizePaymentAction"},
    {"POST", "/v1/actions/standard/cartToOrderAction"},
    {"POST", "/services/data/v58.0/actions/standard/calcCartTaxesAction"},
    {"POST", "/v1/fulfillment-orders/$fo/fulfill"},
    {"POST", "/v1/orders/$order/returns"},
    {"POST", "/v1/actions/standard/activateOrderAction"},
    {"POST", "/v1/actions/standard/cancelCartAsyncOperation"},
    {"POST", "/v1/flows/$flow/activate"},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* FNV-1a: the Idempotency-Key of a body. */
static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    fz_setup();
    size_t r = (data[0] & 0x3f) % NROUTES;
    int buyer = data[0] & 0x40, idem = data[0] & 0x80;
    size_t plen, blen;
    char *path = fz_subst(routes[r].path, strlen(routes[r].path), &plen);
    char *body = fz_subst((const char *)data + 1, size - 1, &blen);
    char headers[200] = "Content-Type: application/json\r\n";
    if (idem)
        snprintf(headers + strlen(headers), sizeof(headers) - strlen(headers), "Idempotency-Key: fz-%d-%016llx\r\n",
                 buyer ? 1 : 0, (unsigned long long)fnv(body, blen));
    const char *key = buyer ? fz_id("buyerkey") : FZ_ADMIN_KEY;
    fz_exchange x;
    fz_request(routes[r].method, path, key, headers, body, blen, &x);
    fz_say("%s %s%s%s: %d %s", routes[r].method, path, buyer ? " (buyer)" : "", idem ? " (keyed)" : "",
           x.first.status, x.first.reason ? x.first.reason : "");
    if (!x.first.ours)
        fz_fail("%s %s: libmicrohttpd answered %d to a well-formed request", routes[r].method, path, x.first.status);
    if (x.first.status >= 300 && x.first.status < 400)
        fz_fail("%s %s: %d", routes[r].method, path, x.first.status);
    if (idem && strcmp(routes[r].method, "POST") == 0 && x.first.status != 401 && x.first.status != 403) {
        fz_exchange again;
        fz_request(routes[r].method, path, key, headers, body, blen, &again);
        if (again.first.status != x.first.status)
            fz_fail("%s %s with an Idempotency-Key: %d, then %d", routes[r].method, path, x.first.status,
                    again.first.status);
        fz_exchange_free(&again);
    }
    fz_exchange_free(&x);
    free(path);
    free(body);
    return 0;
}
