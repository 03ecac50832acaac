/* test_gateway.c: the built-in test gateway (payments/test_gateway.c) against a
 * fresh migrated SQLite file (authorize, capture, void, refund), and gateway
 * selection/config and the checked, counted calls (payments/gateway.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkout/db.h"
#include "core/metrics.h"
#include "payments/gateway.h"
#include "store/migrations.h"

static char g_dir[256];
static char g_file[300];
static char g_url[320];
static int g_seq;

static const ck_db_options opts = {.busy_timeout_ms = 5000, .synchronous_full = 0};
static const ck_gw_config test_cfg = {.kind = "test"};

static ck_db *open_db(void)
{
    ck_db *db = NULL;
    ck_error err;
    ck_error_clear(&err);
    if (ck_db_open(&db, g_url, &opts, &err) != 0)
        fail_msg("cannot open %s: %s", g_url, err.message);
    return db;
}

static int setup(void **state)
{
    *state = open_db();
    return 0;
}

static int teardown(void **state)
{
    ck_db_close(*state);
    return 0;
}

/* A key no other case uses (the cases share one database). */
static void key(char out[64], const char *what)
{
    snprintf(out, 64, "cs_test%d:%s:1", ++g_seq, what);
}

static int64_t ledger_rows(ck_db *db, const char *k)
{
    ck_stmt *st = NULL;
    ck_error err;
    ck_error_clear(&err);
    assert_int_equal(ck_db_one(db, &st, &err, "SELECT count(*) FROM gateway_test_ledger WHERE idem_key = ?", "t", k),
                     1);
    int64_t n = ck_col_int(st, 0);
    ck_db_done(st);
    return n;
}

static ck_gw_answer authorize(ck_db *db, const char *k, int64_t amount, const char *token)
{
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a));
    assert_int_equal(ck_gateway_test.authorize(&test_cfg, db, k, amount, "USD", token, "cs_ref", &a), 0);
    return a;
}

static ck_gw_answer capture(ck_db *db, const char *k, const char *auth, int64_t amount)
{
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a));
    assert_int_equal(ck_gateway_test.capture(&test_cfg, db, k, auth, amount, &a), 0);
    return a;
}

static ck_gw_answer void_auth(ck_db *db, const char *k, const char *auth)
{
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a));
    assert_int_equal(ck_gateway_test.void_auth(&test_cfg, db, k, auth, &a), 0);
    return a;
}

static ck_gw_answer refund(ck_db *db, const char *k, const char *payment, int64_t amount)
{
    ck_gw_answer a;
    memset(&a, 0x5a, sizeof(a));
    assert_int_equal(ck_gateway_test.refund(&test_cfg, db, k, payment, amount, &a), 0);
    return a;
}

/* The approved refund rows of a payment in the ledger. */
static int64_t approved_refunds(ck_db *db, const char *payment)
{
    ck_stmt *st = NULL;
    ck_error err;
    ck_error_clear(&err);
    char op[200];
    snprintf(op, sizeof(op), "refund:%s", payment);
    assert_int_equal(ck_db_one(db, &st, &err,
                               "SELECT count(*) FROM gateway_test_ledger WHERE op = ? AND result = 'approved'", "t",
                               op),
                     1);
    int64_t n = ck_col_int(st, 0);
    ck_db_done(st);
    return n;
}

/* A new approved capture of `amount` (from a hold of `held`): its payment id into pay. */
static void captured(ck_db *db, int64_t held, int64_t amount, char pay[128])
{
    char k[64];
    key(k, "payment");
    ck_gw_answer auth = authorize(db, k, held, "tok_visa");
    assert_int_equal(auth.result, CK_GW_APPROVED);
    key(k, "capture");
    ck_gw_answer p = capture(db, k, auth.ref_id, amount);
    assert_int_equal(p.result, CK_GW_APPROVED);
    snprintf(pay, 128, "%s", p.ref_id);
}

/* An adapter whose every call fails without touching its answer. */
static int failing_authorize(const ck_gw_config *cfg, ck_db *db, const char *idem_key, int64_t amount,
                             const char *currency, const char *token, const char *reference, ck_gw_answer *out)
{
    return CK_EINTERNAL;
}
static int failing_capture(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *auth_id,
                           int64_t amount, ck_gw_answer *out)
{
    return CK_EINTERNAL;
}
static int failing_void(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *auth_id,
                        ck_gw_answer *out)
{
    return CK_EINVALID;
}
static int failing_refund(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *payment_id,
                          int64_t amount, ck_gw_answer *out)
{
    return CK_EINTERNAL;
}

/* A call that fails is an error answer: the zeroed answer it leaves would
 * read as CK_GW_APPROVED, so a hold, capture, void or refund that never
 * happened would be recorded as done. */
static void failed_call_is_error(void **state)
{
    static const ck_gateway_ops failing = {"failing", failing_authorize, failing_capture, failing_void,
                                           failing_refund};
    ck_gw_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    ck_gw_answer a;
    memset(&a, 0, sizeof(a));
    assert_int_equal(a.result, CK_GW_APPROVED); /* what a caller would have read */
    ck_gw_authorize(NULL, &failing, &cfg, NULL, "k1", 100, "USD", "tok_visa", "cs_x", &a);
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "adapter_error");
    ck_gw_capture(NULL, &failing, &cfg, NULL, "k2", "auth", 100, &a);
    assert_int_equal(a.result, CK_GW_ERROR);
    ck_gw_void(NULL, &failing, &cfg, NULL, "k3", "auth", &a);
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_true(a.message[0] != '\0');
    memset(&a, 0, sizeof(a));
    ck_gw_refund(NULL, &failing, &cfg, NULL, "k4", "pay", 100, &a);
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "adapter_error");

    /* An adapter without a refund operation answers an error, not a crash. */
    static const ck_gateway_ops no_refund = {"norefund", failing_authorize, failing_capture, failing_void, NULL};
    memset(&a, 0, sizeof(a));
    ck_gw_refund(NULL, &no_refund, &cfg, NULL, "k5", "pay", 100, &a);
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "not_supported");
}

static void selection(void **state)
{
    ck_gw_config cfg = {.kind = "test"};
    assert_ptr_equal(ck_gateway_for(&cfg), &ck_gateway_test);
    snprintf(cfg.kind, sizeof(cfg.kind), "http");
    assert_ptr_equal(ck_gateway_for(&cfg), &ck_gateway_http);
    snprintf(cfg.kind, sizeof(cfg.kind), "nope");
    assert_null(ck_gateway_for(&cfg));
    assert_null(ck_gateway_for(NULL));
    assert_string_equal(ck_gateway_test.kind, "test");
    assert_string_equal(ck_gateway_http.kind, "http");
}

static void config_load(void **state)
{
    ck_db *db = *state;
    ck_error err;
    ck_error_clear(&err);
    int64_t now = 1700000000000;
    assert_int_equal(ck_db_exec(db, NULL, &err,
                                "INSERT INTO stores (id, name, currency, sla_seconds, stale_auth_seconds,"
                                " gateway_kind, gateway_url, gateway_secret, created_at, updated_at)"
                                " VALUES (?, 'S', 'USD', 600, 3600, ?, ?, ?, ?, ?)",
                                "ttttii", "store_cfg_http", "http", "https://gw.example/v1", "s3cret", now, now),
                     0);
    assert_int_equal(ck_db_exec(db, NULL, &err,
                                "INSERT INTO stores (id, name, currency, sla_seconds, stale_auth_seconds,"
                                " created_at, updated_at) VALUES (?, 'S', 'USD', 600, 3600, ?, ?)",
                                "tii", "store_cfg_test", now, now),
                     0);
    ck_gw_config cfg;
    assert_int_equal(ck_gateway_config_load(db, "store_cfg_http", &cfg, &err), 1);
    assert_string_equal(cfg.kind, "http");
    assert_string_equal(cfg.url, "https://gw.example/v1");
    assert_string_equal(cfg.secret, "s3cret");
    assert_ptr_equal(ck_gateway_for(&cfg), &ck_gateway_http);

    assert_int_equal(ck_gateway_config_load(db, "store_cfg_test", &cfg, &err), 1);
    assert_string_equal(cfg.kind, "test");
    assert_string_equal(cfg.url, "");
    assert_string_equal(cfg.secret, "");
    assert_ptr_equal(ck_gateway_for(&cfg), &ck_gateway_test);

    assert_int_equal(ck_gateway_config_load(db, "store_missing", &cfg, &err), 0);
}

static void authorize_by_token(void **state)
{
    ck_db *db = *state;
    char k[64];

    key(k, "payment");
    ck_gw_answer a = authorize(db, k, 7692, "tok_visa");
    assert_int_equal(a.result, CK_GW_APPROVED);
    assert_int_equal(strncmp(a.ref_id, "tgw_auth_", 9), 0);
    assert_int_equal(strlen(a.ref_id), 9 + 26);
    assert_int_equal(a.amount, 7692);
    assert_int_equal(ledger_rows(db, k), 1);

    key(k, "payment");
    a = authorize(db, k, 7692, "tok_decline");
    assert_int_equal(a.result, CK_GW_DECLINED);
    assert_string_equal(a.code, "card_declined");
    assert_string_equal(a.ref_id, "");
    assert_true(a.message[0] != '\0');
    assert_int_equal(ledger_rows(db, k), 1);

    key(k, "payment");
    a = authorize(db, k, 7692, "tok_error");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_true(a.message[0] != '\0');
    assert_int_equal(ledger_rows(db, k), 0); /* errors are never stored */

    key(k, "payment");
    a = authorize(db, k, 7692, "tok_whatever");
    assert_int_equal(a.result, CK_GW_DECLINED);
    assert_string_equal(a.code, "unknown_token");

    key(k, "payment");
    a = authorize(db, k, 100, NULL);
    assert_int_equal(a.result, CK_GW_DECLINED);
    assert_string_equal(a.code, "unknown_token");

    /* Two different keys are two holds. */
    char k2[64];
    key(k, "payment");
    key(k2, "payment");
    ck_gw_answer a1 = authorize(db, k, 10, "tok_visa"), a2 = authorize(db, k2, 10, "tok_visa");
    assert_string_not_equal(a1.ref_id, a2.ref_id);
}

static void authorize_same_key_same_answer(void **state)
{
    ck_db *db = *state;
    char k[64];
    key(k, "payment");
    ck_gw_answer first = authorize(db, k, 5000, "tok_visa");
    assert_int_equal(first.result, CK_GW_APPROVED);
    /* A retry, even with other arguments, returns the first answer. */
    ck_gw_answer again = authorize(db, k, 5000, "tok_visa");
    assert_int_equal(again.result, CK_GW_APPROVED);
    assert_string_equal(again.ref_id, first.ref_id);
    assert_int_equal(again.amount, 5000);
    ck_gw_answer other = authorize(db, k, 1, "tok_decline");
    assert_int_equal(other.result, CK_GW_APPROVED);
    assert_string_equal(other.ref_id, first.ref_id);
    assert_int_equal(other.amount, 5000);
    assert_int_equal(ledger_rows(db, k), 1);

    /* A stored decline replays with its code. */
    key(k, "payment");
    assert_int_equal(authorize(db, k, 5000, "tok_decline").result, CK_GW_DECLINED);
    ck_gw_answer d = authorize(db, k, 5000, "tok_visa");
    assert_int_equal(d.result, CK_GW_DECLINED);
    assert_string_equal(d.code, "card_declined");
    assert_int_equal(ledger_rows(db, k), 1);

    /* An error is not stored: the retry runs afresh. */
    key(k, "payment");
    assert_int_equal(authorize(db, k, 5000, "tok_error").result, CK_GW_ERROR);
    assert_int_equal(authorize(db, k, 5000, "tok_visa").result, CK_GW_APPROVED);
    assert_int_equal(ledger_rows(db, k), 1);
}

static void capture_partial_rest_over(void **state)
{
    ck_db *db = *state;
    char k[64];
    key(k, "payment");
    ck_gw_answer auth = authorize(db, k, 1000, "tok_visa");
    assert_int_equal(auth.result, CK_GW_APPROVED);

    char c1[64], c2[64], c3[64];
    key(c1, "capture");
    key(c2, "capture");
    key(c3, "capture");
    ck_gw_answer p1 = capture(db, c1, auth.ref_id, 400);
    assert_int_equal(p1.result, CK_GW_APPROVED);
    assert_int_equal(strncmp(p1.ref_id, "tgw_pay_", 8), 0);
    assert_int_equal(p1.amount, 400);

    /* The retry of the first capture does not capture twice. */
    ck_gw_answer p1again = capture(db, c1, auth.ref_id, 400);
    assert_int_equal(p1again.result, CK_GW_APPROVED);
    assert_string_equal(p1again.ref_id, p1.ref_id);

    ck_gw_answer p2 = capture(db, c2, auth.ref_id, 600);
    assert_int_equal(p2.result, CK_GW_APPROVED);
    assert_int_equal(p2.amount, 600);
    assert_string_not_equal(p2.ref_id, p1.ref_id);

    ck_gw_answer p3 = capture(db, c3, auth.ref_id, 1);
    assert_int_equal(p3.result, CK_GW_DECLINED);
    assert_string_equal(p3.code, "amount_exceeds_authorization");

    /* Over in one go. */
    key(k, "payment");
    auth = authorize(db, k, 100, "tok_visa");
    key(c1, "capture");
    ck_gw_answer over = capture(db, c1, auth.ref_id, 101);
    assert_int_equal(over.result, CK_GW_DECLINED);
    assert_string_equal(over.code, "amount_exceeds_authorization");
    key(c1, "capture");
    assert_int_equal(capture(db, c1, auth.ref_id, 0).result, CK_GW_DECLINED);
    key(c1, "capture");
    assert_int_equal(capture(db, c1, auth.ref_id, 100).result, CK_GW_APPROVED);
}

static void capture_unknown(void **state)
{
    ck_db *db = *state;
    char k[64];
    key(k, "capture");
    ck_gw_answer a = capture(db, k, "tgw_auth_NOPE", 10);
    assert_int_equal(a.result, CK_GW_DECLINED);
    assert_string_equal(a.code, "unknown_authorization");
    /* A declined authorization cannot be captured either. */
    char ak[64];
    key(ak, "payment");
    authorize(db, ak, 10, "tok_decline");
    key(k, "capture");
    assert_int_equal(capture(db, k, "card_declined", 10).result, CK_GW_DECLINED);
    key(k, "capture");
    assert_int_equal(capture(db, k, NULL, 10).result, CK_GW_DECLINED);
}

static void void_auth_cases(void **state)
{
    ck_db *db = *state;
    char k[64], v[64];
    key(k, "payment");
    ck_gw_answer auth = authorize(db, k, 300, "tok_visa");
    key(v, "void");
    ck_gw_answer a = void_auth(db, v, auth.ref_id);
    assert_int_equal(a.result, CK_GW_APPROVED);
    assert_string_equal(a.ref_id, auth.ref_id);
    assert_int_equal(void_auth(db, v, auth.ref_id).result, CK_GW_APPROVED);
    assert_int_equal(ledger_rows(db, v), 1);

    /* A voided authorization cannot be captured. */
    char c[64];
    key(c, "capture");
    ck_gw_answer p = capture(db, c, auth.ref_id, 100);
    assert_int_equal(p.result, CK_GW_DECLINED);
    assert_string_equal(p.code, "authorization_voided");

    key(v, "void");
    a = void_auth(db, v, "tgw_auth_UNKNOWN");
    assert_int_equal(a.result, CK_GW_DECLINED);
    assert_string_equal(a.code, "unknown_authorization");
}

static void key_reused_for_another_op(void **state)
{
    ck_db *db = *state;
    char k[64];
    key(k, "payment");
    ck_gw_answer auth = authorize(db, k, 300, "tok_visa");
    /* The authorization's key used for a capture is refused, not replayed. */
    ck_gw_answer a = capture(db, k, auth.ref_id, 100);
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "idempotency_key_reused");
    assert_int_equal(ledger_rows(db, k), 1);
}

static void refuses_inside_transaction(void **state)
{
    ck_db *db = *state;
    ck_error err;
    ck_error_clear(&err);
    char k[64];
    key(k, "payment");
    assert_int_equal(ck_db_begin(db, 1, &err), 0);
    ck_gw_answer a = authorize(db, k, 300, "tok_visa");
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "in_transaction");
    ck_db_rollback(db);
    assert_int_equal(ledger_rows(db, k), 0);

    ck_gw_answer out;
    assert_int_equal(ck_gateway_test.authorize(&test_cfg, db, NULL, 1, "USD", "tok_visa", NULL, &out), CK_EINVALID);
    assert_int_equal(out.result, CK_GW_ERROR);
}

static void refund_approved_and_replayed(void **state)
{
    ck_db *db = *state;
    char pay[128], r1[64], r2[64], r3[64];
    captured(db, 1000, 600, pay);

    key(r1, "refund");
    ck_gw_answer a = refund(db, r1, pay, 200);
    assert_int_equal(a.result, CK_GW_APPROVED);
    assert_int_equal(strncmp(a.ref_id, "tgw_ref_", 8), 0);
    assert_int_equal(strlen(a.ref_id), 8 + 26);
    assert_int_equal(a.amount, 200);
    assert_string_equal(a.code, "");
    assert_int_equal(ledger_rows(db, r1), 1);

    /* The retry, even with another amount, is the first answer and refunds nothing more. */
    ck_gw_answer again = refund(db, r1, pay, 200);
    assert_int_equal(again.result, CK_GW_APPROVED);
    assert_string_equal(again.ref_id, a.ref_id);
    assert_int_equal(again.amount, 200);
    ck_gw_answer other = refund(db, r1, pay, 50);
    assert_int_equal(other.result, CK_GW_APPROVED);
    assert_string_equal(other.ref_id, a.ref_id);
    assert_int_equal(other.amount, 200);
    assert_int_equal(ledger_rows(db, r1), 1);
    assert_int_equal(approved_refunds(db, pay), 1);

    /* So the rest (400) is still there to refund, and then nothing. */
    key(r2, "refund");
    ck_gw_answer b = refund(db, r2, pay, 400);
    assert_int_equal(b.result, CK_GW_APPROVED);
    assert_int_equal(b.amount, 400);
    assert_string_not_equal(b.ref_id, a.ref_id);
    key(r3, "refund");
    ck_gw_answer c = refund(db, r3, pay, 1);
    assert_int_equal(c.result, CK_GW_DECLINED);
    assert_string_equal(c.code, "amount_exceeds_payment");
    assert_string_equal(c.ref_id, "");
    assert_true(c.message[0] != '\0');
    assert_int_equal(approved_refunds(db, pay), 2);

    /* A stored decline replays as a decline. */
    ck_gw_answer c2 = refund(db, r3, pay, 1);
    assert_int_equal(c2.result, CK_GW_DECLINED);
    assert_string_equal(c2.code, "amount_exceeds_payment");
    assert_int_equal(ledger_rows(db, r3), 1);
}

static void refund_over_invalid_and_per_payment(void **state)
{
    ck_db *db = *state;
    char pay1[128], pay2[128], r[64];
    /* Two captures of one hold are two payments, each refundable up to its own amount. */
    char k[64];
    key(k, "payment");
    ck_gw_answer auth = authorize(db, k, 1000, "tok_visa");
    key(k, "capture");
    snprintf(pay1, sizeof(pay1), "%s", capture(db, k, auth.ref_id, 300).ref_id);
    key(k, "capture");
    snprintf(pay2, sizeof(pay2), "%s", capture(db, k, auth.ref_id, 700).ref_id);

    key(r, "refund");
    ck_gw_answer over = refund(db, r, pay1, 301);
    assert_int_equal(over.result, CK_GW_DECLINED);
    assert_string_equal(over.code, "amount_exceeds_payment");
    assert_int_equal(ledger_rows(db, r), 1);
    key(r, "refund");
    assert_int_equal(refund(db, r, pay2, 700).result, CK_GW_APPROVED);
    key(r, "refund");
    assert_int_equal(refund(db, r, pay1, 300).result, CK_GW_APPROVED);
    key(r, "refund");
    assert_string_equal(refund(db, r, pay2, 1).code, "amount_exceeds_payment");

    char pay3[128];
    captured(db, 100, 100, pay3);
    key(r, "refund");
    ck_gw_answer zero = refund(db, r, pay3, 0);
    assert_int_equal(zero.result, CK_GW_DECLINED);
    assert_string_equal(zero.code, "invalid_amount");
    key(r, "refund");
    ck_gw_answer neg = refund(db, r, pay3, -5);
    assert_int_equal(neg.result, CK_GW_DECLINED);
    assert_string_equal(neg.code, "invalid_amount");
    assert_int_equal(approved_refunds(db, pay3), 0);
    key(r, "refund");
    assert_int_equal(refund(db, r, pay3, 100).result, CK_GW_APPROVED);
}

static void refund_unknown_payment(void **state)
{
    ck_db *db = *state;
    char r[64];
    key(r, "refund");
    ck_gw_answer a = refund(db, r, "tgw_pay_NOPE", 10);
    assert_int_equal(a.result, CK_GW_DECLINED);
    assert_string_equal(a.code, "unknown_payment");
    assert_true(a.message[0] != '\0');
    assert_int_equal(ledger_rows(db, r), 1);
    key(r, "refund");
    assert_string_equal(refund(db, r, NULL, 10).code, "unknown_payment");
    key(r, "refund");
    assert_string_equal(refund(db, r, "", 10).code, "unknown_payment");

    /* Only an approved capture is a payment: not an authorization, not a
     * refund, not a declined capture (whose row holds its code). */
    char k[64], pay[128];
    key(k, "payment");
    ck_gw_answer auth = authorize(db, k, 500, "tok_visa");
    key(r, "refund");
    assert_string_equal(refund(db, r, auth.ref_id, 10).code, "unknown_payment");
    key(k, "capture");
    assert_string_equal(capture(db, k, auth.ref_id, 501).code, "amount_exceeds_authorization");
    key(r, "refund");
    assert_string_equal(refund(db, r, "amount_exceeds_authorization", 10).code, "unknown_payment");
    captured(db, 500, 500, pay);
    key(r, "refund");
    ck_gw_answer ok = refund(db, r, pay, 10);
    assert_int_equal(ok.result, CK_GW_APPROVED);
    key(r, "refund");
    assert_string_equal(refund(db, r, ok.ref_id, 10).code, "unknown_payment");
}

static void refund_key_reused(void **state)
{
    ck_db *db = *state;
    char k[64], c[64], r[64], pay[128], pay2[128];
    key(k, "payment");
    ck_gw_answer auth = authorize(db, k, 1000, "tok_visa");
    key(c, "capture");
    ck_gw_answer p = capture(db, c, auth.ref_id, 500);
    snprintf(pay, sizeof(pay), "%s", p.ref_id);

    /* The capture's key (or the authorization's) used for a refund is refused. */
    ck_gw_answer a = refund(db, c, pay, 100);
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_string_equal(a.code, "idempotency_key_reused");
    assert_int_equal(refund(db, k, pay, 100).result, CK_GW_ERROR);
    assert_int_equal(approved_refunds(db, pay), 0);

    /* A refund's key used for a capture, or for a refund of another payment. */
    key(r, "refund");
    assert_int_equal(refund(db, r, pay, 100).result, CK_GW_APPROVED);
    ck_gw_answer b = capture(db, r, auth.ref_id, 100);
    assert_int_equal(b.result, CK_GW_ERROR);
    assert_string_equal(b.code, "idempotency_key_reused");
    captured(db, 300, 300, pay2);
    ck_gw_answer d = refund(db, r, pay2, 100);
    assert_int_equal(d.result, CK_GW_ERROR);
    assert_string_equal(d.code, "idempotency_key_reused");
    assert_int_equal(approved_refunds(db, pay2), 0);
    assert_int_equal(ledger_rows(db, r), 1);

    /* No key at all. */
    ck_gw_answer out;
    assert_int_equal(ck_gateway_test.refund(&test_cfg, db, NULL, pay, 1, &out), CK_EINVALID);
    assert_int_equal(out.result, CK_GW_ERROR);
}

static const char *no_route(int i)
{
    return "?";
}

/* ck_gw_refund counts each call under test/refund by its outcome. */
static void refund_counted(void **state)
{
    ck_db *db = *state;
    ck_metrics *m = malloc(sizeof(*m));
    assert_non_null(m);
    ck_metrics_init(m);
    char pay[128], r[64];
    captured(db, 100, 100, pay);
    ck_gw_answer a;
    key(r, "refund");
    ck_gw_refund(m, &ck_gateway_test, &test_cfg, db, r, pay, 60, &a);
    assert_int_equal(a.result, CK_GW_APPROVED);
    ck_gw_refund(m, &ck_gateway_test, &test_cfg, db, r, pay, 60, &a); /* a replay is a call too */
    assert_int_equal(a.result, CK_GW_APPROVED);
    key(r, "refund");
    ck_gw_refund(m, &ck_gateway_test, &test_cfg, db, r, pay, 41, &a);
    assert_int_equal(a.result, CK_GW_DECLINED);
    ck_gw_refund(m, &ck_gateway_test, &test_cfg, db, "", pay, 1, &a);
    assert_int_equal(a.result, CK_GW_ERROR);
    assert_int_equal(m->gateway[CK_MGW_TEST][CK_MGW_REFUND][CK_MGW_APPROVED], 2);
    assert_int_equal(m->gateway[CK_MGW_TEST][CK_MGW_REFUND][CK_MGW_DECLINED], 1);
    assert_int_equal(m->gateway[CK_MGW_TEST][CK_MGW_REFUND][CK_MGW_ERROR], 1);
    assert_int_equal(m->gateway[CK_MGW_TEST][CK_MGW_CAPTURE][CK_MGW_APPROVED], 0);

    ck_text t = {0};
    ck_metrics_write(m, &t, no_route, 0);
    assert_false(t.oom);
    assert_non_null(strstr(t.p, "checkoutd_gateway_calls_total{gateway=\"test\",operation=\"refund\","
                                "outcome=\"approved\"} 2\n"));
    free(t.p);
    ck_metrics_destroy(m);
    free(m);
}

/* Eight connections capture 100 each from a 500 hold at once: five win. */
typedef struct race {
    char auth[128];
    int base;
    ck_gw_answer answers[8];
} race;

typedef struct racer {
    race *r;
    int i;
} racer;

static void *race_capture(void *arg)
{
    racer *me = arg;
    ck_db *db = open_db();
    char k[64];
    snprintf(k, sizeof(k), "race%d:capture:%d", me->r->base, me->i);
    ck_gateway_test.capture(&test_cfg, db, k, me->r->auth, 100, &me->r->answers[me->i]);
    ck_db_close(db);
    return NULL;
}

/* Eight connections refund 100 each of a 500 payment at once: five win. */
static void *race_refund(void *arg)
{
    racer *me = arg;
    ck_db *db = open_db();
    char k[64];
    snprintf(k, sizeof(k), "race%d:refund:%d", me->r->base, me->i);
    ck_gateway_test.refund(&test_cfg, db, k, me->r->auth, 100, &me->r->answers[me->i]);
    ck_db_close(db);
    return NULL;
}

static void concurrent_refunds(void **state)
{
    ck_db *db = *state;
    race r;
    memset(&r, 0, sizeof(r));
    captured(db, 500, 500, r.auth); /* here: the payment refunded */
    r.base = g_seq;
    pthread_t th[8];
    racer who[8];
    for (int i = 0; i < 8; i++) {
        who[i] = (racer){&r, i};
        assert_int_equal(pthread_create(&th[i], NULL, race_refund, &who[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    int approved = 0, declined = 0;
    for (int i = 0; i < 8; i++) {
        if (r.answers[i].result == CK_GW_APPROVED)
            approved++;
        else if (r.answers[i].result == CK_GW_DECLINED && strcmp(r.answers[i].code, "amount_exceeds_payment") == 0)
            declined++;
        else
            fail_msg("refund %d: result %d %s", i, r.answers[i].result, r.answers[i].message);
    }
    assert_int_equal(approved, 5);
    assert_int_equal(declined, 3);
    assert_int_equal(approved_refunds(db, r.auth), 5);
}

static void concurrent_captures(void **state)
{
    ck_db *db = *state;
    char k[64];
    key(k, "payment");
    race r = {.base = g_seq};
    snprintf(r.auth, sizeof(r.auth), "%s", authorize(db, k, 500, "tok_visa").ref_id);
    pthread_t th[8];
    racer who[8];
    for (int i = 0; i < 8; i++) {
        who[i] = (racer){&r, i};
        assert_int_equal(pthread_create(&th[i], NULL, race_capture, &who[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    int approved = 0, declined = 0;
    for (int i = 0; i < 8; i++) {
        if (r.answers[i].result == CK_GW_APPROVED)
            approved++;
        else if (r.answers[i].result == CK_GW_DECLINED &&
                 strcmp(r.answers[i].code, "amount_exceeds_authorization") == 0)
            declined++;
        else
            fail_msg("capture %d: result %d %s", i, r.answers[i].result, r.answers[i].message);
    }
    assert_int_equal(approved, 5);
    assert_int_equal(declined, 3);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof(g_dir), "%s/ck_gateway_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(g_file, sizeof(g_file), "%s/gateway.db", g_dir);
    snprintf(g_url, sizeof(g_url), "sqlite:%s", g_file);
    ck_db *db = NULL;
    ck_error err;
    ck_error_clear(&err);
    if (ck_db_open(&db, g_url, &opts, &err) != 0 || ck_migrate(db, &err) != 0) {
        fprintf(stderr, "cannot prepare %s: %s\n", g_url, err.message);
        return 1;
    }
    ck_db_close(db);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(selection),
        cmocka_unit_test(failed_call_is_error),
        cmocka_unit_test_setup_teardown(config_load, setup, teardown),
        cmocka_unit_test_setup_teardown(authorize_by_token, setup, teardown),
        cmocka_unit_test_setup_teardown(authorize_same_key_same_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(capture_partial_rest_over, setup, teardown),
        cmocka_unit_test_setup_teardown(capture_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(void_auth_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(key_reused_for_another_op, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_inside_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_captures, setup, teardown),
        cmocka_unit_test_setup_teardown(refund_approved_and_replayed, setup, teardown),
        cmocka_unit_test_setup_teardown(refund_over_invalid_and_per_payment, setup, teardown),
        cmocka_unit_test_setup_teardown(refund_unknown_payment, setup, teardown),
        cmocka_unit_test_setup_teardown(refund_key_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(refund_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_refunds, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal", NULL};
    char p[340];
    for (int i = 0; suffix[i]; i++) {
        snprintf(p, sizeof(p), "%s%s", g_file, suffix[i]);
        unlink(p);
    }
    rmdir(g_dir);
    return failed;
}
