/* log.c: one JSON object per stderr line (log.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

const char *ck_log_level_name(ck_log_level level)
{
    static const char *const names[] = {"debug", "info", "warn", "error", "fatal"};
    return level >= CK_LOG_DEBUG && level <= CK_LOG_FATAL ? names[level] : "info";
}

static void emit(json_t *rec)
{
    char *text = rec ? json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (!text) {
        /* Out of memory: still one valid line. */
        static const char oom[] = "{\"level\":\"error\",\"msg\":\"out of memory while logging\"}\n";
        fwrite(oom, 1, sizeof(oom) - 1, stderr);
        return;
    }
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (line) {
        line[n] = '\n';
        line[n + 1] = '\0';
        fwrite(line, 1, n + 1, stderr); /* one call: one line, whole */
        free(line);
    } else {
        flockfile(stderr);
        fputs(text, stderr);
        fputc('\n', stderr);
        funlockfile(stderr);
        free(text);
    }
}

/* text as a JSON string; bytes that are not UTF-8 become '?' (a gateway's
 * answer need not be UTF-8, and the record must still be written). */
static json_t *text_value(const char *text)
{
    if (!text)
        return json_null();
    json_t *v = json_string(text);
    if (v)
        return v;
    char *copy = strdup(text);
    if (!copy)
        return json_string("(out of memory)");
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80)
            *c = '?';
    v = json_string(copy);
    free(copy);
    return v;
}

static json_t *record(ck_log_level level, const char *msg)
{
    char ts[32];
    ck_time_format(ts, ck_now_ms());
    json_t *rec = json_pack("{s:s, s:s}", "ts", ts, "level", ck_log_level_name(level));
    if (rec)
        json_object_set_new(rec, "msg", text_value(msg ? msg : ""));
    return rec;
}

void ck_log_obj(ck_log_level level, const char *msg, json_t *fields)
{
    json_t *rec = record(level, msg);
    const char *key;
    json_t *v;
    if (rec && json_is_object(fields))
        json_object_foreach(fields, key, v) if (!json_object_get(rec, key)) json_object_set(rec, key, v);
    json_decref(fields);
    emit(rec);
    json_decref(rec);
}

void ck_log(ck_log_level level, const char *msg, ...)
{
    json_t *rec = record(level, msg);
    va_list ap;
    va_start(ap, msg);
    for (const char *key; (key = va_arg(ap, const char *));) {
        const char *value = va_arg(ap, const char *);
        if (rec && !json_object_get(rec, key))
            json_object_set_new(rec, key, text_value(value));
    }
    va_end(ap);
    emit(rec);
    json_decref(rec);
}

void ck_logv(ck_log_level level, const char *fmt, va_list ap)
{
    char small[512], *msg = small;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    if (n >= (int)sizeof(small) && (msg = malloc((size_t)n + 1)))
        vsnprintf(msg, (size_t)n + 1, fmt, copy);
    va_end(copy);
    if (n < 0)
        msg = small, snprintf(small, sizeof(small), "(unformattable log message)");
    ck_log(level, msg ? msg : small, NULL);
    if (msg != small)
        free(msg);
}

void ck_logf(ck_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ck_logv(level, fmt, ap);
    va_end(ap);
}

int ck_log_allow(ck_log_limit *l, long long now_ms, long long interval_ms, long long *suppressed)
{
    long long next = atomic_load(&l->next_ms);
    if (now_ms < next || !atomic_compare_exchange_strong(&l->next_ms, &next, now_ms + interval_ms)) {
        atomic_fetch_add(&l->suppressed, 1);
        return 0;
    }
    *suppressed = atomic_exchange(&l->suppressed, 0);
    return 1;
}

void ck_log_limited(ck_log_limit *l, long long interval_ms, ck_log_level level, const char *msg, const char *error)
{
    long long suppressed = 0;
    if (ck_log_allow(l, (long long)(ck_mono_us() / 1000), interval_ms, &suppressed))
        ck_log_obj(level, msg, json_pack("{s:s?, s:I}", "error", error, "suppressed", (json_int_t)suppressed));
}
