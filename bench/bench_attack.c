/* bench_attack.c: /healthz from an honest client while hostile clients hold
 * connections (issue 17, Found 1). Each scenario runs on a fresh daemon with
 * its default options; the hostile connections come from 127.0.0.2 and up
 * (at most 200 per address, under the per-address cap), the probe from
 * 127.0.0.1: a new connection and one GET /healthz every 50 ms, timed from
 * connect to the whole answer (5 s at most).
 *
 *   baseline      no attack
 *   slow-headers  N connections sending their headers a byte a second,
 *                 reconnecting when the daemon closes them
 *   slow-body     N connections sending a 100 kB body a byte a second, the same
 *   idle          M keep-alive connections idle after one request each
 *
 * It prints one Markdown row per scenario (probe p50/p99/max, probes over
 * 100 ms, failures, the daemon's peak resident memory, connections it
 * closed past a deadline). It measures; it asserts nothing.
 *   bench_attack [--bin PATH] [--seconds S] [--slow N] [--idle M] */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_http.h"

static int port;
static pid_t daemon_pid;

static int dial_from(int last_octet, int nonblock)
{
    int s = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (s < 0)
        return -1;
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl((127u << 24) | (unsigned)last_octet);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&src, sizeof(src)) != 0 ||
        (connect(s, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS)) {
        close(s);
        return -1;
    }
    return s;
}

/* ------------------------------------------------------------ the probe */

#define MAX_PROBES 100000
static double probe_ms[MAX_PROBES];
static int nprobes, probe_failures, probing;

/* One GET /healthz on a new connection from 127.0.0.1: ms, or -1. */
static double probe_once(void)
{
    double t0 = bench_now_s();
    int s = dial_from(1, 0);
    if (s < 0)
        return -1;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    char buf[2048];
    size_t got = 0;
    int ok = send(s, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(req) - 1);
    while (ok && got < sizeof(buf) - 1) {
        ssize_t n = recv(s, buf + got, sizeof(buf) - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "{\"status\":\"ok\"}"))
            break;
    }
    close(s);
    buf[got] = '\0';
    if (!ok || strncmp(buf, "HTTP/1.1 200 ", 13) != 0 || !strstr(buf, "{\"status\":\"ok\"}"))
        return -1;
    return (bench_now_s() - t0) * 1000;
}

static void *prober(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&probing, __ATOMIC_SEQ_CST)) {
        double ms = probe_once();
        if (ms < 0)
            probe_failures++;
        else if (nprobes < MAX_PROBES)
            probe_ms[nprobes++] = ms;
        usleep(50 * 1000);
    }
    return NULL;
}

/* --------------------------------------------------------- the attacks */

typedef enum { ATTACK_NONE, ATTACK_HEADERS, ATTACK_BODY, ATTACK_IDLE } attack;

typedef struct conn {
    int fd;
    size_t sent; /* bytes of the trickle sent */
} conn;

static const char *opening(attack a)
{
    return a == ATTACK_BODY ? "POST /v1/stores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " BENCH_ADMIN_KEY
                              "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                            : "GET /healthz HTTP/1.1\r\nHost: x\r\n";
}

static void open_conn(conn *c, attack a, int i)
{
    c->fd = dial_from(2 + i / 200, 1);
    c->sent = 0;
    if (c->fd < 0)
        return;
    struct pollfd p = {.fd = c->fd, .events = POLLOUT};
    if (poll(&p, 1, 1000) != 1) {
        close(c->fd);
        c->fd = -1;
        return;
    }
    const char *o = a == ATTACK_IDLE ? "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" : opening(a);
    if (send(c->fd, o, strlen(o), MSG_NOSIGNAL) < 0) {
        close(c->fd);
        c->fd = -1;
    }
}

/* One second of the attack: each connection's next byte; closed ones reopened. */
static void attack_tick(conn *cs, int n, attack a, long *reopened)
{
    for (int i = 0; i < n; i++) {
        conn *c = &cs[i];
        if (c->fd >= 0) {
            char buf[4096];
            ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                close(c->fd);
                c->fd = -1;
            }
        }
        if (a == ATTACK_IDLE)
            continue;
        if (c->fd < 0) {
            open_conn(c, a, i);
            (*reopened)++;
            continue;
        }
        static const char hdr[] = "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        char b = a == ATTACK_BODY ? ' ' : hdr[c->sent % (sizeof(hdr) - 1)];
        if (send(c->fd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
            c->sent++;
    }
}

static long rss_kib(void)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)daemon_pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The daemon's count of connections closed past a deadline, from /metrics. */
static long timed_out(const char *base)
{
    CURL *c = curl_easy_init();
    char *body = NULL;
    long total = 0;
    if (c && bench_call(c, base, "GET", "/metrics", NULL, &body) == 200 && body) {
        for (char *p = body; (p = strstr(p, "checkoutd_http_connections_timed_out_total{")); p++) {
            char *sp = strchr(p, ' ');
            if (sp)
                total += strtol(sp + 1, NULL, 10);
        }
    }
    free(body);
    if (c)
        curl_easy_cleanup(c);
    return total;
}

static int run(const char *bin, const char *name, attack a, int n, int seconds)
{
    char dir[] = "/tmp/checkoutd-attack-XXXXXX", db[128], base[64];
    if (!mkdtemp(dir))
        return -1;
    snprintf(db, sizeof(db), "sqlite:%s/checkout.db", dir);
    const char *args[] = {"--db", db, NULL};
    if ((daemon_pid = bench_start_daemon_argv(bin, args, base)) < 0) {
        fprintf(stderr, "bench_attack: checkoutd did not start\n");
        return -1;
    }
    port = atoi(strrchr(base, ':') + 1);
    conn *cs = calloc((size_t)(n ? n : 1), sizeof(*cs));
    long reopened = 0, peak = rss_kib();
    for (int i = 0; i < n; i++)
        open_conn(&cs[i], a, i);
    int open_now = 0;
    for (int i = 0; i < n; i++)
        open_now += cs[i].fd >= 0;
    nprobes = probe_failures = 0;
    probing = 1;
    pthread_t t;
    pthread_create(&t, NULL, prober, NULL);
    for (int s = 0; s < seconds; s++) {
        sleep(1);
        attack_tick(cs, n, a, &reopened);
        long r = rss_kib();
        if (r > peak)
            peak = r;
    }
    __atomic_store_n(&probing, 0, __ATOMIC_SEQ_CST);
    pthread_join(t, NULL);
    long closed = timed_out(base);
    for (int i = 0; i < n; i++)
        if (cs[i].fd >= 0)
            close(cs[i].fd);
    free(cs);
    kill(daemon_pid, SIGTERM);
    waitpid(daemon_pid, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_attack: could not remove %s\n", dir);

    qsort(probe_ms, (size_t)nprobes, sizeof(double), cmp_double);
    int over = 0;
    for (int i = 0; i < nprobes; i++)
        over += probe_ms[i] > 100;
    double p50 = nprobes ? probe_ms[nprobes / 2] : 0, p99 = nprobes ? probe_ms[(nprobes * 99) / 100] : 0,
           max = nprobes ? probe_ms[nprobes - 1] : 0;
    printf("| %s | %d (%d open at start) | %d | %.1f | %.1f | %.1f | %d | %d | %ld | %ld | %ld |\n", name, n,
           open_now, nprobes, p50, p99, max, over, probe_failures, peak / 1024, closed, reopened);
    fflush(stdout);
    return probe_failures;
}

int main(int argc, char **argv)
{
    const char *bin = CHECKOUTD_BIN;
    int seconds = 15, slow = 1100, idle = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--bin") == 0)
            bin = argv[i + 1];
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--slow") == 0)
            slow = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--idle") == 0)
            idle = atoi(argv[i + 1]);
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("| scenario | hostile connections | probes | p50 ms | p99 ms | max ms | over 100 ms | failed | peak RSS MiB "
           "| closed past a deadline | reconnects |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    int failed = 0;
    failed += run(bin, "baseline", ATTACK_NONE, 0, seconds) != 0;
    failed += run(bin, "slow headers, 1 byte/s", ATTACK_HEADERS, slow, seconds) != 0;
    failed += run(bin, "slow body, 1 byte/s", ATTACK_BODY, slow, seconds) != 0;
    failed += run(bin, "idle keep-alive", ATTACK_IDLE, idle, seconds) != 0;
    curl_global_cleanup();
    return failed ? 1 : 0;
}
