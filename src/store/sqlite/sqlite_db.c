/* sqlite_db.c: the SQLite backend of the storage interface. WAL, foreign keys,
 * BEGIN IMMEDIATE for writes, prepared statements cached per connection by
 * their SQL text, and, per database file, what this process's connections to
 * it share:
 * - the writers' turn: a mutex taken before BEGIN IMMEDIATE (and around an
 *   autocommit write), so this process's writers wait in line on a futex
 *   instead of in SQLite's busy handler, which sleeps 1 to 100 ms between
 *   tries; the busy timeout stays for writers of other processes;
 * - group commit: with synchronous_full, SQLite runs at synchronous=NORMAL,
 *   so COMMIT appends the transaction to the WAL without an fsync, and
 *   ck_db_durable syncs the WAL before anyone outside may learn of a commit.
 *   A wal hook counts commits (it runs once the frames are written); the
 *   first caller that finds commits not yet synced fsyncs the WAL once for
 *   all of them, and callers that arrive meanwhile find theirs covered.
 *   The WAL is one file written in order, so a sync covers every commit
 *   counted before it. SQLite syncs the WAL itself before a checkpoint
 *   copies it into the database, and the WAL's header when it is reused,
 *   as synchronous=NORMAL does; with ck_db_durable before every answer this
 *   is synchronous=FULL's promise at a fraction of its fsyncs. A failed
 *   fsync ends the process (after one, Linux may have dropped the pages:
 *   nothing can say what is on disk; a restart reads the WAL that is). */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/faults.h"
#include "core/log.h"
#include "core/util.h"
#include "store/db_internal.h"

/* Frames in the WAL past which a commit checkpoints it (SQLite's default). */
#define CHECKPOINT_FRAMES 1000

typedef struct sq_file {
    struct sq_file *next;
    char *path; /* sqlite3_db_filename: absolute */
    int refs;
    int group; /* group commit (synchronous_full) */
    pthread_mutex_t write_mu;
    pthread_mutex_t sync_mu;
    atomic_ullong committed, durable; /* commits counted by the wal hook; of them, synced */
    sqlite3 *syncer;                  /* a connection kept for its WAL file handle */
    sqlite3_file *wal;
    ck_faults *faults;
} sq_file;

static pthread_mutex_t files_mu = PTHREAD_MUTEX_INITIALIZER;
static sq_file *files;

typedef struct sq_stmt {
    struct ck_stmt base;
    sqlite3_stmt *st;
    int64_t changes;
    int holds_turn; /* an autocommit write holding the writers' turn */
} sq_stmt;

typedef struct sq_db {
    struct ck_db base;
    sqlite3 *h;
    ck_stmt_cache cache;
    sq_file *file;
    int busy_timeout_ms;
    int turns;      /* this connection holds the writers' turn while > 0 */
    int holds_turn; /* a write transaction holding one of them */
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

/* Counts a commit once its frames are in the WAL, and checkpoints as
 * SQLite's own hook (which this one replaces) would. */
static int wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
    sq_file *f = arg;
    atomic_fetch_add(&f->committed, 1);
    if (frames >= CHECKPOINT_FRAMES)
        sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static void file_free(sq_file *f)
{
    if (f->syncer)
        sqlite3_close(f->syncer);
    pthread_mutex_destroy(&f->write_mu);
    pthread_mutex_destroy(&f->sync_mu);
    free(f->path);
    free(f);
}

/* A connection that holds the WAL open for ck_db_durable: a read opens it. */
static int open_syncer(sq_file *f, ck_error *err)
{
    int rc = sqlite3_open_v2(f->path, &f->syncer, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(f->syncer, 10000);
        rc = sqlite3_exec(f->syncer, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_file_control(f->syncer, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f->wal);
    if (rc != SQLITE_OK || !f->wal || !f->wal->pMethods)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "cannot open the WAL of %s for group commit: %s",
                       f->path, f->syncer ? sqlite3_errmsg(f->syncer) : sqlite3_errstr(rc));
    return 0;
}

/* The shared state of d's file (made by its first connection), or NULL. */
static sq_file *file_attach(sq_db *d, const ck_db_options *opts, ck_error *err)
{
    const char *path = sqlite3_db_filename(d->h, "main");
    if (!path || !*path) {
        ck_fail(err, CK_EINVALID, "BAD_DB_URL", "db", "sqlite URL names no file");
        return NULL;
    }
    int group = !opts || opts->synchronous_full;
    pthread_mutex_lock(&files_mu);
    sq_file *f = files;
    while (f && strcmp(f->path, path) != 0)
        f = f->next;
    if (f && f->group != group) {
        pthread_mutex_unlock(&files_mu);
        ck_fail(err, CK_EINVALID, "BAD_DB_URL", "db", "%s is open already with another synchronous setting", path);
        return NULL;
    }
    if (!f) {
        f = calloc(1, sizeof(*f));
        if (!f || !(f->path = strdup(path))) {
            free(f);
            pthread_mutex_unlock(&files_mu);
            ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
            return NULL;
        }
        f->group = group;
        f->faults = opts ? opts->faults : NULL;
        pthread_mutex_init(&f->write_mu, NULL);
        pthread_mutex_init(&f->sync_mu, NULL);
        if (group && open_syncer(f, err) < 0) {
            file_free(f);
            pthread_mutex_unlock(&files_mu);
            return NULL;
        }
        f->next = files;
        files = f;
    }
    f->refs++;
    pthread_mutex_unlock(&files_mu);
    return f;
}

static void file_detach(sq_file *f)
{
    pthread_mutex_lock(&files_mu);
    if (--f->refs == 0) {
        sq_file **pp = &files;
        while (*pp != f)
            pp = &(*pp)->next;
        *pp = f->next;
        file_free(f);
    }
    pthread_mutex_unlock(&files_mu);
}

/* Takes the writers' turn, waiting at most the busy timeout; a connection
 * that holds it already (a write inside its own autocommit write's row
 * loop) counts one more. 0 or CK_EBUSY. */
static int turn_take(sq_db *d, ck_error *err)
{
    if (d->turns > 0) {
        d->turns++;
        return 0;
    }
    struct timespec ts;
    ck_timespec_in(&ts, CLOCK_REALTIME, d->busy_timeout_ms);
    if (pthread_mutex_timedlock(&d->file->write_mu, &ts) != 0)
        return ck_fail(err, CK_EBUSY, "INTERNAL_ERROR", NULL, "database busy: another writer held it %d ms",
                       d->busy_timeout_ms);
    d->turns = 1;
    return 0;
}

static void turn_give(sq_db *d)
{
    if (--d->turns == 0)
        pthread_mutex_unlock(&d->file->write_mu);
}

static int sq_durable(ck_db *db, ck_error *err)
{
    (void)err;
    sq_file *f = ((sq_db *)db)->file;
    if (!f->group)
        return 0;
    unsigned long long want = atomic_load(&f->committed);
    if (atomic_load(&f->durable) >= want)
        return 0;
    pthread_mutex_lock(&f->sync_mu);
    if (atomic_load(&f->durable) < want) {
        unsigned long long upto = atomic_load(&f->committed); /* every commit counted so far rides along */
        if (ck_fault(f->faults, "crash.sync"))
            ck_fault_crash();
        int rc = f->wal->pMethods->xSync(f->wal, SQLITE_SYNC_NORMAL);
        if (rc != SQLITE_OK) {
            ck_log(CK_LOG_ERROR, "fsync of the WAL failed: stopping, so that no answer claims what the disk may not hold",
                   "db", f->path, "error", sqlite3_errstr(rc), NULL);
            abort();
        }
        atomic_store(&f->durable, upto);
    }
    pthread_mutex_unlock(&f->sync_mu);
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
    d->busy_timeout_ms = opts && opts->busy_timeout_ms ? opts->busy_timeout_ms : 10000;
    sqlite3_busy_timeout(d->h, d->busy_timeout_ms);
    /* Both settings sync nothing at COMMIT: group commit syncs (ck_db_durable). */
    if (sq_exec_script(&d->base, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;",
                       err) < 0 ||
        !(d->file = file_attach(d, opts, err))) {
        sqlite3_close(d->h);
        free(d);
        return err ? err->code : CK_EINTERNAL;
    }
    sqlite3_wal_hook(d->h, wal_hook, d->file);
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
    if (d->holds_turn)
        sq_exec_script(db, "ROLLBACK", NULL);
    if (d->turns > 0)
        pthread_mutex_unlock(&d->file->write_mu);
    sq_durable(db, NULL); /* a tool that commits and exits: its commits are on disk when it says done */
    ck_stmt_cache_free(&d->cache, free_stmt);
    sqlite3_close(d->h);
    file_detach(d->file);
    free(d);
}

static int sq_prepare(ck_db *db, const char *sql, ck_stmt **out, ck_error *err);

/* BEGIN, COMMIT and ROLLBACK through the statement cache: sqlite3_exec
 * parsed them again on every transaction. */
static int control(ck_db *db, const char *sql, ck_error *err)
{
    sq_db *d = (sq_db *)db;
    ck_stmt *st = NULL;
    int rc = sq_prepare(db, sql, &st, err);
    if (rc < 0)
        return rc;
    rc = sqlite3_step(((sq_stmt *)st)->st);
    int code = rc == SQLITE_DONE ? 0 : sq_error(d, err, rc);
    sqlite3_reset(((sq_stmt *)st)->st);
    return code;
}

static int sq_begin(ck_db *db, int write, ck_error *err)
{
    sq_db *d = (sq_db *)db;
    if (!write)
        return control(db, "BEGIN", err);
    int rc = turn_take(d, err);
    if (rc < 0)
        return rc;
    if ((rc = control(db, "BEGIN IMMEDIATE", err)) < 0)
        turn_give(d);
    else
        d->holds_turn = 1;
    return rc;
}

/* The end of a transaction gives back the writers' turn it held. */
static void end_turn(sq_db *d)
{
    if (d->holds_turn) {
        d->holds_turn = 0;
        turn_give(d);
    }
}

static int sq_commit(ck_db *db, ck_error *err)
{
    int rc = control(db, "COMMIT", err);
    if (rc < 0 && !sqlite3_get_autocommit(((sq_db *)db)->h))
        control(db, "ROLLBACK", NULL);
    end_turn((sq_db *)db);
    return rc;
}

static void sq_rollback(ck_db *db)
{
    if (!sqlite3_get_autocommit(((sq_db *)db)->h))
        control(db, "ROLLBACK", NULL);
    end_turn((sq_db *)db);
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

/* An autocommit write gives back its turn when it completes or is reset. */
static void stmt_end_turn(sq_stmt *s)
{
    if (s->holds_turn) {
        s->holds_turn = 0;
        turn_give((sq_db *)s->base.db);
    }
}

static int sq_step(ck_stmt *st, ck_error *err)
{
    sq_stmt *s = (sq_stmt *)st;
    sq_db *d = (sq_db *)st->db;
    if (!s->holds_turn && !st->db->in_tx && !sqlite3_stmt_readonly(s->st) && !sqlite3_stmt_busy(s->st)) {
        int trc = turn_take(d, err);
        if (trc < 0)
            return trc;
        s->holds_turn = 1;
    }
    int rc = sqlite3_step(s->st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE) {
        s->changes = sqlite3_changes64(d->h);
        sqlite3_reset(s->st); /* an autocommit write commits at its end: no cursor left */
        stmt_end_turn(s);
        return 0;
    }
    int code = sq_error(d, err, rc);
    sqlite3_reset(s->st);
    stmt_end_turn(s);
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
    stmt_end_turn((sq_stmt *)st);
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
    .durable = sq_durable,
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
