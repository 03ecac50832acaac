/* test_race_suite.c: the permanent race suite (issue 17). The pairs of
 * operations of API.md that touch one session, hold, balance or order, one
 * row each of ROWS: place vs place, place vs abandon, PATCH vs place,
 * abandon vs abandon, two purchase orders (or net terms) against one
 * credit limit, two prepaid checkouts against one balance, one PO number
 * twice, capture vs capture, approve vs approve, fulfil vs cancel, cancel
 * vs cancel, return vs return, sweeper vs place. A row prepares its
 * target, the two requests are sent from two threads at once (each after
 * a random jitter of 0 to 2 ms from a seeded PRNG: CKT_RACE_SEED, printed;
 * a row may give one side a head start in some rounds), and the row's
 * judge asserts the documented outcome (exactly one wins; the loser gets
 * the documented status and reason) and settles what is left; the money
 * invariants (invariants.h) are checked, settled, after every round. One
 * daemon for the suite, on the fake gateway, every payment method funded.
 * Runs on SQLite and PostgreSQL. */
#include "api/invariants.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 16
#define QTY 2
#define TOTAL 5428 /* 2 x 1999 @ 500 g to the US: 3998 + 1100 shipping + 330 tax */
#define JITTER_US 2000
#define ADDR_US                                                                                            \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\"," \
    "\"country\":\"US\"}"
#define ADDR_CA                                                                                            \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Rue Principale\",\"city\":\"Montreal\",\"postalCode\":\"H2X\"," \
    "\"country\":\"CA\"}"

/* One side of a race: the request and what came back. */
typedef struct side {
    const char *method, *key;
    char path[256], body[512];
    int delay_us, jitter_us; /* delay: the row's head start for the other side */
    long status;
    char reason[64], order[64];
    long long voided; /* the sweeper's answer */
} side;

/* What a round works on. */
typedef struct target {
    char sid[2][64], cart[2][64], acct[64], order[64], item[64], fo[64];
    ckt_pay pay;
    int refunds_before;
} target;

typedef struct race {
    side s[2];
    target t;
    int round;
} race;

typedef struct row {
    const char *name;
    void (*prepare)(race *x);
    void (*judge)(race *x);
} row;

static ckt_mfx M;
static unsigned long long rng;
static unsigned seed;

/* ------------------------------------------------------------ helpers */

static unsigned next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

static void side_set(side *s, const char *method, const char *key, const char *path, const char *body)
{
    s->method = method;
    s->key = key;
    snprintf(s->path, sizeof(s->path), "%s", path);
    snprintf(s->body, sizeof(s->body), "%s", body ? body : "");
}

/* A checkout of acct (M.acct when NULL) paying with pay, ready to place. */
static void checkout(race *x, int k, const char *acct, ckt_pay pay, const char *po_tag)
{
    char p[256], tag[64];
    snprintf(tag, sizeof(tag), "%s", po_tag ? po_tag : "");
    if (!po_tag)
        snprintf(tag, sizeof(tag), "%u-%d-%d-%lld", seed, x->round, k, (long long)ckt_now_ms());
    ckt_mfx_payment(&M, pay, tag, p, sizeof(p));
    ckt_session_ready(&M.d, M.bkey, M.store, acct ? acct : M.acct, M.prods[x->round % CKT_MFX_PRODUCTS], QTY, ADDR_US,
                      M.shm, p, x->t.sid[k], x->t.cart[k]);
    x->t.pay = pay;
}

static void place_path(const char *sid, char *out, size_t n)
{
    snprintf(out, n, "/v1/checkouts/%s/place-order", sid);
}

/* Places session k, expecting the order; fills order, item and fo. */
static void place_ordered(race *x, int k)
{
    ckt_resp r = ckt_place(&M.base, x->t.sid[k]);
    ckt_expect_status(&r, 201);
    snprintf(x->t.order, sizeof(x->t.order), "%s", ckt_str(r.json, "orderId"));
    snprintf(x->t.item, sizeof(x->t.item), "%s", ckt_str(r.json, "order.items.0.id"));
    ckt_free(&r);
    ckt_db_text(&M.d, x->t.fo, sizeof(x->t.fo), "SELECT id FROM fulfillment_orders WHERE order_id = '%s'",
                x->t.order);
}

static void items_body(const race *x, char *out, size_t n, const char *extra)
{
    snprintf(out, n, "{\"items\":[{\"orderItemId\":\"%s\",\"quantity\":%d}]%s}", x->t.item, QTY, extra ? extra : "");
}

static int is(const side *s, long status, const char *reason)
{
    return s->status == status && (!reason || strcmp(s->reason, reason) == 0);
}

static void print_sides(const race *x, const char *what)
{
    for (int i = 0; i < 2; i++)
        fprintf(stderr, "%s, round %d (seed %u): side %d %s %s after %d us -> %ld %s\n", what, x->round, seed, i,
                x->s[i].method, x->s[i].path, x->s[i].jitter_us, x->s[i].status, x->s[i].reason);
}

/* Exactly one side wins with win_status; the other gets one of the
 * documented (status, reason) pairs (reason NULL: any reason). Returns the
 * winner's index. */
typedef struct loss {
    long status;
    const char *reason;
} loss;

static int expect_one_winner(const race *x, const char *what, long win_status, const loss *losses)
{
    int winners = 0, winner = -1;
    for (int i = 0; i < 2; i++)
        if (x->s[i].status == win_status) {
            winners++;
            winner = i;
        }
    int loser_ok = 0;
    if (winners == 1)
        for (const loss *l = losses; l->status; l++)
            loser_ok |= is(&x->s[1 - winner], l->status, l->reason);
    if (winners != 1 || !loser_ok)
        print_sides(x, what);
    assert_int_equal(winners, 1);
    assert_true(loser_ok);
    return winner;
}

static void run_side(void *arg, int i)
{
    race *x = arg;
    side *s = &x->s[i];
    struct timespec ts = {0, (long)(s->delay_us + s->jitter_us) * 1000L};
    nanosleep(&ts, NULL);
    ckt_resp r = ckt_http_try(&M.d, s->method, s->path, s->key, s->body[0] ? s->body : NULL, NULL);
    s->status = r.status;
    snprintf(s->reason, sizeof(s->reason), "%s", ckt_reason(&r));
    json_t *o = ckt_get(r.json, "orderId");
    snprintf(s->order, sizeof(s->order), "%s", json_is_string(o) ? json_string_value(o) : "");
    json_t *v = ckt_get(r.json, "voided");
    s->voided = json_is_integer(v) ? json_integer_value(v) : 0;
    ckt_free(&r);
}

static int64_t orders_of(const char *sid)
{
    return ckt_db_int(&M.d, "SELECT count(*) FROM orders WHERE session_id = '%s'", sid);
}

static void abandon_settles(const char *sid)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    ckt_resp r = ckt_http(&M.d, "DELETE", path, M.bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
}

/* ------------------------------------------------------------ the rows */

/* place vs place, one session (every method): one 201; the other meets the
 * lease (400 CART_ALREADY_IN_PROGRESS) or, once the order exists, replays
 * it (200, the same order). */
static void prep_place_place(race *x)
{
    checkout(x, 0, NULL, (ckt_pay)(x->round % 5), NULL);
    for (int i = 0; i < 2; i++) {
        char p[256];
        place_path(x->t.sid[0], p, sizeof(p));
        side_set(&x->s[i], "POST", M.bkey, p, NULL);
    }
}

static void judge_place_place(race *x)
{
    static const loss l[] = {{400, "CART_ALREADY_IN_PROGRESS"}, {200, NULL}, {0, NULL}};
    int w = expect_one_winner(x, "place vs place", 201, l);
    if (x->s[1 - w].status == 200)
        assert_string_equal(x->s[1 - w].order, x->s[w].order);
    assert_int_equal(orders_of(x->t.sid[0]), 1);
}

/* place vs abandon: never both; the loser meets the lease or the winner's
 * end (409 SESSION_ARCHIVED / SESSION_COMPLETED). Both meeting the lease
 * is settled by abandoning again. */
static void prep_place_abandon(race *x)
{
    char p[256];
    checkout(x, 0, NULL, (ckt_pay)(x->round % 5), NULL);
    place_path(x->t.sid[0], p, sizeof(p));
    side_set(&x->s[0], "POST", M.bkey, p, NULL);
    snprintf(p, sizeof(p), "/v1/checkouts/%s", x->t.sid[0]);
    side_set(&x->s[1], "DELETE", M.bkey, p, NULL);
}

static void judge_place_abandon(race *x)
{
    side *pl = &x->s[0], *ab = &x->s[1];
    int place_ok = is(pl, 201, NULL) || is(pl, 400, "CART_ALREADY_IN_PROGRESS") || is(pl, 409, "SESSION_ARCHIVED");
    int abandon_ok = is(ab, 200, NULL) || is(ab, 400, "CART_ALREADY_IN_PROGRESS") || is(ab, 409, "SESSION_COMPLETED");
    if (!place_ok || !abandon_ok || (pl->status == 201 && ab->status == 200))
        print_sides(x, "place vs abandon");
    assert_true(place_ok && abandon_ok);
    assert_false(pl->status == 201 && ab->status == 200);
    if (pl->status != 201 && ab->status != 200)
        abandon_settles(x->t.sid[0]);
    assert_int_equal(orders_of(x->t.sid[0]), pl->status == 201 ? 1 : 0);
}

/* PATCH (a Canadian address: another total) vs place: the placement wins
 * or meets the PATCH's lease; the PATCH lands first, meets the lease, or
 * comes too late (409 SESSION_COMPLETED). Whatever won, the order's totals
 * are the session's. */
static void prep_patch_place(race *x)
{
    char p[256], body[512];
    checkout(x, 0, NULL, CKT_PAY_CARD, NULL);
    place_path(x->t.sid[0], p, sizeof(p));
    side_set(&x->s[0], "POST", M.bkey, p, NULL);
    snprintf(p, sizeof(p), "/v1/checkouts/%s", x->t.sid[0]);
    snprintf(body, sizeof(body), "{\"shippingAddress\":%s}", ADDR_CA);
    side_set(&x->s[1], "PATCH", M.bkey, p, body);
}

static void judge_patch_place(race *x)
{
    side *pl = &x->s[0], *pa = &x->s[1];
    int place_ok = is(pl, 201, NULL) || is(pl, 400, "CART_ALREADY_IN_PROGRESS");
    int patch_ok = is(pa, 200, NULL) || is(pa, 400, "CART_ALREADY_IN_PROGRESS") || is(pa, 409, "SESSION_COMPLETED");
    if (!place_ok || !patch_ok)
        print_sides(x, "patch vs place");
    assert_true(place_ok && patch_ok);
    if (pl->status != 201) {
        ckt_resp r = ckt_place(&M.base, x->t.sid[0]);
        ckt_expect_status(&r, 201);
        ckt_free(&r);
    }
    assert_int_equal(ckt_db_int(&M.d, "SELECT count(*) FROM orders o JOIN checkout_sessions s ON s.id = o.session_id"
                                      " WHERE s.id = '%s' AND o.grand_total = s.grand_total AND o.tax = s.tax",
                                x->t.sid[0]),
                     1);
}

/* abandon vs abandon of a paid checkout without an order (authorized
 * through authorizePaymentAction): abandoning twice is harmless, so each
 * is 200 or meets the other's lease, at least one 200; nothing is held. */
static void prep_abandon_abandon(race *x)
{
    static const ckt_pay pays[] = {CKT_PAY_CARD, CKT_PAY_PO, CKT_PAY_PREPAID, CKT_PAY_CONTRACT};
    char p[256];
    checkout(x, 0, NULL, pays[x->round % 4], NULL);
    ckt_resp r = ckt_httpf(&M.d, "POST", "/v1/actions/standard/authorizePaymentAction", M.bkey,
                           "{\"inputs\":[{\"cartId\":\"%s\"}]}", x->t.cart[0]);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    snprintf(p, sizeof(p), "/v1/checkouts/%s", x->t.sid[0]);
    for (int i = 0; i < 2; i++)
        side_set(&x->s[i], "DELETE", M.bkey, p, NULL);
}

static void judge_abandon_abandon(race *x)
{
    int ok = 0, wins = 0;
    for (int i = 0; i < 2; i++) {
        ok += is(&x->s[i], 200, NULL) || is(&x->s[i], 400, "CART_ALREADY_IN_PROGRESS");
        wins += x->s[i].status == 200;
    }
    if (ok != 2 || wins < 1)
        print_sides(x, "abandon vs abandon");
    assert_int_equal(ok, 2);
    assert_true(wins >= 1);
    assert_int_equal(ckt_db_int(&M.d, "SELECT is_archived FROM checkout_sessions WHERE id = '%s'", x->t.sid[0]), 1);
}

/* Two checkouts against one balance that covers one: a fresh account whose
 * credit limit (or prepaid balance) is one order's total and a cent short
 * of two; one 201, the other 400 CREDIT_LIMIT_EXCEEDED (or
 * INSUFFICIENT_PREPAID_BALANCE); then the loser is abandoned. */
static void prep_two_against_balance(race *x, ckt_pay pay)
{
    char p[256];
    int credit = pay != CKT_PAY_PREPAID;
    ckt_fx_account(&M.base, credit ? 2LL * TOTAL - 1 : 0, credit ? 0 : 2LL * TOTAL - 1, x->t.acct);
    for (int k = 0; k < 2; k++) {
        checkout(x, k, x->t.acct, pay, NULL);
        place_path(x->t.sid[k], p, sizeof(p));
        side_set(&x->s[k], "POST", M.bkey, p, NULL);
    }
}

static void prep_two_pos_credit(race *x)
{
    prep_two_against_balance(x, x->round % 2 ? CKT_PAY_NET_TERMS : CKT_PAY_PO);
}

static void prep_two_prepaid(race *x)
{
    prep_two_against_balance(x, CKT_PAY_PREPAID);
}

static void judge_two_against_balance(race *x)
{
    const char *reason = x->t.pay == CKT_PAY_PREPAID ? "INSUFFICIENT_PREPAID_BALANCE" : "CREDIT_LIMIT_EXCEEDED";
    loss l[] = {{400, reason}, {0, NULL}};
    int w = expect_one_winner(x, "two checkouts against one balance", 201, l);
    abandon_settles(x->t.sid[1 - w]);
    const char *col = x->t.pay == CKT_PAY_PREPAID ? "prepaid_balance" : "credit_used";
    int64_t left = ckt_db_int(&M.d, "SELECT %s FROM accounts WHERE id = '%s'", col, x->t.acct);
    assert_int_equal(left, x->t.pay == CKT_PAY_PREPAID ? TOTAL - 1 : TOTAL);
}

/* Two checkouts of one account with the same PO number: one 201, the
 * other 400 DUPLICATE_PO_NUMBER (then abandoned). */
static void prep_same_po(race *x)
{
    char p[256], tag[64];
    snprintf(tag, sizeof(tag), "DUP-%u-%d", seed, x->round);
    for (int k = 0; k < 2; k++) {
        checkout(x, k, NULL, x->round % 2 ? CKT_PAY_NET_TERMS : CKT_PAY_PO, tag);
        place_path(x->t.sid[k], p, sizeof(p));
        side_set(&x->s[k], "POST", M.bkey, p, NULL);
    }
    /* net terms and purchase orders share the PO number space per account */
    x->t.pay = CKT_PAY_PO;
}

static void judge_same_po(race *x)
{
    static const loss l[] = {{400, "DUPLICATE_PO_NUMBER"}, {0, NULL}};
    int w = expect_one_winner(x, "same PO number", 201, l);
    abandon_settles(x->t.sid[1 - w]);
}

/* capture vs capture of a card order's rest: one 201; the other finds
 * nothing left (400 NOTHING_TO_CAPTURE). */
static void prep_capture_capture(race *x)
{
    char p[256];
    checkout(x, 0, NULL, CKT_PAY_CARD, NULL);
    place_ordered(x, 0);
    snprintf(p, sizeof(p), "/v1/orders/%s/capture", x->t.order);
    for (int i = 0; i < 2; i++)
        side_set(&x->s[i], "POST", M.fkey, p, NULL);
}

static void judge_capture_capture(race *x)
{
    static const loss l[] = {{400, "NOTHING_TO_CAPTURE"}, {0, NULL}};
    expect_one_winner(x, "capture vs capture", 201, l);
    assert_int_equal(ckt_db_int(&M.d, "SELECT COALESCE(SUM(amount), 0) FROM payments WHERE order_id = '%s'",
                                x->t.order),
                     TOTAL);
}

/* approve vs approve of a net-terms order: one 200, the other 409
 * ORDER_NOT_PENDING_APPROVAL; one OrderReleased. */
static void prep_approve_approve(race *x)
{
    char p[256];
    checkout(x, 0, NULL, CKT_PAY_NET_TERMS, NULL);
    place_ordered(x, 0);
    snprintf(p, sizeof(p), "/v1/orders/%s/approve", x->t.order);
    for (int i = 0; i < 2; i++)
        side_set(&x->s[i], "POST", M.akey, p, NULL);
}

static void judge_approve_approve(race *x)
{
    static const loss l[] = {{409, "ORDER_NOT_PENDING_APPROVAL"}, {0, NULL}};
    expect_one_winner(x, "approve vs approve", 200, l);
    assert_int_equal(ckt_db_int(&M.d, "SELECT count(*) FROM outbox_events WHERE order_id = '%s'"
                                      " AND type = 'OrderReleased'",
                                x->t.order),
                     1);
}

/* fulfil vs cancel of every unit of a card order: one wins; the fulfilment
 * that lost is 409 OVER_FULFILLMENT, the cancel 409 NOTHING_TO_CANCEL. */
static void prep_fulfil_cancel(race *x)
{
    char p[256], body[512];
    checkout(x, 0, NULL, x->round % 2 ? CKT_PAY_CARD : CKT_PAY_PREPAID, NULL);
    place_ordered(x, 0);
    snprintf(p, sizeof(p), "/v1/fulfillment-orders/%s/fulfill", x->t.fo);
    items_body(x, body, sizeof(body), ",\"trackingNumber\":\"TRK-1\"");
    side_set(&x->s[0], "POST", M.fkey, p, body);
    snprintf(p, sizeof(p), "/v1/orders/%s/cancel", x->t.order);
    items_body(x, body, sizeof(body), NULL);
    side_set(&x->s[1], "POST", CKT_ADMIN_KEY, p, body);
}

static void judge_fulfil_cancel(race *x)
{
    side *fu = &x->s[0], *ca = &x->s[1];
    int ok = (is(fu, 200, NULL) && is(ca, 409, "NOTHING_TO_CANCEL")) ||
             (is(ca, 200, NULL) && is(fu, 409, "OVER_FULFILLMENT"));
    if (!ok)
        print_sides(x, "fulfil vs cancel");
    assert_true(ok);
    char status[32];
    ckt_db_text(&M.d, status, sizeof(status), "SELECT status FROM orders WHERE id = '%s'", x->t.order);
    assert_string_equal(status, fu->status == 200 ? "Activated" : "Cancelled");
}

/* cancel vs cancel of every unit (prepaid or contract): one 200, the other
 * 409 NOTHING_TO_CANCEL; the balance given back once (invariants). */
static void prep_cancel_cancel(race *x)
{
    char p[256];
    checkout(x, 0, NULL, x->round % 2 ? CKT_PAY_CONTRACT : CKT_PAY_PREPAID, NULL);
    place_ordered(x, 0);
    snprintf(p, sizeof(p), "/v1/orders/%s/cancel", x->t.order);
    for (int i = 0; i < 2; i++)
        side_set(&x->s[i], "POST", CKT_ADMIN_KEY, p, NULL);
}

static void judge_cancel_cancel(race *x)
{
    static const loss l[] = {{409, "NOTHING_TO_CANCEL"}, {0, NULL}};
    expect_one_winner(x, "cancel vs cancel", 200, l);
}

/* return vs return of every fulfilled unit of a card order: one 201, the
 * other 409 NOTHING_TO_RETURN; one refund at the gateway, of the lines'
 * totals (shipping is not returned). */
static void prep_return_return(race *x)
{
    char p[256], body[512];
    checkout(x, 0, NULL, CKT_PAY_CARD, NULL);
    place_ordered(x, 0);
    snprintf(p, sizeof(p), "/v1/fulfillment-orders/%s/fulfill", x->t.fo);
    items_body(x, body, sizeof(body), ",\"trackingNumber\":\"TRK-2\"");
    ckt_resp r = ckt_http(&M.d, "POST", p, M.fkey, body, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    x->t.refunds_before = fgw_refunds(M.gw);
    snprintf(p, sizeof(p), "/v1/orders/%s/returns", x->t.order);
    items_body(x, body, sizeof(body), NULL);
    for (int i = 0; i < 2; i++)
        side_set(&x->s[i], "POST", CKT_ADMIN_KEY, p, body);
}

static void judge_return_return(race *x)
{
    static const loss l[] = {{409, "NOTHING_TO_RETURN"}, {0, NULL}};
    expect_one_winner(x, "return vs return", 201, l);
    assert_int_equal(fgw_refunds(M.gw) - x->t.refunds_before, 1);
    assert_int_equal(ckt_db_int(&M.d, "SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE order_id = '%s'"
                                      " AND status = 'Completed'",
                                x->t.order),
                     ckt_db_int(&M.d, "SELECT grand_total - shipping FROM orders WHERE id = '%s'", x->t.order));
}

/* sweeper vs place-order of a paid checkout without an order
 * (authorizePaymentAction), idle past the store's staleAuthorizationSeconds
 * (1 s; the session's updatedAt moved back): the sweeper "never voids a
 * hold, or gives back a balance, of a session that has an order". The
 * placement wins or meets the sweeper's lease; the sweeper runs (200) or
 * meets itself (409 JOB_RUNNING). Placing again finishes the checkout. */
static void prep_sweep_place(race *x)
{
    static const ckt_pay pays[] = {CKT_PAY_CARD, CKT_PAY_PO, CKT_PAY_PREPAID, CKT_PAY_CONTRACT};
    char p[256];
    checkout(x, 0, NULL, pays[x->round % 4], NULL);
    ckt_resp r = ckt_httpf(&M.d, "POST", "/v1/actions/standard/authorizePaymentAction", M.bkey,
                           "{\"inputs\":[{\"cartId\":\"%s\"}]}", x->t.cart[0]);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    if (x->round == 0) {
        snprintf(p, sizeof(p), "/v1/stores/%s", M.store);
        r = ckt_http(&M.d, "PATCH", p, CKT_ADMIN_KEY, "{\"staleAuthorizationSeconds\":1}", NULL);
        ckt_expect_status(&r, 200);
        ckt_free(&r);
    }
    ckt_db_exec(&M.d, "UPDATE checkout_sessions SET updated_at = updated_at - 5000 WHERE id = '%s'", x->t.sid[0]);
    place_path(x->t.sid[0], p, sizeof(p));
    side_set(&x->s[0], "POST", M.bkey, p, NULL);
    side_set(&x->s[1], "POST", CKT_ADMIN_KEY, "/v1/admin/jobs/sweeper", NULL);
    x->s[0].delay_us = (x->round / 4) % 2 * 1500; /* in half the rounds, of every method, the sweeper starts first */
}

static void judge_sweep_place(race *x)
{
    side *pl = &x->s[0], *sw = &x->s[1];
    int place_ok = is(pl, 201, NULL) || is(pl, 400, "CART_ALREADY_IN_PROGRESS");
    int sweep_ok = is(sw, 200, NULL) || is(sw, 409, "JOB_RUNNING");
    if (!place_ok || !sweep_ok)
        print_sides(x, "sweeper vs place");
    assert_true(place_ok && sweep_ok);
    static int swept;
    swept += sw->voided > 0 ||
             ckt_db_int(&M.d, "SELECT count(*) FROM balance_ledger WHERE session_id = '%s' AND entry = 'release'",
                        x->t.sid[0]) > 0;
    if (pl->status != 201) {
        ckt_resp r = ckt_place(&M.base, x->t.sid[0]);
        ckt_expect_status(&r, 201);
        ckt_free(&r);
    }
    assert_int_equal(orders_of(x->t.sid[0]), 1);
    if (x->round == ROUNDS - 1)
        fprintf(stderr, "sweeper vs place: the sweeper voided or gave back first in %d of %d rounds\n", swept, ROUNDS);
}

static const row ROWS[] = {
    {"place vs place", prep_place_place, judge_place_place},
    {"place vs abandon", prep_place_abandon, judge_place_abandon},
    {"patch vs place", prep_patch_place, judge_patch_place},
    {"abandon vs abandon", prep_abandon_abandon, judge_abandon_abandon},
    {"two POs vs one credit limit", prep_two_pos_credit, judge_two_against_balance},
    {"two prepaid vs one balance", prep_two_prepaid, judge_two_against_balance},
    {"same PO number", prep_same_po, judge_same_po},
    {"capture vs capture", prep_capture_capture, judge_capture_capture},
    {"approve vs approve", prep_approve_approve, judge_approve_approve},
    {"fulfil vs cancel", prep_fulfil_cancel, judge_fulfil_cancel},
    {"cancel vs cancel", prep_cancel_cancel, judge_cancel_cancel},
    {"return vs return", prep_return_return, judge_return_return},
    {"sweeper vs place", prep_sweep_place, judge_sweep_place}, /* last: it leaves the store's holds stale after 1 s */
};
#define NROWS ((int)(sizeof(ROWS) / sizeof(ROWS[0])))

/* ------------------------------------------------------------ the runner */

static void run_row(const row *w)
{
    long long t0 = ckt_mono_ms();
    int tally[4] = {0}; /* rounds where neither, side 0 only, side 1 only, both got a 2xx */
    for (int round = 0; round < ROUNDS; round++) {
        static race x;
        memset(&x, 0, sizeof(x));
        x.round = round;
        w->prepare(&x);
        for (int i = 0; i < 2; i++)
            x.s[i].jitter_us = (int)(next_rand() % JITTER_US);
        ckt_parallel(2, run_side, &x);
        tally[(x.s[0].status / 100 == 2) + 2 * (x.s[1].status / 100 == 2)]++;
        w->judge(&x);
        char what[128];
        snprintf(what, sizeof(what), "after %s, round %d (seed %u)", w->name, round, seed);
        ckt_inv_opts io = ckt_mfx_inv(&M, 1);
        ckt_invariants_expect(&M.d, &io, what);
    }
    fprintf(stderr, "race %-28s %d rounds (2xx: first only %d, second only %d, both %d, neither %d), %lld ms\n",
            w->name, ROUNDS, tally[1], tally[2], tally[3], tally[0], ckt_mono_ms() - t0);
}

/* One cmocka test per row, named after it; the row is its state. */
static void row_test(void **state)
{
    run_row(*state);
}

static int suite_setup(void **state)
{
    (void)state;
    const char *s = getenv("CKT_RACE_SEED");
    seed = s && *s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)(ckt_now_ms() % 1000000007LL);
    rng = (unsigned long long)seed * 2654435761ULL + 1;
    fprintf(stderr, "race suite: seed %u (CKT_RACE_SEED), %d rows x %d rounds\n", seed, NROWS, ROUNDS);
    ckt_mfx_opts o = {.credit_limit = 1000000000LL, .prepaid = 1000000000LL, .contract = 1000000000LL,
                      .stock = 1000000};
    ckt_mfx_setup(&M, &o);
    return 0;
}

static int suite_teardown(void **state)
{
    (void)state;
    ckt_fx_finish(&M.base);
    ckt_fx_cleanup(&M.base);
    return 0;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct CMUnitTest tests[NROWS];
    for (int i = 0; i < NROWS; i++)
        tests[i] = (struct CMUnitTest){ROWS[i].name, row_test, NULL, NULL, (void *)&ROWS[i]};
    int rc = cmocka_run_group_tests(tests, suite_setup, suite_teardown);
    curl_global_cleanup();
    return rc;
}
