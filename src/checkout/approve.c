/* approve.c: releasing a net-terms order that waited for an approver. */
#include "api/common.h"
#include "checkout/order.h"
#include "events/outbox.h"

int ck_order_approve(ck_db *db, const ck_user *user, const char *order_id, ck_error *err)
{
    int rc = ck_order_visible(db, user, order_id, err);
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
