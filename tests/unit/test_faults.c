/* test_faults.c: CHECKOUTD_FAULTS parsing and firing: POINT, POINT*N, points
 * with an argument, and unknown points refused (a typo must not silently
 * turn a crash test into a pass). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "core/faults.h"

static void fires_always_or_n_times(void **state)
{
    (void)state;
    ck_faults *f = NULL;
    ck_error err;
    assert_int_equal(ck_faults_parse(&f, "session.create*2, step.fail:create_order,crash.gateway", &err), 0);
    assert_non_null(f);
    assert_true(ck_fault(f, "session.create"));
    assert_true(ck_fault(f, "session.create"));
    assert_false(ck_fault(f, "session.create")); /* *2: the first two only */
    for (int i = 0; i < 5; i++)
        assert_true(ck_fault_at(f, "step.fail", "create_order"));
    assert_false(ck_fault_at(f, "step.fail", "payment"));
    assert_true(ck_fault(f, "crash.gateway"));
    assert_false(ck_fault(f, "crash.after:payment"));
    ck_faults_free(f);
}

static void empty_and_null(void **state)
{
    (void)state;
    ck_faults *f = (ck_faults *)1;
    assert_int_equal(ck_faults_parse(&f, "", NULL), 0);
    assert_null(f);
    assert_int_equal(ck_faults_parse(&f, NULL, NULL), 0);
    assert_null(f);
    assert_false(ck_fault(NULL, "session.create")); /* injection off: never fires */
}

static void refuses_unknown_or_malformed(void **state)
{
    (void)state;
    const char *bad[] = {"sesion.create",     "step.fail",       "step.fail:",   "crash.gateway:x",
                         "session.create*0",  "session.create*", "crash.after*3", "session.create*x",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        ck_faults *f = NULL;
        ck_error err;
        ck_error_clear(&err);
        assert_int_equal(ck_faults_parse(&f, bad[i], &err), CK_EINVALID);
        assert_null(f);
        assert_string_equal(err.reason, "BAD_FAULT");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fires_always_or_n_times),
        cmocka_unit_test(empty_and_null),
        cmocka_unit_test(refuses_unknown_or_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
