/* bench_http.h: what the benchmarks' HTTP clients share: starting the
 * daemon with their admin key, a growable response buffer for libcurl, a
 * monotonic clock, and one blocking request. */
#ifndef CK_BENCH_HTTP_H
#define CK_BENCH_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <sys/types.h>

#define BENCH_ADMIN_KEY "bench-admin-key-0123456789"

typedef struct bench_buf {
    char *p; /* NUL-terminated, or NULL when nothing came */
    size_t n;
} bench_buf;

/* Starts bin (checkoutd) on 127.0.0.1, an ephemeral port, the database db
 * and --sqlite-synchronous sync, with --workers workers unless NULL, and the
 * admin key; its stderr goes to /dev/null. Returns its pid with base set to
 * "http://127.0.0.1:PORT" once it listens, or -1 when it did not start. */
pid_t bench_start_daemon(const char *bin, const char *db, const char *sync, const char *workers, char base[64]);

/* As bench_start_daemon with these arguments after --listen (NULL-terminated). */
pid_t bench_start_daemon_argv(const char *bin, const char *const *args, char base[64]);

/* CURLOPT_WRITEFUNCTION for a bench_buf (CURLOPT_WRITEDATA). */
size_t bench_on_data(char *ptr, size_t size, size_t nmemb, void *ud);

/* Seconds on the monotonic clock. */
double bench_now_s(void);

/* One blocking request to base + path with the admin key and, when body is
 * given, that JSON body. Returns the HTTP status (0: no answer) and, when
 * out is given, the body (the caller frees; NULL when empty). */
long bench_call(CURL *c, const char *base, const char *method, const char *path, const char *body, char **out);

#endif
