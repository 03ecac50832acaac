/* outbox.c: writing events to the outbox inside the caller's transaction. */
#include <stdlib.h>

#include "core/json.h"
#include "core/jsonin.h"
#include "core/context.h"
#include "events/outbox.h"
#include "store/outbox.h"

int ck_outbox_add(ck_db *db, const char *type, const char *order_id, const char *session_id, json_t *data,
                  ck_error *err)
{
    char id[CK_ID_MAX];
    ck_id_new(id, "evt");
    int64_t now = ck_now_ms();
    json_t *ev = json_pack("{s:s, s:s, s:o, s:o}", "id", id, "type", type, "createdAt", ck_json_time(now), "data",
                           data ? data : json_object());
    char *text = ck_json_text(ev);
    json_decref(ev);
    if (!text)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    int rc = ck_outbox_insert(db, id, type, order_id, session_id, text, now, err);
    free(text);
    return rc;
}
