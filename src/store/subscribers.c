/* subscribers.c: the subscribers repository (store/subscribers.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/subscribers.h"
#include "core/json.h"
#include "store/view.h"

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
        ck_col_copy(st, 0, subs[*n].id, sizeof(subs[*n].id));
        ck_col_copy(st, 1, subs[*n].kind, sizeof(subs[*n].kind));
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


#define SUB_COLS \
    "id, kind, url, smtp_url, mail_from, events, max_attempts, backoff_base_ms, created_at, updated_at"

/* A row of SUB_COLS as the subscriber's JSON (URLs unmasked); a new reference. */
static json_t *subscriber_json(ck_stmt *st)
{
    json_t *events = json_loads(ck_col_text(st, 5), 0, NULL);
    json_t *j = json_pack("{s:s, s:s, s:o, s:I, s:I, s:o}", "id", ck_col_text(st, 0), "kind",
                          ck_col_text(st, 1), "events", events ? events : json_array(), "maxAttempts",
                          (json_int_t)ck_col_int(st, 6), "backoffBaseMs", (json_int_t)ck_col_int(st, 7),
                          "createdAt", ck_json_time(ck_col_int(st, 8)));
    json_object_set_new(j, "updatedAt", ck_json_time(ck_col_int(st, 9)));
    if (!ck_col_null(st, 2))
        json_object_set_new(j, "url", json_string(ck_col_text(st, 2)));
    if (!ck_col_null(st, 3))
        json_object_set_new(j, "smtpUrl", json_string(ck_col_text(st, 3)));
    if (!ck_col_null(st, 4))
        json_object_set_new(j, "from", json_string(ck_col_text(st, 4)));
    return j;
}

int ck_subscribers_insert(ck_db *db, const ck_subscriber_fields *f, char id_out[CK_ID_MAX], ck_error *err)
{
    ck_id_new(id_out, "sub");
    int64_t now = ck_now_ms();
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO subscribers (id, kind, url, secret, smtp_url, mail_from, events,"
                      " max_attempts, backoff_base_ms, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      "tttttttiiii", id_out, f->kind, f->url, f->secret, f->smtp_url, f->from, f->events,
                      f->max_attempts, f->backoff_base_ms, now, now);
}

int ck_subscribers_get(ck_db *db, const char *id, json_t **out, ck_error *err)
{
    return ck_view_find(db, "SELECT " SUB_COLS " FROM subscribers WHERE id = ? AND deleted_at IS NULL", id,
                        subscriber_json, out, err);
}

int ck_subscribers_list(ck_db *db, const char *after, int64_t limit, json_t **items, char last_id[CK_ID_MAX],
                        ck_error *err)
{
    return ck_view_list(db, subscriber_json, items, last_id, err,
                        "SELECT " SUB_COLS " FROM subscribers WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?",
                        "ti", after, limit);
}

int ck_subscribers_kind_url(ck_db *db, const char *id, char kind[16], char **url, ck_error *err)
{
    ck_stmt *st = NULL;
    *url = NULL;
    int rc = ck_db_one(db, &st, err,
                       "SELECT kind, COALESCE(url, smtp_url) FROM subscribers WHERE id = ? AND deleted_at IS NULL", "t",
                       id);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, kind, 16);
    if (!ck_col_null(st, 1) && !(*url = strdup(ck_col_text(st, 1))))
        rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    ck_db_done(st);
    return rc;
}

int ck_subscribers_update(ck_db *db, const char *id, const ck_subscriber_fields *f, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE subscribers SET url = COALESCE(?, url), secret = COALESCE(?, secret),"
                      " smtp_url = COALESCE(?, smtp_url), mail_from = COALESCE(?, mail_from),"
                      " events = COALESCE(?, events),"
                      " max_attempts = CASE WHEN ? > 0 THEN ? ELSE max_attempts END,"
                      " backoff_base_ms = CASE WHEN ? > 0 THEN ? ELSE backoff_base_ms END, updated_at = ?"
                      " WHERE id = ?",
                      "tttttiiiiit", f->url, f->secret, f->smtp_url, f->from, f->events, f->max_attempts,
                      f->max_attempts, f->backoff_base_ms, f->backoff_base_ms, ck_now_ms(), id);
}

int ck_subscribers_delete(ck_db *db, const char *id, int64_t now, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE subscribers SET deleted_at = ?, updated_at = ?, events = '[]', url = NULL,"
                        " secret = NULL, smtp_url = NULL WHERE id = ? AND deleted_at IS NULL",
                        "iit", now, now, id);
    return rc < 0 ? rc : changed > 0;
}
