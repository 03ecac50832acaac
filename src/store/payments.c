/* payments.c: the payments repository (store/payments.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/payments.h"

#include "core/json.h"

static json_t *s2_authorization_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:s}", "id", ck_col_text(st, 0), "status", ck_col_text(st, 1),
                     "amount", (json_int_t)ck_col_int(st, 2), "capturedAmount", (json_int_t)ck_col_int(st, 3),
                     "gatewayAuthId", ck_col_text(st, 4));
}

static json_t *s2_payment_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:I, s:o}", "id", ck_col_text(st, 0), "authorizationId", ck_col_text(st, 1),
                     "amount", (json_int_t)ck_col_int(st, 2), "createdAt", ck_json_time(ck_col_int(st, 3)));
}

/* Appends row_json() of every row of a prepared query to arr and finishes it; 0 or <0. */
static int s2_payments_append(ck_stmt *st, json_t *arr, json_t *(*row_json)(ck_stmt *), ck_error *err)
{
    int rc;
    while ((rc = ck_db_next(st, err)) == 1)
        json_array_append_new(arr, row_json(st));
    ck_db_done(st);
    return rc;
}

int ck_payments_order_authorizations_json(ck_db *db, const char *order_id, const char *session_id, json_t *arr,
                                          ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, status, amount, captured_amount, gateway_auth_id FROM payment_authorizations"
                         " WHERE order_id = ? OR session_id = ? ORDER BY id",
                         "tt", order_id, session_id);
    return rc < 0 ? rc : s2_payments_append(st, arr, s2_authorization_json, err);
}

int ck_payments_order_payments_json(ck_db *db, const char *order_id, json_t *arr, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, authorization_id, amount, created_at FROM payments WHERE order_id = ?"
                         " ORDER BY id",
                         "t", order_id);
    return rc < 0 ? rc : s2_payments_append(st, arr, s2_payment_json, err);
}
