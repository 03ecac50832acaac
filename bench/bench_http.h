/* bench_http.h: what the benchmarks' HTTP clients share: the admin key they
 * start the daemon with, a growable response buffer for libcurl, a
 * monotonic clock, and one blocking request. */
#ifndef CK_BENCH_HTTP_H
#define CK_BENCH_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#define BENCH_ADMIN_KEY "bench-admin-key-0123456789"

typedef struct bench_buf {
    char *p; /* NUL-terminated, or NULL when nothing came */
    size_t n;
} bench_buf;

/* CURLOPT_WRITEFUNCTION for a bench_buf (CURLOPT_WRITEDATA). */
size_t bench_on_data(char *ptr, size_t size, size_t nmemb, void *ud);

/* Seconds on the monotonic clock. */
double bench_now_s(void);

/* One blocking request to base + path with the admin key and, when body is
 * given, that JSON body. Returns the HTTP status (0: no answer) and, when
 * out is given, the body (the caller frees; NULL when empty). */
long bench_call(CURL *c, const char *base, const char *method, const char *path, const char *body, char **out);

#endif
