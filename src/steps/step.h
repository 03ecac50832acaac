/* step.h: what a flow step is. A step kind is a small vtable: run, save and
 * compensate, with what it declares about itself (the inputs it reads, and
 * whether it is pure, external, or part of the order's commit), from which
 * the flow derives its commit groups (flows/flow.h). A step gets one
 * context, returns one of three results, and records a failure's reason in
 * ctx->err. Steps of one commit group run inside one write transaction; an
 * external step is a group of its own and runs outside any transaction,
 * writing its result in `save` (called inside the commit) so the effect and
 * its record commit together with lastSuccessfulStep. */
#ifndef CK_STEP_H
#define CK_STEP_H

#include <jansson.h>

#include "checkout/db.h"
#include "core/context.h"
#include "core/user.h"
#include "store/runs.h"

typedef enum {
    CK_STEP_OK,    /* done; go on */
    CK_STEP_FAIL,  /* the buyer can fix it (400); error recorded */
    CK_STEP_RETRY, /* transient (500); placing again resumes here */
} ck_step_result;

/* Which checkout inputs a step reads: a PATCH of one rewinds to before the
 * first step that reads it. */
enum { CK_READS_ADDRESS = 1, CK_READS_METHOD = 2, CK_READS_PAYMENT = 4 };

/* The payment methods, as bits (a step's `when`). */
enum {
    CK_METHOD_CARD = 1,
    CK_METHOD_PURCHASE_ORDER = 2,
    CK_METHOD_NET_TERMS = 4,
    CK_METHOD_PREPAID = 8,
    CK_METHOD_CONTRACT = 16,
};
/* The bit of a payment method's name ("card", ...); 0 for NULL or unknown. */
unsigned ck_payment_method_bit(const char *name);
/* The names, in bit order, NULL-terminated. */
extern const char *const ck_payment_method_names[];

/* What a step kind declares about its effects (ck_step_kind.flags). */
enum {
    CK_STEP_PURE = 1,     /* only recomputes from the cart and inputs: re-running it is harmless */
    CK_STEP_EXTERNAL = 2, /* talks to the world (a gateway): runs outside a transaction, commits alone */
    CK_STEP_ORDER = 4,    /* part of the order's own commit (the order, its events, the closed cart) */
};

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
    json_t *inputs; /* {"shippingAddress","shippingMethodId","payment"} (owned by the run) */
    ck_line *lines;
    size_t nlines;
    int64_t subtotal, adjustments, shipping, tax, grand_total;
    char order_id[CK_ID_MAX];
    /* The order's view as the running commit leaves it, built by the order
     * steps for their events (owned by the run; NULL: none built). */
    json_t *order_view;
    const char *lease_owner; /* this run's lease on the session */
    void *state;             /* the running step's own state (kind->state_size bytes, zeroed per run) */
    /* The running step as its flow defines it. */
    const char *step_path;      /* "erp/credit_check" */
    const json_t *step_config;  /* its "config" (NULL: none) */
    const void *step_prepared;  /* what its kind's prepare made of the config (NULL: none) */
    /* Set by a failing step. */
    ck_error *err;
    char cvo_related[CK_ID_MAX]; /* write an Error CVO for this cart or item */
    const char *cvo_type;
    int compensate; /* after the rollback, take back what the steps before this one committed */
} ck_step_ctx;

/* What compensate works on: the session whose committed step is taken back. */
typedef struct ck_step_undo {
    ck_ctx *cx; /* CK_UNDO_AFTER only (NULL inside the commit) */
    ck_db *db;
    const char *session_id;
    int64_t holds;    /* out, CK_UNDO_COMMIT: holds marked for void */
    int64_t balances; /* out, CK_UNDO_COMMIT: balances given back */
} ck_step_undo;

/* The two halves of a compensation: inside the give-back commit (which has
 * checked the session has no order), then after it, outside any transaction. */
enum { CK_UNDO_COMMIT, CK_UNDO_AFTER };

typedef struct ck_step_kind {
    const char *name;
    ck_step_result (*run)(ck_step_ctx *ctx);
    /* Its writes inside the group's commit, after every step of the group
     * ran (NULL: none). FAIL/RETRY roll the commit back. */
    ck_step_result (*save)(ck_step_ctx *ctx);
    /* Takes back what the step committed, after a later step failed or the
     * session was given up (NULL: nothing to take back). 0 or <0. */
    int (*compensate)(ck_step_undo *u, int phase, ck_error *err);
    unsigned reads;    /* CK_READS_* */
    unsigned flags;    /* CK_STEP_* */
    size_t state_size; /* bytes of ctx->state the engine gives it (0: none) */
    /* Checks a step's "config" when its flow is parsed (saved or loaded)
     * and makes what run needs of it (a compiled script): 0 with *out (may
     * stay NULL), or -1 with msg saying what is wrong. NULL: the kind takes
     * no config. */
    int (*prepare)(const json_t *config, void **out, char *msg, size_t msglen);
    void (*release)(void *prepared); /* frees what prepare made (NULL-tolerant) */
} ck_step_kind;

/* The built-in steps, by name; NULL if unknown. */
const ck_step_kind *ck_step_builtin(const char *name);
/* A built-in's place in the standard order (0 validate_cart ... 8
 * close_cart), or -1 for a kind that is not built in. */
int ck_step_builtin_rank(const ck_step_kind *kind);

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

/* The built-in step kinds (src/steps/, one file each). */
extern const ck_step_kind ck_step_validate_cart, ck_step_pricing, ck_step_shipping, ck_step_tax,
    ck_step_business_rules, ck_step_payment, ck_step_create_order, ck_step_confirm, ck_step_close_cart;

/* Runs fn(db, arg, err) in a write transaction (ck_db_tx) that holds the
 * session for this run: its first statement is a conditional UPDATE of the
 * session row that holds only while ctx->lease_owner still holds the lease
 * and the session is neither archived nor completed (on PostgreSQL it
 * queues every other writer of the row behind this transaction; SQLite's
 * write transactions are serial). Returns what ck_db_tx returns: fn's value
 * after the commit, or <0 (rolled back): CK_ECONFLICT when the lease was
 * lost (err says so). */
int ck_step_tx(ck_step_ctx *ctx, ck_db_tx_fn fn, void *arg, ck_error *err);

#endif
