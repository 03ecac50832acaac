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
    /* 200: libmicrohttpd divides --max-connections (1024) among the workers
     * (8 here, 128 each), and accepts are not spread evenly. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(per_ip_cap, teardown),
        cmocka_unit_test_teardown(idle_connections_memory, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
