/* test_gateway.c: the built-in `test` gateway. It answers by card token and
 * keeps its own ledger (gateway_test_ledger) keyed by idempotency key, as a
 * real gateway does: the same key returns the first answer, ref_id included.
 *
 * Ledger rows: op is "authorize", "capture:<authId>", "void:<authId>" or
 * "refund:<paymentId>" (the authorization a capture or void belongs to, and
 * the payment a refund belongs to, is part of its op, so a key reused for
 * another operation, authorization or payment is detected). result is
 * "approved" or "declined"; a declined row has no reference, so its ref_id
 * column holds the decline code. Errors are never stored: a retry runs again. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "payments/gateway.h"
#include "store/payments.h"

#define LEDGER_OP_MAX 192

static const struct {
    const char *code;
    const char *message;
} decline_messages[] = {
    {"card_declined", "the card was declined"},
    {"unknown_token", "unknown test card token"},
    {"unknown_authorization", "no such authorization"},
    {"amount_exceeds_authorization", "the amount exceeds what remains of the authorization"},
    {"authorization_voided", "the authorization was voided"},
    {"invalid_amount", "the amount is not valid"},
    {"unknown_payment", "no such payment"},
    {"amount_exceeds_payment", "the amount exceeds what remains of the payment to refund"},
    {NULL, NULL},
};

static const char *decline_message(const char *code)
{
    for (int i = 0; decline_messages[i].code; i++)
        if (strcmp(decline_messages[i].code, code) == 0)
            return decline_messages[i].message;
    return "declined";
}

static void answer_declined(ck_gw_answer *out, const char *code)
{
    memset(out, 0, sizeof(*out));
    out->result = CK_GW_DECLINED;
    snprintf(out->code, sizeof(out->code), "%.*s", (int)sizeof(out->code) - 1, code); /* a stored code is cut alike */
    snprintf(out->message, sizeof(out->message), "%s", decline_message(code));
}

static void answer_approved(ck_gw_answer *out, const char *ref_id, int64_t amount)
{
    memset(out, 0, sizeof(*out));
    out->result = CK_GW_APPROVED;
    snprintf(out->ref_id, sizeof(out->ref_id), "%s", ref_id);
    out->amount = amount;
}

/* Reads the stored answer of key into *out. Returns 1 (found; a row of another
 * op becomes an error answer), 0 (none) or <0 (database error). */
static int ledger_get(ck_db *db, const char *key, const char *op, ck_gw_answer *out, ck_error *err)
{
    ck_testgw_row row;
    int rc = ck_payments_testgw_get(db, key, &row, err);
    if (rc <= 0)
        return rc;
    if (strcmp(row.op, op) != 0)
        ck_gw_answer_error(out, "idempotency_key_reused",
                     "test gateway: the idempotency key was used for another operation");
    else if (strcmp(row.result, "approved") == 0)
        answer_approved(out, row.ref_id, row.amount);
    else
        answer_declined(out, row.ref_id);
    return 1;
}

/* Stores answer `a` under key unless the key already has one. */
static int ledger_put(ck_db *db, const char *key, const char *op, const ck_gw_answer *a, ck_error *err)
{
    const char *approved = a->result == CK_GW_APPROVED ? "approved" : "declined";
    const char *ref = a->result == CK_GW_APPROVED ? a->ref_id : a->code;
    return ck_payments_testgw_put(db, key, op, approved, ref, a->amount, err);
}

typedef struct op_args {
    int64_t amount;
    const char *token;
    const char *auth_id;
    const char *payment_id;
} op_args;

/* Computes the answer an operation would give when its key is new. Sets
 * out->result to CK_GW_ERROR for answers that must not be stored. */
typedef int (*decide_fn)(ck_db *db, const char *op, const op_args *a, ck_gw_answer *out, ck_error *err);

static int decide_authorize(ck_db *db, const char *op, const op_args *a, ck_gw_answer *out, ck_error *err)
{
    const char *tok = a->token ? a->token : "";
    if (strcmp(tok, "tok_error") == 0) {
        ck_gw_answer_error(out, "processing_error", "test gateway: simulated processing error");
        return 0;
    }
    if (a->amount < 0) {
        answer_declined(out, "invalid_amount");
        return 0;
    }
    if (strcmp(tok, "tok_visa") == 0) {
        char id[CK_ID_MAX];
        ck_id_new(id, "tgw_auth");
        answer_approved(out, id, a->amount);
    } else {
        answer_declined(out, strcmp(tok, "tok_decline") == 0 ? "card_declined" : "unknown_token");
    }
    return 0;
}

/* Whether the authorization has an approved void: 1, 0 or <0. */
static int auth_voided(ck_db *db, const char *auth_id, ck_error *err)
{
    char op[LEDGER_OP_MAX];
    snprintf(op, sizeof(op), "void:%s", auth_id);
    return ck_payments_testgw_approved(db, op, err);
}

static int decide_capture(ck_db *db, const char *op, const op_args *a, ck_gw_answer *out, ck_error *err)
{
    int64_t authorized = 0;
    int rc = ck_payments_testgw_auth_amount(db, a->auth_id, &authorized, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        answer_declined(out, "unknown_authorization");
        return 0;
    }
    if ((rc = auth_voided(db, a->auth_id, err)) < 0)
        return rc;
    if (rc == 1) {
        answer_declined(out, "authorization_voided");
        return 0;
    }
    if (a->amount <= 0) {
        answer_declined(out, "invalid_amount");
        return 0;
    }
    int64_t captured = 0;
    if ((rc = ck_payments_testgw_approved_sum(db, op, &captured, err)) < 0)
        return rc;
    if (a->amount > authorized - captured) {
        answer_declined(out, "amount_exceeds_authorization");
        return 0;
    }
    char id[CK_ID_MAX];
    ck_id_new(id, "tgw_pay");
    answer_approved(out, id, a->amount);
    return 0;
}

static int decide_void(ck_db *db, const char *op, const op_args *a, ck_gw_answer *out, ck_error *err)
{
    int64_t authorized = 0;
    int rc = ck_payments_testgw_auth_amount(db, a->auth_id, &authorized, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        answer_declined(out, "unknown_authorization");
    else
        answer_approved(out, a->auth_id, 0);
    return 0;
}

/* A refund of an approved capture: the refunds of one payment (the approved
 * rows of its op) may not add up to more than it captured. */
static int decide_refund(ck_db *db, const char *op, const op_args *a, ck_gw_answer *out, ck_error *err)
{
    int64_t captured = 0;
    int rc = ck_payments_testgw_take_capture(db, a->payment_id, &captured, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        answer_declined(out, "unknown_payment");
        return 0;
    }
    if (a->amount <= 0) {
        answer_declined(out, "invalid_amount");
        return 0;
    }
    int64_t refunded = 0;
    if ((rc = ck_payments_testgw_approved_sum(db, op, &refunded, err)) < 0)
        return rc;
    if (a->amount > captured - refunded) {
        answer_declined(out, "amount_exceeds_payment");
        return 0;
    }
    char id[CK_ID_MAX];
    ck_id_new(id, "tgw_ref");
    answer_approved(out, id, a->amount);
    return 0;
}

typedef struct run_arg {
    const char *key, *op;
    decide_fn decide;
    const op_args *a;
    ck_gw_answer *out;
} run_arg;

/* The transaction of one operation: the stored answer of the key, or the
 * decided one stored and read back. 0 or <0 (rolled back). */
static int run_tx(ck_db *db, void *arg, ck_error *err)
{
    run_arg *r = arg;
    int rc = ledger_get(db, r->key, r->op, r->out, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    ck_gw_answer would;
    if ((rc = r->decide(db, r->op, r->a, &would, err)) < 0)
        return rc;
    if (would.result == CK_GW_ERROR) {
        *r->out = would;
        return 0;
    }
    if ((rc = ledger_put(db, r->key, r->op, &would, err)) < 0 || (rc = ledger_get(db, r->key, r->op, r->out, err)) < 0)
        return rc;
    if (rc == 0)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "ledger row vanished");
    return 0;
}

/* Runs one operation: the stored answer of key if there is one, else the
 * decided answer, stored (approved or declined) and read back. One short write
 * transaction of its own (BEGIN IMMEDIATE on SQLite, so concurrent captures of
 * one authorization are serialised and cannot overdraw it). Always returns 0
 * with *out filled; failures are CK_GW_ERROR answers. */
static int run_op(ck_db *db, const char *key, const char *op, decide_fn decide, const op_args *a,
                  ck_gw_answer *out)
{
    ck_error err;
    ck_error_clear(&err);
    if (ck_db_in_tx(db)) {
        ck_gw_answer_error(out, "in_transaction", "test gateway: called inside a transaction");
        return 0;
    }
    run_arg r = {key, op, decide, a, out};
    if (ck_db_tx(db, 1, run_tx, &r, &err) < 0)
        ck_gw_answer_error(out, "ledger_error", "test gateway: %s", err.message);
    return 0;
}

static int check_args(const char *key, ck_gw_answer *out)
{
    if (!out)
        return CK_EINVALID;
    if (!key || !*key) {
        ck_gw_answer_error(out, "no_idempotency_key", "test gateway: an idempotency key is required");
        return CK_EINVALID;
    }
    return 0;
}

static int tgw_authorize(const ck_gw_config *cfg, ck_db *db, const char *idem_key, int64_t amount,
                         const char *currency, const char *token, const char *reference, ck_gw_answer *out)
{
    int rc = check_args(idem_key, out);
    if (rc < 0)
        return rc;
    op_args a = {.amount = amount, .token = token};
    return run_op(db, idem_key, "authorize", decide_authorize, &a, out);
}

/* An op string for an authorization (or a payment), or NULL when auth_id
 * cannot be one of ours. */
static const char *auth_op(char op[LEDGER_OP_MAX], const char *verb, const char *auth_id)
{
    if (!auth_id || !*auth_id || strlen(auth_id) >= sizeof(((ck_gw_answer *)0)->ref_id))
        return NULL;
    snprintf(op, LEDGER_OP_MAX, "%s:%s", verb, auth_id);
    return op;
}

static int tgw_capture(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *auth_id,
                       int64_t amount, ck_gw_answer *out)
{
    int rc = check_args(idem_key, out);
    if (rc < 0)
        return rc;
    char buf[LEDGER_OP_MAX];
    const char *op = auth_op(buf, "capture", auth_id);
    if (!op) {
        answer_declined(out, "unknown_authorization");
        return 0;
    }
    op_args a = {.amount = amount, .auth_id = auth_id};
    return run_op(db, idem_key, op, decide_capture, &a, out);
}

static int tgw_void(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *auth_id,
                    ck_gw_answer *out)
{
    int rc = check_args(idem_key, out);
    if (rc < 0)
        return rc;
    char buf[LEDGER_OP_MAX];
    const char *op = auth_op(buf, "void", auth_id);
    if (!op) {
        answer_declined(out, "unknown_authorization");
        return 0;
    }
    op_args a = {.auth_id = auth_id};
    return run_op(db, idem_key, op, decide_void, &a, out);
}

static int tgw_refund(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *payment_id,
                      int64_t amount, ck_gw_answer *out)
{
    int rc = check_args(idem_key, out);
    if (rc < 0)
        return rc;
    char buf[LEDGER_OP_MAX];
    const char *op = auth_op(buf, "refund", payment_id);
    if (!op) {
        answer_declined(out, "unknown_payment");
        return 0;
    }
    op_args a = {.amount = amount, .payment_id = payment_id};
    return run_op(db, idem_key, op, decide_refund, &a, out);
}

const ck_gateway_ops ck_gateway_test = {
    .kind = "test",
    .authorize = tgw_authorize,
    .capture = tgw_capture,
    .void_auth = tgw_void,
    .refund = tgw_refund,
};
