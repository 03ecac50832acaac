/* ledger.h: the ledger repository: typed functions over its tables. All SQL
 * lives in src/store/. Each function runs in the caller's transaction
 * (ck_db_tx) unless its comment says otherwise. */
#ifndef CK_STORE_LEDGER_H
#define CK_STORE_LEDGER_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/db.h"
#include "core/util.h"

/* The sum of a session's ledger rows of one kind (credit, prepaid,
 * contract) into *sum. 1, or <0. */
int ck_ledger_session_sum(ck_db *db, const char *session_id, const char *kind, int64_t *sum, ck_error *err);
/* The session's ledger rows name the order made from it. */
int ck_ledger_attach_order(ck_db *db, const char *session_id, const char *order_id, ck_error *err);

#endif
