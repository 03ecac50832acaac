/* test_share.c: the shares of a line's units (fulfillment/share.c, API.md
 * "Fulfillment, cancellation and returns"): round_half_up(total × n / q),
 * the last units taking the remainder, so that the shares of any sequence
 * of fulfilments and cancellations sum to the line's total exactly, and a
 * line's refunds never pass what its fulfilled units carried. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>

#include "fulfillment/share.h"

static void rounding(void **state)
{
    (void)state;
    assert_int_equal(ck_share_round(6492, 2, 3), 4328); /* 4328.0 */
    assert_int_equal(ck_share_round(6492, 1, 3), 2164);
    assert_int_equal(ck_share_round(10, 1, 3), 3);  /* 3.33 */
    assert_int_equal(ck_share_round(10, 2, 3), 7);  /* 6.67 */
    assert_int_equal(ck_share_round(5, 1, 2), 3);   /* 2.5 rounds half up */
    assert_int_equal(ck_share_round(1, 1, 4), 0);   /* 0.25 */
    assert_int_equal(ck_share_round(0, 1, 3), 0);
    assert_int_equal(ck_share_round(7, 3, 3), 7);
    /* No overflow near the top of int64. */
    assert_int_equal(ck_share_round(INT64_MAX / 2, 3, 4), (int64_t)(((__int128)(INT64_MAX / 2) * 3 * 2 + 4) / 8));
}

/* The worked example: a line of 3 units carrying 6492. */
static void worked_example(void **state)
{
    (void)state;
    /* Fulfil 2, cancel 1. */
    int64_t a = ck_share_next(6492, 3, 0, 0, 2);
    assert_int_equal(a, 4328);
    int64_t b = ck_share_next(6492, 3, 2, a, 1);
    assert_int_equal(b, 2164);
    /* Return 1 of the 2 fulfilled, then the other. */
    int64_t r1 = ck_share_refund(6492, 3, 2, a, 0, 0, 1);
    assert_int_equal(r1, 2164);
    assert_int_equal(ck_share_refund(6492, 3, 2, a, 1, r1, 1), 4328 - 2164);
    /* One at a time. */
    int64_t s1 = ck_share_next(6492, 3, 0, 0, 1), s2 = ck_share_next(6492, 3, 1, s1, 1),
            s3 = ck_share_next(6492, 3, 2, s1 + s2, 1);
    assert_int_equal(s1, 2164);
    assert_int_equal(s2, 2164);
    assert_int_equal(s3, 2164);
}

/* The last units take the remainder: 10 over 3 units one by one is 3, 3, 4. */
static void remainder_last(void **state)
{
    (void)state;
    int64_t s1 = ck_share_next(10, 3, 0, 0, 1);
    int64_t s2 = ck_share_next(10, 3, 1, s1, 1);
    int64_t s3 = ck_share_next(10, 3, 2, s1 + s2, 1);
    assert_int_equal(s1, 3);
    assert_int_equal(s2, 3);
    assert_int_equal(s3, 4);
    /* 2 then 1: 7 then 3. */
    assert_int_equal(ck_share_next(10, 3, 0, 0, 2), 7);
    assert_int_equal(ck_share_next(10, 3, 2, 7, 1), 3);
}

/* Rounding up early never drives a later share below 0: 2 over 4 units
 * rounds each unit's 0.5 up to 1, so the third and fourth get 0. */
static void never_below_zero(void **state)
{
    (void)state;
    int64_t s1 = ck_share_next(2, 4, 0, 0, 1), s2 = ck_share_next(2, 4, 1, s1, 1);
    int64_t s3 = ck_share_next(2, 4, 2, s1 + s2, 1), s4 = ck_share_next(2, 4, 3, s1 + s2 + s3, 1);
    assert_int_equal(s1, 1);
    assert_int_equal(s2, 1);
    assert_int_equal(s3, 0);
    assert_int_equal(s4, 0);
}

/* Every split of every small line sums to its total exactly, no share is
 * negative, and returns of the fulfilled units sum to what they carried. */
static void every_split_sums(void **state)
{
    (void)state;
    srand(14);
    for (int round = 0; round < 20000; round++) {
        int64_t q = 1 + rand() % 12, total = rand() % 5000, done = 0, assigned = 0;
        int64_t fulfilled = 0, fulfilled_amount = 0;
        while (done < q) {
            int64_t n = 1 + rand() % (q - done);
            int64_t s = ck_share_next(total, q, done, assigned, n);
            assert_true(s >= 0);
            if (rand() % 2) {
                fulfilled += n;
                fulfilled_amount += s;
            }
            done += n;
            assigned += s;
        }
        assert_int_equal(assigned, total);
        int64_t returned = 0, refunded = 0;
        while (returned < fulfilled) {
            int64_t n = 1 + rand() % (fulfilled - returned);
            int64_t r = ck_share_refund(total, q, fulfilled, fulfilled_amount, returned, refunded, n);
            assert_true(r >= 0);
            returned += n;
            refunded += r;
            assert_true(refunded <= fulfilled_amount);
        }
        assert_int_equal(refunded, fulfilled_amount);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rounding),         cmocka_unit_test(worked_example), cmocka_unit_test(remainder_last),
        cmocka_unit_test(never_below_zero), cmocka_unit_test(every_split_sums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
