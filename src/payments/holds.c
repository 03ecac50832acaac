/* holds.c: voiding a session's open authorizations through its gateway. */
#include <string.h>

#include "checkout/step.h"
#include "payments/gateway.h"

#define MAX_HOLDS 16

int ck_payment_void_session(ck_app *app, ck_db *db, const char *session_id, ck_error *err)
{
    return ck_payment_void_session_except(app, db, session_id, "", err);
}

int ck_payment_void_session_except(ck_app *app, ck_db *db, const char *session_id, const char *keep_key,
                                   ck_error *err)
{
    struct {
        char id[CK_ID_MAX];
        char gw_auth[128];
    } holds[MAX_HOLDS];
    int n = 0;
    char store_id[CK_ID_MAX] = "";
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT pa.id, pa.gateway_auth_id, s.store_id FROM payment_authorizations pa"
                         " JOIN checkout_sessions s ON s.id = pa.session_id"
                         " WHERE pa.session_id = ? AND pa.status = 'Authorized' AND pa.idempotency_key <> ?",
                         "tt", session_id, keep_key);
    if (rc < 0)
        return rc;
    while (n < MAX_HOLDS && (rc = ck_db_next(st, err)) == 1) {
        snprintf(holds[n].id, sizeof(holds[n].id), "%s", ck_col_text(st, 0));
        snprintf(holds[n].gw_auth, sizeof(holds[n].gw_auth), "%s", ck_col_text(st, 1));
        snprintf(store_id, sizeof(store_id), "%s", ck_col_text(st, 2));
        n++;
    }
    ck_db_done(st);
    if (rc < 0 || n == 0)
        return rc < 0 ? rc : 0;
    ck_gw_config cfg;
    if ((rc = ck_gateway_config_load(db, store_id, &cfg, err)) <= 0)
        return rc < 0 ? rc : ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "store %s vanished", store_id);
    const ck_gateway_ops *gw = ck_gateway_for(&cfg);
    int voided = 0, failed = 0;
    for (int i = 0; gw && i < n; i++) {
        char key[CK_ID_MAX + 16];
        snprintf(key, sizeof(key), "void:%.47s", holds[i].id);
        ck_gw_answer ans;
        memset(&ans, 0, sizeof(ans));
        gw->void_auth(&cfg, db, key, holds[i].gw_auth, &ans);
        if (ans.result != CK_GW_APPROVED) {
            failed++;
            continue;
        }
        rc = ck_db_exec(db, NULL, err,
                        "UPDATE payment_authorizations SET status = 'Voided', updated_at = ?"
                        " WHERE id = ? AND status = 'Authorized'",
                        "it", ck_now_ms(), holds[i].id);
        if (rc < 0)
            return rc;
        voided++;
    }
    ck_secure_zero(cfg.secret, sizeof(cfg.secret));
    if (!gw || failed)
        return ck_fail(err, CK_EINTERNAL, "PAYMENT_GATEWAY_ERROR", NULL, "%d authorization(s) could not be voided",
                       gw ? failed : n);
    (void)app;
    return voided;
}
