/* ops.c: the four changes to an order after checkout (fulfillment.h): who
 * they apply to, their planner, and what they answer. */
#include <stdio.h>
#include <string.h>

#include "fulfillment/change.h"
#include "orders/order.h"

/* The ck_db_tx body that reads an answer in one snapshot. */
typedef struct answer_tx {
    const char *id;
    int kind; /* 0 fulfillment order, 1 order, 2 payment */
    json_t *out;
} answer_tx;

static int answer_run(ck_db *db, void *arg, ck_error *err)
{
    answer_tx *t = arg;
    json_decref(t->out);
    t->out = NULL;
    if (t->kind == 0)
        return ck_fo_view(db, t->id, &t->out, err);
    if (t->kind == 1)
        return ck_order_json(db, t->id, &t->out, err);
    int rc = ck_ful_payment_json(db, t->id, &t->out, err);
    return rc < 0 ? rc : rc == 0 ? ck_not_found(err, "payment", t->id) : 0;
}

static int answer(ck_db *db, const char *id, int kind, json_t **out, ck_error *err)
{
    answer_tx t = {id, kind, NULL};
    int rc = ck_db_tx(db, 0, answer_run, &t, err);
    if (rc < 0) {
        json_decref(t.out);
        return rc;
    }
    *out = t.out;
    return 0;
}

int ck_fulfil(ck_ctx *cx, ck_db *db, const char *fo_id, const ck_change_req *rq, json_t **out, ck_error *err)
{
    *out = NULL;
    json_t *fo = NULL;
    int rc = ck_fo_view(db, fo_id, &fo, err);
    if (rc < 0)
        return rc;
    char order_id[CK_ID_MAX], change_id[CK_ID_MAX];
    snprintf(order_id, sizeof(order_id), "%s", json_string_value(json_object_get(fo, "orderId")));
    json_decref(fo);
    if ((rc = ck_change_run(cx, db, order_id, "fulfill", ck_plan_fulfill, rq, change_id, err)) < 0)
        return rc;
    return answer(db, fo_id, 0, out, err);
}

int ck_order_cancel(ck_ctx *cx, ck_db *db, const char *order_id, const ck_change_req *rq, json_t **out,
                    ck_error *err)
{
    *out = NULL;
    char change_id[CK_ID_MAX];
    int rc = ck_change_run(cx, db, order_id, "cancel", ck_plan_cancel, rq, change_id, err);
    return rc < 0 ? rc : answer(db, order_id, 1, out, err);
}

int ck_order_return(ck_ctx *cx, ck_db *db, const char *order_id, const ck_change_req *rq, json_t **out,
                    ck_error *err)
{
    *out = NULL;
    char change_id[CK_ID_MAX];
    int rc = ck_change_run(cx, db, order_id, "return", ck_plan_return, rq, change_id, err);
    return rc < 0 ? rc : answer(db, order_id, 1, out, err);
}

int ck_order_capture(ck_ctx *cx, ck_db *db, const ck_user *user, const char *order_id, const ck_change_req *rq,
                     json_t **out, ck_error *err)
{
    *out = NULL;
    int rc = ck_order_visible(db, user, order_id, err);
    if (rc < 0)
        return rc;
    char change_id[CK_ID_MAX];
    if ((rc = ck_change_run(cx, db, order_id, "capture", ck_plan_capture, rq, change_id, err)) < 0)
        return rc;
    ck_change_row c;
    if ((rc = ck_changes_get(db, change_id, &c, err)) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "change", change_id);
    return answer(db, c.payment_id, 2, out, err);
}
