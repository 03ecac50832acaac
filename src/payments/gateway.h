/* gateway.h: the payment gateway adapter interface. Every operation carries
 * an idempotency key: the same key returns the first answer, so a retry after
 * a crash or a timeout never makes a second hold, capture, void or refund. */
#ifndef CK_GATEWAY_H
#define CK_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

typedef enum {
    CK_GW_APPROVED = 0, /* authorize/capture/void/refund succeeded */
    CK_GW_DECLINED = 1, /* the issuer said no (buyer can fix: another card) */
    CK_GW_ERROR = 2,    /* gateway error, bad answer or timeout (transient) */
} ck_gw_result;

typedef struct ck_gw_answer {
    ck_gw_result result;
    char ref_id[128];   /* authorizationId (authorize), paymentId (capture) or refundId (refund) */
    int64_t amount;     /* the amount the gateway approved */
    char code[64];      /* gateway's code, for the log and the error message */
    char message[256];
} ck_gw_answer;

/* A store's gateway configuration (stores.gateway_*). */
typedef struct ck_gw_config {
    char kind[16];   /* "test" or "http" */
    char url[2048];  /* http: base URL */
    char secret[512];
} ck_gw_config;

typedef struct ck_gateway_ops {
    const char *kind;
    /* db: the calling thread's connection, outside any transaction (the test
     * gateway writes its own ledger there; the http gateway ignores it). */
    int (*authorize)(const ck_gw_config *cfg, ck_db *db, const char *idem_key, int64_t amount,
                     const char *currency, const char *token, const char *reference, ck_gw_answer *out);
    int (*capture)(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *auth_id,
                   int64_t amount, ck_gw_answer *out);
    int (*void_auth)(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *auth_id,
                     ck_gw_answer *out);
    /* payment_id: the gateway's payment id (ref_id of the capture's answer). */
    int (*refund)(const ck_gw_config *cfg, ck_db *db, const char *idem_key, const char *payment_id,
                  int64_t amount, ck_gw_answer *out); /* ref_id = refundId */
} ck_gateway_ops;

extern const ck_gateway_ops ck_gateway_test;
extern const ck_gateway_ops ck_gateway_http;

/* What an adapter answers on a failure: *out zeroed, CK_GW_ERROR with code
 * and the message fmt makes. */
void ck_gw_answer_error(ck_gw_answer *out, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The answer's code when it may be shown to a buyer or an admin: a plain
 * token (1..63 of A-Z a-z 0-9 _ . -, as "card_declined"), else "". The
 * gateway's message is never shown, only logged: it is outside text. */
const char *ck_gw_public_code(const ck_gw_answer *a);

/* How the http gateway (http_gateway.c) reads a gateway's answer to a POST
 * to path: its HTTP status and body (data, len bytes; NULL when it sent
 * none; outside text). A status outside 2xx is CK_GW_ERROR "http_status", a
 * body that is not a JSON object or lacks a known "result" ("approved",
 * "declined", "error") "bad_reply"; an approval needs the string ref_key
 * (NULL: none, a void) under 128 bytes and an integer or absent "amount"
 * (absent: requested). Always fills *out; allocates nothing it keeps. */
void ck_gw_http_read_answer(long status, const char *data, size_t len, const char *path, const char *ref_key,
                            int64_t requested, ck_gw_answer *out);

/* The ops for cfg->kind, or NULL. */
const ck_gateway_ops *ck_gateway_for(const ck_gw_config *cfg);

/* The operations, called through gw with their return value honoured: *out
 * is zeroed first, and a call that returns <0 is a CK_GW_ERROR answer
 * whatever it left there. Each call is counted in m (NULL: not counted) by
 * gateway, operation and outcome. Every caller goes through these. */
typedef struct ck_metrics ck_metrics;
void ck_gw_authorize(ck_metrics *m, const ck_gateway_ops *gw, const ck_gw_config *cfg, ck_db *db,
                     const char *idem_key, int64_t amount, const char *currency, const char *token,
                     const char *reference, ck_gw_answer *out);
void ck_gw_capture(ck_metrics *m, const ck_gateway_ops *gw, const ck_gw_config *cfg, ck_db *db, const char *idem_key,
                   const char *auth_id, int64_t amount, ck_gw_answer *out);
void ck_gw_void(ck_metrics *m, const ck_gateway_ops *gw, const ck_gw_config *cfg, ck_db *db, const char *idem_key,
                const char *auth_id, ck_gw_answer *out);
void ck_gw_refund(ck_metrics *m, const ck_gateway_ops *gw, const ck_gw_config *cfg, ck_db *db,
                  const char *idem_key, const char *payment_id, int64_t amount, ck_gw_answer *out);

/* Loads a store's gateway configuration. 1 found, 0 no store, <0 error. */
int ck_gateway_config_load(ck_db *db, const char *store_id, ck_gw_config *out, ck_error *err);

#endif
