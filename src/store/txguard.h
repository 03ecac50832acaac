/* txguard.h: the request pipeline's safety net for a transaction a caller
 * left open on its connection. */
#ifndef CK_STORE_TXGUARD_H
#define CK_STORE_TXGUARD_H

#include "checkout/db.h"

/* Rolls back a transaction still open on db (one that a handler managing
 * its own commits began and did not end: it wrote nothing that may stay).
 * Returns 1 when there was one, 0 when not. */
int ck_db_settle(ck_db *db);

#endif
