/* sessions.c: the sessions repository (store/sessions.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sessions.h"

int ck_sessions_hold_unordered(ck_db *db, const char *session_id, const char *lease_owner, int64_t now,
                               int64_t idle_before, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE checkout_sessions SET updated_at = updated_at"
                        " WHERE id = ? AND order_id IS NULL AND state <> 'Completed'"
                        " AND ((? <> '' AND lease_owner = ?)"
                        "      OR (? = '' AND (lease_owner IS NULL OR lease_expires_at <= ?)))"
                        " AND (? = 0 OR updated_at < ?)",
                        "ttttiii", session_id, lease_owner, lease_owner, lease_owner, now, idle_before, idle_before);
    return rc < 0 ? rc : changed == 1;
}

int ck_sessions_bump_inputs_unordered(ck_db *db, const char *session_id, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE checkout_sessions SET inputs_version = inputs_version + 1 WHERE id = ? AND order_id IS NULL",
                      "t", session_id);
}
