/* migrate.c: applies the embedded numbered migrations in order. */
#include "store/migrations.h"
#include "checkout/sys/db_backend.h"
#include "core/util.h"

int ck_migrate(ck_db *db, ck_error *err)
{
    int rc = ck_db_exec(db, NULL, err,
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                        "");
    if (rc < 0)
        return rc;
    for (int i = 0; i < ck_migration_count; i++) {
        const ck_migration *m = &ck_migrations[i];
        ck_stmt *st = NULL;
        if ((rc = ck_db_begin(db, 1, err)) < 0)
            return rc;
        rc = ck_db_one(db, &st, err, "SELECT 1 FROM schema_migrations WHERE version = ?", "i",
                       (int64_t)m->version);
        ck_db_done(st);
        if (rc == 0) {
            rc = ck_db_driver_of(db)->exec_script(db, m->sql, err);
            if (rc == 0)
                rc = ck_db_exec(db, NULL, err,
                                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                "iti", (int64_t)m->version, m->name, ck_now_ms());
        }
        if (rc < 0) {
            ck_db_rollback(db);
            return rc;
        }
        if ((rc = ck_db_commit(db, err)) < 0)
            return rc;
    }
    return 0;
}

int ck_migrate_version(ck_db *db, int64_t *version, ck_error *err)
{
    ck_stmt *st = NULL;
    *version = 0;
    int rc = ck_db_one(db, &st, err, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", "");
    if (rc < 0)
        return rc;
    if (rc == 1)
        *version = ck_col_int(st, 0);
    ck_db_done(st);
    return 0;
}
