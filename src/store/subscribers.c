/* subscribers.c: the subscribers repository (store/subscribers.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/subscribers.h"

int ck_subscribers_for_event(ck_db *db, const char *event_type, ck_subscriber_ref **out, int *n, ck_error *err)
{
    char pattern[48];
    ck_subscriber_ref *subs = NULL; /* every matching subscriber: none may be skipped */
    int cap = 0;
    *out = NULL;
    *n = 0;
    snprintf(pattern, sizeof(pattern), "%%\"%.31s\"%%", event_type);
    ck_stmt *st = NULL;
    int rc = ck_db_query(db, &st, err,
                         "SELECT id, kind FROM subscribers WHERE events LIKE ? AND deleted_at IS NULL ORDER BY id", "t",
                         pattern);
    if (rc < 0)
        return rc;
    while ((rc = ck_db_next(st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            void *grown = realloc(subs, (size_t)cap * sizeof(*subs));
            if (!grown) {
                rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
                break;
            }
            subs = grown;
        }
        snprintf(subs[*n].id, sizeof(subs[*n].id), "%s", ck_col_text(st, 0));
        snprintf(subs[*n].kind, sizeof(subs[*n].kind), "%s", ck_col_text(st, 1));
        (*n)++;
    }
    ck_db_done(st);
    if (rc < 0) {
        free(subs);
        *n = 0;
        return rc;
    }
    *out = subs;
    return 0;
}
