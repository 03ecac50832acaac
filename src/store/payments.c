/* payments.c: the payments repository (store/payments.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/payments.h"

/* s1b: the list of payment holds (GET /v1/authorizations). */
#include "core/json.h"

#define S1B_AUTH_COLS                                                                                          \
    "a.id, a.status, a.amount, a.captured_amount, a.gateway_auth_id, a.method, a.session_id, a.order_id,"     \
    " s.store_id, s.account_id, a.expires_at, a.created_at, a.updated_at"

/* A row of S1B_AUTH_COLS as JSON; a new reference. */
static json_t *s1b_authorization_json(ck_stmt *st)
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

int ck_payments_list_authorizations(ck_db *db, const ck_authorizations_filter *f, const char *after, int64_t limit,
                                    json_t **items, char last_id[CK_ID_MAX], ck_error *err)
{
    const char *status = f->status ? f->status : "", *store_id = f->store_id ? f->store_id : "";
    ck_stmt *st = NULL;
    *items = NULL;
    last_id[0] = '\0';
    int rc = ck_db_query(db, &st, err,
                         "SELECT " S1B_AUTH_COLS " FROM payment_authorizations a"
                         " JOIN checkout_sessions s ON s.id = a.session_id"
                         " WHERE (? = '' OR a.status = ?) AND (? = '' OR s.store_id = ?)"
                         " AND (? = 1 OR s.account_id IN (SELECT account_id FROM user_accounts WHERE user_id = ?))"
                         " AND a.id > ? ORDER BY a.id LIMIT ?",
                         "ttttitti", status, status, store_id, store_id, (int64_t)f->wide, f->user_id, after, limit);
    if (rc < 0)
        return rc;
    json_t *a = json_array();
    while ((rc = ck_db_next(st, err)) == 1) {
        json_array_append_new(a, s1b_authorization_json(st));
        snprintf(last_id, CK_ID_MAX, "%s", ck_col_text(st, 0));
    }
    ck_db_done(st);
    if (rc < 0) {
        json_decref(a);
        return rc;
    }
    *items = a;
    return 0;
}
