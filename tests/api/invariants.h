/* invariants.h: the money invariants of a daemon's database (ARCHITECTURE.md
 * "Domain model", API.md "Payment step by method", the balance ledger,
 * "Fulfillment, cancellation and returns", "Events after the order"), read
 * straight from the SQLite file or the PostgreSQL database of a ckt_daemon
 * in one snapshot, and, when the store is on the fake gateway, compared
 * with what the gateway holds. The soak (test_soak.c) and the race suite
 * (test_race_suite.c) check them after every crash or round.
 *
 * Each invariant is one query that lists what breaks it; a broken one is
 * printed to stderr with its name, a sentence saying what should hold, and
 * the first ids that break it (test_soak.c's and test_race_suite.c's
 * reports name them). The groups:
 *   orders     orders = Completed sessions, each the session's, never
 *              archived, its cart Closed; one live session per cart
 *   holds      a card order has one hold for its total, no other order a
 *              live one; no session two live holds (nor two at all, when
 *              inputs never changed); a hold is voided only with its order
 *              wholly cancelled; captured = its payments = the gateway's;
 *              voids agree with the gateway; every gateway hold is a row
 *   stock      initial stock = stock + ordered - cancelled, per product;
 *              a line's cancelled + fulfilled <= ordered, returned <= fulfilled
 *   ledger     every balance = its ledger sum; an order's ledger rows =
 *              its total less what was given back, of its method's kind;
 *              an archived session holds nothing; creditUsed <= creditLimit
 *   events     one OrderCreated per order, OrderReleased iff released,
 *              a fulfillment order iff released; no event of a missing
 *              order or session
 *   settled    (opts.settled) no lease, Queued/Running request or Pending
 *              change; no live hold, open balance or undone void without
 *              an order
 * Assumptions the suites meet: no admin PATCH of stock or creditLimit, no
 * credit paid down below what cancellations give back, no hold past its
 * expiry. */
#ifndef CK_TEST_INVARIANTS_H
#define CK_TEST_INVARIANTS_H

#include <stddef.h>

#include "api/fake_gateway.h"
#include "api/harness.h"

/* A product and the stock it was created with. */
typedef struct ckt_inv_stock {
    const char *product_id;
    long long initial;
} ckt_inv_stock;

typedef struct ckt_inv_opts {
    fake_gateway *gw;           /* the store's fake gateway (NULL: no gateway-side checks) */
    const ckt_inv_stock *stock; /* products whose stock is checked, nstock of them */
    size_t nstock;
    /* Every checkout finished (ordered or abandoned), nothing running: no
     * session lease or Running/Queued request, no live hold or open
     * balance of a session without an order. */
    int settled;
    /* No session's inputs ever changed: a session has at most one
     * authorization row, voided or not. */
    int one_auth_per_session;
} ckt_inv_opts;

/* Checks every invariant against d's database; returns how many are
 * broken (0: all hold), each printed to stderr. */
int ckt_invariants_check(ckt_daemon *d, const ckt_inv_opts *o);
/* The same, failing the test (cmocka) when one is broken; what names the
 * moment (e.g. "after kill 3"), printed with the failures. */
void ckt_invariants_expect(ckt_daemon *d, const ckt_inv_opts *o, const char *what);

/* ------------------------------------------------ the shop they check */

#include "api/fixtures.h"

#define CKT_MFX_PRODUCTS 3

/* The standard shop on the fake gateway, every payment method funded: the
 * buyer account ("Acme", credit limit and prepaid balance as asked) with a
 * contract, an approver given the account, a fulfillment user, and
 * CKT_MFX_PRODUCTS products (1999, 500 g) with the same initial stock. */
typedef struct ckt_mfx {
    CKT_FX_BASE;
    char contract[64], approver[64], akey[128], ful[64], fkey[128];
    char prods[CKT_MFX_PRODUCTS][64];
    ckt_inv_stock stock[CKT_MFX_PRODUCTS];
} ckt_mfx;

typedef struct ckt_mfx_opts {
    const char *faults;       /* as ckt_fx_opts */
    const char *const *extra; /* as ckt_fx_opts */
    long long credit_limit, prepaid, contract, stock;
} ckt_mfx_opts;

void ckt_mfx_setup(ckt_mfx *m, const ckt_mfx_opts *o);

/* The payment methods of API.md. */
typedef enum ckt_pay { CKT_PAY_CARD, CKT_PAY_PO, CKT_PAY_NET_TERMS, CKT_PAY_PREPAID, CKT_PAY_CONTRACT } ckt_pay;
extern const char *const ckt_pay_names[]; /* "card", "purchase_order", ... */
/* The payment input of method; tag makes PO numbers unique ("PO-<tag>"). */
void ckt_mfx_payment(const ckt_mfx *m, ckt_pay method, const char *tag, char *out, size_t n);
/* The invariant options of the shop: its gateway and products' stock. */
ckt_inv_opts ckt_mfx_inv(ckt_mfx *m, int settled);

/* The reason of a REST error envelope ("" when none). */
const char *ckt_reason(const ckt_resp *r);

#endif
