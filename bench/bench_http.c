/* bench_http.c: the benchmarks' shared daemon start and HTTP client parts (bench_http.h). */
#include "bench_http.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

pid_t bench_start_daemon_argv(const char *bin, const char *const *args, char base[64])
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    const char *argv[40];
    int n = 0;
    argv[n++] = "checkoutd";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    for (int i = 0; args && args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(pfd[1], 1);
        FILE *devnull = freopen("/dev/null", "w", stderr);
        (void)devnull;
        setenv("CHECKOUTD_ADMIN_KEY", BENCH_ADMIN_KEY, 1);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    char line[256] = "";
    ssize_t r = read(pfd[0], line, sizeof(line) - 1);
    close(pfd[0]);
    line[r > 0 ? r : 0] = '\0';
    int port = 0;
    if (sscanf(line, "checkoutd listening on http://127.0.0.1:%d", &port) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    snprintf(base, 64, "http://127.0.0.1:%d", port);
    return pid;
}

pid_t bench_start_daemon(const char *bin, const char *db, const char *sync, const char *workers, char base[64])
{
    const char *args[] = {"--db", db, "--sqlite-synchronous", sync, workers ? "--workers" : NULL, workers, NULL};
    return bench_start_daemon_argv(bin, args, base);
}

size_t bench_on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    bench_buf *b = ud;
    size_t add = size * nmemb;
    char *np = realloc(b->p, b->n + add + 1);
    if (!np)
        return 0;
    b->p = np;
    memcpy(b->p + b->n, ptr, add);
    b->n += add;
    b->p[b->n] = '\0';
    return add;
}

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

long bench_call(CURL *c, const char *base, const char *method, const char *path, const char *body, char **out)
{
    char url[512];
    bench_buf b = {0};
    snprintf(url, sizeof(url), "%s%s", base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " BENCH_ADMIN_KEY);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    if (out)
        *out = b.p;
    else
        free(b.p);
    return status;
}
