/* approve.c: releasing a net-terms order that waited for an approver. */
#include "orders/order.h"
#include "events/outbox.h"

/* An admin, or an approver given the order's account (seeing every order
 * as an integrator does not make one an approver of every account). */
static int may_approve(ck_db *db, const ck_user *user, const char *order_id, ck_error *err)
{
    int rc = ck_order_visible(db, user, order_id, err);
    if (rc < 0 || (user->perms & CK_PERM_ADMIN))
        return rc;
    ck_stmt *st = NULL;
    rc = ck_db_one(db, &st, err,
                   "SELECT 1 FROM orders o JOIN user_accounts ua ON ua.account_id = o.account_id"
                   " WHERE o.id = ? AND ua.user_id = ?",
                   "tt", order_id, user->id);
    ck_db_done(st);
    if (rc < 0)
        return rc;
    return rc == 1 && (user->perms & CK_PERM_APPROVER)
               ? 0
               : ck_fail(err, CK_EFORBIDDEN, "FORBIDDEN", NULL, "only an approver given this account may approve");
}

int ck_order_approve(ck_db *db, const ck_user *user, const char *order_id, ck_error *err)
{
    int rc = may_approve(db, user, order_id, err);
    if (rc < 0)
        return rc;
    if ((rc = ck_db_begin(db, 1, err)) < 0)
        return rc;
    int64_t changed = 0;
    rc = ck_db_exec(db, &changed, err,
                    "UPDATE orders SET status = 'Activated', updated_at = ? WHERE id = ? AND status = 'PendingApproval'",
                    "it", ck_now_ms(), order_id);
    if (rc == 0 && changed != 1)
        rc = ck_fail(err, CK_ECONFLICT, "ORDER_NOT_PENDING_APPROVAL", NULL, "order %s is not waiting for approval",
                     order_id);
    json_t *order = NULL;
    if (rc == 0)
        rc = ck_order_json(db, order_id, &order, err);
    if (rc == 0)
        rc = ck_outbox_add(db, "OrderReleased", order_id, NULL, json_pack("{s:o}", "order", order), err);
    if (rc < 0) {
        ck_db_rollback(db);
        return rc;
    }
    return ck_db_commit(db, err);
}
