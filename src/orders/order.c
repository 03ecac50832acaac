/* order.c: the order view and order visibility. */
#include <string.h>

#include "core/json.h"
#include "orders/order.h"
#include "store/accounts.h"
#include "store/deliveries.h"
#include "store/fulfillment.h"
#include "store/orders.h"
#include "store/payments.h"

int ck_order_json(ck_db *db, const char *order_id, json_t **out, ck_error *err)
{
    *out = NULL;
    char session_id[CK_ID_MAX];
    int64_t created_at = 0, updated_at = 0;
    json_t *o = NULL;
    int rc = ck_orders_view_head(db, order_id, &o, session_id, &created_at, &updated_at, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "order", order_id);

    /* The lists in the view's order; each is set, possibly partial, before the next is read. */
    json_t *part = json_array();
    json_object_set_new(o, "items", part);
    rc = ck_orders_items_json(db, order_id, part, err);
    if (rc == 0) {
        part = NULL;
        rc = ck_orders_summary_json(db, order_id, &part, err);
        json_object_set_new(o, "summary", part ? part : json_null());
    }
    if (rc == 0) {
        part = json_array();
        json_object_set_new(o, "authorizations", part);
        rc = ck_payments_order_authorizations_json(db, order_id, session_id, part, err);
    }
    if (rc == 0) {
        part = json_array();
        json_object_set_new(o, "payments", part);
        rc = ck_payments_order_payments_json(db, order_id, part, err);
    }
    if (rc == 0) {
        part = json_array();
        json_object_set_new(o, "refunds", part);
        rc = ck_refunds_order_json(db, order_id, part, err);
    }
    if (rc == 0) {
        char fo_id[CK_ID_MAX];
        rc = ck_ful_fo_of_order(db, order_id, fo_id, err);
        if (rc >= 0)
            json_object_set_new(o, "fulfillmentOrderId", rc == 1 ? json_string(fo_id) : json_null());
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0) {
        part = json_array();
        json_object_set_new(o, "deliveries", part);
        rc = ck_deliveries_order_json(db, order_id, part, err);
    }
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    json_object_set_new(o, "createdAt", ck_json_time(created_at));
    json_object_set_new(o, "updatedAt", ck_json_time(updated_at));
    *out = o;
    return 0;
}

int ck_order_account_visible(ck_db *db, const ck_user *user, const char *account_id, ck_error *err)
{
    if (user->perms & (CK_PERM_ADMIN | CK_PERM_INTEGRATOR | CK_PERM_FULFILLMENT))
        return 1;
    if (!(user->perms & (CK_PERM_BUYER | CK_PERM_APPROVER)))
        return 0;
    return ck_accounts_given_to_user(db, user->id, account_id, err);
}

int ck_order_visible(ck_db *db, const ck_user *user, const char *order_id, ck_error *err)
{
    char account_id[CK_ID_MAX];
    int rc = ck_orders_account_of(db, order_id, account_id, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "order", order_id);
    if ((rc = ck_order_account_visible(db, user, account_id, err)) < 0)
        return rc;
    return rc == 1 ? 0 : ck_not_found(err, "order", order_id);
}
