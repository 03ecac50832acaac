/* disk_commit.c: the disk's raw durable commit rate, the ceiling for any
 * database that waits for the disk at each commit. Creates DIR/disk-commit.db
 * (WAL, synchronous=FULL), table t(id INTEGER PRIMARY KEY, v TEXT), and for
 * the given seconds runs single-row transactions (BEGIN; INSERT; COMMIT), one
 * at a time. Prints "durable commits/s: N" and removes its files.
 * Usage: disk_commit DIR [seconds=3] */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs one statement without results; 0 or -1 (the error printed). */
static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    fprintf(stderr, "disk_commit: %s: %s\n", sql, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
}

/* Removes the database and its WAL and shared-memory files. */
static void remove_files(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[4200];
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        int n = snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        if (n > 0 && (size_t)n < sizeof(p))
            unlink(p);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: disk_commit DIR [seconds=3]\n");
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 3;
    if (seconds <= 0) {
        fprintf(stderr, "disk_commit: seconds must be > 0\n");
        return 2;
    }
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/disk-commit.db", argv[1]);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        fprintf(stderr, "disk_commit: directory name too long\n");
        return 2;
    }
    remove_files(path);
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    int rc = 1;
    long commits = 0;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "disk_commit: cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    if (exec(db, "PRAGMA journal_mode=WAL") || exec(db, "PRAGMA synchronous=FULL") ||
        exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"))
        goto done;
    if (sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?1)", -1, &ins, NULL) != SQLITE_OK) {
        fprintf(stderr, "disk_commit: %s\n", sqlite3_errmsg(db));
        goto done;
    }
    double t0 = now_s(), t = t0;
    while (t - t0 < seconds) {
        if (exec(db, "BEGIN"))
            goto done;
        sqlite3_bind_text(ins, 1, "a row of a durable commit", -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fprintf(stderr, "disk_commit: insert: %s\n", sqlite3_errmsg(db));
            goto done;
        }
        sqlite3_reset(ins);
        if (exec(db, "COMMIT"))
            goto done;
        commits++;
        t = now_s();
    }
    printf("durable commits/s: %.0f\n", commits / (t - t0));
    rc = 0;
done:
    sqlite3_finalize(ins);
    sqlite3_close(db);
    remove_files(path);
    return rc;
}
