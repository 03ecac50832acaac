/* txguard.h: the request pipeline's safety net for a transaction a caller
 * left open on its connection. */
#ifndef CK_STORE_TXGUARD_H
#define CK_STORE_TXGUARD_H

#include "checkout/db.h"

/* Rolls back a transaction still open on db (one that a handler managing
 * its own commits began and did not end: it wrote nothing that may stay).
 * Returns 1 when there was one, 0 when not. */
int ck_db_settle(ck_db *db);

/* Opens a read snapshot on db for a request that writes nothing (a GET),
 * so its statements read one state; the pipeline ends it with
 * ck_db_settle. Returns 0, or -1 with err. */
int ck_db_snapshot(ck_db *db, ck_error *err);

#endif
