/* fixtures.h: the checkout suites' shared fixture: a daemon, the shop (a
 * store with the standard shipping and tax, optionally on the fake HTTP
 * gateway), a buyer account and its buyer, a product; and placing a
 * checkout with what is asserted of the answer. Built on harness.h; every
 * function fails the test on an unexpected answer.
 *
 * A suite whose fixture holds more than ckt_fx embeds it with CKT_FX_BASE,
 * which keeps the shared fields addressable by name:
 *
 *     typedef struct fx {
 *         CKT_FX_BASE;
 *         char ful[64], fkey[128];
 *     } fx;
 *     ... ckt_fx_setup(&f->base, &opts); ... f->store ...
 */
#ifndef CK_TEST_FIXTURES_H
#define CK_TEST_FIXTURES_H

#include "api/fake_gateway.h"
#include "api/harness.h"

#define CKT_FX_FIELDS                                                                                       \
    ckt_daemon d;                                                                                           \
    fake_gateway *gw; /* with opts.fake_gateway, else NULL */                                              \
    char store[64], shm[64], acct[64], buyer[64], bkey[128];                                                \
    char prod[64], sku[64]; /* with opts.sku_prefix or opts.default_product ("" without a product or sku) */

typedef struct ckt_fx {
    CKT_FX_FIELDS
} ckt_fx;

/* A suite's own fixture struct starts with this: ckt_fx as `base`, and the
 * same fields again by name (the two views share their storage). */
#define CKT_FX_BASE                                                                                         \
    union {                                                                                                 \
        ckt_fx base;                                                                                        \
        struct {                                                                                            \
            CKT_FX_FIELDS                                                                                   \
        };                                                                                                  \
    }

/* What ckt_fx_setup makes; a zeroed struct (or NULL) is the standard shop
 * of ckt_shop_setup on the built-in gateway, without a product. */
typedef struct ckt_fx_opts {
    const char *faults;       /* CHECKOUTD_FAULTS, as for ckt_start (NULL: none) */
    const char *const *extra; /* more daemon arguments, NULL-terminated, or NULL */
    int fake_gateway;         /* start a fake HTTP gateway (f->gw) and put the store on it */
    int no_shipping_tax;      /* leave out the store's standard shipping method and tax rate */
    /* The buyer account: ckt_account's default (credit limit 100000, no
     * prepaid balance) unless balances is set; then an "Acme" buyer account
     * with these. */
    int balances;
    long long credit_limit, prepaid;
    /* The buyer user: ckt_user's "Test User" unless buyer_email is set;
     * then a buyer of this name and email. */
    const char *buyer_name, *buyer_email;
    /* The product: none; ckt_product's default (default_product); or, with
     * sku_prefix, a 1999 / 500 g one with SKU "<prefix>-<pid>" (also in
     * f->sku) and this stock. */
    int default_product;
    const char *sku_prefix;
    long long stock;
} ckt_fx_opts;

/* Clears f, then starts the daemon and makes what o says (NULL: defaults). */
void ckt_fx_setup(ckt_fx *f, const ckt_fx_opts *o);
/* For teardowns: stops the daemon (asserting nothing) and the fake gateway,
 * removes the daemon's directory and clears f. */
void ckt_fx_cleanup(ckt_fx *f);
/* Stops the daemon (asserting exit 0) and removes its directory; f->d is
 * cleared, so a later ckt_fx_cleanup has nothing left to stop. */
void ckt_fx_finish(ckt_fx *f);

/* Another buyer account of the fixture's store ("Acme" with this credit
 * limit and prepaid balance), a member, given to the fixture's buyer. */
void ckt_fx_account(ckt_fx *f, long long credit_limit, long long prepaid, char out[64]);

/* A product of the fixture's store: 500 g, active; price 0 means 1999,
 * min_qty 0 means 1, tiers (JSON array text) NULL means []. */
typedef struct ckt_product_spec {
    const char *sku;
    long long price, stock, min_qty;
    const char *tiers;
    int hazmat, export_controlled;
} ckt_product_spec;
void ckt_fx_product(ckt_fx *f, const ckt_product_spec *p, char out[64]);

/* A checkout of the fixture's buyer ready to place: a cart of f->acct with
 * qty x prod, its session and its inputs (addr_json, f->shm, pay_json), as
 * ckt_session_ready. cart may be NULL. */
void ckt_fx_session(ckt_fx *f, const char *prod, int qty, const char *addr_json, const char *pay_json, char sid[64],
                    char cart[64]);

/* POST /v1/checkouts/{sid}/place-order as the user with key; async asks
 * for Prefer: respond-async. */
ckt_resp ckt_place_as(ckt_daemon *d, const char *key, const char *sid, int async);
/* The same as the fixture's buyer, answered at once. */
ckt_resp ckt_place(ckt_fx *f, const char *sid);
/* Places and expects 201, and order.totals.grandTotal = grand_total unless
 * that is negative; the orderId goes to out unless NULL. */
void ckt_place_ok(ckt_fx *f, const char *sid, long long grand_total, char out[64]);

/* The envelope of a failed checkout step: status, its errorCode
 * (BAD_REQUEST for 400, else UNKNOWN_EXCEPTION), reason, and step. */
void ckt_expect_step_error(const ckt_resp *r, long status, const char *reason, const char *step);
/* Places and expects that step failure. */
void ckt_place_fails(ckt_fx *f, const char *sid, long status, const char *reason, const char *step);

/* Makes steps (a JSON array, taken) the active flow of store: a Draft
 * cloned from flow_standard, the steps PUT (version 2), activated. The
 * flow's id into out. Sessions created after it pin it. */
void ckt_fx_install_flow(ckt_fx *f, const char *store, json_t *steps, char out[64]);

/* Asserts obj is an object holding exactly these keys (NULL-terminated). */
void ckt_expect_keys(json_t *obj, const char *const keys[]);

/* Timestamps as API.md gives them: RFC 3339 UTC ("2026-11-22T05:13:24.123Z"). */
void ckt_expect_time_str(const char *s);
void ckt_expect_time(json_t *j, const char *path);
/* ... with milliseconds exactly (24 characters). */
void ckt_expect_time_ms(json_t *j, const char *path);

void ckt_sleep_ms(int ms);
/* CLOCK_MONOTONIC / CLOCK_REALTIME in milliseconds. */
long long ckt_mono_ms(void);
long long ckt_now_ms(void);

#endif
