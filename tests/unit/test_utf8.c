/* test_utf8.c: ck_utf8_repair (core/text.h), which keeps outside bytes from
 * costing an error its JSON envelope. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "checkout/error.h"
#include "core/json.h"
#include "core/text.h"

static void repairs(void **state)
{
    (void)state;
    struct {
        const char *in, *out;
        size_t replaced;
    } cases[] = {
        {"plain ascii", "plain ascii", 0},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0},
        {"cut \xe2\x82", "cut ??", 2},               /* a character cut short */
        {"GE\xc0 x", "GE? x", 1},                    /* a byte that never begins one */
        {"\x80lone", "?lone", 1},                    /* a stray continuation */
        {"\xc0\xaf", "??", 2},                       /* an overlong '/' */
        {"\xed\xa0\x80", "???", 3},                  /* a surrogate */
        {"\xf4\x90\x80\x80", "????", 4},             /* past U+10FFFF */
        {"\xe2\x28\xa1", "?(?", 2},                  /* a continuation that is not one */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%s", cases[i].in);
        assert_int_equal(ck_utf8_repair(buf), cases[i].replaced);
        assert_string_equal(buf, cases[i].out);
        json_t *j = json_string(buf);
        assert_non_null(j); /* jansson takes it */
        json_decref(j);
    }
}

/* An error whose message a bounded copy cut inside a character still has
 * its envelope. */
static void envelope_survives_a_cut(void **state)
{
    (void)state;
    char path[400] = "/";
    for (int i = 0; i < 120; i++)
        strcat(path, "\xe2\x82\xac");
    ck_error err;
    ck_error_clear(&err);
    ck_fail(&err, CK_ENOTFOUND, "ROUTE_NOT_FOUND", NULL, "no route %s", path);
    json_t *env = ck_error_json(&err, NULL);
    assert_non_null(env);
    assert_string_equal(json_string_value(json_object_get(json_array_get(env, 0), "reason")), "ROUTE_NOT_FOUND");
    json_decref(env);
    /* And one whose field was set by hand past a character. */
    memcpy(err.field, path, sizeof(err.field) - 1); /* 63 bytes: inside a 3-byte character */
    err.field[sizeof(err.field) - 1] = '\0';
    env = ck_error_json(&err, NULL);
    assert_non_null(env);
    json_decref(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(repairs),
        cmocka_unit_test(envelope_survives_a_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
