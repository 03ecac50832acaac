/* plan.c: what each change does to the units and the money (API.md
 * "Fulfillment, cancellation and returns"): the planners of change.h. Each
 * runs under the order's row lock with no other change Pending, so what it
 * reads is what its change will be applied to. */
#include <stdio.h>
#include <string.h>

#include "fulfillment/change.h"
#include "fulfillment/share.h"

int ck_auth_capturable(const ck_ful_auth *a, int64_t now)
{
    return (strcmp(a->status, "Authorized") == 0 || strcmp(a->status, "PartiallyCaptured") == 0) &&
           !a->void_pending && a->expires_at > now;
}

static int is_card(const ck_plan_in *in)
{
    return strcmp(in->o->method, "card") == 0;
}

/* The units rq->items asks for, per line, into qty (one per line, zeroed
 * first). 0, or 400 UNKNOWN_ORDER_ITEM / DUPLICATE_ORDER_ITEM (field items). */
static int asked_units(const ck_plan_in *in, int64_t *qty, ck_error *err)
{
    memset(qty, 0, in->nl * sizeof(*qty));
    size_t i;
    json_t *e;
    json_array_foreach(in->rq->items, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "orderItemId"));
        int64_t n = (int64_t)json_integer_value(json_object_get(e, "quantity"));
        size_t k = 0;
        while (k < in->nl && strcmp(in->lines[k].item_id, id) != 0)
            k++;
        if (k == in->nl)
            return ck_fail(err, CK_EINVALID, "UNKNOWN_ORDER_ITEM", "items", "%s is not an item of order %s", id,
                           in->o->id);
        if (qty[k])
            return ck_fail(err, CK_EINVALID, "DUPLICATE_ORDER_ITEM", "items",
                           "%s is named twice; give each item once with its quantity", id);
        qty[k] = n;
    }
    return 0;
}

/* The value already fulfilled: the fulfilled units' shares, and the
 * shipping once it went with a fulfilment. */
static int64_t fulfilled_value(const ck_plan_in *in)
{
    int64_t v = strcmp(in->o->shipping_state, "fulfilled") == 0 ? in->o->shipping : 0;
    for (size_t k = 0; k < in->nl; k++)
        v += in->lines[k].amount_fulfilled;
    return v;
}

static void add_item(ck_plan *p, const ck_ful_line *l, int64_t qty, int64_t amount)
{
    ck_change_item *x = &p->items[p->n++];
    snprintf(x->item_id, sizeof(x->item_id), "%s", l->item_id);
    snprintf(x->product_id, sizeof(x->product_id), "%s", l->product_id);
    x->qty = qty;
    x->amount = amount;
    p->c.amount += amount;
}

/* The units asked of each line (fulfilled or cancelled), each with its
 * share: the line's next units after those already fulfilled or cancelled. */
static void add_next_shares(const ck_plan_in *in, const int64_t *qty, ck_plan *p)
{
    for (size_t k = 0; k < in->nl; k++) {
        const ck_ful_line *l = &in->lines[k];
        if (qty[k])
            add_item(p, l, qty[k],
                     ck_share_next(l->total, l->q, l->fulfilled + l->cancelled,
                                   l->amount_fulfilled + l->amount_cancelled, qty[k]));
    }
}

/* Card refunds of amount from the captures, newest first, each no more
 * than what is left of it. Returns what could not be placed (0 normally). */
static int64_t plan_refunds(const ck_plan_in *in, ck_plan *p, int64_t amount)
{
    for (size_t i = 0; i < in->np && amount > 0; i++) {
        int64_t left = in->pays[i].amount - in->pays[i].refunded;
        if (left <= 0)
            continue;
        int64_t take = left < amount ? left : amount;
        ck_plan_refund *r = &p->refunds[p->nref++];
        snprintf(r->payment_id, sizeof(r->payment_id), "%s", in->pays[i].id);
        r->amount = take;
        amount -= take;
    }
    return amount;
}

int ck_plan_fulfill(ck_db *db, const ck_plan_in *in, ck_plan *p, ck_error *err)
{
    int64_t qty[in->nl ? in->nl : 1];
    int rc = asked_units(in, qty, err);
    if (rc < 0)
        return rc;
    for (size_t k = 0; k < in->nl; k++) {
        const ck_ful_line *l = &in->lines[k];
        int64_t open = l->q - l->fulfilled - l->cancelled;
        if (qty[k] > open)
            return ck_fail(err, CK_ECONFLICT, "OVER_FULFILLMENT", NULL,
                           "item %s: %lld asked, %lld left to fulfil", l->item_id, (long long)qty[k],
                           (long long)open);
    }
    int64_t before = fulfilled_value(in);
    add_next_shares(in, qty, p);
    if (strcmp(in->o->shipping_state, "open") == 0) {
        p->c.takes_shipping = 1;
        p->c.amount += in->o->shipping;
    }
    if (in->rq->tracking) {
        p->c.has_tracking = 1;
        snprintf(p->c.tracking, sizeof(p->c.tracking), "%s", in->rq->tracking);
    }
    if ((rc = ck_changes_next_seq(db, in->o->id, "fulfill", &p->c.seq, err)) < 0)
        return rc;
    if (!is_card(in) || !in->auth->status[0])
        return 0;
    /* Capture what the fulfilled units are worth and no capture took yet
     * (a manual capture counts), never more than the hold has left. */
    const ck_ful_auth *a = in->auth;
    int64_t due = before + p->c.amount - a->captured, left = a->amount - a->captured - a->voided;
    if (due > left)
        due = left;
    if (due <= 0)
        return 0;
    if (!ck_auth_capturable(a, ck_now_ms()))
        return ck_fail(err, CK_ECONFLICT, "AUTHORIZATION_NOT_OPEN", NULL,
                       "the order's card authorization %s is %s; nothing can be captured for this fulfilment", a->id,
                       a->void_pending ? "being voided" : strcmp(a->status, "Authorized") == 0 ? "past its date"
                                                                                              : a->status);
    snprintf(p->c.auth_id, sizeof(p->c.auth_id), "%s", a->id);
    p->c.capture_amount = due;
    snprintf(p->c.capture_key, sizeof(p->c.capture_key), "%s:fulfill:%lld", in->o->fo_id, (long long)p->c.seq);
    return 0;
}

int ck_plan_cancel(ck_db *db, const ck_plan_in *in, ck_plan *p, ck_error *err)
{
    int64_t qty[in->nl ? in->nl : 1];
    int64_t asked = 0;
    int rc = 0;
    if (in->rq->items) {
        if ((rc = asked_units(in, qty, err)) < 0)
            return rc;
    } else {
        for (size_t k = 0; k < in->nl; k++)
            qty[k] = in->lines[k].q - in->lines[k].fulfilled - in->lines[k].cancelled;
    }
    int all_cancelled = 1;
    for (size_t k = 0; k < in->nl; k++) {
        const ck_ful_line *l = &in->lines[k];
        int64_t open = l->q - l->fulfilled - l->cancelled;
        if (qty[k] > open)
            return ck_fail(err, CK_ECONFLICT, "NOTHING_TO_CANCEL", NULL,
                           "item %s: %lld asked, %lld not yet fulfilled or cancelled", l->item_id, (long long)qty[k],
                           (long long)open);
        asked += qty[k];
        if (l->cancelled + qty[k] != l->q)
            all_cancelled = 0;
    }
    if (asked == 0)
        return ck_fail(err, CK_ECONFLICT, "NOTHING_TO_CANCEL", NULL,
                       "order %s has no unit left that is neither fulfilled nor cancelled", in->o->id);
    int64_t before = fulfilled_value(in);
    add_next_shares(in, qty, p);
    /* Nothing of the order will ship: its shipping comes back too. */
    if (all_cancelled && strcmp(in->o->shipping_state, "open") == 0) {
        p->c.takes_shipping = 1;
        p->c.amount += in->o->shipping;
    }
    if ((rc = ck_changes_next_seq(db, in->o->id, "cancel", &p->c.seq, err)) < 0)
        return rc;
    if (!is_card(in)) {
        p->c.balance_amount = p->c.amount;
        return 0;
    }
    const ck_ful_auth *a = in->auth;
    if (!a->status[0] || strcmp(a->status, "Voided") == 0 || strcmp(a->status, "Expired") == 0)
        return 0; /* no hold left: no money was taken */
    snprintf(p->c.auth_id, sizeof(p->c.auth_id), "%s", a->id);
    /* The hold's uncaptured rest shrinks by the share; what a manual
     * capture took beyond the fulfilled units' value is refunded. */
    int64_t left = a->amount - a->captured - a->voided;
    if (left < 0)
        left = 0;
    p->c.void_amount = p->c.amount < left ? p->c.amount : left;
    int64_t over = a->captured - before;
    int64_t refund = p->c.amount - p->c.void_amount;
    if (refund > over)
        refund = over > 0 ? over : 0;
    if (refund > 0)
        plan_refunds(in, p, refund);
    return 0;
}

int ck_plan_return(ck_db *db, const ck_plan_in *in, ck_plan *p, ck_error *err)
{
    int64_t qty[in->nl ? in->nl : 1];
    int rc = asked_units(in, qty, err);
    if (rc < 0)
        return rc;
    for (size_t k = 0; k < in->nl; k++) {
        const ck_ful_line *l = &in->lines[k];
        if (qty[k] > l->fulfilled - l->returned)
            return ck_fail(err, CK_ECONFLICT, "NOTHING_TO_RETURN", NULL,
                           "item %s: %lld asked, %lld fulfilled and not yet returned", l->item_id, (long long)qty[k],
                           (long long)(l->fulfilled - l->returned));
    }
    for (size_t k = 0; k < in->nl; k++) {
        const ck_ful_line *l = &in->lines[k];
        if (qty[k])
            add_item(p, l, qty[k],
                     ck_share_refund(l->total, l->q, l->fulfilled, l->amount_fulfilled, l->returned,
                                     l->amount_returned, qty[k]));
    }
    if ((rc = ck_changes_next_seq(db, in->o->id, "return", &p->c.seq, err)) < 0)
        return rc;
    if (!is_card(in)) {
        p->c.balance_amount = p->c.amount;
        return 0;
    }
    /* What was captured and not yet refunded bounds the refund. */
    plan_refunds(in, p, p->c.amount);
    return 0;
}

int ck_plan_capture(ck_db *db, const ck_plan_in *in, ck_plan *p, ck_error *err)
{
    const ck_ful_auth *a = in->auth;
    int64_t now = ck_now_ms();
    if (!is_card(in) || !a->status[0] || !ck_auth_capturable(a, now))
        return ck_fail(err, CK_EINVALID, "NOTHING_TO_CAPTURE", NULL,
                       a->status[0] ? "the order's card authorization expired or was closed; there is nothing to capture"
                                    : "the order has no open card authorization to capture");
    int64_t left = a->amount - a->captured - a->voided;
    int64_t amount = in->rq->amount < 0 ? left : in->rq->amount;
    if (left <= 0)
        return ck_fail(err, CK_EINVALID, "NOTHING_TO_CAPTURE", NULL, "nothing is left to capture of %s", a->id);
    if (amount > left)
        return ck_fail(err, CK_EINVALID, "CAPTURE_EXCEEDS_AUTHORIZATION", "amount",
                       "%lld is more than the %lld that remains on the authorization", (long long)amount,
                       (long long)left);
    int64_t n = 0;
    int rc = ck_changes_next_seq(db, in->o->id, "capture", &p->c.seq, err);
    if (rc == 0)
        rc = ck_changes_next_capture_seq(db, in->o->id, a->id, &n, err);
    if (rc < 0)
        return rc;
    snprintf(p->c.auth_id, sizeof(p->c.auth_id), "%s", a->id);
    p->c.capture_amount = amount;
    p->c.amount = amount;
    snprintf(p->c.capture_key, sizeof(p->c.capture_key), "%s:capture:%lld", a->id, (long long)n);
    return 0;
}
