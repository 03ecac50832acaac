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
    return ck_payments_mark_void(db, session_id, keep_key, marked, err);
}

int ck_hold_list_pending(ck_db *db, const char *session_id, const char *after, size_t max, ck_hold **out, size_t *n,
                         ck_error *err)
{
    return ck_payments_void_pending(db, session_id, after, max, out, n, err);
}

typedef struct record_void {
    const ck_hold *h;
    ck_hold_voided_fn on_voided;
    void *arg;
} record_void;

/* The commit that records a void: Voided, and on_voided when this call is
 * the one that records it. 0 or <0 (rolled back). */
static int record_voided(ck_db *db, void *arg, ck_error *err)
{
    record_void *r = arg;
    int rc = ck_payments_record_voided(db, r->h->id, err);
    /* 0 rows: another caller (the sweeper, an abandon, the payment step)
     * voided it at the same moment and recorded it first: voided all the same. */
    if (rc == 1 && r->on_voided)
        return r->on_voided(db, r->h, r->arg, err);
    return rc < 0 ? rc : 0;
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
        const char *code = ck_gw_public_code(&ans);
        ck_fail(err, CK_EINTERNAL, "PAYMENT_GATEWAY_ERROR", NULL, "the gateway did not void authorization %s%s%s",
                h->id, code[0] ? ": " : "", code);
        return 0;
    }
    record_void r = {h, on_voided, arg};
    if ((rc = ck_db_tx(db, 1, record_voided, &r, err)) < 0)
        return rc;
    return 1;
}

typedef struct mark_one_tx {
    const char *id;
    ck_hold hold; /* out */
} mark_one_tx;

/* The commit that decides the void of one hold: it must still be
 * Authorized and taken by no order (create_order takes only an unmarked
 * hold, so from this commit on no order can take it). */
static int mark_one_run(ck_db *db, void *arg, ck_error *err)
{
    mark_one_tx *t = arg;
    char status[32];
    int has_order = 0;
    int rc = ck_payments_hold_get(db, t->id, &t->hold, status, &has_order, err);
    if (rc <= 0)
        return rc < 0 ? rc : ck_not_found(err, "authorization", t->id);
    if (has_order)
        return ck_fail(err, CK_ECONFLICT, "HOLD_HAS_ORDER", NULL,
                       "authorization %s backs an order: capture it, or cancel the order, instead", t->id);
    if (strcmp(status, "Authorized") != 0)
        return ck_fail(err, CK_ECONFLICT, "HOLD_NOT_AUTHORIZED", NULL, "authorization %s is %s, not Authorized",
                       t->id, status);
    rc = ck_payments_mark_void_one(db, t->id, err);
    return rc < 0 ? rc : 0; /* 0 rows: marked before; the void below finishes it */
}

int ck_hold_void_one(ck_ctx *cx, ck_db *db, const char *auth_id, ck_error *err)
{
    mark_one_tx t = {.id = auth_id};
    int rc = ck_db_tx(db, 1, mark_one_run, &t, err);
    if (rc < 0)
        return rc;
    rc = ck_hold_void(cx, db, &t.hold, NULL, NULL, err);
    if (rc < 0)
        return rc;
    return rc == 1 ? 0 : err->code ? err->code : CK_EINTERNAL;
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
