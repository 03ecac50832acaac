/* test_soak.c: the crash soak (issue 17). N checkout journeys of every
 * payment method (card with a capture, purchase order, prepaid placed
 * async, net terms with its approval, contract and card orders cancelled)
 * run on 8 threads while the test kills the daemon (SIGKILL) at random
 * moments, or lets a fault point (crash.after:<step>, crash.gateway,
 * crash.capture, crash.before_void; step.fail) end it, and restarts it on
 * the same database. A journey whose request died with the daemon sends it
 * again (the same Idempotency-Key; place-order resumes the session, API.md
 * "Checkout session and the checkout transaction"), until every journey
 * has its order and its after-order step. The money invariants
 * (invariants.h) are checked with the daemon dead after every crash, and
 * settled (gateway included) at the end.
 *
 * Environment: CKT_SOAK_SEED (default: from the clock; printed),
 * CKT_SOAK_JOURNEYS (default 240), CKT_SOAK_KILLS (default 16). On
 * PostgreSQL the daemon runs with --lease-seconds 2, so the leases a killed
 * daemon left expire (SQLite releases them at start). */
#include "api/invariants.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define THREADS 8
#define STOCK 1000000
#define ADDR                                                                                               \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\"," \
    "\"country\":\"US\"}"

/* What a journey does after its order. */
typedef enum after { AFTER_NONE, AFTER_CAPTURE, AFTER_APPROVE, AFTER_CANCEL } after;

/* The journey kinds, by journey number modulo their count. */
static const struct kind {
    ckt_pay pay;
    int async;
    after then;
} KINDS[] = {
    {CKT_PAY_CARD, 0, AFTER_CAPTURE}, {CKT_PAY_PO, 0, AFTER_NONE},      {CKT_PAY_PREPAID, 1, AFTER_NONE},
    {CKT_PAY_NET_TERMS, 0, AFTER_APPROVE}, {CKT_PAY_CONTRACT, 0, AFTER_CANCEL}, {CKT_PAY_CARD, 1, AFTER_CANCEL},
};
#define NKINDS ((int)(sizeof(KINDS) / sizeof(KINDS[0])))

/* Fault points a restarted daemon may be armed with (each fires once).
 * Not crash.sync: SQLite start-up's own recovery commit would meet it
 * before the daemon is listening (test_crash_recovery.c covers it). */
static const char *const FAULTS[] = {
    "crash.after:payment*1", "crash.gateway*1",      "crash.after:create_order*1", "crash.capture*1",
    "crash.before_void*1",   "crash.after:pricing*1", "step.fail:create_order*2",
};
#define NFAULTS ((int)(sizeof(FAULTS) / sizeof(FAULTS[0])))

typedef struct journey {
    char cart[64], sid[64], order[64];
    int done;
} journey;

typedef struct soak {
    ckt_mfx m;
    pthread_mutex_t mu; /* guards m.d's address and gen */
    int gen;            /* daemon generation: a reply from an older one counts as lost */
    int next;           /* the next journey to start */
    int finished;       /* journeys done */
    int njourneys;
    journey *j;
    unsigned seed;
    long long deadline_ms;
    char failure[512]; /* the first journey that went wrong (set once) */
} soak;

static soak S;
static pthread_t threads[THREADS];
static int nthreads, passed;
static char armed[64]; /* the fault points the running daemon was started with */

/* The end of the daemon's log, for a run that failed (its directory goes). */
static void print_log_tail(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    static char lines[40][1024];
    int n = 0;
    while (fgets(lines[n % 40], sizeof(lines[0]), f))
        n++;
    fclose(f);
    fprintf(stderr, "--- the last lines of %s:\n", path);
    for (int i = n > 40 ? n - 40 : 0; i < n; i++)
        fprintf(stderr, "%s", lines[i % 40]);
}

static int teardown(void **state)
{
    (void)state;
    pthread_mutex_lock(&S.mu);
    if (!S.failure[0])
        snprintf(S.failure, sizeof(S.failure), "the test stopped");
    pthread_mutex_unlock(&S.mu);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    nthreads = 0;
    if (!passed && S.m.d.log_path[0]) {
        print_log_tail(S.m.d.log_path);
        fprintf(stderr, "the daemon that ended last was armed with: %s\n", armed[0] ? armed : "nothing");
        if (!S.m.d.pg && S.m.d.pid == 0) {
            char cmd[1024];
            snprintf(cmd, sizeof(cmd), "cp -r %s /tmp/checkoutd-soak-failed-%u", S.m.d.dir, S.seed);
            if (system(cmd) == 0)
                fprintf(stderr, "its database and log are kept in /tmp/checkoutd-soak-failed-%u\n", S.seed);
        }
    }
    armed[0] = '\0';
    passed = 0;
    ckt_fx_cleanup(&S.m.base);
    free(S.j);
    memset(&S, 0, sizeof(S));
    return 0;
}

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : dflt;
}

/* xorshift: one stream per thread, from the seed. */
static unsigned next_rand(unsigned long long *st)
{
    unsigned long long x = *st;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *st = x;
    return (unsigned)(x >> 11);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void fail_journey(int i, const char *what, const ckt_resp *r)
{
    pthread_mutex_lock(&S.mu);
    if (!S.failure[0])
        snprintf(S.failure, sizeof(S.failure), "journey %d (%s): %s: HTTP %ld %.300s", i,
                 ckt_pay_names[KINDS[i % NKINDS].pay], what, r ? r->status : 0L, r && r->body ? r->body : "");
    pthread_mutex_unlock(&S.mu);
}

static int failed(void)
{
    pthread_mutex_lock(&S.mu);
    int f = S.failure[0] != 0 || ckt_now_ms() > S.deadline_ms;
    pthread_mutex_unlock(&S.mu);
    return f;
}

/* One request to whichever daemon runs now. A reply lost with the daemon,
 * or one from a daemon killed since the request was sent, is status 0. */
static ckt_resp call(const char *method, const char *path, const char *key, const char *body, const char *hdr)
{
    const char *hdrs[] = {hdr, NULL};
    ckt_daemon d;
    memset(&d, 0, sizeof(d));
    pthread_mutex_lock(&S.mu);
    snprintf(d.base, sizeof(d.base), "%s", S.m.d.base);
    d.port = S.m.d.port;
    int gen = S.gen;
    pthread_mutex_unlock(&S.mu);
    ckt_resp r = ckt_http_try(&d, method, path, key, body, hdr ? hdrs : NULL);
    pthread_mutex_lock(&S.mu);
    if (gen != S.gen)
        r.status = 0;
    pthread_mutex_unlock(&S.mu);
    return r;
}

/* A pause before trying again: short, jittered. */
static void backoff(unsigned long long *rs)
{
    sleep_ms(5 + (int)(next_rand(rs) % 20));
}

static int is_reason(const ckt_resp *r, long status, const char *reason)
{
    return r->status == status && strcmp(ckt_reason(r), reason) == 0;
}

/* Steps of a journey; each returns 1 when done, 0 to try again. attempt
 * counts the tries that must take a new Idempotency-Key (the first was
 * answered, or its claim is held by a request a dead daemon ran). */

/* A try whose key a dead daemon's request still claims (409) takes a new
 * key; a cart the first one may have made stays empty, harmlessly. */
static int step_cart(int i, journey *j, int *attempt)
{
    char path[256], body[256], key[128];
    snprintf(path, sizeof(path), "/v1/stores/%s/carts", S.m.store);
    snprintf(body, sizeof(body), "{\"accountId\":\"%s\"}", S.m.acct);
    snprintf(key, sizeof(key), "Idempotency-Key: soak-%u-%d-cart-%d", S.seed, i, *attempt);
    ckt_resp r = call("POST", path, S.m.bkey, body, key);
    int ok = r.status == 201;
    if (ok)
        snprintf(j->cart, sizeof(j->cart), "%s", ckt_str(r.json, "id"));
    else if (r.status == 409)
        (*attempt)++;
    else if (r.status != 0)
        fail_journey(i, "create the cart", &r);
    ckt_free(&r);
    return ok;
}

/* The cart's item: when an earlier try may have added it, the cart says. */
static int step_item(int i, journey *j, int *attempt)
{
    char path[256], body[256], key[128];
    snprintf(path, sizeof(path), "/v1/carts/%s", j->cart);
    if (*attempt > 0) {
        ckt_resp g = call("GET", path, S.m.bkey, NULL, NULL);
        int have = g.status == 200 && json_array_size(ckt_get(g.json, "items")) > 0;
        int lost = g.status == 0;
        ckt_free(&g);
        if (have)
            return 1;
        if (lost)
            return 0;
    }
    snprintf(path, sizeof(path), "/v1/carts/%s/items", j->cart);
    snprintf(body, sizeof(body), "{\"productId\":\"%s\",\"quantity\":%d}", S.m.prods[i % CKT_MFX_PRODUCTS],
             1 + i % 3);
    snprintf(key, sizeof(key), "Idempotency-Key: soak-%u-%d-item-%d", S.seed, i, *attempt);
    ckt_resp r = call("POST", path, S.m.bkey, body, key);
    int ok = r.status == 201;
    if (!ok && r.status != 0 && r.status != 409)
        fail_journey(i, "add the item", &r);
    (*attempt)++; /* a lost answer: look at the cart first */
    ckt_free(&r);
    return ok;
}

/* The session (get or create) and its inputs (the same every time). */
static int step_session(int i, journey *j)
{
    char body[1024], pay[256], tag[64], path[256];
    if (!j->sid[0]) {
        snprintf(body, sizeof(body), "{\"cartId\":\"%s\"}", j->cart);
        ckt_resp r = call("POST", "/v1/checkouts", S.m.bkey, body, NULL);
        if (r.status == 201 || r.status == 200)
            snprintf(j->sid, sizeof(j->sid), "%s", ckt_str(r.json, "session.id"));
        else if (r.status != 0 && !is_reason(&r, 400, "CART_ALREADY_IN_PROGRESS"))
            fail_journey(i, "create the session", &r);
        ckt_free(&r);
        if (!j->sid[0])
            return 0;
    }
    snprintf(tag, sizeof(tag), "%u-%d", S.seed, i);
    ckt_mfx_payment(&S.m, KINDS[i % NKINDS].pay, tag, pay, sizeof(pay));
    snprintf(body, sizeof(body), "{\"shippingAddress\":%s,\"shippingMethodId\":\"%s\",\"payment\":%s}", ADDR, S.m.shm,
             pay);
    snprintf(path, sizeof(path), "/v1/checkouts/%s", j->sid);
    ckt_resp r = call("PATCH", path, S.m.bkey, body, NULL);
    int ok = r.status == 200;
    if (!ok && r.status != 0 && !is_reason(&r, 400, "CART_ALREADY_IN_PROGRESS"))
        fail_journey(i, "set the inputs", &r);
    ckt_free(&r);
    return ok;
}

/* place-order until the order exists. An async journey asks first with
 * Prefer: respond-async and then places synchronously beside its runner
 * (which holds the lease meanwhile: 400 CART_ALREADY_IN_PROGRESS). */
static int step_place(int i, journey *j, int *attempt)
{
    char path[256], key[160];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", j->sid);
    if (*attempt == 0 && KINDS[i % NKINDS].async) {
        ckt_resp r = call("POST", path, S.m.bkey, NULL, "Prefer: respond-async");
        if (r.status != 0 && r.status != 202 && !is_reason(&r, 400, "CART_ALREADY_IN_PROGRESS"))
            fail_journey(i, "place async", &r);
        ckt_free(&r);
        (*attempt)++;
        return 0;
    }
    snprintf(key, sizeof(key), "Idempotency-Key: soak-%u-%d-place-%d", S.seed, i, *attempt);
    ckt_resp r = call("POST", path, S.m.bkey, NULL, key);
    int ok = r.status == 201 || r.status == 200;
    if (ok)
        snprintf(j->order, sizeof(j->order), "%s", ckt_str(r.json, "orderId"));
    else if (is_reason(&r, 400, "CART_ALREADY_IN_PROGRESS") || is_reason(&r, 409, "IDEMPOTENCY_KEY_IN_USE") ||
             r.status >= 500)
        (*attempt)++; /* another runner, a key still claimed, or a resumable step failure */
    else if (r.status != 0)
        fail_journey(i, "place the order", &r);
    ckt_free(&r);
    return ok;
}

/* The after-order step: a capture of the rest, the approval, or a cancel
 * of everything; done once the answer says it was done (now or before). */
static int step_after(int i, journey *j, int *attempt)
{
    char path[256], key[160];
    after then = KINDS[i % NKINDS].then;
    if (then == AFTER_NONE)
        return 1;
    const char *verb = then == AFTER_CAPTURE ? "capture" : then == AFTER_APPROVE ? "approve" : "cancel";
    const char *user = then == AFTER_CAPTURE ? S.m.fkey : then == AFTER_APPROVE ? S.m.akey : CKT_ADMIN_KEY;
    snprintf(path, sizeof(path), "/v1/orders/%s/%s", j->order, verb);
    snprintf(key, sizeof(key), "Idempotency-Key: soak-%u-%d-%s-%d", S.seed, i, verb, *attempt);
    ckt_resp r = call("POST", path, user, NULL, key);
    int ok = r.status == 200 || r.status == 201 || is_reason(&r, 400, "NOTHING_TO_CAPTURE") ||
             is_reason(&r, 409, "ORDER_NOT_PENDING_APPROVAL") || is_reason(&r, 409, "NOTHING_TO_CANCEL");
    if (!ok && (r.status == 409 || r.status >= 500))
        (*attempt)++; /* ORDER_BUSY, a claimed key, or the gateway's transient error */
    else if (!ok && r.status != 0)
        fail_journey(i, verb, &r);
    ckt_free(&r);
    return ok;
}

static void run_journey(int i, unsigned long long *rs)
{
    journey *j = &S.j[i];
    int stage = 0, attempt = 0;
    while (stage < 5 && !failed()) {
        int done = 0;
        switch (stage) {
        case 0: done = step_cart(i, j, &attempt); break;
        case 1: done = step_item(i, j, &attempt); break;
        case 2: done = step_session(i, j); break;
        case 3: done = step_place(i, j, &attempt); break;
        default: done = step_after(i, j, &attempt); break;
        }
        if (done) {
            stage++;
            attempt = 0;
        } else {
            backoff(rs);
        }
    }
    if (stage == 5) {
        j->done = 1;
        pthread_mutex_lock(&S.mu);
        S.finished++;
        pthread_mutex_unlock(&S.mu);
    } else if (!S.failure[0]) {
        fail_journey(i, "did not finish before the deadline", NULL);
    }
}

static void *worker(void *arg)
{
    unsigned long long rs = (unsigned long long)S.seed * 2654435761ULL + (unsigned long long)(size_t)arg + 1;
    for (;;) {
        pthread_mutex_lock(&S.mu);
        int i = S.next < S.njourneys ? S.next++ : -1;
        pthread_mutex_unlock(&S.mu);
        if (i < 0 || failed())
            return NULL;
        run_journey(i, &rs);
    }
}

/* Fault injection on from the start (so a restart can arm a point); on
 * PostgreSQL short leases, so what a killed daemon held expires. */
static const char *const *daemon_args(int pg)
{
    static const char *const lite_args[] = {"--enable-fault-injection", NULL};
    static const char *const pg_args[] = {"--enable-fault-injection", "--lease-seconds", "2", NULL};
    return pg ? pg_args : lite_args;
}

/* Ends the daemon (SIGKILL, unless a fault point already ended it: gone),
 * checks the invariants on what it left, and starts it again armed with
 * faults (NULL: none). */
static void crash_and_restart(const char *faults, int gone, int k)
{
    if (!gone)
        ckt_kill(&S.m.d);
    pthread_mutex_lock(&S.mu);
    S.gen++;
    pthread_mutex_unlock(&S.mu);
    /* Only this thread changes S.m.d: it reads it without the lock. */
    ckt_inv_opts io = ckt_mfx_inv(&S.m, 0);
    io.one_auth_per_session = 1;
    int bad = ckt_invariants_check(&S.m.d, &io);
    if (bad) {
        pthread_mutex_lock(&S.mu);
        if (!S.failure[0])
            snprintf(S.failure, sizeof(S.failure), "%d invariant(s) broken after crash %d", bad, k);
        pthread_mutex_unlock(&S.mu);
    }
    /* The async runner resumes queued placements as the daemon starts,
     * before it is listening: a placement's crash point could end it there,
     * and that is no start. Then arm one that only a request reaches. */
    if (faults && (strncmp(faults, "crash.after:", 12) == 0 || strncmp(faults, "crash.gateway", 13) == 0) &&
        ckt_db_int(&S.m.d, "SELECT count(*) FROM checkout_requests WHERE status = 'Queued'"
                           " OR (status = 'Running' AND runner IS NOT NULL)") > 0)
        faults = "crash.capture*1";
    snprintf(armed, sizeof(armed), "%s", faults ? faults : "");
    ckt_daemon nd = S.m.d; /* the workers keep to the dead one's address meanwhile */
    ckt_restart(&nd, faults, daemon_args(nd.pg));
    pthread_mutex_lock(&S.mu);
    S.m.d = nd;
    pthread_mutex_unlock(&S.mu);
}

static void crash_soak(void **state)
{
    (void)state;
    S.seed = (unsigned)env_int("CKT_SOAK_SEED", (int)(ckt_now_ms() % 1000000007LL));
    S.njourneys = env_int("CKT_SOAK_JOURNEYS", 240);
    int kills = env_int("CKT_SOAK_KILLS", 16);
    fprintf(stderr, "soak: seed %u (CKT_SOAK_SEED), %d journeys (CKT_SOAK_JOURNEYS), %d crashes (CKT_SOAK_KILLS)\n",
            S.seed, S.njourneys, kills);
    pthread_mutex_init(&S.mu, NULL);
    S.j = calloc((size_t)S.njourneys, sizeof(*S.j));
    assert_non_null(S.j);
    long long t0 = ckt_mono_ms();

    ckt_mfx_opts mo = {.credit_limit = 1000000000LL, .prepaid = 1000000000LL, .contract = 1000000000LL,
                       .stock = STOCK, .extra = daemon_args(ckt_backend_pg())};
    ckt_mfx_setup(&S.m, &mo);
    S.deadline_ms = ckt_now_ms() + 60000LL + 400LL * S.njourneys + 3000LL * kills;

    for (long i = 0; i < THREADS; i++, nthreads++)
        assert_int_equal(pthread_create(&threads[i], NULL, worker, (void *)i), 0);

    /* The crashes: each after its share of the journeys, SIGKILL or a fault point. */
    unsigned long long rs = S.seed | 1ULL;
    int by_faults = 0, mid_journey = 0;
    for (int k = 1; k <= kills && !failed(); k++) {
        /* Spread over the run: crash k comes once k / (kills + 1) of the
         * journeys are done, 0 to 40 ms later, unless a fault point ended
         * the daemon first. */
        int threshold = (int)((long long)k * S.njourneys / (kills + 1)), gone = 0, jitter = -1;
        while (!gone && !failed()) {
            pthread_mutex_lock(&S.mu);
            int reached = S.finished >= threshold;
            pthread_mutex_unlock(&S.mu);
            if (reached && jitter < 0)
                jitter = (int)(next_rand(&rs) % 5);
            if (jitter == 0)
                break;
            if (jitter > 0)
                jitter--;
            gone = ckt_wait_exit(&S.m.d, 0) >= 0; /* 10 ms */
        }
        pthread_mutex_lock(&S.mu);
        mid_journey += S.finished < S.njourneys;
        pthread_mutex_unlock(&S.mu);
        by_faults += gone;
        /* Every other restart arms one fault point; the last none (no one
         * would restart a daemon that ends after it). */
        const char *faults = k % 2 && k < kills ? FAULTS[next_rand(&rs) % NFAULTS] : NULL;
        crash_and_restart(faults, gone, k);
    }
    for (; nthreads > 0; nthreads--)
        pthread_join(threads[nthreads - 1], NULL);
    if (S.failure[0])
        fprintf(stderr, "soak failed (seed %u): %s\n", S.seed, S.failure);
    assert_string_equal(S.failure, "");
    assert_int_equal(S.finished, S.njourneys);

    /* Settled: every journey's order, and its after-order step. */
    ckt_daemon *d = &S.m.d;
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), S.njourneys);
    int want_cancelled = 0, want_captured = 0, want_approved = 0;
    for (int i = 0; i < S.njourneys; i++) {
        want_cancelled += KINDS[i % NKINDS].then == AFTER_CANCEL;
        want_captured += KINDS[i % NKINDS].then == AFTER_CAPTURE;
        want_approved += KINDS[i % NKINDS].then == AFTER_APPROVE;
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE id = '%s' AND session_id = '%s'",
                                    S.j[i].order, S.j[i].sid),
                         1);
    }
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE status = 'Cancelled'"), want_cancelled);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE status = 'Captured'"),
                     want_captured);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE payment_method = 'net_terms'"
                                   " AND status = 'Activated'"),
                     want_approved);
    /* A void decided in a commit the crash cut from its gateway call, and a
     * synchronous request a dead daemon left Running (PostgreSQL: once its
     * session's lease expired a lease length ago), are the sweeper's to
     * finish; an async request a dead runner left Running is claimed again
     * after its run lease (two session leases). Run the sweeper, as its
     * schedule would, until nothing is Queued or Running (bounded). */
    for (int waited = 0;; waited += 100) {
        ckt_resp r = ckt_http(d, "POST", "/v1/admin/jobs/sweeper", CKT_ADMIN_KEY, NULL, NULL);
        long st = r.status;
        ckt_free(&r);
        assert_true(st == 200 || st == 409);
        if (st == 200 &&
            ckt_db_int(d, "SELECT count(*) FROM checkout_requests WHERE status IN ('Queued', 'Running')") == 0)
            break;
        if (waited >= 20000)
            break; /* the invariants below name what is left */
        sleep_ms(100);
    }
    ckt_inv_opts io = ckt_mfx_inv(&S.m, 1);
    io.one_auth_per_session = 1;
    ckt_invariants_expect(d, &io, "at the end of the soak");
    fprintf(stderr, "soak: seed %u: %d journeys, %d crashes (%d by a fault point, %d mid-journey), %lld ms\n", S.seed,
            S.njourneys, kills, by_faults, mid_journey, ckt_mono_ms() - t0);
    ckt_fx_finish(&S.m.base);
    passed = 1;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(crash_soak, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
