/* util.h: ids, time, hashing and randomness shared by every part. */
#ifndef CK_UTIL_H
#define CK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CK_MONEY_MAX 100000000000000LL /* 10^14 minor units: far beyond any order or balance */
#define CK_ID_MAX 48 /* prefix + '_' + 26 characters + NUL, with room */
#define CK_STEP_PATH_MAX 64 /* a step's path ("erp/credit_check", lastSuccessfulStep): 63 characters + NUL */

/* Writes "<prefix>_<26 chars>" into out: 48 bits of milliseconds then 80 random
 * bits in Crockford base32, so ids sort by creation time (keyset pagination). */
void ck_id_new(char out[CK_ID_MAX], const char *prefix);

/* A lease owner: "<node_id>:<run>", the node and one run on it. */
#define CK_OWNER_MAX (2 * CK_ID_MAX + 2)

/* Names a lease owner for a new run of node_id: a fresh id of prefix after
 * the node ("node_...:job_..."). */
void ck_owner_new(char out[CK_OWNER_MAX], const char *node_id, const char *prefix);

/* True when s looks like an id of that prefix (cheap syntax check only). */
int ck_id_valid(const char *s, const char *prefix);

/* Milliseconds since the epoch (wall clock) and a monotonic microsecond clock. */
int64_t ck_now_ms(void);
int64_t ck_mono_us(void);
/* *ts = now on clock (CLOCK_REALTIME, CLOCK_MONOTONIC, ...) plus ms: a
 * deadline for pthread_cond_timedwait, pthread_mutex_timedlock and the like. */
void ck_timespec_in(struct timespec *ts, clockid_t clock, int64_t ms);

/* Formats ms as RFC 3339 UTC with milliseconds ("2026-11-22T05:13:24.123Z"). */
void ck_time_format(char out[32], int64_t ms);

/* Fills buf with n cryptographically random bytes; returns 0 or -1. */
int ck_random_bytes(void *buf, size_t n);

/* Lower-case hex SHA-256 of data; out holds 65 bytes. */
void ck_sha256_hex(char out[65], const void *data, size_t len);

/* Lower-case hex HMAC-SHA256 of data with key; out holds 65 bytes. */
void ck_hmac_sha256_hex(char out[65], const void *key, size_t keylen, const void *data, size_t len);

/* The value of a Checkoutd-Signature header, as Stripe signs: "t=<unix
 * seconds>,v1=<lowercase hex HMAC-SHA256 of "<t>.<body>" keyed with
 * secret>", so a receiver can refuse a captured request replayed later.
 * Returns 0, or -1 when out of memory (out is ""). */
#define CK_SIG_T_MAX 96
int ck_sign_timestamped(char out[CK_SIG_T_MAX], const char *secret, int64_t unix_s, const char *body, size_t len);

/* A new API key: "ck_" + 43 base64url characters of 32 random bytes. */
int ck_api_key_new(char out[64]);

/* Overwrites n bytes in a way the compiler will not remove. */
void ck_secure_zero(void *p, size_t n);

/* Initialises libcurl once per process, and, as every outbound call (gateway,
 * callout, webhook, email) begins with it, runs the outbound barrier: the
 * hook that waits until every commit of this process is on disk, so that no
 * peer hears of a commit that a power loss could still undo. 0 or -1. */
int ck_curl_init(void);
/* Sets that hook (the app's; none until set): fn(arg) returns 0 or <0. */
void ck_curl_set_barrier(int (*fn)(void *arg), void *arg);

#endif
