/* stores.c: the stores repository (store/stores.h): stores, shipping
 * methods, tax rates and promotions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "store/stores.h"
#include "store/view.h"

#define STORE_COLS "id, name, currency, sla_seconds, stale_auth_seconds, embargoed_countries," \
                   " active_flow_id, gateway_kind, gateway_url, created_at, updated_at"

static json_t *store_json(ck_stmt *st)
{
    json_t *emb = json_loads(ck_col_text(st, 5), 0, NULL);
    json_t *gw = json_pack("{s:s}", "kind", ck_col_text(st, 7));
    if (!ck_col_null(st, 8))
        json_object_set_new(gw, "url", json_string(ck_col_text(st, 8)));
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:s, s:o, s:o, s:o}", "id", ck_col_text(st, 0),
                     "name", ck_col_text(st, 1), "currency", ck_col_text(st, 2), "slaSeconds",
                     (json_int_t)ck_col_int(st, 3), "staleAuthorizationSeconds",
                     (json_int_t)ck_col_int(st, 4), "embargoedCountries", emb ? emb : json_array(),
                     "activeFlowId", ck_col_text(st, 6), "gateway", gw, "createdAt",
                     ck_json_time(ck_col_int(st, 9)), "updatedAt", ck_json_time(ck_col_int(st, 10)));
}

int ck_stores_exists(ck_db *db, const char *id, ck_error *err)
{
    return ck_db_exists(db, err, "SELECT 1 FROM stores WHERE id = ?", "t", id);
}

int ck_stores_currency(ck_db *db, const char *id, char currency[8], ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT currency FROM stores WHERE id = ?", "t", id);
    if (rc == 1) {
        ck_col_copy(st, 0, currency, 8);
        ck_db_done(st);
    }
    return rc;
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

int ck_stores_update(ck_db *db, const char *id, const ck_store_fields *in, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE stores SET name = COALESCE(?, name), currency = COALESCE(?, currency),"
                        " sla_seconds = CASE WHEN ? > 0 THEN ? ELSE sla_seconds END,"
                        " stale_auth_seconds = CASE WHEN ? > 0 THEN ? ELSE stale_auth_seconds END,"
                        " embargoed_countries = COALESCE(?, embargoed_countries), updated_at = ? WHERE id = ?",
                        "ttiiiitit", in->name, in->currency, in->sla_seconds, in->sla_seconds,
                        in->stale_auth_seconds, in->stale_auth_seconds, in->embargoed_countries, ck_now_ms(), id);
    return rc < 0 ? rc : changed > 0;
}

int ck_stores_set_gateway(ck_db *db, const char *id, const char *kind, const char *url, const char *secret,
                          ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE stores SET gateway_kind = ?, gateway_url = ?, gateway_secret = ?, updated_at = ?"
                        " WHERE id = ?",
                        "tttit", kind, url, secret, ck_now_ms(), id);
    return rc < 0 ? rc : changed > 0;
}

int ck_stores_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    return ck_view_one(db, "SELECT " STORE_COLS " FROM stores WHERE id = ?", id, store_json, "store", out, err);
}

int ck_stores_list(ck_db *db, const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX],
                   ck_error *err)
{
    return ck_view_list(db, store_json, items, last_id, err,
                        "SELECT " STORE_COLS " FROM stores WHERE id > ? ORDER BY id LIMIT ?", "ti", after, limit);
}

/* ---- shipping methods ---- */

#define SHM_COLS "id, store_id, name, flat_fee, per_kg_fee, created_at"

static json_t *shm_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "id", ck_col_text(st, 0), "storeId",
                     ck_col_text(st, 1), "name", ck_col_text(st, 2), "flatFee",
                     (json_int_t)ck_col_int(st, 3), "perKgFee", (json_int_t)ck_col_int(st, 4),
                     "createdAt", ck_json_time(ck_col_int(st, 5)));
}

int ck_stores_insert_shipping_method(ck_db *db, const char *store_id, const char *name, int64_t flat_fee,
                                     int64_t per_kg_fee, char id_out[CK_ID_MAX], ck_error *err)
{
    ck_id_new(id_out, "shm");
    return ck_db_exec(db, NULL, err, "INSERT INTO shipping_methods (" SHM_COLS ") VALUES (?, ?, ?, ?, ?, ?)",
                      "tttiii", id_out, store_id, name, flat_fee, per_kg_fee, ck_now_ms());
}

int ck_stores_shipping_method_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    return ck_view_one(db, "SELECT " SHM_COLS " FROM shipping_methods WHERE id = ?", id, shm_json,
                       "shipping method", out, err);
}

int ck_stores_list_shipping_methods(ck_db *db, const char *store_id, const char *after, int64_t limit,
                                    json_t **items, char last_id[CK_ID_MAX], ck_error *err)
{
    return ck_view_list(db, shm_json, items, last_id, err,
                        "SELECT " SHM_COLS " FROM shipping_methods WHERE store_id = ? AND id > ? ORDER BY id LIMIT ?",
                        "tti", store_id, after, limit);
}

/* ---- tax rates ---- */

#define TAX_COLS "id, store_id, country, rate_bp, created_at"

static json_t *tax_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:o}", "id", ck_col_text(st, 0), "storeId",
                     ck_col_text(st, 1), "country", ck_col_text(st, 2), "rateBasisPoints",
                     (json_int_t)ck_col_int(st, 3), "createdAt", ck_json_time(ck_col_int(st, 4)));
}

int ck_stores_insert_tax_rate(ck_db *db, const char *store_id, const char *country, int64_t rate_bp,
                              char id_out[CK_ID_MAX], ck_error *err)
{
    ck_id_new(id_out, "tax");
    int rc = ck_db_exec(db, NULL, err, "INSERT INTO tax_rates (" TAX_COLS ") VALUES (?, ?, ?, ?, ?)", "tttii",
                        id_out, store_id, country, rate_bp, ck_now_ms());
    if (rc == CK_EDUP)
        return ck_fail(err, CK_ECONFLICT, "TAX_RATE_EXISTS", "country", "this store already has a tax rate for %s",
                       country);
    return rc;
}

int ck_stores_tax_rate_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    return ck_view_one(db, "SELECT " TAX_COLS " FROM tax_rates WHERE id = ?", id, tax_json, "tax rate", out, err);
}

/* ---- promotions ---- */

#define PROMO_COLS "id, store_id, name, min_subtotal, percent_off_bp, created_at"

static json_t *promo_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "id", ck_col_text(st, 0), "storeId",
                     ck_col_text(st, 1), "name", ck_col_text(st, 2), "minSubtotal",
                     (json_int_t)ck_col_int(st, 3), "percentOffBasisPoints",
                     (json_int_t)ck_col_int(st, 4), "createdAt", ck_json_time(ck_col_int(st, 5)));
}

int ck_stores_insert_promotion(ck_db *db, const char *store_id, const char *name, int64_t min_subtotal,
                               int64_t percent_off_bp, char id_out[CK_ID_MAX], ck_error *err)
{
    ck_id_new(id_out, "promo");
    return ck_db_exec(db, NULL, err, "INSERT INTO promotions (" PROMO_COLS ") VALUES (?, ?, ?, ?, ?, ?)",
                      "tttiii", id_out, store_id, name, min_subtotal, percent_off_bp, ck_now_ms());
}

int ck_stores_promotion_json(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    return ck_view_one(db, "SELECT " PROMO_COLS " FROM promotions WHERE id = ?", id, promo_json, "promotion", out,
                       err);
}

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

int ck_stores_active_flow(ck_db *db, const char *store_id, char flow_id[CK_ID_MAX], ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT active_flow_id FROM stores WHERE id = ?", "t", store_id);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, flow_id, CK_ID_MAX);
    ck_db_done(st);
    return 1;
}

int ck_stores_offers_shipping_method(ck_db *db, const char *store_id, const char *method_id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM shipping_methods WHERE id = ? AND store_id = ?", "tt", method_id,
                       store_id);
    ck_db_done(st);
    return rc;
}
