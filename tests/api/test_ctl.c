/* test_ctl.c: checkoutctl against a real database file and the real daemon:
 * seed-demo creates the demo data once and prints two working keys and curl
 * commands that work as printed; create-user prints a key that authenticates;
 * flow export and import round-trip a flow from one database to another;
 * usage errors exit 2. */
#include "api/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs a shell command line; *out gets its stdout (caller frees). Returns the exit status. */
static int run_capture(const char *cmdline, char **out)
{
    FILE *p = popen(cmdline, "r");
    assert_non_null(p);
    size_t n = 0, cap = 4096;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[n] = '\0';
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs checkoutctl with args (a shell-quoted string) against d's database. */
static int ctl(ckt_daemon *d, const char *args, char **out)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "'%s' %s --db 'sqlite:%s'", CHECKOUTCTL_BIN, args, d->db_path);
    return run_capture(cmd, out);
}

/* Copies the value of the first line "label: value" (up to a space) into val. */
static int field(const char *text, const char *label, char *val, size_t n)
{
    size_t ll = strlen(label);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, label, ll) == 0 && p[ll] == ':' && p[ll + 1] == ' ') {
            const char *v = p + ll + 2;
            size_t vl = strcspn(v, " \n");
            if (vl >= n)
                return 0;
            memcpy(val, v, vl);
            val[vl] = '\0';
            return 1;
        }
    }
    return 0;
}

/* A daemon struct with a fresh directory and database path but no process. */
static void fresh_dir(ckt_daemon *d)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "/tmp/checkoutd-test-XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->db_path, sizeof(d->db_path), "%s/checkout.db", d->dir);
    snprintf(d->log_path, sizeof(d->log_path), "%s/checkoutd.log", d->dir);
}

static void expect_get(ckt_daemon *d, const char *path, const char *key, long status)
{
    ckt_resp r = ckt_http(d, "GET", path, key, NULL, NULL);
    ckt_expect_status(&r, status);
    ckt_free(&r);
}

static void seed_demo_once(void **state)
{
    ckt_daemon d;
    fresh_dir(&d);
    char *out = NULL;
    /* A database file that does not exist yet: checkoutctl creates and migrates it. */
    assert_int_equal(ctl(&d, "seed-demo", &out), 0);
    char admin_key[128], buyer_key[128], store[64], account[64];
    assert_true(field(out, "admin key", admin_key, sizeof(admin_key)));
    assert_true(field(out, "buyer key", buyer_key, sizeof(buyer_key)));
    assert_true(field(out, "store", store, sizeof(store)));
    assert_true(field(out, "account", account, sizeof(account)));
    assert_true(strncmp(admin_key, "ck_", 3) == 0);
    assert_true(strncmp(buyer_key, "ck_", 3) == 0);
    assert_string_not_equal(admin_key, buyer_key);
    assert_non_null(strstr(out, "http://127.0.0.1:8080/v1/stores/")); /* the default base URL */
    free(out);

    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM stores"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products WHERE store_id = '%s'", store), 3);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products WHERE hazmat = 1"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products WHERE price_tiers <> '[]'"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM products WHERE sku = 'WIDGET-1' AND unit_price = 1999"
                                    " AND weight_grams = 500 AND stock = 100"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM shipping_methods WHERE flat_fee = 1000 AND per_kg_fee = 100"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM tax_rates WHERE country = 'US' AND rate_bp = 825"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM store_members WHERE store_id = '%s' AND account_id = '%s'",
                                store, account), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), 2);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM user_accounts WHERE account_id = '%s'", account), 1);
    /* Only hashes are stored. */
    char *dump = NULL;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "sqlite3 '%s' .dump", d.db_path);
    assert_int_equal(run_capture(cmd, &dump), 0);
    assert_null(strstr(dump, admin_key));
    assert_null(strstr(dump, buyer_key));
    free(dump);

    /* Again: nothing new, exit 0, and a pointer to create-user. */
    assert_int_equal(ctl(&d, "seed-demo", &out), 0);
    assert_non_null(strstr(out, "exists"));
    assert_non_null(strstr(out, "create-user"));
    assert_null(strstr(out, "admin key"));
    free(out);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM stores"), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), 2);

    /* The daemon on that database accepts the printed keys. */
    ckt_restart(&d, NULL, NULL);
    char path[128];
    snprintf(path, sizeof(path), "/v1/stores/%s", store);
    ckt_resp r = ckt_http(&d, "GET", path, admin_key, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "name"), "Demo Store");
    assert_string_equal(ckt_str(r.json, "currency"), "USD");
    assert_int_equal(ckt_int(r.json, "slaSeconds"), 900);
    assert_int_equal(ckt_int(r.json, "staleAuthorizationSeconds"), 86400);
    assert_string_equal(ckt_str(r.json, "embargoedCountries.0"), "KP");
    ckt_free(&r);
    r = ckt_http(&d, "GET", path, buyer_key, NULL, NULL);
    ckt_expect_error(&r, 403, "FORBIDDEN", "FORBIDDEN", NULL);
    ckt_free(&r);
    ckt_finish(&d);
}

/* Seeding next to a running daemon, with its URL: the first printed curl command works as printed. */
static void seed_demo_curl_lines(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char *out = NULL, args[256];
    snprintf(args, sizeof(args), "seed-demo --base-url '%s/'", d.base);
    assert_int_equal(ctl(&d, args, &out), 0);
    char store[64];
    assert_true(field(out, "store", store, sizeof(store)));

    int curls = 0;
    for (char *line = out; line && *line;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = '\0';
        if (strncmp(line, "curl ", 5) == 0) {
            curls++;
            char want[128];
            snprintf(want, sizeof(want), "%s/v1/", d.base); /* no double slash */
            assert_non_null(strstr(line, want));
            if (curls == 1) {
                char cmd[1200], *body = NULL;
                snprintf(cmd, sizeof(cmd), "%s -w '\\n%%{http_code}'", line);
                assert_int_equal(run_capture(cmd, &body), 0);
                assert_non_null(strstr(body, store));
                assert_non_null(strstr(body, "\n200"));
                free(body);
            }
        }
        line = eol ? eol + 1 : NULL;
    }
    assert_int_equal(curls, 3);
    free(out);
    ckt_finish(&d);
}

static void create_user_key_works(void **state)
{
    ckt_daemon d;
    ckt_start(&d, NULL, NULL);
    char store[64];
    ckt_store(&d, store);
    char path[128];
    snprintf(path, sizeof(path), "/v1/stores/%s", store);

    char *out = NULL, id[64], key[128];
    assert_int_equal(ctl(&d, "create-user --name 'Ops Admin' --email ops@example.com --perm admin", &out), 0);
    assert_true(field(out, "id", id, sizeof(id)));
    assert_true(field(out, "apiKey", key, sizeof(key)));
    assert_true(strncmp(id, "usr_", 4) == 0);
    free(out);
    expect_get(&d, path, key, 200);
    assert_int_equal(ckt_db_int(&d, "SELECT permissions FROM users WHERE id = '%s'", id), 4);
    /* Made by the API's own INSERT of a user: enabled, updatedAt set. */
    char upath[128];
    snprintf(upath, sizeof(upath), "/v1/users/%s", id);
    ckt_resp u = ckt_http(&d, "GET", upath, key, NULL, NULL);
    ckt_expect_status(&u, 200);
    assert_string_equal(ckt_str(u.json, "name"), "Ops Admin");
    assert_true(json_is_false(ckt_get(u.json, "disabled")));
    assert_string_equal(ckt_str(u.json, "updatedAt"), ckt_str(u.json, "createdAt"));
    ckt_free(&u);

    /* Several permissions and an account; the key authenticates (403, not 401). */
    int64_t users = ckt_db_int(&d, "SELECT count(*) FROM users");
    assert_int_equal(ctl(&d, "create-user --name B --email b@example.com --perm buyer,approver", &out), 0);
    assert_true(field(out, "apiKey", key, sizeof(key)));
    free(out);
    expect_get(&d, path, key, 403);
    expect_get(&d, path, "ck_certainly_not_a_key", 401);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), users + 1);

    /* Given an account that does not exist: nothing is written, exit 1. */
    assert_int_equal(ctl(&d, "create-user --name C --email c@example.com --perm buyer"
                             " --account acct_01M80V5EQG4YHAXXJRNX68ZH9P 2>/dev/null", &out), 1);
    assert_null(strstr(out, "apiKey"));
    free(out);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM users"), users + 1);
    ckt_finish(&d);
}

static void create_user_with_account(void **state)
{
    ckt_daemon d;
    fresh_dir(&d);
    char *out = NULL, account[64], id[64], key[128];
    assert_int_equal(ctl(&d, "seed-demo", &out), 0);
    assert_true(field(out, "account", account, sizeof(account)));
    free(out);
    char args[512];
    snprintf(args, sizeof(args), "create-user --name Second --email s@example.com --perm buyer --account %s"
             " --account %s", account, account);
    assert_int_equal(ctl(&d, args, &out), 0);
    assert_true(field(out, "id", id, sizeof(id)));
    assert_true(field(out, "apiKey", key, sizeof(key)));
    free(out);
    assert_int_equal(ckt_db_int(&d, "SELECT count(*) FROM user_accounts WHERE user_id = '%s' AND account_id = '%s'",
                                id, account), 1);
    assert_int_equal(ckt_db_int(&d, "SELECT permissions FROM users WHERE id = '%s'", id), 1);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d.dir);
    assert_int_equal(system(cmd), 0);
}

/* A merchant's flow with every kind of step: a lua rule, an http callout
 * under a when, inside a subflow. */
static const char custom_steps[] =
    "[{\"name\":\"validate_cart\",\"kind\":\"builtin\"},{\"name\":\"pricing\",\"kind\":\"builtin\"},"
    "{\"name\":\"shipping\",\"kind\":\"builtin\"},{\"name\":\"tax\",\"kind\":\"builtin\"},"
    "{\"name\":\"business_rules\",\"kind\":\"builtin\"},"
    "{\"name\":\"quote_rule\",\"kind\":\"lua\",\"config\":{\"script\":"
    "\"function check(cart) if cart.totals.grandTotal > 1000000 then return false, 'needs a quote' end return true end\"}},"
    "{\"name\":\"erp\",\"kind\":\"subflow\",\"when\":{\"paymentMethod\":[\"purchase_order\"]},\"config\":{\"steps\":["
    "{\"name\":\"credit_check\",\"kind\":\"http\",\"config\":{\"url\":\"https://erp.example.com/credit\","
    "\"timeoutMs\":1500,\"secret\":\"s3cret\"}}]}},"
    "{\"name\":\"payment\",\"kind\":\"builtin\"},{\"name\":\"create_order\",\"kind\":\"builtin\"},"
    "{\"name\":\"confirm\",\"kind\":\"builtin\"},{\"name\":\"close_cart\",\"kind\":\"builtin\"}]";

/* Writes text to path. */
static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Staging to production: a flow made through the API on one database is
 * exported to a file, imported into a store of another database as a Draft,
 * and exported again: name and steps are the same. A file the PUT would
 * refuse, a malformed one and an unknown store fail with exit 1 and change
 * nothing. */
static void flow_export_import_round_trip(void **state)
{
    (void)state;
    ckt_daemon staging, prod;
    char s1[64], s2[64], path[400], bad_path[400], args[800], *out = NULL, *again = NULL;
    ckt_start(&staging, NULL, NULL);
    ckt_store(&staging, s1);
    ckt_resp r = ckt_httpf(&staging, "POST", "/v1/flows/flow_standard/clone", CKT_ADMIN_KEY,
                           "{\"name\":\"ERP checkout\",\"storeId\":\"%s\"}", s1);
    ckt_expect_status(&r, 201);
    char flow[64], pathq[128];
    snprintf(flow, sizeof(flow), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
    snprintf(pathq, sizeof(pathq), "/v1/flows/%s", flow);
    r = ckt_httpf(&staging, "PUT", pathq, CKT_ADMIN_KEY, "{\"steps\":%s}", custom_steps);
    ckt_expect_status(&r, 200);
    ckt_free(&r);

    snprintf(args, sizeof(args), "flow export %s", flow);
    assert_int_equal(ctl(&staging, args, &out), 0);
    json_t *exported = json_loads(out, 0, NULL);
    assert_non_null(exported);
    assert_string_equal(ckt_str(exported, "name"), "ERP checkout");
    assert_int_equal(ckt_int(exported, "version"), 2);
    assert_null(json_object_get(exported, "inFlightSessions"));
    snprintf(path, sizeof(path), "%s/flow.json", staging.dir);
    write_file(path, out);
    free(out);

    ckt_start(&prod, NULL, NULL);
    ckt_store(&prod, s2);
    snprintf(args, sizeof(args), "flow import --store %s '%s'", s2, path);
    assert_int_equal(ctl(&prod, args, &out), 0);
    char imported[64];
    assert_int_equal(sscanf(out, "flow_%26s", imported + 5), 1);
    memcpy(imported, "flow_", 5);
    free(out);
    snprintf(pathq, sizeof(pathq), "/v1/flows/%s", imported);
    r = ckt_http(&prod, "GET", pathq, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "status"), "Draft");
    assert_string_equal(ckt_str(r.json, "storeId"), s2);
    assert_int_equal(ckt_int(r.json, "version"), 1);
    ckt_free(&r);
    snprintf(args, sizeof(args), "flow export %s", imported);
    assert_int_equal(ctl(&prod, args, &again), 0);
    json_t *reexported = json_loads(again, 0, NULL);
    assert_non_null(reexported);
    assert_true(json_equal(json_object_get(exported, "steps"), json_object_get(reexported, "steps")));
    assert_true(json_equal(json_object_get(exported, "name"), json_object_get(reexported, "name")));
    free(again);

    /* Refused, each with exit 1 and nothing written. */
    int64_t flows = ckt_db_int(&prod, "SELECT count(*) FROM flows");
    snprintf(bad_path, sizeof(bad_path), "%s/bad.json", prod.dir);
    write_file(bad_path, "{\"name\":\"x\",\"steps\":[{\"name\":\"payment\",\"kind\":\"builtin\"},"
                         "{\"name\":\"teleport\",\"kind\":\"builtin\"}]}");
    snprintf(args, sizeof(args), "flow import --store %s '%s' 2>&1", s2, bad_path);
    assert_int_equal(ctl(&prod, args, &out), 1);
    assert_non_null(strstr(out, "teleport"));
    free(out);
    write_file(bad_path, "{\"name\":");
    snprintf(args, sizeof(args), "flow import --store %s '%s' 2>&1", s2, bad_path);
    assert_int_equal(ctl(&prod, args, &out), 1);
    assert_non_null(strstr(out, "malformed JSON"));
    free(out);
    snprintf(args, sizeof(args), "flow import --store store_01M8TCN51160RKYC7FFSJN58DS '%s' 2>&1", path);
    assert_int_equal(ctl(&prod, args, &out), 1);
    assert_non_null(strstr(out, "not found"));
    free(out);
    assert_int_equal(ckt_db_int(&prod, "SELECT count(*) FROM flows"), flows);
    assert_int_equal(ctl(&prod, "flow export flow_01M8TCN51160RKYC7FFSJN58DS 2>/dev/null", &out), 1);
    free(out);

    json_decref(exported);
    json_decref(reexported);
    ckt_finish(&prod);
    ckt_finish(&staging);
}

static void usage_errors(void **state)
{
    ckt_daemon d;
    fresh_dir(&d);
    static const char *const bad[] = {
        "",
        "frobnicate",
        "migrate extra",
        "seed-demo --no-such-option",
        "seed-demo --base-url ftp://x",
        "create-user --email a@b --perm buyer",
        "create-user --name A --perm buyer",
        "create-user --name A --email a@b",
        "create-user --name A --email a@b --perm wizard",
        "create-user --name A --email a@b --perm buyer --account nope",
        "flow",
        "flow frobnicate",
        "flow export",
        "flow export store_x",
        "flow export flow_a flow_b",
        "flow import flow.json",
        "flow import --store nope flow.json",
        "flow import --store store_01M8TCN51160RKYC7FFSJN58DS",
        "flow export --store store_01M8TCN51160RKYC7FFSJN58DS flow_standard",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *out = NULL, args[256];
        snprintf(args, sizeof(args), "%s 2>/dev/null", bad[i]);
        int rc = ctl(&d, args, &out);
        if (rc != 2)
            fprintf(stderr, "checkoutctl %s: exit %d, want 2\n", bad[i], rc);
        assert_int_equal(rc, 2);
        free(out);
    }
    char *out = NULL;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "'%s' --help", CHECKOUTCTL_BIN);
    assert_int_equal(run_capture(cmd, &out), 0);
    assert_non_null(strstr(out, "seed-demo"));
    assert_non_null(strstr(out, "create-user"));
    free(out);
    assert_int_equal(ctl(&d, "migrate", &out), 0);
    assert_non_null(strstr(out, "schema version"));
    free(out);
    assert_true(ckt_db_int(&d, "SELECT count(*) FROM schema_migrations") >= 1);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d.dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_demo_once),
        cmocka_unit_test(seed_demo_curl_lines),
        cmocka_unit_test(create_user_key_works),
        cmocka_unit_test(create_user_with_account),
        cmocka_unit_test(flow_export_import_round_trip),
        cmocka_unit_test(usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
