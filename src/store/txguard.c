/* txguard.c: rolling back a transaction left open on a connection (store/txguard.h). */
#include "store/txguard.h"

int ck_db_settle(ck_db *db)
{
    if (!db || !ck_db_in_tx(db))
        return 0;
    ck_db_rollback(db);
    return 1;
}
