/* db_internal.h: the per-connection statement cache both backends share. */
#ifndef CK_DB_INTERNAL_H
#define CK_DB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "checkout/sys/db_backend.h"

/* Prepared statements of one connection by their SQL text: open addressing,
 * power-of-two size. The cache does not own the statements; the backend
 * frees them (ck_stmt_cache_free calls back for each). */
typedef struct ck_stmt_cache {
    struct ck_stmt **slot;
    size_t cap, used;
} ck_stmt_cache;

uint64_t ck_sql_hash(const char *sql);
/* The cached statement for sql (hash h), or NULL. */
struct ck_stmt *ck_stmt_cache_find(const ck_stmt_cache *c, const char *sql, uint64_t h);
/* Adds s (s->sql and s->hash set); 0 or -1 when out of memory. */
int ck_stmt_cache_put(ck_stmt_cache *c, struct ck_stmt *s);
/* Calls free_stmt for every statement, then frees the table. */
void ck_stmt_cache_free(ck_stmt_cache *c, void (*free_stmt)(struct ck_stmt *));

#endif
