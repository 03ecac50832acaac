/* ledger.c: the ledger repository (store/ledger.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/ledger.h"

int ck_ledger_session_sum(ck_db *db, const char *session_id, const char *kind, int64_t *sum, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT COALESCE(SUM(amount), 0) FROM balance_ledger WHERE session_id = ? AND kind = ?", "tt",
                       session_id, kind);
    if (rc == 1)
        *sum = ck_col_int(st, 0);
    ck_db_done(st);
    return rc;
}

int ck_ledger_attach_order(ck_db *db, const char *session_id, const char *order_id, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "UPDATE balance_ledger SET order_id = ? WHERE session_id = ?", "tt", order_id,
                      session_id);
}
