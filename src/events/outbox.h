/* outbox.h: the transactional outbox. An event is a row written in the same
 * commit as the change it reports, so none is lost and none exists for a
 * change that was rolled back. */
#ifndef CK_OUTBOX_H
#define CK_OUTBOX_H

#include <jansson.h>

#include "checkout/db.h"

/* Inserts an event {"id","type","createdAt","data"} (data is stolen) inside
 * the caller's transaction. */
int ck_outbox_add(ck_db *db, const char *type, const char *order_id, const char *session_id, json_t *data,
                  ck_error *err);

#endif
