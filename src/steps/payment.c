/* payment.c: the payment step. card: a gateway authorization for the grand
 * total under the key <sessionId>:payment:<inputsVersion>, so a retry after a
 * crash or timeout gets the first answer back instead of a second hold; the
 * authorization row is written in save(), in the step's own commit.
 * purchase_order, net_terms (credit), prepaid and contract: no gateway; save()
 * reserves or debits the balance with a conditional UPDATE in that commit. */
#include <jansson.h>
#include <string.h>

#include "steps/step.h"
#include "payments/gateway.h"
#include "payments/balances.h"
#include "payments/holds.h"

static ck_step_result authorize_card(ck_step_ctx *ctx, const char *token, const char *key)
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
        ctx->auth.have = 1;
        snprintf(ctx->auth.gateway, sizeof(ctx->auth.gateway), "%s", gw->kind);
        snprintf(ctx->auth.gateway_auth_id, sizeof(ctx->auth.gateway_auth_id), "%s", ans.ref_id);
        snprintf(ctx->auth.idem_key, sizeof(ctx->auth.idem_key), "%s", key);
        ctx->auth.amount = ctx->grand_total;
        return CK_STEP_OK;
    case CK_GW_DECLINED:
        return ck_step_fail(ctx, "PAYMENT_DECLINED", "the card was declined%s%s; use another card",
                            ans.code[0] ? ": " : "", ans.code);
    default:
        /* A gateway that answered "error" is not one that did not answer. */
        if (strcmp(ans.code, "timeout") == 0 || strcmp(ans.code, "transport_error") == 0)
            return ck_step_retry(ctx, "PAYMENT_GATEWAY_ERROR",
                                 "the payment gateway did not answer in time; try again");
        return ck_step_retry(ctx, "PAYMENT_GATEWAY_ERROR", "the payment gateway answered with an error (%s); try again",
                             ans.message[0] ? ans.message : ans.code[0] ? ans.code : "error");
    }
}

ck_step_result ck_step_payment(ck_step_ctx *ctx)
{
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
    snprintf(ctx->auth.method, sizeof(ctx->auth.method), "%s", method);

    char key[160] = "";
    if (card)
        snprintf(key, sizeof(key), "%s:payment:%lld", ctx->session_id, (long long)ctx->inputs_version);
    /* A hold from earlier inputs (another card, another total, another
     * method) must not be orphaned: marked for void in a commit that holds
     * the session (which has no order: this run holds its lease), then
     * voided at the gateway. */
    ck_error dberr;
    ck_stmt *st = NULL;
    int rc = ck_db_one(ctx->db, &st, &dberr,
                       "SELECT 1 FROM payment_authorizations WHERE session_id = ? AND status = 'Authorized'"
                       " AND void_pending = 0 AND order_id IS NULL AND idempotency_key <> ? LIMIT 1",
                       "tt", ctx->session_id, key);
    ck_db_done(st);
    if (rc == 1 && (rc = ck_step_tx_begin(ctx, &dberr)) == 0) {
        rc = ck_hold_mark_void(ctx->db, ctx->session_id, key, NULL, &dberr);
        rc = rc == 0 ? ck_db_commit(ctx->db, &dberr) : (ck_db_rollback(ctx->db), rc);
    }
    if (rc < 0)
        return ck_step_db_error(ctx, &dberr);
    if (ck_hold_void_session(ctx->cx, ctx->db, ctx->session_id, &dberr) < 0)
        return ck_step_retry(ctx, "PAYMENT_GATEWAY_ERROR", "an earlier authorization could not be voided; try again");
    if (!card) {
        ctx->auth.reserve = 1;
        snprintf(ctx->auth.contract_id, sizeof(ctx->auth.contract_id), "%s", contract ? contract : "");
        return CK_STEP_OK;
    }
    rc = ck_db_one(ctx->db, &st, &dberr,
                   "SELECT 1 FROM payment_authorizations WHERE idempotency_key = ? AND status = 'Authorized'"
                   " AND void_pending = 0",
                   "t", key);
    ck_db_done(st);
    if (rc < 0)
        return ck_step_db_error(ctx, &dberr);
    if (rc == 1)
        return CK_STEP_OK; /* this very authorization is already recorded */
    return authorize_card(ctx, token, key);
}

/* The save for credit, prepaid and contract: inside the commit. FAIL when
 * the balance does not cover the total. */
static ck_step_result reserve_balance(ck_step_ctx *ctx)
{
    ck_error e;
    ck_error_clear(&e);
    int rc = ck_balance_reserve(ctx->db, ctx->auth.method, ctx->account_id, ctx->auth.contract_id,
                                ctx->grand_total, ctx->session_id, &e);
    if (rc == CK_EINVALID)
        return ck_step_fail(ctx, e.reason, "%s", e.message);
    return rc < 0 ? ck_step_db_error(ctx, &e) : CK_STEP_OK;
}

ck_step_result ck_step_payment_save(ck_step_ctx *ctx)
{
    ck_error dberr;
    /* What earlier inputs reserved on balances is given back first. */
    if (ck_balance_release_session(ctx->db, ctx->session_id, &dberr) < 0)
        return ck_step_db_error(ctx, &dberr);
    if (ctx->auth.reserve)
        return reserve_balance(ctx);
    if (!ctx->auth.have)
        return CK_STEP_OK;
    char id[CK_ID_MAX];
    ck_id_new(id, "pa");
    int64_t now = ck_now_ms();
    int rc = ck_db_exec(ctx->db, NULL, &dberr,
                        "INSERT INTO payment_authorizations (id, session_id, method, gateway, gateway_auth_id, amount,"
                        " status, idempotency_key, expires_at, created_at, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, 'Authorized', ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                        "tttttitiii", id, ctx->session_id, ctx->auth.method, ctx->auth.gateway,
                        ctx->auth.gateway_auth_id, ctx->auth.amount, ctx->auth.idem_key,
                        now + (int64_t)ctx->cx->cfg.authorization_ttl * 1000, now, now);
    return rc < 0 ? ck_step_db_error(ctx, &dberr) : CK_STEP_OK;
}
