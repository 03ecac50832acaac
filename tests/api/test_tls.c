/* test_tls.c: HTTPS with --tls-cert and --tls-key (libmicrohttpd's GnuTLS),
 * driven with libcurl over loopback against a certificate made for the test
 * with the openssl command. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/harness.h"

static ckt_daemon D;
static char dir[64], cert[128], key[128], other_cert[128], other_key[128];

/* A self-signed certificate for 127.0.0.1 and its key, owner-only. */
static void make_cert(const char *cert_path, const char *key_path)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
             key_path, cert_path);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(chmod(key_path, 0600), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/ck_tls_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(other_cert, sizeof(other_cert), "%s/other-cert.pem", dir);
    snprintf(other_key, sizeof(other_key), "%s/other-key.pem", dir);
    make_cert(cert, key);
    make_cert(other_cert, other_key);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ckt_cleanup(&D);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* One GET with curl's own options: the CA it trusts (NULL: the system's)
 * and the URL's scheme. Returns curl's result; *status gets the HTTP status. */
static CURLcode get(const char *url, const char *cainfo, long *status)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    if (cainfo)
        curl_easy_setopt(c, CURLOPT_CAINFO, cainfo);
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    fclose(sink);
    return rc;
}

/* The API over HTTPS: the listening line says https, a write and a read
 * work, and the certificate is the one given (a client that trusts another
 * CA, or the system's, refuses the connection). Plain HTTP on the same port
 * gets no HTTP answer, and the daemon goes on serving. */
static void serves_https(void **state)
{
    (void)state;
    const char *const extra[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    ckt_start(&D, NULL, extra);
    assert_true(strncmp(D.base, "https://", 8) == 0);

    char store[64];
    ckt_store(&D, store); /* a POST, 201, over TLS */
    char path[128];
    snprintf(path, sizeof(path), "/v1/stores/%s", store);
    ckt_resp r = ckt_http(&D, "GET", path, CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_string_equal(ckt_str(r.json, "id"), store);
    ckt_free(&r);

    char url[128];
    long status = 0;
    snprintf(url, sizeof(url), "%s/healthz", D.base);
    assert_int_equal(get(url, cert, &status), CURLE_OK);
    assert_int_equal(status, 200);
    /* Another certificate as the only CA, or the system's CAs: not trusted. */
    assert_int_equal(get(url, other_cert, &status), CURLE_PEER_FAILED_VERIFICATION);
    assert_int_equal(get(url, NULL, &status), CURLE_PEER_FAILED_VERIFICATION);
    /* Plain HTTP to the TLS port: no HTTP answer. */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", D.port);
    CURLcode plain = get(url, NULL, &status);
    assert_true(plain != CURLE_OK || status == 0);
    /* ...and the daemon still serves. */
    r = ckt_http(&D, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    ckt_finish(&D);
}

/* Start-up refusals: one of the two options alone (usage, exit 2); a key
 * that others may read, a file that is not PEM, a missing file (exit 1,
 * TLS_FILE); a key that does not match the certificate (exit 1, TLS_FAILED).
 * Each is one record, and none holds the key's text. */
static void refusals(void **state)
{
    (void)state;
    char open_key[128], not_pem[128], log[128], args[1024];
    snprintf(open_key, sizeof(open_key), "%s/open-key.pem", dir);
    snprintf(not_pem, sizeof(not_pem), "%s/not.pem", dir);
    snprintf(log, sizeof(log), "%s/err.log", dir);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cp %s %s && chmod 0644 %s && echo hello > %s", key, open_key, open_key, not_pem);
    assert_int_equal(system(cmd), 0);
    struct {
        const char *cert, *key;
        int status;
        const char *reason;
    } cases[] = {
        {cert, NULL, 2, NULL},
        {NULL, key, 2, NULL},
        {cert, open_key, 1, "TLS_FILE"},
        {not_pem, key, 1, "TLS_FILE"},
        {cert, not_pem, 1, "TLS_FILE"},
        {"/nonexistent/cert.pem", key, 1, "TLS_FILE"},
        {cert, other_key, 1, "TLS_FAILED"},
    };
    /* The key's base64 body, which no record may hold. */
    FILE *f = fopen(key, "r");
    assert_non_null(f);
    char line[256], secret_line[256] = "";
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "-----", 5) != 0 && !secret_line[0])
            snprintf(secret_line, sizeof(secret_line), "%.40s", line);
    fclose(f);
    assert_true(strlen(secret_line) >= 20);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = (size_t)snprintf(args, sizeof(args), "--listen 127.0.0.1:0 --db sqlite:%s/x.db", dir);
        if (cases[i].cert)
            n += (size_t)snprintf(args + n, sizeof(args) - n, " --tls-cert %s", cases[i].cert);
        if (cases[i].key)
            snprintf(args + n, sizeof(args) - n, " --tls-key %s", cases[i].key);
        int status = ckt_run_checkoutd(args, log);
        if (status != cases[i].status)
            fail_msg("case %zu: exit %d, not %d", i, status, cases[i].status);
        json_t *recs = ckt_log_records(log);
        char *all = json_dumps(recs, 0);
        if (cases[i].reason && !strstr(all, cases[i].reason))
            fail_msg("case %zu: no %s in %s", i, cases[i].reason, all);
        assert_null(strstr(all, secret_line));
        free(all);
        json_decref(recs);
    }
    /* 0640 is accepted. */
    assert_int_equal(chmod(key, 0640), 0);
    const char *const extra[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    ckt_start(&D, NULL, extra);
    ckt_resp r = ckt_http(&D, "GET", "/healthz", NULL, NULL, NULL);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    ckt_finish(&D);
    assert_int_equal(chmod(key, 0600), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(serves_https, NULL),
        cmocka_unit_test(refusals),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
