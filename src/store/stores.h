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

#endif
