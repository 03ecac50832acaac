/* test_b2b_payments.c: the B2B side of the checkout transaction (API.md
 * "Checkout session and the checkout transaction": the business_rules step
 * and "Payment step by method"; "Orders": approve). Every business-rule and
 * balance reason with its HTTP status and step, and that a refused order
 * spends nothing; the arithmetic of credit, prepaid and contract balances and
 * their ledger (GET /v1/accounts/{id}/ledger); net-terms approval; balances
 * given back when an order cannot be made or the checkout is abandoned; and
 * the credit limit under concurrent placements. Worked example of API.md:
 * 3 x 1999 @ 500 g to the US -> grandTotal 7692. */
#include "api/fixtures.h"

#include <curl/curl.h>
#include <pthread.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOTAL 7692 /* 3 x 1999, 1500 g, US: API.md's worked example */
#define TOTAL_KP 7197 /* the same to KP: no tax rate, tax 0 */
#define ADDR_US                                                                                            \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\"," \
    "\"country\":\"US\"}"
#define ADDR_KP                                                                                            \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Pyongyang\",\"postalCode\":\"00000\","  \
    "\"country\":\"KP\"}"
#define PAY_PO(po) "{\"method\":\"purchase_order\",\"poNumber\":\"" po "\"}"
#define NSESS 10

/* ---------------------------------------------------------------- helpers */

typedef ckt_fx fx;

static fx F;

static int teardown(void **state)
{
    (void)state;
    ckt_fx_cleanup(&F);
    return 0;
}

/* A product of the store: 1999, 500 g, with these flags and this stock. */
static void make_product(fx *f, int hazmat, int export_controlled, int stock, char out[64])
{
    static int seq;
    char sku[64];
    snprintf(sku, sizeof(sku), "B2B-%d-%ld", ++seq, (long)getpid());
    ckt_product_spec p = {.sku = sku, .stock = stock, .hazmat = hazmat, .export_controlled = export_controlled};
    ckt_fx_product(f, &p, out);
}

/* Daemon, store (KP embargoed), Ground shipping 1000 + 100/kg, US tax 825 bp,
 * a buyer user, a buyer account with this credit limit and prepaid balance,
 * a plain product (stock 100). */
static void fx_setup(fx *f, const char *faults, int64_t credit_limit, int64_t prepaid)
{
    ckt_fx_opts o = {.faults = faults, .balances = 1, .credit_limit = credit_limit, .prepaid = prepaid};
    ckt_fx_setup(f, &o);
    make_product(f, 0, 0, 100, f->prod);
}

/* A cart of acct with qty units of prod, its session, and the inputs
 * (address JSON, the fixture's shipping method, payment JSON). */
static void new_session(fx *f, const char *acct, const char *prod, int qty, const char *addr, const char *pay,
                        char sid[64])
{
    ckt_session_ready(&f->d, f->bkey, f->store, acct, prod, qty, addr, f->shm, pay, sid, NULL);
}

static void set_payment(fx *f, const char *sid, const char *pay)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    ckt_resp r = ckt_httpf(&f->d, "PATCH", path, f->bkey, "{\"payment\":%s}", pay);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
}

/* Places the session; 201 expected; the order id goes to out (may be NULL). */
static void place_ok(fx *f, const char *sid, char out[64])
{
    ckt_resp r = ckt_place(f, sid);
    ckt_expect_status(&r, 201);
    const char *oid = ckt_str(r.json, "orderId");
    assert_true(strncmp(oid, "ord_", 4) == 0);
    assert_string_equal(ckt_str(r.json, "order.id"), oid);
    if (out)
        snprintf(out, 64, "%s", oid);
    ckt_free(&r);
}

/* Places the session and expects the step failure (status, reason, step). */
static void place_fail(fx *f, const char *sid, long status, const char *reason, const char *step)
{
    ckt_place_fails(f, sid, status, reason, step);
    /* The session shows the error. */
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    ckt_resp r = ckt_http(&f->d, "GET", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_true(json_is_true(ckt_get(r.json, "isError")));
    size_t n = json_array_size(ckt_get(r.json, "errors"));
    assert_true(n >= 1);
    char p[64];
    snprintf(p, sizeof(p), "errors.%zu.reason", n - 1);
    assert_string_equal(ckt_str(r.json, p), reason);
    snprintf(p, sizeof(p), "errors.%zu.step", n - 1);
    assert_string_equal(ckt_str(r.json, p), step);
    json_t *oid = ckt_get(r.json, "orderId");
    assert_true(oid == NULL || json_is_null(oid));
    ckt_free(&r);
}

/* An integer field of GET /v1/accounts/{id}. */
static int64_t acct_int(fx *f, const char *acct, const char *field)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/accounts/%s", acct);
    ckt_resp r = ckt_http(&f->d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    int64_t v = ckt_int(r.json, field);
    ckt_free(&r);
    /* The API and the row agree. */
    const char *col = strcmp(field, "creditUsed") == 0 ? "credit_used" : "prepaid_balance";
    assert_int_equal(ckt_db_int(&f->d, "SELECT %s FROM accounts WHERE id = '%s'", col, acct), v);
    return v;
}

static void patch_account(fx *f, const char *acct, const char *body)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/accounts/%s", acct);
    ckt_resp r = ckt_http(&f->d, "PATCH", path, CKT_ADMIN_KEY, body, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
}

/* GET /v1/accounts/{id}/ledger items (caller frees with json_decref). */
/* The account's ledger rows of payments (every row but the `adjust` rows
 * of opening amounts and admin changes), oldest first; asserts on the way
 * that the whole ledger reproduces every balance. Caller frees. */
static json_t *ledger(fx *f, const char *acct)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/accounts/%s/ledger", acct);
    ckt_resp r = ckt_http(&f->d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *all = ckt_get(r.json, "items"), *items = json_array();
    assert_true(json_is_array(all));
    for (size_t i = 0; i < json_array_size(all); i++)
        if (strcmp(ckt_str(json_array_get(all, i), "entry"), "adjust") != 0)
            json_array_append(items, json_array_get(all, i));
    ckt_free(&r);
    ckt_expect_ledger_reconciles(&f->d);
    return items;
}

static size_t ledger_len(fx *f, const char *acct)
{
    json_t *l = ledger(f, acct);
    size_t n = json_array_size(l);
    json_decref(l);
    assert_int_equal(ckt_db_int(&f->d,
                                "SELECT count(*) FROM balance_ledger WHERE account_id = '%s' AND entry <> 'adjust'", acct),
                     (int64_t)n);
    return n;
}

/* Ledger entry e is exactly this (contract, session and order: NULL means JSON null). */
static void expect_entry(json_t *e, const char *kind, int64_t amount, const char *entry, const char *contract,
                         const char *session, const char *order)
{
    if (!json_is_object(e) || strcmp(ckt_str(e, "kind"), kind) || ckt_int(e, "amount") != amount ||
        strcmp(ckt_str(e, "entry"), entry)) {
        char *s = json_dumps(e, JSON_COMPACT);
        fprintf(stderr, "expected %s %lld %s, got %s\n", kind, (long long)amount, entry, s ? s : "(null)");
        free(s);
    }
    assert_true(strncmp(ckt_str(e, "id"), "led_", 4) == 0);
    assert_string_equal(ckt_str(e, "kind"), kind);
    assert_int_equal(ckt_int(e, "amount"), amount);
    assert_string_equal(ckt_str(e, "entry"), entry);
    assert_true(strlen(ckt_str(e, "createdAt")) >= 20);
    const char *keys[] = {"contractId", "sessionId", "orderId"};
    const char *want[] = {contract, session, order};
    for (int k = 0; k < 3; k++) {
        json_t *v = json_object_get(e, keys[k]);
        if (want[k]) {
            assert_true(json_is_string(v));
            assert_string_equal(json_string_value(v), want[k]);
        } else {
            if (!json_is_null(v))
                fprintf(stderr, "%s should be null\n", keys[k]);
            assert_true(json_is_null(v));
        }
    }
}

/* The one ledger entry of l with this kind and entry (fails if not exactly one). */
static json_t *find_entry(json_t *l, const char *kind, const char *entry)
{
    json_t *hit = NULL;
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(l, i, e)
    {
        if (strcmp(ckt_str(e, "kind"), kind) == 0 && strcmp(ckt_str(e, "entry"), entry) == 0) {
            hit = e;
            n++;
        }
    }
    if (n != 1) {
        char *s = json_dumps(l, JSON_COMPACT);
        fprintf(stderr, "expected one %s %s entry in %s\n", kind, entry, s ? s : "(null)");
        free(s);
    }
    assert_int_equal(n, 1);
    return hit;
}

static int64_t orders_of(fx *f, const char *acct)
{
    return ckt_db_int(&f->d, "SELECT count(*) FROM orders WHERE account_id = '%s'", acct);
}

static int64_t events(fx *f, const char *type, const char *order)
{
    return ckt_db_int(&f->d, "SELECT count(*) FROM outbox_events WHERE type = '%s' AND order_id = '%s'", type, order);
}

/* Contract: POST /v1/contracts as the admin. */
static void make_contract(fx *f, const char *acct, int64_t amount, int active, char out[64])
{
    ckt_resp r = ckt_httpf(&f->d, "POST", "/v1/contracts", CKT_ADMIN_KEY,
                           "{\"accountId\":\"%s\",\"amount\":%lld,\"active\":%s}", acct, (long long)amount,
                           active ? "true" : "false");
    ckt_expect_status(&r, 201);
    snprintf(out, 64, "%s", ckt_str(r.json, "id"));
    assert_int_equal(ckt_int(r.json, "remaining"), amount);
    assert_true(active ? json_is_true(ckt_get(r.json, "active")) : json_is_false(ckt_get(r.json, "active")));
    ckt_free(&r);
}

static int64_t contract_remaining(fx *f, const char *id)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/contracts/%s", id);
    ckt_resp r = ckt_http(&f->d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    int64_t v = ckt_int(r.json, "remaining");
    ckt_free(&r);
    return v;
}

/* GET /v1/orders/{id} as the admin (caller frees). */
static json_t *get_order(fx *f, const char *id)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/orders/%s", id);
    ckt_resp r = ckt_http(&f->d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *o = json_incref(r.json);
    ckt_free(&r);
    return o;
}

static void expect_last_step(fx *f, const char *sid, const char *step)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    ckt_resp r = ckt_http(&f->d, "GET", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    json_t *v = ckt_get(r.json, "lastSuccessfulStep");
    if (step) {
        if (!json_is_string(v) || strcmp(json_string_value(v), step))
            fprintf(stderr, "expected lastSuccessfulStep %s: %s\n", step, r.body);
        assert_true(json_is_string(v));
        assert_string_equal(json_string_value(v), step);
    } else {
        assert_true(json_is_null(v));
    }
    ckt_free(&r);
}

/* ------------------------------------------------- business_rules reasons */

static void rule_hazmat(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 100000, 0);
    char haz[64], sid[64], oid[64];
    make_product(f, 1, 0, 100, haz);
    new_session(f, f->acct, haz, 3, ADDR_US, PAY_PO("PO-H1"), sid);

    place_fail(f, sid, 400, "HAZMAT_APPROVAL_REQUIRED", "business_rules");
    /* Nothing spent, no order; an Entitlement CVO names the item. */
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 0);
    assert_int_equal(ledger_len(f, f->acct), 0);
    assert_int_equal(orders_of(f, f->acct), 0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM cart_validation_outputs v JOIN cart_items i"
                                       " ON i.id = v.related_entity_id WHERE v.type = 'Entitlement'"
                                       " AND v.level = 'Error' AND i.product_id = '%s'",
                                haz),
                     1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT stock FROM products WHERE id = '%s'", haz), 100);
    expect_last_step(f, sid, NULL);

    /* The same order for an approved account goes through. */
    patch_account(f, f->acct, "{\"hazmatApproved\":true}");
    place_ok(f, sid, oid);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    assert_int_equal(orders_of(f, f->acct), 1);
    ckt_finish(&f->d);
}

static void rule_export(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 100000, 0);
    char ctl[64], sid[64], sid2[64], oid[64];
    make_product(f, 0, 1, 100, ctl);
    new_session(f, f->acct, ctl, 3, ADDR_KP, PAY_PO("PO-E1"), sid);

    place_fail(f, sid, 400, "EXPORT_RESTRICTED", "business_rules");
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 0);
    assert_int_equal(ledger_len(f, f->acct), 0);
    assert_int_equal(orders_of(f, f->acct), 0);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM cart_validation_outputs v JOIN cart_items i"
                                       " ON i.id = v.related_entity_id WHERE v.type = 'Entitlement'"
                                       " AND i.product_id = '%s'",
                                ctl),
                     1);

    /* A product that is not export-controlled ships to KP (no KP tax rate). */
    new_session(f, f->acct, f->prod, 3, ADDR_KP, PAY_PO("PO-E2"), sid2);
    place_ok(f, sid2, oid);
    json_t *o = get_order(f, oid);
    assert_int_equal(ckt_int(o, "totals.grandTotal"), TOTAL_KP);
    assert_int_equal(ckt_int(o, "totals.tax"), 0);
    json_decref(o);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL_KP);

    /* The controlled product to a country that is not embargoed is fine. */
    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    ckt_resp r = ckt_http(&f->d, "PATCH", path, f->bkey, "{\"shippingAddress\":" ADDR_US "}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    place_ok(f, sid, oid);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL_KP + TOTAL);
    assert_int_equal(orders_of(f, f->acct), 2);
    ckt_finish(&f->d);
}

static void rule_po_number(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 100000, 0);
    char other[64], s1[64], s2[64], s3[64], s4[64], o1[64], o3[64];
    ckt_fx_account(f, 100000, 0, other);

    /* purchase_order without a poNumber. */
    new_session(f, f->acct, f->prod, 3, ADDR_US, "{\"method\":\"purchase_order\"}", s1);
    place_fail(f, s1, 400, "PO_NUMBER_REQUIRED", "business_rules");
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 0);
    assert_int_equal(ledger_len(f, f->acct), 0);
    assert_int_equal(orders_of(f, f->acct), 0);

    /* With one it goes through. */
    set_payment(f, s1, PAY_PO("PO-100"));
    place_ok(f, s1, o1);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders WHERE id = '%s' AND po_number = 'PO-100'", o1),
                     1);

    /* The same PO on the same account again: refused, nothing spent. */
    new_session(f, f->acct, f->prod, 3, ADDR_US, PAY_PO("PO-100"), s2);
    place_fail(f, s2, 400, "DUPLICATE_PO_NUMBER", "business_rules");
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    assert_int_equal(ledger_len(f, f->acct), 1);
    assert_int_equal(orders_of(f, f->acct), 1);
    /* net_terms with a used PO is a duplicate too. */
    set_payment(f, s2, "{\"method\":\"net_terms\",\"poNumber\":\"PO-100\"}");
    place_fail(f, s2, 400, "DUPLICATE_PO_NUMBER", "business_rules");
    assert_int_equal(orders_of(f, f->acct), 1);

    /* The same PO on another account is fine. */
    new_session(f, other, f->prod, 3, ADDR_US, PAY_PO("PO-100"), s3);
    place_ok(f, s3, o3);
    assert_int_equal(acct_int(f, other, "creditUsed"), TOTAL);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);

    /* net_terms does not require a PO number. */
    new_session(f, f->acct, f->prod, 3, ADDR_US, "{\"method\":\"net_terms\"}", s4);
    place_ok(f, s4, NULL);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 2 * TOTAL);
    ckt_finish(&f->d);
}

static void rule_credit_limit(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, TOTAL - 1, 0);
    char sid[64], oid[64];
    new_session(f, f->acct, f->prod, 3, ADDR_US, PAY_PO("PO-C1"), sid);
    place_fail(f, sid, 400, "CREDIT_LIMIT_EXCEEDED", "business_rules");
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 0);
    assert_int_equal(ledger_len(f, f->acct), 0);
    assert_int_equal(orders_of(f, f->acct), 0);

    set_payment(f, sid, "{\"method\":\"net_terms\",\"poNumber\":\"PO-C1\"}");
    place_fail(f, sid, 400, "CREDIT_LIMIT_EXCEEDED", "business_rules");
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 0);
    assert_int_equal(ledger_len(f, f->acct), 0);
    assert_int_equal(orders_of(f, f->acct), 0);

    /* Exactly the limit is allowed. */
    patch_account(f, f->acct, "{\"creditLimit\":7692}");
    place_ok(f, sid, oid);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    json_t *o = get_order(f, oid);
    assert_string_equal(ckt_str(o, "status"), "PendingApproval");
    json_decref(o);
    ckt_finish(&f->d);
}

static void rule_prepaid(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 100000, TOTAL - 1);
    char sid[64], oid[64];
    new_session(f, f->acct, f->prod, 3, ADDR_US, "{\"method\":\"prepaid\"}", sid);
    place_fail(f, sid, 400, "INSUFFICIENT_PREPAID_BALANCE", "payment");
    assert_int_equal(acct_int(f, f->acct, "prepaidBalance"), TOTAL - 1);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 0);
    assert_int_equal(ledger_len(f, f->acct), 0);
    assert_int_equal(orders_of(f, f->acct), 0);
    expect_last_step(f, sid, "business_rules");

    /* A balance of exactly the total covers it, down to 0. */
    patch_account(f, f->acct, "{\"prepaidBalance\":7692}");
    place_ok(f, sid, oid);
    assert_int_equal(acct_int(f, f->acct, "prepaidBalance"), 0);
    assert_int_equal(orders_of(f, f->acct), 1);
    ckt_finish(&f->d);
}

static void rule_contract(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 100000, 0);
    char other[64], inactive[64], foreign[64], small[64], good[64], sid[64], oid[64], pay[256];
    ckt_fx_account(f, 100000, 0, other);
    make_contract(f, f->acct, 100000, 0, inactive);
    make_contract(f, other, 100000, 1, foreign);
    make_contract(f, f->acct, TOTAL - 1, 1, small);
    make_contract(f, f->acct, TOTAL, 1, good);

    /* Missing contractId. */
    new_session(f, f->acct, f->prod, 3, ADDR_US, "{\"method\":\"contract\"}", sid);
    place_fail(f, sid, 400, "CONTRACT_INVALID", "payment");

    const char *bad[] = {inactive, foreign, small};
    for (int i = 0; i < 3; i++) {
        snprintf(pay, sizeof(pay), "{\"method\":\"contract\",\"contractId\":\"%s\"}", bad[i]);
        set_payment(f, sid, pay);
        place_fail(f, sid, 400, "CONTRACT_INVALID", "payment");
    }
    /* Nothing was drawn anywhere. */
    assert_int_equal(contract_remaining(f, inactive), 100000);
    assert_int_equal(contract_remaining(f, foreign), 100000);
    assert_int_equal(contract_remaining(f, small), TOTAL - 1);
    assert_int_equal(contract_remaining(f, good), TOTAL);
    assert_int_equal(ledger_len(f, f->acct), 0);
    assert_int_equal(ledger_len(f, other), 0);
    assert_int_equal(orders_of(f, f->acct), 0);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 0);

    /* A contract with exactly the total remaining pays. */
    snprintf(pay, sizeof(pay), "{\"method\":\"contract\",\"contractId\":\"%s\"}", good);
    set_payment(f, sid, pay);
    place_ok(f, sid, oid);
    assert_int_equal(contract_remaining(f, good), 0);
    assert_int_equal(contract_remaining(f, small), TOTAL - 1);
    assert_int_equal(orders_of(f, f->acct), 1);
    ckt_finish(&f->d);
}

/* ------------------------------------------------------------- arithmetic */

static void balances_arithmetic(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 100000, 10000);
    char ctr[64], s1[64], s2[64], s3[64], s4[64], o1[64], o2[64], o3[64], o4[64], pay[256];
    make_contract(f, f->acct, 10000, 1, ctr);

    /* purchase_order: credit reserved. */
    new_session(f, f->acct, f->prod, 3, ADDR_US, PAY_PO("PO-A1"), s1);
    place_ok(f, s1, o1);
    json_t *o = get_order(f, o1);
    assert_int_equal(ckt_int(o, "totals.subtotal"), 5997);
    assert_int_equal(ckt_int(o, "totals.adjustments"), 0);
    assert_int_equal(ckt_int(o, "totals.shipping"), 1200);
    assert_int_equal(ckt_int(o, "totals.tax"), 495);
    assert_int_equal(ckt_int(o, "totals.grandTotal"), TOTAL);
    assert_string_equal(ckt_str(o, "status"), "Activated");
    assert_string_equal(ckt_str(o, "paymentMethod"), "purchase_order");
    assert_string_equal(ckt_str(o, "poNumber"), "PO-A1");
    assert_int_equal(json_array_size(ckt_get(o, "authorizations")), 0);
    json_decref(o);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    assert_int_equal(acct_int(f, f->acct, "prepaidBalance"), 10000);
    json_t *l = ledger(f, f->acct);
    assert_int_equal(json_array_size(l), 1);
    expect_entry(json_array_get(l, 0), "credit", TOTAL, "reserve", NULL, s1, o1);
    json_decref(l);
    assert_int_equal(events(f, "OrderReleased", o1), 1);

    /* prepaid: debited. */
    new_session(f, f->acct, f->prod, 3, ADDR_US, "{\"method\":\"prepaid\"}", s2);
    place_ok(f, s2, o2);
    assert_int_equal(acct_int(f, f->acct, "prepaidBalance"), 10000 - TOTAL);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    l = ledger(f, f->acct);
    assert_int_equal(json_array_size(l), 2);
    expect_entry(json_array_get(l, 1), "prepaid", -TOTAL, "debit", NULL, s2, o2);
    json_decref(l);

    /* contract: remaining debited, no gateway. */
    snprintf(pay, sizeof(pay), "{\"method\":\"contract\",\"contractId\":\"%s\"}", ctr);
    new_session(f, f->acct, f->prod, 3, ADDR_US, pay, s3);
    place_ok(f, s3, o3);
    assert_int_equal(contract_remaining(f, ctr), 10000 - TOTAL);
    assert_int_equal(acct_int(f, f->acct, "prepaidBalance"), 10000 - TOTAL);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    l = ledger(f, f->acct);
    assert_int_equal(json_array_size(l), 3);
    expect_entry(json_array_get(l, 2), "contract", -TOTAL, "debit", ctr, s3, o3);
    json_decref(l);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM payment_authorizations"), 0);

    /* net_terms: credit reserved, order waits for approval, not released. */
    new_session(f, f->acct, f->prod, 3, ADDR_US, "{\"method\":\"net_terms\",\"poNumber\":\"PO-A4\"}", s4);
    place_ok(f, s4, o4);
    o = get_order(f, o4);
    assert_string_equal(ckt_str(o, "status"), "PendingApproval");
    assert_string_equal(ckt_str(o, "paymentMethod"), "net_terms");
    json_decref(o);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 2 * TOTAL);
    assert_int_equal(events(f, "OrderCreated", o4), 1);
    assert_int_equal(events(f, "OrderReleased", o4), 0);
    l = ledger(f, f->acct);
    assert_int_equal(json_array_size(l), 4);
    expect_entry(json_array_get(l, 3), "credit", TOTAL, "reserve", NULL, s4, o4);
    json_decref(l);

    /* The ledger is admin-only; an unknown account is 404. */
    char path[1024];
    snprintf(path, sizeof(path), "/v1/accounts/%s/ledger", f->acct);
    ckt_resp r = ckt_http(&f->d, "GET", path, f->bkey, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    r = ckt_http(&f->d, "GET", "/v1/accounts/acct_01M80V5EQG4YHAXXJRNX68ZH9P/ledger", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 404);
    ckt_free(&r);
    ckt_finish(&f->d);
}

/* --------------------------------------------------------------- approval */

static void approve_order(fx *f, const char *key, const char *oid, ckt_resp *out)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/orders/%s/approve", oid);
    *out = ckt_http(&f->d, "POST", path, key, NULL, NULL);
}

static void net_terms_approval(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 100000, 0);
    char appr[64], akey[128], stranger[64], skey[128], s1[64], s2[64], s3[64], o1[64], o2[64], o3[64];
    ckt_user(&f->d, "[\"approver\"]", appr, akey);
    ckt_give_account(&f->d, appr, f->acct);
    ckt_user(&f->d, "[\"approver\"]", stranger, skey);
    new_session(f, f->acct, f->prod, 3, ADDR_US, "{\"method\":\"net_terms\",\"poNumber\":\"NT-1\"}", s1);
    place_ok(f, s1, o1);
    assert_int_equal(events(f, "OrderReleased", o1), 0);

    ckt_resp r;
    /* The buyer may not approve. */
    approve_order(f, f->bkey, o1, &r);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    /* An approver not given the account does not see the order. */
    approve_order(f, skey, o1, &r);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    /* An approver who sees every order as an integrator still approves only
     * the accounts given to them. */
    char wide[64], wkey[128];
    ckt_user(&f->d, "[\"approver\",\"integrator\"]", wide, wkey);
    approve_order(f, wkey, o1, &r);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders WHERE id = '%s' AND status = 'PendingApproval'", o1),
                     1);
    assert_int_equal(events(f, "OrderReleased", o1), 0);

    /* The approver given the account releases it: one OrderReleased. */
    approve_order(f, akey, o1, &r);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), o1);
    assert_string_equal(ckt_str(r.json, "status"), "Activated");
    ckt_free(&r);
    assert_int_equal(events(f, "OrderReleased", o1), 1);
    json_t *o = get_order(f, o1);
    assert_string_equal(ckt_str(o, "status"), "Activated");
    json_decref(o);
    /* Approval does not spend credit again. */
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    assert_int_equal(ledger_len(f, f->acct), 1);

    /* Again: 409, and still one event. */
    approve_order(f, akey, o1, &r);
    ckt_expect_error(&r, 409, "CONFLICT", "ORDER_NOT_PENDING_APPROVAL", NULL);
    ckt_free(&r);
    assert_int_equal(events(f, "OrderReleased", o1), 1);

    /* The admin may approve. */
    new_session(f, f->acct, f->prod, 3, ADDR_US, "{\"method\":\"net_terms\",\"poNumber\":\"NT-2\"}", s2);
    place_ok(f, s2, o2);
    approve_order(f, CKT_ADMIN_KEY, o2, &r);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "status"), "Activated");
    ckt_free(&r);
    assert_int_equal(events(f, "OrderReleased", o2), 1);

    /* An order that never waited (purchase_order) is not approvable. */
    new_session(f, f->acct, f->prod, 3, ADDR_US, PAY_PO("PO-3"), s3);
    place_ok(f, s3, o3);
    approve_order(f, akey, o3, &r);
    ckt_expect_error(&r, 409, "CONFLICT", "ORDER_NOT_PENDING_APPROVAL", NULL);
    ckt_free(&r);
    assert_int_equal(events(f, "OrderReleased", o3), 1);
    /* Unknown order: 404. */
    approve_order(f, akey, "ord_01M80V5EQG4YHAXXJRNX68ZH9P", &r);
    ckt_expect_status(&r, 404);
    ckt_free(&r);
    ckt_finish(&f->d);
}

/* ------------------------------------------------------ release on failure */

/* Stock for one order only: the second session fails at validate_cart before
 * it reaches payment, and spends nothing. */
static void release_stock_validate(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, NULL, 100000, 0);
    char prod[64], s1[64], s2[64], o1[64];
    make_product(f, 0, 0, 3, prod);
    new_session(f, f->acct, prod, 3, ADDR_US, PAY_PO("PO-S1"), s1);
    new_session(f, f->acct, prod, 3, ADDR_US, PAY_PO("PO-S2"), s2);
    place_ok(f, s1, o1);
    place_fail(f, s2, 400, "INSUFFICIENT_INVENTORY", "validate_cart");
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    json_t *l = ledger(f, f->acct);
    assert_int_equal(json_array_size(l), 1);
    expect_entry(json_array_get(l, 0), "credit", TOTAL, "reserve", NULL, s1, o1);
    json_decref(l);
    assert_int_equal(orders_of(f, f->acct), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT stock FROM products WHERE id = '%s'", prod), 0);
    ckt_finish(&f->d);
}

/* The second session already reserved credit (create_order failed once by
 * fault) when the first takes the last stock: its create_order then fails
 * INSUFFICIENT_INVENTORY and its credit is given back. A later resume must
 * not make an order without reserving credit again. */
static void release_stock_create_order(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*1", 100000, 0);
    char prod[64], s1[64], s2[64], o1[64], o2[64];
    make_product(f, 0, 0, 3, prod);
    new_session(f, f->acct, prod, 3, ADDR_US, PAY_PO("PO-R1"), s1);
    new_session(f, f->acct, prod, 3, ADDR_US, PAY_PO("PO-R2"), s2);

    place_fail(f, s2, 500, "INTERNAL_ERROR", "create_order");
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    expect_last_step(f, s2, "payment");

    place_ok(f, s1, o1);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 2 * TOTAL);

    place_fail(f, s2, 400, "INSUFFICIENT_INVENTORY", "create_order");
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    json_t *l = ledger(f, f->acct);
    assert_int_equal(json_array_size(l), 3);
    int64_t s2_net = 0, s2_entries = 0;
    for (size_t i = 0; i < json_array_size(l); i++) {
        json_t *e = json_array_get(l, i);
        if (strcmp(ckt_str(e, "sessionId"), s2) == 0) {
            s2_net += ckt_int(e, "amount");
            s2_entries++;
            assert_true(json_is_null(ckt_get(e, "orderId")));
        }
    }
    json_decref(l);
    assert_int_equal(s2_entries, 2);
    assert_int_equal(s2_net, 0);
    assert_int_equal(orders_of(f, f->acct), 1);
    assert_int_equal(ckt_db_int(&f->d, "SELECT stock FROM products WHERE id = '%s'", prod), 0);

    /* Restocked, the buyer places again: the order must hold credit. */
    char path[1024];
    snprintf(path, sizeof(path), "/v1/products/%s", prod);
    ckt_resp r = ckt_http(&f->d, "PATCH", path, CKT_ADMIN_KEY, "{\"stock\":10}", NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    place_ok(f, s2, o2);
    assert_int_equal(orders_of(f, f->acct), 2);
    /* Both orders are on credit: creditUsed covers both. */
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 2 * TOTAL);
    ckt_finish(&f->d);
}

/* Payment reserved credit, create_order keeps failing; abandoning gives the
 * credit back with a release entry. */
static void release_on_abandon(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order", 100000, 0);
    char sid[64];
    new_session(f, f->acct, f->prod, 3, ADDR_US, PAY_PO("PO-X1"), sid);
    place_fail(f, sid, 500, "INTERNAL_ERROR", "create_order");
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    json_t *l = ledger(f, f->acct);
    assert_int_equal(json_array_size(l), 1);
    expect_entry(json_array_get(l, 0), "credit", TOTAL, "reserve", NULL, sid, NULL);
    json_decref(l);
    /* A second failing attempt does not reserve twice. */
    place_fail(f, sid, 500, "INTERNAL_ERROR", "create_order");
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    assert_int_equal(ledger_len(f, f->acct), 1);

    char path[1024];
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    ckt_resp r = ckt_http(&f->d, "DELETE", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_true(json_is_true(ckt_get(r.json, "isArchived")));
    const char *cart = ckt_str(r.json, "cartId");
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Active'", cart), 1);
    ckt_free(&r);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 0);
    l = ledger(f, f->acct);
    assert_int_equal(json_array_size(l), 2);
    expect_entry(json_array_get(l, 0), "credit", TOTAL, "reserve", NULL, sid, NULL);
    expect_entry(json_array_get(l, 1), "credit", -TOTAL, "release", NULL, sid, NULL);
    json_decref(l);
    assert_int_equal(orders_of(f, f->acct), 0);

    /* Abandoning again changes nothing. */
    r = ckt_http(&f->d, "DELETE", path, f->bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 0);
    assert_int_equal(ledger_len(f, f->acct), 2);
    ckt_finish(&f->d);
}

/* Prepaid and contract debits are refunded on abandon too. */
static void refund_on_abandon(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order", 100000, 10000);
    char ctr[64], s1[64], s2[64], pay[256];
    make_contract(f, f->acct, 10000, 1, ctr);
    new_session(f, f->acct, f->prod, 3, ADDR_US, "{\"method\":\"prepaid\"}", s1);
    snprintf(pay, sizeof(pay), "{\"method\":\"contract\",\"contractId\":\"%s\"}", ctr);
    new_session(f, f->acct, f->prod, 3, ADDR_US, pay, s2);
    place_fail(f, s1, 500, "INTERNAL_ERROR", "create_order");
    place_fail(f, s2, 500, "INTERNAL_ERROR", "create_order");
    assert_int_equal(acct_int(f, f->acct, "prepaidBalance"), 10000 - TOTAL);
    assert_int_equal(contract_remaining(f, ctr), 10000 - TOTAL);

    const char *sids[] = {s1, s2};
    for (int i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "/v1/checkouts/%s", sids[i]);
        ckt_resp r = ckt_http(&f->d, "DELETE", path, f->bkey, NULL, NULL);
        ckt_expect_status(&r, 200);
        ckt_free(&r);
    }
    assert_int_equal(acct_int(f, f->acct, "prepaidBalance"), 10000);
    assert_int_equal(contract_remaining(f, ctr), 10000);
    json_t *l = ledger(f, f->acct);
    assert_int_equal(json_array_size(l), 4);
    expect_entry(json_array_get(l, 2), "prepaid", TOTAL, "release", NULL, s1, NULL);
    expect_entry(json_array_get(l, 3), "contract", TOTAL, "release", ctr, s2, NULL);
    json_decref(l);
    ckt_finish(&f->d);
}

/* Changing the payment method after the payment step gives back what the
 * first method reserved before the second reserves. */
static void method_change_releases(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*1", 100000, 10000);
    char sid[64], oid[64];
    new_session(f, f->acct, f->prod, 3, ADDR_US, PAY_PO("PO-M1"), sid);
    place_fail(f, sid, 500, "INTERNAL_ERROR", "create_order");
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), TOTAL);
    set_payment(f, sid, "{\"method\":\"prepaid\"}");
    expect_last_step(f, sid, "tax");
    place_ok(f, sid, oid);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 0);
    assert_int_equal(acct_int(f, f->acct, "prepaidBalance"), 10000 - TOTAL);
    json_t *l = ledger(f, f->acct);
    assert_int_equal(json_array_size(l), 3);
    expect_entry(json_array_get(l, 0), "credit", TOTAL, "reserve", NULL, sid, oid);
    expect_entry(find_entry(l, "credit", "release"), "credit", -TOTAL, "release", NULL, sid, oid);
    expect_entry(find_entry(l, "prepaid", "debit"), "prepaid", -TOTAL, "debit", NULL, sid, oid);
    json_decref(l);
    ckt_finish(&f->d);
}

/* A PO number is unique per account even when the first checkout with it
 * had already passed business_rules (and reserved credit) before another
 * checkout used the same number. */
static void duplicate_po_after_resume(void **state)
{
    (void)state;
    fx *f = &F;
    fx_setup(f, "step.fail:create_order*1", 100000, 0);
    char s1[64], s2[64], o2[64];
    new_session(f, f->acct, f->prod, 3, ADDR_US, PAY_PO("PO-DUP"), s1);
    new_session(f, f->acct, f->prod, 3, ADDR_US, PAY_PO("PO-DUP"), s2);
    place_fail(f, s1, 500, "INTERNAL_ERROR", "create_order");
    place_ok(f, s2, o2);
    /* s1 resumes at create_order: it must not make a second PO-DUP order. */
    ckt_resp r = ckt_place(f, s1);
    long status = r.status;
    if (status == 201)
        fprintf(stderr, "second order with PO-DUP on one account: %s\n", r.body);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM orders WHERE account_id = '%s' AND po_number = 'PO-DUP'",
                                f->acct),
                     1);
    assert_int_equal(status, 400);
    ckt_finish(&f->d);
}

/* ------------------------------------------------------------ concurrency */

typedef struct race {
    fx *f;
    char sid[NSESS][64];
    long status[NSESS];
    char reason[NSESS][64], step[NSESS][32], order[NSESS][64];
    volatile int done;
    int64_t max_used;
    int reads; /* how many times the monitor read creditUsed */
} race;

static const char *str_or_empty(json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "";
}

/* One placement from a worker thread: records, never asserts. */
static void race_one(void *arg, int i)
{
    race *x = arg;
    char url[512], auth[256];
    char *body = NULL;
    snprintf(url, sizeof(url), "%s/v1/checkouts/%s/place-order", x->f->d.base, x->sid[i]);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", x->f->bkey);
    CURL *c = curl_easy_init();
    if (!c)
        return;
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ckt_curl_text);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status[i]);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    json_t *j = body ? json_loads(body, JSON_DECODE_ANY, NULL) : NULL;
    if (json_is_object(j))
        snprintf(x->order[i], 64, "%s", str_or_empty(json_object_get(j, "orderId")));
    else if (json_is_array(j))
    {
        snprintf(x->reason[i], 64, "%s", str_or_empty(json_object_get(json_array_get(j, 0), "reason")));
        snprintf(x->step[i], 32, "%s", str_or_empty(json_object_get(json_array_get(j, 0), "step")));
    }
    if (x->status[i] != 201 && x->status[i] != 400)
        fprintf(stderr, "placement %d: HTTP %ld %s\n", i, x->status[i], body ? body : "");
    json_decref(j);
    free(body);
}

/* Reads credit_used over and over while the placements run, on whichever
 * backend the test uses (no cmocka asserts off the main thread). */
static void *monitor(void *arg)
{
    race *x = arg;
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT credit_used FROM accounts WHERE id = '%s'", x->f->acct);
    if (x->f->d.pg) {
        PGconn *c = PQconnectdb(x->f->d.pg_url);
        while (PQstatus(c) == CONNECTION_OK && !__atomic_load_n(&x->done, __ATOMIC_SEQ_CST)) {
            PGresult *r = PQexec(c, sql);
            if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
                int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
                if (v > x->max_used)
                    x->max_used = v;
                __atomic_add_fetch(&x->reads, 1, __ATOMIC_SEQ_CST);
            }
            PQclear(r);
            usleep(1000);
        }
        PQfinish(c);
        return NULL;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(x->f->d.db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 1000);
    while (!__atomic_load_n(&x->done, __ATOMIC_SEQ_CST)) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
            int64_t v = sqlite3_column_int64(st, 0);
            if (v > x->max_used)
                x->max_used = v;
            __atomic_add_fetch(&x->reads, 1, __ATOMIC_SEQ_CST);
        }
        sqlite3_finalize(st);
        usleep(1000);
    }
    sqlite3_close(db);
    return NULL;
}

/* NSESS placements of 7692 each at once against a limit of 3 x 7692.
 * at_payment: every session already passed business_rules (credit unused
 * then) and failed at payment by fault, so the concurrent resumes start at
 * payment and only its conditional update stands between them and the limit. */
static void run_credit_race(int at_payment_only)
{
    fx *f = &F;
    fx_setup(f, at_payment_only ? "step.fail:payment*10" : NULL, 3 * TOTAL, 0);
    static race x;
    memset(&x, 0, sizeof(x));
    x.f = f;
    for (int i = 0; i < NSESS; i++) {
        char po[64];
        snprintf(po, sizeof(po), "{\"method\":\"purchase_order\",\"poNumber\":\"PO-RACE-%d\"}", i);
        new_session(f, f->acct, f->prod, 3, ADDR_US, po, x.sid[i]);
        if (at_payment_only) {
            place_fail(f, x.sid[i], 500, "INTERNAL_ERROR", "payment");
            expect_last_step(f, x.sid[i], "business_rules");
        }
    }
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 0);
    pthread_t mon;
    assert_int_equal(pthread_create(&mon, NULL, monitor, &x), 0);
    ckt_parallel(NSESS, race_one, &x);
    __atomic_store_n(&x.done, 1, __ATOMIC_SEQ_CST);
    pthread_join(mon, NULL);

    int ok = 0, refused = 0, at_payment = 0;
    for (int i = 0; i < NSESS; i++) {
        at_payment += strcmp(x.step[i], "payment") == 0;
        if (x.status[i] == 201) {
            ok++;
            assert_true(strncmp(x.order[i], "ord_", 4) == 0);
        } else if (x.status[i] == 400 && strcmp(x.reason[i], "CREDIT_LIMIT_EXCEEDED") == 0) {
            refused++;
        } else {
            fprintf(stderr, "placement %d: HTTP %ld reason %s\n", i, x.status[i], x.reason[i]);
        }
    }
    /* Refusals come from business_rules (credit already spent) or, when the
     * check raced, from the payment step's conditional update. */
    fprintf(stderr, "credit race: %d placed, %d refused (%d by the payment step)\n", ok, refused, at_payment);
    assert_int_equal(ok, 3);
    assert_int_equal(refused, NSESS - 3);
    if (at_payment_only)
        assert_int_equal(at_payment, NSESS - 3);
    assert_true(x.reads > 0); /* the monitor really watched */
    assert_true(x.max_used <= 3 * TOTAL);
    assert_int_equal(acct_int(f, f->acct, "creditUsed"), 3 * TOTAL);
    assert_int_equal(orders_of(f, f->acct), 3);
    assert_int_equal(ckt_db_int(&f->d, "SELECT sum(grand_total) FROM orders WHERE account_id = '%s'", f->acct),
                     3 * TOTAL);
    /* The ledger nets to the credit used: three reserves, each with its order. */
    assert_int_equal(ckt_db_int(&f->d, "SELECT count(*) FROM balance_ledger WHERE account_id = '%s'"
                                       " AND entry = 'reserve' AND order_id IS NOT NULL",
                                f->acct),
                     3);
    assert_int_equal(ckt_db_int(&f->d, "SELECT sum(amount) FROM balance_ledger WHERE account_id = '%s'", f->acct),
                     3 * TOTAL);
    assert_int_equal(ckt_db_int(&f->d, "SELECT stock FROM products WHERE id = '%s'", f->prod), 100 - 9);
    ckt_finish(&f->d);
}

static void credit_race(void **state)
{
    (void)state;
    run_credit_race(0);
}

static void credit_race_at_payment(void **state)
{
    (void)state;
    run_credit_race(1);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(rule_hazmat, teardown),
        cmocka_unit_test_teardown(rule_export, teardown),
        cmocka_unit_test_teardown(rule_po_number, teardown),
        cmocka_unit_test_teardown(rule_credit_limit, teardown),
        cmocka_unit_test_teardown(rule_prepaid, teardown),
        cmocka_unit_test_teardown(rule_contract, teardown),
        cmocka_unit_test_teardown(balances_arithmetic, teardown),
        cmocka_unit_test_teardown(net_terms_approval, teardown),
        cmocka_unit_test_teardown(release_stock_validate, teardown),
        cmocka_unit_test_teardown(release_stock_create_order, teardown),
        cmocka_unit_test_teardown(release_on_abandon, teardown),
        cmocka_unit_test_teardown(refund_on_abandon, teardown),
        cmocka_unit_test_teardown(method_change_releases, teardown),
        cmocka_unit_test_teardown(duplicate_po_after_resume, teardown),
        cmocka_unit_test_teardown(credit_race, teardown),
        cmocka_unit_test_teardown(credit_race_at_payment, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
