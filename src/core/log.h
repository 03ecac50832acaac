/* log.h: the daemon's log. Every line on stderr is one JSON object,
 * {"ts","level","msg", ...fields}, built with jansson, so text from outside
 * (paths, request bodies, gateway and webhook answers, SQL errors) is always
 * escaped and can never split a record or forge one. One write per line, so
 * lines of different threads never interleave. */
#ifndef CK_LOG_H
#define CK_LOG_H

#include <jansson.h>
#include <stdarg.h>

typedef enum { CK_LOG_DEBUG, CK_LOG_INFO, CK_LOG_WARN, CK_LOG_ERROR, CK_LOG_FATAL } ck_log_level;

/* One record: msg, then key/value string pairs ending with a NULL key (a
 * NULL value is written as null). */
void ck_log(ck_log_level level, const char *msg, ...) __attribute__((sentinel));

/* One record with typed fields: fields (an object, may be NULL) is stolen;
 * its keys follow ts, level and msg. */
void ck_log_obj(ck_log_level level, const char *msg, json_t *fields);

/* One record whose msg is printf-formatted (escaped like every value). */
void ck_logf(ck_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ck_logv(ck_log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* A record a loop may repeat many times a second (a background worker
 * whose database is down): at most one per interval_ms per limiter. Returns
 * 1 when this one is to be written, with *suppressed the number dropped
 * since the last one written, else 0 (and counts it). now_ms: the caller's
 * clock (ck_mono_us() / 1000). Thread-safe; a zeroed limiter is ready. */
typedef struct ck_log_limit {
    _Atomic long long next_ms, suppressed;
} ck_log_limit;
int ck_log_allow(ck_log_limit *l, long long now_ms, long long interval_ms, long long *suppressed);
/* ck_log(level, msg, "error", error) through l, one per interval_ms, the
 * record carrying "suppressed" (a number). */
void ck_log_limited(ck_log_limit *l, long long interval_ms, ck_log_level level, const char *msg, const char *error);

/* The level's name: "debug", "info", "warn", "error", "fatal". */
const char *ck_log_level_name(ck_log_level level);

#endif
