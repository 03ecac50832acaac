/* test_money_races.c: races in which an order and its money could disagree
 * (API.md: `DELETE /v1/checkouts/{id}`, the sweeper, `POST
 * /v1/accounts/{id}/adjustments`, the balance ledger). Each test runs the
 * two sides in parallel, over many rounds, against the real daemon, and
 * then asserts what must hold whatever the interleaving: no order on a
 * voided or marked hold, no release of a session that has an order, an
 * archived session that holds nothing, and a ledger that reproduces every
 * balance. The store is on the in-process fake HTTP gateway, so voids and
 * captures are counted where the money is. Runs on SQLite and PostgreSQL.
 * Worked example: 3 x 1999 @ 500 g to the US -> 7692 (Canada, no tax rate:
 * 7197). */
#include "api/fixtures.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TOTAL 7692
#define TOTAL_CA 7197
#define ADDR_US                                                                                            \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\"," \
    "\"country\":\"US\"}"
#define ADDR_CA                                                                                            \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Rue Principale\",\"city\":\"Montreal\",\"postalCode\":\"H2X\"," \
    "\"country\":\"CA\"}"
#define PAY_CARD "{\"method\":\"card\",\"cardToken\":\"tok_visa\"}"
#define PAY_PREPAID "{\"method\":\"prepaid\"}"
#define MAX_SESSIONS 64

typedef struct fx {
    CKT_FX_BASE;
    char contract[64], approver[64], akey[128], ful[64], fkey[128];
} fx;

static fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F.base);
    memset(&F, 0, sizeof(F));
    return 0;
}

/* Fake gateway; daemon (faults); the standard shop on the fake gateway; the
 * buyer account with a large credit limit, a prepaid balance and a
 * contract; an approver and a fulfillment user; a product with plenty of
 * stock. */
static void fx_setup(fx *f, const char *faults)
{
    memset(f, 0, sizeof(*f));
    ckt_fx_opts o = {.faults = faults, .fake_gateway = 1, .sku_prefix = "RACE", .stock = 100000};
    ckt_fx_setup(&f->base, &o);
    ckt_daemon *d = &f->d;
    char path[1024];
    snprintf(path, sizeof(path), "/v1/accounts/%s", f->acct);
    ckt_resp r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"creditLimit\":100000000,\"prepaidBalance\":10000000}",
                          NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    r = ckt_httpf(d, "POST", "/v1/contracts", CKT_ADMIN_KEY, "{\"accountId\":\"%s\",\"amount\":10000000}", f->acct);
    ckt_expect_status(&r, 201);
    snprintf(f->contract, sizeof(f->contract), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
    ckt_user(d, "[\"approver\"]", f->approver, f->akey);
    ckt_give_account(d, f->approver, f->acct);
    ckt_user(d, "[\"fulfillment\"]", f->ful, f->fkey);
}

/* Payment JSON of method index m (0 card, 1 prepaid, 2 purchase order, 3
 * contract, 4 net terms) for session number n (PO numbers stay unique). */
static void payment_json(fx *f, int m, int n, char *out, size_t len)
{
    switch (m) {
    case 0: snprintf(out, len, PAY_CARD); break;
    case 1: snprintf(out, len, PAY_PREPAID); break;
    case 2: snprintf(out, len, "{\"method\":\"purchase_order\",\"poNumber\":\"PO-%d-%ld\"}", n, (long)getpid()); break;
    case 3: snprintf(out, len, "{\"method\":\"contract\",\"contractId\":\"%s\"}", f->contract); break;
    default: snprintf(out, len, "{\"method\":\"net_terms\",\"poNumber\":\"NT-%d-%ld\"}", n, (long)getpid()); break;
    }
}

/* A cart of 3 units, its session, and its inputs (US address, Ground, pay). */
static void new_session(fx *f, const char *pay, char sid[64], char cart[64])
{
    ckt_fx_session(&f->base, f->prod, 3, ADDR_US, pay, sid, cart);
}

static ckt_resp place(fx *f, const char *sid)
{
    return ckt_place(&f->base, sid);
}

static ckt_resp abandon(fx *f, const char *sid)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    return ckt_http(&f->d, "DELETE", path, f->bkey, NULL, NULL);
}

static ckt_resp sweep(fx *f)
{
    return ckt_http(&f->d, "POST", "/v1/admin/jobs/sweeper", CKT_ADMIN_KEY, NULL, NULL);
}

/* Reason of a one-error REST envelope ("" when there is none). */
static const char *reason_of(const ckt_resp *r)
{
    json_t *v = ckt_get(r->json, "0.reason");
    return json_is_string(v) ? json_string_value(v) : "";
}

/* Places until the session has its order (a caller that meets the lease
 * held by another tries again, as a client would). */
static void place_until_ordered(fx *f, const char *sid)
{
    for (int attempt = 0;; attempt++) {
        ckt_resp r = place(f, sid);
        if (r.status == 201 || r.status == 200) {
            ckt_free(&r);
            return;
        }
        if (attempt >= 20 || r.status != 400 || strcmp(reason_of(&r), "CART_ALREADY_IN_PROGRESS") != 0)
            ckt_expect_status(&r, 201);
        ckt_free(&r);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int64_t session_net(fx *f, const char *sid)
{
    return ckt_db_int(&f->d, "SELECT COALESCE(SUM(amount), 0) FROM balance_ledger WHERE session_id = '%s'", sid);
}

/* What every order of the test's database must have, whatever raced it:
 * - a card order: exactly one hold, Authorized, not marked for void, for
 *   its grand total, that the gateway never voided;
 * - any other order: its session's ledger rows sum to its reservation
 *   (+total of credit, -total of prepaid or contract), so nothing was
 *   released after it; and no hold;
 * - no StaleHoldVoided alert names a hold of an order;
 * and the ledger reproduces every balance. */
static void expect_orders_backed(fx *f)
{
    ckt_daemon *d = &f->d;
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE order_id IS NOT NULL"
                                   " AND (status <> 'Authorized' OR void_pending <> 0)"),
                     0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders o WHERE o.payment_method = 'card' AND"
                                   " (SELECT count(*) FROM payment_authorizations pa WHERE pa.order_id = o.id"
                                   "  AND pa.amount = o.grand_total) <> 1"),
                     0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders o WHERE o.payment_method <> 'card' AND"
                                   " (SELECT count(*) FROM payment_authorizations pa WHERE pa.session_id = o.session_id"
                                   "  AND pa.status = 'Authorized') <> 0"),
                     0);
    int64_t bad = ckt_db_int(d, "SELECT count(*) FROM orders o WHERE o.payment_method <> 'card' AND"
                                " COALESCE((SELECT SUM(l.amount) FROM balance_ledger l WHERE l.session_id = o.session_id), 0)"
                                " <> CASE WHEN o.payment_method IN ('purchase_order', 'net_terms') THEN o.grand_total"
                                " ELSE -o.grand_total END");
    if (bad)
        fprintf(stderr, "%lld order(s) whose reservation was released or never made\n", (long long)bad);
    assert_int_equal(bad, 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM alerts a JOIN payment_authorizations pa ON pa.id = a.subject_id"
                                   " WHERE a.kind = 'StaleHoldVoided' AND pa.order_id IS NOT NULL"),
                     0);
    /* The gateway agrees: no hold of an order was voided there. */
    char gw[160];
    int64_t n = ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE order_id IS NOT NULL");
    for (int64_t i = 0; i < n; i++) {
        ckt_db_text(d, gw, sizeof(gw),
                    "SELECT gateway_auth_id FROM payment_authorizations WHERE order_id IS NOT NULL ORDER BY id"
                    " LIMIT 1 OFFSET %lld",
                    (long long)i);
        if (fgw_voided(f->gw, gw))
            fprintf(stderr, "the gateway voided %s, which backs an order\n", gw);
        assert_int_equal(fgw_voided(f->gw, gw), 0);
    }
    ckt_expect_ledger_reconciles(d);
}

/* What an archived session must hold: nothing. No hold Authorized (the
 * gateway answers in these tests, so every void completed before the 200),
 * every hold voided at the gateway, its ledger rows summing to 0, its cart
 * Active, and no order. */
static void expect_holds_nothing(fx *f, const char *sid, const char *cart)
{
    ckt_daemon *d = &f->d;
    assert_int_equal(ckt_db_int(d, "SELECT is_archived FROM checkout_sessions WHERE id = '%s'", sid), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE session_id = '%s'", sid), 0);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Authorized'",
                                sid),
                     0);
    char gw[160];
    int64_t n = ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'", sid);
    for (int64_t i = 0; i < n; i++) {
        ckt_db_text(d, gw, sizeof(gw),
                    "SELECT gateway_auth_id FROM payment_authorizations WHERE session_id = '%s' ORDER BY id"
                    " LIMIT 1 OFFSET %lld",
                    sid, (long long)i);
        assert_int_equal(fgw_voided(f->gw, gw), 1);
    }
    assert_int_equal(session_net(f, sid), 0);
    char status[32];
    ckt_db_text(d, status, sizeof(status), "SELECT status FROM carts WHERE id = '%s'", cart);
    assert_string_equal(status, "Active");
}

/* ------------------------------------------------ sweeper vs. placements */

typedef struct sweep_race {
    fx *f;
    char sid[MAX_SESSIONS][64];
    int n;
} sweep_race;

static void sweep_race_fn(void *arg, int i)
{
    sweep_race *x = arg;
    if (i == 0) {
        /* The sweeper, a few times over the placements. */
        for (int k = 0; k < 3; k++) {
            ckt_resp r = sweep(x->f);
            assert_true(r.status == 200 || (r.status == 409 && strcmp(reason_of(&r), "JOB_RUNNING") == 0));
            ckt_free(&r);
        }
        return;
    }
    ckt_resp r = place(x->f, x->sid[i - 1]);
    /* The order, or the sweeper holding the session right now. */
    if (!(r.status == 201 || (r.status == 400 && strcmp(reason_of(&r), "CART_ALREADY_IN_PROGRESS") == 0)))
        fprintf(stderr, "placement during the sweep: %ld %s\n", r.status, r.body);
    assert_true(r.status == 201 || (r.status == 400 && strcmp(reason_of(&r), "CART_ALREADY_IN_PROGRESS") == 0));
    ckt_free(&r);
}

/* API.md, the sweeper: it "never voids a hold, or gives back a balance, of a
 * session that has an order". 30 "paid, no order" sessions (create_order
 * failed once each, as after a crash or a 500), idle past a 1 s
 * staleAuthorizationSeconds, are placed again while the sweeper runs; card,
 * prepaid, purchase order and contract mixed. 5 rounds, a fresh daemon
 * each (the fault fires 30 times). */
static void sweeper_races_resumed_placements(void **state)
{
    (void)state;
    static sweep_race x;
    for (int round = 0; round < 5; round++) {
        fx *f = &F;
        fx_setup(f, "step.fail:create_order*30");
        memset(&x, 0, sizeof(x));
        x.f = f;
        x.n = 30;
        char cart[64], pay[256], path[1024];
        for (int i = 0; i < x.n; i++) {
            payment_json(f, i % 4, round * 100 + i, pay, sizeof(pay));
            new_session(f, pay, x.sid[i], cart);
            ckt_resp r = place(f, x.sid[i]);
            ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "INTERNAL_ERROR", NULL);
            assert_string_equal(ckt_str(r.json, "0.step"), "create_order");
            ckt_free(&r);
        }
        snprintf(path, sizeof(path), "/v1/stores/%s", f->store);
        ckt_resp r = ckt_http(&f->d, "PATCH", path, CKT_ADMIN_KEY, "{\"staleAuthorizationSeconds\":1}", NULL);
        ckt_expect_status(&r, 200);
        ckt_free(&r);
        /* Idle past it: moved back in the database instead of waited for. */
        ckt_db_exec(&f->d, "UPDATE checkout_sessions SET updated_at = updated_at - 5000");

        ckt_parallel(x.n + 1, sweep_race_fn, &x);

        /* Whatever the sweeper did, placing again finishes every checkout. */
        for (int i = 0; i < x.n; i++)
            place_until_ordered(f, x.sid[i]);
        assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders"), x.n);
        expect_orders_backed(f);
        /* A card order's hold is live at the gateway: capture takes it all. */
        for (int i = 0; i < x.n; i += 4) {
            char oid[64];
            ckt_db_text(&f->d, oid, sizeof(oid), "SELECT id FROM orders WHERE session_id = '%s'", x.sid[i]);
            snprintf(path, sizeof(path), "/v1/orders/%s/capture", oid);
            r = ckt_http(&f->d, "POST", path, f->fkey, NULL, NULL);
            ckt_expect_status(&r, 201);
            assert_int_equal(ckt_int(r.json, "amount"), TOTAL);
            ckt_free(&r);
        }
        ckt_finish(&f->d);
        teardown(NULL);
    }
}

/* ------------------------------------------------ abandon vs. place-order */

typedef struct abandon_race {
    fx *f;
    const char *sid;
    int delay_us; /* how long abandon waits after the release */
    long place_status, abandon_status;
    char place_reason[64], abandon_reason[64];
} abandon_race;

static void abandon_race_fn(void *arg, int i)
{
    abandon_race *x = arg;
    if (i == 0) {
        if (x->delay_us) {
            struct timespec ts = {0, (long)x->delay_us * 1000};
            nanosleep(&ts, NULL);
        }
        ckt_resp r = abandon(x->f, x->sid);
        x->abandon_status = r.status;
        snprintf(x->abandon_reason, sizeof(x->abandon_reason), "%s", reason_of(&r));
        ckt_free(&r);
    } else {
        ckt_resp r = place(x->f, x->sid);
        x->place_status = r.status;
        snprintf(x->place_reason, sizeof(x->place_reason), "%s", reason_of(&r));
        ckt_free(&r);
    }
}

/* API.md, DELETE /v1/checkouts/{id}: abandon takes the lease like
 * place-order, and "an archived session holds nothing". Abandon and
 * place-order sent together (abandon 0 to 1.5 ms later), 40 rounds for each
 * of card, prepaid, purchase order and contract: every session ends with
 * one order and its money, or archived with its cart Active and nothing
 * held. Neither side ever answers 500. */
static void abandon_races_place_order(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    int ordered = 0, archived = 0;
    for (int m = 0; m < 4; m++) {
        for (int round = 0; round < 40; round++) {
            char sid[64], cart[64], pay[256];
            payment_json(f, m, m * 100 + round, pay, sizeof(pay));
            new_session(f, pay, sid, cart);
            abandon_race x = {.f = f, .sid = sid, .delay_us = (round % 4) * 500};
            ckt_parallel(2, abandon_race_fn, &x);
            /* place: the order, the lease held by abandon, or abandoned first. */
            if (!(x.place_status == 201 ||
                  (x.place_status == 400 && strcmp(x.place_reason, "CART_ALREADY_IN_PROGRESS") == 0) ||
                  (x.place_status == 409 && strcmp(x.place_reason, "SESSION_ARCHIVED") == 0)))
                fprintf(stderr, "place-order: %ld %s\n", x.place_status, x.place_reason);
            assert_true(x.place_status == 201 ||
                        (x.place_status == 400 && strcmp(x.place_reason, "CART_ALREADY_IN_PROGRESS") == 0) ||
                        (x.place_status == 409 && strcmp(x.place_reason, "SESSION_ARCHIVED") == 0));
            /* abandon: done, the lease held by the placement, or too late. */
            if (!(x.abandon_status == 200 ||
                  (x.abandon_status == 400 && strcmp(x.abandon_reason, "CART_ALREADY_IN_PROGRESS") == 0) ||
                  (x.abandon_status == 409 && strcmp(x.abandon_reason, "SESSION_COMPLETED") == 0)))
                fprintf(stderr, "abandon: %ld %s\n", x.abandon_status, x.abandon_reason);
            assert_true(x.abandon_status == 200 ||
                        (x.abandon_status == 400 && strcmp(x.abandon_reason, "CART_ALREADY_IN_PROGRESS") == 0) ||
                        (x.abandon_status == 409 && strcmp(x.abandon_reason, "SESSION_COMPLETED") == 0));
            assert_false(x.place_status == 201 && x.abandon_status == 200);
            if (x.place_status != 201 && x.abandon_status != 200) {
                /* Both met the other's lease: the buyer abandons again. */
                ckt_resp r = abandon(f, sid);
                ckt_expect_status(&r, 200);
                ckt_free(&r);
            }
            if (ckt_db_int(&f->d, "SELECT count(*) FROM orders WHERE session_id = '%s'", sid) == 1) {
                ordered++;
                assert_int_equal(ckt_db_int(&f->d, "SELECT is_archived FROM checkout_sessions WHERE id = '%s'", sid), 0);
                char status[32];
                ckt_db_text(&f->d, status, sizeof(status), "SELECT status FROM carts WHERE id = '%s'", cart);
                assert_string_equal(status, "Closed");
            } else {
                archived++;
                expect_holds_nothing(f, sid, cart);
                /* And it stays so: placing again is 409. */
                ckt_resp r = place(f, sid);
                ckt_expect_error(&r, 409, "CONFLICT", "SESSION_ARCHIVED", NULL);
                ckt_free(&r);
            }
        }
    }
    fprintf(stderr, "abandon race: %d ordered, %d archived\n", ordered, archived);
    expect_orders_backed(f);
    ckt_finish(&f->d);
}

/* ------------------------------------------- adjustments vs. placements */

typedef struct adjust_race {
    fx *f;
    char sid[12][64];
    int64_t adjusted; /* sum of the prepaid adjustments that were made */
    int patch;        /* thread 12 PATCHes prepaidBalance instead */
    pthread_mutex_t mu;
} adjust_race;

static void adjust_race_fn(void *arg, int i)
{
    adjust_race *x = arg;
    fx *f = x->f;
    if (i < 12) {
        ckt_resp r = place(f, x->sid[i]);
        ckt_expect_status(&r, 201);
        ckt_free(&r);
        return;
    }
    char path[1024];
    if (x->patch && i == 12) {
        snprintf(path, sizeof(path), "/v1/accounts/%s", f->acct);
        ckt_resp r = ckt_http(&f->d, "PATCH", path, CKT_ADMIN_KEY, "{\"prepaidBalance\":15000000}", NULL);
        ckt_expect_status(&r, 200);
        ckt_free(&r);
        return;
    }
    /* Tops up, withdrawals and credit charges and payments. */
    static const char *const kinds[] = {"prepaid", "prepaid", "credit", "credit"};
    static const int64_t amounts[] = {5000, -1000, 2000, -500};
    int k = (i - 12) % 4;
    snprintf(path, sizeof(path), "/v1/accounts/%s/adjustments", f->acct);
    ckt_resp r = ckt_httpf(&f->d, "POST", path, CKT_ADMIN_KEY, "{\"kind\":\"%s\",\"amount\":%lld,\"memo\":\"race %d\"}",
                           kinds[k], (long long)amounts[k], i);
    ckt_expect_status(&r, 201);
    assert_string_equal(ckt_str(r.json, "entry"), "adjust");
    assert_int_equal(ckt_int(r.json, "amount"), amounts[k]);
    ckt_free(&r);
    if (k < 2) {
        pthread_mutex_lock(&x->mu);
        x->adjusted += amounts[k];
        pthread_mutex_unlock(&x->mu);
    }
}

static int64_t account_field(fx *f, const char *field)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/accounts/%s", f->acct);
    ckt_resp r = ckt_http(&f->d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    int64_t v = ckt_int(r.json, field);
    ckt_free(&r);
    return v;
}

/* API.md, POST /v1/accounts/{id}/adjustments: relative changes are safe
 * beside concurrent orders, and every admin change writes its ledger row in
 * the same commit. 12 placements (prepaid and purchase order) race 8
 * adjustments: the balances are exactly the opening amounts plus the
 * adjustments minus the orders, and the ledger reproduces them. Then the
 * same with a PATCH of prepaidBalance in the race: the PATCH sets it
 * outright, and still no debit is lost from the ledger. */
static void adjustments_race_placements(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    static adjust_race x;
    for (int phase = 0; phase < 2; phase++) {
        memset(&x, 0, sizeof(x));
        pthread_mutex_init(&x.mu, NULL);
        x.f = f;
        x.patch = phase == 1;
        char cart[64], pay[256];
        for (int i = 0; i < 12; i++) {
            payment_json(f, i % 2 ? 2 : 1, phase * 100 + i, pay, sizeof(pay));
            new_session(f, pay, x.sid[i], cart);
        }
        /* Invoiced credit for the race's payments to pay off. */
        char path[1024];
        snprintf(path, sizeof(path), "/v1/accounts/%s/adjustments", f->acct);
        ckt_resp r = ckt_http(&f->d, "POST", path, CKT_ADMIN_KEY, "{\"kind\":\"credit\",\"amount\":10000}", NULL);
        ckt_expect_status(&r, 201);
        ckt_free(&r);
        int64_t prepaid0 = account_field(f, "prepaidBalance"), credit0 = account_field(f, "creditUsed");
        ckt_parallel(20, adjust_race_fn, &x);
        pthread_mutex_destroy(&x.mu);
        int64_t prepaid = account_field(f, "prepaidBalance"), credit = account_field(f, "creditUsed");
        /* 6 prepaid orders, 6 on credit; credit adjustments +2000 x2, -500 x2. */
        assert_int_equal(credit, credit0 + 6 * TOTAL + 2 * 2000 - 2 * 500);
        if (!x.patch)
            assert_int_equal(prepaid, prepaid0 + x.adjusted - 6 * TOTAL);
        /* Every debit is in the ledger, once, with its order. */
        assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM balance_ledger WHERE account_id = '%s'"
                                           " AND kind = 'prepaid' AND entry = 'debit' AND order_id IS NOT NULL",
                                    f->acct),
                         6 * (phase + 1));
        if (x.patch) {
            /* The PATCH's row is the difference from the balance it replaced. */
            int64_t patched = ckt_db_int(&f->d, "SELECT count(*) FROM balance_ledger WHERE account_id = '%s'"
                                                " AND memo = 'prepaidBalance set by PATCH'",
                                         f->acct);
            assert_int_equal(patched, 2); /* the fixture's and the race's */
        }
        expect_orders_backed(f);
    }
    ckt_finish(&f->d);
}

/* The adjustment endpoint's contract: the 201 ledger row, and bad input
 * that changes nothing. */
static void adjustments_contract(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*1");
    ckt_daemon *d = &f->d;
    char path[1024];
    snprintf(path, sizeof(path), "/v1/accounts/%s/adjustments", f->acct);
    int64_t prepaid0 = account_field(f, "prepaidBalance");
    ckt_resp r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, "{\"kind\":\"prepaid\",\"amount\":2500,\"memo\":\"INV-1\"}",
                          NULL);
    ckt_expect_status(&r, 201);
    assert_true(strncmp(ckt_str(r.json, "id"), "led_", 4) == 0);
    assert_string_equal(ckt_str(r.json, "kind"), "prepaid");
    assert_string_equal(ckt_str(r.json, "entry"), "adjust");
    assert_int_equal(ckt_int(r.json, "amount"), 2500);
    assert_string_equal(ckt_str(r.json, "memo"), "INV-1");
    assert_true(json_is_null(ckt_get(r.json, "sessionId")));
    assert_true(json_is_null(ckt_get(r.json, "orderId")));
    assert_true(json_is_null(ckt_get(r.json, "contractId")));
    ckt_free(&r);
    assert_int_equal(account_field(f, "prepaidBalance"), prepaid0 + 2500);

    int64_t rows = ckt_db_int(d, "SELECT count(*) FROM balance_ledger");
    struct {
        const char *body;
        long status;
        const char *reason, *field;
    } bad[] = {
        {"{\"amount\":5}", 400, NULL, "kind"},
        {"{\"kind\":\"contract\",\"amount\":5}", 400, NULL, "kind"},
        {"{\"kind\":\"prepaid\"}", 400, NULL, "amount"},
        {"{\"kind\":\"prepaid\",\"amount\":0}", 400, NULL, "amount"},
        {"{\"kind\":\"prepaid\",\"amount\":\"5\"}", 400, NULL, "amount"},
        {"{\"kind\":\"prepaid\",\"amount\":1.5}", 400, NULL, "amount"},
        {"{\"kind\":\"prepaid\",\"amount\":-100000000000}", 400, "INSUFFICIENT_PREPAID_BALANCE", "amount"},
        {"{\"kind\":\"prepaid\",\"amount\":100000000000001}", 400, NULL, "amount"},
        {"{\"kind\":\"credit\",\"amount\":-1}", 400, "CREDIT_USED_BELOW_ZERO", "amount"},
        {"{\"kind\":\"prepaid\",\"amount\":5,\"extra\":1}", 400, NULL, NULL},
        {"{\"kind\":\"prepaid\",\"amount\":5,\"memo\":7}", 400, NULL, "memo"},
        {"[1]", 400, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, bad[i].body, NULL);
        if (r.status != bad[i].status)
            fprintf(stderr, "%s: %ld %s\n", bad[i].body, r.status, r.body);
        assert_int_equal(r.status, bad[i].status);
        assert_string_equal(ckt_str(r.json, "0.errorCode"), "BAD_REQUEST");
        if (bad[i].reason)
            assert_string_equal(ckt_str(r.json, "0.reason"), bad[i].reason);
        if (bad[i].field)
            assert_string_equal(ckt_str(r.json, "0.field"), bad[i].field);
        ckt_free(&r);
    }
    /* Credit reserved by a checkout without an order is not invoiced: it
     * cannot be paid off, and stays releasable. Charges and payments of
     * invoiced credit move creditUsed both ways. */
    char sid[64], cart[64], pay[256];
    payment_json(f, 2, 1, pay, sizeof(pay));
    new_session(f, pay, sid, cart);
    r = place(f, sid); /* create_order fails once: reserved, no order */
    ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "INTERNAL_ERROR", NULL);
    ckt_free(&r);
    assert_int_equal(account_field(f, "creditUsed"), TOTAL);
    rows = ckt_db_int(d, "SELECT count(*) FROM balance_ledger");
    const char *credit_steps[][2] = {
        {"-1", "400"}, {"1000", "201"}, {"-1000", "201"}, {"-1", "400"},
    };
    for (size_t i = 0; i < 4; i++) {
        r = ckt_httpf(d, "POST", path, CKT_ADMIN_KEY, "{\"kind\":\"credit\",\"amount\":%s}", credit_steps[i][0]);
        assert_int_equal(r.status, atoi(credit_steps[i][1]));
        if (r.status == 400)
            ckt_expect_error(&r, 400, "BAD_REQUEST", "CREDIT_USED_BELOW_ZERO", "amount");
        ckt_free(&r);
    }
    assert_int_equal(account_field(f, "creditUsed"), TOTAL);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM balance_ledger"), rows + 2);
    /* Once ordered, it is invoiced: the buyer pays it. */
    r = place(f, sid);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    r = ckt_httpf(d, "POST", path, CKT_ADMIN_KEY, "{\"kind\":\"credit\",\"amount\":%d,\"memo\":\"INV-2\"}", -TOTAL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    assert_int_equal(account_field(f, "creditUsed"), 0);
    rows = ckt_db_int(d, "SELECT count(*) FROM balance_ledger");
    ckt_expect_ledger_reconciles(d);

    /* Unknown account: 404; a buyer: 403; no key: 401. */
    r = ckt_http(d, "POST", "/v1/accounts/acct_00000000000000000000000000/adjustments", CKT_ADMIN_KEY,
                 "{\"kind\":\"prepaid\",\"amount\":5}", NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(d, "POST", path, f->bkey, "{\"kind\":\"prepaid\",\"amount\":5}", NULL);
    assert_int_equal(r.status, 403);
    ckt_free(&r);
    r = ckt_http(d, "POST", path, NULL, "{\"kind\":\"prepaid\",\"amount\":5}", NULL);
    assert_int_equal(r.status, 401);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM balance_ledger"), rows);
    ckt_finish(&f->d);
}

/* The issue's own steps: the admin reads 10,000, the buyer spends 3,264,
 * the admin PATCHes 15,000. The balance is 15,000 and the ledger explains
 * it: the opening 10,000, the debit, and the PATCH's difference. */
static void patch_after_debit_keeps_ledger(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    ckt_daemon *d = &f->d;
    char acct[64], path[1024], sid[64], cart[64];
    ckt_account(d, "{\"name\":\"Prepaid Co\",\"isBuyer\":true,\"creditLimit\":0,\"prepaidBalance\":10000,"
                   "\"hazmatApproved\":false,\"country\":\"US\"}",
                acct);
    ckt_member(d, f->store, acct);
    ckt_give_account(d, f->buyer, acct);
    snprintf(f->acct, sizeof(f->acct), "%s", acct);
    new_session(f, PAY_PREPAID, sid, cart);
    ckt_resp r = place(f, sid);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/accounts/%s", acct);
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"prepaidBalance\":15000}", NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "prepaidBalance"), 15000);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/accounts/%s/ledger", acct);
    r = ckt_http(d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *items = ckt_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_string_equal(ckt_str(items, "0.entry"), "adjust");
    assert_int_equal(ckt_int(items, "0.amount"), 10000);
    assert_string_equal(ckt_str(items, "1.entry"), "debit");
    assert_int_equal(ckt_int(items, "1.amount"), -TOTAL);
    assert_string_equal(ckt_str(items, "2.entry"), "adjust");
    assert_int_equal(ckt_int(items, "2.amount"), 15000 - (10000 - TOTAL));
    ckt_free(&r);
    /* The same value again changes nothing and writes nothing. */
    snprintf(path, sizeof(path), "/v1/accounts/%s", acct);
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"prepaidBalance\":15000}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM balance_ledger WHERE account_id = '%s'", acct), 3);
    ckt_expect_ledger_reconciles(d);
    ckt_finish(&f->d);
}

/* ----------------------------------------------- PATCH vs. place-order */

typedef struct patch_race {
    fx *f;
    const char *sid;
    long place_status, patch_status;
    char patch_reason[64];
} patch_race;

static void patch_race_fn(void *arg, int i)
{
    patch_race *x = arg;
    if (i == 0) {
        char path[1024];
        snprintf(path, sizeof(path), "/v1/checkouts/%s", x->sid);
        ckt_resp r = ckt_http(&x->f->d, "PATCH", path, x->f->bkey, "{\"shippingAddress\":" ADDR_CA "}", NULL);
        x->patch_status = r.status;
        snprintf(x->patch_reason, sizeof(x->patch_reason), "%s", reason_of(&r));
        ckt_free(&r);
    } else {
        ckt_resp r = place(x->f, x->sid);
        x->place_status = r.status;
        ckt_free(&r);
    }
}

/* A PATCH that changes the address (and so the tax and the total) racing
 * place-order, 30 rounds of card and prepaid: the order always matches the
 * inputs it was placed with (Canada: no tax), its hold or debit is for its
 * total, and any hold of the other total is voided. */
static void patch_races_place_order(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    for (int round = 0; round < 30; round++) {
        char sid[64], cart[64], pay[256];
        payment_json(f, round % 2, round, pay, sizeof(pay));
        new_session(f, pay, sid, cart);
        patch_race x = {.f = f, .sid = sid};
        ckt_parallel(2, patch_race_fn, &x);
        assert_true(x.place_status == 201 || x.place_status == 400);
        assert_true(x.patch_status == 200 ||
                    (x.patch_status == 400 && strcmp(x.patch_reason, "CART_ALREADY_IN_PROGRESS") == 0) ||
                    (x.patch_status == 409 && strcmp(x.patch_reason, "SESSION_COMPLETED") == 0));
        place_until_ordered(f, sid);
        char country[8];
        ckt_db_text(&f->d, country, sizeof(country),
                    "SELECT CASE WHEN shipping_address LIKE '%%\"CA\"%%' THEN 'CA' ELSE 'US' END FROM orders"
                    " WHERE session_id = '%s'",
                    sid);
        int64_t total = ckt_db_int(&f->d, "SELECT grand_total FROM orders WHERE session_id = '%s'", sid);
        assert_int_equal(total, strcmp(country, "CA") == 0 ? TOTAL_CA : TOTAL);
        /* The PATCH landed before the order exactly when the order is Canadian. */
        assert_int_equal(strcmp(country, "CA") == 0, x.patch_status == 200);
        assert_int_equal(ckt_db_int(&f->d, "SELECT grand_total FROM checkout_sessions WHERE id = '%s'", sid), total);
        assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                           " AND status = 'Authorized'",
                                    sid),
                         round % 2 == 0 ? 1 : 0);
    }
    expect_orders_backed(f);
    ckt_finish(&f->d);
}

/* ------------------------------------------------- capture vs. expiry */

typedef struct capture_race {
    fx *f;
    char oid[64];
    long capture_status;
    char capture_reason[64];
} capture_race;

static void capture_race_fn(void *arg, int i)
{
    capture_race *x = arg;
    if (i == 0) {
        ckt_resp r = sweep(x->f);
        assert_true(r.status == 200 || r.status == 409);
        ckt_free(&r);
        return;
    }
    char path[1024];
    snprintf(path, sizeof(path), "/v1/orders/%s/capture", x->oid);
    ckt_resp r = ckt_http(&x->f->d, "POST", path, x->f->fkey, NULL, NULL);
    x->capture_status = r.status;
    snprintf(x->capture_reason, sizeof(x->capture_reason), "%s", reason_of(&r));
    ckt_free(&r);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A capture racing the sweeper's expiry of the same hold, the hold due to
 * expire within 0 to 18 ms, 30 rounds: either the capture took it (a
 * payment row, the gateway's capture, Captured) or it expired first (400
 * NOTHING_TO_CAPTURE, nothing captured anywhere, Expired). Never money
 * captured at the gateway without its payment row, nor a payment on an
 * Expired hold. */
static void capture_races_expiry(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    int captured = 0, expired = 0;
    for (int round = 0; round < 30; round++) {
        char sid[64], cart[64], gw[160];
        capture_race x = {.f = f};
        new_session(f, PAY_CARD, sid, cart);
        ckt_resp r = place(f, sid);
        ckt_expect_status(&r, 201);
        snprintf(x.oid, sizeof(x.oid), "%s", ckt_str(r.json, "orderId"));
        ckt_free(&r);
        ckt_db_text(&f->d, gw, sizeof(gw), "SELECT gateway_auth_id FROM payment_authorizations WHERE order_id = '%s'",
                    x.oid);
        ckt_db_exec(&f->d, "UPDATE payment_authorizations SET expires_at = %lld WHERE order_id = '%s'",
                    (long long)(now_ms() + (round % 10) * 2), x.oid);
        ckt_parallel(2, capture_race_fn, &x);
        /* The sweeper may not have reached the hold yet: let it finish. */
        r = sweep(f);
        ckt_expect_status(&r, 200);
        ckt_free(&r);
        char status[32];
        ckt_db_text(&f->d, status, sizeof(status), "SELECT status FROM payment_authorizations WHERE order_id = '%s'",
                    x.oid);
        int64_t payments = ckt_db_int(&f->d, "SELECT COALESCE(SUM(amount), 0) FROM payments WHERE order_id = '%s'", x.oid);
        if (x.capture_status == 201) {
            captured++;
            assert_string_equal(status, "Captured");
            assert_int_equal(payments, TOTAL);
            assert_int_equal(fgw_captured_amount(f->gw, gw), TOTAL);
        } else {
            expired++;
            if (x.capture_status != 400 || strcmp(x.capture_reason, "NOTHING_TO_CAPTURE") != 0)
                fprintf(stderr, "capture: %ld %s\n", x.capture_status, x.capture_reason);
            assert_int_equal(x.capture_status, 400);
            assert_string_equal(x.capture_reason, "NOTHING_TO_CAPTURE");
            assert_string_equal(status, "Expired");
            assert_int_equal(payments, 0);
            assert_int_equal(fgw_captured_amount(f->gw, gw), 0);
        }
    }
    fprintf(stderr, "capture race: %d captured, %d expired first\n", captured, expired);
    ckt_finish(&f->d);
}

/* --------------------------------------------- approval vs. abandon */

typedef struct approve_race {
    fx *f;
    const char *sid, *oid;
    long approve_status, abandon_status;
} approve_race;

static void approve_race_fn(void *arg, int i)
{
    approve_race *x = arg;
    char path[1024];
    if (i == 0) {
        snprintf(path, sizeof(path), "/v1/orders/%s/approve", x->oid);
        ckt_resp r = ckt_http(&x->f->d, "POST", path, x->f->akey, NULL, NULL);
        x->approve_status = r.status;
        ckt_free(&r);
    } else {
        ckt_resp r = abandon(x->f, x->sid);
        x->abandon_status = r.status;
        ckt_free(&r);
    }
}

/* A net-terms order waiting for approval, approved while the buyer
 * abandons its checkout, 20 rounds: the approval releases it, the abandon is
 * 409 SESSION_COMPLETED, and the credit stays reserved for the order. */
static void approval_races_abandon(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    for (int round = 0; round < 20; round++) {
        char sid[64], cart[64], pay[256], oid[64];
        payment_json(f, 4, round, pay, sizeof(pay));
        new_session(f, pay, sid, cart);
        ckt_resp r = place(f, sid);
        ckt_expect_status(&r, 201);
        snprintf(oid, sizeof(oid), "%s", ckt_str(r.json, "orderId"));
        assert_string_equal(ckt_str(r.json, "order.status"), "PendingApproval");
        ckt_free(&r);
        approve_race x = {.f = f, .sid = sid, .oid = oid};
        ckt_parallel(2, approve_race_fn, &x);
        assert_int_equal(x.approve_status, 200);
        assert_int_equal(x.abandon_status, 409);
        char status[32];
        ckt_db_text(&f->d, status, sizeof(status), "SELECT status FROM orders WHERE id = '%s'", oid);
        assert_string_equal(status, "Activated");
        assert_int_equal(session_net(f, sid), TOTAL);
        assert_int_equal(ckt_db_int(&f->d, "SELECT is_archived FROM checkout_sessions WHERE id = '%s'", sid), 0);
    }
    expect_orders_backed(f);
    ckt_finish(&f->d);
}

/* ------------------------------------- async queue vs. sync placement */

typedef struct queue_race {
    fx *f;
    const char *sid;
    long sync_status, async_status;
    char request_id[64];
} queue_race;

static void queue_race_fn(void *arg, int i)
{
    queue_race *x = arg;
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", x->sid);
    if (i == 0) {
        const char *h[] = {"Prefer: respond-async", NULL};
        ckt_resp r = ckt_http(&x->f->d, "POST", path, x->f->bkey, NULL, h);
        x->async_status = r.status;
        if (r.status == 202)
            snprintf(x->request_id, sizeof(x->request_id), "%s", ckt_str(r.json, "requestId"));
        ckt_free(&r);
    } else {
        ckt_resp r = ckt_http(&x->f->d, "POST", path, x->f->bkey, NULL, NULL);
        x->sync_status = r.status;
        ckt_free(&r);
    }
}

/* An async placement and a synchronous one of the same session, 20 rounds
 * of card and prepaid: one order, one hold (the gateway made one), one debit;
 * the queued request ends Succeeded with that order or Failed because the
 * other held the lease. */
static void queue_races_sync_placement(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL);
    for (int round = 0; round < 20; round++) {
        char sid[64], cart[64], pay[256];
        payment_json(f, round % 2, round, pay, sizeof(pay));
        new_session(f, pay, sid, cart);
        int holds0 = fgw_holds(f->gw);
        queue_race x = {.f = f, .sid = sid};
        ckt_parallel(2, queue_race_fn, &x);
        if (!(x.async_status == 202 || x.async_status == 200 || x.async_status == 400) ||
            !(x.sync_status == 201 || x.sync_status == 200 || x.sync_status == 400))
            fprintf(stderr, "async %ld, sync %ld\n", x.async_status, x.sync_status);
        assert_true(x.sync_status == 201 || x.sync_status == 200 || x.sync_status == 400);
        /* Queued; the order already made (a replay); or the lease held. */
        assert_true(x.async_status == 202 || x.async_status == 200 || x.async_status == 400);
        if (x.async_status == 202) {
            char path[1024], status[16] = "";
            snprintf(path, sizeof(path), "/v1/requests/%s", x.request_id);
            for (int k = 0; k < 500; k++) {
                ckt_resp r = ckt_http(&f->d, "GET", path, f->bkey, NULL, NULL);
                ckt_expect_status(&r, 200);
                snprintf(status, sizeof(status), "%s", ckt_str(r.json, "status"));
                if (strcmp(status, "Failed") == 0)
                    assert_string_equal(ckt_str(r.json, "errors.0.reason"), "CART_ALREADY_IN_PROGRESS");
                ckt_free(&r);
                if (strcmp(status, "Succeeded") == 0 || strcmp(status, "Failed") == 0)
                    break;
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            assert_true(strcmp(status, "Succeeded") == 0 || strcmp(status, "Failed") == 0);
        }
        place_until_ordered(f, sid);
        assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders WHERE session_id = '%s'", sid), 1);
        assert_int_equal(fgw_holds(f->gw) - holds0, round % 2 == 0 ? 1 : 0);
        assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM balance_ledger WHERE session_id = '%s'", sid),
                         round % 2 == 0 ? 0 : 1);
    }
    expect_orders_backed(f);
    ckt_finish(&f->d);
}

/* ------------------------------------------- the ledger, step by step */

static void set_inputs_payment(fx *f, const char *sid, const char *pay)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    ckt_resp r = ckt_httpf(&f->d, "PATCH", path, f->bkey, "{\"payment\":%s}", pay);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
}

/* API.md, the balance ledger: "for every account at every moment" the sums
 * of its rows are its balances. A mixed sequence on one account, checked
 * after every step: opening amounts; orders of every method; money reserved
 * by an order that failed, then given back by a rewind to another method;
 * an abandon; the sweeper's give-back of an idle session; PATCHes and
 * adjustments. */
static void ledger_reproduces_every_balance(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*3");
    ckt_daemon *d = &f->d;
    ckt_expect_ledger_reconciles(d); /* opening prepaid and contract rows */
    char sid[6][64], cart[64], pay[256], path[1024];
    /* Three that reserve, then fail at create_order: prepaid, contract, purchase order. */
    const int failing[3] = {1, 3, 2};
    for (int i = 0; i < 3; i++) {
        payment_json(f, failing[i], 900 + i, pay, sizeof(pay));
        new_session(f, pay, sid[i], cart);
        ckt_resp r = place(f, sid[i]);
        ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "INTERNAL_ERROR", NULL);
        ckt_free(&r);
        ckt_expect_ledger_reconciles(d);
    }
    assert_int_equal(session_net(f, sid[0]), -TOTAL);
    /* A rewind that gives money back: the prepaid one pays by purchase order instead. */
    payment_json(f, 2, 950, pay, sizeof(pay));
    set_inputs_payment(f, sid[0], pay);
    ckt_expect_ledger_reconciles(d);
    place_until_ordered(f, sid[0]);
    assert_int_equal(session_net(f, sid[0]), TOTAL); /* prepaid released, credit reserved */
    ckt_expect_ledger_reconciles(d);
    /* An abandon gives the contract's debit back. */
    ckt_resp r = abandon(f, sid[1]);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    assert_int_equal(session_net(f, sid[1]), 0);
    ckt_expect_ledger_reconciles(d);
    /* The sweeper gives back the idle purchase order's credit. */
    snprintf(path, sizeof(path), "/v1/stores/%s", f->store);
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"staleAuthorizationSeconds\":1}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    ckt_db_exec(d, "UPDATE checkout_sessions SET updated_at = updated_at - 5000 WHERE id = '%s'", sid[2]);
    r = sweep(f);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "released"), 1);
    ckt_free(&r);
    assert_int_equal(session_net(f, sid[2]), 0);
    ckt_expect_ledger_reconciles(d);
    /* Orders of every method. */
    for (int m = 0; m < 5; m++) {
        payment_json(f, m, 960 + m, pay, sizeof(pay));
        new_session(f, pay, sid[3], cart);
        place_until_ordered(f, sid[3]);
        ckt_expect_ledger_reconciles(d);
    }
    /* Admin changes. */
    snprintf(path, sizeof(path), "/v1/accounts/%s", f->acct);
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"prepaidBalance\":123456}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    ckt_expect_ledger_reconciles(d);
    snprintf(path, sizeof(path), "/v1/accounts/%s/adjustments", f->acct);
    const char *adj[] = {"{\"kind\":\"prepaid\",\"amount\":-23456}", "{\"kind\":\"credit\",\"amount\":-7692}",
                         "{\"kind\":\"credit\",\"amount\":300}"};
    for (int i = 0; i < 3; i++) {
        r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, adj[i], NULL);
        ckt_expect_status(&r, 201);
        ckt_free(&r);
        ckt_expect_ledger_reconciles(d);
    }
    assert_int_equal(account_field(f, "prepaidBalance"), 100000);
    expect_orders_backed(f);
    ckt_finish(d);
}

/* ------------------------------------------------------------- crashes */

/* A crash right after the commit that decided a void, before the gateway
 * heard of it: after the restart the session is archived with its cart
 * Active, the hold is still Authorized at the gateway but marked, no order
 * can take it, and the next sweeper run voids it without waiting for
 * staleAuthorizationSeconds. The same for the sweeper's own decision. */
static void crash_between_decision_and_void(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*2,crash.before_void*1");
    ckt_daemon *d = &f->d;
    char sid[64], cart[64], sid2[64], cart2[64];
    new_session(f, PAY_CARD, sid, cart);
    new_session(f, PAY_CARD, sid2, cart2);
    for (int i = 0; i < 2; i++) {
        ckt_resp r = place(f, i ? sid2 : sid);
        ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "INTERNAL_ERROR", NULL);
        ckt_free(&r);
    }
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    ckt_resp r = ckt_http_try(d, "DELETE", path, f->bkey, NULL, NULL);
    assert_int_equal(r.status, 0); /* the daemon died before answering */
    ckt_free(&r);
    assert_int_equal(ckt_wait_exit(d, 10000), 99);
    assert_int_equal(fgw_voids(f->gw), 0);
    assert_int_equal(ckt_db_int(d, "SELECT is_archived FROM checkout_sessions WHERE id = '%s'", sid), 1);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Authorized' AND void_pending = 1",
                                sid),
                     1);
    char status[32];
    ckt_db_text(d, status, sizeof(status), "SELECT status FROM carts WHERE id = '%s'", cart);
    assert_string_equal(status, "Active");

    /* The sweeper's own decision, crashed the same way: sid2 idle past 1 s. */
    ckt_restart(d, "crash.before_void*1", NULL);
    snprintf(path, sizeof(path), "/v1/stores/%s", f->store);
    r = ckt_http(d, "PATCH", path, CKT_ADMIN_KEY, "{\"staleAuthorizationSeconds\":1}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    ckt_db_exec(d, "UPDATE checkout_sessions SET updated_at = updated_at - 5000 WHERE id = '%s'", sid2);
    r = ckt_http_try(d, "POST", "/v1/admin/jobs/sweeper", CKT_ADMIN_KEY, NULL, NULL);
    assert_int_equal(r.status, 0);
    ckt_free(&r);
    assert_int_equal(ckt_wait_exit(d, 10000), 99);
    assert_int_equal(fgw_voids(f->gw), 0);
    /* Decided in one commit: marked, and rewound to pay again. */
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                   " AND status = 'Authorized' AND void_pending = 1",
                                sid2),
                     1);
    char last[32];
    ckt_db_text(d, last, sizeof(last), "SELECT last_successful_step FROM checkout_sessions WHERE id = '%s'", sid2);
    assert_string_equal(last, "business_rules");

    /* The dead run's job lease, as it would have run out (PostgreSQL keeps
     * it for its 5 minutes; SQLite's start-up clears it). */
    ckt_db_exec(d, "UPDATE job_leases SET owner = NULL, lease_until = 0");
    ckt_restart(d, NULL, NULL);
    /* No order can take the marked hold: sid2 pays anew (voiding its old
     * hold on the way) and orders. */
    r = place(f, sid2);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    assert_int_equal(fgw_voids(f->gw), 1);
    /* sid's hold needs no idle time: marked, it is voided on the next run. */
    r = sweep(f);
    ckt_expect_status(&r, 200);
    assert_int_equal(ckt_int(r.json, "voided"), 1);
    ckt_free(&r);
    assert_int_equal(fgw_voids(f->gw), 2);
    expect_holds_nothing(f, sid, cart);
    expect_orders_backed(f);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM alerts WHERE kind = 'StaleHoldVoided'"), 1);
    ckt_finish(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(sweeper_races_resumed_placements, teardown),
        cmocka_unit_test_teardown(abandon_races_place_order, teardown),
        cmocka_unit_test_teardown(adjustments_race_placements, teardown),
        cmocka_unit_test_teardown(adjustments_contract, teardown),
        cmocka_unit_test_teardown(patch_after_debit_keeps_ledger, teardown),
        cmocka_unit_test_teardown(patch_races_place_order, teardown),
        cmocka_unit_test_teardown(capture_races_expiry, teardown),
        cmocka_unit_test_teardown(approval_races_abandon, teardown),
        cmocka_unit_test_teardown(queue_races_sync_placement, teardown),
        cmocka_unit_test_teardown(ledger_reproduces_every_balance, teardown),
        cmocka_unit_test_teardown(crash_between_decision_and_void, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
