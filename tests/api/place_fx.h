/* place_fx.h: the helpers of the place-order suites (test_place_order.c,
 * test_place_resume.c): one checkout (a product, a cart holding it, its
 * session), its inputs, placing it, and what a placement that failed must
 * leave behind. The fixture is ckt_fx of fixtures.h. */
#ifndef CK_TEST_PLACE_FX_H
#define CK_TEST_PLACE_FX_H

#include "api/fixtures.h"

#define ADDR_US                                                                                                  \
    "{\"name\":\"Ann Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"region\":\"IL\","            \
    "\"postalCode\":\"62701\",\"country\":\"US\"}"
#define ADDR_US2                                                                                                 \
    "{\"name\":\"Ann Buyer\",\"street\":\"9 Elm St\",\"city\":\"Shelbyville\",\"region\":\"IL\","             \
    "\"postalCode\":\"62565\",\"country\":\"US\"}"
#define ADDR_KP                                                                                                  \
    "{\"name\":\"Kim\",\"street\":\"1 Harbour Rd\",\"city\":\"Nampo\",\"postalCode\":\"0001\",\"country\":\"KP\"}"
#define PAY_CARD(tok) "{\"method\":\"card\",\"cardToken\":\"" tok "\"}"
#define UNKNOWN_SHM "shm_01M80V5EQG4YHAXXJRNX68ZH9P"

/* One checkout: a product, a cart of the buyer's holding it, the session. */
typedef struct po_co {
    char prod[64], cart[64], item[64], sid[64];
} po_co;

/* The exact keys of the API's objects (for ckt_expect_keys). */
extern const char *const po_session_keys[];
extern const char *const po_totals_keys[];
extern const char *const po_order_keys[];
extern const char *const po_item_keys[];
extern const char *const po_item_summary_keys[];
extern const char *const po_auth_keys[];
extern const char *const po_session_error_keys[];
extern const char *const po_request_keys[];

void po_expect_totals(json_t *t, long long sub, long long adj, long long ship, long long tax, long long grand);

/* GET path with key; asserts the status; returns the body (owned). */
json_t *po_get_json(ckt_fx *f, const char *path, const char *key, long status);

json_t *po_get_session(ckt_fx *f, const char *sid);

void po_expect_str_or_null(json_t *j, const char *path, const char *want);

/* Store (embargoes KP), shipping method flat 1000 + 100/kg, US tax 825 bp, a
 * buyer account (credit limit 100000, not hazmat approved) that is a member,
 * a buyer user given the account; the store on the fake HTTP gateway
 * (f->gw) when fake_gw. faults as for ckt_start. */
void po_fx_setup(ckt_fx *f, const char *faults, int fake_gw);

/* A product of 500 g with these settings; tiers: JSON array text. */
void po_product(ckt_fx *f, long long price, long long stock, long long minq, const char *tiers, int hazmat,
                int export_controlled, char out[64]);

void po_new_cart(ckt_fx *f, char out[64]);

void po_add_item(ckt_fx *f, const char *cart, const char *prod, int qty, char out[64]);

/* POST /v1/checkouts for the cart: 201, a fresh session. */
void po_new_session(ckt_fx *f, const char *cart, char out[64]);

/* A checkout: prod (a default 1999 / stock 100 product when prod is NULL)
 * x qty in a new cart (no item when qty is 0), and its session. */
void po_co_make(ckt_fx *f, po_co *c, const char *prod, int qty);

/* PATCH /v1/checkouts/{sid} with the raw body; returns the response. */
ckt_resp po_patch(ckt_fx *f, const char *sid, const char *key, const char *body);

/* PATCH the given inputs (raw JSON texts; NULL leaves one out): 200. */
void po_set_inputs(ckt_fx *f, const char *sid, const char *addr, const char *shm, const char *pay);

/* Places and expects 201; the order id goes to order_out. */
void po_place_ok(ckt_fx *f, const char *sid, char order_out[64]);

/* The step failure envelope: one error with errorCode (by status), reason,
 * a message and the step; no field. */
void po_expect_step_error(const ckt_resp *r, long status, const char *reason, const char *step);

/* A session's state follows from its lastSuccessfulStep: Start when none,
 * else the step after it (a failed commit group rolls back whole, so the
 * resume may start before the failed step). */
const char *po_resume_step(const char *last);

/* After a failed placement: the session has isError, state = the step a
 * resume runs first, lastSuccessfulStep = last (NULL: null), nerrors entries
 * in errors with the last one describing this failure (at `step`); no order;
 * the cart still in Checkout. */
void po_expect_failed_session(ckt_fx *f, const po_co *c, const char *reason, const char *step, const char *last,
                              size_t nerrors);

/* Exactly one Error CVO of the cart, for related with this type, in the
 * database and in GET /v1/carts/{id}/validation-outputs. */
void po_expect_cvo(ckt_fx *f, const po_co *c, const char *related, const char *type);

/* Places c and expects this step failure; returns nothing. */
void po_place_fails(ckt_fx *f, const po_co *c, long status, const char *reason, const char *step);

#endif
