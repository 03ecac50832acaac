/* giveback.c: giving a session's money back before an order exists, in a
 * commit that checks first that no order does. */
#include "checkout/giveback.h"
#include "checkout/session.h"
#include "payments/balances.h"
#include "payments/holds.h"

/* Holds the session row for the rest of the transaction while the session
 * has no order and opts' conditions hold. 1 held, 0 not. */
static int guard(ck_db *db, const char *session_id, const ck_giveback_opts *o, ck_error *err)
{
    int64_t now = ck_now_ms(), changed = 0;
    const char *owner = o->lease_owner ? o->lease_owner : "";
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE checkout_sessions SET updated_at = updated_at"
                        " WHERE id = ? AND order_id IS NULL AND state <> 'Completed'"
                        " AND ((? <> '' AND lease_owner = ?)"
                        "      OR (? = '' AND (lease_owner IS NULL OR lease_expires_at <= ?)))"
                        " AND (? = 0 OR updated_at < ?)",
                        "ttttiii", session_id, owner, owner, owner, now, o->idle_before, o->idle_before);
    return rc < 0 ? rc : changed == 1;
}

int ck_session_give_back(ck_db *db, const char *session_id, const ck_giveback_opts *opts, ck_giveback_result *out,
                         ck_error *err)
{
    out->holds = out->balances = 0;
    out->rewound = 0;
    int rc = guard(db, session_id, opts, err);
    if (rc <= 0)
        return rc;
    if ((rc = ck_hold_mark_void(db, session_id, NULL, &out->holds, err)) < 0)
        return rc;
    if ((rc = ck_balance_release_session(db, session_id, err)) < 0)
        return rc;
    out->balances = rc;
    if (opts->rewind) {
        if ((rc = ck_session_undo_payment(db, session_id, err)) < 0)
            return rc;
        out->rewound = rc;
    }
    return 1;
}

int ck_session_undo_payment(ck_db *db, const char *session_id, ck_error *err)
{
    int rc = ck_session_set_progress(db, session_id, "payment", "business_rules", NULL, err);
    if (rc != 1)
        return rc;
    rc = ck_db_exec(db, NULL, err,
                    "UPDATE checkout_sessions SET inputs_version = inputs_version + 1 WHERE id = ? AND order_id IS NULL",
                    "t", session_id);
    return rc < 0 ? rc : 1;
}
