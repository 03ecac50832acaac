/* curl_init.c: libcurl's process-wide initialisation, once, for every part
 * that makes outbound calls (gateways, webhooks, email, flow callouts), and
 * what those callers share (core/curl.h). */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/curl.h"
#include "core/util.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc = -1;
static int (*barrier_fn)(void *);
static void *barrier_arg;

void ck_curl_set_barrier(int (*fn)(void *arg), void *arg)
{
    barrier_arg = arg;
    barrier_fn = fn;
}

static void init(void)
{
    init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int ck_curl_init(void)
{
    pthread_once(&once, init);
    if (init_rc == 0 && barrier_fn && barrier_fn(barrier_arg) < 0)
        return -1;
    return init_rc;
}

size_t ck_curl_body_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    ck_curl_body *b = ud;
    size_t n = size * nmemb;
    if (n > b->max - b->len) {
        b->too_large = 1;
        return 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return 0;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

int ck_curl_abort_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    atomic_int *abort_flag = ud;
    return abort_flag && atomic_load(abort_flag) ? 1 : 0;
}
