/* authorizations.c: GET /v1/authorizations?status=&storeId=: the payment
 * holds (card authorizations), with their expiry and order, for the people
 * who capture, void and chase them. The route is in orders.c's table. */
#include <string.h>

#include "api/authorizations.h"
#include "api/common.h"

static const char *const statuses[] = {"Authorized", "PartiallyCaptured", "Captured", "Voided", "Expired", NULL};

#define AUTH_COLS                                                                                               \
    "a.id, a.status, a.amount, a.captured_amount, a.gateway_auth_id, a.method, a.session_id, a.order_id,"     \
    " s.store_id, s.account_id, a.expires_at, a.created_at, a.updated_at"

static json_t *authorization_json(ck_stmt *st)
{
    json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "id", ck_col_text(st, 0), "status",
                          ck_col_text(st, 1), "amount", (json_int_t)ck_col_int(st, 2), "capturedAmount",
                          (json_int_t)ck_col_int(st, 3), "gatewayAuthId", ck_col_text(st, 4), "method",
                          ck_col_text(st, 5), "sessionId", ck_col_text(st, 6));
    const char *order = ck_col_text_or_null(st, 7);
    json_object_set_new(j, "orderId", order ? json_string(order) : json_null());
    json_object_set_new(j, "storeId", json_string(ck_col_text(st, 8)));
    json_object_set_new(j, "accountId", json_string(ck_col_text(st, 9)));
    json_object_set_new(j, "expiresAt", ck_json_time(ck_col_int(st, 10)));
    json_object_set_new(j, "createdAt", ck_json_time(ck_col_int(st, 11)));
    json_object_set_new(j, "updatedAt", ck_json_time(ck_col_int(st, 12)));
    return j;
}

int ck_authorizations_list(ck_req *req, ck_error *err)
{
    const char *status = ck_query(req, "status"), *store_id = ck_query(req, "storeId"), *after = NULL;
    /* Who sees which hold follows who sees which order (ck_order_account_visible):
     * admins, integrators and fulfillment users every one; buyers and
     * approvers those of the accounts they were given. */
    int64_t limit = 0, wide = (req->user.perms & (CK_PERM_ADMIN | CK_PERM_INTEGRATOR | CK_PERM_FULFILLMENT)) != 0;
    ck_stmt *st = NULL;
    int rc, known = 0;
    for (int i = 0; status && statuses[i]; i++)
        known |= strcmp(status, statuses[i]) == 0;
    if (status && !known)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "status",
                       "'status' must be Authorized, PartiallyCaptured, Captured, Voided or Expired");
    if (store_id && !ck_id_valid(store_id, "store"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "storeId", "'storeId' is not a store id");
    if ((rc = ck_page_params(req, "pa", &limit, &after, err)) < 0 ||
        (store_id && (rc = ck_must_exist(req->db, "SELECT 1 FROM stores WHERE id = ?", "store", store_id, err)) < 0) ||
        (rc = ck_db_query(req->db, &st, err,
                          "SELECT " AUTH_COLS " FROM payment_authorizations a"
                          " JOIN checkout_sessions s ON s.id = a.session_id"
                          " WHERE (? = '' OR a.status = ?) AND (? = '' OR s.store_id = ?)"
                          " AND (? = 1 OR s.account_id IN (SELECT account_id FROM user_accounts WHERE user_id = ?))"
                          " AND a.id > ? ORDER BY a.id LIMIT ?",
                          "ttttitti", status ? status : "", status ? status : "", store_id ? store_id : "",
                          store_id ? store_id : "", wide, req->user.id, after, limit)) < 0)
        return rc;
    return ck_reply_page(req, st, authorization_json, limit, err);
}
