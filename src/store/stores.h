/* stores.h: the stores repository: stores (with their gateway settings) and
 * what each store charges beside its products: shipping methods, tax rates
 * and promotions. Each function runs in the caller's transaction, if any.
 * Views (`*_json`, lists) are API.md's JSON; what they give belongs to the
 * caller. */
#ifndef CK_STORE_STORES_H
#define CK_STORE_STORES_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* A store's writable fields. On update, NULL strings and 0 numbers keep the
 * stored value. embargoed_countries is the JSON text of an array of country
 * codes ("[]" on insert when NULL). */
typedef struct ck_store_fields {
    const char *name, *currency;
    int64_t sla_seconds, stale_auth_seconds;
    const char *embargoed_countries;
} ck_store_fields;

/* 1 when the store exists, 0 when not, or <0. */
int ck_stores_exists(ck_db *db, const char *id, ck_error *err);

/* The store's currency code into currency: 1 found, 0 no such store, or <0. */
int ck_stores_currency(ck_db *db, const char *id, char currency[8], ck_error *err);

/* Inserts a store (test gateway, the standard flow); its id goes to id_out. 0 or <0. */
int ck_stores_insert(ck_db *db, const ck_store_fields *in, char id_out[CK_ID_MAX], ck_error *err);

/* Applies in to the store: 1 changed, 0 no such store, or <0. */
int ck_stores_update(ck_db *db, const char *id, const ck_store_fields *in, ck_error *err);

/* Sets the store's gateway (kind "test" or "http"; url and secret NULL for
 * test): 1 changed, 0 no such store, or <0. */
int ck_stores_set_gateway(ck_db *db, const char *id, const char *kind, const char *url, const char *secret,
                          ck_error *err);

/* The store as JSON (never its gateway secret): 0 with *out, CK_ENOTFOUND, or <0. */
int ck_stores_json(ck_db *db, const char *id, json_t **out, ck_error *err);

/* A page of stores, oldest first, after the id `after` ("" from the start):
 * 0 with *items (at most limit) and last_id (the last item's id, "" if
 * none), or <0. */
int ck_stores_list(ck_db *db, const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX],
                   ck_error *err);

/* ---- shipping methods ---- */

/* Inserts a shipping method of the store; its id goes to id_out. 0 or <0. */
int ck_stores_insert_shipping_method(ck_db *db, const char *store_id, const char *name, int64_t flat_fee,
                                     int64_t per_kg_fee, char id_out[CK_ID_MAX], ck_error *err);

/* A shipping method as JSON: 0 with *out, CK_ENOTFOUND, or <0. */
int ck_stores_shipping_method_json(ck_db *db, const char *id, json_t **out, ck_error *err);

/* A page of the store's shipping methods, as ck_stores_list. */
int ck_stores_list_shipping_methods(ck_db *db, const char *store_id, const char *after, int64_t limit,
                                    json_t **items, char last_id[CK_ID_MAX], ck_error *err);

/* ---- tax rates ---- */

/* Inserts the store's tax rate for country (basis points); its id goes to
 * id_out. 0; CK_ECONFLICT (reason TAX_RATE_EXISTS, field country) when the
 * store has one for that country; or <0. */
int ck_stores_insert_tax_rate(ck_db *db, const char *store_id, const char *country, int64_t rate_bp,
                              char id_out[CK_ID_MAX], ck_error *err);

/* A tax rate as JSON: 0 with *out, CK_ENOTFOUND, or <0. */
int ck_stores_tax_rate_json(ck_db *db, const char *id, json_t **out, ck_error *err);

/* ---- promotions ---- */

/* Inserts a promotion of the store (percent_off_bp off a subtotal of at
 * least min_subtotal); its id goes to id_out. 0 or <0. */
int ck_stores_insert_promotion(ck_db *db, const char *store_id, const char *name, int64_t min_subtotal,
                               int64_t percent_off_bp, char id_out[CK_ID_MAX], ck_error *err);

/* A promotion as JSON: 0 with *out, CK_ENOTFOUND, or <0. */
int ck_stores_promotion_json(ck_db *db, const char *id, json_t **out, ck_error *err);

/* A store's payment gateway columns (stores.gateway_kind, gateway_url,
 * gateway_secret) copied into the caller's buffers of kind_n, url_n and
 * secret_n bytes (the caller should ck_secure_zero the secret when done).
 * 1 found, 0 no such store, <0 a database error or CK_EINTERNAL when a value
 * does not fit its buffer (a cut URL or secret would be another one; the
 * buffers are zeroed then). */
int ck_stores_gateway_config(ck_db *db, const char *store_id, char *kind, size_t kind_n, char *url, size_t url_n,
                             char *secret, size_t secret_n, ck_error *err);

/* How many stores there are, into *count. 0 or <0. */
int ck_stores_count(ck_db *db, int64_t *count, ck_error *err);

/* The store's active flow id into flow_id: 1 found, 0 no such store, <0. */
int ck_stores_active_flow(ck_db *db, const char *store_id, char flow_id[CK_ID_MAX], ck_error *err);

/* Does the store offer shipping method method_id? 1, 0, <0. */
int ck_stores_offers_shipping_method(ck_db *db, const char *store_id, const char *method_id, ck_error *err);

#endif
