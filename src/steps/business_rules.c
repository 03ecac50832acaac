/* business_rules.c: B2B rules, in API.md's order: hazmat approval; export
 * control against the store's embargoed countries; for purchase_order and
 * net_terms, the PO number (present where required, unique per account),
 * then the credit limit. The credit itself is reserved by the payment step. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "steps/step.h"
#include "store/ledger.h"
#include "store/orders.h"

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

static ck_step_result run(ck_step_ctx *ctx)
{
    ck_error dberr;
    ck_run_rules facts;
    int rc = ck_runs_rules_facts(ctx->db, ctx->account_id, ctx->store_id, &facts, &dberr);
    if (rc <= 0)
        return ck_step_db_error(ctx, &dberr);
    char *emb = facts.embargoed; /* whole: up to 300 countries (API.md) */
    if (!emb)
        return ck_step_retry(ctx, "INTERNAL_ERROR", "out of memory");
    ck_step_result res = check_rules(ctx, facts.hazmat_ok, facts.credit_limit, facts.credit_used, emb);
    free(emb);
    return res;
}

/* The rules in API.md's order, given the account's and the store's values. */
static ck_step_result check_rules(ck_step_ctx *ctx, int hazmat_ok, int64_t limit, int64_t used, const char *emb)
{
    ck_error dberr;
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
        rc = ck_orders_po_used(ctx->db, ctx->account_id, po, &dberr);
        if (rc < 0)
            return ck_step_db_error(ctx, &dberr);
        if (rc == 1)
            return ck_step_fail(ctx, "DUPLICATE_PO_NUMBER", "PO number %s was used on an earlier order", po);
    }
    /* This session's own open reservation (from an earlier attempt) is given
     * back before it reserves again, so it does not count against it. */
    int64_t own = 0;
    rc = ck_ledger_session_sum(ctx->db, ctx->session_id, "credit", &own, &dberr);
    if (rc < 0)
        return ck_step_db_error(ctx, &dberr);
    if (rc == 1)
        used -= own > 0 && own <= used ? own : 0;
    if (used + ctx->grand_total > limit)
        return ck_step_fail(ctx, "CREDIT_LIMIT_EXCEEDED",
                            "the order total %lld exceeds the account's available credit %lld",
                            (long long)ctx->grand_total, (long long)(limit > used ? limit - used : 0));
    return CK_STEP_OK;
}

const ck_step_kind ck_step_business_rules = {
    .name = "business_rules", .run = run, .reads = CK_READS_ADDRESS | CK_READS_PAYMENT, .flags = CK_STEP_PURE,
};
