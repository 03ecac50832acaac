/* test_pg_failover.c: database failover on PostgreSQL (issue 17;
 * docs/postgres-ha.md). A primary and a synchronous standby
 * (scripts/pg-pair.sh), two checkoutd nodes on one database through a libpq
 * multi-host URL with target_session_attrs=read-write, and checkout load on
 * both: many journeys (cart, item, session, inputs, place-order with a card
 * at the fake gateway) on client threads. Mid-load, with placements in
 * flight, the primary is killed (SIGKILL to the postmaster and every
 * backend); once the placements that were in flight have answered, the
 * standby is promoted. Asserted:
 *   - the nodes reconnect by themselves: the same two processes, never
 *     restarted, finish every journey and then answer every request;
 *   - no 201 is lost: every order a client saw a 201 for (those before the
 *     kill included) exists on the promoted standby, for its session;
 *   - in-flight sessions resume: a placement that failed in the outage is
 *     re-POSTed (API.md: a 500 is resumable; 400 CART_ALREADY_IN_PROGRESS
 *     while the dead request's lease runs out) until it answers 201, or 200
 *     with the same order; at least one journey did so;
 *   - each session ends with exactly one order, one authorization row
 *     (Authorized, on that order) and one hold at the fake gateway, which
 *     saw no void; stock went down once per order.
 * Needs PostgreSQL's server binaries and CKT_PG_PAIR (the path of
 * scripts/pg-pair.sh); exits 77 (skipped) without them. Requests on the
 * client threads record instead of asserting (cmocka's asserts stay on the
 * main thread). Every wait is a bounded poll on a condition. */
#include "api/fixtures.h"

#include <curl/curl.h>
#include <glob.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define JOURNEYS 40
#define CLIENTS 10
#define QTY 2
#define STOCK 100000
#define GATEWAY_DELAY_MS 150
#define DB_NAME "ckt_failover"
#define ADDRESS                                                                                             \
    "{\"name\":\"Ada Buyer\",\"street\":\"1 Main St\",\"city\":\"Springfield\",\"postalCode\":\"62701\","  \
    "\"country\":\"US\"}"

/* ----------------------------------------------------------- the pair */

static char pair_dir[128];
static const char *pair_script;

static int pair_run(const char *cmd, char *out, size_t n)
{
    char line[512];
    snprintf(line, sizeof(line), "CK_PAIR_DIR='%s' bash '%s' %s", pair_dir, pair_script, cmd);
    FILE *p = popen(line, "r");
    if (!p)
        return -1;
    if (out) {
        out[0] = '\0';
        if (fgets(out, (int)n, p))
            out[strcspn(out, "\n")] = '\0';
    }
    char rest[256];
    while (fgets(rest, sizeof(rest), p))
        ;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void pair_stop(void)
{
    if (pair_dir[0]) {
        pair_run("stop", NULL, 0);
        rmdir(pair_dir);
        pair_dir[0] = '\0';
    }
}

/* One value from the server at url ("" on no row); -1 when it does not answer. */
static int pg_value(const char *url, const char *sql, char *out, size_t n)
{
    PGconn *c = PQconnectdb(url);
    int rc = -1;
    out[0] = '\0';
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK) {
            rc = 0;
            if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
                snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
        } else {
            fprintf(stderr, "PostgreSQL '%s': %s\n", sql, PQerrorMessage(c));
        }
        PQclear(r);
    } else {
        fprintf(stderr, "PostgreSQL %s: %s\n", url, PQerrorMessage(c));
    }
    PQfinish(c);
    return rc;
}

/* ------------------------------------------------------ client threads */

typedef struct answer {
    CURLcode cc;
    long status;
    char id[64], order_id[64], reason[64];
    char body[400];
} answer;

static void copy_str(char *out, size_t n, json_t *v)
{
    snprintf(out, n, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* A request that never asserts: safe on any thread. */
static void call(ckt_daemon *d, const char *method, const char *path, const char *key, const char *body, answer *a)
{
    memset(a, 0, sizeof(*a));
    char *resp = NULL;
    CURL *c = curl_easy_init();
    if (!c) {
        a->cc = CURLE_FAILED_INIT;
        return;
    }
    char url[512], auth[256];
    snprintf(url, sizeof(url), "%s%s", d->base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    struct curl_slist *hl = curl_slist_append(NULL, auth);
    hl = curl_slist_append(hl, "Content-Type: application/json");
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ckt_curl_text);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    a->cc = curl_easy_perform(c);
    if (a->cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    snprintf(a->body, sizeof(a->body), "%s", resp ? resp : "");
    json_t *j = resp ? json_loads(resp, JSON_DECODE_ANY, NULL) : NULL;
    free(resp);
    if (json_is_object(j)) {
        copy_str(a->id, sizeof(a->id), json_object_get(j, "id"));
        copy_str(a->order_id, sizeof(a->order_id), json_object_get(j, "orderId"));
        if (!a->id[0])
            copy_str(a->id, sizeof(a->id), json_object_get(json_object_get(j, "session"), "id"));
    } else if (json_is_array(j)) {
        copy_str(a->reason, sizeof(a->reason), json_object_get(json_array_get(j, 0), "reason"));
    }
    json_decref(j);
}

typedef struct journey {
    int node;
    char cart[64], sid[64], order[64];
    int created;      /* 201s to place-order */
    int replayed;     /* 200s to place-order */
    int attempts;     /* place-order POSTs */
    int failed;       /* answers to place-order that were neither: 500, 400 in progress, no answer */
    int restarts;     /* journeys begun again because a step before placement failed */
    int ok_before_kill; /* its 201 came before the primary was killed */
    int inflight_at_kill;
    int done;         /* ended with an order */
    char bad[480];    /* an answer the contract does not allow here */
} journey;

typedef struct load {
    ckt_daemon *node[2];
    char store[64], shm[64], acct[64], buyer[64], bkey[128], prod[64];
    journey j[JOURNEYS];
    int next;              /* the next journey to run */
    int placing[JOURNEYS]; /* a place-order POST of journey i is on the wire */
    int killed;            /* the primary was killed */
    int n_created;         /* 201s so far */
    int n500, n_busy, n_transport;
    long long deadline_ms; /* journeys give up then */
} load;

static int past(load *l)
{
    return ckt_mono_ms() > __atomic_load_n(&l->deadline_ms, __ATOMIC_SEQ_CST);
}

/* Cart, item, session, inputs on the journey's node; 0 when a step did not succeed. */
static int prepare(load *l, journey *j)
{
    ckt_daemon *d = l->node[j->node];
    char path[256], body[512];
    answer a;
    snprintf(path, sizeof(path), "/v1/stores/%s/carts", l->store);
    snprintf(body, sizeof(body), "{\"accountId\":\"%s\"}", l->acct);
    call(d, "POST", path, l->bkey, body, &a);
    if (a.status != 201 || !a.id[0])
        return 0;
    snprintf(j->cart, sizeof(j->cart), "%s", a.id);
    snprintf(path, sizeof(path), "/v1/carts/%s/items", j->cart);
    snprintf(body, sizeof(body), "{\"productId\":\"%s\",\"quantity\":%d}", l->prod, QTY);
    call(d, "POST", path, l->bkey, body, &a);
    if (a.status != 201)
        return 0;
    snprintf(body, sizeof(body), "{\"cartId\":\"%s\"}", j->cart);
    call(d, "POST", "/v1/checkouts", l->bkey, body, &a);
    if (a.status != 201 || !a.id[0])
        return 0;
    snprintf(j->sid, sizeof(j->sid), "%s", a.id);
    snprintf(path, sizeof(path), "/v1/checkouts/%s", j->sid);
    snprintf(body, sizeof(body),
             "{\"shippingAddress\":%s,\"shippingMethodId\":\"%s\",\"payment\":{\"method\":\"card\","
             "\"cardToken\":\"tok_visa\"}}",
             ADDRESS, l->shm);
    call(d, "PATCH", path, l->bkey, body, &a);
    return a.status == 200;
}

/* Places the journey's session until it has its order (API.md: a 500 is
 * resumable, re-POST; 400 CART_ALREADY_IN_PROGRESS while a lease is held). */
static void place(load *l, int i)
{
    journey *j = &l->j[i];
    ckt_daemon *d = l->node[j->node];
    char path[256];
    snprintf(path, sizeof(path), "/v1/checkouts/%s/place-order", j->sid);
    while (!past(l)) {
        answer a;
        __atomic_store_n(&l->placing[i], 1, __ATOMIC_SEQ_CST);
        call(d, "POST", path, l->bkey, NULL, &a);
        __atomic_store_n(&l->placing[i], 0, __ATOMIC_SEQ_CST);
        __atomic_add_fetch(&j->attempts, 1, __ATOMIC_SEQ_CST);
        if (a.status == 201 || a.status == 200) {
            if (a.status == 201) {
                j->created++;
                j->ok_before_kill = !__atomic_load_n(&l->killed, __ATOMIC_SEQ_CST);
                __atomic_add_fetch(&l->n_created, 1, __ATOMIC_SEQ_CST);
            } else {
                j->replayed++;
            }
            char before[64];
            snprintf(before, sizeof(before), "%s", j->order);
            if (before[0] && strcmp(before, a.order_id) != 0)
                snprintf(j->bad, sizeof(j->bad), "orderId %s after %s", a.order_id, before);
            else if (!a.order_id[0])
                snprintf(j->bad, sizeof(j->bad), "HTTP %ld without an orderId: %s", a.status, a.body);
            snprintf(j->order, sizeof(j->order), "%s", a.order_id);
            j->done = 1;
            return;
        }
        j->failed++;
        if (a.cc != CURLE_OK) {
            __atomic_add_fetch(&l->n_transport, 1, __ATOMIC_SEQ_CST);
        } else if (a.status == 500) {
            __atomic_add_fetch(&l->n500, 1, __ATOMIC_SEQ_CST);
        } else if (a.status == 400 && strcmp(a.reason, "CART_ALREADY_IN_PROGRESS") == 0) {
            __atomic_add_fetch(&l->n_busy, 1, __ATOMIC_SEQ_CST);
        } else {
            snprintf(j->bad, sizeof(j->bad), "place-order: HTTP %ld %s", a.status, a.body);
            return;
        }
        ckt_sleep_ms(50);
    }
}

static void client(void *arg, int t)
{
    (void)t;
    load *l = arg;
    for (;;) {
        int i = __atomic_fetch_add(&l->next, 1, __ATOMIC_SEQ_CST);
        if (i >= JOURNEYS)
            return;
        journey *j = &l->j[i];
        j->node = i % 2;
        while (!past(l) && !prepare(l, j)) {
            j->restarts++; /* a step failed in the outage: begin again with a new cart */
            ckt_sleep_ms(50);
        }
        if (!past(l))
            place(l, i);
    }
}

/* The load on its own thread, so that the main thread can fail over under it. */
static void *load_main(void *arg)
{
    ckt_parallel(CLIENTS, client, arg);
    return NULL;
}

/* -------------------------------------------------------------- the test */

typedef struct fx {
    ckt_daemon a, b;
    fake_gateway *gw;
    load *l;
    char admin_url[300];
} fx;

static fx F;

static int teardown(void **state)
{
    (void)state;
    F.a.pg = F.b.pg = 0; /* the database goes with the pair, not with the harness's admin URL */
    ckt_cleanup(&F.a);
    ckt_cleanup(&F.b);
    fgw_stop(F.gw);
    free(F.l);
    pair_stop();
    memset(&F, 0, sizeof(F));
    return 0;
}

/* A node on the pair's database: the harness's daemon, in PostgreSQL mode
 * on our URL instead of a database of its own. */
static void node_start(ckt_daemon *d, const char *db_url)
{
    static const char *const extra[] = {"--workers", "8", "--lease-seconds", "2", NULL};
    memset(d, 0, sizeof(*d));
    snprintf(d->dir, sizeof(d->dir), "/tmp/checkoutd-test-XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->log_path, sizeof(d->log_path), "%s/checkoutd.log", d->dir);
    snprintf(d->pg_url, sizeof(d->pg_url), "%s", db_url);
    d->pg = 1;
    ckt_restart(d, NULL, extra);
}

static int node_alive(ckt_daemon *d)
{
    int st;
    return d->pid > 0 && waitpid(d->pid, &st, WNOHANG) == 0;
}

static int log_lines(ckt_daemon *d, const char *needle)
{
    FILE *f = fopen(d->log_path, "r");
    if (!f)
        return 0;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static void failover_under_load(void **state)
{
    (void)state;
    fx *f = &F;
    char out[512], v[128];

    /* The pair: commits wait for the standby. */
    snprintf(pair_dir, sizeof(pair_dir), "/tmp/ckt-pg-pair-XXXXXX");
    assert_non_null(mkdtemp(pair_dir));
    long long t0 = ckt_mono_ms();
    if (pair_run("start", f->admin_url, sizeof(f->admin_url)) != 0 || strncmp(f->admin_url, "postgresql://", 13))
        fail_msg("scripts/pg-pair.sh start failed: '%s'", f->admin_url);
    int p1 = 0, p2 = 0;
    assert_int_equal(sscanf(f->admin_url, "postgresql://postgres@127.0.0.1:%d,127.0.0.1:%d/", &p1, &p2), 2);
    assert_int_equal(pg_value(f->admin_url, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'", v,
                              sizeof(v)),
                     0);
    assert_string_equal(v, "1");
    assert_int_equal(pg_value(f->admin_url, "SHOW synchronous_commit", v, sizeof(v)), 0);
    assert_string_equal(v, "on");
    assert_int_equal(pg_value(f->admin_url, "CREATE DATABASE " DB_NAME, v, sizeof(v)), 0);
    /* The multi-host URL both nodes use: the first host that takes writes. */
    char db_url[400];
    snprintf(db_url, sizeof(db_url),
             "postgresql://postgres@127.0.0.1:%d,127.0.0.1:%d/" DB_NAME "?target_session_attrs=read-write"
             "&connect_timeout=2",
             p1, p2);

    f->gw = fgw_start();
    assert_non_null(f->gw);
    fgw_set_delay_ms(f->gw, GATEWAY_DELAY_MS); /* placements stay in flight across the kill */
    char gw_url[128];
    fgw_url(f->gw, gw_url, sizeof(gw_url));

    node_start(&f->a, db_url); /* migrates */
    node_start(&f->b, db_url);
    pid_t pid_a = f->a.pid, pid_b = f->b.pid;

    load *l = f->l = calloc(1, sizeof(*l));
    assert_non_null(l);
    l->node[0] = &f->a;
    l->node[1] = &f->b;
    ckt_shop_setup(&f->a, gw_url, l->store, l->shm, l->acct, l->buyer, l->bkey);
    char prod_body[512];
    snprintf(prod_body, sizeof(prod_body),
             "{\"sku\":\"SKU-FO-%ld\",\"name\":\"Widget\",\"unitPrice\":1999,\"stock\":%d,\"minQuantity\":1,"
             "\"priceTiers\":[],\"hazmat\":false,\"exportControlled\":false,\"weightGrams\":500,\"active\":true}",
             (long)getpid(), STOCK);
    ckt_product(&f->a, l->store, prod_body, l->prod);
    l->deadline_ms = ckt_mono_ms() + 45000;

    pthread_t loader;
    assert_int_equal(pthread_create(&loader, NULL, load_main, l), 0);

    /* Kill the primary mid-load: a quarter of the orders made, and at
     * least three placements on the wire (one scan decides and records). */
    int inflight = 0, created_at_kill = 0, attempts_at_kill[JOURNEYS], placing_now[JOURNEYS];
    for (long long until = ckt_mono_ms() + 30000; ckt_mono_ms() < until; ckt_sleep_ms(2)) {
        inflight = 0;
        created_at_kill = __atomic_load_n(&l->n_created, __ATOMIC_SEQ_CST);
        for (int i = 0; i < JOURNEYS; i++) {
            attempts_at_kill[i] = __atomic_load_n(&l->j[i].attempts, __ATOMIC_SEQ_CST);
            inflight += placing_now[i] = __atomic_load_n(&l->placing[i], __ATOMIC_SEQ_CST);
        }
        if (created_at_kill >= JOURNEYS / 4 && inflight >= 3)
            break;
    }
    __atomic_store_n(&l->killed, 1, __ATOMIC_SEQ_CST);
    if (created_at_kill < JOURNEYS / 4 || inflight < 3) {
        __atomic_store_n(&l->deadline_ms, 0, __ATOMIC_SEQ_CST);
        pthread_join(loader, NULL);
        fail_msg("the load did not get going: %d orders, %d placements in flight after 30 s", created_at_kill,
                 inflight);
    }
    for (int i = 0; i < JOURNEYS; i++)
        l->j[i].inflight_at_kill = placing_now[i];
    long long t_kill = ckt_mono_ms();
    assert_int_equal(pair_run("kill-primary", NULL, 0), 0);
    /* The outage: every placement that was on the wire answers (it cannot
     * finish without a database) before the standby is promoted. */
    int waiting = 1;
    for (long long until = ckt_mono_ms() + 20000; waiting && ckt_mono_ms() < until;) {
        waiting = 0;
        for (int i = 0; i < JOURNEYS; i++)
            if (l->j[i].inflight_at_kill && __atomic_load_n(&l->j[i].attempts, __ATOMIC_SEQ_CST) == attempts_at_kill[i])
                waiting++;
        if (waiting)
            ckt_sleep_ms(5);
    }
    assert_int_equal(waiting, 0);
    long long t_promote = ckt_mono_ms();
    assert_int_equal(pair_run("promote", NULL, 0), 0);
    assert_int_equal(pair_run("status", out, sizeof(out)), 0);
    fprintf(stderr, "after the failover: %s\n", out);
    long long t_promoted = ckt_mono_ms();
    /* The journeys get 20 s after the promotion, however long the outage
     * took (they need well under 2 s: a lease of 2 s runs out, then one
     * re-POST each). */
    __atomic_store_n(&l->deadline_ms, t_promoted + 20000, __ATOMIC_SEQ_CST);
    pthread_join(loader, NULL);
    long long t_done = ckt_mono_ms();

    /* The same two processes, never restarted. */
    assert_true(node_alive(&f->a));
    assert_true(node_alive(&f->b));
    assert_int_equal(f->a.pid, pid_a);
    assert_int_equal(f->b.pid, pid_b);

    int resumed = 0, restarts = 0, replays = 0, inflight_n = 0, before_kill = 0, unfinished = 0;
    for (int i = 0; i < JOURNEYS; i++) {
        journey *j = &l->j[i];
        if (j->bad[0] || !j->done || j->created > 1) {
            fprintf(stderr, "journey %d (node %c, session %s%s): %s after %d placements, %d failed, %d x 201\n", i,
                    "ab"[j->node], j->sid, j->inflight_at_kill ? ", placing at the kill" : "",
                    j->bad[0] ? j->bad : j->done ? "done" : "no order by the deadline", j->attempts, j->failed,
                    j->created);
            unfinished++;
        }
        resumed += j->failed > 0;
        restarts += j->restarts;
        replays += j->replayed;
        inflight_n += j->inflight_at_kill;
        before_kill += j->created && j->ok_before_kill;
    }
    if (unfinished) {
        fprintf(stderr, "%d of %d journeys did not end with exactly one order; node a's log ends:\n", unfinished,
                JOURNEYS);
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "grep -v '\"request\"' '%.400s' | tail -n 5 >&2", f->a.log_path);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
    }
    assert_int_equal(unfinished, 0);
    fprintf(stderr,
            "failover: %d journeys on 2 nodes; %d orders before the kill, %d placements in flight at it;"
            " outage %lld ms (kill to promoted), journeys done %lld ms later; %d sessions resumed by re-POST,"
            " %d 200 replays; failed placement answers: %d x 500, %d x CART_ALREADY_IN_PROGRESS,"
            " %d without an answer; %d journeys begun again before placement; gateway: %d authorize calls,"
            " %d holds; pair start to end %lld ms\n",
            JOURNEYS, created_at_kill, inflight_n, t_promoted - t_kill, t_done - t_promoted, resumed, replays, l->n500,
            l->n_busy, l->n_transport, restarts, fgw_authorize_calls(f->gw), fgw_holds(f->gw), t_done - t0);
    (void)t_promote;
    assert_true(resumed >= 1); /* the outage was seen, and resumed from */

    /* The nodes answer on the promoted standby: every request, on both. */
    for (int n = 0; n < 2; n++) {
        ckt_daemon *d = n ? &f->b : &f->a;
        for (int i = 0; i < JOURNEYS; i++) {
            char path[128];
            snprintf(path, sizeof(path), "/v1/checkouts/%s", l->j[i].sid);
            ckt_resp r = ckt_http(d, "GET", path, l->bkey, NULL, NULL);
            ckt_expect_status(&r, 200);
            assert_string_equal(ckt_str(r.json, "state"), "Completed");
            assert_string_equal(ckt_str(r.json, "orderId"), l->j[i].order);
            ckt_free(&r);
        }
    }

    /* The database the nodes now write is the former standby's. */
    ckt_daemon *d = &f->a;
    assert_int_equal(ckt_db_int(d, "SELECT inet_server_port()"), p2);
    assert_int_equal(ckt_db_int(d, "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END"), 0);

    /* No 201 lost; one order, one authorization, one hold per session. */
    for (int i = 0; i < JOURNEYS; i++) {
        journey *j = &l->j[i];
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE id = '%s' AND session_id = '%s'", j->order,
                                    j->sid),
                         1);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders WHERE session_id = '%s'", j->sid), 1);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'", j->sid),
                         1);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations WHERE session_id = '%s'"
                                       " AND status = 'Authorized' AND order_id = '%s'",
                                    j->sid, j->order),
                         1);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM checkout_sessions WHERE id = '%s' AND order_id = '%s'"
                                       " AND lease_owner IS NULL",
                                    j->sid, j->order),
                         1);
        assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM carts WHERE id = '%s' AND status = 'Closed'", j->cart),
                         1);
    }
    assert_true(before_kill >= JOURNEYS / 4);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM orders"), JOURNEYS);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM payment_authorizations"), JOURNEYS);
    assert_int_equal(ckt_db_int(d, "SELECT count(DISTINCT gateway_auth_id) FROM payment_authorizations"), JOURNEYS);
    /* The distinct holds the gateway made are the ones the orders carry. */
    assert_int_equal(fgw_holds(f->gw), JOURNEYS);
    assert_int_equal(fgw_voids(f->gw), 0);
    assert_int_equal(ckt_db_int(d, "SELECT stock FROM products WHERE id = '%s'", l->prod),
                     STOCK - JOURNEYS * QTY);
    assert_int_equal(ckt_db_int(d, "SELECT count(*) FROM outbox_events WHERE type = 'OrderCreated'"), JOURNEYS);

    fprintf(stderr, "node logs: %d and %d error lines (the outage), %d and %d 5xx answers\n",
            log_lines(&f->a, "\"level\":\"error\""), log_lines(&f->b, "\"level\":\"error\""),
            log_lines(&f->a, "\"status\":50"), log_lines(&f->b, "\"status\":50"));
    f->a.pg = f->b.pg = 0;
    ckt_finish(&f->a);
    ckt_finish(&f->b);
}

/* PostgreSQL's server binaries, as scripts/pg-pair.sh finds them. */
static int have_pg_server(void)
{
    glob_t g;
    int n = glob("/usr/lib/postgresql/*/bin/pg_basebackup", 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
    globfree(&g);
    return n > 0;
}

int main(void)
{
    pair_script = getenv("CKT_PG_PAIR");
    if (!pair_script || !*pair_script || access(pair_script, R_OK) != 0) {
        fprintf(stderr, "test_pg_failover needs CKT_PG_PAIR=<path of scripts/pg-pair.sh>: skipping\n");
        return 77;
    }
    if (!have_pg_server()) {
        fprintf(stderr, "test_pg_failover needs PostgreSQL's server (scripts/install-deps.sh test): skipping\n");
        return 77;
    }
    atexit(pair_stop); /* also after a failed assertion */
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(failover_under_load, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
