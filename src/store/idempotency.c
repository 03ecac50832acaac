/* idempotency.c: the idempotency repository (store/idempotency.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/idempotency.h"

int ck_idempotency_get(ck_db *db, const char *user_id, const char *key, ck_idem_row *out, ck_error *err)
{
    ck_stmt *st = NULL;
    memset(out, 0, sizeof(*out));
    int rc = ck_db_one(db, &st, err,
                       "SELECT fingerprint, state, status, body, locked_until, created_at"
                       " FROM idempotency_keys WHERE user_id = ? AND idem_key = ?",
                       "tt", user_id, key);
    if (rc <= 0)
        return rc;
    ck_col_copy(st, 0, out->fingerprint, sizeof(out->fingerprint));
    out->done = strcmp(ck_col_text(st, 1), "done") == 0;
    out->status = ck_col_int(st, 2);
    out->body = strdup(ck_col_text(st, 3));
    out->locked_until = ck_col_int(st, 4);
    out->created_at = ck_col_int(st, 5);
    ck_db_done(st);
    if (!out->body)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    return 1;
}

int ck_idempotency_delete(ck_db *db, const char *user_id, const char *key, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ?", "tt", user_id,
                      key);
}

int ck_idempotency_insert_running(ck_db *db, const char *user_id, const char *key, const char *fingerprint,
                                  int64_t locked_until, int64_t now, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, state, locked_until, created_at)"
                      " VALUES (?, ?, ?, 'running', ?, ?)",
                      "tttii", user_id, key, fingerprint, locked_until, now);
}

int ck_idempotency_finish(ck_db *db, const char *user_id, const char *key, int64_t status, const char *body,
                          ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "UPDATE idempotency_keys SET state = 'done', status = ?, body = ?, locked_until = 0"
                      " WHERE user_id = ? AND idem_key = ?",
                      "ittt", status, body, user_id, key);
}

int ck_idempotency_release_running(ck_db *db, const char *user_id, const char *key, ck_error *err)
{
    return ck_db_exec(db, NULL, err,
                      "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND state = 'running'", "tt",
                      user_id, key);
}

int ck_idempotency_release_all_running(ck_db *db, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "DELETE FROM idempotency_keys WHERE state = 'running'", "");
}

int ck_idempotency_purge_before(ck_db *db, int64_t before, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "DELETE FROM idempotency_keys WHERE created_at < ?", "i", before);
}
