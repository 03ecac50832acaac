/* checkout/db.h: the storage interface. A backend is a versioned struct of
 * function pointers over one connection; SQL is portable (`?` placeholders,
 * BIGINT/TEXT columns, ON CONFLICT, RETURNING) so the repository code above it
 * runs unchanged on SQLite and PostgreSQL. */
#ifndef CHECKOUT_DB_H
#define CHECKOUT_DB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "checkout/error.h"

typedef struct ck_db ck_db;     /* one connection, used by one thread at a time */
typedef struct ck_stmt ck_stmt; /* a prepared statement, cached by its connection */

typedef struct ck_faults ck_faults;

typedef struct ck_db_options {
    int busy_timeout_ms;
    /* SQLite: 1 (default) = every commit is on disk before anyone can learn
     * of it (group commit: ck_db_durable), 0 = synchronous=NORMAL, whose last
     * commits a power loss may undo. */
    int synchronous_full;
    ck_faults *faults; /* crash.sync (NULL: none) */
} ck_db_options;

/* A storage backend (SQLite, PostgreSQL): a versioned struct of function
 * pointers, defined for backends in checkout/sys/db_backend.h. */
typedef struct ck_db_driver ck_db_driver;

/* The driver for a URL ("sqlite:path", "postgresql://..."), or NULL. */
const ck_db_driver *ck_db_driver_for(const char *url);
extern const ck_db_driver ck_sqlite_driver;
extern const ck_db_driver ck_pg_driver;

/* Opens a connection to url; *out belongs to the caller (ck_db_close). */
int ck_db_open(ck_db **out, const char *url, const ck_db_options *opts, ck_error *err);
void ck_db_close(ck_db *db);
const ck_db_driver *ck_db_driver_of(const ck_db *db);
/* The backend's name ("sqlite", "postgresql"), static. */
const char *ck_db_driver_name(const ck_db_driver *drv);

int ck_db_begin(ck_db *db, int write, ck_error *err);
/* Waits until every commit this process has made on db's database is on
 * disk. Call it before anything outside the process may learn of a commit:
 * an HTTP answer, a gateway call, a webhook. Commits return before their
 * fsync (SQLite); the first caller to find commits not yet synced syncs them
 * all in one fsync while the others wait for it: group commit. PostgreSQL's
 * COMMIT is durable already: a no-op. 0 or <0. */
int ck_db_durable(ck_db *db, ck_error *err);
/* Statements sent and transactions run (an autocommit statement is one) by
 * this process since it started, over every connection: for /metrics. */
void ck_db_counts(int64_t *transactions, int64_t *statements);
int ck_db_commit(ck_db *db, ck_error *err);
void ck_db_rollback(ck_db *db);
int ck_db_in_tx(const ck_db *db);

/* The one way a domain operation owns its transaction: begins (write=1 takes
 * the write lock at once), runs fn, commits when fn returns >= 0 (its value
 * is returned) and rolls back when it returns < 0. A busy or serialization
 * failure (CK_EBUSY) of the begin, of fn or of the commit runs the whole
 * transaction again, up to CK_DB_TX_ATTEMPTS times in all, so fn must only
 * write through db. Inside a transaction already open on db, fn simply runs
 * in it (the caller commits). */
#define CK_DB_TX_ATTEMPTS 3
typedef int (*ck_db_tx_fn)(ck_db *db, void *arg, ck_error *err);
int ck_db_tx(ck_db *db, int write, ck_db_tx_fn fn, void *arg, ck_error *err);

/* Prepares sql and binds its parameters from `types`, one character each:
 *   'i' int64_t, 't' const char * (NULL binds NULL), 'b' int as 0/1.
 * On success *out is positioned before the first row; call ck_db_next. */
int ck_db_query(ck_db *db, ck_stmt **out, ck_error *err, const char *sql, const char *types, ...);
/* ck_db_query with its parameters in ap (for the store's own variadic helpers). */
int ck_db_vquery(ck_db *db, ck_stmt **out, ck_error *err, const char *sql, const char *types, va_list ap);

/* Runs a statement that returns no rows; *changes (may be NULL) gets the rows changed. */
int ck_db_exec(ck_db *db, int64_t *changes, ck_error *err, const char *sql, const char *types, ...);

/* Runs a statement expected to return at most one row and leaves it for reading
 * with ck_col_*: returns 1 (row), 0 (none) or <0. Call ck_db_done after reading.
 * On 0, err (when not NULL) is filled too (CK_ENOTFOUND, naming the query), so
 * a caller for which no row is a failure can pass it on as it is. */
int ck_db_one(ck_db *db, ck_stmt **out, ck_error *err, const char *sql, const char *types, ...);

/* ck_db_exec for a statement whose count of changed rows is its answer (a
 * conditional UPDATE that can lose a race): that count, or <0. */
int ck_db_changed(ck_db *db, ck_error *err, const char *sql, const char *types, ...);

/* ck_db_one for whether a row exists, none of it read: 1, 0 (err filled as
 * ck_db_one fills it) or <0. */
int ck_db_exists(ck_db *db, ck_error *err, const char *sql, const char *types, ...);

int ck_db_next(ck_stmt *st, ck_error *err); /* 1 row, 0 done, <0 error */
void ck_db_done(ck_stmt *st);                /* NULL-tolerant */

int64_t ck_col_int(ck_stmt *st, int col);
const char *ck_col_text(ck_stmt *st, int col); /* "" for NULL */
const char *ck_col_text_or_null(ck_stmt *st, int col);
int ck_col_null(ck_stmt *st, int col);
/* Copies the column's text ("" for NULL) into dst of size n, cut to fit:
 * 1 when it fit whole, 0 when it was cut. */
int ck_col_copy(ck_stmt *st, int col, char *dst, size_t n);

#endif
