/* migrations.h: the numbered SQL migrations embedded at build time. */
#ifndef CK_MIGRATIONS_H
#define CK_MIGRATIONS_H

#include "checkout/db.h"

typedef struct ck_migration {
    int version;
    const char *name;
    const char *sql;
} ck_migration;

extern const ck_migration ck_migrations[];
extern const int ck_migration_count;

/* Applies every migration newer than the database's version, each in its own
 * transaction with its row in schema_migrations. Returns 0 or <0. */
int ck_migrate(ck_db *db, ck_error *err);

/* The database's schema version (its newest applied migration; 0 for none)
 * into *version. 0 or <0. */
int ck_migrate_version(ck_db *db, int64_t *version, ck_error *err);

#endif
