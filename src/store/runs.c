/* runs.c: the runs repository (store/runs.h): what the flow engine reads and
 * writes for one run of a checkout session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/runs.h"

int ck_runs_status(ck_db *db, const char *session_id, ck_run_status *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT account_id, is_archived, state, COALESCE(order_id, '') FROM checkout_sessions WHERE id = ?",
                       "t", session_id);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, out->account_id, sizeof(out->account_id));
    out->archived = (int)ck_col_int(st, 1);
    out->completed = strcmp(ck_col_text(st, 2), "Completed") == 0;
    ck_col_copy(st, 3, out->order_id, sizeof(out->order_id));
    ck_db_done(st);
    return 1;
}

int ck_runs_load(ck_db *db, const char *session_id, ck_run_session *out, ck_error *err)
{
    ck_stmt *st = NULL;
    memset(out, 0, sizeof(*out));
    int rc = ck_db_one(db, &st, err,
                       "SELECT s.cart_id, s.account_id, s.store_id, s.buyer_id, s.inputs_version, s.inputs,"
                       " s.last_successful_step, s.subtotal, s.adjustments, s.shipping, s.tax, s.grand_total,"
                       " s.errors, s.order_id, c.currency, s.flow_id, s.flow_version"
                       " FROM checkout_sessions s JOIN carts c ON c.id = s.cart_id"
                       " WHERE s.id = ?",
                       "t", session_id);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, out->cart_id, sizeof(out->cart_id));
    ck_col_copy(st, 1, out->account_id, sizeof(out->account_id));
    ck_col_copy(st, 2, out->store_id, sizeof(out->store_id));
    ck_col_copy(st, 3, out->buyer_id, sizeof(out->buyer_id));
    out->inputs_version = ck_col_int(st, 4);
    out->inputs = json_loads(ck_col_text(st, 5), 0, NULL);
    ck_col_copy(st, 6, out->last_step, sizeof(out->last_step));
    out->totals.subtotal = ck_col_int(st, 7);
    out->totals.adjustments = ck_col_int(st, 8);
    out->totals.shipping = ck_col_int(st, 9);
    out->totals.tax = ck_col_int(st, 10);
    out->totals.grand_total = ck_col_int(st, 11);
    out->errors = json_loads(ck_col_text(st, 12), 0, NULL);
    ck_col_copy(st, 13, out->order_id, sizeof(out->order_id));
    ck_col_copy(st, 14, out->currency, sizeof(out->currency));
    ck_col_copy(st, 15, out->flow_id, sizeof(out->flow_id));
    out->flow_version = ck_col_int(st, 16);
    ck_db_done(st);
    if (!json_is_object(out->inputs)) {
        json_decref(out->inputs);
        out->inputs = json_object();
    }
    if (!json_is_array(out->errors)) {
        json_decref(out->errors);
        out->errors = json_array();
    }
    return 1;
}

void ck_runs_lines_free(ck_line *lines, size_t n)
{
    for (size_t i = 0; lines && i < n; i++)
        json_decref(lines[i].tiers);
    free(lines);
}

int ck_runs_load_lines(ck_db *db, const char *cart_id, ck_line **out, size_t *n, ck_error *err)
{
    ck_line *lines = NULL;
    size_t count = 0, cap = 0;
    ck_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    int rc = ck_db_query(db, &st, err,
                         "SELECT ci.id, ci.product_id, ci.sku, ci.quantity, p.unit_price, ci.sales_price, ci.adjustment,"
                         " ci.tax, p.weight_grams, p.stock, p.min_quantity, p.active, p.hazmat, p.export_controlled,"
                         " p.price_tiers FROM cart_items ci JOIN products p ON p.id = ci.product_id"
                         " WHERE ci.cart_id = ? ORDER BY ci.id",
                         "t", cart_id);
    if (rc < 0)
        return rc;
    while ((rc = ck_db_next(st, err)) == 1) {
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            ck_line *grown = realloc(lines, cap * sizeof(*grown));
            if (!grown) {
                rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
                break;
            }
            lines = grown;
        }
        ck_line *l = &lines[count++];
        memset(l, 0, sizeof(*l));
        ck_col_copy(st, 0, l->item_id, sizeof(l->item_id));
        ck_col_copy(st, 1, l->product_id, sizeof(l->product_id));
        ck_col_copy(st, 2, l->sku, sizeof(l->sku));
        l->quantity = ck_col_int(st, 3);
        l->unit_price = ck_col_int(st, 4);
        l->sales_price = ck_col_int(st, 5);
        l->adjustment = ck_col_int(st, 6);
        l->tax = ck_col_int(st, 7);
        l->weight_grams = ck_col_int(st, 8);
        l->stock = ck_col_int(st, 9);
        l->min_quantity = ck_col_int(st, 10);
        l->active = (int)ck_col_int(st, 11);
        l->hazmat = (int)ck_col_int(st, 12);
        l->export_controlled = (int)ck_col_int(st, 13);
        /* Stored whole and read whole: a product's tiers that do not parse
         * stop the checkout instead of pricing it at its list price. */
        l->tiers = json_loads(ck_col_text(st, 14), 0, NULL);
        if (!json_is_array(l->tiers)) {
            rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "the price tiers of product %s cannot be read",
                         l->product_id);
            break;
        }
    }
    ck_db_done(st);
    if (rc < 0) {
        ck_runs_lines_free(lines, count);
        return rc;
    }
    *out = lines;
    *n = count;
    return 0;
}

int ck_runs_hold(ck_db *db, const char *session_id, const char *lease_owner, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE checkout_sessions SET updated_at = updated_at WHERE id = ? AND lease_owner = ?"
                        " AND is_archived = 0 AND state <> 'Completed'",
                        "tt", session_id, lease_owner ? lease_owner : "");
    return rc < 0 ? rc : changed == 1;
}

int ck_runs_save_totals(ck_db *db, const char *session_id, const char *owner, const ck_run_totals *t,
                        const char *order_id, int final, int64_t lease_until, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE checkout_sessions SET is_error = 0, subtotal = ?, adjustments = ?, shipping = ?, tax = ?,"
                      " grand_total = ?, order_id = CASE WHEN ? = '' THEN order_id ELSE ? END,"
                      " lease_owner = CASE WHEN ? = 1 THEN NULL ELSE lease_owner END,"
                      " lease_expires_at = CASE WHEN ? = 1 THEN 0 ELSE CAST(? AS BIGINT) END WHERE id = ? AND lease_owner = ?",
                      "iiiiittiiitt", t->subtotal, t->adjustments, t->shipping, t->tax, t->grand_total, order_id,
                      order_id, (int64_t)final, (int64_t)final, lease_until, session_id, owner);
}

int ck_runs_cart_totals(ck_db *db, const char *cart_id, const ck_run_totals *t, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE carts SET subtotal = ?, adjustments = ?, shipping = ?, tax = ?, grand_total = ?,"
                      " updated_at = ? WHERE id = ?",
                      "iiiiiit", t->subtotal, t->adjustments, t->shipping, t->tax, t->grand_total, now, cart_id);
}

int ck_runs_record_error(ck_db *db, const char *session_id, const char *owner, const char *errors_json, int64_t now,
                         ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE checkout_sessions SET is_error = 1, errors = ?, lease_owner = NULL,"
                      " lease_expires_at = 0, updated_at = ? WHERE id = ? AND lease_owner = ?",
                      "titt", errors_json, now, session_id, owner);
}

int ck_runs_lease_live(ck_db *db, const char *session_id, int64_t now, ck_error *err)
{
    return ck_db_exists(db, err,
                        "SELECT 1 FROM checkout_sessions WHERE id = ? AND lease_owner IS NOT NULL AND lease_expires_at > ?",
                        "ti", session_id, now);
}

int ck_runs_line_priced(ck_db *db, const ck_line *l, int64_t total, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE cart_items SET list_price = ?, sales_price = ?, adjustment = ?, tax = 0, total = ?"
                      " WHERE id = ?",
                      "iiiit", l->unit_price, l->sales_price, l->adjustment, total, l->item_id);
}

int ck_runs_line_taxed(ck_db *db, const ck_line *l, int64_t total, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE cart_items SET tax = ?, total = ? WHERE id = ?", "iit", l->tax, total,
                      l->item_id);
}

int ck_runs_best_promotion(ck_db *db, const char *store_id, int64_t subtotal, int64_t *bp, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT percent_off_bp FROM promotions WHERE store_id = ? AND min_subtotal <= ?"
                       " ORDER BY percent_off_bp DESC, id LIMIT 1",
                       "ti", store_id, subtotal);
    if (rc == 1)
        *bp = ck_col_int(st, 0);
    ck_db_done(st);
    return rc;
}

int ck_runs_shipping_fees(ck_db *db, const char *method_id, const char *store_id, int64_t *flat, int64_t *per_kg,
                          ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT flat_fee, per_kg_fee FROM shipping_methods WHERE id = ? AND store_id = ?",
                       "tt", method_id, store_id);
    if (rc == 1) {
        *flat = ck_col_int(st, 0);
        *per_kg = ck_col_int(st, 1);
    }
    ck_db_done(st);
    return rc;
}

int ck_runs_tax_rate(ck_db *db, const char *store_id, const char *country, int64_t *rate_bp, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT rate_bp FROM tax_rates WHERE store_id = ? AND country = ?", "tt",
                       store_id, country);
    if (rc == 1)
        *rate_bp = ck_col_int(st, 0);
    ck_db_done(st);
    return rc;
}

int ck_runs_rules_facts(ck_db *db, const char *account_id, const char *store_id, ck_run_rules *out, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT a.hazmat_approved, a.credit_limit, a.credit_used, s.embargoed_countries"
                       " FROM accounts a, stores s WHERE a.id = ? AND s.id = ?",
                       "tt", account_id, store_id);
    if (rc <= 0)
        return rc;
    out->hazmat_ok = ck_col_int(st, 0) != 0;
    out->credit_limit = ck_col_int(st, 1);
    out->credit_used = ck_col_int(st, 2);
    out->embargoed = strdup(ck_col_text(st, 3)); /* NULL when out of memory: the caller says so */
    ck_db_done(st);
    return 1;
}
