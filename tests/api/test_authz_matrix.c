/* test_authz_matrix.c: who may do what (issue 17), as one table. Every
 * route the daemon serves (checked against its route tables), for every
 * principal (no key, a bad key, a replaced key, a disabled admin, buyer A,
 * buyer B, integrator, approver, fulfillment, admin) and, where the route
 * takes an object, for buyer A's and buyer B's object: the outcome API.md
 * gives. One daemon walks the whole table; a refusal must carry its status
 * and reason and leave the store as it was; an allowed call must get past
 * authorization (a 400 of a deliberately minimal body is fine) and must not
 * show a buyer the other account's objects.
 *
 * The table is also docs/authorization.md: `test_authz_matrix --markdown`
 * prints it, and the test fails when the file differs. CKT_AUTHZ_VERBOSE=1
 * prints every cell's answer. */
#include "api/fake_webhook.h"
#include "api/fixtures.h"
#include "api/place_fx.h"
#include "api/routes.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The principals: the columns of the table, in this order. Besides the
 * permissions of API.md, two keys that must stop working (API.md, "Users and
 * keys"): an admin's previous key after a rotation without grace, and the
 * key of a disabled admin. The approver is given buyer A's account (so
 * buyer A's objects are its own too). */
enum {
    P_NONE,
    P_BAD,
    P_REPLACED,
    P_DISABLED,
    P_BUYER_A,
    P_BUYER_B,
    P_INTEGRATOR,
    P_APPROVER,
    P_FULFILLMENT,
    P_ADMIN,
    NPRINC
};
static const char *const principal_names[NPRINC] = {
    "no key",  "bad key",    "replaced admin key", "disabled admin", "buyer A", "buyer B",
    "integrator", "approver", "fulfillment",       "admin",
};

/* The outcome of a cell, one character:
 *   a  passes auth (any answer but a refusal; a 400 of the minimal body is fine)
 *   U  401 UNAUTHORIZED (reason UNAUTHORIZED; carries WWW-Authenticate: Bearer)
 *   D  401 UNAUTHORIZED, reason USER_DISABLED (the key of a disabled user)
 *   F  403 FORBIDDEN (reason FORBIDDEN)
 *   N  404 NOT_FOUND (reason NOT_FOUND): the object is not the caller's to see
 *   C  400 CANNOT_INVOKE_ACTION (checkout operations: no buyer, integrator or admin)
 *   X  400 NO_ACCESS_TO_EFFECTIVE_ACCOUNT (checkout operations: a buyer not given the cart's account) */
typedef struct outcome {
    char code;
    long status;
    const char *error_code, *reason, *text;
} outcome;
static const outcome outcomes[] = {
    {'a', 0, NULL, NULL, "passes auth"},
    {'U', 401, "UNAUTHORIZED", "UNAUTHORIZED", "401"},
    {'D', 401, "UNAUTHORIZED", "USER_DISABLED", "401 USER_DISABLED"},
    {'F', 403, "FORBIDDEN", "FORBIDDEN", "403"},
    {'N', 404, "NOT_FOUND", "NOT_FOUND", "404"},
    {'C', 400, "BAD_REQUEST", "CANNOT_INVOKE_ACTION", "400 CANNOT_INVOKE_ACTION"},
    {'X', 400, "BAD_REQUEST", "NO_ACCESS_TO_EFFECTIVE_ACCOUNT", "400 NO_ACCESS_TO_EFFECTIVE_ACCOUNT"},
};

/* Cell strings for the common shapes. */
#define OPEN "aaaaaaaaaa"     /* no key needed */
#define ANY_KEY "UUUDaaaaaa"  /* any working key */
#define ADMIN "UUUDFFFFFa"    /* permission admin */
#define FULFIL "UUUDFFFFaa"   /* fulfillment or admin */
#define CART_A "UUUDaNaFFa"   /* buyer, integrator or admin; buyer A's object */
#define CART_B "UUUDNaaFFa"   /* ... buyer B's object */
#define CART_ANY "UUUDaaaFFa" /* ... no object (a buyer sees its own) */
#define ACTION_A "UUUDaXaCCa" /* checkout operation on buyer A's cart or session */
#define ACTION_B "UUUDXaaCCa" /* ... on buyer B's */
#define ORDER_A "UUUDaNaaaa"  /* orders: the approver is given account A */
#define ORDER_B "UUUDNaaNaa"

/* What is made afresh before each cell of a row (a route that deletes it). */
enum { FRESH_NONE, FRESH_ITEM_A, FRESH_ITEM_B, FRESH_MEMBER, FRESH_SUBSCRIBER };

/* One row: a route (method + the template the daemon's table spells), whose
 * object (A, B or '-'), the request sent ($name: a fixture id, see vars),
 * one outcome per principal, and how a refusal is shown to have changed nothing: the
 * admin's GET of probe must answer the same body before and after (besides
 * the store-wide fingerprint of every writing call). reopen: after the row,
 * the carts' sessions are opened again (the row may abandon them). */
typedef struct row {
    const char *method, *route;
    char owner;
    const char *path, *body, *cells, *probe;
    int fresh, reopen;
    const char *note;
} row;

#define R(m, route, owner, path, body, cells, probe, note) {m, route, owner, path, body, cells, probe, 0, 0, note}
#define ACT(name, body_a, body_b)                                                                                 \
    {"POST", "/v1/actions/standard/{name}", 'A', "/v1/actions/standard/" name, body_a, ACTION_A,                 \
     "/v1/checkouts/$sessA", 0, 1, NULL},                                                                         \
    {"POST", "/v1/actions/standard/{name}", 'B', "/v1/actions/standard/" name, body_b, ACTION_B,                 \
     "/v1/checkouts/$sessB", 0, 1, NULL},                                                                         \
    {"POST", "/services/data/{version}/actions/standard/{name}", 'A', "/services/data/v60.0/actions/standard/" name, \
     body_a, ACTION_A, "/v1/checkouts/$sessA", 0, 1, NULL},                                                       \
    {"POST", "/services/data/{version}/actions/standard/{name}", 'B', "/services/data/v60.0/actions/standard/" name, \
     body_b, ACTION_B, "/v1/checkouts/$sessB", 0, 1, NULL}
#define CART_INPUT(c) "{\"inputs\":[{\"cartId\":\"$" c "\"}]}"

static const row table[] = {
    /* Without a key. */
    R("GET", "/healthz", '-', "/healthz", NULL, OPEN, NULL, NULL),
    R("GET", "/metrics", '-', "/metrics", NULL, OPEN, NULL, NULL),
    R("GET", "/favicon.ico", '-', "/favicon.ico", NULL, OPEN, NULL, "not in API.md (204)"),
    R("GET", "/admin", '-', "/admin", NULL, OPEN, NULL, "the dashboard page; it signs in with a key"),
    R("GET", "/admin/{*path}", '-', "/admin/holds", NULL, OPEN, NULL, "falls back to the page"),

    /* Setup resources (permission admin). */
    R("POST", "/v1/stores", '-', "/v1/stores", "{}", ADMIN, NULL, "body {}"),
    R("GET", "/v1/stores", '-', "/v1/stores", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/stores/{id}", '-', "/v1/stores/$store", NULL, ADMIN, NULL, NULL),
    R("PATCH", "/v1/stores/{id}", '-', "/v1/stores/$store", "{}", ADMIN, "/v1/stores/$store", "body {}"),
    R("PUT", "/v1/stores/{id}/gateway", '-', "/v1/stores/$store/gateway", "{}", ADMIN, "/v1/stores/$store",
      "body {}"),
    R("POST", "/v1/accounts", '-', "/v1/accounts", "{}", ADMIN, NULL, "body {}"),
    R("GET", "/v1/accounts", '-', "/v1/accounts", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/accounts/{id}", 'A', "/v1/accounts/$acctA", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/accounts/{id}", 'B', "/v1/accounts/$acctB", NULL, ADMIN, NULL, NULL),
    R("PATCH", "/v1/accounts/{id}", 'A', "/v1/accounts/$acctA", "{}", ADMIN, "/v1/accounts/$acctA", "body {}"),
    R("PATCH", "/v1/accounts/{id}", 'B', "/v1/accounts/$acctB", "{}", ADMIN, "/v1/accounts/$acctB", "body {}"),
    R("GET", "/v1/accounts/{id}/ledger", 'A', "/v1/accounts/$acctA/ledger", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/accounts/{id}/ledger", 'B', "/v1/accounts/$acctB/ledger", NULL, ADMIN, NULL, NULL),
    R("POST", "/v1/accounts/{id}/adjustments", 'A', "/v1/accounts/$acctA/adjustments", "{}", ADMIN,
      "/v1/accounts/$acctA", "body {}"),
    R("POST", "/v1/accounts/{id}/adjustments", 'B', "/v1/accounts/$acctB/adjustments", "{}", ADMIN,
      "/v1/accounts/$acctB", "body {}"),
    R("POST", "/v1/stores/{id}/members", '-', "/v1/stores/$store/members", "{}", ADMIN, NULL, "body {}"),
    {"DELETE", "/v1/stores/{id}/members/{accountId}", '-', "/v1/stores/$store/members/$fresh", NULL, ADMIN, NULL,
     FRESH_MEMBER, 0, "a fresh member account per cell"},
    R("POST", "/v1/users", '-', "/v1/users", "{}", ADMIN, NULL, "body {}"),
    R("GET", "/v1/users", '-', "/v1/users", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/users/{id}", '-', "/v1/users/$victim", NULL, ADMIN, NULL, NULL),
    R("PATCH", "/v1/users/{id}", '-', "/v1/users/$victim", "{}", ADMIN, "/v1/users/$victim", "body {}"),
    R("POST", "/v1/users/{id}/keys", '-', "/v1/users/$victim/keys", NULL, ADMIN, "/v1/users/$victim",
      "a user of its own"),
    R("POST", "/v1/users/{id}/accounts", '-', "/v1/users/$victim/accounts", "{}", ADMIN, NULL, "body {}"),
    R("POST", "/v1/stores/{id}/products", '-', "/v1/stores/$store/products", "{}", ADMIN, NULL, "body {}"),
    R("GET", "/v1/stores/{id}/products", '-', "/v1/stores/$store/products", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/products/{id}", '-', "/v1/products/$prod", NULL, ADMIN, NULL, NULL),
    R("PATCH", "/v1/products/{id}", '-', "/v1/products/$prod", "{}", ADMIN, "/v1/products/$prod", "body {}"),
    R("POST", "/v1/stores/{id}/shipping-methods", '-', "/v1/stores/$store/shipping-methods", "{}", ADMIN, NULL,
      "body {}"),
    R("GET", "/v1/stores/{id}/shipping-methods", '-', "/v1/stores/$store/shipping-methods", NULL, ANY_KEY, NULL,
      "not in API.md"),
    R("POST", "/v1/stores/{id}/tax-rates", '-', "/v1/stores/$store/tax-rates", "{}", ADMIN, NULL, "body {}"),
    R("POST", "/v1/stores/{id}/promotions", '-', "/v1/stores/$store/promotions", "{}", ADMIN, NULL, "body {}"),
    R("POST", "/v1/contracts", '-', "/v1/contracts", "{}", ADMIN, NULL, "body {}"),
    R("GET", "/v1/contracts", '-', "/v1/contracts", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/contracts", 'A', "/v1/contracts?accountId=$acctA", NULL, ADMIN, NULL, "?accountId="),
    R("GET", "/v1/contracts/{id}", 'A', "/v1/contracts/$contractA", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/contracts/{id}", 'B', "/v1/contracts/$contractB", NULL, ADMIN, NULL, NULL),
    R("POST", "/v1/subscribers", '-', "/v1/subscribers", "{}", ADMIN, NULL, "body {}"),
    R("GET", "/v1/subscribers", '-', "/v1/subscribers", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/subscribers/{id}", '-', "/v1/subscribers/$sub", NULL, ADMIN, NULL, NULL),
    R("PATCH", "/v1/subscribers/{id}", '-', "/v1/subscribers/$sub", "{}", ADMIN, "/v1/subscribers/$sub",
      "body {}"),
    {"DELETE", "/v1/subscribers/{id}", '-', "/v1/subscribers/$fresh", NULL, ADMIN, NULL, FRESH_SUBSCRIBER, 0,
     "a fresh subscriber per cell"},

    /* Carts. */
    R("POST", "/v1/stores/{id}/carts", 'A', "/v1/stores/$store/carts", "{\"accountId\":\"$acctA\"}", "UUUDaFaFFa",
      NULL, "for account A: 403 to a buyer not given it"),
    R("POST", "/v1/stores/{id}/carts", 'B', "/v1/stores/$store/carts", "{\"accountId\":\"$acctB\"}", "UUUDFaaFFa",
      NULL, "for account B"),
    R("GET", "/v1/stores/{id}/carts", '-', "/v1/stores/$store/carts", NULL, CART_ANY, NULL, NULL),
    R("GET", "/v1/stores/{id}/carts", 'A', "/v1/stores/$store/carts?accountId=$acctA", NULL, CART_A, NULL,
      "?accountId="),
    R("GET", "/v1/stores/{id}/carts", 'B', "/v1/stores/$store/carts?accountId=$acctB", NULL, CART_B, NULL,
      "?accountId="),
    R("GET", "/v1/carts/{id}", 'A', "/v1/carts/$cartA", NULL, CART_A, NULL, NULL),
    R("GET", "/v1/carts/{id}", 'B', "/v1/carts/$cartB", NULL, CART_B, NULL, NULL),
    R("POST", "/v1/carts/{id}/items", 'A', "/v1/carts/$cartA/items", "{}", CART_A, "/v1/carts/$cartA", "body {}"),
    R("POST", "/v1/carts/{id}/items", 'B', "/v1/carts/$cartB/items", "{}", CART_B, "/v1/carts/$cartB", "body {}"),
    R("PATCH", "/v1/carts/{id}/items/{itemId}", 'A', "/v1/carts/$cartA/items/$itemA", "{}", CART_A,
      "/v1/carts/$cartA", "body {}"),
    R("PATCH", "/v1/carts/{id}/items/{itemId}", 'B', "/v1/carts/$cartB/items/$itemB", "{}", CART_B,
      "/v1/carts/$cartB", "body {}"),
    {"DELETE", "/v1/carts/{id}/items/{itemId}", 'A', "/v1/carts/$cartA/items/$fresh", NULL, CART_A,
     "/v1/carts/$cartA", FRESH_ITEM_A, 0, "a fresh item per cell"},
    {"DELETE", "/v1/carts/{id}/items/{itemId}", 'B', "/v1/carts/$cartB/items/$fresh", NULL, CART_B,
     "/v1/carts/$cartB", FRESH_ITEM_B, 0, "a fresh item per cell"},
    R("GET", "/v1/carts/{id}/validation-outputs", 'A', "/v1/carts/$cartA/validation-outputs", NULL, CART_A, NULL,
      NULL),
    R("GET", "/v1/carts/{id}/validation-outputs", 'B', "/v1/carts/$cartB/validation-outputs", NULL, CART_B, NULL,
      NULL),
    R("POST", "/v1/carts/{id}/validation-outputs", 'A', "/v1/carts/$cartA/validation-outputs", "{}", "UUUDFFaFFa",
      "/v1/carts/$cartA/validation-outputs", "integrator, admin; body {}"),
    R("POST", "/v1/carts/{id}/validation-outputs", 'B', "/v1/carts/$cartB/validation-outputs", "{}", "UUUDFFaFFa",
      "/v1/carts/$cartB/validation-outputs", "integrator, admin; body {}"),

    /* The checkout session and the transaction. */
    R("POST", "/v1/checkouts", 'A', "/v1/checkouts", "{\"cartId\":\"$ccartA\"}", ACTION_A, "/v1/checkouts/$sessA",
      "the session action's table"),
    R("POST", "/v1/checkouts", 'B', "/v1/checkouts", "{\"cartId\":\"$ccartB\"}", ACTION_B, "/v1/checkouts/$sessB",
      "the session action's table"),
    R("GET", "/v1/checkouts", '-', "/v1/checkouts", NULL, CART_ANY, NULL, NULL),
    R("GET", "/v1/checkouts", 'A', "/v1/checkouts?accountId=$acctA", NULL, CART_A, NULL, "?accountId="),
    R("GET", "/v1/checkouts", 'B', "/v1/checkouts?accountId=$acctB", NULL, CART_B, NULL, "?accountId="),
    R("GET", "/v1/checkouts/{id}", 'A', "/v1/checkouts/$sessA", NULL, CART_A, NULL, NULL),
    R("GET", "/v1/checkouts/{id}", 'B', "/v1/checkouts/$sessB", NULL, CART_B, NULL, NULL),
    R("PATCH", "/v1/checkouts/{id}", 'A', "/v1/checkouts/$sessA", "{}", ACTION_A, "/v1/checkouts/$sessA",
      "a session update: the session action's table; body {}"),
    R("PATCH", "/v1/checkouts/{id}", 'B', "/v1/checkouts/$sessB", "{}", ACTION_B, "/v1/checkouts/$sessB",
      "a session update: the session action's table; body {}"),
    {"DELETE", "/v1/checkouts/{id}", 'A', "/v1/checkouts/$sessA", NULL, CART_A, "/v1/checkouts/$sessA", 0, 1,
     "abandons; opened again after the row"},
    {"DELETE", "/v1/checkouts/{id}", 'B', "/v1/checkouts/$sessB", NULL, CART_B, "/v1/checkouts/$sessB", 0, 1,
     "abandons; opened again after the row"},
    R("POST", "/v1/checkouts/{id}/place-order", 'A', "/v1/checkouts/$sessA/place-order", NULL, ACTION_A,
      "/v1/checkouts/$sessA", "the session action's table; no inputs: the flow stops at a step"),
    R("POST", "/v1/checkouts/{id}/place-order", 'B', "/v1/checkouts/$sessB/place-order", NULL, ACTION_B,
      "/v1/checkouts/$sessB", "the session action's table; no inputs: the flow stops at a step"),
    R("GET", "/v1/requests/{id}", 'A', "/v1/requests/$reqA", NULL, "UUUDaNNNNa", NULL,
      "made by buyer A: visible to it and to admins"),
    R("GET", "/v1/requests/{id}", 'B', "/v1/requests/$reqB", NULL, "UUUDNaNNNa", NULL,
      "made by buyer B: visible to it and to admins"),

    /* Orders and payments. */
    R("GET", "/v1/orders", '-', "/v1/orders", NULL, ANY_KEY, NULL, "without accountId: 400"),
    R("GET", "/v1/orders", 'A', "/v1/orders?accountId=$acctA", NULL, ORDER_A, NULL, "?accountId="),
    R("GET", "/v1/orders", 'B', "/v1/orders?accountId=$acctB", NULL, ORDER_B, NULL, "?accountId="),
    R("GET", "/v1/orders/{id}", 'A', "/v1/orders/$orderA", NULL, ORDER_A, NULL, NULL),
    R("GET", "/v1/orders/{id}", 'B', "/v1/orders/$orderB", NULL, ORDER_B, NULL, NULL),
    R("POST", "/v1/orders/{id}/approve", 'A', "/v1/orders/$ntA/approve", NULL, "UUUDFFFaFa", "/v1/orders/$ntA",
      "a net-terms order; approver given account A"),
    R("POST", "/v1/orders/{id}/approve", 'B', "/v1/orders/$ntB/approve", NULL, "UUUDFFFNFa", "/v1/orders/$ntB",
      "a net-terms order of an account not given to the approver"),
    R("POST", "/v1/orders/{id}/capture", 'A', "/v1/orders/$orderA/capture", "{\"amount\":\"x\"}", FULFIL,
      "/v1/orders/$orderA", "ill-typed amount"),
    R("POST", "/v1/orders/{id}/capture", 'B', "/v1/orders/$orderB/capture", "{\"amount\":\"x\"}", FULFIL,
      "/v1/orders/$orderB", "ill-typed amount"),
    R("POST", "/v1/orders/{id}/cancel", 'A', "/v1/orders/$orderA/cancel", "{\"items\":\"x\"}", ADMIN,
      "/v1/orders/$orderA", "ill-typed items"),
    R("POST", "/v1/orders/{id}/cancel", 'B', "/v1/orders/$orderB/cancel", "{\"items\":\"x\"}", ADMIN,
      "/v1/orders/$orderB", "ill-typed items"),
    R("POST", "/v1/orders/{id}/returns", 'A', "/v1/orders/$orderA/returns", "{}", ADMIN, "/v1/orders/$orderA",
      "body {}"),
    R("POST", "/v1/orders/{id}/returns", 'B', "/v1/orders/$orderB/returns", "{}", ADMIN, "/v1/orders/$orderB",
      "body {}"),
    R("GET", "/v1/authorizations", '-', "/v1/authorizations", NULL, ANY_KEY, NULL,
      "each sees the holds of the orders it may see"),
    R("POST", "/v1/authorizations/{id}/void", 'A', "/v1/authorizations/$paA/void", NULL, ADMIN,
      "/v1/orders/$orderA", "backs an order: 409 for the admin"),
    R("POST", "/v1/authorizations/{id}/void", 'B', "/v1/authorizations/$paB/void", NULL, ADMIN,
      "/v1/orders/$orderB", "backs an order: 409 for the admin"),
    R("GET", "/v1/fulfillment-orders", '-', "/v1/fulfillment-orders", NULL, FULFIL, NULL, NULL),
    R("GET", "/v1/fulfillment-orders/{id}", 'A', "/v1/fulfillment-orders/$foA", NULL, FULFIL, NULL, NULL),
    R("GET", "/v1/fulfillment-orders/{id}", 'B', "/v1/fulfillment-orders/$foB", NULL, FULFIL, NULL, NULL),
    R("POST", "/v1/fulfillment-orders/{id}/fulfill", 'A', "/v1/fulfillment-orders/$foA/fulfill", "{}", FULFIL,
      "/v1/fulfillment-orders/$foA", "body {}"),
    R("POST", "/v1/fulfillment-orders/{id}/fulfill", 'B', "/v1/fulfillment-orders/$foB/fulfill", "{}", FULFIL,
      "/v1/fulfillment-orders/$foB", "body {}"),

    /* Flows. */
    R("GET", "/v1/flows", '-', "/v1/flows", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/flows/{id}", '-', "/v1/flows/$flow", NULL, ADMIN, NULL, NULL),
    R("PUT", "/v1/flows/{id}", '-', "/v1/flows/$flow", "{}", ADMIN, "/v1/flows/$flow", "body {}"),
    R("POST", "/v1/flows/{id}/clone", '-', "/v1/flows/$flow/clone", "{\"bogus\":1}", ADMIN, NULL,
      "an unknown field"),
    R("POST", "/v1/flows/{id}/activate", '-', "/v1/flows/$flow/activate", NULL, ADMIN, "/v1/flows/$flow",
      "a draft clone of the standard flow"),

    /* The Checkout Flow actions, under both paths. */
    R("GET", "/v1/actions/standard", '-', "/v1/actions/standard", NULL, ANY_KEY, NULL, NULL),
    R("GET", "/v1/actions/standard/{name}", '-', "/v1/actions/standard/checkoutSessionAction", NULL, ANY_KEY, NULL,
      NULL),
    R("GET", "/services/data/{version}/actions/standard", '-', "/services/data/v60.0/actions/standard", NULL,
      ANY_KEY, NULL, NULL),
    R("GET", "/services/data/{version}/actions/standard/{name}", '-',
      "/services/data/v60.0/actions/standard/checkoutSessionAction", NULL, ANY_KEY, NULL, NULL),
    ACT("checkoutSessionAction", CART_INPUT("ccartA"), CART_INPUT("ccartB")),
    ACT("checkCartInventoryAction", CART_INPUT("ccartA"), CART_INPUT("ccartB")),
    ACT("priceCart", CART_INPUT("ccartA"), CART_INPUT("ccartB")),
    ACT("calcCartPromotionsAction", CART_INPUT("ccartA"), CART_INPUT("ccartB")),
    ACT("calcCartShipmentAction", CART_INPUT("ccartA"), CART_INPUT("ccartB")),
    ACT("setCheckoutDeliveryMethod", "{\"inputs\":[{\"cartId\":\"$ccartA\",\"deliveryMethodId\":\"$shm\"}]}",
        "{\"inputs\":[{\"cartId\":\"$ccartB\",\"deliveryMethodId\":\"$shm\"}]}"),
    ACT("calcCartTaxesAction", CART_INPUT("ccartA"), CART_INPUT("ccartB")),
    ACT("authorizePaymentAction", CART_INPUT("ccartA"), CART_INPUT("ccartB")),
    ACT("cartToOrderAction", CART_INPUT("ccartA"), CART_INPUT("ccartB")),
    ACT("activateOrderAction", CART_INPUT("ccartA"), CART_INPUT("ccartB")),
    ACT("updateCheckoutSessionStateAction",
        "{\"inputs\":[{\"checkoutSessionId\":\"$sessA\",\"expCurrentState\":\"Start\",\"nextState\":\"Start\"}]}",
        "{\"inputs\":[{\"checkoutSessionId\":\"$sessB\",\"expCurrentState\":\"Start\",\"nextState\":\"Start\"}]}"),
    ACT("cancelCartAsyncOperation", CART_INPUT("ccartA"), CART_INPUT("ccartB")),

    /* Admin and jobs; the replay last (it sets a delivery going again). */
    R("GET", "/v1/admin/sessions", '-', "/v1/admin/sessions?stuck=true", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/admin/alerts", '-', "/v1/admin/alerts", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/admin/deliveries", '-', "/v1/admin/deliveries", NULL, ADMIN, NULL, "not in API.md"),
    R("GET", "/v1/admin/overview", '-', "/v1/admin/overview", NULL, ADMIN, NULL, "not in API.md"),
    R("POST", "/v1/admin/jobs/sweeper", '-', "/v1/admin/jobs/sweeper", NULL, ADMIN, NULL, NULL),
    R("POST", "/v1/admin/jobs/sla-monitor", '-', "/v1/admin/jobs/sla-monitor", NULL, ADMIN, NULL, NULL),
    R("GET", "/v1/admin/dead-letters", '-', "/v1/admin/dead-letters", NULL, ADMIN, NULL, NULL),
    R("POST", "/v1/admin/dead-letters/{deliveryId}/replay", '-', "/v1/admin/dead-letters/$dlv/replay", NULL, ADMIN,
      NULL, "a dead delivery"),
};
#define NROWS (sizeof(table) / sizeof(table[0]))

/* ---- The markdown ---------------------------------------------------- */

static const outcome *outcome_of(char code)
{
    for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
        if (outcomes[i].code == code)
            return &outcomes[i];
    return NULL;
}

static const char *owner_text(char owner)
{
    return owner == 'A' ? "buyer A's" : owner == 'B' ? "buyer B's" : "";
}

/* The request as the table shows it: the path with $name left as {name}. */
static void shown_path(const char *path, char *out, size_t n)
{
    size_t o = 0;
    for (const char *s = path; *s && o + 2 < n; s++) {
        if (*s != '$') {
            out[o++] = *s;
            continue;
        }
        out[o++] = '{';
        while (isalnum((unsigned char)s[1]) && o + 2 < n)
            out[o++] = *++s;
        out[o++] = '}';
    }
    out[o] = '\0';
}

static void markdown(FILE *f)
{
    fputs("# Authorization matrix\n\n"
          "<!-- Generated from the table in tests/api/test_authz_matrix.c; do not edit by hand.\n"
          "     Regenerate with: build/tests/test_authz_matrix --markdown > docs/authorization.md\n"
          "     (the test fails while this file differs from what the table generates). -->\n\n"
          "Who may call which route, as the test `api_test_authz_matrix` checks it against a\n"
          "running daemon on every build (SQLite and PostgreSQL). Permissions are those of\n"
          "API.md: `buyer`, `integrator`, `approver`, `fulfillment`, `admin`.\n\n"
          "The principals: no `Authorization` header; a key no user has; an admin's\n"
          "previous key after `POST /v1/users/{id}/keys` without grace; the key of an\n"
          "admin since disabled (`PATCH /v1/users/{id}` `disabled`); **buyer A** and\n"
          "**buyer B**, buyers each given one buyer account (A and B) of the same store;\n"
          "an **integrator**; an **approver** given account A; a **fulfillment** user; an\n"
          "**admin**. Where a route takes an object, it is listed once with an object of\n"
          "account A (a cart, session, request, order, hold, fulfillment order, contract)\n"
          "and once with one of account B, so each buyer is tried on its own object and on\n"
          "a foreign one.\n\n"
          "- **passes auth**: the call gets past authorization. The test sends a minimal\n"
          "  body, so the answer may be a 400 of validation or a 409 of state; it is never\n"
          "  401, 403, 404 or a refusal reason below. The answer to a buyer or the\n"
          "  approver never holds an id of the other account's objects.\n"
          "- **401**: errorCode and reason `UNAUTHORIZED`, with `WWW-Authenticate: Bearer`:\n"
          "  no key, an unknown key or a replaced one. **401 USER_DISABLED**: errorCode\n"
          "  `UNAUTHORIZED`, reason `USER_DISABLED`: the key of a disabled user.\n"
          "- **403**: errorCode and reason `FORBIDDEN`: the caller's permissions do not\n"
          "  allow the call.\n"
          "- **404**: errorCode and reason `NOT_FOUND`: the object is not one the caller\n"
          "  may see (the same answer as for an object that does not exist).\n"
          "- **400 CANNOT_INVOKE_ACTION** (no `buyer`, `integrator` or `admin`), **400\n"
          "  NO_ACCESS_TO_EFFECTIVE_ACCOUNT** (a buyer not given the cart's account): the\n"
          "  table of the session action (API.md, \"Checkout session action\"), which the\n"
          "  checkout operations use instead of 403 and 404 (API.md, Conventions: the\n"
          "  session action, place-order, session updates; and every Checkout Flow\n"
          "  action). In the action envelope for the actions, in the REST envelope for\n"
          "  `POST /v1/checkouts`, `PATCH /v1/checkouts/{id}` and place-order.\n\n"
          "Every refusal leaves the store as it was (row counts and update times of every\n"
          "table, and the object's own GET, compared before and after).\n\n",
          f);
    fputs("| Method | Route | Object | Request |", f);
    for (int p = 0; p < NPRINC; p++)
        fprintf(f, " %s |", principal_names[p]);
    fputs(" Note |\n|---|---|---|---|", f);
    for (int p = 0; p < NPRINC; p++)
        fputs("---|", f);
    fputs("---|\n", f);
    for (size_t i = 0; i < NROWS; i++) {
        const row *r = &table[i];
        char shown[512];
        shown_path(r->path, shown, sizeof(shown));
        fprintf(f, "| %s | `%s` | %s | `%s` |", r->method, r->route, owner_text(r->owner), shown);
        for (int p = 0; p < NPRINC; p++)
            fprintf(f, " %s |", outcome_of(r->cells[p])->text);
        fprintf(f, " %s |\n", r->note ? r->note : "");
    }
    fprintf(f, "\n%zu rows, %zu cells.\n", NROWS, NROWS * NPRINC);
    fputs("\n## Where API.md says nothing, this table decides\n\n"
          "- The lists of setup resources (stores, accounts, users, subscribers, a store's\n"
          "  products, contracts) are admin only, like the rest of \"Setup resources\n"
          "  (permission admin)\"; \"a buyer sees only what it may see\" is taken to apply to\n"
          "  the lists a buyer may call: carts, checkouts, orders, payment holds.\n"
          "- Carts and sessions (reads included) are for the permissions that may check\n"
          "  out: `buyer`, `integrator`, `admin`; an approver or fulfillment user gets 403.\n"
          "- Orders: a buyer and an approver see the orders of the accounts they were\n"
          "  given, an integrator, a fulfillment user and an admin see every order.\n"
          "- Any working key may list payment holds (each caller sees those of the orders\n"
          "  it may see), the Checkout Flow actions and their descriptions, and a store's\n"
          "  shipping methods (a route API.md does not list).\n"
          "- An approver approving an order of an account it was not given: 404, as it may\n"
          "  not see the order.\n"
          "- `DELETE /v1/checkouts/{id}` (abandon) is not among the checkout operations\n"
          "  API.md names, so 403 and 404 apply to it; its action twin\n"
          "  `cancelCartAsyncOperation` uses the session action's table like every action.\n",
          f);
}

/* ---- The fixture ----------------------------------------------------- */

/* The ids the requests name ($name in the table). */
typedef struct fx_var {
    const char *name;
    char value[64];
} fx_var;
static fx_var vars[] = {
    {"store", ""},  {"shm", ""},    {"prod", ""},   {"prod2", ""},    {"acctA", ""},     {"acctB", ""},
    {"cartA", ""},  {"cartB", ""},  {"itemA", ""},  {"itemB", ""},    {"ccartA", ""},    {"ccartB", ""},
    {"sessA", ""},  {"sessB", ""},  {"reqA", ""},   {"reqB", ""},     {"orderA", ""},    {"orderB", ""},
    {"ntA", ""},    {"ntB", ""},    {"paA", ""},    {"paB", ""},      {"foA", ""},       {"foB", ""},
    {"contractA", ""}, {"contractB", ""}, {"flow", ""}, {"sub", ""}, {"victim", ""}, {"dlv", ""}, {"fresh", ""},
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static char *var_slot(const char *name, size_t len)
{
    for (size_t i = 0; i < NVARS; i++)
        if (strlen(vars[i].name) == len && strncmp(vars[i].name, name, len) == 0)
            return vars[i].value;
    return NULL;
}

static char *var(const char *name)
{
    char *v = var_slot(name, strlen(name));
    assert_non_null(v);
    return v;
}

/* tmpl with every $name replaced by its id, into out. */
static void expand(const char *tmpl, char *out, size_t n)
{
    size_t o = 0;
    for (const char *s = tmpl; *s; s++) {
        if (*s != '$') {
            assert_true(o + 1 < n);
            out[o++] = *s;
            continue;
        }
        size_t len = 0;
        while (isalnum((unsigned char)s[1 + len]))
            len++;
        const char *v = var_slot(s + 1, len);
        if (!v || !*v)
            fail_msg("the table names $%.*s, which the fixture does not have", (int)len, s + 1);
        size_t vl = strlen(v);
        assert_true(o + vl + 1 < n);
        memcpy(out + o, v, vl);
        o += vl;
        s += len;
    }
    out[o] = '\0';
}

typedef struct ctx {
    CKT_FX_BASE;
    fake_webhook *wh;
    char keys[NPRINC][128]; /* "" for no key */
    char users[NPRINC][64];
    char fp_sql[8192];
    PGconn *pgc; /* the fingerprint's connection */
    sqlite3 *lite;
    sqlite3_stmt *fp_stmt;
} ctx;

static ctx C;

static void post_ok(ctx *c, const char *key, const char *path, const char *body, const char *field, char out[64])
{
    ckt_resp r = ckt_http(&c->d, "POST", path, key, body, NULL);
    if (r.status < 200 || r.status > 299)
        fail_msg("setup: POST %s %s: %ld %s", path, body ? body : "", r.status, r.body);
    if (out)
        snprintf(out, 64, "%s", ckt_str(r.json, field));
    ckt_free(&r);
}

static void reopen(ctx *c, int who, const char *sfx)
{
    char cart[16], sess[16], body[128];
    snprintf(cart, sizeof(cart), "ccart%s", sfx);
    snprintf(sess, sizeof(sess), "sess%s", sfx);
    snprintf(body, sizeof(body), "{\"cartId\":\"%s\"}", var(cart));
    ckt_resp r = ckt_http(&c->d, "POST", "/v1/checkouts", c->keys[who], body, NULL);
    if (r.status != 200 && r.status != 201)
        fail_msg("reopening the session of %s: %ld %s", var(cart), r.status, r.body);
    snprintf(var(sess), 64, "%s", ckt_str(r.json, "session.id"));
    ckt_free(&r);
}

/* An order of acct placed by its buyer: card (tok_visa, released at once)
 * or net terms (PendingApproval). */
static void order_of(ctx *c, int who, const char *acct, const char *pay, char out[64])
{
    char sid[64];
    ckt_session_ready(&c->d, c->keys[who], c->store, acct, c->prod, 1, ADDR_US, c->shm, pay, sid, NULL);
    ckt_resp r = ckt_place_as(&c->d, c->keys[who], sid, 0);
    if (r.status != 201)
        fail_msg("placing an order of %s: %ld %s", acct, r.status, r.body);
    snprintf(out, 64, "%s", ckt_str(r.json, "orderId"));
    ckt_free(&r);
}

static const char *const tables_sql[] = {
    "accounts", "alerts", "balance_ledger", "cart_items", "cart_validation_outputs", "carts", "checkout_requests",
    "checkout_sessions", "contracts", "deliveries", "flows", "fulfillment_orders", "gateway_test_ledger",
    "idempotency_keys", "job_leases", "order_change_items", "order_changes", "order_item_summaries", "order_items",
    "order_summaries", "orders", "outbox_events", "payment_authorizations", "payments", "products", "promotions",
    "refunds", "retired_api_keys", "shipping_methods", "store_members", "stores", "subscribers", "tax_rates",
    "user_accounts", "users", NULL,
};
static const char *const updated_sql[] = {
    "accounts", "carts", "checkout_sessions", "contracts", "deliveries", "flows", "fulfillment_orders",
    "order_changes", "orders", "payment_authorizations", "products", "refunds", "stores", "subscribers", "users",
    NULL,
};

/* One statement whose answer changes when any table gains or loses a row
 * or any row with an update time is updated. */
static void build_fingerprint(ctx *c)
{
    size_t o = 0, n = sizeof(c->fp_sql);
    o += (size_t)snprintf(c->fp_sql + o, n - o, "SELECT ''");
    for (int i = 0; tables_sql[i]; i++)
        o += (size_t)snprintf(c->fp_sql + o, n - o, " || ',%s=' || (SELECT count(*) FROM %s)", tables_sql[i],
                              tables_sql[i]);
    for (int i = 0; updated_sql[i]; i++)
        o += (size_t)snprintf(c->fp_sql + o, n - o, " || ',%s@' || (SELECT COALESCE(SUM(updated_at), 0) FROM %s)",
                              updated_sql[i], updated_sql[i]);
    o += (size_t)snprintf(c->fp_sql + o, n - o, " || ',items#' || (SELECT COALESCE(SUM(quantity), 0) FROM cart_items)");
    assert_true(o < n);
}

/* The fingerprint, over one connection kept for the walk (a connection per
 * call would cost more than the walk's requests on PostgreSQL). Owned. */
static char *fingerprint(ctx *c)
{
    char *out = NULL;
    if (c->d.pg) {
        if (!c->pgc) {
            c->pgc = PQconnectdb(c->d.pg_url);
            assert_int_equal(PQstatus(c->pgc), CONNECTION_OK);
            PGresult *p = PQprepare(c->pgc, "fingerprint", c->fp_sql, 0, NULL);
            if (PQresultStatus(p) != PGRES_COMMAND_OK)
                fprintf(stderr, "fingerprint: %s\n", PQerrorMessage(c->pgc));
            assert_int_equal(PQresultStatus(p), PGRES_COMMAND_OK);
            PQclear(p);
        }
        PGresult *r = PQexecPrepared(c->pgc, "fingerprint", 0, NULL, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fprintf(stderr, "fingerprint: %s\n", PQerrorMessage(c->pgc));
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        out = strdup(PQgetvalue(r, 0, 0));
        PQclear(r);
    } else {
        if (!c->lite) {
            assert_int_equal(sqlite3_open_v2(c->d.db_path, &c->lite, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
            sqlite3_busy_timeout(c->lite, 10000);
            assert_int_equal(sqlite3_prepare_v2(c->lite, c->fp_sql, -1, &c->fp_stmt, NULL), SQLITE_OK);
        }
        assert_int_equal(sqlite3_step(c->fp_stmt), SQLITE_ROW);
        out = strdup((const char *)sqlite3_column_text(c->fp_stmt, 0));
        sqlite3_reset(c->fp_stmt);
    }
    assert_non_null(out);
    return out;
}

static void fingerprint_close(ctx *c)
{
    sqlite3_finalize(c->fp_stmt);
    sqlite3_close(c->lite);
    if (c->pgc)
        PQfinish(c->pgc);
    c->fp_stmt = NULL;
    c->lite = NULL;
    c->pgc = NULL;
}

/* src into the n bytes at dst; fails the test when it does not fit. */
static void set_id(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    assert_true(len < n);
    memcpy(dst, src, len + 1);
}

static int setup(void **state)
{
    (void)state;
    ctx *c = &C;
    static const char *const extra[] = {"--jobs-interval", "86400", NULL};
    ckt_fx_opts o = {.default_product = 1, .extra = extra};
    ckt_fx_setup(&c->base, &o);
    ckt_daemon *d = &c->d;
    set_id(var("store"), 64, c->store);
    set_id(var("shm"), 64, c->shm);
    set_id(var("prod"), 64, c->prod);
    set_id(var("acctA"), 64, c->acct);
    ckt_product(d, c->store, NULL, var("prod2"));

    /* The principals. */
    snprintf(c->keys[P_BAD], sizeof(c->keys[P_BAD]), "ck_%s", "NoSuchKeyNoSuchKeyNoSuchKeyNoSuchKeyNoSuchK");
    set_id(c->keys[P_BUYER_A], 128, c->bkey);
    set_id(c->users[P_BUYER_A], 64, c->buyer);
    ckt_account(d, NULL, var("acctB"));
    ckt_member(d, c->store, var("acctB"));
    ckt_user(d, "[\"buyer\"]", c->users[P_BUYER_B], c->keys[P_BUYER_B]);
    ckt_give_account(d, c->users[P_BUYER_B], var("acctB"));
    ckt_user(d, "[\"integrator\"]", c->users[P_INTEGRATOR], c->keys[P_INTEGRATOR]);
    ckt_user(d, "[\"approver\"]", c->users[P_APPROVER], c->keys[P_APPROVER]);
    ckt_give_account(d, c->users[P_APPROVER], c->acct);
    ckt_user(d, "[\"fulfillment\"]", c->users[P_FULFILLMENT], c->keys[P_FULFILLMENT]);
    snprintf(c->keys[P_ADMIN], 128, "%s", CKT_ADMIN_KEY);
    char upath[128];
    ckt_user(d, "[\"admin\"]", c->users[P_REPLACED], c->keys[P_REPLACED]);
    snprintf(upath, sizeof(upath), "/v1/users/%.63s/keys", c->users[P_REPLACED]);
    post_ok(c, CKT_ADMIN_KEY, upath, "{\"graceSeconds\":0}", "apiKey", NULL);
    ckt_user(d, "[\"admin\"]", c->users[P_DISABLED], c->keys[P_DISABLED]);
    snprintf(upath, sizeof(upath), "/v1/users/%.63s", c->users[P_DISABLED]);
    ckt_resp dr = ckt_http(d, "PATCH", upath, CKT_ADMIN_KEY, "{\"disabled\":true}", NULL);
    ckt_expect_status(&dr, 200);
    ckt_free(&dr);
    ckt_user(d, "[\"buyer\"]", var("victim"), (char[128]){0});

    /* A subscriber that dead-letters every OrderCreated at once. */
    char url[128], body[1024];
    assert_non_null(c->wh = fwh_start(-1));
    fwh_url(c->wh, url, sizeof(url));
    snprintf(body, sizeof(body),
             "{\"kind\":\"webhook\",\"url\":\"%s\",\"secret\":\"whsec-authz-matrix-0001\","
             "\"events\":[\"OrderCreated\"],\"maxAttempts\":1,\"backoffBaseMs\":10}",
             url);
    post_ok(c, CKT_ADMIN_KEY, "/v1/subscribers", body, "id", var("sub"));

    /* Each account's objects: a cart with an item, a cart in checkout with
     * its session and request, a card order with its hold and fulfillment
     * order, a net-terms order awaiting approval, a contract. */
    static const char *const sfx[2] = {"A", "B"};
    const int who[2] = {P_BUYER_A, P_BUYER_B};
    for (int i = 0; i < 2; i++) {
        char name[16], path[256];
        const char *acct = var(i ? "acctB" : "acctA");
        const char *key = c->keys[who[i]];
        snprintf(name, sizeof(name), "cart%s", sfx[i]);
        ckt_cart(d, key, c->store, acct, var(name));
        char *cart = var(name);
        snprintf(name, sizeof(name), "item%s", sfx[i]);
        ckt_cart_item(d, key, cart, c->prod, 1, var(name));

        snprintf(name, sizeof(name), "ccart%s", sfx[i]);
        ckt_cart(d, key, c->store, acct, var(name));
        ckt_cart_item(d, key, var(name), c->prod, 1, NULL);
        snprintf(body, sizeof(body), "{\"cartId\":\"%s\"}", var(name));
        ckt_resp r = ckt_http(d, "POST", "/v1/checkouts", key, body, NULL);
        ckt_expect_status(&r, 201);
        snprintf(name, sizeof(name), "sess%s", sfx[i]);
        snprintf(var(name), 64, "%s", ckt_str(r.json, "session.id"));
        snprintf(name, sizeof(name), "req%s", sfx[i]);
        snprintf(var(name), 64, "%s", ckt_str(r.json, "requestId"));
        ckt_free(&r);

        snprintf(name, sizeof(name), "order%s", sfx[i]);
        order_of(c, who[i], acct, PAY_CARD("tok_visa"), var(name));
        char *order = var(name);
        snprintf(path, sizeof(path), "/v1/orders/%s", order);
        r = ckt_http(d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
        ckt_expect_status(&r, 200);
        snprintf(name, sizeof(name), "pa%s", sfx[i]);
        snprintf(var(name), 64, "%s", ckt_str(r.json, "authorizations.0.id"));
        ckt_free(&r);
        snprintf(name, sizeof(name), "fo%s", sfx[i]);
        ckt_db_text(d, var(name), 64, "SELECT id FROM fulfillment_orders WHERE order_id = '%s'", order);
        assert_true(var(name)[0] != '\0');

        snprintf(name, sizeof(name), "nt%s", sfx[i]);
        snprintf(body, sizeof(body), "{\"method\":\"net_terms\",\"poNumber\":\"PO-AUTHZ-%s\"}", sfx[i]);
        order_of(c, who[i], acct, body, var(name));

        snprintf(name, sizeof(name), "contract%s", sfx[i]);
        snprintf(body, sizeof(body), "{\"accountId\":\"%s\",\"amount\":500000}", acct);
        post_ok(c, CKT_ADMIN_KEY, "/v1/contracts", body, "id", var(name));
    }
    snprintf(body, sizeof(body), "{\"name\":\"Authz draft\",\"storeId\":\"%s\"}", var("store"));
    post_ok(c, CKT_ADMIN_KEY, "/v1/flows/flow_standard/clone", body, "id", var("flow"));

    /* Every OrderCreated dead, the receiver's part is over; nothing else
     * runs by itself from here (jobs every 86400 s). */
    long long until = ckt_mono_ms() + 10000;
#define DEAD_SQL "SELECT count(*) FROM deliveries WHERE status = 'Dead'"
#define LIVE_SQL "SELECT count(*) FROM deliveries WHERE status <> 'Dead'"
    while ((ckt_db_int(d, DEAD_SQL) < 4 || ckt_db_int(d, LIVE_SQL) > 0) && ckt_mono_ms() < until)
        ckt_sleep_ms(20);
    assert_int_equal(ckt_db_int(d, DEAD_SQL), 4);
    assert_int_equal(ckt_db_int(d, LIVE_SQL), 0);
    ckt_db_text(d, var("dlv"), 64, "SELECT id FROM deliveries WHERE order_id = '%s'", var("orderA"));
    assert_true(var("dlv")[0] != '\0');
    build_fingerprint(c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fingerprint_close(&C);
    ckt_fx_cleanup(&C.base);
    fwh_stop(C.wh);
    C.wh = NULL;
    return 0;
}

/* ---- Walking the table ----------------------------------------------- */

static int failures;

static void make_fresh(ctx *c, int kind)
{
    char path[256], body[512];
    char *out = var("fresh");
    switch (kind) {
    case FRESH_ITEM_A:
    case FRESH_ITEM_B:
        snprintf(path, sizeof(path), "/v1/carts/%s/items", var(kind == FRESH_ITEM_A ? "cartA" : "cartB"));
        snprintf(body, sizeof(body), "{\"productId\":\"%s\",\"quantity\":1}", var("prod2"));
        post_ok(c, CKT_ADMIN_KEY, path, body, "id", out);
        break;
    case FRESH_MEMBER:
        ckt_account(&c->d, NULL, out);
        ckt_member(&c->d, c->store, out);
        break;
    case FRESH_SUBSCRIBER:
        post_ok(c, CKT_ADMIN_KEY, "/v1/subscribers",
                "{\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:9/never\",\"secret\":\"whsec-authz-fresh-0001\","
                "\"events\":[\"OrderReturned\"]}",
                "id", out);
        break;
    default:
        break;
    }
}

/* The admin's view of probe (NULL when the row has none), owned. */
static char *probe_body(ctx *c, const char *probe)
{
    if (!probe)
        return NULL;
    char path[512];
    expand(probe, path, sizeof(path));
    ckt_resp r = ckt_http(&c->d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    if (r.status != 200)
        fail_msg("probe GET %s: %ld %s", path, r.status, r.body);
    char *b = strdup(r.body);
    ckt_free(&r);
    assert_non_null(b);
    return b;
}

/* The first error of either envelope: the REST one
 * ([{"errorCode","reason"}]) or the actions' ([{"errors":[{"statusCode","reason"}]}]). */
static void first_error(json_t *j, const char **code, const char **reason)
{
    *code = *reason = NULL;
    json_t *e = json_array_get(j, 0);
    if (!json_is_object(e))
        return;
    if (json_object_get(e, "errorCode")) {
        *code = json_string_value(json_object_get(e, "errorCode"));
        *reason = json_string_value(json_object_get(e, "reason"));
        return;
    }
    json_t *inner = json_array_get(json_object_get(e, "errors"), 0);
    *code = json_string_value(json_object_get(inner, "statusCode"));
    *reason = json_string_value(json_object_get(inner, "reason"));
}

static int is_refusal_reason(const char *reason)
{
    static const char *const refusals[] = {"UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CANNOT_INVOKE_ACTION",
                                           "NO_ACCESS_TO_EFFECTIVE_ACCOUNT", "USER_DISABLED", NULL};
    for (int i = 0; reason && refusals[i]; i++)
        if (strcmp(reason, refusals[i]) == 0)
            return 1;
    return 0;
}

/* The ids of the other account's objects that an answer to p must not hold. */
static const char *const owned[] = {"acct", "cart", "item", "ccart", "sess", "req", "order", "nt", "pa", "fo",
                                    "contract", NULL};

static const char *leaked_id(int p, const char *body)
{
    const char *other = p == P_BUYER_B ? "A" : (p == P_BUYER_A || p == P_APPROVER) ? "B" : NULL;
    if (!other || !body)
        return NULL;
    for (int i = 0; owned[i]; i++) {
        char name[32];
        snprintf(name, sizeof(name), "%s%s", owned[i], other);
        const char *id = var(name);
        if (*id && strstr(body, id))
            return id;
    }
    return NULL;
}

static void cell_fail(const row *r, int p, const char *path, const ckt_resp *resp, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void cell_fail(const row *r, int p, const char *path, const ckt_resp *resp, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    fprintf(stderr, "CELL %s %s [%s] as %s (%s): expected %s; %s; got %ld %.300s\n", r->method, r->route,
            r->owner == '-' ? "-" : r->owner == 'A' ? "A's" : "B's", principal_names[p], path,
            outcome_of(r->cells[p])->text, what, resp ? resp->status : 0L, resp && resp->body ? resp->body : "");
    failures++;
}

/* One cell: the request as principal p, and what API.md says of it. */
static void walk_cell(ctx *c, const row *r, int p, char **fp)
{
    const outcome *want = outcome_of(r->cells[p]);
    int writing = strcmp(r->method, "GET") != 0;
    int refusal = want->code != 'a';
    if (r->fresh) {
        make_fresh(c, r->fresh);
        if (*fp) {
            free(*fp);
            *fp = NULL;
        }
    }
    char path[1024], body[2048];
    expand(r->path, path, sizeof(path));
    if (r->body)
        expand(r->body, body, sizeof(body));
    char *before = refusal && writing ? probe_body(c, r->probe) : NULL;
    if (refusal && writing && !*fp)
        *fp = fingerprint(c);

    ckt_resp resp = ckt_http(&c->d, r->method, path, c->keys[p][0] ? c->keys[p] : NULL, r->body ? body : NULL, NULL);
    const char *code, *reason;
    first_error(resp.json, &code, &reason);
    if (getenv("CKT_AUTHZ_VERBOSE"))
        fprintf(stderr, "cell %-6s %-52s %c %-11s %ld %s\n", r->method, path, r->owner, principal_names[p],
                resp.status, reason ? reason : "");
    if (!refusal) {
        const char *leak = leaked_id(p, resp.body);
        if (resp.status == 401 || resp.status == 403 || resp.status == 404 || resp.status == 405 ||
            resp.status >= 500 || resp.status < 200 || is_refusal_reason(reason))
            cell_fail(r, p, path, &resp, "a refusal or failure (%s)", reason ? reason : "-");
        else if (leak)
            cell_fail(r, p, path, &resp, "the answer holds %s, an object of the other account", leak);
    } else {
        char hdr[128];
        if (resp.status != want->status || !code || strcmp(code, want->error_code) != 0 || !reason ||
            strcmp(reason, want->reason) != 0)
            cell_fail(r, p, path, &resp, "status/errorCode/reason differ (%s/%s)", code ? code : "-",
                      reason ? reason : "-");
        else if (want->status == 401 && (!ckt_header(&resp, "WWW-Authenticate", hdr, sizeof(hdr)) ||
                                         strncmp(hdr, "Bearer", 6) != 0))
            cell_fail(r, p, path, &resp, "no WWW-Authenticate: Bearer");
        if (writing) {
            char *after = fingerprint(c);
            if (strcmp(after, *fp) != 0)
                cell_fail(r, p, path, &resp, "the refusal changed the store: %s -> %s", *fp, after);
            free(*fp);
            *fp = after;
            char *now = probe_body(c, r->probe);
            if (before && strcmp(before, now) != 0)
                cell_fail(r, p, path, &resp, "the refusal changed %s: %s -> %s", r->probe, before, now);
            free(now);
        }
    }
    free(before);
    ckt_free(&resp);
}

/* Every cell of every row: the refusals of a row first (so an allowed call
 * that changes the object, abandoning a session say, comes after them). */
static void authz_matrix(void **state)
{
    (void)state;
    ctx *c = &C;
    size_t cells = 0;
    long long t0 = ckt_mono_ms();
    failures = 0;
    for (size_t i = 0; i < NROWS; i++) {
        const row *r = &table[i];
        char *fp = NULL;
        for (int pass = 0; pass < 2; pass++)
            for (int p = 0; p < NPRINC; p++)
                if ((r->cells[p] == 'a') == (pass == 1)) {
                    walk_cell(c, r, p, &fp);
                    cells++;
                }
        free(fp);
        if (r->reopen) {
            reopen(c, P_BUYER_A, "A");
            reopen(c, P_BUYER_B, "B");
        }
    }
    fprintf(stderr, "authz matrix: %zu rows, %zu cells, %d failed checks, %lld ms\n", NROWS, cells, failures,
            ckt_mono_ms() - t0);
    assert_int_equal(cells, NROWS * NPRINC);
    fingerprint_close(c);
    ckt_fx_finish(&c->base); /* a clean exit (and no leak) even when cells are wrong */
    assert_int_equal(failures, 0);
}

/* ---- The table against the daemon's routes and the doc --------------- */

/* 1 when path (query cut off, $names as segments) fits the route template. */
static int fits(const char *tmpl, const char *path)
{
    const char *q = strchr(path, '?');
    size_t plen = q ? (size_t)(q - path) : strlen(path);
    const char *t = tmpl, *s = path, *end = path + plen;
    while (*t) {
        if (t[0] == '{' && t[1] == '*')
            return 1;
        if (*t == '{') {
            const char *seg = s;
            while (s < end && *s != '/')
                s++;
            if (s == seg)
                return 0;
            t = strchr(t, '}') + 1;
        } else if (s < end && *t == *s) {
            t++;
            s++;
        } else {
            return 0;
        }
    }
    return s == end;
}

static void routes_covered(void **state)
{
    (void)state;
    int bad = 0, served = 0;
    const ck_route *const *lists = ck_api_routes();
    for (int l = 0; lists[l]; l++)
        for (const ck_route *rt = lists[l]; rt->method; rt++) {
            served++;
            int found = 0;
            for (size_t i = 0; i < NROWS; i++)
                found |= strcmp(table[i].method, rt->method) == 0 && strcmp(table[i].route, rt->pattern) == 0;
            if (!found) {
                fprintf(stderr, "the daemon serves %s %s; the table has no row for it\n", rt->method, rt->pattern);
                bad++;
            }
        }
    for (size_t i = 0; i < NROWS; i++) {
        const row *r = &table[i];
        int found = 0;
        for (int l = 0; lists[l]; l++)
            for (const ck_route *rt = lists[l]; rt->method; rt++)
                found |= strcmp(r->method, rt->method) == 0 && strcmp(r->route, rt->pattern) == 0;
        if (!found) {
            fprintf(stderr, "row %zu: the daemon serves no %s %s\n", i, r->method, r->route);
            bad++;
        }
        if (!fits(r->route, r->path)) {
            fprintf(stderr, "row %zu: %s is not a path of %s\n", i, r->path, r->route);
            bad++;
        }
        if (strlen(r->cells) != NPRINC) {
            fprintf(stderr, "row %zu: %zu cells\n", i, strlen(r->cells));
            bad++;
            continue;
        }
        for (int p = 0; p < NPRINC; p++)
            if (!outcome_of(r->cells[p])) {
                fprintf(stderr, "row %zu: unknown outcome '%c'\n", i, r->cells[p]);
                bad++;
            }
    }
    fprintf(stderr, "authz matrix: the daemon serves %d routes; the table has %zu rows\n", served, NROWS);
    assert_int_equal(bad, 0);
}

#ifndef CK_SOURCE_DIR
/* This file's path, absolute as CMake passes it, less tests/api/...c. */
static const char *source_dir(char *out, size_t n)
{
    snprintf(out, n, "%s", __FILE__);
    char *cut = strstr(out, "/tests/api/test_authz_matrix.c");
    if (cut)
        *cut = '\0';
    else
        snprintf(out, n, ".");
    return out;
}
#else
static const char *source_dir(char *out, size_t n)
{
    snprintf(out, n, "%s", CK_SOURCE_DIR);
    return out;
}
#endif

static void doc_matches(void **state)
{
    (void)state;
    char dir[1024], path[1200];
    snprintf(path, sizeof(path), "%s/docs/authorization.md", source_dir(dir, sizeof(dir)));
    char *want = NULL;
    size_t want_len = 0;
    FILE *m = open_memstream(&want, &want_len);
    assert_non_null(m);
    markdown(m);
    fclose(m);

    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("%s is missing: write it with test_authz_matrix --markdown > docs/authorization.md", path);
    char *have = NULL;
    size_t have_cap = 0, have_len = 0;
    FILE *h = open_memstream(&have, &have_cap);
    assert_non_null(h);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, h);
    fclose(f);
    fclose(h);
    have_len = strlen(have);
    if (have_len != want_len || memcmp(have, want, want_len) != 0) {
        size_t line = 1, i = 0;
        while (i < have_len && i < want_len && have[i] == want[i])
            line += have[i++] == '\n';
        fprintf(stderr,
                "%s differs from the table (first at line %zu): regenerate it with\n"
                "  test_authz_matrix --markdown > docs/authorization.md\n",
                path, line);
        free(have);
        free(want);
        fail();
    }
    free(have);
    free(want);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--markdown") == 0) {
        markdown(stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_covered),
        cmocka_unit_test(doc_matches),
        cmocka_unit_test_setup_teardown(authz_matrix, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
