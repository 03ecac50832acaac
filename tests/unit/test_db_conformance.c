/* test_db_conformance.c: the storage interface's conformance suite. Written
 * against checkout/db.h (plus ck_migrate) and the store repositories, so
 * every backend runs the same cases: by default a fresh SQLite file in a
 * temporary directory; set CK_TEST_DB_URL (e.g. postgresql://user@host/db)
 * to run them elsewhere. The driver cases use their own conf_* tables and
 * drop them afterwards; the repository cases (claims, leases, balances)
 * run on the migrated schema with rows of their own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "api/errors.h"
#include "checkout/db.h"
#include "checkout/sys/db_backend.h"
#include "core/util.h"
#include "payments/balances.h"
#include "store/flows.h"
#include "store/stores.h"
#include "store/deliveries.h"
#include "store/jobs.h"
#include "store/ledger.h"
#include "store/migrations.h"
#include "store/outbox.h"
#include "store/payments.h"

/* Only to measure the SQLite backend's memory in the statement-cache case. */
#if __has_include(<sqlite3.h>)
#include <sqlite3.h>
#define CK_CONFORMANCE_SQLITE_MEM 1
#endif

static char g_url[1100];
static char g_dir[256]; /* the temporary directory of the default SQLite file */
static char g_file[300];

typedef struct fixture {
    ck_db *db;
    ck_error err;
} fixture;

static const ck_db_options fast = {.busy_timeout_ms = 100, .synchronous_full = 0};

static ck_db *open_db(void)
{
    ck_db *db = NULL;
    ck_error err;
    ck_error_clear(&err);
    int rc = ck_db_open(&db, g_url, &fast, &err);
    if (rc != 0)
        fail_msg("cannot open %s: %d %s", g_url, rc, err.message);
    assert_non_null(db);
    return db;
}

static int is_sqlite(ck_db *db)
{
    return strcmp(ck_db_driver_of(db)->name, "sqlite") == 0;
}

static void exec_ok(ck_db *db, const char *sql)
{
    ck_error err;
    ck_error_clear(&err);
    int rc = ck_db_exec(db, NULL, &err, sql, "");
    if (rc != 0)
        fail_msg("'%s' failed: %d %s", sql, rc, err.message);
}

static void drop_tables(ck_db *db)
{
    exec_ok(db, "DROP TABLE IF EXISTS conf_child");
    exec_ok(db, "DROP TABLE IF EXISTS conf_parent");
    exec_ok(db, "DROP TABLE IF EXISTS conf_kv");
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->db = open_db();
    drop_tables(f->db);
    exec_ok(f->db, "CREATE TABLE conf_kv (k TEXT PRIMARY KEY, v BIGINT, s TEXT)");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ck_db_rollback(f->db);
    drop_tables(f->db);
    ck_db_close(f->db);
    free(f);
    return 0;
}

/* Rows of conf_kv with key k, read on db. */
static int64_t count_key(ck_db *db, const char *k)
{
    ck_error err;
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(db, &st, &err, "SELECT COUNT(*) FROM conf_kv WHERE k = ?", "t", k), 1);
    int64_t n = ck_col_int(st, 0);
    ck_db_done(st);
    return n;
}

static int64_t count_all(ck_db *db)
{
    ck_error err;
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(db, &st, &err, "SELECT COUNT(*) FROM conf_kv", ""), 1);
    int64_t n = ck_col_int(st, 0);
    ck_db_done(st);
    return n;
}

static void put(ck_db *db, const char *k, int64_t v, const char *s)
{
    ck_error err;
    ck_error_clear(&err);
    int64_t changes = -1;
    int rc = ck_db_exec(db, &changes, &err, "INSERT INTO conf_kv (k, v, s) VALUES (?, ?, ?)", "tit", k, v, s);
    if (rc != 0)
        fail_msg("insert %s failed: %d %s", k, rc, err.message);
    assert_int_equal(changes, 1);
}

static void migrate_idempotent(void **state)
{
    fixture *f = *state;
    ck_error err;
    ck_error_clear(&err);
    assert_int_equal(ck_migrate(f->db, &err), 0);
    assert_int_equal(ck_migrate(f->db, &err), 0);
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(f->db, &st, &err, "SELECT COUNT(*), MIN(version), MAX(version) FROM schema_migrations", ""), 1);
    assert_int_equal(ck_col_int(st, 0), ck_migration_count);
    assert_int_equal(ck_col_int(st, 1), ck_migrations[0].version);
    assert_int_equal(ck_col_int(st, 2), ck_migrations[ck_migration_count - 1].version);
    ck_db_done(st);
    assert_false(ck_db_in_tx(f->db));

    /* A second connection sees the schema as current and changes nothing. */
    ck_db *other = open_db();
    assert_int_equal(ck_migrate(other, &err), 0);
    assert_int_equal(ck_db_one(other, &st, &err, "SELECT COUNT(*) FROM schema_migrations", ""), 1);
    assert_int_equal(ck_col_int(st, 0), ck_migration_count);
    ck_db_done(st);
    /* The first migration's tables exist. */
    assert_int_equal(ck_db_one(other, &st, &err, "SELECT COUNT(*) FROM stores", ""), 1);
    assert_int_equal(ck_col_int(st, 0), 0);
    ck_db_done(st);
    ck_db_close(other);
}

static void commit_persists(void **state)
{
    fixture *f = *state;
    assert_false(ck_db_in_tx(f->db));
    assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
    assert_true(ck_db_in_tx(f->db));
    put(f->db, "a", 1, "one");
    put(f->db, "b", 2, "two");
    assert_int_equal(count_all(f->db), 2); /* visible inside the transaction */
    assert_int_equal(ck_db_commit(f->db, &f->err), 0);
    assert_false(ck_db_in_tx(f->db));

    ck_db *other = open_db();
    assert_int_equal(count_all(other), 2);
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(other, &st, &f->err, "SELECT v, s FROM conf_kv WHERE k = ?", "t", "b"), 1);
    assert_int_equal(ck_col_int(st, 0), 2);
    assert_string_equal(ck_col_text(st, 1), "two");
    ck_db_done(st);
    ck_db_close(other);

    /* Reopening the database finds the rows (they reached storage). */
    ck_db_close(f->db);
    f->db = open_db();
    assert_int_equal(count_all(f->db), 2);
}

static void rollback_discards(void **state)
{
    fixture *f = *state;
    put(f->db, "keep", 1, NULL);
    assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
    put(f->db, "gone", 2, NULL);
    int64_t ch = -1;
    assert_int_equal(ck_db_exec(f->db, &ch, &f->err, "UPDATE conf_kv SET v = 100 WHERE k = ?", "t", "keep"), 0);
    assert_int_equal(ch, 1);
    ck_db *other = open_db();
    assert_int_equal(count_key(other, "gone"), 0); /* uncommitted work is invisible to others */
    ck_db_rollback(f->db);
    assert_false(ck_db_in_tx(f->db));
    assert_int_equal(count_key(f->db, "gone"), 0);
    assert_int_equal(count_key(other, "gone"), 0);
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT v FROM conf_kv WHERE k = ?", "t", "keep"), 1);
    assert_int_equal(ck_col_int(st, 0), 1);
    ck_db_done(st);
    ck_db_close(other);
    /* Rolling back with no transaction open is harmless. */
    ck_db_rollback(f->db);
    ck_db_rollback(NULL);
    assert_int_equal(count_all(f->db), 1);
}

static void exec_changes(void **state)
{
    fixture *f = *state;
    put(f->db, "a", 1, "x");
    put(f->db, "b", 5, "x");
    put(f->db, "c", 10, "y");
    int64_t ch = -1;
    assert_int_equal(ck_db_exec(f->db, &ch, &f->err, "UPDATE conf_kv SET v = v + 1 WHERE v >= ?", "i", (int64_t)5), 0);
    assert_int_equal(ch, 2);
    ch = -1;
    assert_int_equal(ck_db_exec(f->db, &ch, &f->err, "UPDATE conf_kv SET v = v + 1 WHERE v >= ?", "i", (int64_t)1000), 0);
    assert_int_equal(ch, 0);
    ch = -1;
    assert_int_equal(ck_db_exec(f->db, &ch, &f->err, "UPDATE conf_kv SET s = ? WHERE s = ?", "tt", "z", "x"), 0);
    assert_int_equal(ch, 2);
    /* A conditional update, as leases and credit checks use it. */
    ch = -1;
    assert_int_equal(ck_db_exec(f->db, &ch, &f->err, "UPDATE conf_kv SET v = v - ? WHERE k = ? AND v >= ?", "iti",
                                (int64_t)11, "c", (int64_t)11),
                     0);
    assert_int_equal(ch, 1);
    ch = -1;
    assert_int_equal(ck_db_exec(f->db, &ch, &f->err, "UPDATE conf_kv SET v = v - ? WHERE k = ? AND v >= ?", "iti",
                                (int64_t)11, "c", (int64_t)11),
                     0);
    assert_int_equal(ch, 0);
    ch = -1;
    assert_int_equal(ck_db_exec(f->db, &ch, &f->err, "DELETE FROM conf_kv WHERE s = ?", "t", "z"), 0);
    assert_int_equal(ch, 2);
    /* changes may be NULL. */
    assert_int_equal(ck_db_exec(f->db, NULL, &f->err, "DELETE FROM conf_kv", ""), 0);
    assert_int_equal(count_all(f->db), 0);
}

static void unique_violation(void **state)
{
    fixture *f = *state;
    put(f->db, "a", 1, NULL);
    ck_error_clear(&f->err);
    int rc = ck_db_exec(f->db, NULL, &f->err, "INSERT INTO conf_kv (k, v) VALUES (?, ?)", "ti", "a", (int64_t)2);
    assert_int_equal(rc, CK_EDUP);
    assert_int_equal(f->err.code, CK_EDUP);
    /* The connection is still usable and the first row unchanged. */
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT v FROM conf_kv WHERE k = ?", "t", "a"), 1);
    assert_int_equal(ck_col_int(st, 0), 1);
    ck_db_done(st);

    /* Inside a transaction: the caller rolls back and carries on. */
    assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
    put(f->db, "b", 2, NULL);
    ck_error_clear(&f->err);
    assert_int_equal(ck_db_exec(f->db, NULL, &f->err, "INSERT INTO conf_kv (k, v) VALUES (?, ?)", "ti", "b", (int64_t)3),
                     CK_EDUP);
    ck_db_rollback(f->db);
    assert_int_equal(count_key(f->db, "b"), 0);
    put(f->db, "b", 4, NULL);
    assert_int_equal(count_all(f->db), 2);

    /* ON CONFLICT DO NOTHING is not an error and changes nothing. */
    int64_t ch = -1;
    assert_int_equal(ck_db_exec(f->db, &ch, &f->err, "INSERT INTO conf_kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING",
                                "ti", "a", (int64_t)9),
                     0);
    assert_int_equal(ch, 0);

    /* A composite unique key, as store members and SKUs use it. */
    exec_ok(f->db, "CREATE TABLE conf_parent (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b))");
    assert_int_equal(ck_db_exec(f->db, NULL, &f->err, "INSERT INTO conf_parent (a, b) VALUES (?, ?)", "tt", "x", "y"), 0);
    assert_int_equal(ck_db_exec(f->db, NULL, &f->err, "INSERT INTO conf_parent (a, b) VALUES (?, ?)", "tt", "x", "z"), 0);
    assert_int_equal(ck_db_exec(f->db, NULL, &f->err, "INSERT INTO conf_parent (a, b) VALUES (?, ?)", "tt", "x", "y"),
                     CK_EDUP);
}

static void one_row(void **state)
{
    fixture *f = *state;
    ck_stmt *st = (ck_stmt *)&st; /* not NULL: the call must set it */
    memset(&f->err, 0x5a, sizeof(f->err)); /* stale bytes: "no row" must overwrite them */
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT k, v, s FROM conf_kv WHERE k = ?", "t", "none"), 0);
    assert_null(st);
    ck_db_done(st); /* NULL-tolerant */
    /* err says what was missing, for a caller to which no row is a failure. */
    assert_int_equal(f->err.code, CK_ENOTFOUND);
    assert_non_null(memchr(f->err.message, '\0', sizeof(f->err.message)));
    assert_non_null(strstr(f->err.message, "conf_kv"));

    put(f->db, "k1", 77, "seventy-seven");
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT k, v, s FROM conf_kv WHERE k = ?", "t", "k1"), 1);
    assert_non_null(st);
    assert_string_equal(ck_col_text(st, 0), "k1");
    assert_int_equal(ck_col_int(st, 1), 77);
    assert_string_equal(ck_col_text(st, 2), "seventy-seven");
    assert_string_equal(ck_col_text_or_null(st, 2), "seventy-seven");
    assert_false(ck_col_null(st, 0));
    assert_false(ck_col_null(st, 1));
    assert_false(ck_col_null(st, 2));
    ck_db_done(st);

    /* An aggregate always has a row. */
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT COUNT(*) FROM conf_kv WHERE k = ?", "t", "none"), 1);
    assert_int_equal(ck_col_int(st, 0), 0);
    ck_db_done(st);

    /* A bad statement is an error, not "no row". */
    ck_error_clear(&f->err);
    st = NULL;
    int rc = ck_db_one(f->db, &st, &f->err, "SELECT nope FROM conf_kv", "");
    assert_true(rc < 0);
    assert_int_equal(rc, CK_EINTERNAL);
    assert_int_equal(f->err.code, CK_EINTERNAL);
    assert_null(st);
    rc = ck_db_exec(f->db, NULL, &f->err, "INSERT INTO conf_missing (x) VALUES (1)", "");
    assert_int_equal(rc, CK_EINTERNAL);
}

static void query_rows(void **state)
{
    fixture *f = *state;
    put(f->db, "r1", 1, "a");
    put(f->db, "r2", 2, "b");
    put(f->db, "r3", 3, "c");
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_query(f->db, &st, &f->err, "SELECT k, v FROM conf_kv WHERE v >= ? ORDER BY k", "i", (int64_t)2), 0);
    int rc, n = 0;
    while ((rc = ck_db_next(st, &f->err)) == 1) {
        n++;
        char want[16];
        snprintf(want, sizeof(want), "r%d", n + 1);
        assert_string_equal(ck_col_text(st, 0), want);
        assert_int_equal(ck_col_int(st, 1), n + 1);
        /* Another statement while iterating, as handlers do for each row. */
        ck_stmt *one = NULL;
        assert_int_equal(ck_db_one(f->db, &one, &f->err, "SELECT s FROM conf_kv WHERE k = ?", "t", want), 1);
        assert_string_equal(ck_col_text(one, 0), n == 1 ? "b" : "c");
        ck_db_done(one);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 2);
    ck_db_done(st);

    /* 'b' binds 0/1. */
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT ?, ?", "bb", 5, 0), 1);
    assert_int_equal(ck_col_int(st, 0), 1);
    assert_int_equal(ck_col_int(st, 1), 0);
    ck_db_done(st);
}

static void null_values(void **state)
{
    fixture *f = *state;
    put(f->db, "n", 1, NULL);
    put(f->db, "e", 2, "");
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT s, v FROM conf_kv WHERE k = ?", "t", "n"), 1);
    assert_true(ck_col_null(st, 0));
    assert_null(ck_col_text_or_null(st, 0));
    assert_string_equal(ck_col_text(st, 0), "");
    assert_false(ck_col_null(st, 1));
    ck_db_done(st);

    /* The empty string is not NULL. */
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT s FROM conf_kv WHERE k = ?", "t", "e"), 1);
    assert_false(ck_col_null(st, 0));
    assert_non_null(ck_col_text_or_null(st, 0));
    assert_string_equal(ck_col_text_or_null(st, 0), "");
    ck_db_done(st);

    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT COUNT(*) FROM conf_kv WHERE s IS NULL", ""), 1);
    assert_int_equal(ck_col_int(st, 0), 1);
    ck_db_done(st);

    /* COALESCE(?, col) with a NULL parameter keeps the column (PATCH semantics). */
    int64_t ch = -1;
    assert_int_equal(ck_db_exec(f->db, &ch, &f->err, "UPDATE conf_kv SET s = COALESCE(?, s) WHERE k = ?", "tt",
                                (const char *)NULL, "e"),
                     0);
    assert_int_equal(ch, 1);
    assert_int_equal(ck_db_exec(f->db, &ch, &f->err, "UPDATE conf_kv SET s = COALESCE(?, s) WHERE k = ?", "tt",
                                "set", "n"),
                     0);
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT s FROM conf_kv WHERE k = ?", "t", "e"), 1);
    assert_false(ck_col_null(st, 0));
    assert_string_equal(ck_col_text(st, 0), "");
    ck_db_done(st);
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT s FROM conf_kv WHERE k = ?", "t", "n"), 1);
    assert_string_equal(ck_col_text(st, 0), "set");
    ck_db_done(st);

    /* A NULL bigint. */
    assert_int_equal(ck_db_exec(f->db, NULL, &f->err, "INSERT INTO conf_kv (k, v, s) VALUES (?, NULL, ?)", "tt",
                                "nv", (const char *)NULL),
                     0);
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT v, s FROM conf_kv WHERE k = ?", "t", "nv"), 1);
    assert_true(ck_col_null(st, 0));
    assert_true(ck_col_null(st, 1));
    ck_db_done(st);
}

static void int64_round_trip(void **state)
{
    fixture *f = *state;
    static const int64_t values[] = {INT64_MAX, INT64_MIN, -1, 0, 1, -9007199254740993LL,
                                     9007199254740993LL, 100000000000000LL, -100000000000000LL,
                                     (int64_t)INT32_MAX + 1, (int64_t)INT32_MIN - 1};
    char k[32];
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        snprintf(k, sizeof(k), "i%zu", i);
        put(f->db, k, values[i], NULL);
    }
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        snprintf(k, sizeof(k), "i%zu", i);
        ck_stmt *st = NULL;
        assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT v FROM conf_kv WHERE k = ?", "t", k), 1);
        int64_t got = ck_col_int(st, 0);
        ck_db_done(st);
        if (got != values[i])
            fail_msg("%s: stored %lld, read %lld", k, (long long)values[i], (long long)got);
        /* And as a parameter compared in SQL. */
        assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT COUNT(*) FROM conf_kv WHERE v = ?", "i", values[i]), 1);
        assert_int_equal(ck_col_int(st, 0), 1);
        ck_db_done(st);
    }
    /* Ordering is numeric. */
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT MIN(v), MAX(v) FROM conf_kv", ""), 1);
    assert_true(ck_col_int(st, 0) == INT64_MIN);
    assert_true(ck_col_int(st, 1) == INT64_MAX);
    ck_db_done(st);
}

/* Backend memory in use, when the backend can say; -1 otherwise. */
static int64_t backend_memory(ck_db *db)
{
#ifdef CK_CONFORMANCE_SQLITE_MEM
    if (is_sqlite(db))
        return (int64_t)sqlite3_memory_used();
#endif
    (void)db;
    return -1;
}

static void statement_cache(void **state)
{
    fixture *f = *state;
    enum { N = 10000, KEYS = 50 };
    char k[32];
    assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
    for (int i = 0; i < KEYS; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        put(f->db, k, i, k);
    }
    assert_int_equal(ck_db_commit(f->db, &f->err), 0);

    /* Warm up, then the same statements many times must not grow anything. */
    for (int i = 0; i < 100; i++) {
        ck_stmt *st = NULL;
        snprintf(k, sizeof(k), "k%d", i % KEYS);
        assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT v, s FROM conf_kv WHERE k = ?", "t", k), 1);
        ck_db_done(st);
        assert_int_equal(ck_db_exec(f->db, NULL, &f->err, "UPDATE conf_kv SET v = v WHERE k = ?", "t", k), 0);
    }
    int64_t before = backend_memory(f->db);
    for (int i = 0; i < N; i++) {
        ck_stmt *st = NULL;
        snprintf(k, sizeof(k), "k%d", i % KEYS);
        assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT v, s FROM conf_kv WHERE k = ?", "t", k), 1);
        if (ck_col_int(st, 0) != i % KEYS || strcmp(ck_col_text(st, 1), k) != 0)
            fail_msg("iteration %d read %lld/%s for %s", i, (long long)ck_col_int(st, 0), ck_col_text(st, 1), k);
        ck_db_done(st);
        int64_t ch = -1;
        assert_int_equal(ck_db_exec(f->db, &ch, &f->err, "UPDATE conf_kv SET v = v WHERE k = ?", "t", k), 0);
        assert_int_equal(ch, 1);
        assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT COUNT(*) FROM conf_kv WHERE v >= ?", "i", (int64_t)0), 1);
        assert_int_equal(ck_col_int(st, 0), KEYS);
        ck_db_done(st);
    }
    int64_t after = backend_memory(f->db);
    if (before >= 0)
        assert_true(after - before < 64 * 1024); /* one leaked statement per call would be megabytes */

    /* Many distinct statements (the cache grows and rehashes), each still right. */
    enum { DISTINCT = 300 };
    char sql[96];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < DISTINCT; i++) {
            ck_stmt *st = NULL;
            snprintf(sql, sizeof(sql), "SELECT ? + %d", i);
            assert_int_equal(ck_db_one(f->db, &st, &f->err, sql, "i", (int64_t)1000 * round), 1);
            assert_int_equal(ck_col_int(st, 0), 1000 * round + i);
            ck_db_done(st);
        }
    }
    /* Re-binding a cached statement replaces the old values. */
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT ?, ?", "it", (int64_t)1, "one"), 1);
    ck_db_done(st);
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT ?, ?", "it", (int64_t)3, (const char *)NULL), 1);
    assert_int_equal(ck_col_int(st, 0), 3);
    assert_true(ck_col_null(st, 1));
    ck_db_done(st);

    /* Parameter types must match the placeholders. */
    ck_error_clear(&f->err);
    st = (ck_stmt *)&st;
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT ?, ?", "i", (int64_t)3), CK_EINTERNAL);
    assert_null(st);
    assert_string_equal(f->err.reason, "INTERNAL_ERROR");
    assert_int_equal(ck_db_exec(f->db, NULL, &f->err, "UPDATE conf_kv SET v = ? WHERE k = ?", "iti", (int64_t)1, "k1",
                                (int64_t)2),
                     CK_EINTERNAL);
}

static void write_conflict(void **state)
{
    fixture *f = *state;
    put(f->db, "x", 0, NULL);
    ck_db *a = f->db;
    ck_db *b = open_db();

    assert_int_equal(ck_db_begin(a, 1, &f->err), 0);
    int64_t ch = -1;
    assert_int_equal(ck_db_exec(a, &ch, &f->err, "UPDATE conf_kv SET v = 1 WHERE k = ?", "t", "x"), 0);
    assert_int_equal(ch, 1);

    /* B's write waits for the busy timeout, then fails with CK_EBUSY: at begin
     * where the backend takes the write lock there (SQLite), else at the first
     * conflicting write. */
    ck_error berr;
    ck_error_clear(&berr);
    int rc = ck_db_begin(b, 1, &berr);
    if (is_sqlite(b)) {
        assert_int_equal(rc, CK_EBUSY);
    } else if (rc == 0) {
        rc = ck_db_exec(b, NULL, &berr, "UPDATE conf_kv SET v = 2 WHERE k = ?", "t", "x");
        ck_db_rollback(b);
    }
    assert_int_equal(rc, CK_EBUSY);
    assert_int_equal(berr.code, CK_EBUSY);
    assert_int_equal(ck_api_status(&berr), 500);
    assert_false(ck_db_in_tx(b));

    /* A write outside a transaction conflicts the same way. */
    ck_error_clear(&berr);
    rc = ck_db_exec(b, NULL, &berr, "UPDATE conf_kv SET v = 3 WHERE k = ?", "t", "x");
    assert_int_equal(rc, CK_EBUSY);
    assert_int_equal(berr.code, CK_EBUSY);

    /* Readers are not blocked and see the last committed value. */
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(b, &st, &berr, "SELECT v FROM conf_kv WHERE k = ?", "t", "x"), 1);
    assert_int_equal(ck_col_int(st, 0), 0);
    ck_db_done(st);

    /* Once A commits, B writes. */
    assert_int_equal(ck_db_commit(a, &f->err), 0);
    assert_int_equal(ck_db_begin(b, 1, &berr), 0);
    assert_int_equal(ck_db_exec(b, &ch, &berr, "UPDATE conf_kv SET v = v + 10 WHERE k = ?", "t", "x"), 0);
    assert_int_equal(ch, 1);
    assert_int_equal(ck_db_commit(b, &berr), 0);
    assert_int_equal(ck_db_one(a, &st, &f->err, "SELECT v FROM conf_kv WHERE k = ?", "t", "x"), 1);
    assert_int_equal(ck_col_int(st, 0), 11);
    ck_db_done(st);
    ck_db_close(b);
}

/* Writes the row "held" (for tx_helper's lock case). */
static int tx_lock_fn(ck_db *db, void *arg, ck_error *err)
{
    (void)arg;
    return ck_db_exec(db, NULL, err, "UPDATE conf_kv SET v = v + 10 WHERE k = ?", "t", "held");
}

/* ck_db_tx: commits what fn wrote and returns fn's value; a CK_EBUSY from fn
 * rolls back and runs the whole transaction again, up to CK_DB_TX_ATTEMPTS;
 * any other failure rolls back at once; inside an open transaction fn runs
 * once in it and nothing commits. */
typedef struct tx_probe {
    int calls, busy_first; /* calls: how many times fn ran; busy_first: fail so many times with CK_EBUSY */
    int fail_with;         /* non-zero: return this (after writing) instead */
} tx_probe;

static int tx_probe_fn(ck_db *db, void *arg, ck_error *err)
{
    tx_probe *p = arg;
    char k[16];
    snprintf(k, sizeof(k), "try%d", ++p->calls);
    int rc = ck_db_exec(db, NULL, err, "INSERT INTO conf_kv (k, v, s) VALUES (?, ?, NULL)", "ti", k,
                        (int64_t)p->calls);
    if (rc < 0)
        return rc;
    if (p->calls <= p->busy_first)
        return ck_fail(err, CK_EBUSY, "INTERNAL_ERROR", NULL, "database busy (probe)");
    if (p->fail_with)
        return ck_fail(err, p->fail_with, "PROBE", NULL, "probe failure");
    return 7;
}

static void tx_helper(void **state)
{
    fixture *f = *state;
    /* Busy once: run again, the first attempt's write is gone, fn's value comes back. */
    tx_probe p = {.busy_first = 1};
    assert_int_equal(ck_db_tx(f->db, 1, tx_probe_fn, &p, &f->err), 7);
    assert_int_equal(p.calls, 2);
    assert_false(ck_db_in_tx(f->db));
    assert_int_equal(count_all(f->db), 1);
    ck_db *other = open_db();
    assert_int_equal(count_all(other), 1); /* committed */
    ck_db_close(other);

    /* Busy every time: CK_DB_TX_ATTEMPTS runs, then CK_EBUSY, nothing kept. */
    exec_ok(f->db, "DELETE FROM conf_kv");
    p = (tx_probe){.busy_first = 100};
    assert_int_equal(ck_db_tx(f->db, 1, tx_probe_fn, &p, &f->err), CK_EBUSY);
    assert_int_equal(p.calls, CK_DB_TX_ATTEMPTS);
    assert_int_equal(f->err.code, CK_EBUSY);
    assert_false(ck_db_in_tx(f->db));
    assert_int_equal(count_all(f->db), 0);

    /* Any other failure: one run, rolled back. */
    p = (tx_probe){.fail_with = CK_EINVALID};
    assert_int_equal(ck_db_tx(f->db, 1, tx_probe_fn, &p, &f->err), CK_EINVALID);
    assert_int_equal(p.calls, 1);
    assert_string_equal(f->err.reason, "PROBE");
    assert_false(ck_db_in_tx(f->db));
    assert_int_equal(count_all(f->db), 0);

    /* Inside the caller's transaction: fn runs once in it; the caller decides. */
    assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
    p = (tx_probe){0};
    assert_int_equal(ck_db_tx(f->db, 1, tx_probe_fn, &p, &f->err), 7);
    assert_int_equal(p.calls, 1);
    assert_true(ck_db_in_tx(f->db));
    ck_db_rollback(f->db);
    assert_int_equal(count_all(f->db), 0);

    /* A real lock held by another connection past the busy timeout: CK_EBUSY. */
    put(f->db, "held", 1, NULL);
    other = open_db();
    assert_int_equal(ck_db_begin(other, 1, &f->err), 0);
    assert_int_equal(ck_db_exec(other, NULL, &f->err, "UPDATE conf_kv SET v = 2 WHERE k = ?", "t", "held"), 0);
    ck_error berr;
    ck_error_clear(&berr);
    int rc = ck_db_tx(f->db, 1, tx_lock_fn, NULL, &berr);
    assert_int_equal(rc, CK_EBUSY);
    assert_false(ck_db_in_tx(f->db));
    ck_db_rollback(other);
    assert_int_equal(ck_db_tx(f->db, 1, tx_lock_fn, NULL, &berr), 0);
    ck_db_close(other);
}

/* A commit that fails (a deferred foreign key) ends the transaction: nothing
 * is kept and the connection starts the next one cleanly. */
static void failed_commit(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE conf_parent (id TEXT PRIMARY KEY)");
    exec_ok(f->db, "CREATE TABLE conf_child (id TEXT PRIMARY KEY,"
                   " parent TEXT REFERENCES conf_parent(id) DEFERRABLE INITIALLY DEFERRED)");
    assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
    assert_int_equal(ck_db_exec(f->db, NULL, &f->err, "INSERT INTO conf_child (id, parent) VALUES (?, ?)", "tt",
                                "c1", "missing"),
                     0);
    put(f->db, "side", 1, NULL);
    ck_error_clear(&f->err);
    int rc = ck_db_commit(f->db, &f->err);
    assert_true(rc < 0);
    assert_int_equal(f->err.code, rc);
    assert_int_equal(count_key(f->db, "side"), 0);
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(f->db, &st, &f->err, "SELECT COUNT(*) FROM conf_child", ""), 1);
    assert_int_equal(ck_col_int(st, 0), 0);
    ck_db_done(st);
    /* The next transaction works. */
    assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
    put(f->db, "next", 2, NULL);
    assert_int_equal(ck_db_commit(f->db, &f->err), 0);
    assert_int_equal(count_key(f->db, "next"), 1);
}

/* After a failed commit the connection reports no open transaction (the
 * SQLite driver rolls back on a failed COMMIT; PostgreSQL ends it too). */
static void failed_commit_clears_in_tx(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE conf_parent (id TEXT PRIMARY KEY)");
    exec_ok(f->db, "CREATE TABLE conf_child (id TEXT PRIMARY KEY,"
                   " parent TEXT REFERENCES conf_parent(id) DEFERRABLE INITIALLY DEFERRED)");
    assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
    assert_int_equal(ck_db_exec(f->db, NULL, &f->err, "INSERT INTO conf_child (id, parent) VALUES (?, ?)", "tt",
                                "c1", "missing"),
                     0);
    assert_true(ck_db_commit(f->db, &f->err) < 0);
    assert_false(ck_db_in_tx(f->db));
}

static void bad_url(void **state)
{
    ck_db *db = (ck_db *)&db;
    ck_error err;
    ck_error_clear(&err);
    assert_int_equal(ck_db_open(&db, "mysql://x", &fast, &err), CK_EINVALID);
    assert_null(db);
    assert_string_equal(err.reason, "BAD_DB_URL");
    assert_int_equal(ck_db_open(&db, NULL, &fast, &err), CK_EINVALID);
    assert_null(ck_db_driver_for("nope:"));
    assert_non_null(ck_db_driver_for("sqlite:x.db"));
    assert_int_equal(ck_db_driver_for("sqlite:x.db")->version, CK_DB_DRIVER_VERSION);
}

/* ---- repositories --------------------------------------------------- */

/* The repository cases' rows: a store, an account (credit limit 100,
 * prepaid 50), a buyer, a cart and a session, all with fresh ids. */
typedef struct repo_rows {
    char store[CK_ID_MAX], account[CK_ID_MAX], user[CK_ID_MAX], cart[CK_ID_MAX], session[CK_ID_MAX];
} repo_rows;

static void run_sql(ck_db *db, const char *sql, const char *types, const char *a1, const char *a2,
                    const char *a3, const char *a4)
{
    ck_error err;
    ck_error_clear(&err);
    int rc;
    switch (strlen(types)) {
    case 0: rc = ck_db_exec(db, NULL, &err, sql, ""); break;
    case 1: rc = ck_db_exec(db, NULL, &err, sql, types, a1); break;
    case 2: rc = ck_db_exec(db, NULL, &err, sql, types, a1, a2); break;
    case 3: rc = ck_db_exec(db, NULL, &err, sql, types, a1, a2, a3); break;
    default: rc = ck_db_exec(db, NULL, &err, sql, types, a1, a2, a3, a4); break;
    }
    if (rc != 0)
        fail_msg("'%s' failed: %d %s", sql, rc, err.message);
}

static void repo_rows_make(ck_db *db, repo_rows *r)
{
    ck_id_new(r->store, "store");
    ck_id_new(r->account, "acct");
    ck_id_new(r->user, "user");
    ck_id_new(r->cart, "cart");
    ck_id_new(r->session, "cs");
    run_sql(db, "INSERT INTO stores (id, name, currency, sla_seconds, stale_auth_seconds, created_at, updated_at)"
                " VALUES (?, 'Conformance', 'USD', 900, 86400, 1, 1)", "t", r->store, NULL, NULL, NULL);
    run_sql(db, "INSERT INTO accounts (id, name, is_buyer, credit_limit, credit_used, prepaid_balance,"
                " hazmat_approved, country, created_at, updated_at) VALUES (?, 'Conf', 1, 100, 0, 50, 0, 'US', 1, 1)",
            "t", r->account, NULL, NULL, NULL);
    run_sql(db, "INSERT INTO users (id, name, email, permissions, api_key_hash, created_at) VALUES (?, 'b', 'b@x', 1, ?, 1)",
            "tt", r->user, r->user, NULL, NULL);
    run_sql(db, "INSERT INTO carts (id, store_id, account_id, owner_id, status, currency, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'Open', 'USD', 1, 1)", "tttt", r->cart, r->store, r->account, r->user);
    run_sql(db, "INSERT INTO checkout_sessions (id, cart_id, buyer_id, account_id, store_id, flow_id, flow_version,"
                " state, created_at, updated_at) SELECT ?, c.id, c.owner_id, c.account_id, c.store_id, 'flow_standard',"
                " 1, 'Started', 1, 1 FROM carts c WHERE c.id = ?", "tt", r->session, r->cart, NULL, NULL);
}

/* Removes the rows of the repository cases (the suite's database is its
 * own; the driver cases expect it without stores). */
static void repo_clean(ck_db *db)
{
    static const char *const tables[] = {"deliveries", "outbox_events", "subscribers", "payment_authorizations",
                                         "balance_ledger", "checkout_sessions", "carts", "users", "accounts",
                                         "flows", "stores", NULL};
    char sql[64];
    for (int i = 0; tables[i]; i++) {
        snprintf(sql, sizeof(sql), "DELETE FROM %s", tables[i]);
        exec_ok(db, sql);
    }
}

static int repo_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->db = open_db();
    ck_error_clear(&f->err);
    assert_int_equal(ck_migrate(f->db, &f->err), 0);
    /* The claim cases pick the earliest due delivery: only theirs may be due. */
    repo_clean(f->db);
    *state = f;
    return 0;
}

static int repo_teardown(void **state)
{
    fixture *f = *state;
    ck_db_rollback(f->db);
    repo_clean(f->db);
    ck_db_close(f->db);
    free(f);
    return 0;
}

/* A subscriber to OrderCreated and one event of that type; ids out. */
static void subscriber_and_event(ck_db *db, char sub[CK_ID_MAX], char ev[CK_ID_MAX])
{
    ck_error err;
    ck_id_new(sub, "sub");
    ck_id_new(ev, "evt");
    run_sql(db, "INSERT INTO subscribers (id, kind, url, events, max_attempts, backoff_base_ms, created_at)"
                " VALUES (?, 'webhook', 'http://127.0.0.1:9/', '[\"OrderCreated\"]', 3, 10, 1)", "t", sub, NULL, NULL,
            NULL);
    assert_int_equal(ck_outbox_insert(db, ev, "OrderCreated", NULL, NULL, "{}", 1, &err), 0);
}

/* Two claimers, one due delivery: it is taken once. A second delivery of
 * the same subscriber waits while the first is leased, and a lease that
 * expired is taken again. */
static void repo_delivery_claim_once(void **state)
{
    fixture *f = *state;
    ck_db *b = open_db();
    ck_error berr;
    char sub[CK_ID_MAX], ev[CK_ID_MAX], ev2[CK_ID_MAX], id_a[CK_ID_MAX] = "", id_b[CK_ID_MAX] = "", other[CK_ID_MAX];
    subscriber_and_event(f->db, sub, ev);
    const int64_t now = 1000000;
    assert_int_equal(ck_deliveries_insert_pending(f->db, ev, sub, NULL, "OrderCreated", now, &f->err), 1);
    assert_int_equal(ck_deliveries_insert_pending(f->db, ev, sub, NULL, "OrderCreated", now, &f->err), 0);

    assert_int_equal(ck_deliveries_claim(f->db, "node-a", now + 30000, now, id_a, &f->err), 1);
    assert_int_equal(ck_deliveries_claim(b, "node-b", now + 30000, now, id_b, &berr), 0);
    /* Another event for the same subscriber: not while a's lease lives. */
    ck_id_new(ev2, "evt");
    assert_int_equal(ck_outbox_insert(f->db, ev2, "OrderCreated", NULL, NULL, "{}", 2, &f->err), 0);
    assert_int_equal(ck_deliveries_insert_pending(f->db, ev2, sub, NULL, "OrderCreated", now, &f->err), 1);
    assert_int_equal(ck_deliveries_claim(b, "node-b", now + 30000, now + 1, other, &berr), 0);

    /* a's outcome releases its lease; only the lease holder records. */
    assert_int_equal(ck_deliveries_record(b, id_a, "node-b", "Delivered", 1, now, NULL, 1, now, &berr), 0);
    assert_int_equal(ck_deliveries_record(f->db, id_a, "node-a", "Delivered", 1, now, NULL, 1, now, &f->err), 1);
    assert_int_equal(ck_deliveries_claim(b, "node-b", now + 30000, now + 2, id_b, &berr), 1);
    assert_string_not_equal(id_a, id_b);

    /* b dies holding it: once its lease is past, a takes it. */
    assert_int_equal(ck_deliveries_claim(f->db, "node-a", now + 60000, now + 3, other, &f->err), 0);
    assert_int_equal(ck_deliveries_claim(f->db, "node-a", now + 90000, now + 30001, other, &f->err), 1);
    assert_string_equal(other, id_b);

    ck_delivery_attempt at;
    memset(&at, 0, sizeof(at));
    assert_int_equal(ck_deliveries_attempt(f->db, id_b, &at, &f->err), 1);
    assert_string_equal(at.kind, "webhook");
    assert_string_equal(at.event_type, "OrderCreated");
    assert_int_equal(at.max_attempts, 3);
    assert_string_equal(at.payload, "{}");
    assert_null(at.to);
    ck_delivery_attempt_free(&at);
    ck_db_close(b);
}

/* PostgreSQL: a claimer does not wait for another's uncommitted claim; it
 * skips that delivery and the other deliveries of its subscriber, and takes
 * another subscriber's. */
static void repo_delivery_claim_skips_locked(void **state)
{
    fixture *f = *state;
    if (is_sqlite(f->db))
        skip();
    ck_db *b = open_db();
    ck_error berr;
    exec_ok(b, "SET statement_timeout = 5000");
    char sub1[CK_ID_MAX], sub2[CK_ID_MAX], ev1[CK_ID_MAX], ev2[CK_ID_MAX];
    char id_a[CK_ID_MAX], id_b[CK_ID_MAX], d2[CK_ID_MAX] = "";
    subscriber_and_event(f->db, sub1, ev1);
    subscriber_and_event(f->db, sub2, ev2);
    const int64_t now = 2000000;
    assert_int_equal(ck_deliveries_insert_pending(f->db, ev1, sub1, NULL, "OrderCreated", now, &f->err), 1);
    assert_int_equal(ck_deliveries_insert_pending(f->db, ev2, sub1, NULL, "OrderCreated", now, &f->err), 1);
    assert_int_equal(ck_deliveries_insert_pending(f->db, ev1, sub2, NULL, "OrderCreated", now + 5, &f->err), 1);

    assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
    assert_int_equal(ck_deliveries_claim(f->db, "node-a", now + 30000, now + 10, id_a, &f->err), 1);
    /* a's claim is not committed: b neither blocks nor takes sub1's second delivery. */
    assert_int_equal(ck_deliveries_claim(b, "node-b", now + 30000, now + 10, id_b, &berr), 1);
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(b, &st, &berr, "SELECT subscriber_id FROM deliveries WHERE id = ?", "t", id_b), 1);
    assert_string_equal(ck_col_text(st, 0), sub2);
    ck_db_done(st);
    assert_int_equal(ck_deliveries_claim(b, "node-b", now + 30000, now + 10, d2, &berr), 0);
    assert_int_equal(ck_db_commit(f->db, &f->err), 0);
    assert_int_equal(ck_deliveries_claim(b, "node-b", now + 30000, now + 10, d2, &berr), 0);
    exec_ok(b, "SET statement_timeout = 0");
    ck_db_close(b);
}

/* A job lease row: one holder at a time; released, or expired, it is free. */
static void repo_job_lease(void **state)
{
    fixture *f = *state;
    ck_db *b = open_db();
    ck_error berr;
    char name[CK_ID_MAX];
    ck_id_new(name, "conf_job");
    run_sql(f->db, "INSERT INTO job_leases (name) VALUES (?)", "t", name, NULL, NULL, NULL);
    assert_int_equal(ck_job_lease_take(f->db, name, "node-a", 60000, &f->err), 1);
    assert_int_equal(ck_job_lease_take(b, name, "node-b", 60000, &berr), 0);
    ck_job_lease_release(b, name, "node-b"); /* not b's: nothing changes */
    assert_int_equal(ck_job_lease_take(b, name, "node-b", 60000, &berr), 0);
    ck_job_lease_release(f->db, name, "node-a");
    assert_int_equal(ck_job_lease_take(b, name, "node-b", -1, &berr), 1); /* taken, already expired */
    assert_int_equal(ck_job_lease_take(f->db, name, "node-a", 60000, &f->err), 1);
    if (!is_sqlite(f->db)) {
        /* A take in flight on another connection is skipped, not waited for. */
        exec_ok(b, "SET statement_timeout = 5000");
        ck_job_lease_release(f->db, name, "node-a");
        assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
        assert_int_equal(ck_job_lease_take(f->db, name, "node-a", 60000, &f->err), 1);
        assert_int_equal(ck_job_lease_take(b, name, "node-b", 60000, &berr), 0);
        ck_db_rollback(f->db);
        assert_int_equal(ck_job_lease_take(b, name, "node-b", 60000, &berr), 1);
        exec_ok(b, "SET statement_timeout = 0");
    }
    run_sql(f->db, "DELETE FROM job_leases WHERE name = ?", "t", name, NULL, NULL, NULL);
    ck_db_close(b);
}

static int64_t account_col(ck_db *db, const char *account, const char *col)
{
    ck_error err;
    ck_stmt *st = NULL;
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT %s FROM accounts WHERE id = ?", col);
    assert_int_equal(ck_db_one(db, &st, &err, sql, "t", account), 1);
    int64_t v = ck_col_int(st, 0);
    ck_db_done(st);
    return v;
}

/* Credit and prepaid spends: the conditional UPDATE loses at the limit,
 * with the domain's reason, and what a session moved is given back. */
static void repo_balance_reserve_limit(void **state)
{
    fixture *f = *state;
    repo_rows r;
    repo_rows_make(f->db, &r);
    assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
    assert_int_equal(ck_ledger_credit_reserve(f->db, r.account, 60, &f->err), 1);
    assert_int_equal(ck_ledger_credit_reserve(f->db, r.account, 41, &f->err), 0);
    assert_int_equal(ck_ledger_credit_reserve(f->db, r.account, 40, &f->err), 1);
    assert_int_equal(ck_ledger_credit_reserve(f->db, r.account, 1, &f->err), 0);
    assert_int_equal(ck_ledger_prepaid_debit(f->db, r.account, 51, &f->err), 0);
    assert_int_equal(ck_ledger_prepaid_debit(f->db, r.account, 50, &f->err), 1);
    assert_int_equal(ck_db_commit(f->db, &f->err), 0);
    assert_int_equal(account_col(f->db, r.account, "credit_used"), 100);
    assert_int_equal(account_col(f->db, r.account, "prepaid_balance"), 0);
    /* Back to the start, then through the domain, with the ledger. */
    assert_int_equal(ck_ledger_account_add(f->db, r.account, 0, -100, &f->err), 0);
    assert_int_equal(ck_ledger_prepaid_set(f->db, r.account, 50, &f->err), 0);
    assert_int_equal(ck_db_begin(f->db, 1, &f->err), 0);
    assert_int_equal(ck_balance_reserve(f->db, "purchase_order", r.account, NULL, 70, r.session, &f->err), 0);
    ck_error_clear(&f->err);
    assert_int_equal(ck_balance_reserve(f->db, "net_terms", r.account, NULL, 31, r.session, &f->err), CK_EINVALID);
    assert_string_equal(f->err.reason, "CREDIT_LIMIT_EXCEEDED");
    assert_int_equal(ck_balance_reserve(f->db, "prepaid", r.account, NULL, 20, r.session, &f->err), 0);
    assert_int_equal(ck_balance_release_session(f->db, r.session, &f->err), 2);
    assert_int_equal(ck_balance_release_session(f->db, r.session, &f->err), 0);
    assert_int_equal(ck_db_commit(f->db, &f->err), 0);
    assert_int_equal(account_col(f->db, r.account, "credit_used"), 0);
    assert_int_equal(account_col(f->db, r.account, "prepaid_balance"), 50);
    ck_ledger_open *open = NULL;
    size_t n = 9;
    assert_int_equal(ck_ledger_session_open(f->db, r.session, &open, &n, &f->err), 0);
    assert_int_equal(n, 0);
    free(open);
}

/* A card hold: one capture lock at a time, none on a hold past its date;
 * its void is marked once and recorded once. */
static void repo_hold_claim(void **state)
{
    fixture *f = *state;
    ck_db *b = open_db();
    ck_error berr;
    repo_rows r;
    repo_rows_make(f->db, &r);
    char auth[CK_ID_MAX], key[CK_ID_MAX + 8];
    ck_id_new(auth, "pa");
    snprintf(key, sizeof(key), "k:%s", auth);
    const int64_t now = 5000000;
    ck_error err;
    ck_error_clear(&err);
    assert_int_equal(ck_db_exec(f->db, NULL, &err,
                                "INSERT INTO payment_authorizations (id, session_id, method, gateway, gateway_auth_id,"
                                " amount, status, idempotency_key, expires_at, created_at, updated_at)"
                                " VALUES (?, ?, 'card', 'test', 'gw1', 500, 'Authorized', ?, ?, 1, 1)",
                                "ttti", auth, r.session, key, now + 1000),
                     0);
    /* The void: kept under its own key, marked once, recorded once. */
    int64_t marked = -1;
    assert_int_equal(ck_payments_mark_void(f->db, r.session, key, &marked, &f->err), 0);
    assert_int_equal(marked, 0);
    assert_int_equal(ck_payments_mark_void(f->db, r.session, NULL, &marked, &f->err), 0);
    assert_int_equal(marked, 1);
    assert_int_equal(ck_payments_mark_void(b, r.session, NULL, &marked, &berr), 0);
    assert_int_equal(marked, 0);
    ck_hold *holds = NULL;
    size_t n = 0;
    assert_int_equal(ck_payments_void_pending(f->db, r.session, NULL, 10, &holds, &n, &f->err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(holds[0].id, auth);
    assert_string_equal(holds[0].store_id, r.store);
    assert_int_equal(holds[0].amount, 500);
    free(holds);
    assert_int_equal(ck_payments_record_voided(f->db, auth, &f->err), 1);
    assert_int_equal(ck_payments_record_voided(b, auth, &berr), 0);
    assert_int_equal(ck_payments_void_pending(f->db, r.session, NULL, 10, &holds, &n, &f->err), 0);
    assert_int_equal(n, 0);
    free(holds);
    ck_db_close(b);
}

/* The flows repository: a Draft changes only at the version it was read
 * at; activating makes one flow Active per store (the previous one
 * Inactive, the store naming the new one; the partial unique index refuses
 * a second Active one); a frozen flow no longer changes; lists page by id;
 * inFlightSessions counts the live sessions pinned to a flow. */
static void repo_flows(void **state)
{
    fixture *f = *state;
    repo_rows r;
    repo_rows_make(f->db, &r);
    char a[CK_ID_MAX], b[CK_ID_MAX], active[CK_ID_MAX], status[CK_FLOW_STATUS_MAX];
    int64_t version = 0, n = 0;
    assert_int_equal(ck_flows_insert(f->db, r.store, "A", "[1]", 5, a, &f->err), 0);
    assert_int_equal(ck_flows_insert(f->db, r.store, "B", "[2]", 6, b, &f->err), 0);
    ck_flows_row row;
    assert_int_equal(ck_flows_get(f->db, a, &row, &f->err), 1);
    assert_string_equal(row.name, "A");
    assert_string_equal(row.status, "Draft");
    assert_string_equal(row.steps, "[1]");
    assert_int_equal(row.version, 1);
    assert_int_equal(row.created_at, 5);
    ck_flows_row_clear(&row);
    assert_int_equal(ck_flows_get(f->db, "flow_nope", &row, &f->err), 0);

    /* Only at the version read, and each change raises it. */
    assert_int_equal(ck_flows_update_draft(f->db, a, 1, NULL, "[3]", 7, &f->err), 1);
    assert_int_equal(ck_flows_update_draft(f->db, a, 1, "A2", "[4]", 8, &f->err), 0);
    assert_int_equal(ck_flows_version(f->db, a, &version, status, &f->err), 1);
    assert_int_equal(version, 2);
    assert_int_equal(ck_flows_get(f->db, a, &row, &f->err), 1);
    assert_string_equal(row.steps, "[3]");
    assert_string_equal(row.name, "A");
    ck_flows_row_clear(&row);

    /* One Active flow per store. */
    assert_int_equal(ck_flows_activate(f->db, r.store, a, 9, &f->err), 1);
    assert_int_equal(ck_stores_active_flow(f->db, r.store, active, &f->err), 1);
    assert_string_equal(active, a);
    assert_int_equal(ck_flows_update_draft(f->db, a, 2, NULL, "[5]", 10, &f->err), 0);
    assert_int_equal(ck_flows_activate(f->db, r.store, b, 11, &f->err), 1);
    assert_int_equal(ck_flows_version(f->db, a, &version, status, &f->err), 1);
    assert_string_equal(status, "Inactive");
    assert_int_equal(ck_flows_version(f->db, b, &version, status, &f->err), 1);
    assert_string_equal(status, "Active");
    ck_error err;
    assert_true(ck_db_exec(f->db, NULL, &err, "UPDATE flows SET status = 'Active' WHERE id = ?", "t", a) < 0);
    assert_int_equal(ck_flows_activate(f->db, r.store, NULL, 12, &f->err), 1);
    assert_int_equal(ck_stores_active_flow(f->db, r.store, active, &f->err), 1);
    assert_string_equal(active, "flow_standard");
    assert_int_equal(ck_flows_version(f->db, b, &version, status, &f->err), 1);
    assert_string_equal(status, "Inactive");
    assert_int_equal(ck_flows_activate(f->db, "store_nope", NULL, 13, &f->err), 0);

    /* Pages by id, per store or over all. */
    ck_flows_row *rows = NULL;
    size_t got = 0;
    assert_int_equal(ck_flows_list(f->db, r.store, "", 1, &rows, &got, &f->err), 0);
    assert_int_equal(got, 1);
    char first[CK_ID_MAX];
    snprintf(first, sizeof(first), "%s", rows[0].id);
    ck_flows_row_clear(&rows[0]);
    free(rows);
    assert_int_equal(ck_flows_list(f->db, r.store, first, 10, &rows, &got, &f->err), 0);
    assert_int_equal(got, 1);
    assert_string_not_equal(rows[0].id, first);
    ck_flows_row_clear(&rows[0]);
    free(rows);
    assert_int_equal(ck_flows_list(f->db, NULL, "", 10, &rows, &got, &f->err), 0);
    assert_int_equal(got, 2);
    for (size_t i = 0; i < got; i++)
        ck_flows_row_clear(&rows[i]);
    free(rows);

    /* The live sessions pinned to a flow, and only those. */
    assert_int_equal(ck_flows_in_flight(f->db, "flow_standard", NULL, &n, &f->err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ck_flows_in_flight(f->db, "flow_standard", "store_nope", &n, &f->err), 0);
    assert_int_equal(n, 0);
    run_sql(f->db, "UPDATE checkout_sessions SET flow_id = ? WHERE id = ?", "tt", b, r.session, NULL, NULL);
    assert_int_equal(ck_flows_in_flight(f->db, b, r.store, &n, &f->err), 0);
    assert_int_equal(n, 1);
    run_sql(f->db, "UPDATE checkout_sessions SET state = 'Completed' WHERE id = ?", "t", r.session, NULL, NULL, NULL);
    assert_int_equal(ck_flows_in_flight(f->db, b, r.store, &n, &f->err), 0);
    assert_int_equal(n, 0);
    run_sql(f->db, "UPDATE checkout_sessions SET state = 'tax', is_archived = 1 WHERE id = ?", "t", r.session, NULL,
            NULL, NULL);
    assert_int_equal(ck_flows_in_flight(f->db, b, NULL, &n, &f->err), 0);
    assert_int_equal(n, 0);
}

static void remove_sqlite_files(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal", NULL};
    char p[340];
    for (int i = 0; suffix[i]; i++) {
        snprintf(p, sizeof(p), "%s%s", g_file, suffix[i]);
        unlink(p);
    }
    if (g_dir[0])
        rmdir(g_dir);
}

/* CKT_BACKEND=postgres: run on a database of the test server named by
 * CKT_PG_URL (scripts/pg.sh), created here if missing; 77 (skipped) without
 * a server. */
static int postgres_url(void)
{
    const char *admin = getenv("CKT_PG_URL");
    if (!admin || !*admin) {
        fprintf(stderr, "CKT_BACKEND=postgres needs CKT_PG_URL (scripts/pg.sh start): skipping\n");
        return 77;
    }
    PGconn *c = PQconnectdb(admin);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "PostgreSQL: %s", PQerrorMessage(c));
        PQfinish(c);
        return 1;
    }
    PQclear(PQexec(c, "CREATE DATABASE ck_conformance")); /* "already exists" is fine */
    PQfinish(c);
    const char *slash = strrchr(admin, '/');
    snprintf(g_url, sizeof(g_url), "%.*s/ck_conformance", slash ? (int)(slash - admin) : (int)strlen(admin), admin);
    return 0;
}

int main(void)
{
    const char *env = getenv("CK_TEST_DB_URL"), *backend = getenv("CKT_BACKEND");
    if (backend && strcmp(backend, "postgres") == 0) {
        int rc = postgres_url();
        if (rc)
            return rc;
    } else if (env && *env) {
        snprintf(g_url, sizeof(g_url), "%s", env);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(g_dir, sizeof(g_dir), "%s/ck_conformance_XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(g_dir)) {
            perror("mkdtemp");
            return 1;
        }
        snprintf(g_file, sizeof(g_file), "%s/conformance.db", g_dir);
        snprintf(g_url, sizeof(g_url), "sqlite:%s", g_file);
    }
    printf("# storage conformance on %s\n", g_url);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrate_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_persists, setup, teardown),
        cmocka_unit_test_setup_teardown(rollback_discards, setup, teardown),
        cmocka_unit_test_setup_teardown(exec_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(unique_violation, setup, teardown),
        cmocka_unit_test_setup_teardown(one_row, setup, teardown),
        cmocka_unit_test_setup_teardown(query_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(null_values, setup, teardown),
        cmocka_unit_test_setup_teardown(int64_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(tx_helper, setup, teardown),
        cmocka_unit_test_setup_teardown(statement_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(write_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_commit_clears_in_tx, setup, teardown),
        cmocka_unit_test(bad_url),
        cmocka_unit_test_setup_teardown(repo_delivery_claim_once, repo_setup, repo_teardown),
        cmocka_unit_test_setup_teardown(repo_delivery_claim_skips_locked, repo_setup, repo_teardown),
        cmocka_unit_test_setup_teardown(repo_job_lease, repo_setup, repo_teardown),
        cmocka_unit_test_setup_teardown(repo_balance_reserve_limit, repo_setup, repo_teardown),
        cmocka_unit_test_setup_teardown(repo_hold_claim, repo_setup, repo_teardown),
        cmocka_unit_test_setup_teardown(repo_flows, repo_setup, repo_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (g_file[0])
        remove_sqlite_files();
    return failed;
}
