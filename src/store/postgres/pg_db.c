/* pg_db.c: the PostgreSQL backend of the storage interface (libpq). The
 * portable SQL's `?` placeholders become $1..$n; statements are prepared once
 * per connection and cached by their SQL text; parameters travel as text and
 * the server infers their types; SQLSTATE maps to the interface's codes.
 * A connection the server dropped is opened again before the next
 * transaction or statement outside one (pg_revive). */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_internal.h"
#include "store/postgres/pg_sql.h"

#define MAX_PARAMS 32

typedef struct pg_stmt {
    struct ck_stmt base;
    char *text; /* the SQL with $n placeholders (kept: a new connection prepares it again) */
    char name[24];
    int prepared;
    int is_int[MAX_PARAMS]; /* integer parameters are declared bigint */
    int nparams;
    char *params[MAX_PARAMS];
    char ints[MAX_PARAMS][24]; /* storage for integer parameters */
    PGresult *res;
    int row, nrows;
    int64_t changes;
} pg_stmt;

typedef struct pg_db {
    struct ck_db base;
    PGconn *conn;
    ck_stmt_cache cache;
    unsigned next_name;
    int lock_timeout_ms;
    int unset; /* reconnected, but pg_session_setup has not succeeded yet */
} pg_db;

/* Maps a failed result to the interface's codes. */
static int pg_error(pg_db *d, PGresult *res, ck_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(d->conn);
    if (state && strcmp(state, "23505") == 0)
        return ck_fail(err, CK_EDUP, "DUPLICATE", NULL, "%s", msg);
    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0))
        return ck_fail(err, CK_EBUSY, "INTERNAL_ERROR", NULL, "database busy: %s", msg);
    return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "database error: %s", msg ? msg : "?");
}

static int pg_exec_script(ck_db *db, const char *sql, ck_error *err)
{
    pg_db *d = (pg_db *)db;
    PGresult *res = PQexec(d->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : pg_error(d, res, err);
    PQclear(res);
    return rc;
}

static void notice_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs (e.g. "relation already exists, skipping") are not errors */
}

/* The settings of a new server session (pg_open, pg_revive). */
static int pg_session_setup(pg_db *d, ck_error *err)
{
    /* Like SQLite's busy timeout: a row lock held too long is CK_EBUSY, not a hang. */
    char set[64];
    snprintf(set, sizeof(set), "SET lock_timeout = %d", d->lock_timeout_ms);
    return pg_exec_script(&d->base, set, err);
}

static int pg_open(ck_db **out, const char *url, const ck_db_options *opts, ck_error *err)
{
    pg_db *d = calloc(1, sizeof(*d));
    if (!d)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    d->base.drv = &ck_pg_driver;
    d->conn = PQconnectdb(url);
    if (PQstatus(d->conn) != CONNECTION_OK) {
        ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "cannot connect to PostgreSQL: %s",
                PQerrorMessage(d->conn));
        PQfinish(d->conn);
        free(d);
        return CK_EINTERNAL;
    }
    PQsetNoticeProcessor(d->conn, notice_quiet, NULL); /* kept by PQreset */
    d->lock_timeout_ms = opts && opts->busy_timeout_ms ? opts->busy_timeout_ms : 10000;
    if (pg_session_setup(d, err) < 0) {
        PQfinish(d->conn);
        free(d);
        return err ? err->code : CK_EINTERNAL;
    }
    *out = &d->base;
    return 0;
}

/* Whether an idle connection (no query running on it) is still up, as far
 * as can be told without a round trip. Nothing is due on an idle
 * connection, so anything readable is news: a notice, or, from a server
 * that went away, its last words (FATAL "terminating connection due to
 * unexpected postmaster exit", which libpq takes as a notice) and then
 * end-of-file, on which PQconsumeInput marks the connection bad. So this
 * reads and parses until nothing is left to read (a few rounds at most),
 * never waiting. */
static int pg_idle_alive(PGconn *c)
{
    for (int round = 0; round < 8 && PQstatus(c) == CONNECTION_OK; round++) {
        struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            break; /* nothing to read */
        if (!PQconsumeInput(c))
            break; /* end-of-file or an error: the connection is now bad */
        (void)PQisBusy(c); /* parses what came (an idle connection's notices) */
    }
    return PQstatus(c) == CONNECTION_OK;
}

/* A connection the server dropped (it crashed, was restarted, or a standby
 * was promoted in its place) is CONNECTION_BAD for good: libpq does not
 * reconnect by itself, and every later call fails with "no connection to
 * the server". So before a transaction, and before a statement outside
 * one, a bad connection is opened again with PQreset, which walks the URL's
 * host list again with its target_session_attrs: with
 * postgresql://h1,h2/db?target_session_attrs=read-write it lands on
 * whichever host now takes writes. What lived in the old server session
 * goes with it: every cached statement is prepared again at its next
 * execution, and lock_timeout is set again. Never inside a transaction: a
 * transaction that lost its connection is lost (its caller gets the error
 * and rolls back; the next one reconnects). Returns 0 on a good
 * connection. */
static int pg_revive(pg_db *d, ck_error *err)
{
    if (pg_idle_alive(d->conn) && !d->unset)
        return 0;
    if (PQstatus(d->conn) != CONNECTION_OK) {
        PQreset(d->conn);
        if (PQstatus(d->conn) != CONNECTION_OK)
            return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "database unavailable: %s",
                           PQerrorMessage(d->conn));
        for (size_t i = 0; i < d->cache.cap; i++)
            if (d->cache.slot[i])
                ((pg_stmt *)d->cache.slot[i])->prepared = 0;
        d->unset = 1;
    }
    int rc = pg_session_setup(d, err); /* until it succeeds, on every use */
    if (rc == 0)
        d->unset = 0;
    return rc;
}

static void stmt_reset(pg_stmt *s)
{
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
    s->nrows = 0;
    s->changes = 0;
    for (int i = 0; i < s->nparams; i++) {
        if (s->params[i] && s->params[i] != s->ints[i])
            free(s->params[i]);
        s->params[i] = NULL;
    }
}

static void free_stmt(struct ck_stmt *st)
{
    pg_stmt *s = (pg_stmt *)st;
    stmt_reset(s);
    free(s->base.sql);
    free(s->text);
    free(s);
}

static void pg_close(ck_db *db)
{
    pg_db *d = (pg_db *)db;
    ck_stmt_cache_free(&d->cache, free_stmt);
    PQfinish(d->conn);
    free(d);
}

static int pg_begin(ck_db *db, int write, ck_error *err)
{
    /* PostgreSQL has no BEGIN IMMEDIATE: a write transaction here is READ
     * COMMITTED and locks nothing until it writes. So every write
     * transaction that decides on a row it read takes that row first with a
     * conditional UPDATE (the session: ck_step_tx_begin, ck_session_give_back,
     * PATCH; the cart: ck_cart_hold_editable; the account: adjustments), and
     * a concurrent writer of the row waits for it and then sees its commit. */
    (void)write;
    pg_db *d = (pg_db *)db;
    int rc = pg_revive(d, err);
    if (rc < 0)
        return rc;
    rc = pg_exec_script(db, "BEGIN", err);
    /* A connection that died while idle (the server went away since the
     * last transaction) is found out only now; BEGIN changes nothing, so
     * it is safe to open the connection again and send it once more. */
    if (rc < 0 && PQstatus(d->conn) == CONNECTION_BAD && (rc = pg_revive(d, err)) == 0)
        rc = pg_exec_script(db, "BEGIN", err);
    return rc;
}

static int pg_commit(ck_db *db, ck_error *err)
{
    pg_db *d = (pg_db *)db;
    PGresult *res = PQexec(d->conn, "COMMIT");
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_error(d, res, err);
    else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0) /* the transaction had failed */
        rc = ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "the transaction was rolled back");
    PQclear(res);
    return rc;
}

static void pg_rollback(ck_db *db)
{
    pg_exec_script(db, "ROLLBACK", NULL);
}

static int pg_prepare(ck_db *db, const char *sql, ck_stmt **out, ck_error *err)
{
    pg_db *d = (pg_db *)db;
    uint64_t h = ck_sql_hash(sql);
    pg_stmt *found = (pg_stmt *)ck_stmt_cache_find(&d->cache, sql, h);
    if (found) {
        stmt_reset(found);
        *out = &found->base;
        return 0;
    }
    int nparams = 0;
    char *text = ck_pg_translate(sql, &nparams);
    pg_stmt *s = calloc(1, sizeof(*s));
    if (!text || !s || nparams > MAX_PARAMS) {
        free(text);
        free(s);
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "cannot prepare a statement of %d parameters",
                       nparams);
    }
    s->base.db = db;
    s->base.hash = h;
    s->nparams = nparams;
    s->row = -1;
    snprintf(s->name, sizeof(s->name), "ck%u", d->next_name++);
    s->base.sql = strdup(sql);
    s->text = text; /* prepared at the first execution, when the parameter types are known */
    if (!s->base.sql || ck_stmt_cache_put(&d->cache, &s->base) != 0) {
        free_stmt(&s->base);
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    }
    *out = &s->base;
    return 0;
}

static int pg_bind_int(ck_stmt *st, int idx, int64_t v)
{
    pg_stmt *s = (pg_stmt *)st;
    if (idx < 1 || idx > s->nparams)
        return -1;
    snprintf(s->ints[idx - 1], sizeof(s->ints[0]), "%lld", (long long)v);
    s->params[idx - 1] = s->ints[idx - 1];
    s->is_int[idx - 1] = 1;
    return 0;
}

static int pg_bind_text(ck_stmt *st, int idx, const char *v)
{
    pg_stmt *s = (pg_stmt *)st;
    if (idx < 1 || idx > s->nparams)
        return -1;
    if (s->params[idx - 1] && s->params[idx - 1] != s->ints[idx - 1])
        free(s->params[idx - 1]);
    s->params[idx - 1] = NULL;
    if (v && !(s->params[idx - 1] = strdup(v)))
        return -1;
    return 0;
}

static int pg_step(ck_stmt *st, ck_error *err)
{
    pg_stmt *s = (pg_stmt *)st;
    pg_db *d = (pg_db *)st->db;
    if (!s->res && !d->base.in_tx) {
        int rc = pg_revive(d, err); /* a statement outside a transaction */
        if (rc < 0)
            return rc;
    }
    if (!s->prepared) {
        /* Integers are bigint (money and milliseconds do not fit an integer
         * the server might infer); text parameters are left to inference. */
        Oid types[MAX_PARAMS];
        for (int i = 0; i < s->nparams; i++)
            types[i] = s->is_int[i] ? 20 /* INT8OID */ : 0;
        PGresult *res = PQprepare(d->conn, s->name, s->text, s->nparams, types);
        int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_error(d, res, err);
        PQclear(res);
        if (rc < 0)
            return rc;
        s->prepared = 1;
    }
    if (!s->res) {
        s->res = PQexecPrepared(d->conn, s->name, s->nparams, (const char *const *)s->params, NULL, NULL, 0);
        ExecStatusType status = PQresultStatus(s->res);
        if (status == PGRES_COMMAND_OK) {
            const char *n = PQcmdTuples(s->res);
            s->changes = n && *n ? strtoll(n, NULL, 10) : 0;
            return 0;
        }
        if (status != PGRES_TUPLES_OK) {
            int rc = pg_error(d, s->res, err);
            PQclear(s->res);
            s->res = NULL;
            return rc;
        }
        s->nrows = PQntuples(s->res);
        const char *n = PQcmdTuples(s->res);
        s->changes = n && *n ? strtoll(n, NULL, 10) : 0;
        s->row = -1;
    }
    if (s->row + 1 < s->nrows) {
        s->row++;
        return 1;
    }
    return 0;
}

static int64_t pg_col_int(ck_stmt *st, int col)
{
    pg_stmt *s = (pg_stmt *)st;
    if (!s->res || s->row < 0 || PQgetisnull(s->res, s->row, col))
        return 0;
    const char *v = PQgetvalue(s->res, s->row, col);
    if (v[0] == 't' && !v[1])
        return 1; /* a boolean expression */
    if (v[0] == 'f' && !v[1])
        return 0;
    return strtoll(v, NULL, 10);
}

static const char *pg_col_text(ck_stmt *st, int col)
{
    pg_stmt *s = (pg_stmt *)st;
    if (!s->res || s->row < 0 || PQgetisnull(s->res, s->row, col))
        return NULL;
    return PQgetvalue(s->res, s->row, col);
}

static int pg_col_null(ck_stmt *st, int col)
{
    pg_stmt *s = (pg_stmt *)st;
    return !s->res || s->row < 0 || PQgetisnull(s->res, s->row, col);
}

static int64_t pg_changes(ck_stmt *st)
{
    return ((pg_stmt *)st)->changes;
}

static void pg_finish(ck_stmt *st)
{
    stmt_reset((pg_stmt *)st);
}

const ck_db_driver ck_pg_driver = {
    .version = CK_DB_DRIVER_VERSION,
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .exec_script = pg_exec_script,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .prepare = pg_prepare,
    .bind_int = pg_bind_int,
    .bind_text = pg_bind_text,
    .step = pg_step,
    .col_int = pg_col_int,
    .col_text = pg_col_text,
    .col_null = pg_col_null,
    .changes = pg_changes,
    .finish = pg_finish,
};
