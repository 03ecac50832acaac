/* authorizations.c: GET /v1/authorizations?status=&storeId=: the payment
 * holds (card authorizations), with their expiry and order, for the people
 * who capture, void and chase them; and voiding one that backs no order.
 * The routes are in orders.c's table. */
#include <string.h>

#include "api/authorizations.h"
#include "api/common.h"
#include "payments/holds.h"
#include "store/payments.h"
#include "store/stores.h"

static const char *const statuses[] = {"Authorized", "PartiallyCaptured", "Captured", "Voided", "Expired", NULL};

int ck_authorizations_void(ck_req *req, ck_error *err)
{
    int rc = ck_hold_void_one(req->cx, req->db, req->params[0], err);
    if (rc < 0)
        return rc;
    json_t *a = NULL;
    if ((rc = ck_or_404(ck_payments_authorization_json(req->db, req->params[0], &a, err), "authorization",
                        req->params[0], err)) < 0)
        return rc;
    return ck_reply(req, 200, a);
}

int ck_authorizations_list(ck_req *req, ck_error *err)
{
    const char *status = ck_query(req, "status"), *store_id = ck_query(req, "storeId"), *after = NULL;
    /* Who sees which hold follows who sees which order (ck_order_account_visible):
     * admins, integrators and fulfillment users every one; buyers and
     * approvers those of the accounts they were given. */
    int64_t limit = 0;
    int wide = (req->user.perms & (CK_PERM_ADMIN | CK_PERM_INTEGRATOR | CK_PERM_FULFILLMENT)) != 0;
    json_t *items = NULL;
    char last[CK_ID_MAX];
    int rc, known = 0;
    for (int i = 0; status && statuses[i]; i++)
        known |= strcmp(status, statuses[i]) == 0;
    if (status && !known)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "status",
                       "'status' must be Authorized, PartiallyCaptured, Captured, Voided or Expired");
    if (store_id && !ck_id_valid(store_id, "store"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "storeId", "'storeId' is not a store id");
    ck_authorizations_filter f = {status, store_id, req->user.id, wide};
    if ((rc = ck_page_params(req, "pa", &limit, &after, err)) < 0 ||
        (store_id && (rc = ck_or_404(ck_stores_exists(req->db, store_id, err), "store", store_id, err)) < 0) ||
        (rc = ck_payments_list_authorizations(req->db, &f, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}
