/* test_orders.c: GET /v1/orders/{id} and GET /v1/orders?accountId= (API.md
 * "Orders"). Orders are written by the checkout engine; here the rows are
 * inserted straight into the database file (0003 schema) so the view and the
 * visibility rules are tested on their own. */
#include "api/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORD1 "ord_01M80V5EQG4YHAXXJRNX68ZH9P"
#define ORD2 "ord_01M80V5EQG4YHAXXJRNX68ZH9R"
#define ORD_OTHER "ord_01M80V5EQG4YHAXXJRNX68ZH9S"
#define NO_SUCH_ORDER "ord_01M80V5EQG4YHAXXJRNX68ZH9T"
#define NO_SUCH_ACCOUNT "acct_01M80V5EQG4YHAXXJRNX68ZH9P"
#define ITEM1 "item_01M80V5EQG4YHAXXJRNX68ZHA1"
#define ITEM2 "item_01M80V5EQG4YHAXXJRNX68ZHA2"
#define ITEM3 "item_01M80V5EQG4YHAXXJRNX68ZHA3"
#define SUMMARY1 "osum_01M80V5EQG4YHAXXJRNX68ZHB1"
#define ISUM1 "oisum_01M80V5EQG4YHAXXJRNX68ZHC1"
#define ISUM2 "oisum_01M80V5EQG4YHAXXJRNX68ZHC2"
#define AUTH1 "pa_01M80V5EQG4YHAXXJRNX68ZHD1"
#define AUTH_OLD "pa_01M80V5EQG4YHAXXJRNX68ZHD0"
#define PAY1 "pay_01M80V5EQG4YHAXXJRNX68ZHE1"
#define SHM "shm_01M80V5EQG4YHAXXJRNX68ZHF1"
#define T0 1767225600123LL /* 2026-01-01T00:00:00.123Z */
#define T0_TEXT "2026-01-01T00:00:00.123Z"
#define T1 1767225660456LL /* 2026-01-01T00:01:00.456Z */
#define T1_TEXT "2026-01-01T00:01:00.456Z"
#define ADDRESS                                                                                             \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"region\":\"IL\","        \
    "\"postalCode\":\"62701\",\"country\":\"US\"}"

typedef struct fixture {
    ckt_daemon d;
    char store[64], account[64], other_account[64];
    char buyer[64], buyer_key[128];
    char foreign[64], foreign_key[128];
    char prod1[64], prod2[64];
    char cart1[64], cart2[64], cart3[64];
    char cs1[64], cs2[64], cs3[64];
} fixture;

static void make_cart(fixture *f, const char *key, const char *account, char out[64])
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/stores/%s/carts", f->store);
    ckt_resp r = ckt_httpf(&f->d, "POST", path, key, "{\"accountId\":\"%s\"}", account);
    ckt_expect_status(&r, 201);
    snprintf(out, 64, "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
}

/* A completed (archived) checkout session for the cart, as the engine leaves it. */
static void insert_session(fixture *f, const char *id, const char *cart, const char *buyer, const char *account,
                           const char *order_id)
{
    ckt_db_exec(&f->d,
                "INSERT INTO checkout_sessions (id, cart_id, buyer_id, account_id, store_id, flow_id, flow_version,"
                " state, last_successful_step, is_archived, order_id, inputs_version, inputs, created_at,"
                " updated_at) VALUES ('%s', '%s', '%s', '%s', '%s', 'flow_standard', 1, 'Completed', 'close_cart',"
                " 1, '%s', 1, '{}', %lld, %lld)",
                id, cart, buyer, account, f->store, order_id, T0, T0);
}

static void insert_order(fixture *f, const char *id, const char *number, const char *cart, const char *session,
                         const char *account, const char *buyer, const char *status, const char *method,
                         const char *po_sql, long long subtotal, long long adjustments, long long shipping,
                         long long tax, long long created, long long updated)
{
    ckt_db_exec(&f->d,
                "INSERT INTO orders (id, order_number, cart_id, session_id, store_id, account_id, buyer_id, status,"
                " currency, payment_method, po_number, subtotal, adjustments, shipping, tax, grand_total,"
                " shipping_address, shipping_method_id, created_at, updated_at) VALUES ('%s', '%s', '%s', '%s',"
                " '%s', '%s', '%s', '%s', 'USD', '%s', %s, %lld, %lld, %lld, %lld, %lld, '%s', '%s', %lld, %lld)",
                id, number, cart, session, f->store, account, buyer, status, method, po_sql, subtotal, adjustments,
                shipping, tax, subtotal + adjustments + shipping + tax, ADDRESS, SHM, created, updated);
}

/* Store, two accounts, a buyer given the first and a "foreign" buyer given
 * the second, two products, and three orders: ORD1 (card, 2 items, summary,
 * authorizations, a payment) and ORD2 (net_terms with a PO number) for the
 * first account, ORD_OTHER for the second. */
static void setup_orders(fixture *f)
{
    memset(f, 0, sizeof(*f));
    ckt_start(&f->d, NULL, NULL);
    ckt_store(&f->d, f->store);
    ckt_account(&f->d, NULL, f->account);
    ckt_account(&f->d, NULL, f->other_account);
    ckt_member(&f->d, f->store, f->account);
    ckt_member(&f->d, f->store, f->other_account);
    ckt_user(&f->d, "[\"buyer\"]", f->buyer, f->buyer_key);
    ckt_give_account(&f->d, f->buyer, f->account);
    ckt_user(&f->d, "[\"buyer\"]", f->foreign, f->foreign_key);
    ckt_give_account(&f->d, f->foreign, f->other_account);
    ckt_product(&f->d, f->store, NULL, f->prod1);
    ckt_product(&f->d, f->store, NULL, f->prod2);
    make_cart(f, f->buyer_key, f->account, f->cart1);
    make_cart(f, f->buyer_key, f->account, f->cart2);
    make_cart(f, f->foreign_key, f->other_account, f->cart3);
    snprintf(f->cs1, sizeof(f->cs1), "cs_01M80V5EQG4YHAXXJRNX68ZHG1");
    snprintf(f->cs2, sizeof(f->cs2), "cs_01M80V5EQG4YHAXXJRNX68ZHG2");
    snprintf(f->cs3, sizeof(f->cs3), "cs_01M80V5EQG4YHAXXJRNX68ZHG3");
    insert_session(f, f->cs1, f->cart1, f->buyer, f->account, ORD1);
    insert_session(f, f->cs2, f->cart2, f->buyer, f->account, ORD2);
    insert_session(f, f->cs3, f->cart3, f->foreign, f->other_account, ORD_OTHER);

    /* ORD1: 3 x 1999 and 2 x 500 with a 50 adjustment; shipping 1200; US tax 825 bp. */
    insert_order(f, ORD1, "100001", f->cart1, f->cs1, f->account, f->buyer, "Activated", "card", "NULL", 6997, -50,
                 1200, 573, T0, T1);
    ckt_db_exec(&f->d,
                "INSERT INTO order_items (id, order_id, product_id, sku, quantity, unit_price, adjustment, tax,"
                " total, created_at) VALUES ('%s', '%s', '%s', 'SKU-A', 3, 1999, 0, 495, 6492, %lld),"
                " ('%s', '%s', '%s', 'SKU-B', 2, 500, -50, 78, 1028, %lld)",
                ITEM2, ORD1, f->prod2, T0, ITEM1, ORD1, f->prod1, T0);
    ckt_db_exec(&f->d, "INSERT INTO order_summaries (id, order_id, created_at) VALUES ('%s', '%s', %lld)",
                SUMMARY1, ORD1, T0);
    ckt_db_exec(&f->d,
                "INSERT INTO order_item_summaries (id, summary_id, order_item_id, quantity_ordered,"
                " quantity_fulfilled, quantity_cancelled, quantity_returned) VALUES"
                " ('%s', '%s', '%s', 3, 1, 1, 0), ('%s', '%s', '%s', 2, 0, 0, 0)",
                ISUM2, SUMMARY1, ITEM2, ISUM1, SUMMARY1, ITEM1);
    /* The authorization that paid (linked to the order) and an earlier one of
     * the same session, voided before the order existed (no order_id). */
    ckt_db_exec(&f->d,
                "INSERT INTO payment_authorizations (id, session_id, order_id, method, gateway, gateway_auth_id,"
                " amount, captured_amount, status, idempotency_key, expires_at, created_at, updated_at) VALUES"
                " ('%s', '%s', '%s', 'card', 'test', 'gw_auth_1', 8720, 0, 'Authorized', 'idem-auth-1', %lld,"
                " %lld, %lld),"
                " ('%s', '%s', NULL, 'card', 'test', 'gw_auth_0', 8000, 0, 'Voided', 'idem-auth-0', %lld, %lld,"
                " %lld)",
                AUTH1, f->cs1, ORD1, T1 + 86400000LL, T0, T0, AUTH_OLD, f->cs1, T1 + 86400000LL, T0, T0);
    ckt_db_exec(&f->d,
                "INSERT INTO payments (id, authorization_id, order_id, amount, gateway_payment_id,"
                " idempotency_key, created_at) VALUES ('%s', '%s', '%s', 2500, 'gw_pay_1', 'idem-pay-1', %lld)",
                PAY1, AUTH1, ORD1, T1);

    /* ORD2: net terms with a PO number, one item, no summary items or payments. */
    insert_order(f, ORD2, "100002", f->cart2, f->cs2, f->account, f->buyer, "PendingApproval", "net_terms",
                 "'PO-77'", 1999, 0, 1000, 165, T1, T1);
    ckt_db_exec(&f->d,
                "INSERT INTO order_items (id, order_id, product_id, sku, quantity, unit_price, adjustment, tax,"
                " total, created_at) VALUES ('%s', '%s', '%s', 'SKU-A', 1, 1999, 0, 165, 2164, %lld)",
                ITEM3, ORD2, f->prod1, T1);
    ckt_db_exec(&f->d, "INSERT INTO order_summaries (id, order_id, created_at) VALUES"
                       " ('osum_01M80V5EQG4YHAXXJRNX68ZHB2', '%s', %lld)",
                ORD2, T1);

    insert_order(f, ORD_OTHER, "100003", f->cart3, f->cs3, f->other_account, f->foreign, "Activated", "prepaid",
                 "NULL", 1999, 0, 0, 0, T1, T1);
}

/* Asserts obj is an object holding exactly these keys (NULL-terminated). */
static void expect_keys(json_t *obj, const char *const keys[])
{
    assert_true(json_is_object(obj));
    size_t n = 0;
    for (; keys[n]; n++) {
        if (!json_object_get(obj, keys[n]))
            fprintf(stderr, "missing key '%s'\n", keys[n]);
        assert_non_null(json_object_get(obj, keys[n]));
    }
    if (json_object_size(obj) != n) {
        char *s = json_dumps(obj, JSON_COMPACT);
        fprintf(stderr, "expected %zu keys, got %s\n", n, s);
        free(s);
    }
    assert_int_equal(json_object_size(obj), n);
}

static const char *const order_keys[] = {
    "id",       "orderNumber", "cartId",         "sessionId", "storeId",        "accountId",
    "status",   "currency",    "paymentMethod",  "poNumber",  "totals",         "items",
    "summary",  "authorizations", "payments",    "deliveries", "createdAt", "refunds",
    /* extras beyond API.md */
    "buyerId",  "shippingAddress", "updatedAt",  "fulfillmentOrderId", NULL};
static const char *const totals_keys[] = {"subtotal", "adjustments", "shipping", "tax", "grandTotal", NULL};
static const char *const item_keys[] = {"id",         "productId", "sku",   "quantity",
                                        "unitPrice",  "adjustment", "tax",  "total", NULL};
static const char *const summary_keys[] = {"id", "items", NULL};
static const char *const item_summary_keys[] = {"orderItemId", "quantityOrdered", "quantityFulfilled",
                                                "quantityCancelled", "quantityReturned", NULL};
static const char *const auth_keys[] = {"id", "status", "amount", "capturedAmount", "gatewayAuthId", NULL};
static const char *const payment_keys[] = {"id", "authorizationId", "amount", "createdAt", NULL};

/* Every field of ORD1 as the fixture wrote it. */
static void expect_order1(fixture *f, json_t *o)
{
    expect_keys(o, order_keys);
    assert_string_equal(ckt_str(o, "id"), ORD1);
    assert_string_equal(ckt_str(o, "orderNumber"), "100001");
    assert_string_equal(ckt_str(o, "cartId"), f->cart1);
    assert_string_equal(ckt_str(o, "sessionId"), f->cs1);
    assert_string_equal(ckt_str(o, "storeId"), f->store);
    assert_string_equal(ckt_str(o, "accountId"), f->account);
    assert_string_equal(ckt_str(o, "buyerId"), f->buyer);
    assert_string_equal(ckt_str(o, "status"), "Activated");
    assert_string_equal(ckt_str(o, "currency"), "USD");
    assert_string_equal(ckt_str(o, "paymentMethod"), "card");
    assert_true(json_is_null(ckt_get(o, "poNumber")));

    expect_keys(ckt_get(o, "totals"), totals_keys);
    assert_int_equal(ckt_int(o, "totals.subtotal"), 6997);
    assert_int_equal(ckt_int(o, "totals.adjustments"), -50);
    assert_int_equal(ckt_int(o, "totals.shipping"), 1200);
    assert_int_equal(ckt_int(o, "totals.tax"), 573);
    assert_int_equal(ckt_int(o, "totals.grandTotal"), 8720);

    json_t *addr = ckt_get(o, "shippingAddress");
    json_t *want = json_loads(ADDRESS, 0, NULL);
    assert_non_null(want);
    assert_true(json_equal(addr, want));
    json_decref(want);

    /* Items in id order: ITEM1 (inserted second) first. */
    assert_int_equal(json_array_size(ckt_get(o, "items")), 2);
    expect_keys(ckt_get(o, "items.0"), item_keys);
    expect_keys(ckt_get(o, "items.1"), item_keys);
    assert_string_equal(ckt_str(o, "items.0.id"), ITEM1);
    assert_string_equal(ckt_str(o, "items.0.productId"), f->prod1);
    assert_string_equal(ckt_str(o, "items.0.sku"), "SKU-B");
    assert_int_equal(ckt_int(o, "items.0.quantity"), 2);
    assert_int_equal(ckt_int(o, "items.0.unitPrice"), 500);
    assert_int_equal(ckt_int(o, "items.0.adjustment"), -50);
    assert_int_equal(ckt_int(o, "items.0.tax"), 78);
    assert_int_equal(ckt_int(o, "items.0.total"), 1028);
    assert_string_equal(ckt_str(o, "items.1.id"), ITEM2);
    assert_string_equal(ckt_str(o, "items.1.productId"), f->prod2);
    assert_string_equal(ckt_str(o, "items.1.sku"), "SKU-A");
    assert_int_equal(ckt_int(o, "items.1.quantity"), 3);
    assert_int_equal(ckt_int(o, "items.1.unitPrice"), 1999);
    assert_int_equal(ckt_int(o, "items.1.adjustment"), 0);
    assert_int_equal(ckt_int(o, "items.1.tax"), 495);
    assert_int_equal(ckt_int(o, "items.1.total"), 6492);

    expect_keys(ckt_get(o, "summary"), summary_keys);
    assert_string_equal(ckt_str(o, "summary.id"), SUMMARY1);
    assert_int_equal(json_array_size(ckt_get(o, "summary.items")), 2);
    expect_keys(ckt_get(o, "summary.items.0"), item_summary_keys);
    expect_keys(ckt_get(o, "summary.items.1"), item_summary_keys);
    assert_string_equal(ckt_str(o, "summary.items.0.orderItemId"), ITEM1);
    assert_int_equal(ckt_int(o, "summary.items.0.quantityOrdered"), 2);
    assert_int_equal(ckt_int(o, "summary.items.0.quantityFulfilled"), 0);
    assert_int_equal(ckt_int(o, "summary.items.0.quantityCancelled"), 0);
    assert_int_equal(ckt_int(o, "summary.items.0.quantityReturned"), 0);
    assert_string_equal(ckt_str(o, "summary.items.1.orderItemId"), ITEM2);
    assert_int_equal(ckt_int(o, "summary.items.1.quantityOrdered"), 3);
    assert_int_equal(ckt_int(o, "summary.items.1.quantityFulfilled"), 1);
    assert_int_equal(ckt_int(o, "summary.items.1.quantityCancelled"), 1);
    assert_int_equal(ckt_int(o, "summary.items.1.quantityReturned"), 0);

    /* The session's earlier, voided authorization is listed too, in id order. */
    assert_int_equal(json_array_size(ckt_get(o, "authorizations")), 2);
    expect_keys(ckt_get(o, "authorizations.0"), auth_keys);
    expect_keys(ckt_get(o, "authorizations.1"), auth_keys);
    assert_string_equal(ckt_str(o, "authorizations.0.id"), AUTH_OLD);
    assert_string_equal(ckt_str(o, "authorizations.0.status"), "Voided");
    assert_int_equal(ckt_int(o, "authorizations.0.amount"), 8000);
    assert_int_equal(ckt_int(o, "authorizations.0.capturedAmount"), 0);
    assert_string_equal(ckt_str(o, "authorizations.0.gatewayAuthId"), "gw_auth_0");
    assert_string_equal(ckt_str(o, "authorizations.1.id"), AUTH1);
    assert_string_equal(ckt_str(o, "authorizations.1.status"), "Authorized");
    assert_int_equal(ckt_int(o, "authorizations.1.amount"), 8720);
    assert_int_equal(ckt_int(o, "authorizations.1.capturedAmount"), 0);
    assert_string_equal(ckt_str(o, "authorizations.1.gatewayAuthId"), "gw_auth_1");

    assert_int_equal(json_array_size(ckt_get(o, "payments")), 1);
    expect_keys(ckt_get(o, "payments.0"), payment_keys);
    assert_string_equal(ckt_str(o, "payments.0.id"), PAY1);
    assert_string_equal(ckt_str(o, "payments.0.authorizationId"), AUTH1);
    assert_int_equal(ckt_int(o, "payments.0.amount"), 2500);
    assert_string_equal(ckt_str(o, "payments.0.createdAt"), T1_TEXT);

    assert_true(json_is_array(ckt_get(o, "deliveries")));
    assert_int_equal(json_array_size(ckt_get(o, "deliveries")), 0);
    assert_string_equal(ckt_str(o, "createdAt"), T0_TEXT);
    assert_string_equal(ckt_str(o, "updatedAt"), T1_TEXT);
}

static void expect_order2(fixture *f, json_t *o)
{
    expect_keys(o, order_keys);
    assert_string_equal(ckt_str(o, "id"), ORD2);
    assert_string_equal(ckt_str(o, "orderNumber"), "100002");
    assert_string_equal(ckt_str(o, "cartId"), f->cart2);
    assert_string_equal(ckt_str(o, "sessionId"), f->cs2);
    assert_string_equal(ckt_str(o, "status"), "PendingApproval");
    assert_string_equal(ckt_str(o, "paymentMethod"), "net_terms");
    assert_string_equal(ckt_str(o, "poNumber"), "PO-77");
    assert_int_equal(ckt_int(o, "totals.grandTotal"), 1999 + 1000 + 165);
    assert_int_equal(json_array_size(ckt_get(o, "items")), 1);
    assert_string_equal(ckt_str(o, "items.0.id"), ITEM3);
    assert_string_equal(ckt_str(o, "summary.id"), "osum_01M80V5EQG4YHAXXJRNX68ZHB2");
    assert_int_equal(json_array_size(ckt_get(o, "summary.items")), 0);
    assert_int_equal(json_array_size(ckt_get(o, "authorizations")), 0);
    assert_int_equal(json_array_size(ckt_get(o, "payments")), 0);
    assert_int_equal(json_array_size(ckt_get(o, "deliveries")), 0);
    assert_string_equal(ckt_str(o, "createdAt"), T1_TEXT);
}

static void get_order(fixture *f, const char *key, const char *id, long status)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/orders/%s", id);
    ckt_resp r = ckt_http(&f->d, "GET", path, key, NULL, NULL);
    if (status == 200) {
        ckt_expect_status(&r, 200);
        assert_string_equal(ckt_str(r.json, "id"), id);
    } else {
        ckt_expect_error(&r, status, status == 404 ? "NOT_FOUND" : "UNAUTHORIZED",
                         status == 404 ? "NOT_FOUND" : "UNAUTHORIZED", NULL);
    }
    ckt_free(&r);
}

static void order_get(void **state)
{
    (void)state;
    fixture f;
    setup_orders(&f);
    ckt_resp r = ckt_http(&f.d, "GET", "/v1/orders/" ORD1, f.buyer_key, NULL, NULL);
    ckt_expect_status(&r, 200);
    expect_order1(&f, r.json);
    char *as_buyer = strdup(r.body);
    ckt_free(&r);

    /* The admin sees the same object. */
    r = ckt_http(&f.d, "GET", "/v1/orders/" ORD1, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(r.body, as_buyer);
    ckt_free(&r);
    free(as_buyer);

    r = ckt_http(&f.d, "GET", "/v1/orders/" ORD2, f.buyer_key, NULL, NULL);
    ckt_expect_status(&r, 200);
    expect_order2(&f, r.json);
    ckt_free(&r);
    ckt_finish(&f.d);
}

static void order_visibility(void **state)
{
    (void)state;
    fixture f;
    setup_orders(&f);
    char id[64], integrator_key[128], fulfillment_key[128], approver_key[128], lone_approver_key[128];
    ckt_user(&f.d, "[\"integrator\"]", id, integrator_key);
    ckt_user(&f.d, "[\"fulfillment\"]", id, fulfillment_key);
    ckt_user(&f.d, "[\"approver\"]", id, approver_key);
    ckt_give_account(&f.d, id, f.account);
    ckt_user(&f.d, "[\"approver\"]", id, lone_approver_key);

    /* Admin, integrator and fulfillment: every order. */
    get_order(&f, CKT_ADMIN_KEY, ORD1, 200);
    get_order(&f, CKT_ADMIN_KEY, ORD_OTHER, 200);
    get_order(&f, integrator_key, ORD_OTHER, 200);
    get_order(&f, fulfillment_key, ORD1, 200);
    /* Buyer and approver: only the accounts given to them; others are 404. */
    get_order(&f, f.buyer_key, ORD1, 200);
    get_order(&f, f.buyer_key, ORD_OTHER, 404);
    get_order(&f, f.foreign_key, ORD1, 404);
    get_order(&f, f.foreign_key, ORD2, 404);
    get_order(&f, f.foreign_key, ORD_OTHER, 200);
    get_order(&f, approver_key, ORD2, 200);
    get_order(&f, approver_key, ORD_OTHER, 404);
    get_order(&f, lone_approver_key, ORD1, 404);
    /* Unknown and malformed ids: 404; no key: 401. */
    get_order(&f, CKT_ADMIN_KEY, NO_SUCH_ORDER, 404);
    get_order(&f, CKT_ADMIN_KEY, "not-an-order", 404);
    get_order(&f, NULL, ORD1, 401);
    get_order(&f, "ck_not_a_key", ORD1, 401);

    ckt_resp r = ckt_http(&f.d, "GET", "/v1/orders?accountId=" NO_SUCH_ACCOUNT, NULL, NULL, NULL);
    ckt_expect_error(&r, 401, "UNAUTHORIZED", "UNAUTHORIZED", NULL);
    ckt_free(&r);
    ckt_finish(&f.d);
}

static void order_list(void **state)
{
    (void)state;
    fixture f;
    setup_orders(&f);
    char path[256];

    /* The whole list: the account's two orders in id order, no next page. */
    snprintf(path, sizeof(path), "/v1/orders?accountId=%s", f.account);
    ckt_resp r = ckt_http(&f.d, "GET", path, f.buyer_key, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_object_size(r.json), 2);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 2);
    expect_order1(&f, ckt_get(r.json, "items.0"));
    expect_order2(&f, ckt_get(r.json, "items.1"));
    assert_true(json_is_null(ckt_get(r.json, "nextPageToken")));
    ckt_free(&r);

    /* limit=1: first page, then the second, then an empty one with a null token. */
    snprintf(path, sizeof(path), "/v1/orders?accountId=%s&limit=1", f.account);
    r = ckt_http(&f.d, "GET", path, f.buyer_key, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 1);
    expect_order1(&f, ckt_get(r.json, "items.0"));
    char token[128];
    snprintf(token, sizeof(token), "%s", ckt_str(r.json, "nextPageToken"));
    assert_string_equal(token, ORD1);
    ckt_free(&r);

    snprintf(path, sizeof(path), "/v1/orders?accountId=%s&limit=1&pageToken=%s", f.account, token);
    r = ckt_http(&f.d, "GET", path, f.buyer_key, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 1);
    expect_order2(&f, ckt_get(r.json, "items.0"));
    snprintf(token, sizeof(token), "%s", ckt_str(r.json, "nextPageToken"));
    assert_string_equal(token, ORD2);
    ckt_free(&r);

    snprintf(path, sizeof(path), "/v1/orders?accountId=%s&limit=1&pageToken=%s", f.account, token);
    r = ckt_http(&f.d, "GET", path, f.buyer_key, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 0);
    assert_true(json_is_null(ckt_get(r.json, "nextPageToken")));
    ckt_free(&r);

    /* The other account's list holds only its own order; the admin sees it. */
    snprintf(path, sizeof(path), "/v1/orders?accountId=%s", f.other_account);
    r = ckt_http(&f.d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_int_equal(json_array_size(ckt_get(r.json, "items")), 1);
    assert_string_equal(ckt_str(r.json, "items.0.id"), ORD_OTHER);
    ckt_free(&r);

    /* A buyer not given the account: 404, as for an unknown account. */
    r = ckt_http(&f.d, "GET", path, f.buyer_key, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/orders?accountId=%s", f.account);
    r = ckt_http(&f.d, "GET", path, f.foreign_key, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(&f.d, "GET", "/v1/orders?accountId=" NO_SUCH_ACCOUNT, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);
    r = ckt_http(&f.d, "GET", "/v1/orders?accountId=" NO_SUCH_ACCOUNT, f.buyer_key, NULL, NULL);
    ckt_expect_error(&r, 404, "NOT_FOUND", "NOT_FOUND", NULL);
    ckt_free(&r);

    /* Bad input: 400 with the field. */
    r = ckt_http(&f.d, "GET", "/v1/orders", f.buyer_key, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "MISSING_FIELD", "accountId");
    ckt_free(&r);
    r = ckt_http(&f.d, "GET", "/v1/orders?limit=1", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "MISSING_FIELD", "accountId");
    ckt_free(&r);
    r = ckt_http(&f.d, "GET", "/v1/orders?accountId=store_01M80V5EQG4YHAXXJRNX68ZH9P", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "accountId");
    ckt_free(&r);
    r = ckt_http(&f.d, "GET", "/v1/orders?accountId=", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "accountId");
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/orders?accountId=%s&limit=0", f.account);
    r = ckt_http(&f.d, "GET", path, f.buyer_key, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "INVALID_FIELD", "limit");
    ckt_free(&r);
    r = ckt_http(&f.d, "POST", "/v1/orders", CKT_ADMIN_KEY, "{}", NULL);
    ckt_expect_error(&r, 405, "METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED", NULL);
    ckt_free(&r);
    ckt_finish(&f.d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_get),
        cmocka_unit_test(order_visibility),
        cmocka_unit_test(order_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
