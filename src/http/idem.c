/* idem.c: Idempotency-Key. The first response to (user, key) is stored and
 * replayed for 24 hours; another body with the same key is 422; a key whose
 * first request is still running is 409. Replies of 5xx are not stored, so a
 * retry runs again. A secret shown once (a new user's apiKey) is left out of
 * the stored copy, so a replay returns the object without it. */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "store/idempotency.h"

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
    ck_idem_row row;
    int rc = ck_idempotency_get(req->db, req->user.id, key, &row, err);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        int expired = row.created_at < now - IDEM_TTL_MS;
        int same = strcmp(row.fingerprint, fp) == 0;
        int locked = row.locked_until > now;
        if (!expired && same && row.done) {
            req->status = (int)row.status;
            req->out_text = row.body; /* the request's now */
            req->replayed = 1;
            return 1;
        }
        free(row.body);
        if (!expired && !same)
            return ck_fail(err, CK_EREUSED, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key",
                           "this Idempotency-Key was used with another request body");
        if (!expired && locked)
            return ck_fail(err, CK_ECONFLICT, "IDEMPOTENCY_KEY_IN_USE", "Idempotency-Key",
                           "a request with this Idempotency-Key is still being processed");
        if ((rc = ck_idempotency_delete(req->db, req->user.id, key, err)) < 0)
            return rc;
    }
    rc = ck_idempotency_insert_running(req->db, req->user.id, key, fp, in_tx ? 0 : now + IDEM_LOCK_MS, now, err);
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
    int rc = ck_idempotency_finish(req->db, req->user.id, key, (int64_t)req->status, text ? text : "", err);
    free(text);
    return rc;
}

int ck_idem_release(ck_req *req, const char *key)
{
    return ck_idempotency_release_running(req->db, req->user.id, key, NULL);
}

int ck_idem_purge(ck_db *db, ck_error *err)
{
    return ck_idempotency_purge_before(db, ck_now_ms() - IDEM_TTL_MS, err);
}
