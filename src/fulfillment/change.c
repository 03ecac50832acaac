/* change.c: the protocol every change to an order after checkout runs
 * through (fulfillment.h): plan and record in one commit, call the gateway
 * when the change needs it, apply in one commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/faults.h"
#include "core/log.h"
#include "events/outbox.h"
#include "fulfillment/change.h"
#include "orders/order.h"
#include "payments/gateway.h"
#include "payments/holds.h"

/* How long a change waits for another caller's Pending change of the same
 * order (its gateway call: 10 s at most) before it answers ORDER_BUSY. */
#define WAIT_MS 12000
#define WAIT_STEP_MS 20

/* ---------------------------------------------------------------- applying */

/* The change as its event shows it: {"id","items","amount"} and, per kind,
 * trackingNumber / capturedAmount / paymentId (fulfil) or refunds (return). */
static int change_json(ck_db *db, const ck_change_row *c, const ck_change_item *items, size_t n,
                       const char *payment_id, json_t **out, ck_error *err)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I}", "orderItemId", items[i].item_id, "quantity",
                                             (json_int_t)items[i].qty, "amount", (json_int_t)items[i].amount));
    json_t *j = json_pack("{s:s, s:o, s:I}", "id", c->id, "items", arr, "amount", (json_int_t)c->amount);
    if (strcmp(c->kind, "fulfill") == 0) {
        json_object_set_new(j, "trackingNumber", c->has_tracking ? json_string(c->tracking) : json_null());
        json_object_set_new(j, "capturedAmount", json_integer((json_int_t)c->capture_amount));
        json_object_set_new(j, "paymentId", payment_id ? json_string(payment_id) : json_null());
    } else if (strcmp(c->kind, "return") == 0 || strcmp(c->kind, "cancel") == 0) {
        json_t *refunds = json_array();
        json_object_set_new(j, "refunds", refunds);
        int rc = ck_refunds_change_json(db, c->id, refunds, err);
        if (rc < 0) {
            json_decref(j);
            return rc;
        }
    }
    *out = j;
    return 0;
}

/* Gives amount back to the balance the order was paid from, with its
 * ledger row: credit released (never below 0 creditUsed), prepaid or
 * contract credited. A return to a balance is also a refund row. */
static int give_back(ck_db *db, const ck_ful_order *o, const ck_change_row *c, ck_error *err)
{
    int64_t amount = c->balance_amount, now = ck_now_ms();
    if (amount <= 0)
        return 0;
    const char *memo = strcmp(c->kind, "return") == 0 ? "return" : "cancellation";
    int rc;
    if (strcmp(o->method, "purchase_order") == 0 || strcmp(o->method, "net_terms") == 0) {
        int64_t used = 0;
        if ((rc = ck_ful_credit_used(db, o->account_id, &used, err)) <= 0)
            return rc < 0 ? rc : ck_not_found(err, "account", o->account_id);
        if (amount > used)
            amount = used; /* invoices already paid: creditUsed never goes below 0 */
        if (amount > 0 && ((rc = ck_ful_credit_add(db, o->account_id, -amount, now, err)) < 0 ||
                           (rc = ck_ful_ledger_insert(db, o->account_id, NULL, "credit", -amount, "release", o->id,
                                                      memo, err)) < 0))
            return rc;
    } else if (strcmp(o->method, "prepaid") == 0) {
        if ((rc = ck_ful_prepaid_add(db, o->account_id, amount, now, err)) < 0 ||
            (rc = ck_ful_ledger_insert(db, o->account_id, NULL, "prepaid", amount, "release", o->id, memo, err)) < 0)
            return rc;
    } else if (strcmp(o->method, "contract") == 0 && o->contract_id[0]) {
        if ((rc = ck_ful_contract_add(db, o->contract_id, amount, now, err)) < 0 ||
            (rc = ck_ful_ledger_insert(db, o->account_id, o->contract_id, "contract", amount, "release", o->id, memo,
                                       err)) < 0)
            return rc;
    } else {
        return 0;
    }
    if (strcmp(c->kind, "return") == 0 && amount > 0) {
        char rid[CK_ID_MAX];
        ck_id_new(rid, "ref");
        return ck_refunds_insert(db, rid, o->id, c->id, NULL, amount, "Completed", NULL, now, err);
    }
    return 0;
}

/* The fulfillment order's status from its lines. */
static const char *fo_status(const ck_ful_line *lines, size_t n)
{
    int64_t q = 0, f = 0, c = 0;
    for (size_t k = 0; k < n; k++) {
        q += lines[k].q;
        f += lines[k].fulfilled;
        c += lines[k].cancelled;
    }
    if (c == q)
        return "Cancelled";
    if (f + c == q)
        return "Fulfilled";
    return f ? "PartiallyFulfilled" : "Allocated";
}

/* What the commit that applies a change tells its caller. */
typedef struct apply_tx {
    const char *change_id;
    const char *gw_payment_id; /* a capture's gateway payment id */
    int applied;               /* 1: this commit applied it; 0: it was not Pending */
    int release;               /* the hold's rest is to be voided after the commit */
    ck_hold hold;
} apply_tx;

/* The ck_db_tx body that applies a Pending change: units, money, stock,
 * statuses, the event, Completed. Under the order's lock; a change that is
 * no longer Pending (another caller applied it) is left alone. */
static int apply_run(ck_db *db, void *arg, ck_error *err)
{
    apply_tx *t = arg;
    t->applied = t->release = 0;
    ck_change_row c;
    ck_ful_order o;
    int rc = ck_changes_get(db, t->change_id, &c, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "change", t->change_id);
    if ((rc = ck_ful_lock_order(db, c.order_id, &o, err)) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "order", c.order_id);
    if ((rc = ck_changes_get(db, t->change_id, &c, err)) <= 0 || strcmp(c.status, "Pending") != 0)
        return rc < 0 ? rc : 0;

    int64_t now = ck_now_ms();
    ck_change_item *items = NULL;
    ck_ful_line *lines = NULL;
    size_t n = 0, nl = 0;
    json_t *data = NULL;
    char pay_id[CK_ID_MAX] = "";
    char which = strcmp(c.kind, "fulfill") == 0 ? 'f' : strcmp(c.kind, "cancel") == 0 ? 'c' : 'r';
    int is_capture = strcmp(c.kind, "capture") == 0;
    if ((rc = ck_changes_items(db, c.id, &items, &n, err)) < 0)
        goto done;
    for (size_t i = 0; i < n && !is_capture; i++) {
        if ((rc = ck_ful_summary_add(db, items[i].item_id, which, items[i].qty, items[i].amount, err)) < 0)
            goto done;
        if (which == 'c' && (rc = ck_ful_stock_return(db, items[i].product_id, items[i].qty, now, err)) < 0)
            goto done;
    }
    if (c.takes_shipping &&
        (rc = ck_ful_set_shipping_state(db, o.id, which == 'f' ? "fulfilled" : "cancelled", now, err)) < 0)
        goto done;
    if (c.capture_amount > 0) {
        ck_id_new(pay_id, "pay");
        if ((rc = ck_ful_insert_payment(db, pay_id, c.auth_id, o.id, c.capture_amount,
                                        t->gw_payment_id ? t->gw_payment_id : "", c.capture_key, now, err)) < 0 ||
            (rc = ck_ful_auth_add(db, c.auth_id, c.capture_amount, 0, now, err)) < 0)
            goto done;
    }
    if (c.void_amount > 0 && (rc = ck_ful_auth_add(db, c.auth_id, 0, c.void_amount, now, err)) < 0)
        goto done;
    if ((rc = give_back(db, &o, &c, err)) < 0)
        goto done;

    /* The order's and the fulfillment order's statuses from the units. */
    if ((rc = ck_ful_lines(db, o.id, &lines, &nl, err)) < 0)
        goto done;
    int64_t open = 0, cancelled = 0, q = 0;
    for (size_t k = 0; k < nl; k++) {
        open += lines[k].q - lines[k].fulfilled - lines[k].cancelled;
        cancelled += lines[k].cancelled;
        q += lines[k].q;
    }
    if (which == 'c' && cancelled == q && (rc = ck_ful_set_order_status(db, o.id, "Cancelled", now, err)) < 0)
        goto done;
    if (o.fo_id[0] && !is_capture && (rc = ck_fo_set_status(db, o.fo_id, fo_status(lines, nl), now, err)) < 0)
        goto done;
    /* No unit left to fulfil: what the hold has left will never be captured. */
    if (open == 0 && strcmp(o.method, "card") == 0) {
        ck_ful_auth a;
        if ((rc = ck_ful_order_auth(db, o.id, &a, err)) < 0)
            goto done;
        if (rc == 1 && (rc = ck_ful_auth_close(db, a.id, now, err)) < 0)
            goto done;
        if (rc == 1) {
            t->release = 1;
            memset(&t->hold, 0, sizeof(t->hold));
            snprintf(t->hold.id, sizeof(t->hold.id), "%s", a.id);
            snprintf(t->hold.session_id, sizeof(t->hold.session_id), "%s", a.session_id);
            snprintf(t->hold.store_id, sizeof(t->hold.store_id), "%s", o.store_id);
            snprintf(t->hold.gw_auth, sizeof(t->hold.gw_auth), "%s", a.gw_auth);
            t->hold.amount = a.amount;
        }
    }
    if ((rc = ck_changes_finish(db, c.id, "Completed", pay_id[0] ? pay_id : NULL, NULL, now, err)) < 0)
        goto done;

    if (!is_capture) {
        static const char *const events[] = {"OrderFulfilled", "OrderCancelled", "OrderReturned"};
        static const char *const names[] = {"fulfillment", "cancellation", "return"};
        int e = which == 'f' ? 0 : which == 'c' ? 1 : 2;
        json_t *order = NULL, *ch = NULL, *fo = NULL;
        if ((rc = ck_order_json(db, o.id, &order, err)) < 0)
            goto done;
        data = json_pack("{s:o}", "order", order);
        if ((rc = change_json(db, &c, items, n, pay_id[0] ? pay_id : NULL, &ch, err)) < 0)
            goto done;
        json_object_set_new(data, names[e], ch);
        if (which == 'f') {
            if ((rc = ck_fo_json(db, o.fo_id, &fo, err)) < 0)
                goto done;
            json_object_set_new(data, "fulfillmentOrder", fo ? fo : json_null());
        }
        rc = ck_outbox_add(db, events[e], o.id, NULL, data, err);
        data = NULL;
        if (rc < 0)
            goto done;
    }
    t->applied = 1;
done:
    json_decref(data);
    free(items);
    free(lines);
    return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- the gateway part */

/* The ck_db_tx body recording that the gateway refused a change: Failed
 * with its refunds, nothing else moved. */
typedef struct fail_tx {
    const char *change_id, *reason;
} fail_tx;

static int fail_run(ck_db *db, void *arg, ck_error *err)
{
    fail_tx *t = arg;
    int64_t now = ck_now_ms();
    int rc = ck_changes_finish(db, t->change_id, "Failed", NULL, t->reason, now, err);
    return rc < 0 ? rc : ck_refunds_fail_change(db, t->change_id, now, err);
}

typedef struct refund_done_tx {
    const char *refund_id, *gw_refund_id;
} refund_done_tx;

static int refund_done_run(ck_db *db, void *arg, ck_error *err)
{
    refund_done_tx *t = arg;
    int rc = ck_refunds_complete(db, t->refund_id, t->gw_refund_id, ck_now_ms(), err);
    return rc < 0 ? rc : 0;
}

/* The error a gateway answer that was not an approval makes. */
static int gateway_error(const ck_gateway_ops *gw, const ck_gw_answer *ans, const char *what, ck_error *err)
{
    if (!gw)
        return ck_fail(err, CK_EINTERNAL, "PAYMENT_GATEWAY_ERROR", NULL, "the store's payment gateway is not configured");
    /* Our sentence, and at most the gateway's code when it is a plain token:
     * its message is outside text and goes to the log only (docs/security.md). */
    const char *code = ck_gw_public_code(ans);
    if (ans->result == CK_GW_DECLINED)
        return ck_fail(err, CK_EINVALID, "PAYMENT_DECLINED", NULL, "the gateway refused the %s: %s", what,
                       code[0] ? code : "declined");
    if (strcmp(ans->code, "timeout") == 0 || strcmp(ans->code, "transport_error") == 0)
        return ck_fail(err, CK_EINTERNAL, "PAYMENT_GATEWAY_ERROR", NULL,
                       "the payment gateway did not answer the %s in time; try again", what);
    ck_log(CK_LOG_WARN, "the payment gateway answered with an error", "operation", what, "code", ans->code, "error",
           ans->message, NULL);
    return ck_fail(err, CK_EINTERNAL, "PAYMENT_GATEWAY_ERROR", NULL,
                   "the payment gateway answered the %s with an error%s%s%s; try again", what, code[0] ? " (" : "",
                   code, code[0] ? ")" : "");
}

/* Finishes a Pending change under its lease (taken for owner): its gateway
 * calls (each under its own key, so a caller taking over after a crash gets
 * the first answer back), then the commit that applies it, then the release
 * of a hold's rest. 0 when it is Completed (by this call or another); 1
 * when another caller holds its lease (wait for it); <0 when the gateway
 * refused it (400 PAYMENT_DECLINED, recorded Failed) or could not be asked
 * (500, still Pending). */
typedef struct lease_tx {
    const char *id, *owner;
    int64_t until;
    int taken; /* out */
} lease_tx;

static int lease_run(ck_db *db, void *arg, ck_error *err)
{
    lease_tx *t = arg;
    int64_t now = ck_now_ms();
    int rc = ck_changes_take_lease(db, t->id, t->owner, t->until > now ? t->until : now, now, err);
    t->taken = rc == 1;
    return rc < 0 ? rc : 0;
}

static int drive(ck_ctx *cx, ck_db *db, const char *change_id, const char *owner, ck_error *err)
{
    ck_change_row c;
    ck_ful_order o;
    int rc = ck_changes_get(db, change_id, &c, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "change", change_id);
    if (strcmp(c.status, "Failed") == 0)
        return ck_fail(err, CK_EINVALID, c.error_code[0] ? c.error_code : "PAYMENT_DECLINED", NULL,
                       "the gateway refused this change of order %s", c.order_id);
    if (strcmp(c.status, "Pending") != 0)
        return 0;
    /* Only the lease's holder calls the gateway: the caller that made the
     * change, or one that took over after its lease ran out. */
    lease_tx lt = {c.id, owner, ck_now_ms() + (int64_t)cx->cfg.lease_seconds * 1000, 0};
    if ((rc = ck_db_tx(db, 1, lease_run, &lt, err)) < 0)
        return rc;
    if (!lt.taken)
        return 1;
    if ((rc = ck_ful_read_order(db, c.order_id, &o, err)) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "order", c.order_id);

    ck_refund_row *refunds = NULL;
    size_t nref = 0;
    if ((rc = ck_refunds_of_change(db, c.id, &refunds, &nref, err)) < 0)
        return rc;
    ck_gw_config cfg;
    const ck_gateway_ops *gw = NULL;
    ck_gw_answer ans;
    memset(&ans, 0, sizeof(ans));
    char gw_payment_id[sizeof(ans.ref_id)] = "";
    int need_gw = c.capture_amount > 0 || nref > 0;
    if (need_gw) {
        if ((rc = ck_gateway_config_load(db, o.store_id, &cfg, err)) < 0)
            goto done;
        gw = rc == 1 ? ck_gateway_for(&cfg) : NULL;
    }
    if (c.capture_amount > 0) {
        ck_ful_auth a;
        if ((rc = ck_ful_order_auth(db, o.id, &a, err)) < 0)
            goto done;
        if (gw)
            ck_gw_capture(&cx->metrics, gw, &cfg, db, c.capture_key, a.gw_auth, c.capture_amount, &ans);
        if (ck_fault(cx->faults, "crash.gateway") ||
            (strcmp(c.kind, "capture") == 0 && ck_fault(cx->faults, "crash.capture")))
            ck_fault_crash();
        if (gw && ans.result == CK_GW_APPROVED && ans.amount > 0 && ans.amount != c.capture_amount) {
            ck_log_obj(CK_LOG_ERROR, "the gateway captured another amount than was asked",
                   json_pack("{s:s, s:I, s:I}", "change", c.id, "asked", (json_int_t)c.capture_amount, "captured",
                             (json_int_t)ans.amount));
            ans.result = CK_GW_ERROR;
            snprintf(ans.message, sizeof(ans.message), "the gateway captured %lld, not %lld", (long long)ans.amount,
                     (long long)c.capture_amount);
        }
        if (!gw || ans.result != CK_GW_APPROVED) {
            rc = gateway_error(gw, &ans, "capture", err);
            if (gw && ans.result == CK_GW_DECLINED) {
                fail_tx f = {c.id, "PAYMENT_DECLINED"};
                ck_error ferr;
                if (ck_db_tx(db, 1, fail_run, &f, &ferr) < 0)
                    *err = ferr;
            }
            goto done;
        }
        snprintf(gw_payment_id, sizeof(gw_payment_id), "%s", ans.ref_id);
    }
    for (size_t i = 0; i < nref; i++) {
        if (strcmp(refunds[i].status, "Pending") != 0)
            continue;
        memset(&ans, 0, sizeof(ans));
        if (gw)
            ck_gw_refund(&cx->metrics, gw, &cfg, db, refunds[i].key, refunds[i].gw_payment_id, refunds[i].amount,
                         &ans);
        if (ck_fault(cx->faults, "crash.gateway"))
            ck_fault_crash();
        if (!gw || ans.result != CK_GW_APPROVED) {
            rc = gateway_error(gw, &ans, "refund", err);
            int none_done = 1;
            for (size_t k = 0; k < nref; k++)
                if (strcmp(refunds[k].status, "Completed") == 0)
                    none_done = 0;
            /* A refusal before any refund of the change went through fails
             * it. After one did, the money is half back: the change stays
             * Pending (the sweeper asks again) and the caller hears of a
             * gateway error, not of a refusal it could act on. */
            if (gw && ans.result == CK_GW_DECLINED && none_done) {
                fail_tx f = {c.id, "PAYMENT_DECLINED"};
                ck_error ferr;
                if (ck_db_tx(db, 1, fail_run, &f, &ferr) < 0)
                    *err = ferr;
            } else if (gw && ans.result == CK_GW_DECLINED) {
                rc = ck_fail(err, CK_EINTERNAL, "PAYMENT_GATEWAY_ERROR", NULL,
                             "the gateway refused refund %s after others of the same change went through; the"
                             " change stays pending and is asked again",
                             refunds[i].id);
            }
            goto done;
        }
        refund_done_tx r = {refunds[i].id, ans.ref_id};
        if ((rc = ck_db_tx(db, 1, refund_done_run, &r, err)) < 0)
            goto done;
        snprintf(refunds[i].status, sizeof(refunds[i].status), "Completed");
    }
    apply_tx t = {.change_id = c.id, .gw_payment_id = gw_payment_id};
    if ((rc = ck_db_tx(db, 1, apply_run, &t, err)) < 0)
        goto done;
    if (t.applied && ck_fault_at(cx->faults, "crash.after", c.kind))
        ck_fault_crash();
    if (t.release) {
        ck_error verr; /* a void the gateway did not confirm stays pending: the sweeper retries it */
        ck_hold_void(cx, db, &t.hold, NULL, NULL, &verr);
    }
    /* Another caller may have failed it meanwhile (a refusal it saw). */
    if ((rc = ck_changes_get(db, c.id, &c, err)) == 1 && strcmp(c.status, "Failed") == 0)
        rc = ck_fail(err, CK_EINVALID, c.error_code[0] ? c.error_code : "PAYMENT_DECLINED", NULL,
                     "the gateway refused this change of order %s", c.order_id);
    else if (rc >= 0)
        rc = 0;
done:
    if (need_gw)
        ck_secure_zero(cfg.secret, sizeof(cfg.secret));
    free(refunds);
    if (rc < 0) { /* still Pending, or Failed: a retry need not wait for the lease */
        ck_error ignored;
        ck_changes_lease_release(db, c.id, owner, &ignored);
    }
    return rc;
}

/* ---------------------------------------------------------------- the first commit */

typedef struct plan_tx {
    const char *order_id, *kind;
    ck_planner planner;
    const ck_change_req *rq;
    const char *owner;     /* the lease owner of a change made here */
    int64_t lease_until;
    char found[CK_ID_MAX]; /* out: the change rq->request_key made before */
    char busy[CK_ID_MAX];  /* out: the order's Pending change, to finish first */
    int wait;              /* out: busy is another live caller's: wait for it */
    int same;              /* out: busy asked what this request asks (its retry) */
    char made[CK_ID_MAX];  /* out: the change this commit made */
    int needs_gateway;     /* out: made Pending, to drive */
    apply_tx applied;      /* out: when made and applied in this commit */
} plan_tx;

/* What was asked, as a hash: kind, order, items, tracking number, amount. */
static void fingerprint(const char *kind, const char *order_id, const ck_change_req *rq, char out[65])
{
    json_t *j = json_pack("{s:s, s:s, s:O?, s:s?, s:I}", "kind", kind, "order", order_id, "items", rq->items,
                          "tracking", rq->tracking, "amount", (json_int_t)rq->amount);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    ck_sha256_hex(out, text ? text : "", text ? strlen(text) : 0);
    free(text);
    json_decref(j);
}

static int plan_run(ck_db *db, void *arg, ck_error *err)
{
    plan_tx *t = arg;
    t->found[0] = t->busy[0] = t->made[0] = '\0';
    t->needs_gateway = t->wait = t->same = 0;
    ck_ful_order o;
    int rc = ck_ful_lock_order(db, t->order_id, &o, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "order", t->order_id);
    if (t->rq->request_key && (rc = ck_changes_by_request_key(db, t->rq->request_key, t->found, err)) != 0)
        return rc < 0 ? rc : 0;
    char fp[65];
    fingerprint(t->kind, o.id, t->rq, fp);
    if ((rc = ck_changes_pending_of_order(db, o.id, t->busy, err)) != 0) {
        if (rc < 0)
            return rc;
        /* A live caller's change is waited for. One whose caller died
         * (its lease ran out) is taken over, and when it asked what this
         * request asks, this request is its retry. */
        ck_change_row pending;
        if ((rc = ck_changes_get(db, t->busy, &pending, err)) < 0)
            return rc;
        if (rc == 1) {
            t->wait = pending.lease_until >= ck_now_ms() && strcmp(pending.lease_owner, t->owner) != 0;
            t->same = strcmp(pending.fingerprint, fp) == 0;
        }
        return 0;
    }

    ck_ful_line *lines = NULL;
    ck_ful_payment *pays = NULL;
    size_t nl = 0, np = 0;
    ck_ful_auth auth;
    ck_plan p;
    memset(&p, 0, sizeof(p));
    memset(&auth, 0, sizeof(auth));
    if ((rc = ck_ful_lines(db, o.id, &lines, &nl, err)) < 0 || (rc = ck_ful_order_auth(db, o.id, &auth, err)) < 0 ||
        (rc = ck_ful_payments(db, o.id, &pays, &np, err)) < 0)
        goto done;
    p.items = calloc(nl ? nl : 1, sizeof(*p.items));
    p.refunds = calloc(np ? np : 1, sizeof(*p.refunds));
    if (!p.items || !p.refunds) {
        rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
        goto done;
    }
    static const struct {
        const char *kind, *prefix;
    } prefixes[] = {{"fulfill", "ful"}, {"cancel", "can"}, {"return", "ret"}, {"capture", "cap"}};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strcmp(prefixes[i].kind, t->kind) == 0)
            ck_id_new(p.c.id, prefixes[i].prefix);
    snprintf(p.c.order_id, sizeof(p.c.order_id), "%s", o.id);
    snprintf(p.c.fo_id, sizeof(p.c.fo_id), "%s", o.fo_id);
    snprintf(p.c.kind, sizeof(p.c.kind), "%s", t->kind);
    snprintf(p.c.status, sizeof(p.c.status), "Pending");
    snprintf(p.c.fingerprint, sizeof(p.c.fingerprint), "%s", fp);
    snprintf(p.c.lease_owner, sizeof(p.c.lease_owner), "%s", t->owner);
    p.c.lease_until = t->lease_until;
    ck_plan_in in = {&o, lines, nl, &auth, pays, np, t->rq};
    if ((rc = t->planner(db, &in, &p, err)) < 0)
        goto done;
    int64_t now = ck_now_ms();
    if ((rc = ck_changes_insert(db, &p.c, t->rq->request_key, now, err)) < 0)
        goto done;
    for (size_t i = 0; i < p.n; i++)
        if ((rc = ck_changes_insert_item(db, p.c.id, p.items[i].item_id, p.items[i].qty, p.items[i].amount, err)) < 0)
            goto done;
    for (size_t i = 0; i < p.nref; i++) {
        char rid[CK_ID_MAX], key[CK_ID_MAX * 2 + 16];
        ck_id_new(rid, "ref");
        snprintf(key, sizeof(key), "%s:refund:%s", p.c.id, p.refunds[i].payment_id);
        if ((rc = ck_refunds_insert(db, rid, o.id, p.c.id, p.refunds[i].payment_id, p.refunds[i].amount, "Pending",
                                    key, now, err)) < 0)
            goto done;
    }
    snprintf(t->made, sizeof(t->made), "%s", p.c.id);
    t->needs_gateway = p.c.capture_amount > 0 || p.nref > 0;
    if (!t->needs_gateway) {
        t->applied = (apply_tx){.change_id = t->made};
        rc = apply_run(db, &t->applied, err);
    }
done:
    free(lines);
    free(pays);
    free(p.items);
    free(p.refunds);
    return rc;
}

/* Sleeps WAIT_STEP_MS. */
static void wait_step(void)
{
    struct timespec ts = {0, WAIT_STEP_MS * 1000000L};
    nanosleep(&ts, NULL);
}

int ck_change_run(ck_ctx *cx, ck_db *db, const char *order_id, const char *kind, ck_planner planner,
                  const ck_change_req *rq, char change_id[CK_ID_MAX], ck_error *err)
{
    change_id[0] = '\0';
    char owner[CK_OWNER_MAX];
    ck_owner_new(owner, cx->node_id, "chg");
    int64_t deadline = ck_now_ms() + WAIT_MS;
    for (;;) {
        if (ck_now_ms() > deadline)
            return ck_fail(err, CK_ECONFLICT, "ORDER_BUSY", NULL,
                           "another change of order %s is still waiting for the payment gateway; try again",
                           order_id);
        plan_tx t = {.order_id = order_id, .kind = kind, .planner = planner, .rq = rq, .owner = owner,
                     .lease_until = ck_now_ms() + (int64_t)cx->cfg.lease_seconds * 1000};
        int rc = ck_db_tx(db, 1, plan_run, &t, err);
        if (rc == CK_EDUP)
            continue; /* another change of the order took the Pending place, or the key, first */
        if (rc < 0)
            return rc;
        if (t.found[0]) { /* a retry: the change its key made */
            snprintf(change_id, CK_ID_MAX, "%s", t.found);
            if ((rc = drive(cx, db, t.found, owner, err)) == 1) {
                wait_step();
                continue;
            }
            return rc;
        }
        if (t.busy[0] && t.wait) {
            wait_step();
            continue;
        }
        if (t.busy[0]) { /* a change whose caller died: finish it first */
            ck_error busy_err;
            ck_error_clear(&busy_err);
            rc = drive(cx, db, t.busy, owner, &busy_err);
            if (rc == 1) {
                wait_step();
                continue;
            }
            if (t.same) { /* this request is its retry: its answer is ours */
                snprintf(change_id, CK_ID_MAX, "%s", t.busy);
                if (rc < 0)
                    *err = busy_err;
                return rc;
            }
            if (rc < 0 && busy_err.code == CK_EINTERNAL)
                return ck_fail(err, CK_EINTERNAL, busy_err.reason, NULL,
                               "an earlier change of order %s is waiting for the payment gateway: %s", order_id,
                               busy_err.message);
            continue;
        }
        snprintf(change_id, CK_ID_MAX, "%s", t.made);
        if (!t.needs_gateway) {
            if (ck_fault_at(cx->faults, "crash.after", kind))
                ck_fault_crash();
            if (t.applied.release) {
                ck_error verr;
                ck_hold_void(cx, db, &t.applied.hold, NULL, NULL, &verr);
            }
            return 0;
        }
        rc = drive(cx, db, t.made, owner, err);
        return rc == 1 ? ck_fail(err, CK_ECONFLICT, "ORDER_BUSY", NULL,
                                 "another caller took over change %s of order %s; try again", t.made, order_id)
                       : rc;
    }
}

int ck_changes_settle_stale(ck_ctx *cx, ck_db *db, int *done, ck_error *err)
{
    *done = 0;
    char (*ids)[CK_ID_MAX] = NULL;
    size_t n = 0;
    int rc = ck_changes_stale(db, ck_now_ms(), 100, &ids, &n, err);
    if (rc < 0)
        return rc;
    char owner[CK_OWNER_MAX];
    ck_owner_new(owner, cx->node_id, "sweep");
    for (size_t i = 0; i < n; i++) {
        ck_error e;
        ck_error_clear(&e);
        rc = drive(cx, db, ids[i], owner, &e);
        if (rc == 0 || (rc < 0 && e.code == CK_EINVALID))
            (*done)++;
    }
    free(ids);
    return 0;
}
