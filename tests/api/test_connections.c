/* test_connections.c: hostile connection counts (issue 17). A client
 * address holds at most --max-connections-per-ip connections: the next one
 * is closed unanswered, and a connection freed lets a new one in. Idle
 * keep-alive connections cost bounded memory: each one's libmicrohttpd
 * buffer is 32 KiB, so 200 of them, each after a request, add well under
 * 200 x 64 KiB to the daemon's resident memory (with the old 256 KiB they
 * added about 256 KiB each). */
#include "api/harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static ckt_daemon D;

static int teardown(void **state)
{
    (void)state;
    ckt_cleanup(&D);
    memset(&D, 0, sizeof(D));
    return 0;
}

static int dial(void)
{
    return ckt_dial(&D);
}

/* One keep-alive GET /healthz on s: 1 when it was answered 200, 0 when the
 * connection was closed without an answer. */
static int healthz(int s)
{
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    if (send(s, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1))
        return 0;
    char buf[4096];
    size_t got = 0;
    while (got < sizeof(buf) - 1) {
        ssize_t n = recv(s, buf + got, sizeof(buf) - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "{\"status\":\"ok\"}"))
            return strncmp(buf, "HTTP/1.1 200 ", 13) == 0;
    }
    return 0;
}

static void per_ip_cap(void **state)
{
    (void)state;
    static const char *const extra[] = {"--max-connections-per-ip", "4", NULL};
    ckt_start(&D, NULL, extra);
    int held[4];
    for (int i = 0; i < 4; i++) {
        held[i] = dial();
        assert_true(healthz(held[i]));
    }
    /* The fifth from 127.0.0.1 is closed without an answer... */
    int fifth = dial();
    assert_false(healthz(fifth));
    close(fifth);
    /* ... while the four held are still served. */
    for (int i = 0; i < 4; i++)
        assert_true(healthz(held[i]));
    /* One freed: a new connection gets in once the daemon has seen the
     * close (it may come a moment after ours; each refused try is closed). */
    close(held[0]);
    int admitted = 0;
    for (int tries = 0; tries < 200 && !admitted; tries++) {
        int s = dial();
        admitted = healthz(s);
        if (admitted)
            held[0] = s;
        else {
            close(s);
            usleep(25 * 1000);
        }
    }
    assert_true(admitted);
    for (int i = 0; i < 4; i++)
        close(held[i]);
    ckt_finish(&D);
}

/* The daemon's resident memory in KiB (VmRSS). */
static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long kib = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    assert_true(kib > 0);
    return kib;
}

static void idle_connections_memory(void **state)
{
    (void)state;
    /* 200: libmicrohttpd divides --max-connections (4096) among the workers
     * (8 here, 512 each), and accepts are not spread evenly; 200 stays under
     * the three quarters at which idle connections are closed early. */
    enum { N = 200 };
    /* Past the default per-address cap (256): 0 lifts it, as behind a proxy. */
    static const char *const extra[] = {"--max-connections-per-ip", "0", NULL};
    ckt_start(&D, NULL, extra);
    /* Warm up: the first requests grow the heap and thread stacks. */
    for (int i = 0; i < 20; i++) {
        int s = dial();
        assert_true(healthz(s));
        close(s);
    }
    long before = rss_kib(D.pid);
    int *socks = calloc(N, sizeof(int));
    assert_non_null(socks);
    for (int i = 0; i < N; i++) {
        socks[i] = dial();
        assert_true(healthz(socks[i])); /* kept alive, now idle */
    }
    long after = rss_kib(D.pid);
    long per = (after - before) / N;
    printf("# %d idle keep-alive connections: %ld KiB resident, %ld KiB each\n", N, after - before, per);
#ifdef __SANITIZE_ADDRESS__
    /* AddressSanitizer's quarantine and shadow memory make resident memory
     * mean something else: the Release run of this suite holds the bound. */
    (void)per;
#else
    assert_true(per < 64);
#endif
    for (int i = 0; i < N; i++)
        close(socks[i]);
    free(socks);
    ckt_finish(&D);
}

/* Reads what the daemon sends on s until it closes (or 10 s pass, the
 * socket's receive timeout: then -1). 1 when closed, with its bytes in buf. */
static int read_to_close(int s, char *buf, size_t cap)
{
    size_t got = 0;
    buf[0] = '\0';
    for (;;) {
        ssize_t n = recv(s, buf + got, cap - 1 - got, 0);
        if (n == 0)
            return 1;
        if (n < 0)
            return -1;
        got += (size_t)n;
        buf[got] = '\0';
        if (got == cap - 1)
            return -1;
    }
}

/* Sends text on s one byte every 100 ms until the daemon closes the
 * connection (recv sees the end) or 100 bytes went (10 s, far past the
 * 1-s deadlines); then reads the rest. 1 when the daemon closed it. */
static int trickle_until_closed(int s, const char *text, char *buf, size_t cap)
{
    size_t len = strlen(text), got = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < 100; i++) {
        if (send(s, text + (i % len), 1, MSG_NOSIGNAL) != 1)
            break; /* closed under us: read what came */
        struct timeval tv = {.tv_usec = 100 * 1000};
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(s, &rd);
        if (select(s + 1, &rd, NULL, NULL, &tv) > 0) {
            ssize_t n = recv(s, buf + got, cap - 1 - got, 0);
            if (n <= 0)
                return 1;
            got += (size_t)n;
            buf[got] = '\0';
        }
    }
    int closed = read_to_close(s, buf + got, cap - got);
    return closed;
}

/* A 408 in the error envelope with reason REQUEST_TIMEOUT and Connection: close. */
static void expect_408(const char *answer)
{
    if (strncmp(answer, "HTTP/1.1 408 ", 13) != 0)
        fail_msg("not a 408: '%.200s'", answer);
    assert_non_null(strcasestr(answer, "\r\nConnection: close\r\n"));
    const char *body = strstr(answer, "\r\n\r\n");
    assert_non_null(body);
    json_t *j = json_loads(body + 4, 0, NULL);
    assert_true(json_is_array(j) && json_array_size(j) == 1);
    assert_string_equal(ckt_str(json_array_get(j, 0), "reason"), "REQUEST_TIMEOUT");
    assert_string_equal(ckt_str(json_array_get(j, 0), "errorCode"), "BAD_REQUEST");
    json_decref(j);
}

/* Slow clients (issue 17, Found 1): a client that sends its request line,
 * headers or body a byte at a time, never idle long enough for
 * libmicrohttpd's inactivity timeout (60 s), is closed past its deadline:
 * headers and body with a 408, an idle connection or a request line
 * still arriving without an answer. A client that sends its request at
 * once is answered, and the closes are counted in /metrics. */
static void slow_clients_deadlines(void **state)
{
    (void)state;
    static const char *const extra[] = {"--idle-timeout", "2", "--header-timeout", "1", "--body-timeout", "1", NULL};
    ckt_start(&D, NULL, extra);
    char buf[4096];

    /* Headers a byte at a time: 408 after the request line's second. */
    int s = dial();
    static const char line[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    assert_int_equal(send(s, line, sizeof(line) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(line) - 1));
    assert_int_equal(trickle_until_closed(s, "X-Slow: aaaaaaaa\r\n", buf, sizeof(buf)), 1);
    expect_408(buf);
    assert_non_null(strstr(buf, "headers"));
    close(s);

    /* A body a byte at a time: 408. */
    s = dial();
    static const char head[] = "POST /v1/stores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " CKT_ADMIN_KEY
                               "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    assert_int_equal(send(s, head, sizeof(head) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(head) - 1));
    assert_int_equal(trickle_until_closed(s, "{\"name\":\"slow\"      ", buf, sizeof(buf)), 1);
    expect_408(buf);
    assert_non_null(strstr(buf, "body"));
    close(s);
    assert_int_equal(ckt_db_int(&D, "SELECT count(*) FROM stores"), 0);

    /* A request line a byte at a time: closed, no answer (it is not yet a request). */
    s = dial();
    assert_int_equal(trickle_until_closed(s, "GET /healthz/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", buf,
                                          sizeof(buf)),
                     1);
    assert_string_equal(buf, "");
    close(s);

    /* An idle connection, after a request and before any: closed, no answer. */
    s = dial();
    assert_true(healthz(s));
    assert_int_equal(read_to_close(s, buf, sizeof(buf)), 1);
    assert_string_equal(buf, "");
    close(s);
    s = dial();
    assert_int_equal(read_to_close(s, buf, sizeof(buf)), 1);
    close(s);

    /* A request sent at once is answered, twice on one connection. */
    s = dial();
    assert_true(healthz(s));
    assert_true(healthz(s));
    close(s);

    ckt_resp r = ckt_http(&D, "GET", "/metrics", CKT_ADMIN_KEY, NULL, NULL);
    ckt_expect_status(&r, 200);
    assert_non_null(strstr(r.body, "checkoutd_http_connections_timed_out_total{phase=\"headers\"} 1\n"));
    assert_non_null(strstr(r.body, "checkoutd_http_connections_timed_out_total{phase=\"body\"} 1\n"));
    assert_null(strstr(r.body, "checkoutd_http_connections_timed_out_total{phase=\"idle\"} 0\n"));
    ckt_free(&r);
    ckt_finish(&D);
}

/* The global cap and the pressure on idle connections: with one HTTP
 * worker and --max-connections 16, 16 connections idle after a request
 * fill the cap. The 17th is not accepted (libmicrohttpd stops accepting; it
 * waits in the kernel's listen queue) until a slot frees; and at three
 * quarters of the cap idle connections get 1 s, not --idle-timeout (30 s),
 * so the daemon closes idle ones and the 17th is served, within the 10-s
 * receive timeout. When it is answered, at least one of the 16 has been
 * closed by the daemon: it was not let in past the cap. */
static void global_cap(void **state)
{
    (void)state;
    static const char *const extra[] = {"--workers", "1", "--max-connections", "16", "--max-connections-per-ip", "0",
                                        NULL};
    ckt_start(&D, NULL, extra);
    int held[16];
    for (int i = 0; i < 16; i++) {
        held[i] = dial();
        assert_true(healthz(held[i]));
    }
    int waiting = dial();
    assert_true(healthz(waiting));
    int closed = 0;
    for (int i = 0; i < 16; i++) {
        char c;
        ssize_t n = recv(held[i], &c, 1, MSG_DONTWAIT);
        closed += n == 0;
        close(held[i]);
    }
    assert_true(closed >= 1);
    close(waiting);
    ckt_finish(&D);
}

/* The soft open-file limit is raised to the hard one at start: a daemon
 * started with a soft limit of 256 runs with soft = hard. */
static void raises_open_file_limit(void **state)
{
    (void)state;
    struct rlimit saved, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max <= 256)
        skip(); /* nothing to raise to */
    low = saved;
    low.rlim_cur = 256;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    ckt_start(&D, NULL, NULL);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/limits", (int)D.pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int found = 0;
    while (fgets(line, sizeof(line), f)) {
        char soft[32], hard[32];
        if (sscanf(line, "Max open files %31s %31s", soft, hard) == 2) {
            found = 1;
            if (strcmp(soft, hard) != 0)
                fail_msg("soft %s, hard %s", soft, hard);
        }
    }
    fclose(f);
    assert_true(found);
    ckt_finish(&D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(per_ip_cap, teardown),
        cmocka_unit_test_teardown(idle_connections_memory, teardown),
        cmocka_unit_test_teardown(slow_clients_deadlines, teardown),
        cmocka_unit_test_teardown(global_cap, teardown),
        cmocka_unit_test_teardown(raises_open_file_limit, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
