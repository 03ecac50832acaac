/* test_packaging.c: packaging/checkoutd.service. Its hardening and the
 * state directory that holds the SQLite file; systemd's own checks
 * (systemd-analyze verify, and security --offline below exposure 2.0) when
 * systemd-analyze is on the machine (a failure otherwise: make test installs it);
 * and the daemon started with the unit's ExecStart flags stopping with the
 * unit's KillSignal and exit 0, which systemd takes as a clean stop. */
#include "api/harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNIT CK_SOURCE_DIR "/packaging/checkoutd.service"

/* The value of `key=` in the [Service] section; the last one wins, as in
 * systemd. NULL when absent; else a static buffer the next call reuses. Fails the test when the file is unreadable. */
static const char *service_value(const char *key)
{
    static char found[1024];
    FILE *f = fopen(UNIT, "r");
    assert_non_null(f);
    char line[1024];
    int in_service = 0, have = 0;
    size_t kl = strlen(key);
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '[')
            in_service = strcmp(line, "[Service]") == 0;
        else if (in_service && strncmp(line, key, kl) == 0 && line[kl] == '=') {
            snprintf(found, sizeof(found), "%s", line + kl + 1);
            have = 1;
        }
    }
    fclose(f);
    return have ? found : NULL;
}

static void expect_directive(const char *key, const char *want)
{
    const char *v = service_value(key);
    if (!v || strcmp(v, want) != 0)
        fail_msg("%s: %s=%s, expected %s", UNIT, key, v ? v : "(absent)", want);
}

static void hardened(void **state)
{
    expect_directive("Type", "exec");
    expect_directive("DynamicUser", "yes");
    expect_directive("StateDirectory", "checkoutd");
    expect_directive("ProtectSystem", "strict");
    expect_directive("ProtectHome", "yes");
    expect_directive("PrivateTmp", "yes");
    expect_directive("PrivateDevices", "yes");
    expect_directive("NoNewPrivileges", "yes");
    expect_directive("CapabilityBoundingSet", "");
    expect_directive("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX");
    expect_directive("KillSignal", "SIGTERM");
    expect_directive("UMask", "0077");
    /* The SQLite file lives in the state directory: the one place ProtectSystem=strict lets it write. */
    const char *exec = service_value("ExecStart");
    assert_non_null(exec);
    assert_true(strncmp(exec, "/usr/local/bin/checkoutd ", 25) == 0);
    assert_non_null(strstr(exec, " --db sqlite:/var/lib/checkoutd/checkout.db"));
    assert_null(service_value("ReadWritePaths"));
    assert_null(service_value("User"));
}

/* Runs cmd with the unit's ExecStart pointed at this build's checkoutd;
 * returns its exit status and its output in out. */
static int run_on_unit(const char *fmt, char *out, size_t n)
{
    char dir[] = "/tmp/checkoutd-unit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "sed 's|^ExecStart=/usr/local/bin/checkoutd |ExecStart=%s |' '%s' > '%s/checkoutd.service'", CHECKOUTD_BIN,
             UNIT, dir);
    assert_int_equal(system(cmd), 0);
    char unit[128];
    snprintf(unit, sizeof(unit), "%s/checkoutd.service", dir);
    char run[1024];
    snprintf(run, sizeof(run), fmt, unit);
    snprintf(cmd, sizeof(cmd), "%s > '%s/out' 2>&1", run, dir);
    int status = system(cmd);
    snprintf(cmd, sizeof(cmd), "%s/out", dir);
    FILE *f = fopen(cmd, "r");
    out[0] = '\0';
    if (f) {
        out[fread(out, 1, n - 1, f)] = '\0';
        fclose(f);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* make test installs systemd (scripts/install-deps.sh test): a machine
 * without systemd-analyze fails these checks instead of skipping them, so
 * they cannot pass by not running. */
static int have_systemd_analyze(void)
{
    if (system("command -v systemd-analyze > /dev/null 2>&1") == 0)
        return 1;
    fail_msg("systemd-analyze is not installed (Debian's systemd package; scripts/install-deps.sh test installs it)");
    return 0;
}

/* systemd-analyze verify: no error and no warning (an unknown or misspelt
 * directive is only a warning, so any output fails). */
static void systemd_verify(void **state)
{
    if (!have_systemd_analyze())
        skip();
    char out[8192];
    int rc = run_on_unit("systemd-analyze verify '%s'", out, sizeof(out));
    if (rc != 0 || out[0])
        fail_msg("systemd-analyze verify (exit %d):\n%s", rc, out);
}

/* systemd's own exposure score of the unit's sandbox: below 2.0 ("OK"). */
static void systemd_security(void **state)
{
    if (!have_systemd_analyze())
        skip();
    char out[65536];
    int rc = run_on_unit("systemd-analyze security --no-pager --offline=true '%s'", out, sizeof(out));
    const char *p = strstr(out, "Overall exposure level for checkoutd.service: ");
    if (rc != 0 || !p)
        fail_msg("systemd-analyze security (exit %d):\n%s", rc, out);
    double score = strtod(p + strlen("Overall exposure level for checkoutd.service: "), NULL);
    if (score >= 2.0)
        fail_msg("exposure %.1f, expected below 2.0:\n%s", score, out);
}

/* The unit's ExecStart flags (but the database, which the harness puts in
 * a temporary directory, and the port, which is 0 here) start the daemon,
 * and the unit's KillSignal stops it with exit 0. */
static void stops_on_kill_signal(void **state)
{
    assert_string_equal(service_value("KillSignal"), "SIGTERM");
    const char *exec = service_value("ExecStart"); /* borrowed until the next service_value */
    assert_non_null(exec);
    static char args[1024];
    snprintf(args, sizeof(args), "%s", exec);
    const char *extra[16];
    int n = 0, skip_next = 0;
    char *save = NULL;
    for (char *tok = strtok_r(args, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (tok == args)
            continue; /* the binary */
        if (skip_next) {
            skip_next = 0;
            continue;
        }
        if (strcmp(tok, "--db") == 0) {
            skip_next = 1;
            continue;
        }
        if (strncmp(tok, "127.0.0.1:", 10) == 0)
            tok = "127.0.0.1:0";
        assert_true(n < 15);
        extra[n++] = tok;
    }
    extra[n] = NULL;
    assert_true(n >= 2); /* --listen HOST:PORT at least */
    ckt_daemon d;
    ckt_start(&d, NULL, extra);
    ckt_resp r = ckt_http(&d, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    assert_int_equal(kill(d.pid, SIGTERM), 0);
    assert_int_equal(ckt_wait_exit(&d, 30000), 0);
    ckt_finish(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hardened),
        cmocka_unit_test(systemd_verify),
        cmocka_unit_test(systemd_security),
        cmocka_unit_test(stops_on_kill_signal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
