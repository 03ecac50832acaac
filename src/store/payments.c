/* payments.c: the payments repository (store/payments.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/payments.h"

int ck_payments_other_open_hold(ck_db *db, const char *session_id, const char *keep_key, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT 1 FROM payment_authorizations WHERE session_id = ? AND status = 'Authorized'"
                       " AND void_pending = 0 AND order_id IS NULL AND idempotency_key <> ? LIMIT 1",
                       "tt", session_id, keep_key);
    ck_db_done(st);
    return rc;
}

int ck_payments_hold_recorded(ck_db *db, const char *key, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT 1 FROM payment_authorizations WHERE idempotency_key = ? AND status = 'Authorized'"
                       " AND void_pending = 0",
                       "t", key);
    ck_db_done(st);
    return rc;
}

int ck_payments_insert_authorization(ck_db *db, const ck_auth_new *a, ck_error *err)
{
    char id[CK_ID_MAX];
    ck_id_new(id, "pa");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO payment_authorizations (id, session_id, method, gateway, gateway_auth_id, amount,"
                      " status, idempotency_key, expires_at, created_at, updated_at)"
                      " VALUES (?, ?, ?, ?, ?, ?, 'Authorized', ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                      "tttttitiii", id, a->session_id, a->method, a->gateway, a->gateway_auth_id, a->amount,
                      a->idempotency_key, a->expires_at, a->now, a->now);
}

int ck_payments_take_hold(ck_db *db, const char *key, const char *session_id, const char *order_id, int64_t now,
                          ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE payment_authorizations SET order_id = ?, updated_at = ?"
                        " WHERE idempotency_key = ? AND session_id = ? AND status = 'Authorized' AND void_pending = 0"
                        " AND order_id IS NULL AND expires_at > ?",
                        "titti", order_id, now, key, session_id, now);
    return rc < 0 ? rc : changed == 1;
}
