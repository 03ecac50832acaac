/* test_flow.c: the flow object's arithmetic: the index of a step path, the
 * state succession, resume at lastSuccessfulStep + 1, the rewind target for
 * each kind of input, and the commit groups derived from the step kinds
 * (the standard flow's three; synthetic flows with pure, external, order
 * and nested steps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flows/flow.h"

/* Synthetic kinds, by the definition's "kind". */
static const ck_step_kind pure = {.name = "pure", .flags = CK_STEP_PURE, .reads = CK_READS_ADDRESS};
static const ck_step_kind external = {.name = "external", .flags = CK_STEP_EXTERNAL, .reads = CK_READS_PAYMENT};
static const ck_step_kind order = {.name = "order", .flags = CK_STEP_ORDER};
static const ck_step_kind other = {.name = "other", .flags = 0};

static const ck_step_kind *lookup(const char *kind, const char *name, void *arg)
{
    (void)name;
    (void)arg;
    return strcmp(kind, "pure") == 0       ? &pure
           : strcmp(kind, "external") == 0 ? &external
           : strcmp(kind, "order") == 0    ? &order
           : strcmp(kind, "other") == 0    ? &other
                                           : NULL;
}

static ck_flow *parse(const char *json)
{
    ck_flow *f = NULL;
    ck_error err;
    ck_error_clear(&err);
    int rc = ck_flow_parse(&f, json, lookup, NULL, &err);
    if (rc != 0)
        fail_msg("%s", err.message);
    return f;
}

/* The groups of f as "a b|c|d e" (steps of one group joined by spaces). */
static void groups_of(const ck_flow *f, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < f->nsteps; i = ck_flow_group_end(f, i)) {
        size_t end = ck_flow_group_end(f, i);
        for (size_t k = i; k < end; k++) {
            strncat(out, f->steps[k].path, cap - strlen(out) - 1);
            strncat(out, k + 1 < end ? " " : end < f->nsteps ? "|" : "", cap - strlen(out) - 1);
        }
    }
}

static void standard_paths_and_states(void **state)
{
    (void)state;
    const ck_flow *f = ck_flow_standard();
    assert_string_equal(f->id, "flow_standard");
    assert_int_equal(f->version, 1);
    assert_int_equal(f->nsteps, 9);
    assert_ptr_equal(f, ck_flow_standard()); /* parsed once */
    assert_int_equal(ck_flow_index(f, "validate_cart"), 0);
    assert_int_equal(ck_flow_index(f, "payment"), 5);
    assert_int_equal(ck_flow_index(f, "close_cart"), 8);
    assert_int_equal(ck_flow_index(f, "teleport"), -1);
    assert_int_equal(ck_flow_index(f, "Start"), -1);
    for (size_t i = 0; i < f->nsteps; i++) {
        assert_string_equal(f->steps[i].path, f->steps[i].name); /* top level: the path is the name */
        assert_ptr_equal(f->steps[i].kind, ck_step_builtin(f->steps[i].name));
    }
    assert_string_equal(ck_flow_state_after(f, "Start"), "validate_cart");
    assert_string_equal(ck_flow_state_after(f, "tax"), "business_rules");
    assert_string_equal(ck_flow_state_after(f, "business_rules"), "payment");
    assert_string_equal(ck_flow_state_after(f, "close_cart"), "Completed");
    assert_null(ck_flow_state_after(f, "Completed"));
    assert_null(ck_flow_state_after(f, "teleport"));
    assert_string_equal(ck_flow_state_after(ck_flow_standard(), "payment"), "create_order");
}

static void standard_resume(void **state)
{
    (void)state;
    const ck_flow *f = ck_flow_standard();
    assert_int_equal(ck_flow_resume_index(f, NULL), 0);
    assert_int_equal(ck_flow_resume_index(f, ""), 0);
    assert_int_equal(ck_flow_resume_index(f, "validate_cart"), 1);
    assert_int_equal(ck_flow_resume_index(f, "business_rules"), 5); /* payment */
    assert_int_equal(ck_flow_resume_index(f, "payment"), 6);        /* create_order */
    assert_int_equal(ck_flow_resume_index(f, "close_cart"), 9);     /* nothing left */
    assert_int_equal(ck_flow_resume_index(f, "teleport"), 0);       /* unknown: from the start */
    /* A resume inside a group runs the rest of that group in one commit. */
    assert_int_equal(ck_flow_group_end(f, ck_flow_resume_index(f, "pricing")), 5);
}

static void standard_rewind(void **state)
{
    (void)state;
    const ck_flow *f = ck_flow_standard();
    const char *to = "x";
    /* Address: read first by shipping, so back to pricing. */
    assert_int_equal(ck_flow_rewind_target(f, "business_rules", CK_READS_ADDRESS, &to), 1);
    assert_string_equal(to, "pricing");
    assert_int_equal(ck_flow_rewind_target(f, "shipping", CK_READS_ADDRESS, &to), 1);
    assert_string_equal(to, "pricing");
    assert_int_equal(ck_flow_rewind_target(f, "pricing", CK_READS_ADDRESS, &to), 0);
    assert_null(to);
    /* Shipping method: shipping too. */
    assert_int_equal(ck_flow_rewind_target(f, "payment", CK_READS_METHOD, &to), 1);
    assert_string_equal(to, "pricing");
    /* Payment: read first by business_rules, so back to tax. */
    assert_int_equal(ck_flow_rewind_target(f, "payment", CK_READS_PAYMENT, &to), 1);
    assert_string_equal(to, "tax");
    assert_int_equal(ck_flow_rewind_target(f, "business_rules", CK_READS_PAYMENT, &to), 1);
    assert_string_equal(to, "tax");
    assert_int_equal(ck_flow_rewind_target(f, "tax", CK_READS_PAYMENT, &to), 0);
    /* Several: the first reader of any. */
    assert_int_equal(ck_flow_rewind_target(f, "payment", CK_READS_PAYMENT | CK_READS_ADDRESS, &to), 1);
    assert_string_equal(to, "pricing");
    /* Nothing changed, or nothing ran yet. */
    assert_int_equal(ck_flow_rewind_target(f, "payment", 0, &to), 0);
    assert_int_equal(ck_flow_rewind_target(f, "", CK_READS_PAYMENT, &to), 0);
    assert_int_equal(ck_flow_rewind_target(f, NULL, CK_READS_ADDRESS, &to), 0);
}

static void standard_groups(void **state)
{
    (void)state;
    const ck_flow *f = ck_flow_standard();
    char g[512];
    groups_of(f, g, sizeof(g));
    assert_string_equal(g, "validate_cart pricing shipping tax business_rules|payment|create_order confirm close_cart");
    assert_int_equal(f->ngroups, 3);
    const char *before = "x";
    assert_int_equal(ck_flow_compensated(f, &before), 5);
    assert_string_equal(before, "business_rules");
}

static void synthetic_groups(void **state)
{
    (void)state;
    char g[512];
    ck_flow *f = parse("{\"id\":\"f1\",\"version\":3,\"steps\":[{\"name\":\"a\",\"kind\":\"pure\"},"
                       "{\"name\":\"b\",\"kind\":\"pure\"},{\"name\":\"pay\",\"kind\":\"external\"},"
                       "{\"name\":\"c\",\"kind\":\"pure\"}]}");
    groups_of(f, g, sizeof(g));
    assert_string_equal(g, "a b|pay|c");
    assert_int_equal(f->version, 3);
    ck_flow_free(f);

    /* Two external steps in a row commit apart; order steps commit together,
     * but not with pure ones; a step that declares nothing commits alone. */
    f = parse("{\"id\":\"f2\",\"version\":1,\"steps\":[{\"name\":\"x\",\"kind\":\"external\"},"
              "{\"name\":\"y\",\"kind\":\"external\"},{\"name\":\"p\",\"kind\":\"pure\"},"
              "{\"name\":\"o1\",\"kind\":\"order\"},{\"name\":\"o2\",\"kind\":\"order\"},"
              "{\"name\":\"o3\",\"kind\":\"order\"},{\"name\":\"z\",\"kind\":\"other\"},"
              "{\"name\":\"w\",\"kind\":\"other\"}]}");
    groups_of(f, g, sizeof(g));
    assert_string_equal(g, "x|y|p|o1 o2 o3|z|w");
    assert_int_equal(f->ngroups, 6);
    assert_int_equal(ck_flow_group_end(f, 4), 6); /* from the middle of the order group */
    ck_flow_free(f);
}

static void nested_paths(void **state)
{
    (void)state;
    char g[512];
    ck_flow *f = parse("{\"id\":\"f3\",\"version\":1,\"steps\":[{\"name\":\"a\",\"kind\":\"pure\"},"
                       "{\"name\":\"erp\",\"kind\":\"subflow\",\"config\":{\"steps\":["
                       "{\"name\":\"credit_check\",\"kind\":\"pure\"},{\"name\":\"notify\",\"kind\":\"external\"},"
                       "{\"name\":\"inner\",\"kind\":\"subflow\",\"config\":{\"steps\":["
                       "{\"name\":\"deep\",\"kind\":\"order\"}]}}]}},"
                       "{\"name\":\"close\",\"kind\":\"order\"}]}");
    assert_int_equal(f->nsteps, 5);
    assert_string_equal(f->steps[1].path, "erp/credit_check");
    assert_string_equal(f->steps[1].name, "credit_check");
    assert_string_equal(f->steps[3].path, "erp/inner/deep");
    assert_int_equal(ck_flow_index(f, "erp/credit_check"), 1);
    assert_int_equal(ck_flow_index(f, "credit_check"), -1);
    assert_int_equal(ck_flow_index(f, "erp"), -1);
    groups_of(f, g, sizeof(g));
    assert_string_equal(g, "a erp/credit_check|erp/notify|erp/inner/deep close");
    /* Progress and resume land on the nested step. */
    assert_string_equal(ck_flow_state_after(f, "a"), "erp/credit_check");
    assert_string_equal(ck_flow_state_after(f, "erp/credit_check"), "erp/notify");
    assert_string_equal(ck_flow_state_after(f, "close"), "Completed");
    assert_int_equal(ck_flow_resume_index(f, "erp/credit_check"), 2);
    /* The payment-like step inside reads the payment input. */
    const char *to = NULL;
    assert_int_equal(ck_flow_rewind_target(f, "close", CK_READS_PAYMENT, &to), 1);
    assert_string_equal(to, "erp/credit_check");
    assert_int_equal(ck_flow_rewind_target(f, "close", CK_READS_ADDRESS, &to), 1);
    assert_null(to); /* the first step reads it: back to Start */
    ck_flow_free(f);
}

static void bad_definitions(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "not json",
        "{\"id\":\"f\",\"steps\":7}",
        "{\"id\":\"f\",\"steps\":[{\"name\":\"a\",\"kind\":\"teleport\"}]}",
        "{\"id\":\"f\",\"steps\":[{\"name\":\"a\",\"kind\":\"pure\"},{\"name\":\"a\",\"kind\":\"pure\"}]}",
        "{\"id\":\"f\",\"steps\":[{\"name\":\"a/b\",\"kind\":\"pure\"}]}",
        "{\"id\":\"f\",\"steps\":[{\"kind\":\"pure\"}]}",
        "{\"id\":\"f\",\"steps\":[{\"name\":\"s\",\"kind\":\"subflow\"}]}",
        /* a session's state names the next step, or Start, or Completed */
        "{\"id\":\"f\",\"steps\":[{\"name\":\"a\",\"kind\":\"pure\"},{\"name\":\"Completed\",\"kind\":\"pure\"}]}",
        "{\"id\":\"f\",\"steps\":[{\"name\":\"Start\",\"kind\":\"pure\"}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_flow *f = (ck_flow *)1;
        ck_error err;
        ck_error_clear(&err);
        assert_int_equal(ck_flow_parse(&f, bad[i], lookup, NULL, &err), CK_EINVALID);
        assert_null(f);
        assert_string_equal(err.reason, "INVALID_FLOW");
    }
    ck_flow *f = NULL;
    ck_error err;
    ck_flow_parse(&f, "{\"id\":\"f\",\"steps\":[{\"name\":\"erp\",\"kind\":\"subflow\",\"config\":{\"steps\":"
                      "[{\"name\":\"x\",\"kind\":\"teleport\"}]}}]}",
                  lookup, NULL, &err);
    assert_non_null(strstr(err.message, "erp/x")); /* the message names the nested step */
    /* Inside a subflow the path has a '/': no state can be mistaken for it. */
    f = NULL;
    assert_int_equal(ck_flow_parse(&f, "{\"id\":\"f\",\"steps\":[{\"name\":\"erp\",\"kind\":\"subflow\","
                                       "\"config\":{\"steps\":[{\"name\":\"Completed\",\"kind\":\"pure\"}]}}]}",
                                   lookup, NULL, &err),
                     0);
    assert_string_equal(f->steps[0].path, "erp/Completed");
    ck_flow_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(standard_paths_and_states),
        cmocka_unit_test(standard_resume),
        cmocka_unit_test(standard_rewind),
        cmocka_unit_test(standard_groups),
        cmocka_unit_test(synthetic_groups),
        cmocka_unit_test(nested_paths),
        cmocka_unit_test(bad_definitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
