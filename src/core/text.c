/* text.c: the growing text buffer of text.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

/* Room for n more bytes and a NUL; 0, or -1 (oom set). */
static int reserve(ck_text *t, size_t n)
{
    if (t->oom)
        return -1;
    if (t->p && t->len + n < t->cap)
        return 0;
    size_t ncap = t->cap ? t->cap : 1024;
    while (ncap <= t->len + n) {
        if (ncap > ((size_t)-1) / 2) {
            t->oom = 1;
            return -1;
        }
        ncap *= 2;
    }
    char *np = realloc(t->p, ncap);
    if (!np) {
        t->oom = 1;
        return -1;
    }
    t->p = np;
    t->cap = ncap;
    return 0;
}

void ck_text_put(ck_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->oom = 1;
        return;
    }
    if (reserve(t, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void ck_text_add(ck_text *t, const char *s, size_t n)
{
    if (reserve(t, n) < 0)
        return;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}
