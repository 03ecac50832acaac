/* step.h: what a flow step is. A step gets one context, returns one of four
 * results, and records a failure's reason in ctx->err. Steps of one commit
 * group run inside one write transaction; a step with an external effect is
 * a group of its own and runs outside any transaction, writing its result in
 * `save` (called inside the commit) so the effect and its record commit
 * together with lastSuccessfulStep. */
#ifndef CK_STEP_H
#define CK_STEP_H

#include <jansson.h>

#include "checkout/db.h"
#include "core/context.h"
#include "core/user.h"

typedef enum {
    CK_STEP_OK,    /* done; go on */
    CK_STEP_FAIL,  /* the buyer can fix it (400); error recorded */
    CK_STEP_RETRY, /* transient (500); placing again resumes here */
    CK_STEP_WAIT,  /* awaits something outside (approval) */
} ck_step_result;

/* Which checkout inputs a step reads: a PATCH of one rewinds to before the
 * first step that reads it. */
enum { CK_READS_ADDRESS = 1, CK_READS_METHOD = 2, CK_READS_PAYMENT = 4 };

typedef struct ck_line {
    char item_id[CK_ID_MAX];
    char product_id[CK_ID_MAX];
    char sku[72];
    int64_t quantity;
    int64_t unit_price; /* the product's current unitPrice */
    int64_t sales_price, adjustment, tax;
    int64_t weight_grams, stock, min_quantity;
    int active, hazmat, export_controlled;
    json_t *tiers; /* priceTiers, parsed (owned by the run): an array, whole */
} ck_line;

typedef struct ck_step_ctx {
    ck_ctx *cx;
    ck_db *db;
    const ck_user *user;
    char session_id[CK_ID_MAX];
    char request_id[CK_ID_MAX];
    char cart_id[CK_ID_MAX];
    char account_id[CK_ID_MAX];
    char store_id[CK_ID_MAX];
    char buyer_id[CK_ID_MAX];
    char currency[8];
    int64_t inputs_version;
    json_t *inputs; /* {"shippingAddress","shippingMethodId","payment"} (owned) */
    ck_line *lines;
    size_t nlines;
    int64_t subtotal, adjustments, shipping, tax, grand_total;
    char order_id[CK_ID_MAX];
    const char *lease_owner; /* this run's lease on the session */
    /* Set by a failing step. */
    ck_error *err;
    char cvo_related[CK_ID_MAX]; /* write an Error CVO for this cart or item */
    const char *cvo_type;
    int void_holds; /* after the rollback, void the session's open authorizations */
    /* Set by the payment step for its save. */
    struct {
        int have;      /* a card authorization to record */
        int reserve;   /* a balance to reserve or debit (credit, prepaid, contract) */
        char contract_id[CK_ID_MAX];
        char gateway[16];
        char gateway_auth_id[128];
        char idem_key[160];
        char method[24];
        int64_t amount;
    } auth;
} ck_step_ctx;

typedef struct ck_step_def {
    const char *name;
    ck_step_result (*run)(ck_step_ctx *ctx);
    /* External steps: their writes, inside the commit. FAIL/RETRY roll it back. */
    ck_step_result (*save)(ck_step_ctx *ctx);
    unsigned reads;
    int group; /* consecutive steps with the same group share one commit */
    int external;
} ck_step_def;

/* The built-in steps, by name; NULL if unknown. */
const ck_step_def *ck_step_builtin(const char *name);

/* Step failure helpers: fill ctx->err (400 BAD_REQUEST or 500 UNKNOWN_EXCEPTION). */
ck_step_result ck_step_fail(ck_step_ctx *ctx, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ck_step_result ck_step_retry(ck_step_ctx *ctx, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A step whose database work failed: transient, resumable. */
ck_step_result ck_step_db_error(ck_step_ctx *ctx, const ck_error *dberr);

/* round_half_up(x * bp / 10000) for x >= 0, bp >= 0, without overflow for
 * x <= 10^14 and bp <= 10000. */
int64_t ck_bp_round(int64_t x, int64_t bp);

/* The built-in steps (src/steps/). */
ck_step_result ck_step_validate_cart(ck_step_ctx *ctx);
ck_step_result ck_step_pricing(ck_step_ctx *ctx);
ck_step_result ck_step_shipping(ck_step_ctx *ctx);
ck_step_result ck_step_tax(ck_step_ctx *ctx);
ck_step_result ck_step_business_rules(ck_step_ctx *ctx);
ck_step_result ck_step_payment(ck_step_ctx *ctx);
ck_step_result ck_step_payment_save(ck_step_ctx *ctx);
ck_step_result ck_step_create_order(ck_step_ctx *ctx);
ck_step_result ck_step_confirm(ck_step_ctx *ctx);
ck_step_result ck_step_close_cart(ck_step_ctx *ctx);

/* Begins a write transaction that holds the session for this run: its first
 * statement is a conditional UPDATE of the session row that holds only
 * while ctx->lease_owner still holds the lease and the session is neither
 * archived nor completed (on PostgreSQL it queues every other writer of the
 * row behind this transaction; SQLite's write transactions are serial).
 * Returns 0 in the transaction, or <0 outside it: CK_ECONFLICT when the
 * lease was lost (err says so). */
int ck_step_tx_begin(ck_step_ctx *ctx, ck_error *err);

#endif
