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

/* The length of the well-formed UTF-8 character at p (RFC 3629), or 0. */
static size_t utf8_char(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min, cp;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0; /* cut short (a NUL included) or not a continuation */
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

size_t ck_utf8_repair(char *s)
{
    size_t replaced = 0;
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_char(p);
        if (n == 0) {
            *p++ = '?';
            replaced++;
        } else {
            p += n;
        }
    }
    return replaced;
}
