/* sqlite_db.c: the SQLite backend of the storage interface. WAL, foreign keys,
 * a busy timeout, synchronous=FULL unless relaxed, BEGIN IMMEDIATE for writes,
 * and prepared statements cached per connection by their SQL text. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_internal.h"

typedef struct sq_stmt {
    struct ck_stmt base;
    sqlite3_stmt *st;
    int64_t changes;
} sq_stmt;

typedef struct sq_db {
    struct ck_db base;
    sqlite3 *h;
    ck_stmt_cache cache;
} sq_db;

static int sq_error(sq_db *d, ck_error *err, int rc)
{
    int ext = sqlite3_extended_errcode(d->h);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return ck_fail(err, CK_EDUP, "DUPLICATE", NULL, "%s", sqlite3_errmsg(d->h));
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        return ck_fail(err, CK_EBUSY, "INTERNAL_ERROR", NULL, "database busy: %s",
                       sqlite3_errmsg(d->h));
    return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "database error: %s",
                   sqlite3_errmsg(d->h));
}

static int sq_exec_script(ck_db *db, const char *sql, ck_error *err)
{
    sq_db *d = (sq_db *)db;
    char *msg = NULL;
    int rc = sqlite3_exec(d->h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        ck_fail(err, ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) ? CK_EBUSY : CK_EINTERNAL, "INTERNAL_ERROR", NULL,
                "database error: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return err ? err->code : CK_EINTERNAL;
    }
    return 0;
}

static int sq_open(ck_db **out, const char *url, const ck_db_options *opts, ck_error *err)
{
    const char *path = url + strlen("sqlite:");
    if (strncmp(path, "//", 2) == 0)
        path += 2;
    if (!*path)
        return ck_fail(err, CK_EINVALID, "BAD_DB_URL", "db", "sqlite URL names no file");
    sq_db *d = calloc(1, sizeof(*d));
    if (!d)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    d->base.drv = &ck_sqlite_driver;
    int rc = sqlite3_open_v2(path, &d->h,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "cannot open %s: %s", path,
                d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc));
        sqlite3_close(d->h);
        free(d);
        return CK_EINTERNAL;
    }
    sqlite3_extended_result_codes(d->h, 1);
    sqlite3_busy_timeout(d->h, opts && opts->busy_timeout_ms ? opts->busy_timeout_ms : 10000);
    const char *sync = (!opts || opts->synchronous_full) ? "PRAGMA synchronous=FULL;"
                                                         : "PRAGMA synchronous=NORMAL;";
    if (sq_exec_script(&d->base, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", err) < 0 ||
        sq_exec_script(&d->base, sync, err) < 0) {
        sqlite3_close(d->h);
        free(d);
        return err ? err->code : CK_EINTERNAL;
    }
    *out = &d->base;
    return 0;
}

static void free_stmt(struct ck_stmt *st)
{
    sq_stmt *s = (sq_stmt *)st;
    sqlite3_finalize(s->st);
    free(s->base.sql);
    free(s);
}

static void sq_close(ck_db *db)
{
    sq_db *d = (sq_db *)db;
    ck_stmt_cache_free(&d->cache, free_stmt);
    sqlite3_close(d->h);
    free(d);
}

static int sq_begin(ck_db *db, int write, ck_error *err)
{
    return sq_exec_script(db, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

static int sq_commit(ck_db *db, ck_error *err)
{
    int rc = sq_exec_script(db, "COMMIT", err);
    if (rc < 0)
        sq_exec_script(db, "ROLLBACK", NULL);
    return rc;
}

static void sq_rollback(ck_db *db)
{
    sq_exec_script(db, "ROLLBACK", NULL);
}

static int sq_prepare(ck_db *db, const char *sql, ck_stmt **out, ck_error *err)
{
    sq_db *d = (sq_db *)db;
    uint64_t h = ck_sql_hash(sql);
    sq_stmt *s = (sq_stmt *)ck_stmt_cache_find(&d->cache, sql, h);
    if (s) {
        sqlite3_reset(s->st);
        sqlite3_clear_bindings(s->st);
        s->changes = 0;
        *out = &s->base;
        return 0;
    }
    if (!(s = calloc(1, sizeof(*s))))
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    s->base.db = db;
    s->base.hash = h;
    s->base.sql = strdup(sql);
    int rc = s->base.sql ? sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL)
                         : SQLITE_NOMEM;
    if (rc != SQLITE_OK || ck_stmt_cache_put(&d->cache, &s->base) != 0) {
        int code = sq_error(d, err, rc);
        free_stmt(&s->base);
        return code;
    }
    *out = &s->base;
    return 0;
}

static int sq_bind_int(ck_stmt *st, int idx, int64_t v)
{
    return sqlite3_bind_int64(((sq_stmt *)st)->st, idx, v) == SQLITE_OK ? 0 : -1;
}

static int sq_bind_text(ck_stmt *st, int idx, const char *v)
{
    sqlite3_stmt *s = ((sq_stmt *)st)->st;
    int rc = v ? sqlite3_bind_text(s, idx, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, idx);
    return rc == SQLITE_OK ? 0 : -1;
}

static int sq_step(ck_stmt *st, ck_error *err)
{
    sq_stmt *s = (sq_stmt *)st;
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE) {
        s->changes = sqlite3_changes64(sqlite3_db_handle(s->st));
        return 0;
    }
    int code = sq_error((sq_db *)st->db, err, rc);
    sqlite3_reset(s->st);
    return code;
}

static int64_t sq_col_int(ck_stmt *st, int col)
{
    return sqlite3_column_int64(((sq_stmt *)st)->st, col);
}

static const char *sq_col_text(ck_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(((sq_stmt *)st)->st, col);
}

static int sq_col_null(ck_stmt *st, int col)
{
    return sqlite3_column_type(((sq_stmt *)st)->st, col) == SQLITE_NULL;
}

static int64_t sq_changes(ck_stmt *st)
{
    return ((sq_stmt *)st)->changes;
}

static void sq_finish(ck_stmt *st)
{
    sqlite3_reset(((sq_stmt *)st)->st);
}

const ck_db_driver ck_sqlite_driver = {
    .version = CK_DB_DRIVER_VERSION,
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec_script = sq_exec_script,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .prepare = sq_prepare,
    .bind_int = sq_bind_int,
    .bind_text = sq_bind_text,
    .step = sq_step,
    .col_int = sq_col_int,
    .col_text = sq_col_text,
    .col_null = sq_col_null,
    .changes = sq_changes,
    .finish = sq_finish,
};
