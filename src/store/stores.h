/* stores.h: the stores repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_STORES_H
#define CK_STORE_STORES_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* A store's payment gateway columns (stores.gateway_kind, gateway_url,
 * gateway_secret) copied into the caller's buffers of kind_n, url_n and
 * secret_n bytes (the caller should ck_secure_zero the secret when done).
 * 1 found, 0 no such store, <0 a database error or CK_EINTERNAL when a value
 * does not fit its buffer (a cut URL or secret would be another one; the
 * buffers are zeroed then). */
int ck_stores_gateway_config(ck_db *db, const char *store_id, char *kind, size_t kind_n, char *url, size_t url_n,
                             char *secret, size_t secret_n, ck_error *err);

/* A store's writable fields. On update, NULL strings and 0 numbers keep the
 * stored value. embargoed_countries is the JSON text of an array of country
 * codes ("[]" on insert when NULL). */
typedef struct ck_store_fields {
    const char *name, *currency;
    int64_t sla_seconds, stale_auth_seconds;
    const char *embargoed_countries;
} ck_store_fields;

/* Inserts a store (test gateway, the standard flow); its id goes to id_out. 0 or <0. */
int ck_stores_insert(ck_db *db, const ck_store_fields *in, char id_out[CK_ID_MAX], ck_error *err);

/* Inserts a shipping method of the store; its id goes to id_out. 0 or <0. */
int ck_stores_insert_shipping_method(ck_db *db, const char *store_id, const char *name, int64_t flat_fee,
                                     int64_t per_kg_fee, char id_out[CK_ID_MAX], ck_error *err);

/* Inserts the store's tax rate for country (basis points); its id goes to
 * id_out. 0; CK_ECONFLICT (reason TAX_RATE_EXISTS, field country) when the
 * store has one for that country; or <0. */
int ck_stores_insert_tax_rate(ck_db *db, const char *store_id, const char *country, int64_t rate_bp,
                              char id_out[CK_ID_MAX], ck_error *err);

/* How many stores there are, into *count. 0 or <0. */
int ck_stores_count(ck_db *db, int64_t *count, ck_error *err);

#endif
