/* text.h: a growing text buffer for output built piece by piece (the
 * /metrics exposition, an email). */
#ifndef CK_TEXT_H
#define CK_TEXT_H

#include <stddef.h>

/* Starts zeroed ({0}); p is NUL-terminated once anything was put, and
 * belongs to the caller (free). Out of memory sets oom and drops the rest,
 * so a caller fails whole instead of sending a cut text. */
typedef struct ck_text {
    char *p;
    size_t len, cap;
    int oom;
} ck_text;

void ck_text_put(ck_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends n bytes as they are (NUL bytes included). */
void ck_text_add(ck_text *t, const char *s, size_t n);

/* Makes s (NUL-terminated) valid UTF-8 in place: each byte that does not
 * begin or continue a well-formed character (a character cut short by a
 * bounded copy, a stray continuation byte, an overlong form, a surrogate,
 * past U+10FFFF) becomes '?'. Returns how many bytes it replaced. For text
 * that outside bytes reach and that goes into JSON, where jansson refuses
 * anything but UTF-8. */
size_t ck_utf8_repair(char *s);

#endif
