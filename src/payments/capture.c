/* capture.c: capturing a card authorization at fulfilment, in full or in
 * part. One capture at a time per authorization (a lock row, across nodes);
 * the gateway key <authorizationId>:capture:<n> is fixed by how many captures
 * are recorded, so a retry after a crash between the gateway's answer and
 * our commit gets the same capture back and records it once. */
#include <string.h>

#include "orders/order.h"
#include "payments/capture.h"
#include "payments/gateway.h"
#include "store/payments.h"

#define LOCK_MS 60000

typedef struct capture_rec {
    const char *pay_id, *auth_id, *order_id, *gw_payment_id, *key, *owner;
    int64_t amount, now;
} capture_rec;

/* The commit that records a capture (store/payments.h). 0 or <0. */
static int record_capture(ck_db *db, void *arg, ck_error *err)
{
    const capture_rec *c = arg;
    return ck_payments_record_capture(db, c->pay_id, c->auth_id, c->order_id, c->amount, c->gw_payment_id, c->key,
                                      c->owner, c->now, err);
}

int ck_order_capture(ck_ctx *cx, ck_db *db, const ck_user *user, const char *order_id, int64_t amount,
                     json_t **out, ck_error *err)
{
    *out = NULL;
    int rc = ck_order_visible(db, user, order_id, err);
    if (rc < 0)
        return rc;
    char auth_id[CK_ID_MAX], gw_auth[128], store_id[CK_ID_MAX], owner[CK_OWNER_MAX];
    rc = ck_payments_open_auth_of_order(db, order_id, auth_id, gw_auth, store_id, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_fail(err, CK_EINVALID, "NOTHING_TO_CAPTURE", NULL,
                                     "the order has no open card authorization to capture");

    ck_owner_new(owner, cx->node_id, "cap");
    int64_t now = ck_now_ms();
    /* The lock is taken only on a hold that is open and not past its date;
     * the sweeper's expiry leaves a locked hold alone, so once locked the
     * hold cannot expire under this capture. */
    rc = ck_payments_capture_lock(db, auth_id, owner, now + LOCK_MS, now, err);
    if (rc < 0)
        return rc;
    if (rc != 1) {
        rc = ck_payments_auth_capturable(db, auth_id, now, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return ck_fail(err, CK_EINVALID, "NOTHING_TO_CAPTURE", NULL,
                           "the order's card authorization expired or was closed; there is nothing to capture");
        return ck_fail(err, CK_ECONFLICT, "CAPTURE_IN_PROGRESS", NULL,
                       "another capture of this authorization is running; try again");
    }
    /* Under the lock, the amounts cannot move. */
    int64_t authorized = 0, captured = 0, n = 0;
    rc = ck_payments_auth_amounts(db, auth_id, &authorized, &captured, &n, err);
    int64_t remaining = authorized - captured;
    if (rc == 1 && amount < 0)
        amount = remaining;
    if (rc == 1 && (amount > remaining || amount <= 0))
        rc = ck_fail(err, CK_EINVALID, "CAPTURE_EXCEEDS_AUTHORIZATION", "amount",
                     "%lld is more than the %lld that remains on the authorization", (long long)amount,
                     (long long)remaining);
    if (rc < 0) {
        ck_payments_capture_unlock(db, auth_id, owner);
        return rc;
    }

    ck_gw_config cfg;
    ck_gw_answer ans;
    memset(&ans, 0, sizeof(ans));
    char key[CK_ID_MAX + 32];
    snprintf(key, sizeof(key), "%s:capture:%lld", auth_id, (long long)(n + 1));
    rc = ck_gateway_config_load(db, store_id, &cfg, err);
    const ck_gateway_ops *gw = rc == 1 ? ck_gateway_for(&cfg) : NULL;
    if (gw)
        ck_gw_capture(&cx->metrics, gw, &cfg, db, key, gw_auth, amount, &ans);
    ck_secure_zero(cfg.secret, sizeof(cfg.secret));
    if (ck_fault(cx->faults, "crash.capture"))
        ck_fault_crash();
    if (!gw || ans.result != CK_GW_APPROVED) {
        ck_payments_capture_unlock(db, auth_id, owner);
        if (gw && ans.result == CK_GW_DECLINED)
            return ck_fail(err, CK_EINVALID, "PAYMENT_DECLINED", NULL, "the gateway refused the capture: %s",
                           ans.code[0] ? ans.code : "declined");
        if (!gw)
            return ck_fail(err, CK_EINTERNAL, "PAYMENT_GATEWAY_ERROR", NULL,
                              "the store's payment gateway is not configured");
        if (strcmp(ans.code, "timeout") == 0 || strcmp(ans.code, "transport_error") == 0)
            return ck_fail(err, CK_EINTERNAL, "PAYMENT_GATEWAY_ERROR", NULL,
                              "the payment gateway did not answer in time; try again");
        return ck_fail(err, CK_EINTERNAL, "PAYMENT_GATEWAY_ERROR", NULL,
                          "the payment gateway answered with an error (%s); try again",
                          ans.message[0] ? ans.message : ans.code[0] ? ans.code : "error");
    }
    /* Record what the gateway captured: a retry under the same key returns
     * the first capture, whose amount is the one that happened. */
    if (ans.amount > 0)
        amount = ans.amount;
    char pay_id[CK_ID_MAX];
    ck_id_new(pay_id, "pay");
    now = ck_now_ms();
    capture_rec rec = {pay_id, auth_id, order_id, ans.ref_id, key, owner, amount, now};
    rc = ck_db_tx(db, 1, record_capture, &rec, err);
    if (rc < 0) {
        ck_payments_capture_unlock(db, auth_id, owner);
        return rc;
    }
    char ts[32];
    ck_time_format(ts, now);
    *out = json_pack("{s:s, s:s, s:I, s:s}", "id", pay_id, "authorizationId", auth_id, "amount", (json_int_t)amount,
                     "createdAt", ts);
    return 0;
}
