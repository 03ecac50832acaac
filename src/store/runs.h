/* runs.h: the runs repository: what the flow engine reads and writes for one
 * run of a checkout session: the session and its cart's lines as the run
 * loads them, the conditional UPDATE that holds the session for a commit,
 * the progress and totals each commit records, a failure's record (its
 * request row is in store/requests.h, its validation output in
 * store/carts.h), and what the computing steps read and write (promotions,
 * shipping fees, tax rates, the business rules' facts, priced lines). Each
 * function runs in the caller's transaction (ck_db_tx) unless its comment
 * says otherwise. */
#ifndef CK_STORE_RUNS_H
#define CK_STORE_RUNS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* A cart line as the run prices it. */
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

typedef struct ck_run_totals {
    int64_t subtotal, adjustments, shipping, tax, grand_total;
} ck_run_totals;

/* The session as a run starts from. */
typedef struct ck_run_session {
    char cart_id[CK_ID_MAX];
    char account_id[CK_ID_MAX];
    char store_id[CK_ID_MAX];
    char buyer_id[CK_ID_MAX];
    char currency[8]; /* the cart's */
    int64_t inputs_version;
    json_t *inputs;     /* an object, always (owned by the caller) */
    json_t *errors;     /* an array, always (owned by the caller) */
    char last_step[CK_STEP_PATH_MAX]; /* lastSuccessfulStep, "" for none */
    ck_run_totals totals;
    char order_id[CK_ID_MAX]; /* "" for none */
    char flow_id[CK_ID_MAX];  /* the flow it is pinned to */
    int64_t flow_version;
} ck_run_session;

/* What decides whether a session may run. */
typedef struct ck_run_status {
    char account_id[CK_ID_MAX];
    int archived, completed;
    char order_id[CK_ID_MAX]; /* "" for none */
} ck_run_status;

/* The session's status. 1 found, 0 not, <0 error. */
int ck_runs_status(ck_db *db, const char *session_id, ck_run_status *out, ck_error *err);

/* Loads the session with its cart's currency. 1 found (out's JSON belongs to
 * the caller), 0 not, <0 error. */
int ck_runs_load(ck_db *db, const char *session_id, ck_run_session *out, ck_error *err);

/* The cart's lines with their products, by item id. *out (ck_runs_lines_free)
 * gets *n lines. A product whose price tiers do not parse is CK_EINTERNAL
 * (the checkout stops instead of pricing at the list price); on any error
 * *out is NULL. */
int ck_runs_load_lines(ck_db *db, const char *cart_id, ck_line **out, size_t *n, ck_error *err);
void ck_runs_lines_free(ck_line *lines, size_t n);

/* The first statement of a run's commit: a conditional UPDATE of the session
 * row that holds while lease_owner holds the lease and the session is
 * neither archived nor completed. 1 held, 0 not (nothing changed), <0. */
int ck_runs_hold(ck_db *db, const char *session_id, const char *lease_owner, ck_error *err);

/* A commit's totals and order on the session (isError cleared), while owner
 * holds the lease: final releases it, else it runs until lease_until. */
int ck_runs_save_totals(ck_db *db, const char *session_id, const char *owner, const ck_run_totals *t,
                        const char *order_id, int final, int64_t lease_until, ck_error *err);

/* The cart's totals, as the run computed them. */
int ck_runs_cart_totals(ck_db *db, const char *cart_id, const ck_run_totals *t, int64_t now, ck_error *err);

/* A failed step on the session: isError, its errors (a JSON array), lease
 * released, while owner holds it. */
int ck_runs_record_error(ck_db *db, const char *session_id, const char *owner, const char *errors_json, int64_t now,
                         ck_error *err);

/* 1 while the session's lease is live at now, 0 when not, <0 error. */
int ck_runs_lease_live(ck_db *db, const char *session_id, int64_t now, ck_error *err);

/* pricing: a line's prices (tax 0, total = amount + adjustment). */
int ck_runs_line_priced(ck_db *db, const ck_line *l, int64_t total, ck_error *err);
/* tax: a line's tax and total. */
int ck_runs_line_taxed(ck_db *db, const ck_line *l, int64_t total, ck_error *err);
/* pricing: the largest percentOffBasisPoints of the store's promotions whose
 * minSubtotal <= subtotal. 1 (*bp set), 0 none, <0. */
int ck_runs_best_promotion(ck_db *db, const char *store_id, int64_t subtotal, int64_t *bp, ck_error *err);
/* shipping: the store's method's fees. 1, 0 not offered, <0. */
int ck_runs_shipping_fees(ck_db *db, const char *method_id, const char *store_id, int64_t *flat, int64_t *per_kg,
                          ck_error *err);
/* tax: the store's rate for a country in basis points. 1, 0 none, <0. */
int ck_runs_tax_rate(ck_db *db, const char *store_id, const char *country, int64_t *rate_bp, ck_error *err);

/* business_rules: the account's and the store's facts. */
typedef struct ck_run_rules {
    int hazmat_ok;
    int64_t credit_limit, credit_used;
    char *embargoed; /* the store's embargoed countries, a JSON array, whole (caller frees) */
} ck_run_rules;
/* 1 (out filled), 0 no such account or store (err filled), <0. */
int ck_runs_rules_facts(ck_db *db, const char *account_id, const char *store_id, ck_run_rules *out, ck_error *err);

#endif
