/* giveback.c: giving a session's money back before an order exists, in a
 * commit that checks first that no order does. What is given back is what
 * the flow's steps declare: each step kind with a compensate takes back its
 * own (the payment step: holds marked for void, balances released). */
#include "checkout/giveback.h"
#include "checkout/session.h"
#include "flows/flow.h"
#include "store/sessions.h"

static int undo_payment(ck_db *db, const ck_flow *flow, const char *session_id, ck_error *err)
{
    const char *before = NULL;
    int paid = ck_flow_compensated(flow, &before);
    if (paid < 0)
        return 0;
    int rc = ck_session_set_progress(db, flow, session_id, flow->steps[paid].path, before, NULL, err);
    if (rc != 1)
        return rc;
    rc = ck_sessions_bump_inputs_unordered(db, session_id, err);
    return rc < 0 ? rc : 1;
}

int ck_session_give_back(ck_db *db, const char *session_id, const ck_giveback_opts *opts, ck_giveback_result *out,
                         ck_error *err)
{
    const ck_flow *flow = NULL;
    out->holds = out->balances = 0;
    out->rewound = 0;
    int rc = ck_session_flow(db, session_id, &flow, err);
    if (rc < 0)
        return rc;
    rc = ck_sessions_hold_unordered(db, session_id, opts->lease_owner ? opts->lease_owner : "", ck_now_ms(),
                                        opts->idle_before, err);
    if (rc <= 0)
        return rc;
    for (size_t i = 0; i < flow->nsteps; i++) {
        const ck_step_kind *k = flow->steps[i].kind;
        ck_step_undo u = {.cx = NULL, .db = db, .session_id = session_id, .holds = 0, .balances = 0};
        if (!k->compensate)
            continue;
        if ((rc = k->compensate(&u, CK_UNDO_COMMIT, err)) < 0)
            return rc;
        out->holds += u.holds;
        out->balances += u.balances;
    }
    if (opts->rewind) {
        if ((rc = undo_payment(db, flow, session_id, err)) < 0)
            return rc;
        out->rewound = rc;
    }
    return 1;
}


int ck_session_undo_payment(ck_db *db, const char *session_id, ck_error *err)
{
    const ck_flow *flow = NULL;
    int rc = ck_session_flow(db, session_id, &flow, err);
    return rc < 0 ? rc : undo_payment(db, flow, session_id, err);
}
