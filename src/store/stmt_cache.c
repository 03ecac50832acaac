/* stmt_cache.c: the per-connection prepared-statement cache of the backends. */
#include <stdlib.h>
#include <string.h>

#include "store/db_internal.h"

uint64_t ck_sql_hash(const char *sql)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *sql; sql++)
        h = (h ^ (unsigned char)*sql) * 1099511628211ULL;
    return h;
}

struct ck_stmt *ck_stmt_cache_find(const ck_stmt_cache *c, const char *sql, uint64_t h)
{
    if (!c->cap)
        return NULL;
    for (size_t j = h & (c->cap - 1); c->slot[j]; j = (j + 1) & (c->cap - 1))
        if (c->slot[j]->hash == h && strcmp(c->slot[j]->sql, sql) == 0)
            return c->slot[j];
    return NULL;
}

int ck_stmt_cache_put(ck_stmt_cache *c, struct ck_stmt *s)
{
    if ((c->used + 1) * 2 > c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        struct ck_stmt **n = calloc(ncap, sizeof(*n));
        if (!n)
            return -1;
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->slot[i])
                continue;
            size_t j = c->slot[i]->hash & (ncap - 1);
            while (n[j])
                j = (j + 1) & (ncap - 1);
            n[j] = c->slot[i];
        }
        free(c->slot);
        c->slot = n;
        c->cap = ncap;
    }
    size_t j = s->hash & (c->cap - 1);
    while (c->slot[j])
        j = (j + 1) & (c->cap - 1);
    c->slot[j] = s;
    c->used++;
    return 0;
}

void ck_stmt_cache_free(ck_stmt_cache *c, void (*free_stmt)(struct ck_stmt *))
{
    for (size_t i = 0; i < c->cap; i++)
        if (c->slot[i])
            free_stmt(c->slot[i]);
    free(c->slot);
    c->slot = NULL;
    c->cap = c->used = 0;
}
