/* db.c: the storage interface's generic half: driver choice, transactions and
 * the typed query helpers every repository function uses. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checkout/db.h"
#include "store/db_internal.h"

/* What ck_db_counts reports: BEGIN, COMMIT and ROLLBACK are statements too. */
static atomic_llong n_transactions, n_statements;

void ck_db_counts(int64_t *transactions, int64_t *statements)
{
    *transactions = atomic_load(&n_transactions);
    *statements = atomic_load(&n_statements);
}

const ck_db_driver *ck_db_driver_for(const char *url)
{
    if (!url)
        return NULL;
    if (strncmp(url, "sqlite:", 7) == 0)
        return &ck_sqlite_driver;
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
        return &ck_pg_driver;
    return NULL;
}

int ck_db_open(ck_db **out, const char *url, const ck_db_options *opts, ck_error *err)
{
    *out = NULL;
    const ck_db_driver *drv = ck_db_driver_for(url);
    if (!drv)
        return ck_fail(err, CK_EINVALID, "BAD_DB_URL", "db",
                       "unsupported database URL '%s' (use sqlite:PATH or postgresql://USER@HOST/DB)", url ? url : "");
    if (drv->version != CK_DB_DRIVER_VERSION)
        return ck_fail(err, CK_EINTERNAL, "DRIVER_VERSION", "db", "storage driver %s has interface version %d, not %d",
                       drv->name, drv->version, CK_DB_DRIVER_VERSION);
    return drv->open(out, url, opts, err);
}

void ck_db_close(ck_db *db)
{
    if (db)
        db->drv->close(db);
}

const ck_db_driver *ck_db_driver_of(const ck_db *db)
{
    return db->drv;
}

const char *ck_db_driver_name(const ck_db_driver *drv)
{
    return drv->name;
}

int ck_db_begin(ck_db *db, int write, ck_error *err)
{
    int rc = db->drv->begin(db, write, err);
    atomic_fetch_add(&n_statements, 1);
    if (rc == 0) {
        db->in_tx = 1;
        atomic_fetch_add(&n_transactions, 1);
    }
    return rc;
}

int ck_db_durable(ck_db *db, ck_error *err)
{
    return db->drv->durable ? db->drv->durable(db, err) : 0;
}

int ck_db_tx(ck_db *db, int write, ck_db_tx_fn fn, void *arg, ck_error *err)
{
    if (db->in_tx)
        return fn(db, arg, err); /* the caller's transaction: one commit for both */
    int rc = CK_EBUSY;
    for (int attempt = 0; attempt < CK_DB_TX_ATTEMPTS; attempt++) {
        if (attempt > 0)
            usleep((useconds_t)(1000 << attempt)); /* 2, 4 ms: a concurrent writer commits meanwhile */
        rc = ck_db_begin(db, write, err);
        if (rc == 0) {
            rc = fn(db, arg, err);
            if (rc >= 0) {
                int crc = ck_db_commit(db, err);
                if (crc < 0)
                    rc = crc;
            } else {
                ck_db_rollback(db);
            }
        }
        if (rc != CK_EBUSY)
            break;
    }
    return rc;
}

int ck_db_commit(ck_db *db, ck_error *err)
{
    /* A failed COMMIT is rolled back by the driver: either way no transaction is open after. */
    int rc = db->drv->commit(db, err);
    atomic_fetch_add(&n_statements, 1);
    db->in_tx = 0;
    return rc;
}

void ck_db_rollback(ck_db *db)
{
    if (db && db->in_tx) {
        db->drv->rollback(db);
        atomic_fetch_add(&n_statements, 1);
        db->in_tx = 0;
    }
}

int ck_db_in_tx(const ck_db *db)
{
    return db->in_tx;
}

int ck_db_vquery(ck_db *db, ck_stmt **out, ck_error *err, const char *sql, const char *types, va_list ap)
{
    /* The parameter list must match the placeholders: a mismatch is a bug
     * that would bind the wrong values, so it fails loudly. */
    size_t marks = 0, ntypes = types ? strlen(types) : 0;
    for (const char *p = sql; *p; p++)
        marks += *p == '?';
    if (marks != ntypes)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL,
                       "statement has %zu placeholders but %zu parameter types: %.80s", marks, ntypes, sql);
    ck_stmt *st = NULL;
    int rc = db->drv->prepare(db, sql, &st, err);
    if (rc < 0)
        return rc;
    atomic_fetch_add(&n_statements, 1);
    if (!db->in_tx)
        atomic_fetch_add(&n_transactions, 1);
    for (int i = 0; types && types[i]; i++) {
        switch (types[i]) {
        case 'i': rc = db->drv->bind_int(st, i + 1, va_arg(ap, int64_t)); break;
        case 'b': rc = db->drv->bind_int(st, i + 1, va_arg(ap, int) ? 1 : 0); break;
        case 't': rc = db->drv->bind_text(st, i + 1, va_arg(ap, const char *)); break;
        default: rc = -1;
        }
        if (rc != 0) {
            db->drv->finish(st);
            return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL,
                           "binding parameter %d of a statement failed", i + 1);
        }
    }
    *out = st;
    return 0;
}

int ck_db_query(ck_db *db, ck_stmt **out, ck_error *err, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = ck_db_vquery(db, out, err, sql, types, ap);
    va_end(ap);
    return rc;
}

/* ck_db_exec with its parameters in ap. */
static int vexec(ck_db *db, int64_t *changes, ck_error *err, const char *sql, const char *types, va_list ap)
{
    ck_stmt *st = NULL;
    int rc = ck_db_vquery(db, &st, err, sql, types, ap);
    if (rc < 0)
        return rc;
    while ((rc = db->drv->step(st, err)) == 1)
        ;
    if (rc == 0 && changes)
        *changes = db->drv->changes(st);
    db->drv->finish(st);
    return rc < 0 ? rc : 0;
}

/* ck_db_one with its parameters in ap. */
static int vone(ck_db *db, ck_stmt **out, ck_error *err, const char *sql, const char *types, va_list ap)
{
    ck_stmt *st = NULL;
    *out = NULL;
    int rc = ck_db_vquery(db, &st, err, sql, types, ap);
    if (rc < 0)
        return rc;
    rc = db->drv->step(st, err);
    if (rc <= 0) {
        db->drv->finish(st);
        /* No row is not an error, but a caller that must have one can pass
         * err on as it is: it says what was missing, never stale text. */
        if (rc == 0)
            ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", NULL, "no row for: %.200s", sql);
        return rc;
    }
    *out = st;
    return 1;
}

int ck_db_exec(ck_db *db, int64_t *changes, ck_error *err, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = vexec(db, changes, err, sql, types, ap);
    va_end(ap);
    return rc;
}

int ck_db_changed(ck_db *db, ck_error *err, const char *sql, const char *types, ...)
{
    int64_t changed = 0;
    va_list ap;
    va_start(ap, types);
    int rc = vexec(db, &changed, err, sql, types, ap);
    va_end(ap);
    return rc < 0 ? rc : (int)changed;
}

int ck_db_one(ck_db *db, ck_stmt **out, ck_error *err, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = vone(db, out, err, sql, types, ap);
    va_end(ap);
    return rc;
}

int ck_db_exists(ck_db *db, ck_error *err, const char *sql, const char *types, ...)
{
    ck_stmt *st = NULL;
    va_list ap;
    va_start(ap, types);
    int rc = vone(db, &st, err, sql, types, ap);
    va_end(ap);
    ck_db_done(st);
    return rc;
}

int ck_db_next(ck_stmt *st, ck_error *err)
{
    return st->db->drv->step(st, err);
}

void ck_db_done(ck_stmt *st)
{
    if (st)
        st->db->drv->finish(st);
}

int64_t ck_col_int(ck_stmt *st, int col)
{
    return st->db->drv->col_int(st, col);
}

const char *ck_col_text(ck_stmt *st, int col)
{
    const char *s = st->db->drv->col_text(st, col);
    return s ? s : "";
}

const char *ck_col_text_or_null(ck_stmt *st, int col)
{
    return st->db->drv->col_text(st, col);
}

int ck_col_null(ck_stmt *st, int col)
{
    return st->db->drv->col_null(st, col);
}

int ck_col_copy(ck_stmt *st, int col, char *dst, size_t n)
{
    int len = snprintf(dst, n, "%s", ck_col_text(st, col));
    return len >= 0 && (size_t)len < n;
}
