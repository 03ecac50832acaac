/* approve.c: releasing a net-terms order that waited for an approver. */
#include "fulfillment/fulfillment.h"
#include "orders/order.h"
#include "store/orders.h"

/* An admin, or an approver given the order's account (seeing every order
 * as an integrator does not make one an approver of every account). */
static int may_approve(ck_db *db, const ck_user *user, const char *order_id, ck_error *err)
{
    int rc = ck_order_visible(db, user, order_id, err);
    if (rc < 0 || (user->perms & CK_PERM_ADMIN))
        return rc;
    if ((rc = ck_orders_account_given_to(db, order_id, user->id, err)) < 0)
        return rc;
    return rc == 1 && (user->perms & CK_PERM_APPROVER)
               ? 0
               : ck_fail(err, CK_EFORBIDDEN, "FORBIDDEN", NULL, "only an approver given this account may approve");
}

/* The approval's one commit: the order Activated, its OrderReleased
 * event, and its fulfillment order with FulfillmentOrderCreated. 0, 409 ORDER_NOT_PENDING_APPROVAL, or <0 (rolled back). */
static int approve_tx(ck_db *db, void *arg, ck_error *err)
{
    const char *order_id = arg;
    int rc = ck_orders_activate_pending(db, order_id, ck_now_ms(), err);
    if (rc < 0)
        return rc;
    if (rc != 1)
        return ck_fail(err, CK_ECONFLICT, "ORDER_NOT_PENDING_APPROVAL", NULL, "order %s is not waiting for approval",
                       order_id);
    return ck_order_release(db, order_id, NULL, NULL, err);
}

int ck_order_approve(ck_db *db, const ck_user *user, const char *order_id, ck_error *err)
{
    int rc = may_approve(db, user, order_id, err);
    if (rc < 0)
        return rc;
    return ck_db_tx(db, 1, approve_tx, (void *)order_id, err);
}
