/* test_jsonin.c: the typed request-body readers (http/jsonin.h) and the
 * error codes they produce (checkout/error.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkout/error.h"
#include "api/errors.h"
#include "core/jsonin.h"

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("bad test JSON '%s': %s", text, je.text);
    return j;
}

/* Asserts that rc and err describe a 400 BAD_REQUEST with reason and field. */
static void expect_bad(int rc, const ck_error *err, const char *reason, const char *field)
{
    assert_int_equal(rc, CK_EINVALID);
    assert_int_equal(err->code, CK_EINVALID);
    assert_int_equal(ck_api_status(err), 400);
    assert_string_equal(ck_api_category(err), "BAD_REQUEST");
    assert_string_equal(err->reason, reason);
    assert_string_equal(err->field, field);
    assert_true(strlen(err->message) > 0);
}

static void str_reader(void **state)
{
    json_t *o = parse("{\"name\":\"Main\",\"n\":5,\"nul\":null,\"empty\":\"\",\"arr\":[\"x\"],"
                      "\"b\":true,\"ten\":\"0123456789\",\"o\":{}}");
    ck_error err;
    const char *s = "untouched";

    ck_error_clear(&err);
    assert_int_equal(ck_in_str(o, "name", CK_REQUIRED, 200, &s, &err), 1);
    assert_string_equal(s, "Main");
    assert_int_equal(err.code, 0);

    s = "untouched";
    assert_int_equal(ck_in_str(o, "absent", CK_OPTIONAL, 200, &s, &err), 0);
    assert_string_equal(s, "untouched");
    assert_int_equal(ck_in_str(o, "nul", CK_OPTIONAL, 200, &s, &err), 0);
    assert_string_equal(s, "untouched");
    assert_int_equal(err.code, 0);

    ck_error_clear(&err);
    expect_bad(ck_in_str(o, "absent", CK_REQUIRED, 200, &s, &err), &err, "MISSING_FIELD", "absent");
    assert_string_equal(err.message, "'absent' is required");
    ck_error_clear(&err);
    expect_bad(ck_in_str(o, "nul", CK_REQUIRED, 200, &s, &err), &err, "MISSING_FIELD", "nul");

    static const char *const wrong[] = {"n", "arr", "b", "o", NULL};
    for (int i = 0; wrong[i]; i++) {
        ck_error_clear(&err);
        expect_bad(ck_in_str(o, wrong[i], CK_OPTIONAL, 200, &s, &err), &err, "INVALID_FIELD", wrong[i]);
    }
    ck_error_clear(&err);
    expect_bad(ck_in_str(o, "empty", CK_OPTIONAL, 200, &s, &err), &err, "INVALID_FIELD", "empty");

    /* maxlen is inclusive. */
    assert_int_equal(ck_in_str(o, "ten", CK_REQUIRED, 10, &s, &err), 1);
    assert_string_equal(s, "0123456789");
    ck_error_clear(&err);
    expect_bad(ck_in_str(o, "ten", CK_REQUIRED, 9, &s, &err), &err, "INVALID_FIELD", "ten");
    assert_string_equal(err.message, "'ten' must be 1 to 9 characters long");
    json_decref(o);
}

static void str_name_limit(void **state)
{
    char *body = malloc(CK_NAME_MAX + 32);
    assert_non_null(body);
    strcpy(body, "{\"name\":\"");
    size_t n = strlen(body);
    memset(body + n, 'a', CK_NAME_MAX);
    strcpy(body + n + CK_NAME_MAX, "\"}");
    json_t *o = parse(body);
    ck_error err;
    ck_error_clear(&err);
    const char *s = NULL;
    assert_int_equal(ck_in_str(o, "name", CK_REQUIRED, CK_NAME_MAX, &s, &err), 1);
    assert_int_equal(strlen(s), CK_NAME_MAX);
    json_decref(o);
    body[n + CK_NAME_MAX] = 'a';
    strcpy(body + n + CK_NAME_MAX + 1, "\"}");
    o = parse(body);
    expect_bad(ck_in_str(o, "name", CK_REQUIRED, CK_NAME_MAX, &s, &err), &err, "INVALID_FIELD", "name");
    json_decref(o);
    free(body);
}

static void int_reader(void **state)
{
    json_t *o = parse("{\"q\":5,\"zero\":0,\"neg\":-1,\"real\":1.5,\"whole\":2.0,\"s\":\"5\","
                      "\"b\":false,\"nul\":null,\"big\":9223372036854775807,"
                      "\"small\":-9223372036854775808,\"money\":100000000000000}");
    ck_error err;
    int64_t v = 42;

    ck_error_clear(&err);
    assert_int_equal(ck_in_int(o, "q", CK_REQUIRED, 1, CK_QTY_MAX, &v, &err), 1);
    assert_int_equal(v, 5);
    v = 42;
    assert_int_equal(ck_in_int(o, "absent", CK_OPTIONAL, 1, 10, &v, &err), 0);
    assert_int_equal(ck_in_int(o, "nul", CK_OPTIONAL, 1, 10, &v, &err), 0);
    assert_int_equal(v, 42);
    assert_int_equal(err.code, 0);

    expect_bad(ck_in_int(o, "absent", CK_REQUIRED, 1, 10, &v, &err), &err, "MISSING_FIELD", "absent");
    ck_error_clear(&err);
    expect_bad(ck_in_int(o, "nul", CK_REQUIRED, 1, 10, &v, &err), &err, "MISSING_FIELD", "nul");

    /* Bounds are inclusive. */
    assert_int_equal(ck_in_int(o, "q", CK_REQUIRED, 5, 5, &v, &err), 1);
    assert_int_equal(ck_in_int(o, "zero", CK_REQUIRED, 0, CK_MONEY_MAX, &v, &err), 1);
    assert_int_equal(v, 0);
    ck_error_clear(&err);
    expect_bad(ck_in_int(o, "q", CK_REQUIRED, 6, 10, &v, &err), &err, "INVALID_FIELD", "q");
    assert_string_equal(err.message, "'q' must be between 6 and 10");
    ck_error_clear(&err);
    expect_bad(ck_in_int(o, "q", CK_REQUIRED, 1, 4, &v, &err), &err, "INVALID_FIELD", "q");
    ck_error_clear(&err);
    expect_bad(ck_in_int(o, "zero", CK_REQUIRED, 1, CK_QTY_MAX, &v, &err), &err, "INVALID_FIELD", "zero");
    ck_error_clear(&err);
    expect_bad(ck_in_int(o, "neg", CK_REQUIRED, 0, CK_MONEY_MAX, &v, &err), &err, "INVALID_FIELD", "neg");
    assert_int_equal(ck_in_int(o, "neg", CK_REQUIRED, -1, 0, &v, &err), 1);
    assert_int_equal(v, -1);

    /* Money ceiling. */
    assert_int_equal(ck_in_int(o, "money", CK_REQUIRED, 0, CK_MONEY_MAX, &v, &err), 1);
    assert_int_equal(v, CK_MONEY_MAX);
    ck_error_clear(&err);
    expect_bad(ck_in_int(o, "money", CK_REQUIRED, 0, CK_MONEY_MAX - 1, &v, &err), &err,
               "INVALID_FIELD", "money");

    /* int64 extremes pass through unchanged. */
    assert_int_equal(ck_in_int(o, "big", CK_REQUIRED, INT64_MIN, INT64_MAX, &v, &err), 1);
    assert_true(v == INT64_MAX);
    assert_int_equal(ck_in_int(o, "small", CK_REQUIRED, INT64_MIN, INT64_MAX, &v, &err), 1);
    assert_true(v == INT64_MIN);
    ck_error_clear(&err);
    expect_bad(ck_in_int(o, "big", CK_REQUIRED, 0, CK_MONEY_MAX, &v, &err), &err, "INVALID_FIELD", "big");

    /* Never floats, strings or booleans, not even a whole-valued real. */
    static const char *const wrong[] = {"real", "whole", "s", "b", NULL};
    for (int i = 0; wrong[i]; i++) {
        ck_error_clear(&err);
        v = 42;
        expect_bad(ck_in_int(o, wrong[i], CK_OPTIONAL, INT64_MIN, INT64_MAX, &v, &err), &err,
                   "INVALID_FIELD", wrong[i]);
        assert_int_equal(v, 42);
    }
    assert_string_equal(err.message, "'b' must be an integer");
    json_decref(o);
}

static void bool_reader(void **state)
{
    json_t *o = parse("{\"t\":true,\"f\":false,\"n\":1,\"z\":0,\"s\":\"true\",\"nul\":null}");
    ck_error err;
    ck_error_clear(&err);
    int v = 7;
    assert_int_equal(ck_in_bool(o, "t", CK_REQUIRED, &v, &err), 1);
    assert_int_equal(v, 1);
    assert_int_equal(ck_in_bool(o, "f", CK_REQUIRED, &v, &err), 1);
    assert_int_equal(v, 0);
    v = 7;
    assert_int_equal(ck_in_bool(o, "absent", CK_OPTIONAL, &v, &err), 0);
    assert_int_equal(ck_in_bool(o, "nul", CK_OPTIONAL, &v, &err), 0);
    assert_int_equal(v, 7);
    expect_bad(ck_in_bool(o, "absent", CK_REQUIRED, &v, &err), &err, "MISSING_FIELD", "absent");
    static const char *const wrong[] = {"n", "z", "s", NULL};
    for (int i = 0; wrong[i]; i++) {
        ck_error_clear(&err);
        expect_bad(ck_in_bool(o, wrong[i], CK_OPTIONAL, &v, &err), &err, "INVALID_FIELD", wrong[i]);
        assert_int_equal(v, 7);
    }
    json_decref(o);
}

static void only_reader(void **state)
{
    static const char *const allowed[] = {"name", "currency", "slaSeconds", NULL};
    ck_error err;
    ck_error_clear(&err);
    json_t *o = parse("{\"name\":\"x\",\"slaSeconds\":5}");
    assert_int_equal(ck_in_only(o, allowed, &err), 0);
    assert_int_equal(err.code, 0);
    json_decref(o);

    o = parse("{}");
    assert_int_equal(ck_in_only(o, allowed, &err), 0);
    json_decref(o);

    o = parse("{\"name\":\"x\",\"colour\":\"red\"}");
    expect_bad(ck_in_only(o, allowed, &err), &err, "UNKNOWN_FIELD", "colour");
    assert_string_equal(err.message, "unknown field 'colour'");
    json_decref(o);

    /* Field names are case-sensitive: a typo is caught, not ignored. */
    ck_error_clear(&err);
    o = parse("{\"Name\":\"x\"}");
    expect_bad(ck_in_only(o, allowed, &err), &err, "UNKNOWN_FIELD", "Name");
    json_decref(o);

    /* Even a null value of an unknown field is reported. */
    ck_error_clear(&err);
    o = parse("{\"slasSeconds\":null}");
    expect_bad(ck_in_only(o, allowed, &err), &err, "UNKNOWN_FIELD", "slasSeconds");
    json_decref(o);

    static const char *const none[] = {NULL};
    ck_error_clear(&err);
    o = parse("{\"a\":1}");
    expect_bad(ck_in_only(o, none, &err), &err, "UNKNOWN_FIELD", "a");
    json_decref(o);
}

static void enum_reader(void **state)
{
    static const char *const kinds[] = {"test", "http", NULL};
    json_t *o = parse("{\"k\":\"http\",\"up\":\"HTTP\",\"bad\":\"smtp\",\"n\":1,\"e\":\"\",\"nul\":null}");
    ck_error err;
    ck_error_clear(&err);
    const char *v = NULL;
    assert_int_equal(ck_in_enum(o, "k", CK_REQUIRED, kinds, &v, &err), 1);
    assert_ptr_equal(v, kinds[1]); /* the table's own string, which outlives the body */
    v = NULL;
    assert_int_equal(ck_in_enum(o, "absent", CK_OPTIONAL, kinds, &v, &err), 0);
    assert_int_equal(ck_in_enum(o, "nul", CK_OPTIONAL, kinds, &v, &err), 0);
    assert_null(v);
    expect_bad(ck_in_enum(o, "absent", CK_REQUIRED, kinds, &v, &err), &err, "MISSING_FIELD", "absent");
    ck_error_clear(&err);
    expect_bad(ck_in_enum(o, "bad", CK_REQUIRED, kinds, &v, &err), &err, "INVALID_FIELD", "bad");
    assert_string_equal(err.message, "'bad' must be one of: test, http");
    static const char *const wrong[] = {"up", "n", "e", NULL};
    for (int i = 0; wrong[i]; i++) {
        ck_error_clear(&err);
        expect_bad(ck_in_enum(o, wrong[i], CK_REQUIRED, kinds, &v, &err), &err, "INVALID_FIELD", wrong[i]);
    }
    json_decref(o);
}

static void id_reader(void **state)
{
    json_t *o = parse("{\"a\":\"acct_01M80V5EQG4YHAXXJRNX68ZH9P\",\"s\":\"store_01M80V5EQG4YHAXXJRNX68ZH9P\","
                      "\"noup\":\"acct01M80V5EQG4YHAXXJRNX68ZH9P\",\"longer\":\"acctx_01M80V5EQG4YHAXXJRNX68ZH9P\","
                      "\"n\":7,\"nul\":null}");
    ck_error err;
    ck_error_clear(&err);
    const char *v = NULL;
    assert_int_equal(ck_in_id(o, "a", CK_REQUIRED, "acct", &v, &err), 1);
    assert_string_equal(v, "acct_01M80V5EQG4YHAXXJRNX68ZH9P");
    v = NULL;
    assert_int_equal(ck_in_id(o, "absent", CK_OPTIONAL, "acct", &v, &err), 0);
    assert_int_equal(ck_in_id(o, "nul", CK_OPTIONAL, "acct", &v, &err), 0);
    assert_null(v);
    expect_bad(ck_in_id(o, "absent", CK_REQUIRED, "acct", &v, &err), &err, "MISSING_FIELD", "absent");
    static const char *const wrong[] = {"s", "noup", "longer", "n", NULL};
    for (int i = 0; wrong[i]; i++) {
        ck_error_clear(&err);
        expect_bad(ck_in_id(o, wrong[i], CK_REQUIRED, "acct", &v, &err), &err, "INVALID_FIELD", wrong[i]);
    }
    ck_error_clear(&err);
    expect_bad(ck_in_id(o, "s", CK_REQUIRED, "acct", &v, &err), &err, "INVALID_FIELD", "s");
    assert_string_equal(err.message, "'s' must be a acct_ id");
    json_decref(o);

    /* Over 128 characters is not an id. */
    char body[300];
    int n = snprintf(body, sizeof(body), "{\"a\":\"acct_");
    memset(body + n, 'A', 130);
    strcpy(body + n + 130, "\"}");
    o = parse(body);
    ck_error_clear(&err);
    expect_bad(ck_in_id(o, "a", CK_REQUIRED, "acct", &v, &err), &err, "INVALID_FIELD", "a");
    json_decref(o);
}

static void country_reader(void **state)
{
    json_t *o = parse("{\"us\":\"US\",\"lower\":\"us\",\"mixed\":\"Us\",\"three\":\"USA\",\"one\":\"U\","
                      "\"digit\":\"U1\",\"n\":1,\"nul\":null,\"space\":\" U\"}");
    ck_error err;
    ck_error_clear(&err);
    const char *v = NULL;
    assert_int_equal(ck_in_country(o, "us", CK_REQUIRED, &v, &err), 1);
    assert_string_equal(v, "US");
    v = NULL;
    assert_int_equal(ck_in_country(o, "absent", CK_OPTIONAL, &v, &err), 0);
    assert_int_equal(ck_in_country(o, "nul", CK_OPTIONAL, &v, &err), 0);
    assert_null(v);
    expect_bad(ck_in_country(o, "absent", CK_REQUIRED, &v, &err), &err, "MISSING_FIELD", "absent");
    static const char *const wrong[] = {"lower", "mixed", "three", "one", "digit", "n", "space", NULL};
    for (int i = 0; wrong[i]; i++) {
        ck_error_clear(&err);
        expect_bad(ck_in_country(o, wrong[i], CK_REQUIRED, &v, &err), &err, "INVALID_FIELD", wrong[i]);
    }
    json_decref(o);
}

static void url_reader(void **state)
{
    json_t *o = parse("{\"http\":\"http://127.0.0.1:9100\",\"https\":\"https://hooks.example.com/x?y=1\","
                      "\"smtp\":\"smtp://127.0.0.1:2525\",\"smtps\":\"smtps://mail.example.com\","
                      "\"ftp\":\"ftp://example.com\",\"nohost\":\"http://\",\"slash\":\"http:///x\","
                      "\"space\":\"http://exa mple.com\",\"nl\":\"http://a\\nb\",\"rel\":\"/hooks\","
                      "\"upper\":\"HTTP://example.com\",\"n\":5,\"nul\":null,\"empty\":\"\","
                      "\"query\":\"http://?x\",\"noauth\":\"http:/x\",\"port0\":\"http://example.com:0/\","
                      "\"bigport\":\"http://example.com:65536/\",\"userhost\":\"http://u@/x\","
                      "\"v6\":\"http://[::1]:9100/h\",\"ctl\":\"http://example.com/\\u0001\"}");
    ck_error err;
    ck_error_clear(&err);
    const char *v = NULL;
    assert_int_equal(ck_in_url(o, "http", CK_REQUIRED, 0, &v, &err), 1);
    assert_string_equal(v, "http://127.0.0.1:9100");
    assert_int_equal(ck_in_url(o, "https", CK_REQUIRED, 0, &v, &err), 1);
    assert_string_equal(v, "https://hooks.example.com/x?y=1");
    assert_int_equal(ck_in_url(o, "smtp", CK_REQUIRED, 1, &v, &err), 1);
    assert_string_equal(v, "smtp://127.0.0.1:2525");
    assert_int_equal(ck_in_url(o, "smtps", CK_REQUIRED, 1, &v, &err), 1);
    assert_int_equal(ck_in_url(o, "v6", CK_REQUIRED, 0, &v, &err), 1);
    assert_int_equal(err.code, 0);

    /* Each scheme only where it belongs. */
    ck_error_clear(&err);
    expect_bad(ck_in_url(o, "smtp", CK_REQUIRED, 0, &v, &err), &err, "INVALID_FIELD", "smtp");
    assert_string_equal(err.message,
                        "'smtp' must be an absolute http:// or https:// URL with a host, such as https://erp.example.com/hooks");
    ck_error_clear(&err);
    expect_bad(ck_in_url(o, "http", CK_REQUIRED, 1, &v, &err), &err, "INVALID_FIELD", "http");
    assert_string_equal(err.message,
                        "'http' must be an absolute smtp:// or smtps:// URL with a host, such as smtp://mail.example.com:587");
    ck_error_clear(&err);
    expect_bad(ck_in_url(o, "https", CK_REQUIRED, 1, &v, &err), &err, "INVALID_FIELD", "https");

    static const char *const wrong[] = {"ftp",   "nohost", "slash",  "space",   "nl",       "rel", "upper", "n",
                                        "empty", "query",  "noauth", "port0", "bigport", "userhost", "ctl", NULL};
    for (int i = 0; wrong[i]; i++) {
        ck_error_clear(&err);
        expect_bad(ck_in_url(o, wrong[i], CK_REQUIRED, 0, &v, &err), &err, "INVALID_FIELD", wrong[i]);
    }
    v = NULL;
    assert_int_equal(ck_in_url(o, "absent", CK_OPTIONAL, 0, &v, &err), 0);
    assert_int_equal(ck_in_url(o, "nul", CK_OPTIONAL, 1, &v, &err), 0);
    assert_null(v);
    ck_error_clear(&err);
    expect_bad(ck_in_url(o, "absent", CK_REQUIRED, 1, &v, &err), &err, "MISSING_FIELD", "absent");
    json_decref(o);

    /* CK_URL_MAX characters at most. */
    char *body = malloc(CK_URL_MAX + 64);
    assert_non_null(body);
    int n = sprintf(body, "{\"u\":\"http://example.com/");
    size_t pad = CK_URL_MAX - strlen("http://example.com/");
    memset(body + n, 'p', pad);
    strcpy(body + n + pad, "\"}");
    o = parse(body);
    assert_int_equal(ck_in_url(o, "u", CK_REQUIRED, 0, &v, &err), 1);
    assert_int_equal(strlen(v), CK_URL_MAX);
    json_decref(o);
    body[n + pad] = 'p';
    strcpy(body + n + pad + 1, "\"}");
    o = parse(body);
    ck_error_clear(&err);
    expect_bad(ck_in_url(o, "u", CK_REQUIRED, 0, &v, &err), &err, "INVALID_FIELD", "u");
    json_decref(o);
    free(body);
}

static void array_reader(void **state)
{
    json_t *o = parse("{\"a\":[1,2,3],\"e\":[],\"s\":\"x\",\"obj\":{},\"nul\":null}");
    ck_error err;
    ck_error_clear(&err);
    json_t *v = NULL;
    assert_int_equal(ck_in_array(o, "a", CK_REQUIRED, 3, &v, &err), 1);
    assert_ptr_equal(v, json_object_get(o, "a"));
    assert_int_equal(ck_in_array(o, "e", CK_REQUIRED, 3, &v, &err), 1);
    assert_int_equal(json_array_size(v), 0);
    v = NULL;
    assert_int_equal(ck_in_array(o, "absent", CK_OPTIONAL, 3, &v, &err), 0);
    assert_int_equal(ck_in_array(o, "nul", CK_OPTIONAL, 3, &v, &err), 0);
    assert_null(v);
    expect_bad(ck_in_array(o, "absent", CK_REQUIRED, 3, &v, &err), &err, "MISSING_FIELD", "absent");
    ck_error_clear(&err);
    expect_bad(ck_in_array(o, "a", CK_REQUIRED, 2, &v, &err), &err, "INVALID_FIELD", "a");
    ck_error_clear(&err);
    expect_bad(ck_in_array(o, "s", CK_REQUIRED, 3, &v, &err), &err, "INVALID_FIELD", "s");
    ck_error_clear(&err);
    expect_bad(ck_in_array(o, "obj", CK_REQUIRED, 3, &v, &err), &err, "INVALID_FIELD", "obj");
    json_decref(o);
}

/* A NULL err is allowed: the code still comes back. */
static void null_err(void **state)
{
    json_t *o = parse("{\"s\":5}");
    const char *v = NULL;
    assert_int_equal(ck_in_str(o, "s", CK_REQUIRED, 10, &v, NULL), CK_EINVALID);
    assert_int_equal(ck_in_str(o, "absent", CK_REQUIRED, 10, &v, NULL), CK_EINVALID);
    json_decref(o);
}

static void code_mapping(void **state)
{
    static const struct {
        int code, status;
        const char *category;
    } table[] = {
        {CK_OK, 200, "UNKNOWN_EXCEPTION"},
        {CK_EINVALID, 400, "BAD_REQUEST"},
        {CK_EJSON, 400, "JSON_PARSER_ERROR"},
        {CK_EUNAUTH, 401, "UNAUTHORIZED"},
        {CK_EFORBIDDEN, 403, "FORBIDDEN"},
        {CK_ENOTFOUND, 404, "NOT_FOUND"},
        {CK_EMETHOD, 405, "METHOD_NOT_ALLOWED"},
        {CK_ECONFLICT, 409, "CONFLICT"},
        {CK_EDUP, 409, "CONFLICT"},
        {CK_ETOOLARGE, 413, "PAYLOAD_TOO_LARGE"},
        {CK_EREUSED, 422, "BAD_REQUEST"},
        {CK_EINTERNAL, 500, "UNKNOWN_EXCEPTION"},
        {CK_EBUSY, 500, "UNKNOWN_EXCEPTION"},
        {-99, 500, "UNKNOWN_EXCEPTION"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        ck_error e;
        ck_error_clear(&e);
        e.code = table[i].code;
        assert_int_equal(ck_api_status(&e), table[i].status);
        if (table[i].code != CK_OK)
            assert_string_equal(ck_code_category(table[i].code), table[i].category);
    }
}

static void fail_fills(void **state)
{
    ck_error err;
    ck_error_clear(&err);
    /* No reason: the reason repeats the category. */
    assert_int_equal(ck_fail(&err, CK_ENOTFOUND, NULL, NULL, "store %s not found", "store_x"), CK_ENOTFOUND);
    assert_int_equal(ck_api_status(&err), 404);
    assert_string_equal(ck_api_category(&err), "NOT_FOUND");
    assert_string_equal(err.reason, "NOT_FOUND");
    assert_string_equal(err.field, "");
    assert_string_equal(err.message, "store store_x not found");

    assert_int_equal(ck_fail(&err, CK_EREUSED, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key", "reused"),
                     CK_EREUSED);
    assert_int_equal(ck_api_status(&err), 422);
    assert_string_equal(ck_api_category(&err), "BAD_REQUEST");
    assert_string_equal(err.reason, "IDEMPOTENCY_KEY_REUSED");
    assert_string_equal(err.field, "Idempotency-Key");

    /* api's table by reason: the session action's INVALID_CART_ID is 500. */
    assert_int_equal(ck_fail(&err, CK_EINVALID, "INVALID_CART_ID", NULL, "cart %s is not valid", "cart_x"),
                     CK_EINVALID);
    assert_int_equal(ck_api_status(&err), 500);
    assert_string_equal(ck_api_category(&err), "UNKNOWN_EXCEPTION");
    assert_string_equal(err.reason, "INVALID_CART_ID");
    assert_string_equal(err.field, "");
    assert_int_equal(ck_fail(&err, CK_EINVALID, "CART_ALREADY_IN_PROGRESS", "cartId", "busy"), CK_EINVALID);
    assert_int_equal(ck_api_status(&err), 400);
    assert_string_equal(err.field, "cartId");

    /* Long messages are cut, never overflow. */
    char big[1000];
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_fail(&err, CK_EINVALID, "INVALID_FIELD", "f", "%s", big);
    assert_int_equal(strlen(err.message), sizeof(err.message) - 1);

    assert_int_equal(ck_fail(NULL, CK_ECONFLICT, "X", NULL, "x"), CK_ECONFLICT);
    ck_error_clear(&err);
    assert_int_equal(err.code, 0);
    assert_string_equal(err.reason, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(str_reader),
        cmocka_unit_test(str_name_limit),
        cmocka_unit_test(int_reader),
        cmocka_unit_test(bool_reader),
        cmocka_unit_test(only_reader),
        cmocka_unit_test(enum_reader),
        cmocka_unit_test(id_reader),
        cmocka_unit_test(country_reader),
        cmocka_unit_test(url_reader),
        cmocka_unit_test(array_reader),
        cmocka_unit_test(null_err),
        cmocka_unit_test(code_mapping),
        cmocka_unit_test(fail_fills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
