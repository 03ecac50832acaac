/* util.c: ids, clocks, SHA-256/HMAC and randomness (OpenSSL libcrypto). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The last id's time and random part: a monotonic ULID. An id made in the
 * same millisecond as the last one (or after the clock stepped back) takes
 * the last one's time and its random part plus one, so ids are strictly
 * increasing within the process, and creation order is id order. */
static pthread_mutex_t id_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t id_last_ms;
static unsigned char id_last_rand[10];

void ck_id_new(char out[CK_ID_MAX], const char *prefix)
{
    unsigned char r[10] = {0};
    uint64_t ms = (uint64_t)ck_now_ms();
    if (ck_random_bytes(r, sizeof(r)) != 0) {
        /* The OS refused randomness: ids must still be unique, never zero. */
        uint64_t t = (uint64_t)ck_mono_us();
        memcpy(r, &t, sizeof(t));
    }
    pthread_mutex_lock(&id_mu);
    if (ms <= id_last_ms) {
        ms = id_last_ms;
        int i = 9;
        while (i >= 0 && ++id_last_rand[i] == 0)
            i--;
        if (i < 0) /* 2^80 ids in one millisecond: borrow the next one */
            memcpy(id_last_rand, r, sizeof(r)), ms = ++id_last_ms;
        memcpy(r, id_last_rand, sizeof(r));
    } else {
        id_last_ms = ms;
        memcpy(id_last_rand, r, sizeof(r));
    }
    pthread_mutex_unlock(&id_mu);
    size_t n = strlen(prefix);
    if (n > CK_ID_MAX - 28)
        n = CK_ID_MAX - 28;
    memcpy(out, prefix, n);
    out[n++] = '_';
    /* 48-bit time, 10 characters (50 bits, top two zero). */
    for (int i = 9; i >= 0; i--) {
        out[n + (size_t)i] = crockford[ms & 31];
        ms >>= 5;
    }
    n += 10;
    /* 80 random bits, 16 characters. */
    for (int i = 0; i < 16; i++) {
        int bit = i * 5;
        unsigned v = ((unsigned)r[bit / 8] << 8 | (bit / 8 + 1 < 10 ? r[bit / 8 + 1] : 0));
        v = (v >> (11 - bit % 8)) & 31;
        out[n++] = crockford[v];
    }
    out[n] = '\0';
}

void ck_owner_new(char out[CK_OWNER_MAX], const char *node_id, const char *prefix)
{
    char rid[CK_ID_MAX];
    ck_id_new(rid, prefix);
    snprintf(out, CK_OWNER_MAX, "%s:%s", node_id, rid);
}

int ck_id_valid(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (!s || strncmp(s, prefix, n) != 0 || s[n] != '_')
        return 0;
    s += n + 1;
    size_t len = strlen(s);
    if (len != 26)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!strchr(crockford, s[i]))
            return 0;
    return 1;
}

int64_t ck_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ck_timespec_in(struct timespec *ts, clockid_t clock, int64_t ms)
{
    clock_gettime(clock, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int64_t ck_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ck_time_format(char out[32], int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

int ck_random_bytes(void *buf, size_t n)
{
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

static void to_hex(char *out, const unsigned char *d, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void ck_sha256_hex(char out[65], const void *data, size_t len)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(data, len, d);
    to_hex(out, d, sizeof(d));
}

void ck_hmac_sha256_hex(char out[65], const void *key, size_t keylen, const void *data, size_t len)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    HMAC(EVP_sha256(), key, (int)keylen, data, len, d, &dl);
    to_hex(out, d, dl);
}

int ck_sign_timestamped(char out[CK_SIG_T_MAX], const char *secret, int64_t unix_s, const char *body, size_t len)
{
    char t[24], mac[65];
    int tl = snprintf(t, sizeof(t), "%lld", (long long)unix_s);
    char *signed_text = malloc((size_t)tl + 1 + len);
    out[0] = '\0';
    if (!signed_text)
        return -1;
    memcpy(signed_text, t, (size_t)tl);
    signed_text[tl] = '.';
    memcpy(signed_text + tl + 1, body, len);
    ck_hmac_sha256_hex(mac, secret, strlen(secret), signed_text, (size_t)tl + 1 + len);
    free(signed_text);
    snprintf(out, CK_SIG_T_MAX, "t=%s,v1=%s", t, mac);
    return 0;
}

int ck_api_key_new(char out[64])
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char r[33];
    if (ck_random_bytes(r, 32) != 0)
        return -1;
    r[32] = 0;
    size_t n = 0;
    out[n++] = 'c';
    out[n++] = 'k';
    out[n++] = '_';
    for (int i = 0; i < 33; i += 3) {
        unsigned v = (unsigned)r[i] << 16 | (unsigned)r[i + 1] << 8 | r[i + 2];
        out[n++] = b64[(v >> 18) & 63];
        out[n++] = b64[(v >> 12) & 63];
        out[n++] = b64[(v >> 6) & 63];
        out[n++] = b64[v & 63];
    }
    n = 3 + 43; /* 256 bits in 43 characters; the rest is padding of zeros */
    out[n] = '\0';
    ck_secure_zero(r, sizeof(r));
    return 0;
}

void ck_secure_zero(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}
