/* test_logs.c: checkoutd's stderr carries one JSON object per line, always
 * (API.md "The daemon": {"ts","level","msg",...}; text from outside escaped,
 * never spliced in raw). Usage and start-up errors included; a gateway's
 * error text with a quote, a newline and a JSON record in it stays inside
 * one record; an unknown cart is a request, not an error; each delivery
 * attempt's outcome is logged at info. */
#include "api/fake_gateway.h"
#include "api/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ADDR_US                                                                                            \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\"," \
    "\"country\":\"US\"}"

static ckt_daemon D;
static fake_gateway *G;

static int teardown(void **state)
{
    (void)state;
    ckt_cleanup(&D);
    memset(&D, 0, sizeof(D));
    fgw_stop(G);
    G = NULL;
    return 0;
}

/* Every line of path: a JSON object with string ts, level and msg. Returns
 * the records (caller frees); fails the test on any other line. */
static void usage_and_startup_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/ck_logs_XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/err.log", dir);
    struct {
        const char *args;
        int status;
        const char *level, *needle;
    } cases[] = {
        {"--bogus", 2, "error", "--bogus"},
        {"--workers 0", 2, "error", "--workers"},
        {"--listen nowhere", 2, "error", "--listen"},
        {"extra-argument", 2, "error", "extra-argument"},
        {"--db 'ftp://x/\"y\nz'", 1, "fatal", "ftp://x/\"y\nz"},
        {"--listen 999.0.0.1:0 --db sqlite:%s/x.db", 1, "fatal", "999.0.0.1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char args[512];
        snprintf(args, sizeof(args), cases[i].args, dir);
        assert_int_equal(ckt_run_checkoutd(args, path), cases[i].status);
        json_t *recs = ckt_log_records(path);
        if (json_array_size(recs) != 1)
            fail_msg("'%s': %zu records", cases[i].args, json_array_size(recs));
        json_t *r = json_array_get(recs, 0);
        assert_string_equal(json_string_value(json_object_get(r, "level")), cases[i].level);
        char *text = json_dumps(r, 0);
        json_t *again = json_loads(text, 0, NULL);
        free(text);
        /* The argument's own text is in the record, whole (quote and newline included). */
        int found = 0;
        const char *k;
        json_t *v;
        json_object_foreach(again, k, v) found |= json_is_string(v) && strstr(json_string_value(v), cases[i].needle);
        if (!found)
            fail_msg("'%s': its text is not in the record", cases[i].args);
        json_decref(again);
        json_decref(recs);
    }
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int64_t count_where(json_t *recs, const char *key, const char *value)
{
    int64_t n = 0;
    for (size_t i = 0; i < json_array_size(recs); i++) {
        const char *v = json_string_value(json_object_get(json_array_get(recs, i), key));
        n += v && strcmp(v, value) == 0;
    }
    return n;
}

static void gateway_text_and_unknown_cart(void **state)
{
    (void)state;
    ckt_daemon *d = &D;
    G = fgw_start();
    assert_non_null(G);
    ckt_start(d, NULL, NULL);
    char url[128], store[64], shm[64], acct[64], buyer[64], bkey[128], prod[64], path[1024], sid[64];
    fgw_url(G, url, sizeof(url));
    ckt_shop_setup(d, url, store, shm, acct, buyer, bkey);
    ckt_product(d, store, NULL, prod);

    /* An unknown cart: the table's 500 INVALID_CART_ID, a caller's mistake. */
    ckt_resp r = ckt_http(d, "POST", "/v1/checkouts", bkey, "{\"cartId\":\"cart_00000000000000000000000000\"}", NULL);
    ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "INVALID_CART_ID", "cartId");
    ckt_free(&r);

    /* A gateway error whose text would forge a record if spliced raw. */
    ckt_session_ready(d, bkey, store, acct, prod, 1, ADDR_US, shm,
                      "{\"method\":\"card\",\"cardToken\":\"tok_error_text\"}", sid, NULL);
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", sid);
    r = ckt_http(d, "POST", path, bkey, NULL, NULL);
    ckt_expect_error(&r, 500, "UNKNOWN_EXCEPTION", "PAYMENT_GATEWAY_ERROR", NULL);
    /* The buyer is told the gateway answered, not that it did not. */
    const char *msg = ckt_str(r.json, "0.message");
    assert_non_null(strstr(msg, "answered with an error"));
    assert_null(strstr(msg, "did not answer"));
    /* ... in our words: the gateway's text reaches neither the answer nor
     * the session's errors (only its plain code does). */
    assert_null(strstr(msg, "acquirer"));
    assert_null(strstr(msg, "forged"));
    assert_non_null(strstr(msg, "(processing_error)"));
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    r = ckt_http(d, "GET", path, bkey, NULL, NULL);
    ckt_expect_status(&r, 200);
    char *session_text = json_dumps(r.json, 0);
    assert_non_null(session_text);
    assert_null(strstr(session_text, "acquirer"));
    assert_null(strstr(session_text, "forged"));
    free(session_text);
    ckt_free(&r);

    /* A decline: its code is shown only when it is a plain token, and its
     * message never. */
    char sid2[64];
    ckt_session_ready(d, bkey, store, acct, prod, 1, ADDR_US, shm,
                      "{\"method\":\"card\",\"cardToken\":\"tok_decline_text\"}", sid2, NULL);
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", sid2);
    r = ckt_http(d, "POST", path, bkey, NULL, NULL);
    ckt_expect_error(&r, 400, "BAD_REQUEST", "PAYMENT_DECLINED", NULL);
    assert_string_equal(ckt_str(r.json, "0.message"), "the card was declined; use another card");
    ckt_free(&r);
    assert_int_equal(ckt_stop(d), 0);

    json_t *recs = ckt_log_records(d->log_path);
    /* No record was forged by the gateway's text: it sits inside one. */
    assert_int_equal(count_where(recs, "msg", "forged"), 0);
    int inside = 0;
    for (size_t i = 0; i < json_array_size(recs); i++) {
        const char *e = json_string_value(json_object_get(json_array_get(recs, i), "error"));
        inside |= e && strstr(e, "acquirer said \"no\"\n{\"level\":\"fatal\"") != NULL;
    }
    assert_true(inside);
    /* The unknown cart is an info request record (status 500 per the table), not an error. */
    int64_t errors_for_cart = 0;
    for (size_t i = 0; i < json_array_size(recs); i++) {
        json_t *rec = json_array_get(recs, i);
        const char *level = json_string_value(json_object_get(rec, "level"));
        const char *reason = json_string_value(json_object_get(rec, "reason"));
        errors_for_cart += strcmp(level, "error") == 0 && reason && strcmp(reason, "INVALID_CART_ID") == 0;
    }
    assert_int_equal(errors_for_cart, 0);
    assert_true(count_where(recs, "msg", "request") > 5);
    json_decref(recs);
    ckt_finish(d);
}

/* The harness's secret grep finds what it is told to look for: a request
 * id the log does hold, registered as if it were a secret, is found; so a
 * clean grep at every ckt_finish means something. */
static void secret_grep_finds(void **state)
{
    (void)state;
    ckt_daemon *d = &D;
    ckt_start(d, NULL, NULL);
    ckt_resp r = ckt_http(d, "GET", "/v1/stores", CKT_ADMIN_KEY, NULL, NULL);
    char rid[128];
    assert_true(ckt_header(&r, "X-Request-Id", rid, sizeof(rid)));
    ckt_free(&r);
    assert_int_equal(ckt_stop(d), 0);
    assert_int_equal(ckt_log_secrets(d), 0);
    ckt_secret(rid);
    assert_int_equal(ckt_log_secrets(d), 1);
    ckt_secret_forget(rid);
    assert_int_equal(ckt_log_secrets(d), 0);
    ckt_finish(d);
}

/* Writes text to path with mode. */
static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

/* --api-key-file: the admin key from a file only its owner may read, its
 * trailing newline dropped; refused (exit 1, one fatal record naming the
 * reason, the key never in it) when the file is readable by others, empty,
 * holds a space, is missing, or when CHECKOUTD_ADMIN_KEY is set too. */
static void admin_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/ck_keyfile_XXXXXX", key_path[128], log_path[128], args[512];
    assert_non_null(mkdtemp(dir));
    snprintf(key_path, sizeof(key_path), "%s/admin.key", dir);
    snprintf(log_path, sizeof(log_path), "%s/err.log", dir);
    static const char key[] = "file-admin-key-0123456789abcdef";

    struct {
        const char *text;
        mode_t mode;
        int env, missing;
        const char *reason;
    } refused[] = {
        {"file-admin-key-0123456789abcdef\n", 0644, 0, 0, "ADMIN_KEY_FILE"},
        {"file-admin-key-0123456789abcdef\n", 0640, 0, 0, "ADMIN_KEY_FILE"},
        {"\n", 0600, 0, 0, "ADMIN_KEY_FILE"},
        {"file-admin key-0123456789abcdef\n", 0600, 0, 0, "ADMIN_KEY_FILE"},
        {"short\n", 0600, 0, 0, "WEAK_ADMIN_KEY"},
        {"", 0600, 0, 1, "ADMIN_KEY_FILE"},
        {"file-admin-key-0123456789abcdef\n", 0600, 1, 0, "ADMIN_KEY_TWICE"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        unlink(key_path);
        if (!refused[i].missing)
            write_file(key_path, refused[i].text, refused[i].mode);
        snprintf(args, sizeof(args), "--listen 127.0.0.1:0 --db sqlite:%s/x.db --api-key-file %s", dir, key_path);
        if (refused[i].env)
            setenv("CHECKOUTD_ADMIN_KEY", CKT_ADMIN_KEY, 1);
        else
            unsetenv("CHECKOUTD_ADMIN_KEY");
        int status = ckt_run_checkoutd(args, log_path);
        unsetenv("CHECKOUTD_ADMIN_KEY");
        if (status != 1)
            fail_msg("case %zu: exit %d", i, status);
        json_t *recs = ckt_log_records(log_path);
        assert_int_equal(count_where(recs, "reason", refused[i].reason), 1);
        assert_int_equal(count_where(recs, "level", "fatal"), 1);
        char *all = json_dumps(recs, 0);
        assert_null(strstr(all, "0123456789abcdef"));
        free(all);
        json_decref(recs);
    }

    /* Owner-only, with a trailing newline: the key works; the environment's does not exist. */
    char text[128];
    snprintf(text, sizeof(text), "%s\r\n", key);
    write_file(key_path, text, 0400);
    const char *const extra[] = {"--api-key-file", key_path, NULL};
    ckt_daemon *d = &D;
    ckt_start(d, NULL, extra);
    ckt_resp r = ckt_http(d, "GET", "/v1/stores", key, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    r = ckt_http(d, "GET", "/v1/stores", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 401);
    ckt_free(&r);
    ckt_finish(d);
    unlink(key_path);
    unlink(log_path);
}

static void delivery_attempts_at_info(void **state)
{
    (void)state;
    ckt_daemon *d = &D;
    ckt_start(d, NULL, NULL);
    char store[64], shm[64], acct[64], buyer[64], bkey[128], prod[64], path[1024], sid[64];
    ckt_shop_setup(d, NULL, store, shm, acct, buyer, bkey);
    ckt_product(d, store, NULL, prod);
    /* A receiver that is not there (port 9 on loopback: nothing listens). */
    ckt_resp r = ckt_http(d, "POST", "/v1/subscribers", CKT_ADMIN_KEY,
                          "{\"kind\":\"webhook\",\"url\":\"http://127.0.0.1:9/hook\",\"secret\":\"s3cret\","
                          "\"events\":[\"OrderCreated\"],\"maxAttempts\":2,\"backoffBaseMs\":10}",
                          NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    ckt_session_ready(d, bkey, store, acct, prod, 1, ADDR_US, shm, "{\"method\":\"card\",\"cardToken\":\"tok_visa\"}",
                      sid, NULL);
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", sid);
    r = ckt_http(d, "POST", path, bkey, NULL, NULL);
    ckt_expect_status(&r, 201);
    ckt_free(&r);
    /* Wait until the delivery is Dead (two attempts), then read the log. */
    for (int i = 0; i < 1000; i++) {
        if (ckt_db_int(d, "SELECT count(*) FROM deliveries WHERE status = 'Dead'") == 1)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM deliveries WHERE status = 'Dead'"), 1);
    assert_int_equal(ckt_stop(d), 0);
    json_t *recs = ckt_log_records(d->log_path);
    int retry = 0, dead = 0;
    for (size_t i = 0; i < json_array_size(recs); i++) {
        json_t *rec = json_array_get(recs, i);
        if (strcmp(json_string_value(json_object_get(rec, "msg")), "delivery attempt") != 0)
            continue;
        assert_string_equal(json_string_value(json_object_get(rec, "level")), "info");
        assert_true(json_is_string(json_object_get(rec, "deliveryId")));
        assert_true(json_is_string(json_object_get(rec, "error")));
        const char *outcome = json_string_value(json_object_get(rec, "outcome"));
        retry += strcmp(outcome, "Retry") == 0;
        dead += strcmp(outcome, "Dead") == 0;
    }
    assert_int_equal(retry, 1);
    assert_int_equal(dead, 1);
    json_decref(recs);
    ckt_finish(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usage_and_startup_errors),
        cmocka_unit_test_teardown(gateway_text_and_unknown_cart, teardown),
        cmocka_unit_test_teardown(admin_key_file, teardown),
        cmocka_unit_test_teardown(secret_grep_finds, teardown),
        cmocka_unit_test_teardown(delivery_attempts_at_info, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
