/* stores.c: the stores repository (store/stores.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/stores.h"

/* Copies s into a field of n bytes; 0, or -1 when it does not fit. */
static int s3_copy_field(char *dst, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len >= n)
        return -1;
    memcpy(dst, s, len + 1);
    return 0;
}

int ck_stores_gateway_config(ck_db *db, const char *store_id, char *kind, size_t kind_n, char *url, size_t url_n,
                             char *secret, size_t secret_n, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT gateway_kind, gateway_url, gateway_secret FROM stores WHERE id = ?",
                       "t", store_id);
    if (rc <= 0)
        return rc;
    if (s3_copy_field(kind, kind_n, ck_col_text(st, 0)) < 0 || s3_copy_field(url, url_n, ck_col_text(st, 1)) < 0 ||
        s3_copy_field(secret, secret_n, ck_col_text(st, 2)) < 0) {
        ck_db_done(st);
        ck_secure_zero(kind, kind_n);
        ck_secure_zero(url, url_n);
        ck_secure_zero(secret, secret_n);
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "store %s: gateway configuration too long",
                       store_id);
    }
    ck_db_done(st);
    return 1;
}

int ck_stores_insert(ck_db *db, const ck_store_fields *in, char id_out[CK_ID_MAX], ck_error *err)
{
    int64_t now = ck_now_ms();
    ck_id_new(id_out, "store");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO stores (id, name, currency, sla_seconds, stale_auth_seconds,"
                      " embargoed_countries, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      "tttiitii", id_out, in->name, in->currency, in->sla_seconds, in->stale_auth_seconds,
                      in->embargoed_countries ? in->embargoed_countries : "[]", now, now);
}

int ck_stores_insert_shipping_method(ck_db *db, const char *store_id, const char *name, int64_t flat_fee,
                                     int64_t per_kg_fee, char id_out[CK_ID_MAX], ck_error *err)
{
    ck_id_new(id_out, "shm");
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO shipping_methods (id, store_id, name, flat_fee, per_kg_fee, created_at)"
                      " VALUES (?, ?, ?, ?, ?, ?)",
                      "tttiii", id_out, store_id, name, flat_fee, per_kg_fee, ck_now_ms());
}

int ck_stores_insert_tax_rate(ck_db *db, const char *store_id, const char *country, int64_t rate_bp,
                              char id_out[CK_ID_MAX], ck_error *err)
{
    ck_id_new(id_out, "tax");
    int rc = ck_db_exec(db, NULL, err,
                        "INSERT INTO tax_rates (id, store_id, country, rate_bp, created_at) VALUES (?, ?, ?, ?, ?)",
                        "tttii", id_out, store_id, country, rate_bp, ck_now_ms());
    if (rc == CK_EDUP)
        return ck_fail(err, CK_ECONFLICT, "TAX_RATE_EXISTS", "country", "this store already has a tax rate for %s",
                       country);
    return rc;
}

int ck_stores_count(ck_db *db, int64_t *count, ck_error *err)
{
    ck_stmt *st = NULL;
    *count = 0;
    int rc = ck_db_one(db, &st, err, "SELECT COUNT(*) FROM stores", "");
    if (rc < 0)
        return rc;
    if (rc == 1)
        *count = ck_col_int(st, 0);
    ck_db_done(st);
    return 0;
}
