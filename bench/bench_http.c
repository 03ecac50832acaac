/* bench_http.c: the benchmarks' shared HTTP client parts (bench_http.h). */
#include "bench_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

size_t bench_on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    bench_buf *b = ud;
    size_t add = size * nmemb;
    char *np = realloc(b->p, b->n + add + 1);
    if (!np)
        return 0;
    b->p = np;
    memcpy(b->p + b->n, ptr, add);
    b->n += add;
    b->p[b->n] = '\0';
    return add;
}

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

long bench_call(CURL *c, const char *base, const char *method, const char *path, const char *body, char **out)
{
    char url[512];
    bench_buf b = {0};
    snprintf(url, sizeof(url), "%s%s", base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " BENCH_ADMIN_KEY);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    if (out)
        *out = b.p;
    else
        free(b.p);
    return status;
}
