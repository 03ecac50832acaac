/* checkout/sys/db_backend.h: what a storage backend implements, for the
 * backends in src/store/ and for tests of them; everyone else uses
 * checkout/db.h. As libgit2's include/git2/sys/: a versioned struct of
 * function pointers over one connection, and the fields every backend's
 * connection and statement begin with. */
#ifndef CHECKOUT_SYS_DB_BACKEND_H
#define CHECKOUT_SYS_DB_BACKEND_H

#include <stdint.h>

#include "checkout/db.h"

#define CK_DB_DRIVER_VERSION 2

struct ck_db_driver {
    int version; /* CK_DB_DRIVER_VERSION */
    const char *name;
    /* Opens a connection to url (after the scheme prefix is recognised). */
    int (*open)(ck_db **out, const char *url, const ck_db_options *opts, ck_error *err);
    void (*close)(ck_db *db);
    /* Runs one or more statements without parameters (migrations). */
    int (*exec_script)(ck_db *db, const char *sql, ck_error *err);
    /* write=1 takes the write lock at once (SQLite BEGIN IMMEDIATE). */
    int (*begin)(ck_db *db, int write, ck_error *err);
    int (*commit)(ck_db *db, ck_error *err);
    void (*rollback)(ck_db *db);
    /* ck_db_durable; NULL when every COMMIT is durable when it returns. */
    int (*durable)(ck_db *db, ck_error *err);
    /* Returns the connection's cached statement for sql, reset and unbound. */
    int (*prepare)(ck_db *db, const char *sql, ck_stmt **out, ck_error *err);
    int (*bind_int)(ck_stmt *st, int idx, int64_t v);
    int (*bind_text)(ck_stmt *st, int idx, const char *v); /* NULL binds SQL NULL */
    /* 1: a row is ready; 0: done; <0: error (CK_EDUP on a unique violation). */
    int (*step)(ck_stmt *st, ck_error *err);
    int64_t (*col_int)(ck_stmt *st, int col);
    const char *(*col_text)(ck_stmt *st, int col); /* NULL for SQL NULL; valid until next step */
    int (*col_null)(ck_stmt *st, int col);
    int64_t (*changes)(ck_stmt *st); /* rows changed by the last completed statement */
    void (*finish)(ck_stmt *st);     /* releases the statement's row cursor */
};

struct ck_db {
    const ck_db_driver *drv;
    int in_tx;
};

struct ck_stmt {
    ck_db *db;
    char *sql;     /* the portable SQL text it was prepared from (owned) */
    uint64_t hash; /* of sql */
};

#endif
