/* fo.c: the fulfillment order: made in the release commit, and read. */
#include "events/outbox.h"
#include "fulfillment/fulfillment.h"
#include "orders/order.h"
#include "store/fulfillment.h"

int ck_order_release(ck_db *db, const char *order_id, const char *session_id, json_t **view, ck_error *err)
{
    ck_ful_order o;
    int rc = ck_ful_read_order(db, order_id, &o, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "order", order_id);
    if (o.fo_id[0])
        return 0; /* released once only; a second call finds it made */
    char id[CK_ID_MAX];
    ck_id_new(id, "fo");
    if ((rc = ck_fo_insert(db, id, order_id, o.store_id, ck_now_ms(), err)) < 0)
        return rc;
    /* One view of the order, already naming its fulfillment order, for both events. */
    json_t *fo = NULL, *order = NULL;
    if ((rc = ck_fo_json(db, id, &fo, err)) < 0 || (rc = ck_order_json(db, order_id, &order, err)) < 0) {
        json_decref(fo);
        return rc;
    }
    if ((rc = ck_outbox_add(db, "OrderReleased", order_id, session_id, json_pack("{s:O}", "order", order), err)) < 0) {
        json_decref(fo);
        json_decref(order);
        return rc;
    }
    if (view)
        *view = json_incref(order);
    return ck_outbox_add(db, "FulfillmentOrderCreated", order_id, session_id,
                         json_pack("{s:o, s:o}", "fulfillmentOrder", fo, "order", order), err);
}

int ck_fo_view(ck_db *db, const char *fo_id, json_t **out, ck_error *err)
{
    int rc = ck_fo_json(db, fo_id, out, err);
    if (rc < 0)
        return rc;
    return rc == 0 ? ck_not_found(err, "fulfillment order", fo_id) : 0;
}
