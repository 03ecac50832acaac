/* bench_journey.c: the whole checkout journey against the real daemon over
 * loopback HTTP, at a fixed concurrency (issue 16). Starts checkoutd on a
 * fresh SQLite file (or the --db URL), seeds a store as bench_place.c does,
 * then, from one thread driving C keep-alive connections with libcurl's
 * multi interface:
 *   A. whole journeys for --seconds (cart, item, session, patch, place,
 *      order), latency per operation and per journey, daemon CPU per journey,
 *      database transactions and statements per journey (/metrics, and
 *      pg_stat_statements on PostgreSQL);
 *   B. --ready sessions prepared, then placed: placements/s and latency;
 *   C. --strace-batch sessions placed under strace -c: fsyncs per placement.
 * Prints human lines, "kv NAME VALUE" lines for bench/run.sh, and with --md
 * FILE appends markdown table rows and one summary line.
 * It measures and reports; it fails (exit 1) only when requests fail. */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_http.h"

#define ADMIN BENCH_ADMIN_KEY
#define ID_MAX 64

enum op { OP_CART, OP_ITEM, OP_SESSION, OP_PATCH, OP_PLACE, OP_ORDER, OP_COUNT };
static const char *const op_name[OP_COUNT] = {"cart", "item", "session", "patch", "place", "order"};
static const long op_status[OP_COUNT] = {201, 201, 201, 200, 201, 200};

enum mode { MODE_JOURNEY, MODE_PREPARE, MODE_PLACE };

typedef bench_buf buf;

/* A growable array of latencies in seconds. */
typedef struct samples {
    double *v;
    size_t n, cap;
} samples;

/* One of the C clients: its own easy handle (and so its connection), and
 * where it is in its journey. */
typedef struct slot {
    CURL *h;
    buf resp;
    enum op op;
    int busy, idx;
    double t_req, t_journey;
    char cart[ID_MAX], session[ID_MAX], order[ID_MAX];
    char url[256], body[512];
} slot;

typedef struct bench {
    CURLM *m;
    struct curl_slist *hdr;
    slot *slots;
    int c;
    enum mode mode;
    double deadline;
    int next, total;    /* prepare/place: the next index to take, and how many */
    char (*ids)[ID_MAX]; /* prepare: out; place: in ("" = not prepared) */
    samples lat[OP_COUNT], journey;
    long fails[OP_COUNT], journeys, placed;
    int shown;
} bench;

static char base[64], store[ID_MAX], account[ID_MAX], shm[ID_MAX];

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_journey: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void samples_add(samples *s, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        double *nv = realloc(s->v, cap * sizeof(double));
        if (!nv)
            die("out of memory");
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The sample at permille q of the sorted samples (q = 500, 990, 999), in ms;
 * s must be sorted; -1 when there are none. */
static double pct_ms(const samples *s, size_t q)
{
    if (s->n == 0)
        return -1;
    size_t i = s->n * q / 1000;
    if (i >= s->n)
        i = s->n - 1;
    return s->v[i] * 1e3;
}

/* Copies the string at key (or at "session" then key when nested) of a JSON
 * body into out; 0, or -1 when the body or the key is missing. */
static int json_id(const char *body, const char *outer, const char *key, char out[ID_MAX])
{
    json_t *j = body ? json_loads(body, JSON_DECODE_ANY, NULL) : NULL;
    json_t *o = outer ? json_object_get(j, outer) : j;
    const char *s = json_string_value(json_object_get(o, key));
    int rc = -1;
    if (s && strlen(s) < ID_MAX) {
        strcpy(out, s);
        rc = 0;
    }
    json_decref(j);
    return rc;
}

/* One blocking request for the setup and /metrics (bench_http.h). */
static long call(CURL *c, const char *method, const char *path, const char *body, char **out)
{
    return bench_call(c, base, method, path, body, out);
}

/* A setup call that must answer want; copies the id at key into out. */
static void setup(CURL *c, const char *method, const char *path, const char *body, long want, const char *key,
                  char out[ID_MAX])
{
    char *resp = NULL;
    long st = call(c, method, path, body, &resp);
    if (st != want || (key && json_id(resp, NULL, key, out) != 0))
        die("setup %s %s answered %ld: %s", method, path, st, resp ? resp : "");
    free(resp);
}

/* Starts the slot's request for op (the slot's ids say which cart/session). */
static void start(bench *b, slot *s, enum op op)
{
    const char *method = "POST";
    s->op = op;
    s->body[0] = '\0';
    switch (op) {
    case OP_CART:
        snprintf(s->url, sizeof(s->url), "%s/v1/stores/%s/carts", base, store);
        snprintf(s->body, sizeof(s->body), "{\"accountId\":\"%s\"}", account);
        break;
    case OP_ITEM:
        snprintf(s->url, sizeof(s->url), "%s/v1/carts/%s/items", base, s->cart);
        snprintf(s->body, sizeof(s->body), "{\"sku\":\"B-1\",\"quantity\":3}");
        break;
    case OP_SESSION:
        snprintf(s->url, sizeof(s->url), "%s/v1/checkouts", base);
        snprintf(s->body, sizeof(s->body), "{\"cartId\":\"%s\"}", s->cart);
        break;
    case OP_PATCH:
        method = "PATCH";
        snprintf(s->url, sizeof(s->url), "%s/v1/checkouts/%s", base, s->session);
        snprintf(s->body, sizeof(s->body),
                 "{\"shippingAddress\":{\"name\":\"B\",\"street\":\"1 Main\",\"city\":\"X\",\"postalCode\":\"1\","
                 "\"country\":\"US\"},\"shippingMethodId\":\"%s\",\"payment\":{\"method\":\"card\",\"cardToken\":"
                 "\"tok_visa\"}}",
                 shm);
        break;
    case OP_PLACE:
        snprintf(s->url, sizeof(s->url), "%s/v1/checkouts/%s/place-order", base, s->session);
        break;
    case OP_ORDER:
        method = NULL;
        snprintf(s->url, sizeof(s->url), "%s/v1/orders/%s", base, s->order);
        break;
    default:
        die("unknown operation");
    }
    free(s->resp.p);
    s->resp = (buf){0};
    curl_easy_setopt(s->h, CURLOPT_URL, s->url);
    if (method) {
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(s->body));
        curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ? NULL : method);
    } else {
        curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
    }
    s->busy = 1;
    s->t_req = bench_now_s();
    if (curl_multi_add_handle(b->m, s->h) != CURLM_OK)
        die("curl_multi_add_handle failed");
}

/* The slot's next piece of work after it finished one (or at the start):
 * a new journey, the next session to prepare or place, or nothing. */
static void next_work(bench *b, slot *s)
{
    s->busy = 0;
    if (b->mode == MODE_JOURNEY) {
        if (bench_now_s() >= b->deadline)
            return;
        s->t_journey = bench_now_s();
        start(b, s, OP_CART);
        return;
    }
    while (b->next < b->total) {
        s->idx = b->next++;
        if (b->mode == MODE_PREPARE) {
            b->ids[s->idx][0] = '\0';
            start(b, s, OP_CART);
            return;
        }
        if (b->ids[s->idx][0]) {
            strcpy(s->session, b->ids[s->idx]);
            start(b, s, OP_PLACE);
            return;
        }
    }
}

/* A finished request of slot s with HTTP status st (0: no answer). */
static void finished(bench *b, slot *s, long st)
{
    double t = bench_now_s();
    enum op op = s->op;
    int ok = st == op_status[op];
    if (ok && op == OP_CART)
        ok = json_id(s->resp.p, NULL, "id", s->cart) == 0;
    else if (ok && op == OP_SESSION)
        ok = json_id(s->resp.p, "session", "id", s->session) == 0;
    else if (ok && op == OP_PLACE && b->mode == MODE_JOURNEY)
        ok = json_id(s->resp.p, NULL, "orderId", s->order) == 0;
    if (!ok) {
        b->fails[op]++;
        if (b->shown++ < 5)
            fprintf(stderr, "bench_journey: %s answered %ld: %.300s\n", op_name[op], st,
                    s->resp.p ? s->resp.p : "");
        next_work(b, s);
        return;
    }
    samples_add(&b->lat[op], t - s->t_req);
    if (b->mode == MODE_PLACE) {
        b->placed++;
        next_work(b, s);
        return;
    }
    if (b->mode == MODE_PREPARE && op == OP_PATCH) {
        strcpy(b->ids[s->idx], s->session);
        next_work(b, s);
        return;
    }
    if (op == OP_ORDER) {
        b->journeys++;
        samples_add(&b->journey, t - s->t_journey);
        next_work(b, s);
        return;
    }
    start(b, s, op + 1);
}

/* Runs the bench in its mode until every slot is idle; returns the seconds
 * from the first request to the last answer. */
static double drive(bench *b)
{
    double t0 = bench_now_s();
    for (int i = 0; i < b->c; i++)
        next_work(b, &b->slots[i]);
    for (;;) {
        int running = 0;
        if (curl_multi_perform(b->m, &running) != CURLM_OK)
            die("curl_multi_perform failed");
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(b->m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *h = msg->easy_handle;
            CURLcode res = msg->data.result;
            slot *s = NULL;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&s);
            long st = 0;
            if (res == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
            curl_multi_remove_handle(b->m, h);
            finished(b, s, st);
        }
        int busy = 0;
        for (int i = 0; i < b->c; i++)
            busy += b->slots[i].busy;
        if (!busy)
            break;
        if (curl_multi_poll(b->m, NULL, 0, 100, NULL) != CURLM_OK)
            die("curl_multi_poll failed");
    }
    return bench_now_s() - t0;
}

static void bench_reset(bench *b, enum mode mode)
{
    b->mode = mode;
    for (int i = 0; i < OP_COUNT; i++) {
        b->lat[i].n = 0;
        b->fails[i] = 0;
    }
    b->journey.n = 0;
    b->journeys = b->placed = 0;
    b->next = 0;
}

static long total_fails(const bench *b)
{
    long n = 0;
    for (int i = 0; i < OP_COUNT; i++)
        n += b->fails[i];
    return n;
}

/* The daemon's CPU seconds (utime + stime of all its threads); -1 if unknown. */
static double proc_cpu(pid_t pid)
{
    char path[64], line[2048];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    char *p = strrchr(line, ')'); /* the name may hold spaces */
    unsigned long ut = 0, st = 0;
    /* after ")": field 3 (state) ... fields 14 and 15 */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A "Key: N kB" line of /proc/PID/status in MiB; -1 if missing. */
static double proc_status_mib(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    double v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':')
            v = atof(line + kl + 1) / 1024.0;
    if (f)
        fclose(f);
    return v;
}

/* The sum of a counter's samples in /metrics; -1 when it is absent. */
static double metric(CURL *c, const char *name)
{
    char *text = NULL;
    double sum = -1;
    if (call(c, "GET", "/metrics", NULL, &text) == 200 && text) {
        size_t nl = strlen(name);
        for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            if (strncmp(line, name, nl) != 0 || (line[nl] != ' ' && line[nl] != '{'))
                continue;
            char *v = line[nl] == '{' ? strchr(line, '}') : line + nl;
            if (v) {
                sum = (sum < 0 ? 0 : sum) + strtod(v + 1, NULL);
            }
        }
    }
    free(text);
    return sum;
}

/* pg_stat_statements of the bench database: connect (NULL when not
 * PostgreSQL or the extension is unavailable), reset, and sum the calls. */
static PGconn *pgss_open(const char *url)
{
    if (!url || (strncmp(url, "postgres://", 11) != 0 && strncmp(url, "postgresql://", 13) != 0))
        return NULL;
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "bench_journey: pg_stat_statements: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }
    PGresult *r = PQexec(pg, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (ok) {
        r = PQexec(pg, "SELECT count(*) FROM pg_stat_statements");
        ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
    }
    if (!ok) {
        fprintf(stderr, "bench_journey: pg_stat_statements unavailable: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

static int pgss_reset(PGconn *pg)
{
    PGresult *r = PQexec(pg, "SELECT pg_stat_statements_reset()");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

/* All statements (track=all: also those run inside functions and triggers,
 * such as the foreign key checks), or only the top-level ones the daemon sent. */
static double pgss_calls(PGconn *pg, int toplevel)
{
    PGresult *r = PQexec(pg, toplevel ? "SELECT sum(calls) FROM pg_stat_statements WHERE toplevel AND dbid = "
                                        "(SELECT oid FROM pg_database WHERE datname = current_database())"
                                      : "SELECT sum(calls) FROM pg_stat_statements WHERE dbid = "
                                        "(SELECT oid FROM pg_database WHERE datname = current_database())");
    double v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = atof(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* Places the b->total prepared sessions in b->ids under strace -c; returns
 * the fsync-family calls the daemon made, or -1 (why on stderr). */
static double placements_under_strace(bench *b, pid_t pid, const char *dir)
{
    char out[600], pidarg[32];
    snprintf(out, sizeof(out), "%s/strace.txt", dir);
    snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
    fflush(NULL); /* or the child's freopen writes our buffered lines again */
    pid_t tr = fork();
    if (tr == 0) {
        FILE *devnull = freopen("/dev/null", "w", stdout);
        (void)devnull;
        execlp("strace", "strace", "-f", "-qq", "-c", "-e", "trace=fsync,fdatasync,sync_file_range,syncfs,msync",
               "-o", out, "-p", pidarg, (char *)NULL);
        _exit(127);
    }
    if (tr < 0)
        return -1;
    /* Attached when the daemon's TracerPid is strace; then give -f a moment
     * to reach the other threads. */
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    int attached = 0;
    for (int i = 0; i < 100 && !attached; i++) {
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f))
            if (strncmp(line, "TracerPid:", 10) == 0 && atoi(line + 10) == (int)tr)
                attached = 1;
        if (f)
            fclose(f);
        if (waitpid(tr, NULL, WNOHANG) == tr) {
            fprintf(stderr, "bench_journey: strace exited before attaching\n");
            return -1;
        }
        if (!attached)
            usleep(50000);
    }
    if (!attached) {
        fprintf(stderr, "bench_journey: strace did not attach in 5 s\n");
        kill(tr, SIGKILL);
        waitpid(tr, NULL, 0);
        return -1;
    }
    usleep(500000);
    drive(b);
    kill(tr, SIGINT);
    int status = 0;
    waitpid(tr, &status, 0);
    FILE *f = fopen(out, "r");
    if (!f) {
        fprintf(stderr, "bench_journey: no strace summary\n");
        return -1;
    }
    /* "% time  seconds  usecs/call  calls  [errors]  syscall": calls is the
     * fourth column; the errors column may be empty. */
    double calls = 0;
    static const char *const names[] = {"fsync", "fdatasync", "sync_file_range", "syncfs", "msync"};
    while (fgets(line, sizeof(line), f)) {
        double pct, secs, usecs, n;
        char last[64] = "";
        if (sscanf(line, "%lf %lf %lf %lf", &pct, &secs, &usecs, &n) != 4)
            continue;
        char *sp = strrchr(line, ' ');
        if (sp)
            sscanf(sp + 1, "%63s", last);
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcmp(last, names[i]) == 0)
                calls += n;
    }
    fclose(f);
    return calls;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_journey [--db URL] [--sqlite-synchronous full|normal] [--concurrency 32]\n"
                    "                     [--seconds 20] [--ready 2000] [--strace-batch 300] [--label TEXT]\n"
                    "                     [--md FILE] [--workers N]\n");
    exit(2);
}

/* "12.34" or "n/a" into out for a value that is negative when unknown. */
static const char *fmt(char *out, size_t n, double v, int decimals)
{
    if (v < 0)
        snprintf(out, n, "n/a");
    else
        snprintf(out, n, "%.*f", decimals, v);
    return out;
}

static void row(FILE *md, const char *label, const char *name, samples *s, double secs)
{
    char p50[32], p99[32], p999[32];
    qsort(s->v, s->n, sizeof(double), cmp_double);
    fmt(p50, sizeof(p50), pct_ms(s, 500), 2);
    fmt(p99, sizeof(p99), pct_ms(s, 990), 2);
    fmt(p999, sizeof(p999), pct_ms(s, 999), 2);
    printf("%-13s %7zu %8.1f/s  p50 %7s  p99 %7s  p99.9 %7s ms\n", name, s->n, s->n / secs, p50, p99, p999);
    if (md)
        fprintf(md, "| %s | %s | %zu | %.1f | %s | %s | %s |\n", label, name, s->n, s->n / secs, p50, p99, p999);
}

int main(int argc, char **argv)
{
    const char *db_arg = NULL, *sync = "full", *label = NULL, *md_path = NULL, *workers = NULL;
    int c = 32, seconds = 20, ready = 2000, batch = 300;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            usage();
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--db") == 0)
            db_arg = v;
        else if (strcmp(k, "--sqlite-synchronous") == 0)
            sync = v;
        else if (strcmp(k, "--concurrency") == 0)
            c = atoi(v);
        else if (strcmp(k, "--seconds") == 0)
            seconds = atoi(v);
        else if (strcmp(k, "--ready") == 0)
            ready = atoi(v);
        else if (strcmp(k, "--strace-batch") == 0)
            batch = atoi(v);
        else if (strcmp(k, "--label") == 0)
            label = v;
        else if (strcmp(k, "--md") == 0)
            md_path = v;
        else if (strcmp(k, "--workers") == 0)
            workers = v; /* the daemon's --workers (unset: its default) */
        else
            usage();
    }
    if (c < 1 || c > 1024 || seconds < 1 || ready < 0 || batch < 0 ||
        (strcmp(sync, "full") != 0 && strcmp(sync, "normal") != 0))
        usage();
    char deflabel[64];
    if (!label) {
        snprintf(deflabel, sizeof(deflabel), db_arg ? "database" : "SQLite %s", sync);
        label = deflabel;
    }

    char dir[] = "/tmp/checkoutd-journey-XXXXXX", db[700];
    if (!mkdtemp(dir))
        die("mkdtemp: %s", strerror(errno));
    if (db_arg)
        snprintf(db, sizeof(db), "%s", db_arg);
    else
        snprintf(db, sizeof(db), "sqlite:%s/bench.db", dir);
    pid_t pid = bench_start_daemon(CHECKOUTD_BIN, db, sync, workers, base);
    if (pid < 0)
        die("the daemon did not start (%s)", CHECKOUTD_BIN);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *one = curl_easy_init();
    char body[512], path[256];
    setup(one, "POST", "/v1/stores", "{\"name\":\"Bench\",\"currency\":\"USD\"}", 201, "id", store);
    setup(one, "POST", "/v1/accounts", "{\"name\":\"B\",\"isBuyer\":true,\"creditLimit\":0,\"country\":\"US\"}", 201,
          "id", account);
    snprintf(path, sizeof(path), "/v1/stores/%s/members", store);
    snprintf(body, sizeof(body), "{\"accountId\":\"%s\"}", account);
    setup(one, "POST", path, body, 201, NULL, NULL);
    /* Enough stock for every journey (3 units each) at any plausible rate. */
    snprintf(path, sizeof(path), "/v1/stores/%s/products", store);
    snprintf(body, sizeof(body),
             "{\"sku\":\"B-1\",\"name\":\"Widget\",\"unitPrice\":1999,\"stock\":%ld,\"weightGrams\":500}",
             3L * (ready + batch + 20000L * seconds) + 10);
    setup(one, "POST", path, body, 201, NULL, NULL);
    snprintf(path, sizeof(path), "/v1/stores/%s/tax-rates", store);
    setup(one, "POST", path, "{\"country\":\"US\",\"rateBasisPoints\":825}", 201, NULL, NULL);
    snprintf(path, sizeof(path), "/v1/stores/%s/shipping-methods", store);
    setup(one, "POST", path, "{\"name\":\"Ground\",\"flatFee\":1000,\"perKgFee\":100}", 201, "id", shm);

    bench b = {.c = c};
    b.m = curl_multi_init();
    /* Exactly C connections: one per slot, kept alive, none shared. */
    curl_multi_setopt(b.m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c);
    curl_multi_setopt(b.m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c);
    curl_multi_setopt(b.m, CURLMOPT_MAXCONNECTS, (long)c);
    curl_multi_setopt(b.m, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
    char auth[128];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", ADMIN);
    b.hdr = curl_slist_append(NULL, auth);
    b.hdr = curl_slist_append(b.hdr, "Content-Type: application/json");
    b.hdr = curl_slist_append(b.hdr, "Expect:");
    b.slots = calloc((size_t)c, sizeof(slot));
    int nids = ready > batch ? ready : batch;
    b.ids = calloc((size_t)(nids ? nids : 1), ID_MAX);
    if (!b.slots || !b.ids)
        die("out of memory");
    for (int i = 0; i < c; i++) {
        slot *s = &b.slots[i];
        s->h = curl_easy_init();
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, b.hdr);
        curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, bench_on_data);
        curl_easy_setopt(s->h, CURLOPT_WRITEDATA, &s->resp);
        curl_easy_setopt(s->h, CURLOPT_PRIVATE, (char *)s);
        curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->h, CURLOPT_TCP_NODELAY, 1L);
    }
    FILE *md = NULL;
    if (md_path && !(md = fopen(md_path, "a")))
        die("cannot open %s: %s", md_path, strerror(errno));
    long failures = 0;
    char f1[32], f2[32], f3[32], f4[32], f5[32], f6[32], f7[32];

    /* A: whole journeys. */
    PGconn *pg = pgss_open(db_arg);
    double tx0 = metric(one, "checkoutd_db_transactions_total");
    double stm0 = metric(one, "checkoutd_db_statements_total");
    int pg_ok = pg && pgss_reset(pg) == 0;
    double cpu0 = proc_cpu(pid);
    bench_reset(&b, MODE_JOURNEY);
    b.deadline = bench_now_s() + seconds;
    double secs = drive(&b);
    double cpu1 = proc_cpu(pid);
    double pgcalls = pg_ok ? pgss_calls(pg, 0) : -1;
    double pgtop = pg_ok ? pgss_calls(pg, 1) : -1;
    double tx1 = metric(one, "checkoutd_db_transactions_total");
    double stm1 = metric(one, "checkoutd_db_statements_total");
    failures += total_fails(&b);
    long journeys = b.journeys;
    double jps = journeys / secs;
    double cpu_ms = (cpu0 >= 0 && cpu1 >= 0 && journeys) ? (cpu1 - cpu0) * 1e3 / journeys : -1;
    double tx_j = (tx0 >= 0 && tx1 >= 0 && journeys) ? (tx1 - tx0) / journeys : -1;
    double stm_j = (stm0 >= 0 && stm1 >= 0 && journeys) ? (stm1 - stm0) / journeys : -1;
    double pg_j = (pgcalls >= 0 && journeys) ? pgcalls / journeys : -1;
    double pgtop_j = (pgtop >= 0 && journeys) ? pgtop / journeys : -1;
    printf("%s: concurrency %d, %d s of whole journeys: %ld journeys in %.1f s = %.1f journeys/s, %ld failed "
           "requests\n",
           label, c, seconds, journeys, secs, jps, total_fails(&b));
    for (int i = 0; i < OP_COUNT; i++)
        row(md, label, op_name[i], &b.lat[i], secs);
    row(md, label, "journey", &b.journey, secs);
    double session_p99 = pct_ms(&b.lat[OP_SESSION], 990);

    /* B: ready placements. */
    double pps = -1, place_p50 = -1, place_p99 = -1, place_p999 = -1;
    if (ready > 0) {
        bench_reset(&b, MODE_PREPARE);
        b.total = ready;
        drive(&b);
        failures += total_fails(&b);
        bench_reset(&b, MODE_PLACE);
        b.total = ready;
        double psecs = drive(&b);
        failures += total_fails(&b);
        pps = b.placed / psecs;
        printf("%s: %ld of %d ready sessions placed at concurrency %d in %.2f s = %.1f placements/s\n", label,
               b.placed, ready, c, psecs, pps);
        row(md, label, "place (ready)", &b.lat[OP_PLACE], psecs);
        place_p50 = pct_ms(&b.lat[OP_PLACE], 500);
        place_p99 = pct_ms(&b.lat[OP_PLACE], 990);
        place_p999 = pct_ms(&b.lat[OP_PLACE], 999);
    }

    /* C: fsyncs per placement. */
    double fsyncs = -1;
    if (batch > 0) {
        bench_reset(&b, MODE_PREPARE);
        b.total = batch;
        drive(&b);
        failures += total_fails(&b);
        bench_reset(&b, MODE_PLACE);
        b.total = batch;
        double calls = placements_under_strace(&b, pid, dir);
        if (calls < 0 && b.placed == 0)
            drive(&b); /* no count, but the batch is still placed and checked */
        failures += total_fails(&b);
        if (calls >= 0 && b.placed > 0)
            fsyncs = calls / b.placed;
        printf("%s: %s fsync-family calls per placement by the daemon (%ld placements under strace)%s\n", label,
               fmt(f1, sizeof(f1), fsyncs, 2), b.placed,
               db_arg ? "; PostgreSQL's own WAL flushes are not counted" : "");
    }

    double rss = proc_status_mib(pid, "VmHWM");
    if (waitpid(pid, NULL, WNOHANG) == pid) {
        fprintf(stderr, "bench_journey: the daemon exited during the run\n");
        failures++;
        pid = -1;
    }
    printf("%s: daemon CPU %s ms/journey (utime+stime of all its threads, background workers included), "
           "peak RSS %s MiB\n",
           label, fmt(f1, sizeof(f1), cpu_ms, 3), fmt(f2, sizeof(f2), rss, 1));
    printf("%s: per journey: %s db transactions, %s db statements (/metrics, background work included), "
           "%s PostgreSQL statements (pg_stat_statements; %s of them top-level)\n",
           label, fmt(f1, sizeof(f1), tx_j, 2), fmt(f2, sizeof(f2), stm_j, 2), fmt(f3, sizeof(f3), pg_j, 2),
           fmt(f4, sizeof(f4), pgtop_j, 2));
    if (md) {
        fprintf(md,
                "- **%s**: daemon CPU %s ms/journey (all threads, background workers included); peak RSS %s MiB; "
                "%s fsyncs/placement%s; %s tx/journey and %s statements/journey (daemon's /metrics); "
                "%s PostgreSQL statements/journey (pg_stat_statements, BEGIN/COMMIT and trigger statements included; "
                "%s top-level)\n",
                label, fmt(f1, sizeof(f1), cpu_ms, 3), fmt(f2, sizeof(f2), rss, 1), fmt(f3, sizeof(f3), fsyncs, 2),
                db_arg ? " (daemon only; PostgreSQL's WAL flushes not counted)" : "", fmt(f4, sizeof(f4), tx_j, 2),
                fmt(f5, sizeof(f5), stm_j, 2), fmt(f6, sizeof(f6), pg_j, 2), fmt(f7, sizeof(f7), pgtop_j, 2));
        fclose(md);
    }
    printf("kv journeys_per_s %.1f\n", jps);
    printf("kv session_p99_ms %s\n", fmt(f1, sizeof(f1), session_p99, 2));
    printf("kv placements_per_s %s\n", fmt(f1, sizeof(f1), pps, 1));
    printf("kv place_p50_ms %s\n", fmt(f1, sizeof(f1), place_p50, 2));
    printf("kv place_p99_ms %s\n", fmt(f1, sizeof(f1), place_p99, 2));
    printf("kv place_p999_ms %s\n", fmt(f1, sizeof(f1), place_p999, 2));
    printf("kv cpu_ms_per_journey %s\n", fmt(f1, sizeof(f1), cpu_ms, 3));
    printf("kv peak_rss_mib %s\n", fmt(f1, sizeof(f1), rss, 1));
    printf("kv fsyncs_per_placement %s\n", fmt(f1, sizeof(f1), fsyncs, 2));
    printf("kv tx_per_journey %s\n", fmt(f1, sizeof(f1), tx_j, 2));
    printf("kv statements_per_journey %s\n", fmt(f1, sizeof(f1), stm_j, 2));
    printf("kv pg_statements_per_journey %s\n", fmt(f1, sizeof(f1), pg_j, 2));
    printf("kv pg_toplevel_statements_per_journey %s\n", fmt(f1, sizeof(f1), pgtop_j, 2));
    printf("kv failures %ld\n", failures);
    fflush(stdout);

    if (pg)
        PQfinish(pg);
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    for (int i = 0; i < c; i++) {
        curl_easy_cleanup(b.slots[i].h);
        free(b.slots[i].resp.p);
    }
    curl_multi_cleanup(b.m);
    curl_slist_free_all(b.hdr);
    curl_easy_cleanup(one);
    curl_global_cleanup();
    for (int i = 0; i < OP_COUNT; i++)
        free(b.lat[i].v);
    free(b.journey.v);
    free(b.slots);
    free(b.ids);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_journey: could not remove %s\n", dir);
    if (failures)
        fprintf(stderr, "bench_journey: %s: %ld requests failed\n", label, failures);
    return failures ? 1 : 0;
}
