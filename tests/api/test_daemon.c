/* test_daemon.c: the daemon itself (API.md, "The daemon"): --version,
 * /healthz and /metrics without auth, data surviving a restart, a clean exit on SIGTERM
 * and SIGINT, the 1 MiB body limit, and one JSON log line per request. */
#include "api/harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define MIB (1024 * 1024)

static void healthz(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_true(json_is_object(r.json));
    assert_string_equal(ckt_str(r.json, "status"), "ok");
    assert_int_equal(json_object_size(r.json), 1);
    char ct[128];
    assert_true(ckt_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_non_null(strstr(ct, "application/json"));
    ckt_free(&r);
    ckt_finish(&d);
}

static void metrics(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/metrics", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_null(r.json); /* text, not JSON */
    assert_non_null(strstr(r.body, "# TYPE checkoutd_http_requests_total counter"));
    assert_non_null(strstr(r.body, "checkoutd_http_requests_total{class=\"2xx\"} "));
    char ct[128];
    assert_true(ckt_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_non_null(strstr(ct, "text/plain"));
    ckt_free(&r);
    ckt_finish(&d);
}

/* checkoutd --version: one line "checkoutd MAJOR.MINOR.PATCH" (the CMake
 * project version), exit 0, before anything is opened: the database named
 * here cannot be created, so a daemon that went on would exit 1. */
static void version_flag(void **state)
{
    FILE *p = popen(CHECKOUTD_BIN " --db sqlite:/nonexistent-dir/x.db --version", "r");
    assert_non_null(p);
    char out[256] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(out, "checkoutd " CKT_VERSION "\n");
    unsigned major, minor, patch;
    char end;
    assert_int_equal(sscanf(CKT_VERSION, "%u.%u.%u%c", &major, &minor, &patch, &end), 3);
}

static void persists_across_restart(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char id[64], path[128];
    ckt_store(&d, id);
    snprintf(path, sizeof(path), "/v1/stores/%s", id);
    assert_int_equal(ckt_stop(&d), 0);

    ckt_restart(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), id);
    assert_string_equal(ckt_str(r.json, "name"), "Test Store");
    ckt_free(&r);
    /* The admin key from the environment is ensured, not duplicated, on each start. */
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), 1);
    ckt_finish(&d);
}

static void signals_exit_zero(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_free(&r);
    assert_int_equal(ckt_stop(&d), 0); /* SIGTERM */

    ckt_restart(&d, NULL, NULL);
    r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    assert_int_equal(kill(d.pid, SIGINT), 0);
    assert_int_equal(ckt_wait_exit(&d, 30000), 0);
    ckt_finish(&d);
}

/* A store body padded with trailing whitespace to exactly len bytes. */
static char *padded_store_body(size_t len)
{
    static const char head[] = "{\"name\":\"Big\",\"currency\":\"USD\"}";
    char *b = malloc(len + 1);
    assert_non_null(b);
    memset(b, ' ', len);
    memcpy(b, head, sizeof(head) - 1);
    b[len] = '\0';
    return b;
}

static void body_limit(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char *body = padded_store_body(MIB + 1);
    ckt_resp r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY, body, NULL);
    ckt_expect_error(&r, 413, "PAYLOAD_TOO_LARGE", "PAYLOAD_TOO_LARGE", NULL);
    ckt_free(&r);
    free(body);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM stores"), 0);

    /* Exactly 1 MiB is within the limit. */
    body = padded_store_body(MIB);
    r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY, body, NULL);
    ckt_expect_status(&r, 201);
    assert_string_equal(ckt_str(r.json, "name"), "Big");
    ckt_free(&r);
    free(body);

    /* The daemon still answers afterwards. */
    r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM stores"), 1);
    ckt_finish(&d);
}

static void request_log(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    ckt_resp r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_free(&r);
    r = ckt_http(&d, "GET", "/v1/no-such-route", CKT_ADMIN_KEY, NULL, NULL);
    ckt_free(&r);
    r = ckt_http(&d, "POST", "/v1/stores", CKT_ADMIN_KEY,
                 "{\"name\":\"Logged\",\"currency\":\"USD\"}", NULL);
    ckt_expect_status(&r, 201);
    char rid[128];
    assert_true(ckt_header(&r, "X-Request-Id", rid, sizeof(rid)));
    assert_true(strncmp(rid, "rid_", 4) == 0);
    ckt_free(&r);
    assert_int_equal(ckt_stop(&d), 0);

    FILE *f = fopen(d.log_path, "r");
    assert_non_null(f);
    char line[4096];
    int requests = 0, found_rid = 0, found_404 = 0;
    while (fgets(line, sizeof(line), f)) {
        if (!strstr(line, "\"requestId\"") || !strstr(line, "\"route\""))
            continue; /* not a request line (startup, shutdown, library messages) */
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!j)
            fprintf(stderr, "request log line is not JSON: %s", line);
        assert_non_null(j);
        {
            requests++;
            assert_true(json_is_string(json_object_get(j, "ts")));
            assert_true(json_is_string(json_object_get(j, "requestId")));
            assert_true(json_is_string(json_object_get(j, "method")));
            assert_true(json_is_integer(json_object_get(j, "status")));
            assert_true(json_is_integer(json_object_get(j, "us")));
            const char *id = json_string_value(json_object_get(j, "requestId"));
            if (strcmp(id, rid) == 0) {
                found_rid = 1;
                assert_int_equal(json_integer_value(json_object_get(j, "status")), 201);
                assert_string_equal(json_string_value(json_object_get(j, "method")), "POST");
                assert_string_equal(json_string_value(json_object_get(j, "route")), "/v1/stores");
            }
            if (json_integer_value(json_object_get(j, "status")) == 404)
                found_404 = 1;
        }
        json_decref(j);
    }
    fclose(f);
    assert_int_equal(requests, 3);
    assert_true(found_rid);
    assert_true(found_404);
    ckt_finish(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(healthz),
        cmocka_unit_test(metrics),
        cmocka_unit_test(version_flag),
        cmocka_unit_test(persists_across_restart),
        cmocka_unit_test(signals_exit_zero),
        cmocka_unit_test(body_limit),
        cmocka_unit_test(request_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
