/* test_util.c: ids, time formatting, SHA-256/HMAC and API keys (core/util.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* The 48-bit millisecond time in the first 10 characters after the prefix. */
static int64_t id_time(const char *id)
{
    const char *p = strchr(id, '_');
    assert_non_null(p);
    int64_t ms = 0;
    for (int i = 1; i <= 10; i++) {
        const char *c = strchr(crockford, p[i]);
        assert_non_null(c);
        ms = ms * 32 + (c - crockford);
    }
    return ms;
}

static void id_new_shape(void **state)
{
    char id[CK_ID_MAX];
    int64_t before = ck_now_ms();
    ck_id_new(id, "cart");
    int64_t after = ck_now_ms();
    assert_int_equal(strlen(id), strlen("cart_") + 26);
    assert_memory_equal(id, "cart_", 5);
    for (size_t i = 5; i < strlen(id); i++)
        assert_non_null(strchr(crockford, id[i]));
    /* No I, L, O, U, and no lower case. */
    assert_null(strpbrk(id + 5, "ILOUilou"));
    assert_true(ck_id_valid(id, "cart"));
    assert_false(ck_id_valid(id, "store"));
    /* The time part is the creation time. */
    int64_t t = id_time(id);
    assert_in_range(t, before, after);
    /* 48 bits in 10 characters: the first character holds only 3 bits. */
    assert_in_range(id[5], '0', '7');
}

static void id_new_prefixes(void **state)
{
    static const char *const prefixes[] = {"store", "acct", "usr", "prod", "cart", "item", "cs",
                                           "req", "ord", "pa", "pay", "evt", "dlv", "sub", "flow",
                                           "shm", "tax", "promo", "ctr", "cvo", "rid", NULL};
    for (int i = 0; prefixes[i]; i++) {
        char id[CK_ID_MAX];
        ck_id_new(id, prefixes[i]);
        size_t n = strlen(prefixes[i]);
        assert_int_equal(strlen(id), n + 1 + 26);
        assert_memory_equal(id, prefixes[i], n);
        assert_int_equal(id[n], '_');
        assert_true(ck_id_valid(id, prefixes[i]));
    }
}

static void id_new_unique(void **state)
{
    char a[CK_ID_MAX], b[CK_ID_MAX];
    ck_id_new(a, "ord");
    ck_id_new(b, "ord");
    assert_string_not_equal(a, b);
    /* Many in the same millisecond are still distinct (80 random bits). */
    enum { N = 1000 };
    static char ids[N][CK_ID_MAX];
    for (int i = 0; i < N; i++)
        ck_id_new(ids[i], "evt");
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            assert_string_not_equal(ids[i], ids[j]);
}

static void id_new_sorts_by_time(void **state)
{
    char prev[CK_ID_MAX], next[CK_ID_MAX];
    ck_id_new(prev, "cart");
    for (int i = 0; i < 5; i++) {
        sleep_ms(2);
        ck_id_new(next, "cart");
        assert_true(strcmp(prev, next) < 0);
        assert_true(id_time(prev) < id_time(next));
        memcpy(prev, next, sizeof(prev));
    }
}

/* Strictly increasing within the process, also within one millisecond
 * (API.md "Lists": creation order is id order): 20,000 ids in a tight loop,
 * many sharing a millisecond, each greater than the last, the prefix aside. */
static void id_new_strictly_increasing(void **state)
{
    enum { N = 20000 };
    static char ids[N][CK_ID_MAX];
    int same_ms = 0;
    for (int i = 0; i < N; i++)
        ck_id_new(ids[i], i % 2 ? "evt" : "ord");
    for (int i = 1; i < N; i++) {
        const char *a = strchr(ids[i - 1], '_'), *b = strchr(ids[i], '_');
        if (strcmp(a, b) >= 0)
            fail_msg("%s is not after %s", ids[i], ids[i - 1]);
        same_ms += id_time(ids[i - 1]) == id_time(ids[i]);
    }
    assert_true(same_ms > 0); /* the loop did make ids within one millisecond */
}

typedef struct id_batch {
    char ids[5000][CK_ID_MAX];
} id_batch;

static void *make_ids(void *arg)
{
    id_batch *b = arg;
    for (int i = 0; i < 5000; i++)
        ck_id_new(b->ids[i], "cart");
    return NULL;
}

/* From several threads at once: each thread's ids increase, and no two ids
 * of the process are equal. */
static void id_new_threads(void **state)
{
    enum { T = 4 };
    static id_batch batches[T];
    pthread_t t[T];
    for (int i = 0; i < T; i++)
        assert_int_equal(pthread_create(&t[i], NULL, make_ids, &batches[i]), 0);
    for (int i = 0; i < T; i++)
        pthread_join(t[i], NULL);
    static char all[T * 5000][CK_ID_MAX];
    int n = 0;
    for (int i = 0; i < T; i++)
        for (int k = 0; k < 5000; k++) {
            if (k > 0)
                assert_true(strcmp(batches[i].ids[k - 1], batches[i].ids[k]) < 0);
            memcpy(all[n++], batches[i].ids[k], CK_ID_MAX);
        }
    qsort(all, (size_t)n, CK_ID_MAX, (int (*)(const void *, const void *))strcmp);
    for (int i = 1; i < n; i++)
        assert_string_not_equal(all[i - 1], all[i]);
}

static void id_valid_rejects(void **state)
{
    const char *good = "store_01M80V5EQG4YHAXXJRNX68ZH9P";
    assert_true(ck_id_valid(good, "store"));
    assert_false(ck_id_valid(good, "stor"));    /* prefix must end at '_' */
    assert_false(ck_id_valid(good, "stores"));
    assert_false(ck_id_valid(good, "acct"));
    assert_false(ck_id_valid(NULL, "store"));
    assert_false(ck_id_valid("", "store"));
    assert_false(ck_id_valid("store", "store"));
    assert_false(ck_id_valid("store_", "store"));
    assert_false(ck_id_valid("store01M80V5EQG4YHAXXJRNX68ZH9P", "store"));  /* no '_' */
    assert_false(ck_id_valid("store-01M80V5EQG4YHAXXJRNX68ZH9P", "store")); /* wrong separator */
    assert_false(ck_id_valid("store_01M80V5EQG4YHAXXJRNX68ZH9", "store"));  /* 25 */
    assert_false(ck_id_valid("store_01M80V5EQG4YHAXXJRNX68ZH9PP", "store")); /* 27 */
    assert_false(ck_id_valid("store_01m80v5eqg4yhaxxjrnx68zh9p", "store")); /* lower case */
    assert_false(ck_id_valid("store_01M80V5EQG4YHAXXJRNX68ZH9I", "store")); /* I */
    assert_false(ck_id_valid("store_01M80V5EQG4YHAXXJRNX68ZH9L", "store")); /* L */
    assert_false(ck_id_valid("store_01M80V5EQG4YHAXXJRNX68ZH9O", "store")); /* O */
    assert_false(ck_id_valid("store_01M80V5EQG4YHAXXJRNX68ZH9U", "store")); /* U */
    assert_false(ck_id_valid("store_01M80V5EQG4YHAXXJRNX68ZH9-", "store"));
    assert_false(ck_id_valid("store_01M80V5EQG4YHAXX RNX68ZH9P", "store"));
    assert_false(ck_id_valid("store_store_01M80V5EQG4YHAXXJRNX", "store"));
    assert_true(ck_id_valid("cs_00000000000000000000000000", "cs"));
    assert_true(ck_id_valid("cs_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "cs"));
}

static void time_format_fixed(void **state)
{
    char out[32];
    ck_time_format(out, 0);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    ck_time_format(out, 1700000000123LL);
    assert_string_equal(out, "2023-11-14T22:13:20.123Z");
    ck_time_format(out, 999);
    assert_string_equal(out, "1970-01-01T00:00:00.999Z");
    ck_time_format(out, 1000);
    assert_string_equal(out, "1970-01-01T00:00:01.000Z");
    ck_time_format(out, 951782400007LL); /* a leap day */
    assert_string_equal(out, "2000-02-29T00:00:00.007Z");
    ck_time_format(out, 253402300799999LL);
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
}

static void time_clocks(void **state)
{
    int64_t m0 = ck_mono_us();
    int64_t w0 = ck_now_ms();
    sleep_ms(3);
    int64_t m1 = ck_mono_us();
    int64_t w1 = ck_now_ms();
    assert_true(m1 - m0 >= 3000);
    assert_true(w1 >= w0);
    assert_true(w0 > 1700000000000LL); /* after November 2023 */
}

static void sha256_vectors(void **state)
{
    char out[65];
    ck_sha256_hex(out, "abc", 3);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_sha256_hex(out, "", 0);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ck_sha256_hex(out, s, strlen(s));
    assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_int_equal(strlen(out), 64);
}

static void hmac_sha256_vectors(void **state)
{
    char out[65];
    /* RFC 4231 test case 2. */
    const char *data = "what do ya want for nothing?";
    ck_hmac_sha256_hex(out, "Jefe", 4, data, strlen(data));
    assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 4231 test case 1. */
    unsigned char key[20];
    memset(key, 0x0b, sizeof(key));
    ck_hmac_sha256_hex(out, key, sizeof(key), "Hi There", 8);
    assert_string_equal(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* RFC 4231 test case 6: a key longer than the block size. */
    unsigned char big[131];
    memset(big, 0xaa, sizeof(big));
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    ck_hmac_sha256_hex(out, big, sizeof(big), d6, strlen(d6));
    assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void api_key_shape(void **state)
{
    char a[64], b[64];
    memset(a, 'x', sizeof(a));
    assert_int_equal(ck_api_key_new(a), 0);
    assert_int_equal(ck_api_key_new(b), 0);
    assert_int_equal(strlen(a), 46);
    assert_int_equal(strlen(b), 46);
    assert_memory_equal(a, "ck_", 3);
    assert_memory_equal(b, "ck_", 3);
    assert_string_not_equal(a, b);
    for (int i = 3; i < 46; i++)
        assert_non_null(strchr(b64url, a[i]));
    /* 256 bits in 43 characters: the last carries 4 bits and two zero bits. */
    const char *last = strchr(b64url, a[45]);
    assert_non_null(last);
    assert_int_equal((last - b64url) & 3, 0);
    /* No padding and no standard-base64 characters. */
    assert_null(strpbrk(a + 3, "+/="));
}

static void secure_zero(void **state)
{
    unsigned char buf[32];
    memset(buf, 0x5a, sizeof(buf));
    ck_secure_zero(buf, 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(buf[i], 0);
    for (int i = 16; i < 32; i++)
        assert_int_equal(buf[i], 0x5a);
}

static void random_bytes(void **state)
{
    unsigned char a[32] = {0}, b[32] = {0};
    assert_int_equal(ck_random_bytes(a, sizeof(a)), 0);
    assert_int_equal(ck_random_bytes(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(id_new_shape),
        cmocka_unit_test(id_new_prefixes),
        cmocka_unit_test(id_new_unique),
        cmocka_unit_test(id_new_sorts_by_time),
        cmocka_unit_test(id_new_strictly_increasing),
        cmocka_unit_test(id_new_threads),
        cmocka_unit_test(id_valid_rejects),
        cmocka_unit_test(time_format_fixed),
        cmocka_unit_test(time_clocks),
        cmocka_unit_test(sha256_vectors),
        cmocka_unit_test(hmac_sha256_vectors),
        cmocka_unit_test(api_key_shape),
        cmocka_unit_test(secure_zero),
        cmocka_unit_test(random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
