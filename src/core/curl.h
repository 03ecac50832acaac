/* curl.h: what every outbound HTTP caller shares on top of libcurl (the
 * http gateway, webhooks, flow callouts): a response body read into memory
 * up to a bound, and a progress callback that cuts a transfer short when a
 * shutdown flag rises. ck_curl_init (core/util.h) initialises libcurl. */
#ifndef CK_CORE_CURL_H
#define CK_CORE_CURL_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stddef.h>

/* A response body: set max, zero the rest; data (NUL-terminated, NULL
 * until the first byte) belongs to the caller, who frees it. */
typedef struct ck_curl_body {
    char *data;
    size_t len, cap, max;
    int too_large; /* the body would pass max: the transfer was stopped there */
} ck_curl_body;

/* CURLOPT_WRITEFUNCTION for a ck_curl_body (CURLOPT_WRITEDATA): appends,
 * or stops the transfer (CURLE_WRITE_ERROR) once the body would pass max
 * or memory runs out. */
size_t ck_curl_body_write(char *ptr, size_t size, size_t nmemb, void *ud);

/* CURLOPT_XFERINFOFUNCTION whose CURLOPT_XFERINFODATA is an atomic_int *
 * (NULL: never): aborts the transfer (CURLE_ABORTED_BY_CALLBACK) once it is
 * nonzero. */
int ck_curl_abort_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

#endif
