/* test_log_limit.c: the log's rate limit for records a loop repeats
 * (ck_log_allow, core/log.h), on a clock the test gives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>

#include "core/log.h"

/* One record per interval: the first passes, the rest of the interval is
 * counted, and the first after it passes with that count. */
static void one_per_interval(void **state)
{
    (void)state;
    ck_log_limit l = {0};
    long long sup = -1;
    assert_int_equal(ck_log_allow(&l, 1000, 10000, &sup), 1);
    assert_int_equal(sup, 0);
    for (int i = 0; i < 99; i++)
        assert_int_equal(ck_log_allow(&l, 1000 + i * 100, 10000, &sup), 0);
    assert_int_equal(ck_log_allow(&l, 10999, 10000, &sup), 0); /* 100 dropped */
    assert_int_equal(ck_log_allow(&l, 11000, 10000, &sup), 1);
    assert_int_equal(sup, 100);
    assert_int_equal(ck_log_allow(&l, 30000, 10000, &sup), 1); /* a quiet spell: nothing dropped */
    assert_int_equal(sup, 0);
}

static ck_log_limit shared;
static int passed[8];

static void *hammer(void *arg)
{
    int *n = arg;
    long long sup;
    for (int i = 0; i < 10000; i++)
        *n += ck_log_allow(&shared, 5000, 10000, &sup);
    return NULL;
}

/* Threads at one instant: exactly one record passes, the rest are counted. */
static void one_of_many_threads(void **state)
{
    (void)state;
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, hammer, &passed[i]);
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        total += passed[i];
    }
    assert_int_equal(total, 1);
    long long sup = 0;
    assert_int_equal(ck_log_allow(&shared, 15000, 10000, &sup), 1);
    assert_int_equal(sup, 79999);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_per_interval),
        cmocka_unit_test(one_of_many_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
