/* gateway.c: choosing a store's gateway adapter, loading its configuration,
 * the error answer both adapters give, and the counted, checked calls
 * (authorize, capture, void, refund) every caller makes through. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/metrics.h"
#include "payments/gateway.h"
#include "store/stores.h"

void ck_gw_answer_error(ck_gw_answer *out, const char *code, const char *fmt, ...)
{
    memset(out, 0, sizeof(*out));
    out->result = CK_GW_ERROR;
    snprintf(out->code, sizeof(out->code), "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof(out->message), fmt, ap);
    va_end(ap);
}

const char *ck_gw_public_code(const ck_gw_answer *a)
{
    static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
    size_t n = strlen(a->code);
    return n > 0 && strspn(a->code, plain) == n ? a->code : "";
}

const ck_gateway_ops *ck_gateway_for(const ck_gw_config *cfg)
{
    if (!cfg)
        return NULL;
    if (strcmp(cfg->kind, ck_gateway_test.kind) == 0)
        return &ck_gateway_test;
    if (strcmp(cfg->kind, ck_gateway_http.kind) == 0)
        return &ck_gateway_http;
    return NULL;
}

/* Reads stores.gateway_* of store_id into *out (zeroed first; the caller owns
 * it and should ck_secure_zero the secret when done). Returns 1 found, 0 no
 * such store, <0 a database error or a value too long for ck_gw_config. */
int ck_gateway_config_load(ck_db *db, const char *store_id, ck_gw_config *out, ck_error *err)
{
    memset(out, 0, sizeof(*out));
    return ck_stores_gateway_config(db, store_id, out->kind, sizeof(out->kind), out->url, sizeof(out->url),
                                    out->secret, sizeof(out->secret), err);
}

/* A call that failed (<0) is an error answer, whatever it left in *out: a
 * zeroed answer reads as CK_GW_APPROVED, and no caller may take a failed
 * call for an approval. */
static void checked(int rc, ck_gw_answer *out)
{
    if (rc >= 0)
        return;
    out->result = CK_GW_ERROR;
    if (!out->code[0])
        snprintf(out->code, sizeof(out->code), "adapter_error");
    if (!out->message[0])
        snprintf(out->message, sizeof(out->message), "the gateway adapter failed (%d)", rc);
}

void ck_gw_authorize(ck_metrics *m, const ck_gateway_ops *gw, const ck_gw_config *cfg, ck_db *db,
                     const char *idem_key, int64_t amount, const char *currency, const char *token,
                     const char *reference, ck_gw_answer *out)
{
    memset(out, 0, sizeof(*out));
    checked(gw->authorize(cfg, db, idem_key, amount, currency, token, reference, out), out);
    if (m)
        ck_metrics_gateway_call(m, gw->kind, "authorize", (int)out->result);
}

void ck_gw_capture(ck_metrics *m, const ck_gateway_ops *gw, const ck_gw_config *cfg, ck_db *db, const char *idem_key,
                   const char *auth_id, int64_t amount, ck_gw_answer *out)
{
    memset(out, 0, sizeof(*out));
    checked(gw->capture(cfg, db, idem_key, auth_id, amount, out), out);
    if (m)
        ck_metrics_gateway_call(m, gw->kind, "capture", (int)out->result);
}

void ck_gw_void(ck_metrics *m, const ck_gateway_ops *gw, const ck_gw_config *cfg, ck_db *db, const char *idem_key,
                const char *auth_id, ck_gw_answer *out)
{
    memset(out, 0, sizeof(*out));
    checked(gw->void_auth(cfg, db, idem_key, auth_id, out), out);
    if (m)
        ck_metrics_gateway_call(m, gw->kind, "void", (int)out->result);
}

void ck_gw_refund(ck_metrics *m, const ck_gateway_ops *gw, const ck_gw_config *cfg, ck_db *db,
                  const char *idem_key, const char *payment_id, int64_t amount, ck_gw_answer *out)
{
    memset(out, 0, sizeof(*out));
    if (!gw->refund) /* an adapter that cannot refund must not read as an approval */
        ck_gw_answer_error(out, "not_supported", "gateway %s: no refund operation", gw->kind);
    else
        checked(gw->refund(cfg, db, idem_key, payment_id, amount, out), out);
    if (m)
        ck_metrics_gateway_call(m, gw->kind, "refund", (int)out->result);
}
