/* business_rules.c: B2B rules, in API.md's order: hazmat approval; export
 * control against the store's embargoed countries; for purchase_order and
 * net_terms, the PO number (present where required, unique per account),
 * then the credit limit. The credit itself is reserved by the payment step. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "steps/step.h"

static int embargoed(const char *list_json, const char *country)
{
    json_t *list = json_loads(list_json, 0, NULL);
    int hit = 0;
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) hit |= json_is_string(c) && strcmp(json_string_value(c), country) == 0;
    json_decref(list);
    return hit;
}

static ck_step_result check_rules(ck_step_ctx *ctx, int hazmat_ok, int64_t limit, int64_t used, const char *emb);

ck_step_result ck_step_business_rules(ck_step_ctx *ctx)
{
    ck_error dberr;
    ck_stmt *st = NULL;
    int rc = ck_db_one(ctx->db, &st, &dberr,
                       "SELECT a.hazmat_approved, a.credit_limit, a.credit_used, s.embargoed_countries"
                       " FROM accounts a, stores s WHERE a.id = ? AND s.id = ?",
                       "tt", ctx->account_id, ctx->store_id);
    if (rc <= 0)
        return ck_step_db_error(ctx, &dberr);
    int hazmat_ok = ck_col_int(st, 0) != 0;
    int64_t limit = ck_col_int(st, 1), used = ck_col_int(st, 2);
    char *emb = strdup(ck_col_text(st, 3)); /* whole: up to 300 countries (API.md) */
    ck_db_done(st);
    if (!emb)
        return ck_step_retry(ctx, "INTERNAL_ERROR", "out of memory");
    ck_step_result res = check_rules(ctx, hazmat_ok, limit, used, emb);
    free(emb);
    return res;
}

/* The rules in API.md's order, given the account's and the store's values. */
static ck_step_result check_rules(ck_step_ctx *ctx, int hazmat_ok, int64_t limit, int64_t used, const char *emb)
{
    ck_error dberr;
    ck_stmt *st = NULL;
    int rc;

    const char *country =
        json_string_value(json_object_get(json_object_get(ctx->inputs, "shippingAddress"), "country"));
    for (size_t i = 0; i < ctx->nlines; i++) {
        if (ctx->lines[i].hazmat && !hazmat_ok) {
            snprintf(ctx->cvo_related, sizeof(ctx->cvo_related), "%s", ctx->lines[i].item_id);
            ctx->cvo_type = "Entitlement";
            return ck_step_fail(ctx, "HAZMAT_APPROVAL_REQUIRED",
                                "%s is hazardous material; the account is not approved to buy it", ctx->lines[i].sku);
        }
    }
    for (size_t i = 0; country && i < ctx->nlines; i++) {
        if (ctx->lines[i].export_controlled && embargoed(emb, country)) {
            snprintf(ctx->cvo_related, sizeof(ctx->cvo_related), "%s", ctx->lines[i].item_id);
            ctx->cvo_type = "Entitlement";
            return ck_step_fail(ctx, "EXPORT_RESTRICTED", "%s may not be shipped to %s", ctx->lines[i].sku,
                                country);
        }
    }
    json_t *pay = json_object_get(ctx->inputs, "payment");
    const char *method = json_string_value(json_object_get(pay, "method"));
    if (!method || (strcmp(method, "purchase_order") != 0 && strcmp(method, "net_terms") != 0))
        return CK_STEP_OK;
    const char *po = json_string_value(json_object_get(pay, "poNumber"));
    if (!po && strcmp(method, "purchase_order") == 0)
        return ck_step_fail(ctx, "PO_NUMBER_REQUIRED", "a purchase order needs a poNumber");
    if (po) {
        rc = ck_db_one(ctx->db, &st, &dberr, "SELECT 1 FROM orders WHERE account_id = ? AND po_number = ?", "tt",
                       ctx->account_id, po);
        ck_db_done(st);
        if (rc < 0)
            return ck_step_db_error(ctx, &dberr);
        if (rc == 1)
            return ck_step_fail(ctx, "DUPLICATE_PO_NUMBER", "PO number %s was used on an earlier order", po);
    }
    /* This session's own open reservation (from an earlier attempt) is given
     * back before it reserves again, so it does not count against it. */
    rc = ck_db_one(ctx->db, &st, &dberr,
                   "SELECT COALESCE(SUM(amount), 0) FROM balance_ledger WHERE session_id = ? AND kind = 'credit'", "t",
                   ctx->session_id);
    if (rc < 0)
        return ck_step_db_error(ctx, &dberr);
    if (rc == 1) {
        int64_t own = ck_col_int(st, 0);
        used -= own > 0 && own <= used ? own : 0;
        ck_db_done(st);
    }
    if (used + ctx->grand_total > limit)
        return ck_step_fail(ctx, "CREDIT_LIMIT_EXCEEDED",
                            "the order total %lld exceeds the account's available credit %lld",
                            (long long)ctx->grand_total, (long long)(limit > used ? limit - used : 0));
    return CK_STEP_OK;
}
