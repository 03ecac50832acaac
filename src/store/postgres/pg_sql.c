/* pg_sql.c: placeholder translation (store/postgres/pg_sql.h). */
#include "store/postgres/pg_sql.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The decimal digits of k (k >= 1). */
static size_t digits(long long k)
{
    size_t d = 1;
    while (k >= 10) {
        k /= 10;
        d++;
    }
    return d;
}

char *ck_pg_translate(const char *sql, int *nparams)
{
    /* First the exact size: each $k takes 1 + digits(k) bytes (the old
     * fixed 4 bytes per input byte overflowed past 999 placeholders). */
    size_t out_len = 0;
    long long k = 0;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            out_len++;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            out_len++;
        } else if (*p == '?') {
            if (++k > INT_MAX)
                return NULL;
            out_len += 1 + digits(k);
        } else {
            out_len++;
        }
    }
    char *out = malloc(out_len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    int n = 0;
    quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            out[o++] = *p;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            out[o++] = *p;
        } else if (*p == '?') {
            o += (size_t)snprintf(out + o, out_len + 1 - o, "$%d", ++n);
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    *nparams = n;
    return out;
}
