/* holds.c: voiding card holds: marked in a commit that found no order,
 * voided at the gateway after it, recorded Voided in a second commit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payments/gateway.h"
#include "payments/holds.h"

int ck_hold_mark_void(ck_db *db, const char *session_id, const char *keep_key, int64_t *marked, ck_error *err)
{
    return ck_db_exec(db, marked, err,
                      "UPDATE payment_authorizations SET void_pending = 1, updated_at = ?"
                      " WHERE session_id = ? AND status = 'Authorized' AND order_id IS NULL AND void_pending = 0"
                      " AND idempotency_key <> ?",
                      "itt", ck_now_ms(), session_id, keep_key ? keep_key : "");
}

int ck_hold_list_pending(ck_db *db, const char *session_id, const char *after, size_t max, ck_hold **out, size_t *n,
                         ck_error *err)
{
    *out = NULL;
    *n = 0;
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT pa.id, pa.session_id, s.store_id, pa.gateway_auth_id, pa.amount"
                         " FROM payment_authorizations pa JOIN checkout_sessions s ON s.id = pa.session_id"
                         " WHERE pa.void_pending = 1 AND pa.status = 'Authorized' AND (? = '' OR pa.session_id = ?)"
                         " AND pa.id > ? ORDER BY pa.id LIMIT ?",
                         "ttti", session_id ? session_id : "", session_id ? session_id : "", after ? after : "",
                         max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
    if (rc < 0)
        return rc;
    size_t cap = 0;
    while ((rc = ck_db_next(st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            ck_hold *grown = realloc(*out, cap * sizeof(**out));
            if (!grown) {
                rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
                break;
            }
            *out = grown;
        }
        ck_hold *h = &(*out)[(*n)++];
        snprintf(h->id, sizeof(h->id), "%s", ck_col_text(st, 0));
        snprintf(h->session_id, sizeof(h->session_id), "%s", ck_col_text(st, 1));
        snprintf(h->store_id, sizeof(h->store_id), "%s", ck_col_text(st, 2));
        snprintf(h->gw_auth, sizeof(h->gw_auth), "%s", ck_col_text(st, 3));
        h->amount = ck_col_int(st, 4);
    }
    ck_db_done(st);
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return 0;
}

int ck_hold_void(ck_ctx *cx, ck_db *db, const ck_hold *h, ck_hold_voided_fn on_voided, void *arg, ck_error *err)
{
    ck_gw_config cfg;
    int rc = ck_gateway_config_load(db, h->store_id, &cfg, err);
    if (rc < 0)
        return rc;
    const ck_gateway_ops *gw = rc == 1 ? ck_gateway_for(&cfg) : NULL;
    ck_gw_answer ans;
    memset(&ans, 0, sizeof(ans));
    if (gw) {
        char key[CK_ID_MAX + 8];
        snprintf(key, sizeof(key), "void:%s", h->id);
        if (ck_fault(cx->faults, "crash.before_void"))
            ck_fault_crash();
        ck_gw_void(&cx->metrics, gw, &cfg, db, key, h->gw_auth, &ans);
    }
    ck_secure_zero(cfg.secret, sizeof(cfg.secret));
    if (!gw || ans.result != CK_GW_APPROVED) {
        ck_fail(err, CK_EINTERNAL, "PAYMENT_GATEWAY_ERROR", NULL, "the gateway did not void authorization %s%s%s",
                h->id, ans.code[0] ? ": " : "", ans.code);
        return 0;
    }
    int64_t changed = 0;
    if ((rc = ck_db_begin(db, 1, err)) < 0)
        return rc;
    rc = ck_db_exec(db, &changed, err,
                    "UPDATE payment_authorizations SET status = 'Voided', void_pending = 0, updated_at = ?"
                    " WHERE id = ? AND status = 'Authorized' AND void_pending = 1",
                    "it", ck_now_ms(), h->id);
    /* changed 0: another caller (the sweeper, an abandon, the payment step)
     * voided it at the same moment and recorded it first: voided all the same. */
    if (rc == 0 && changed == 1 && on_voided)
        rc = on_voided(db, h, arg, err);
    if (rc < 0) {
        ck_db_rollback(db);
        return rc;
    }
    if ((rc = ck_db_commit(db, err)) < 0)
        return rc;
    return 1;
}

int ck_hold_void_session(ck_ctx *cx, ck_db *db, const char *session_id, ck_error *err)
{
    ck_hold *holds = NULL;
    size_t n = 0;
    int rc = ck_hold_list_pending(db, session_id, NULL, SIZE_MAX, &holds, &n, err);
    if (rc < 0)
        return rc;
    int voided = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        rc = ck_hold_void(cx, db, &holds[i], NULL, NULL, err);
        if (rc < 0)
            break;
        if (rc == 1)
            voided++;
        else
            failed++;
    }
    free(holds);
    if (rc < 0)
        return rc;
    return failed ? CK_EINTERNAL : voided;
}
