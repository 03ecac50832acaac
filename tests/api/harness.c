/* harness.c: start/stop the real daemon, HTTP with libcurl, assertions. */
#include "api/harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Every daemon a test process started, so that one left running by a failed
 * assertion (cmocka jumps out of the test) is killed when the process exits. */
#define MAX_LIVE 64
static pid_t live[MAX_LIVE];
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;

static void kill_leftovers(void)
{
    for (int i = 0; i < MAX_LIVE; i++) {
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
    }
}

static void track(pid_t pid, int add)
{
    static int registered;
    pthread_mutex_lock(&live_mu);
    if (!registered) {
        atexit(kill_leftovers);
        registered = 1;
    }
    for (int i = 0; i < MAX_LIVE; i++) {
        if (add && live[i] == 0) {
            live[i] = pid;
            break;
        }
        if (!add && live[i] == pid) {
            live[i] = 0;
            break;
        }
    }
    pthread_mutex_unlock(&live_mu);
}

int ckt_backend_pg(void)
{
    const char *b = getenv("CKT_BACKEND");
    return b && strcmp(b, "postgres") == 0;
}

/* The test server's admin URL, or NULL (then a PostgreSQL-mode suite skips). */
static const char *pg_admin_url(void)
{
    const char *u = getenv("CKT_PG_URL");
    if (!u || !*u) {
        fprintf(stderr, "CKT_BACKEND=postgres needs CKT_PG_URL (scripts/pg.sh start): skipping\n");
        exit(77);
    }
    return u;
}

/* Runs one statement on the admin database (CREATE/DROP DATABASE). */
static void pg_admin(const char *sql)
{
    PGconn *c = PQconnectdb(pg_admin_url());
    if (PQstatus(c) != CONNECTION_OK)
        fprintf(stderr, "PostgreSQL: %s\n", PQerrorMessage(c));
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fprintf(stderr, "PostgreSQL '%s': %s\n", sql, PQerrorMessage(c));
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

/* A fresh database on the test server for d; fills d->pg_url. */
static void pg_create(ckt_daemon *d)
{
    static int seq;
    char sql[128];
    snprintf(d->pg_db, sizeof(d->pg_db), "ckt_%ld_%d", (long)getpid(), __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST));
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", d->pg_db);
    pg_admin(sql);
    const char *admin = pg_admin_url();
    const char *slash = strrchr(admin, '/');
    int base = slash ? (int)(slash - admin) : (int)strlen(admin);
    snprintf(d->pg_url, sizeof(d->pg_url), "%.*s/%s", base, admin, d->pg_db);
    d->pg = 1;
    /* Tests read the database with a few SQLite functions; give them the
     * same meaning here so one query serves both backends. */
    PGconn *c = PQconnectdb(d->pg_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "CREATE FUNCTION instr(a text, b text) RETURNS integer AS 'SELECT strpos(a, b)'"
                            " LANGUAGE sql IMMUTABLE;"
                            /* '$.a[0].b' -> {a,0,b} */
                            "CREATE FUNCTION json_extract(t text, p text) RETURNS text AS"
                            " 'SELECT (t::jsonb) #>> string_to_array(trim(leading ''.'' from"
                            " regexp_replace(substr(p, 2), ''\\[([0-9]+)\\]'', ''.\\1'', ''g'')), ''.'')'"
                            " LANGUAGE sql IMMUTABLE;");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fprintf(stderr, "PostgreSQL test functions: %s\n", PQerrorMessage(c));
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(c);
}

static void pg_drop(ckt_daemon *d)
{
    if (!d->pg)
        return;
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", d->pg_db);
    PGconn *c = PQconnectdb(pg_admin_url());
    PQclear(PQexec(c, sql));
    PQfinish(c);
    d->pg = 0;
}

static void spawn(ckt_daemon *d, const char *faults, const char *const *extra)
{
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    char db_url[400];
    if (d->pg)
        snprintf(db_url, sizeof(db_url), "%s", d->pg_url);
    else
        snprintf(db_url, sizeof(db_url), "sqlite:%s", d->db_path);
    const char *argv[32];
    int n = 0;
    argv[n++] = CHECKOUTD_BIN;
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--db";
    argv[n++] = db_url;
    argv[n++] = "--workers";
    argv[n++] = "4";
    if (faults)
        argv[n++] = "--enable-fault-injection";
    d->cainfo[0] = '\0';
    for (int i = 0; extra && extra[i] && n < 30; i++) {
        if (strcmp(extra[i], "--tls-cert") == 0 && extra[i + 1])
            snprintf(d->cainfo, sizeof(d->cainfo), "%s", extra[i + 1]);
        argv[n++] = extra[i];
    }
    argv[n] = NULL;

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 1);
        int logfd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (logfd >= 0)
            dup2(logfd, 2);
        close(pipefd[0]);
        close(pipefd[1]);
        /* A daemon given its admin key in a file gets none from the
         * environment (both at once is refused). */
        int key_file = 0;
        for (int i = 0; extra && extra[i]; i++)
            key_file |= strcmp(extra[i], "--api-key-file") == 0;
        if (key_file)
            unsetenv("CHECKOUTD_ADMIN_KEY");
        else
            setenv("CHECKOUTD_ADMIN_KEY", CKT_ADMIN_KEY, 1);
        if (faults)
            setenv("CHECKOUTD_FAULTS", faults, 1);
        else
            unsetenv("CHECKOUTD_FAULTS");
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    d->pid = pid;
    track(pid, 1);
    /* Read the one listening line, 10 s at most. */
    char line[256] = "";
    size_t len = 0;
    struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
    for (int waited = 0; waited < 10000 && !strchr(line, '\n');) {
        int pr = poll(&pfd, 1, 100);
        waited += 100;
        if (pr > 0) {
            ssize_t r = read(pipefd[0], line + len, sizeof(line) - 1 - len);
            if (r <= 0)
                break;
            len += (size_t)r;
            line[len] = '\0';
        }
    }
    close(pipefd[0]);
    int port = 0;
    const char *scheme = d->cainfo[0] ? "https" : "http";
    char want[64];
    snprintf(want, sizeof(want), "checkoutd listening on %s://127.0.0.1:%%d", scheme);
    if (sscanf(line, want, &port) != 1 || port <= 0) {
        fprintf(stderr, "checkoutd did not start; stdout: '%s'; see %s\n", line, d->log_path);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        d->pid = 0;
        fail_msg("checkoutd did not start");
    }
    d->port = port;
    snprintf(d->base, sizeof(d->base), "%s://127.0.0.1:%d", scheme, port);
}

void ckt_start(ckt_daemon *d, const char *faults, const char *const *extra)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "/tmp/checkoutd-test-XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->db_path, sizeof(d->db_path), "%s/checkout.db", d->dir);
    snprintf(d->log_path, sizeof(d->log_path), "%s/checkoutd.log", d->dir);
    if (ckt_backend_pg())
        pg_create(d);
    spawn(d, faults, extra);
}

void ckt_restart(ckt_daemon *d, const char *faults, const char *const *extra)
{
    assert_int_equal(d->pid, 0);
    spawn(d, faults, extra);
}

static int wait_status(pid_t pid, int timeout_ms)
{
    int status = 0;
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            track(pid, 0);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        usleep(10000);
    }
    return -1;
}

int ckt_stop(ckt_daemon *d)
{
    if (!d->pid)
        return 0;
    kill(d->pid, SIGTERM);
    int st = wait_status(d->pid, 30000);
    if (st < 0) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
        track(d->pid, 0);
    }
    d->pid = 0;
    return st;
}

void ckt_kill(ckt_daemon *d)
{
    if (!d->pid)
        return;
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    track(d->pid, 0);
    d->pid = 0;
}

int ckt_wait_exit(ckt_daemon *d, int timeout_ms)
{
    int st = wait_status(d->pid, timeout_ms);
    if (st >= 0)
        d->pid = 0;
    return st;
}

/* Every secret this test process gave a daemon or got from one: the API
 * keys it sent, and the values of JSON fields named like a secret (secret,
 * apiKey, cardToken, password, ...) in its request and reply bodies. A
 * daemon's log may hold none of them (issue 17: secrets are never logged);
 * ckt_finish and ckt_cleanup grep every line of it. Values under 8 bytes
 * are too short to grep for and are left out. */
#define SECRETS_MAX 8192
static char *secrets[SECRETS_MAX];
static size_t nsecrets;
static pthread_mutex_t secrets_mu = PTHREAD_MUTEX_INITIALIZER;

void ckt_secret(const char *s)
{
    if (!s || strlen(s) < 8)
        return;
    pthread_mutex_lock(&secrets_mu);
    int known = 0;
    for (size_t i = 0; i < nsecrets && !known; i++)
        known = strcmp(secrets[i], s) == 0;
    if (!known && nsecrets < SECRETS_MAX)
        secrets[nsecrets++] = strdup(s);
    pthread_mutex_unlock(&secrets_mu);
}

static int secret_name(const char *key)
{
    static const char *const names[] = {"secret", "apikey", "token", "password", NULL};
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        for (const char *p = key; *p; p++)
            if (strncasecmp(p, names[i], n) == 0)
                return strcasecmp(key, "pageToken") != 0 && strcasecmp(key, "nextPageToken") != 0;
    }
    return 0;
}

static void harvest(json_t *j)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach(j, k, v) {
            if (json_is_string(v) && secret_name(k))
                ckt_secret(json_string_value(v));
            else
                harvest(v);
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) harvest(v);
    }
}

void ckt_secret_forget(const char *s)
{
    pthread_mutex_lock(&secrets_mu);
    for (size_t i = 0; i < nsecrets; i++)
        if (strcmp(secrets[i], s) == 0) {
            free(secrets[i]);
            secrets[i] = secrets[--nsecrets];
            break;
        }
    pthread_mutex_unlock(&secrets_mu);
}

int ckt_log_secrets(ckt_daemon *d)
{
    FILE *f = d->log_path[0] ? fopen(d->log_path, "r") : NULL;
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0;
    int leaked = 0;
    pthread_mutex_lock(&secrets_mu);
    for (long no = 1; getline(&line, &cap, f) > 0; no++)
        for (size_t i = 0; i < nsecrets; i++)
            if (strstr(line, secrets[i])) {
                fprintf(stderr, "%s:%ld holds a secret (%.4s...)\n", d->log_path, no, secrets[i]);
                leaked++;
            }
    pthread_mutex_unlock(&secrets_mu);
    free(line);
    fclose(f);
    return leaked;
}

/* Fails the test when a line of d's log holds a secret (printed redacted). */
static void expect_no_secrets(ckt_daemon *d)
{
    if (ckt_log_secrets(d))
        fail_msg("the daemon's log holds a secret this test used");
}

static void dump_log(ckt_daemon *d)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "tail -n 40 %s >&2", d->log_path);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
}

void ckt_finish(ckt_daemon *d)
{
    int st = ckt_stop(d);
    if (st != 0) {
        fprintf(stderr, "checkoutd exited with %d on SIGTERM; its log:\n", st);
        dump_log(d);
    }
    assert_int_equal(st, 0);
    expect_no_secrets(d);
    pg_drop(d);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", d->dir);
}

void ckt_cleanup(ckt_daemon *d)
{
    if (d->pid)
        ckt_kill(d);
    pg_drop(d);
    if (d->dir[0]) {
        expect_no_secrets(d);
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", d->dir);
    }
    d->dir[0] = '\0';
}

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    buf *b = ud;
    size_t n = size * nmemb;
    char *np = realloc(b->p, b->n + n + 1);
    if (!np)
        return 0;
    b->p = np;
    memcpy(b->p + b->n, ptr, n);
    b->n += n;
    b->p[b->n] = '\0';
    return n;
}

static ckt_resp request(ckt_daemon *d, const char *method, const char *path, const char *key, const char *body,
                        const char *const *headers, int tolerate_drop);

ckt_resp ckt_http(ckt_daemon *d, const char *method, const char *path, const char *key,
                  const char *body, const char *const *headers)
{
    return request(d, method, path, key, body, headers, 0);
}

ckt_resp ckt_http_try(ckt_daemon *d, const char *method, const char *path, const char *key, const char *body,
                      const char *const *headers)
{
    return request(d, method, path, key, body, headers, 1);
}

static ckt_resp request(ckt_daemon *d, const char *method, const char *path, const char *key, const char *body,
                        const char *const *headers, int tolerate_drop)
{
    ckt_resp r = {0};
    buf bb = {0}, hb = {0};
    ckt_secret(key);
    if (body) {
        json_t *sent = json_loads(body, JSON_DECODE_ANY, NULL);
        harvest(sent);
        json_decref(sent);
    }
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[1024], auth[512];
    snprintf(url, sizeof(url), "%s%s", d->base, path);
    struct curl_slist *hl = NULL;
    if (key) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
        hl = curl_slist_append(hl, auth);
    }
    if (body)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    hl = curl_slist_append(hl, "Expect:");
    for (int i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    if (d->cainfo[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, d->cainfo);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* A body over 1 MiB goes with "Expect: 100-continue": wait for the
     * daemon's answer (a 413 before the body, or 100 Continue) however
     * loaded the machine, instead of sending the body after curl's default
     * 1 s; a body sent into a daemon that already answered and closed is
     * reset by the kernel and takes the answer with it. */
    curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 60000L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK && !tolerate_drop) {
        fprintf(stderr, "%s %s: %s\n", method, path, curl_easy_strerror(cc));
        dump_log(d);
    }
    if (!tolerate_drop)
        assert_int_equal(cc, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    r.body = bb.p ? bb.p : strdup("");
    r.headers = hb.p ? hb.p : strdup("");
    r.json = json_loads(r.body, JSON_DECODE_ANY, NULL);
    harvest(r.json);
    return r;
}

ckt_resp ckt_httpf(ckt_daemon *d, const char *method, const char *path, const char *key,
                   const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&body, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    ckt_resp r = ckt_http(d, method, path, key, body, NULL);
    free(body);
    return r;
}

int ckt_dial(ckt_daemon *d)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return s;
}

void ckt_free(ckt_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

int ckt_header(const ckt_resp *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = len - (size_t)(v - p);
            if (vl >= n)
                vl = n - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return 1;
        }
        p = eol ? eol + 2 : NULL;
    }
    return 0;
}

void ckt_expect_status(const ckt_resp *r, long status)
{
    if (r->status != status)
        fprintf(stderr, "expected HTTP %ld, got %ld: %s\n", status, r->status, r->body);
    assert_int_equal(r->status, status);
}

void ckt_expect_error(const ckt_resp *r, long status, const char *error_code, const char *reason,
                      const char *field)
{
    ckt_expect_status(r, status);
    if (!json_is_array(r->json) || json_array_size(r->json) != 1)
        fprintf(stderr, "not an error envelope: %s\n", r->body);
    assert_true(json_is_array(r->json));
    assert_int_equal(json_array_size(r->json), 1);
    json_t *e = json_array_get(r->json, 0);
    const char *ec = json_string_value(json_object_get(e, "errorCode"));
    const char *re = json_string_value(json_object_get(e, "reason"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (!ec || strcmp(ec, error_code) || !re || strcmp(re, reason))
        fprintf(stderr, "expected %s/%s, got: %s\n", error_code, reason, r->body);
    assert_non_null(ec);
    assert_string_equal(ec, error_code);
    assert_non_null(re);
    assert_string_equal(re, reason);
    assert_non_null(msg);
    assert_true(strlen(msg) > 0);
    if (field) {
        const char *f = json_string_value(json_object_get(e, "field"));
        if (!f || strcmp(f, field))
            fprintf(stderr, "expected field %s, got: %s\n", field, r->body);
        assert_non_null(f);
        assert_string_equal(f, field);
    }
}

json_t *ckt_get(json_t *j, const char *path)
{
    char part[128];
    const char *p = path;
    while (j && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(part))
            return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        if (json_is_array(j)) {
            char *end = NULL;
            long idx = strtol(part, &end, 10);
            j = (*end == '\0') ? json_array_get(j, (size_t)idx) : NULL;
        } else {
            j = json_object_get(j, part);
        }
        p = dot ? dot + 1 : p + n;
    }
    return j;
}

const char *ckt_str(json_t *j, const char *path)
{
    json_t *v = ckt_get(j, path);
    if (!json_is_string(v)) {
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(stderr, "'%s' is not a string in %s\n", path, s ? s : "(null)");
        free(s);
    }
    assert_true(json_is_string(v));
    return json_string_value(v);
}

int64_t ckt_int(json_t *j, const char *path)
{
    json_t *v = ckt_get(j, path);
    if (!json_is_integer(v)) {
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        fprintf(stderr, "'%s' is not an integer in %s\n", path, s ? s : "(null)");
        free(s);
    }
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* One statement on the test's PostgreSQL database: the first column of the
 * first row as a number (0 when no row), or just run it. */
static int64_t pg_run(ckt_daemon *d, const char *sql, int want_row)
{
    PGconn *c = PQconnectdb(d->pg_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        fprintf(stderr, "SQL error in '%s': %s\n", sql, PQerrorMessage(c));
    assert_true(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK);
    int64_t v = 0;
    if (want_row && st == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        const char *t = PQgetvalue(r, 0, 0);
        v = (t[0] == 't' && !t[1]) ? 1 : strtoll(t, NULL, 10);
    }
    PQclear(r);
    PQfinish(c);
    return v;
}

int64_t ckt_db_int(ckt_daemon *d, const char *sql_fmt, ...)
{
    char *sql = NULL;
    va_list ap;
    va_start(ap, sql_fmt);
    int n = vasprintf(&sql, sql_fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if (d->pg) {
        int64_t v = pg_run(d, sql, 1);
        free(sql);
        return v;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(d->db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        fprintf(stderr, "SQL error in '%s': %s\n", sql, sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_OK);
    rc = sqlite3_step(st);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(sql);
    return v;
}

#define UNRECONCILED                                                                                         \
    "SELECT id FROM (SELECT a.id AS id FROM accounts a WHERE a.prepaid_balance <> COALESCE((SELECT SUM(l.amount)" \
    " FROM balance_ledger l WHERE l.account_id = a.id AND l.kind = 'prepaid'), 0) OR a.credit_used <>"          \
    " COALESCE((SELECT SUM(l.amount) FROM balance_ledger l WHERE l.account_id = a.id AND l.kind = 'credit'), 0)" \
    " UNION ALL SELECT c.id AS id FROM contracts c WHERE c.remaining <> COALESCE((SELECT SUM(l.amount)"        \
    " FROM balance_ledger l WHERE l.contract_id = c.id AND l.kind = 'contract'), 0)) AS bad ORDER BY id LIMIT 1"

void ckt_expect_ledger_reconciles(ckt_daemon *d)
{
    char bad[128];
    ckt_db_text(d, bad, sizeof(bad), "%s", UNRECONCILED);
    if (bad[0])
        fprintf(stderr, "the ledger does not reproduce the balances of %s\n", bad);
    assert_string_equal(bad, "");
}

void ckt_db_text(ckt_daemon *d, char *out, size_t n, const char *sql_fmt, ...)
{
    char *sql = NULL;
    va_list ap;
    va_start(ap, sql_fmt);
    int len = vasprintf(&sql, sql_fmt, ap);
    va_end(ap);
    assert_true(len >= 0);
    out[0] = '\0';
    if (d->pg) {
        PGconn *c = PQconnectdb(d->pg_url);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fprintf(stderr, "SQL error in '%s': %s\n", sql, PQerrorMessage(c));
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
            snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        PQfinish(c);
        free(sql);
        return;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(d->db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        fprintf(stderr, "SQL error in '%s': %s\n", sql, sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(sql);
}

void ckt_db_exec(ckt_daemon *d, const char *sql_fmt, ...)
{
    char *sql = NULL;
    va_list ap;
    va_start(ap, sql_fmt);
    int n = vasprintf(&sql, sql_fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if (d->pg) {
        pg_run(d, sql, 0);
        free(sql);
        return;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(d->db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "SQL error in '%s': %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    free(sql);
    assert_int_equal(rc, SQLITE_OK);
}

static void expect_2xx(ckt_resp *r, const char *what)
{
    if (r->status < 200 || r->status > 299)
        fprintf(stderr, "fixture %s failed: HTTP %ld %s\n", what, r->status, r->body);
    assert_true(r->status >= 200 && r->status <= 299);
}

static void take_id(ckt_resp *r, char *out, size_t n)
{
    snprintf(out, n, "%s", ckt_str(r->json, "id"));
}

void ckt_store(ckt_daemon *d, char out[64])
{
    ckt_resp r = ckt_http(d, "POST", "/v1/stores", CKT_ADMIN_KEY,
                          "{\"name\":\"Test Store\",\"currency\":\"USD\",\"slaSeconds\":900,"
                          "\"staleAuthorizationSeconds\":86400,\"embargoedCountries\":[\"KP\"]}",
                          NULL);
    expect_2xx(&r, "store");
    take_id(&r, out, 64);
    ckt_free(&r);
}

void ckt_account(ckt_daemon *d, const char *json_body, char out[64])
{
    ckt_resp r = ckt_http(d, "POST", "/v1/accounts", CKT_ADMIN_KEY,
                          json_body ? json_body
                                    : "{\"name\":\"Acme\",\"isBuyer\":true,\"creditLimit\":100000,"
                                      "\"prepaidBalance\":0,\"hazmatApproved\":false,\"country\":\"US\"}",
                          NULL);
    expect_2xx(&r, "account");
    take_id(&r, out, 64);
    ckt_free(&r);
}

void ckt_user(ckt_daemon *d, const char *perms_json, char id_out[64], char key_out[128])
{
    ckt_resp r = ckt_httpf(d, "POST", "/v1/users", CKT_ADMIN_KEY,
                           "{\"name\":\"Test User\",\"email\":\"user@example.com\",\"permissions\":%s}",
                           perms_json);
    expect_2xx(&r, "user");
    take_id(&r, id_out, 64);
    snprintf(key_out, 128, "%s", ckt_str(r.json, "apiKey"));
    ckt_free(&r);
}

void ckt_member(ckt_daemon *d, const char *store_id, const char *account_id)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/stores/%s/members", store_id);
    ckt_resp r = ckt_httpf(d, "POST", path, CKT_ADMIN_KEY, "{\"accountId\":\"%s\"}", account_id);
    expect_2xx(&r, "member");
    ckt_free(&r);
}

void ckt_give_account(ckt_daemon *d, const char *user_id, const char *account_id)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/users/%s/accounts", user_id);
    ckt_resp r = ckt_httpf(d, "POST", path, CKT_ADMIN_KEY, "{\"accountId\":\"%s\"}", account_id);
    expect_2xx(&r, "account access");
    ckt_free(&r);
}

void ckt_product(ckt_daemon *d, const char *store_id, const char *json_body, char out[64])
{
    char path[256];
    static int seq;
    snprintf(path, sizeof(path), "/v1/stores/%s/products", store_id);
    ckt_resp r;
    if (json_body) {
        r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, json_body, NULL);
    } else {
        r = ckt_httpf(d, "POST", path, CKT_ADMIN_KEY,
                      "{\"sku\":\"SKU-%d-%ld\",\"name\":\"Widget\",\"unitPrice\":1999,\"stock\":100,"
                      "\"minQuantity\":1,\"priceTiers\":[],\"hazmat\":false,\"exportControlled\":false,"
                      "\"weightGrams\":500,\"active\":true}",
                      __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST), (long)getpid());
    }
    expect_2xx(&r, "product");
    take_id(&r, out, 64);
    ckt_free(&r);
}

void ckt_store_gateway(ckt_daemon *d, const char *store_id, const char *url)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/stores/%s/gateway", store_id);
    ckt_resp r = ckt_httpf(d, "PUT", path, CKT_ADMIN_KEY, "{\"kind\":\"http\",\"url\":\"%s\",\"secret\":\"gw-secret-0123456789\"}", url);
    expect_2xx(&r, "gateway");
    ckt_free(&r);
}

void ckt_store_shipping_tax(ckt_daemon *d, const char *store_id, char shm_out[64])
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods", store_id);
    ckt_resp r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, "{\"name\":\"Ground\",\"flatFee\":1000,\"perKgFee\":100}", NULL);
    expect_2xx(&r, "shipping method");
    take_id(&r, shm_out, 64);
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/stores/%s/tax-rates", store_id);
    r = ckt_http(d, "POST", path, CKT_ADMIN_KEY, "{\"country\":\"US\",\"rateBasisPoints\":825}", NULL);
    expect_2xx(&r, "tax rate");
    ckt_free(&r);
}

void ckt_shop_setup(ckt_daemon *d, const char *gateway_url, char store[64], char shm[64], char acct[64],
                    char buyer[64], char bkey[128])
{
    ckt_store(d, store);
    if (gateway_url)
        ckt_store_gateway(d, store, gateway_url);
    ckt_store_shipping_tax(d, store, shm);
    ckt_account(d, NULL, acct);
    ckt_member(d, store, acct);
    ckt_user(d, "[\"buyer\"]", buyer, bkey);
    ckt_give_account(d, buyer, acct);
}

void ckt_cart(ckt_daemon *d, const char *key, const char *store, const char *acct, char out[64])
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/stores/%s/carts", store);
    ckt_resp r = ckt_httpf(d, "POST", path, key, "{\"accountId\":\"%s\"}", acct);
    ckt_expect_status(&r, 201);
    snprintf(out, 64, "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
}

void ckt_cart_item(ckt_daemon *d, const char *key, const char *cart, const char *prod, int qty, char item_out[64])
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/carts/%s/items", cart);
    ckt_resp r = ckt_httpf(d, "POST", path, key, "{\"productId\":\"%s\",\"quantity\":%d}", prod, qty);
    ckt_expect_status(&r, 201);
    if (item_out)
        snprintf(item_out, 64, "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
}

void ckt_session_ready(ckt_daemon *d, const char *bkey, const char *store, const char *acct, const char *prod, int qty,
                       const char *addr_json, const char *shm, const char *pay_json, char sid[64], char cart[64])
{
    char path[1024], cart_id[64];
    ckt_cart(d, bkey, store, acct, cart_id);
    ckt_cart_item(d, bkey, cart_id, prod, qty, NULL);
    ckt_resp r = ckt_httpf(d, "POST", "/v1/checkouts", bkey, "{\"cartId\":\"%s\"}", cart_id);
    ckt_expect_status(&r, 201);
    snprintf(sid, 64, "%s", ckt_str(r.json, "session.id"));
    ckt_free(&r);
    snprintf(path, sizeof(path), "/v1/checkouts/%s", sid);
    r = ckt_httpf(d, "PATCH", path, bkey, "{\"shippingAddress\":%s,\"shippingMethodId\":\"%s\",\"payment\":%s}",
                  addr_json, shm, pay_json);
    ckt_expect_status(&r, 200);
    ckt_free(&r);
    if (cart)
        snprintf(cart, 64, "%s", cart_id);
}

typedef struct par {
    void (*fn)(void *, int);
    void *arg;
    int i;
    pthread_barrier_t *bar;
} par;

static void *par_main(void *p)
{
    par *x = p;
    pthread_barrier_wait(x->bar);
    x->fn(x->arg, x->i);
    return NULL;
}

void ckt_parallel(int n, void (*fn)(void *arg, int i), void *arg)
{
    pthread_t *t = calloc((size_t)n, sizeof(*t));
    par *ps = calloc((size_t)n, sizeof(*ps));
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        ps[i] = (par){fn, arg, i, &bar};
        pthread_create(&t[i], NULL, par_main, &ps[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&bar);
    free(t);
    free(ps);
}

int ckt_run_checkoutd(const char *args, const char *err_path)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>%s </dev/null", CHECKOUTD_BIN, args, err_path);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

json_t *ckt_log_records(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    json_t *all = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!json_is_object(j) || !json_is_string(json_object_get(j, "ts")) ||
            !json_is_string(json_object_get(j, "level")) || !json_is_string(json_object_get(j, "msg")))
            fail_msg("a stderr line that is not a log record: %s", line);
        json_array_append_new(all, j);
    }
    free(line);
    fclose(f);
    return all;
}

size_t ckt_curl_text(char *ptr, size_t size, size_t nmemb, void *ud)
{
    char **b = ud;
    size_t n = size * nmemb, have = *b ? strlen(*b) : 0;
    char *np = realloc(*b, have + n + 1);
    if (!np)
        return 0;
    memcpy(np + have, ptr, n);
    np[have + n] = '\0';
    *b = np;
    return n;
}
