/* payment.c: the payment step. card: a gateway authorization for the grand
 * total under the key <sessionId>:payment:<inputsVersion>, so a retry after a
 * crash or timeout gets the first answer back instead of a second hold; the
 * authorization row is written in save(), in the step's own commit.
 * purchase_order, net_terms (credit), prepaid and contract: no gateway; save()
 * reserves or debits the balance with a conditional UPDATE in that commit.
 * Its compensate gives the money back after a later step failed (or the
 * session is given up): holds marked for void and balances released inside
 * the give-back commit, then the holds voided at the gateway. */
#include <jansson.h>
#include <string.h>

#include "core/log.h"
#include "steps/step.h"
#include "payments/gateway.h"
#include "payments/balances.h"
#include "payments/holds.h"
#include "store/payments.h"

/* What run hands to save: the step's own state (ctx->state). */
typedef struct pay_state {
    int have;    /* a card authorization to record */
    int reserve; /* a balance to reserve or debit (credit, prepaid, contract) */
    char contract_id[CK_ID_MAX];
    char gateway[16];
    char gateway_auth_id[128];
    char idem_key[160];
    char method[24];
    int64_t amount;
} pay_state;

static ck_step_result authorize_card(ck_step_ctx *ctx, pay_state *ps, const char *token, const char *key)
{
    ck_error dberr;
    ck_gw_config cfg;
    int rc = ck_gateway_config_load(ctx->db, ctx->store_id, &cfg, &dberr);
    if (rc <= 0)
        return ck_step_db_error(ctx, &dberr);
    const ck_gateway_ops *gw = ck_gateway_for(&cfg);
    if (!gw)
        return ck_step_retry(ctx, "PAYMENT_GATEWAY_ERROR", "the store's payment gateway is not configured");
    ck_gw_answer ans;
    memset(&ans, 0, sizeof(ans));
    ck_gw_authorize(&ctx->cx->metrics, gw, &cfg, ctx->db, key, ctx->grand_total, ctx->currency, token, ctx->session_id, &ans);
    if (ck_fault(ctx->cx->faults, "crash.gateway"))
        ck_fault_crash();
    if (ans.result == CK_GW_APPROVED && ans.amount && ans.amount != ctx->grand_total) {
        /* A partial approval cannot back the order: give it back at once. */
        char vkey[200];
        ck_gw_answer vans;
        memset(&vans, 0, sizeof(vans));
        snprintf(vkey, sizeof(vkey), "void:%s", key);
        ck_gw_void(&ctx->cx->metrics, gw, &cfg, ctx->db, vkey, ans.ref_id, &vans);
        ck_secure_zero(cfg.secret, sizeof(cfg.secret));
        return ck_step_fail(ctx, "PAYMENT_DECLINED", "the card was approved for %lld of %lld only; use another card",
                            (long long)ans.amount, (long long)ctx->grand_total);
    }
    ck_secure_zero(cfg.secret, sizeof(cfg.secret));
    switch (ans.result) {
    case CK_GW_APPROVED:
        ps->have = 1;
        snprintf(ps->gateway, sizeof(ps->gateway), "%s", gw->kind);
        snprintf(ps->gateway_auth_id, sizeof(ps->gateway_auth_id), "%s", ans.ref_id);
        snprintf(ps->idem_key, sizeof(ps->idem_key), "%s", key);
        ps->amount = ctx->grand_total;
        return CK_STEP_OK;
    case CK_GW_DECLINED: {
        /* The buyer reads our sentence and, at most, the gateway's code when
         * it is a plain token; its message goes to the log only. */
        const char *code = ck_gw_public_code(&ans);
        ck_log(CK_LOG_INFO, "the card was declined", "sessionId", ctx->session_id, "code", ans.code, "error",
               ans.message, NULL);
        return ck_step_fail(ctx, "PAYMENT_DECLINED", "the card was declined%s%s; use another card", code[0] ? ": " : "",
                            code);
    }
    default:
        /* A gateway that answered "error" is not one that did not answer. */
        if (strcmp(ans.code, "timeout") == 0 || strcmp(ans.code, "transport_error") == 0)
            return ck_step_retry(ctx, "PAYMENT_GATEWAY_ERROR",
                                 "the payment gateway did not answer in time; try again");
        ck_log(CK_LOG_WARN, "the payment gateway answered with an error", "sessionId", ctx->session_id, "code",
               ans.code, "error", ans.message, NULL);
        const char *code = ck_gw_public_code(&ans);
        return ck_step_retry(ctx, "PAYMENT_GATEWAY_ERROR", "the payment gateway answered with an error%s%s%s; try again",
                             code[0] ? " (" : "", code, code[0] ? ")" : "");
    }
}

/* The commit that marks for void the session's holds made under other keys. */
static int mark_others(ck_db *db, void *arg, ck_error *err)
{
    ck_step_ctx *ctx = arg;
    return ck_hold_mark_void(db, ctx->session_id, ((pay_state *)ctx->state)->idem_key, NULL, err);
}

static ck_step_result run(ck_step_ctx *ctx)
{
    pay_state *ps = ctx->state;
    json_t *pay = json_object_get(ctx->inputs, "payment");
    const char *method = json_string_value(json_object_get(pay, "method"));
    if (!method)
        return ck_step_fail(ctx, "PAYMENT_METHOD_REQUIRED", "choose a payment method on the checkout first");
    int card = strcmp(method, "card") == 0;
    const char *token = json_string_value(json_object_get(pay, "cardToken"));
    const char *contract = json_string_value(json_object_get(pay, "contractId"));
    if (card && !token)
        return ck_step_fail(ctx, "PAYMENT_METHOD_REQUIRED", "a card payment needs a cardToken");
    if (strcmp(method, "contract") == 0 && !contract)
        return ck_step_fail(ctx, "CONTRACT_INVALID", "a contract payment needs a contractId");
    snprintf(ps->method, sizeof(ps->method), "%s", method);

    char key[160] = "";
    if (card)
        snprintf(key, sizeof(key), "%s:payment:%lld", ctx->session_id, (long long)ctx->inputs_version);
    /* A hold from earlier inputs (another card, another total, another
     * method) must not be orphaned: marked for void in a commit that holds
     * the session (which has no order: this run holds its lease), then
     * voided at the gateway. */
    ck_error dberr;
    snprintf(ps->idem_key, sizeof(ps->idem_key), "%s", key);
    int rc = ck_payments_other_open_hold(ctx->db, ctx->session_id, key, &dberr);
    if (rc == 1)
        rc = ck_step_tx(ctx, mark_others, ctx, &dberr);
    if (rc < 0)
        return ck_step_db_error(ctx, &dberr);
    if (ck_hold_void_session(ctx->cx, ctx->db, ctx->session_id, &dberr) < 0)
        return ck_step_retry(ctx, "PAYMENT_GATEWAY_ERROR", "an earlier authorization could not be voided; try again");
    if (!card) {
        ps->reserve = 1;
        snprintf(ps->contract_id, sizeof(ps->contract_id), "%s", contract ? contract : "");
        return CK_STEP_OK;
    }
    rc = ck_payments_hold_recorded(ctx->db, key, &dberr);
    if (rc < 0)
        return ck_step_db_error(ctx, &dberr);
    if (rc == 1)
        return CK_STEP_OK; /* this very authorization is already recorded */
    return authorize_card(ctx, ps, token, key);
}

/* The save for credit, prepaid and contract: inside the commit. FAIL when
 * the balance does not cover the total. */
static ck_step_result reserve_balance(ck_step_ctx *ctx, const pay_state *ps)
{
    ck_error e;
    ck_error_clear(&e);
    int rc = ck_balance_reserve(ctx->db, ps->method, ctx->account_id, ps->contract_id,
                                ctx->grand_total, ctx->session_id, &e);
    if (rc == CK_EINVALID)
        return ck_step_fail(ctx, e.reason, "%s", e.message);
    return rc < 0 ? ck_step_db_error(ctx, &e) : CK_STEP_OK;
}

static ck_step_result save(ck_step_ctx *ctx)
{
    const pay_state *ps = ctx->state;
    ck_error dberr;
    /* What earlier inputs reserved on balances is given back first. */
    if (ck_balance_release_session(ctx->db, ctx->session_id, &dberr) < 0)
        return ck_step_db_error(ctx, &dberr);
    if (ps->reserve)
        return reserve_balance(ctx, ps);
    if (!ps->have)
        return CK_STEP_OK;
    int64_t now = ck_now_ms();
    ck_auth_new a = {.session_id = ctx->session_id,
                     .method = ps->method,
                     .gateway = ps->gateway,
                     .gateway_auth_id = ps->gateway_auth_id,
                     .idempotency_key = ps->idem_key,
                     .amount = ps->amount,
                     .expires_at = now + (int64_t)ctx->cx->cfg.authorization_ttl * 1000,
                     .now = now};
    int rc = ck_payments_insert_authorization(ctx->db, &a, &dberr);
    return rc < 0 ? ck_step_db_error(ctx, &dberr) : CK_STEP_OK;
}

/* Inside the give-back commit (which checked the session has no order):
 * the session's live holds marked for void and its balances released.
 * After it: the marked holds voided at the gateway; one it does not
 * confirm stays pending for the sweeper (<0, err says why). */
static int compensate(ck_step_undo *u, int phase, ck_error *err)
{
    if (phase == CK_UNDO_AFTER)
        return ck_hold_void_session(u->cx, u->db, u->session_id, err) < 0 ? CK_EINTERNAL : 0;
    int rc = ck_hold_mark_void(u->db, u->session_id, NULL, &u->holds, err);
    if (rc < 0)
        return rc;
    if ((rc = ck_balance_release_session(u->db, u->session_id, err)) < 0)
        return rc;
    u->balances = rc;
    return 0;
}

const ck_step_kind ck_step_payment = {
    .name = "payment",
    .run = run,
    .save = save,
    .compensate = compensate,
    .reads = CK_READS_PAYMENT,
    .flags = CK_STEP_EXTERNAL,
    .state_size = sizeof(pay_state),
};
