/* test_arithmetic.c: the money arithmetic of API.md in integers: half-up
 * rounding of basis points, and the flow's state succession. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "flows/flow.h"
#include "steps/step.h"

static void rounds_half_up(void **state)
{
    (void)state;
    assert_int_equal(ck_bp_round(5997, 825), 495);    /* 494.7525 -> 495 (API.md example 1) */
    assert_int_equal(ck_bp_round(17990, 500), 900);   /* 899.5 -> 900 (example 2, the adjustment) */
    assert_int_equal(ck_bp_round(17090, 825), 1410);  /* 1409.925 -> 1410 (example 2, tax) */
    assert_int_equal(ck_bp_round(1, 5000), 1);        /* 0.5 -> 1 */
    assert_int_equal(ck_bp_round(1, 4999), 0);        /* 0.4999 -> 0 */
    assert_int_equal(ck_bp_round(0, 10000), 0);
    assert_int_equal(ck_bp_round(12345, 0), 0);
    assert_int_equal(ck_bp_round(12345, 10000), 12345);
    /* The largest order total times 100%: no overflow on the way. */
    assert_int_equal(ck_bp_round(100000000000000LL, 10000), 100000000000000LL);
    assert_int_equal(ck_bp_round(100000000000000LL, 825), 8250000000000LL);
}

static void states_follow_the_flow(void **state)
{
    (void)state;
    assert_string_equal(ck_flow_state_after(ck_flow_standard(), "Start"), "validate_cart");
    assert_string_equal(ck_flow_state_after(ck_flow_standard(), "business_rules"), "payment");
    assert_string_equal(ck_flow_state_after(ck_flow_standard(), "close_cart"), "Completed");
    assert_null(ck_flow_state_after(ck_flow_standard(), "Completed"));
    assert_null(ck_flow_state_after(ck_flow_standard(), "teleport"));
    const ck_flow *f = ck_flow_standard();
    assert_int_equal(f->nsteps, 9);
    assert_string_equal(f->steps[5].path, "payment");
    /* Every standard step is a built-in, and the required tail is in order. */
    for (size_t i = 0; i < f->nsteps; i++)
        assert_non_null(ck_step_builtin(f->steps[i].path));
    assert_true(ck_step_builtin("payment")->flags & CK_STEP_EXTERNAL);
    assert_int_equal(f->steps[ck_flow_index(f, "create_order")].group, f->steps[ck_flow_index(f, "close_cart")].group);
    assert_true(f->steps[ck_flow_index(f, "validate_cart")].group != f->steps[ck_flow_index(f, "payment")].group);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rounds_half_up),
        cmocka_unit_test(states_follow_the_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
