/* idem.c: Idempotency-Key. The first response to (user, key) is stored and
 * replayed for 24 hours; another body with the same key is 422; a key whose
 * first request is still running is 409. Replies of 5xx are not stored, so a
 * retry runs again. A secret shown once (a new user's apiKey) is left out of
 * the stored copy, so a replay returns the object without it. */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

#define IDEM_TTL_MS (24LL * 3600 * 1000)
#define IDEM_LOCK_MS (5LL * 60 * 1000) /* a claim older than this was left by a crash */

static void fingerprint(ck_req *req, char out[65])
{
    size_t ml = strlen(req->method), pl = strlen(req->path);
    char *buf = malloc(ml + pl + req->body_len + 3);
    if (!buf) {
        out[0] = '\0';
        return;
    }
    memcpy(buf, req->method, ml);
    buf[ml] = ' ';
    memcpy(buf + ml + 1, req->path, pl);
    buf[ml + 1 + pl] = '\n';
    if (req->body_len)
        memcpy(buf + ml + pl + 2, req->body, req->body_len);
    ck_sha256_hex(out, buf, ml + pl + 2 + req->body_len);
    free(buf);
}

int ck_idem_claim(ck_req *req, const char *key, int in_tx, ck_error *err)
{
    char fp[65];
    fingerprint(req, fp);
    int64_t now = ck_now_ms();
    ck_stmt *st = NULL;
    int rc = ck_db_one(req->db, &st, err,
                       "SELECT fingerprint, state, status, body, locked_until, created_at"
                       " FROM idempotency_keys WHERE user_id = ? AND idem_key = ?",
                       "tt", req->user.id, key);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        int expired = ck_col_int(st, 5) < now - IDEM_TTL_MS;
        int same = strcmp(ck_col_text(st, 0), fp) == 0;
        int done = strcmp(ck_col_text(st, 1), "done") == 0;
        int locked = ck_col_int(st, 4) > now;
        if (!expired && same && done) {
            req->status = (int)ck_col_int(st, 2);
            req->out_text = strdup(ck_col_text(st, 3));
            req->replayed = 1;
            ck_db_done(st);
            return 1;
        }
        ck_db_done(st);
        if (!expired && !same)
            return ck_fail(err, CK_EREUSED, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key",
                           "this Idempotency-Key was used with another request body");
        if (!expired && locked)
            return ck_fail(err, CK_ECONFLICT, "IDEMPOTENCY_KEY_IN_USE", "Idempotency-Key",
                           "a request with this Idempotency-Key is still being processed");
        rc = ck_db_exec(req->db, NULL, err,
                        "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ?", "tt",
                        req->user.id, key);
        if (rc < 0)
            return rc;
    }
    rc = ck_db_exec(req->db, NULL, err,
                    "INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, state, locked_until, created_at)"
                    " VALUES (?, ?, ?, 'running', ?, ?)",
                    "tttii", req->user.id, key, fp, in_tx ? 0 : now + IDEM_LOCK_MS, now);
    if (rc == CK_EDUP)
        return ck_fail(err, CK_ECONFLICT, "IDEMPOTENCY_KEY_IN_USE", "Idempotency-Key",
                       "a request with this Idempotency-Key is still being processed");
    return rc;
}

int ck_idem_save(ck_req *req, const char *key, ck_error *err)
{
    json_t *stored = req->out;
    if (req->idem_redact && json_is_object(req->out)) {
        stored = json_copy(req->out);
        json_object_del(stored, req->idem_redact);
    } else {
        json_incref(stored);
    }
    char *text = stored ? json_dumps(stored, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(stored);
    int rc = ck_db_exec(req->db, NULL, err,
                        "UPDATE idempotency_keys SET state = 'done', status = ?, body = ?, locked_until = 0"
                        " WHERE user_id = ? AND idem_key = ?",
                        "ittt", (int64_t)req->status, text ? text : "", req->user.id, key);
    free(text);
    return rc;
}

int ck_idem_release(ck_req *req, const char *key)
{
    return ck_db_exec(req->db, NULL, NULL,
                      "DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND state = 'running'",
                      "tt", req->user.id, key);
}

int ck_idem_purge(ck_db *db, ck_error *err)
{
    return ck_db_exec(db, NULL, err, "DELETE FROM idempotency_keys WHERE created_at < ?", "i",
                      ck_now_ms() - IDEM_TTL_MS);
}
