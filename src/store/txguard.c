/* txguard.c: a request's read snapshot, and rolling back a transaction left
 * open on a connection (store/txguard.h). */
#include "store/txguard.h"

int ck_db_settle(ck_db *db)
{
    if (!db || !ck_db_in_tx(db))
        return 0;
    ck_db_rollback(db);
    return 1;
}

int ck_db_snapshot(ck_db *db, ck_error *err)
{
    return ck_db_begin(db, 0, err);
}
