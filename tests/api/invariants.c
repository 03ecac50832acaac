/* invariants.c: the money invariants of invariants.h. Each is one query
 * naming what breaks it, run in one read snapshot of the daemon's database
 * (SQLite: a read transaction on the file; PostgreSQL: REPEATABLE READ);
 * the gateway side is compared row by row with the fake gateway's books. */
#include "api/invariants.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One read snapshot: the SQLite file or the PostgreSQL database of d. */
typedef struct snap {
    sqlite3 *lite;
    PGconn *pg;
} snap;

/* Called per row with its columns as text (NULL for SQL NULL). */
typedef void (*row_fn)(void *ud, int ncols, const char *const *cols);

static int snap_open(snap *s, ckt_daemon *d)
{
    memset(s, 0, sizeof(*s));
    if (d->pg) {
        s->pg = PQconnectdb(d->pg_url);
        if (PQstatus(s->pg) != CONNECTION_OK) {
            fprintf(stderr, "invariants: cannot connect to %s: %s\n", d->pg_db, PQerrorMessage(s->pg));
            return -1;
        }
        PGresult *r = PQexec(s->pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        return ok ? 0 : -1;
    }
    if (sqlite3_open_v2(d->db_path, &s->lite, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "invariants: cannot open %s\n", d->db_path);
        return -1;
    }
    sqlite3_busy_timeout(s->lite, 10000);
    /* The first read of a deferred transaction fixes the WAL snapshot. */
    return sqlite3_exec(s->lite, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void snap_close(snap *s)
{
    if (s->pg) {
        PQclear(PQexec(s->pg, "COMMIT"));
        PQfinish(s->pg);
    }
    if (s->lite) {
        sqlite3_exec(s->lite, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(s->lite);
    }
    memset(s, 0, sizeof(*s));
}

/* Runs sql, calling fn per row; 0 or -1 on a SQL error (printed). */
static int snap_rows(snap *s, const char *sql, row_fn fn, void *ud)
{
    enum { MAXC = 16 };
    const char *cols[MAXC];
    if (s->pg) {
        PGresult *r = PQexec(s->pg, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            fprintf(stderr, "invariants: SQL error in '%s': %s\n", sql, PQerrorMessage(s->pg));
            PQclear(r);
            return -1;
        }
        int nc = PQnfields(r) < MAXC ? PQnfields(r) : MAXC;
        for (int i = 0; i < PQntuples(r); i++) {
            for (int c = 0; c < nc; c++)
                cols[c] = PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
            fn(ud, nc, cols);
        }
        PQclear(r);
        return 0;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->lite, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "invariants: SQL error in '%s': %s\n", sql, sqlite3_errmsg(s->lite));
        return -1;
    }
    int rc, nc = sqlite3_column_count(st) < MAXC ? sqlite3_column_count(st) : MAXC;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < nc; c++)
            cols[c] = (const char *)sqlite3_column_text(st, c);
        fn(ud, nc, cols);
    }
    if (rc != SQLITE_DONE)
        fprintf(stderr, "invariants: SQL error in '%s': %s\n", sql, sqlite3_errmsg(s->lite));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ------------------------------------------------------- the queries */

/* One invariant: sql lists the ids (first column) of what breaks it. */
enum { ALWAYS, SETTLED, SINGLE_AUTH }; /* when an invariant is checked */
typedef struct inv {
    const char *name, *holds, *sql;
    int when;
} inv;

#define LIVE_HOLD "status NOT IN ('Voided', 'Expired')"
/* What an order's cancellations and returns gave back to its balance. */
#define GIVEN_BACK(o)                                                                                           \
    "COALESCE((SELECT SUM(c.balance_amount) FROM order_changes c WHERE c.order_id = " o ".id"                   \
    " AND c.status = 'Completed' AND c.kind IN ('cancel', 'return')), 0)"

static const inv INVARIANTS[] = {
    /* orders */
    {"orders.session", "every order is its session's order and the session is Completed",
     "SELECT o.id FROM orders o LEFT JOIN checkout_sessions s ON s.id = o.session_id"
     " WHERE s.id IS NULL OR s.state <> 'Completed' OR s.order_id IS NULL OR s.order_id <> o.id ORDER BY o.id", ALWAYS},
    {"orders.completed", "every Completed session, and every session naming an order, has that order",
     "SELECT s.id FROM checkout_sessions s WHERE (s.state = 'Completed' OR s.order_id IS NOT NULL)"
     " AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = s.order_id AND o.session_id = s.id) ORDER BY s.id", ALWAYS},
    {"orders.not_archived", "a session with an order is never archived",
     "SELECT s.id FROM checkout_sessions s WHERE s.is_archived <> 0"
     " AND (s.order_id IS NOT NULL OR EXISTS (SELECT 1 FROM orders o WHERE o.session_id = s.id)) ORDER BY s.id", ALWAYS},
    {"orders.cart_closed", "the cart of every order is Closed",
     "SELECT o.id FROM orders o JOIN carts c ON c.id = o.cart_id WHERE c.status <> 'Closed' ORDER BY o.id", ALWAYS},
    {"orders.one_live_session", "a cart has at most one unarchived session",
     "SELECT cart_id FROM checkout_sessions WHERE is_archived = 0 GROUP BY cart_id HAVING count(*) > 1", ALWAYS},

    /* holds */
    {"holds.card_order", "a card order has exactly one authorization naming it, for its grand total",
     "SELECT o.id FROM orders o WHERE o.payment_method = 'card' AND (SELECT count(*) FROM payment_authorizations a"
     " WHERE a.order_id = o.id AND a.amount = o.grand_total AND a.session_id = o.session_id) <> 1 ORDER BY o.id", ALWAYS},
    {"holds.only_card", "only a card order has a live authorization of its session, or one naming it",
     "SELECT o.id FROM orders o WHERE o.payment_method <> 'card' AND EXISTS (SELECT 1 FROM payment_authorizations a"
     " WHERE (a.session_id = o.session_id OR a.order_id = o.id) AND a." LIVE_HOLD ") ORDER BY o.id", ALWAYS},
    {"holds.order_exists", "an authorization names only an order of its own session",
     "SELECT a.id FROM payment_authorizations a WHERE a.order_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orders o"
     " WHERE o.id = a.order_id AND o.session_id = a.session_id) ORDER BY a.id", ALWAYS},
    {"holds.one_live_per_session", "no session has two live (not Voided or Expired) authorizations",
     "SELECT session_id FROM payment_authorizations WHERE " LIVE_HOLD " GROUP BY session_id HAVING count(*) > 1", ALWAYS},
    {"holds.one_per_session", "no session has two authorizations (its inputs never changed)",
     "SELECT session_id FROM payment_authorizations GROUP BY session_id HAVING count(*) > 1", SINGLE_AUTH},
    {"holds.voided_only_if_cancelled",
     "the hold of an order is voided (or marked for void) only when every unit was cancelled and nothing captured",
     "SELECT a.id FROM payment_authorizations a JOIN orders o ON o.id = a.order_id"
     " WHERE (a.status = 'Voided' OR a.void_pending <> 0) AND (o.status <> 'Cancelled' OR a.captured_amount <> 0)"
     " ORDER BY a.id", ALWAYS},
    {"holds.cancelled_released", "a Cancelled order with nothing captured has its hold voided or marked for void",
     "SELECT a.id FROM payment_authorizations a JOIN orders o ON o.id = a.order_id"
     " WHERE o.status = 'Cancelled' AND a.captured_amount = 0 AND a.status <> 'Voided' AND a.void_pending = 0"
     " ORDER BY a.id",
     ALWAYS},
    {"holds.cancelled_voided", "a Cancelled order with nothing captured has its hold voided at the gateway",
     "SELECT a.id FROM payment_authorizations a JOIN orders o ON o.id = a.order_id"
     " WHERE o.status = 'Cancelled' AND a.captured_amount = 0 AND a.status <> 'Voided' ORDER BY a.id",
     SETTLED},
    {"holds.void_pending", "no void decided is left undone at the gateway",
     "SELECT id FROM payment_authorizations WHERE void_pending <> 0 AND status <> 'Voided' ORDER BY id", SETTLED},
    {"holds.captured_is_payments", "an authorization's captured amount is the sum of its payments",
     "SELECT a.id FROM payment_authorizations a WHERE a.captured_amount <> COALESCE((SELECT SUM(p.amount)"
     " FROM payments p WHERE p.authorization_id = a.id), 0) ORDER BY a.id", ALWAYS},
    {"holds.within_amount", "captured + voided never exceeds the authorized amount",
     "SELECT id FROM payment_authorizations WHERE captured_amount + voided_amount > amount ORDER BY id", ALWAYS},
    {"holds.archived_none", "an archived session has no live authorization",
     "SELECT a.id FROM payment_authorizations a JOIN checkout_sessions s ON s.id = a.session_id"
     " WHERE s.is_archived <> 0 AND a." LIVE_HOLD " ORDER BY a.id",
     SETTLED},
    {"holds.orphan", "every live authorization backs an order (the checkout finished)",
     "SELECT id FROM payment_authorizations WHERE order_id IS NULL AND " LIVE_HOLD " ORDER BY id",
     SETTLED},

    /* stock and order lines */
    {"stock.summary", "an order line's summary: ordered = the line, fulfilled + cancelled <= ordered,"
                      " returned <= fulfilled",
     "SELECT oi.id FROM order_items oi LEFT JOIN order_item_summaries s ON s.order_item_id = oi.id"
     " WHERE s.id IS NULL OR s.quantity_ordered <> oi.quantity"
     " OR s.quantity_fulfilled + s.quantity_cancelled > s.quantity_ordered"
     " OR s.quantity_returned > s.quantity_fulfilled ORDER BY oi.id", ALWAYS},
    {"stock.cancelled_order", "a Cancelled order has every unit cancelled",
     "SELECT o.id FROM orders o WHERE o.status = 'Cancelled' AND EXISTS (SELECT 1 FROM order_items oi"
     " JOIN order_item_summaries s ON s.order_item_id = oi.id WHERE oi.order_id = o.id"
     " AND s.quantity_cancelled <> s.quantity_ordered) ORDER BY o.id", ALWAYS},

    /* ledger */
    {"ledger.prepaid", "an account's prepaidBalance is the sum of its prepaid ledger rows",
     "SELECT a.id FROM accounts a WHERE a.prepaid_balance <> COALESCE((SELECT SUM(l.amount) FROM balance_ledger l"
     " WHERE l.account_id = a.id AND l.kind = 'prepaid'), 0) ORDER BY a.id", ALWAYS},
    {"ledger.credit", "an account's creditUsed is the sum of its credit ledger rows",
     "SELECT a.id FROM accounts a WHERE a.credit_used <> COALESCE((SELECT SUM(l.amount) FROM balance_ledger l"
     " WHERE l.account_id = a.id AND l.kind = 'credit'), 0) ORDER BY a.id", ALWAYS},
    {"ledger.contract", "a contract's remaining is the sum of its contract ledger rows",
     "SELECT c.id FROM contracts c WHERE c.remaining <> COALESCE((SELECT SUM(l.amount) FROM balance_ledger l"
     " WHERE l.contract_id = c.id AND l.kind = 'contract'), 0) ORDER BY c.id", ALWAYS},
    {"ledger.credit_limit", "creditUsed never exceeds creditLimit",
     "SELECT id FROM accounts WHERE credit_used > credit_limit ORDER BY id", ALWAYS},
    {"ledger.order", "a balance-paid order's ledger rows sum to its total (+ credit, - prepaid or contract)"
                     " less what cancellations and returns gave back; a card order has none",
     "SELECT o.id FROM orders o WHERE COALESCE((SELECT SUM(l.amount) FROM balance_ledger l"
     " WHERE l.session_id = o.session_id OR l.order_id = o.id), 0) <> CASE"
     " WHEN o.payment_method IN ('purchase_order', 'net_terms') THEN o.grand_total - " GIVEN_BACK("o")
     " WHEN o.payment_method IN ('prepaid', 'contract') THEN " GIVEN_BACK("o") " - o.grand_total"
     " ELSE 0 END ORDER BY o.id", ALWAYS},
    {"ledger.order_kind", "an order's ledger rows are all of its payment method's balance",
     "SELECT o.id FROM orders o JOIN balance_ledger l ON (l.session_id = o.session_id OR l.order_id = o.id)"
     " WHERE l.kind <> CASE WHEN o.payment_method IN ('purchase_order', 'net_terms') THEN 'credit'"
     " WHEN o.payment_method = 'prepaid' THEN 'prepaid' WHEN o.payment_method = 'contract' THEN 'contract'"
     " ELSE '-' END ORDER BY o.id", ALWAYS},
    {"ledger.archived_zero", "an archived session's ledger rows sum to 0 for each balance",
     "SELECT s.id FROM checkout_sessions s WHERE s.is_archived <> 0 AND EXISTS (SELECT 1 FROM balance_ledger l"
     " WHERE l.session_id = s.id GROUP BY l.kind, l.contract_id HAVING SUM(l.amount) <> 0) ORDER BY s.id", ALWAYS},
    {"ledger.open_without_order", "no session without an order holds a balance (the checkout finished)",
     "SELECT s.id FROM checkout_sessions s WHERE s.order_id IS NULL AND EXISTS (SELECT 1 FROM balance_ledger l"
     " WHERE l.session_id = s.id GROUP BY l.kind, l.contract_id HAVING SUM(l.amount) <> 0) ORDER BY s.id",
     SETTLED},

    /* events */
    {"events.order_created", "every order has exactly one OrderCreated event",
     "SELECT o.id FROM orders o WHERE (SELECT count(*) FROM outbox_events e WHERE e.order_id = o.id"
     " AND e.type = 'OrderCreated') <> 1 ORDER BY o.id", ALWAYS},
    {"events.order_exists", "no event names an order that does not exist",
     "SELECT e.id FROM outbox_events e WHERE e.order_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orders o"
     " WHERE o.id = e.order_id) ORDER BY e.id", ALWAYS},
    {"events.session_exists", "no event names a session that does not exist",
     "SELECT e.id FROM outbox_events e WHERE e.session_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"
     " checkout_sessions s WHERE s.id = e.session_id) ORDER BY e.id", ALWAYS},
    {"events.released", "an Activated order has one OrderReleased, a PendingApproval one none, no order two",
     "SELECT o.id FROM (SELECT o.id AS id, o.status AS status, (SELECT count(*) FROM outbox_events e"
     " WHERE e.order_id = o.id AND e.type = 'OrderReleased') AS n FROM orders o) o"
     " WHERE o.n > 1 OR (o.status = 'Activated' AND o.n <> 1) OR (o.status = 'PendingApproval' AND o.n <> 0)"
     " ORDER BY o.id", ALWAYS},
    {"events.fulfillment_order", "an order has a fulfillment order exactly when it was released",
     "SELECT o.id FROM orders o WHERE (SELECT count(*) FROM fulfillment_orders f WHERE f.order_id = o.id) <>"
     " (SELECT count(*) FROM outbox_events e WHERE e.order_id = o.id AND e.type = 'OrderReleased') ORDER BY o.id", ALWAYS},

    /* nothing left running */
    {"settled.leases", "no session lease is held", "SELECT id FROM checkout_sessions WHERE lease_owner IS NOT NULL"
                                                   " ORDER BY id",
     SETTLED},
    {"settled.requests", "no checkout request is Queued or Running",
     "SELECT id || ' (' || kind || ' ' || status || ', ' || CASE WHEN runner IS NULL THEN 'sync' ELSE 'async' END"
     " || ')' FROM checkout_requests WHERE status IN ('Queued', 'Running') ORDER BY id",
     SETTLED},
    {"settled.changes", "no change to an order is Pending",
     "SELECT id FROM order_changes WHERE status = 'Pending' ORDER BY id",
     SETTLED},
};

/* ------------------------------------------------------ the checking */

typedef struct hits {
    long long n;
    char first[3][80];
} hits;

static void count_row(void *ud, int ncols, const char *const *cols)
{
    hits *h = ud;
    if (h->n < 3)
        snprintf(h->first[h->n], sizeof(h->first[0]), "%s", ncols > 0 && cols[0] ? cols[0] : "(null)");
    h->n++;
}

static void report(const char *name, const char *holds, const hits *h)
{
    fprintf(stderr, "INVARIANT BROKEN %s: %s; %lld break it:", name, holds, h->n);
    for (long long i = 0; i < h->n && i < 3; i++)
        fprintf(stderr, " %s", h->first[i]);
    fprintf(stderr, "%s\n", h->n > 3 ? " ..." : "");
}

/* Runs one violation query; 1 when broken (or the query failed), else 0. */
static int check_query(snap *s, const char *name, const char *holds, const char *sql)
{
    hits h = {0};
    if (snap_rows(s, sql, count_row, &h) < 0) {
        fprintf(stderr, "INVARIANT UNCHECKED %s: its query failed\n", name);
        return 1;
    }
    if (h.n)
        report(name, holds, &h);
    return h.n ? 1 : 0;
}

/* stock: initial = stock + ordered - cancelled (a cancellation returns
 * the stock; create_order takes it in the order's commit). */
static int check_stock(snap *s, const ckt_inv_opts *o)
{
    int bad = 0;
    for (size_t i = 0; i < o->nstock; i++) {
        char sql[1024], holds[256];
        snprintf(sql, sizeof(sql),
                 "SELECT p.id FROM products p WHERE p.id = '%s' AND p.stock + COALESCE((SELECT SUM(oi.quantity)"
                 " FROM order_items oi WHERE oi.product_id = p.id), 0) - COALESCE((SELECT SUM(x.quantity_cancelled)"
                 " FROM order_item_summaries x JOIN order_items oi ON oi.id = x.order_item_id"
                 " WHERE oi.product_id = p.id), 0) <> %lld",
                 o->stock[i].product_id, o->stock[i].initial);
        snprintf(holds, sizeof(holds), "initial stock %lld = stock + ordered - cancelled", o->stock[i].initial);
        bad += check_query(s, "stock.conserved", holds, sql);
    }
    return bad;
}

/* The gateway side, per authorization of the store's HTTP gateway. */
typedef struct gw_walk {
    fake_gateway *gw;
    long long rows, broken;
} gw_walk;

static void gw_row(void *ud, int ncols, const char *const *c)
{
    gw_walk *w = ud;
    if (ncols < 5 || !c[0] || !c[1] || !c[2])
        return;
    const char *id = c[0], *gid = c[1], *status = c[2];
    long long captured = c[3] ? atoll(c[3]) : 0, rest_released = c[4] ? atoll(c[4]) : 0;
    int voided = fgw_voided(w->gw, gid);
    long long gw_captured = (long long)fgw_captured_amount(w->gw, gid);
    w->rows++;
    const char *why = NULL;
    if (strcmp(status, "Voided") == 0 && !voided)
        why = "Voided in the database, still held at the gateway";
    else if (strcmp(status, "Voided") != 0 && strcmp(status, "Expired") != 0 && !rest_released && voided)
        why = "live in the database, voided at the gateway";
    else if (gw_captured != captured)
        why = "the gateway captured another amount than the database records";
    if (why) {
        if (w->broken < 3)
            fprintf(stderr, "INVARIANT BROKEN holds.gateway: %s: %s (db %s captured %lld, gateway voided %d"
                            " captured %lld)\n",
                    id, why, status, captured, voided, gw_captured);
        w->broken++;
    }
}

static int check_gateway(snap *s, fake_gateway *gw)
{
    gw_walk w = {.gw = gw};
    if (snap_rows(s,
                  "SELECT id, gateway_auth_id, status, captured_amount, rest_released FROM payment_authorizations"
                  " WHERE gateway = 'http' ORDER BY id",
                  gw_row, &w) < 0)
        return 1;
    int bad = w.broken ? 1 : 0;
    /* Every hold the gateway granted is in the database (a crash between
     * the gateway's answer and the commit is resumed with the same key). */
    if (fgw_holds(gw) != w.rows) {
        fprintf(stderr, "INVARIANT BROKEN holds.gateway_count: every hold the gateway granted is one authorization"
                        " row; gateway %d, database %lld\n",
                fgw_holds(gw), w.rows);
        bad++;
    }
    return bad;
}

int ckt_invariants_check(ckt_daemon *d, const ckt_inv_opts *o)
{
    static const ckt_inv_opts none = {0};
    if (!o)
        o = &none;
    snap s;
    if (snap_open(&s, d) < 0) {
        snap_close(&s);
        return 1;
    }
    int bad = 0;
    for (size_t i = 0; i < sizeof(INVARIANTS) / sizeof(INVARIANTS[0]); i++) {
        const inv *v = &INVARIANTS[i];
        if ((v->when == SETTLED && !o->settled) || (v->when == SINGLE_AUTH && !o->one_auth_per_session))
            continue;
        bad += check_query(&s, v->name, v->holds, v->sql);
    }
    bad += check_stock(&s, o);
    if (o->gw)
        bad += check_gateway(&s, o->gw);
    snap_close(&s);
    return bad;
}

void ckt_invariants_expect(ckt_daemon *d, const ckt_inv_opts *o, const char *what)
{
    int bad = ckt_invariants_check(d, o);
    if (bad)
        fprintf(stderr, "%d invariant(s) broken %s (database %s)\n", bad, what ? what : "",
                d->pg ? d->pg_db : d->db_path);
    assert_int_equal(bad, 0);
}

/* ------------------------------------------------ the shop they check */

const char *const ckt_pay_names[] = {"card", "purchase_order", "net_terms", "prepaid", "contract", NULL};

void ckt_mfx_setup(ckt_mfx *m, const ckt_mfx_opts *o)
{
    memset(m, 0, sizeof(*m));
    ckt_fx_opts fo = {.faults = o->faults, .extra = o->extra, .fake_gateway = 1, .balances = 1,
                      .credit_limit = o->credit_limit, .prepaid = o->prepaid};
    ckt_fx_setup(&m->base, &fo);
    ckt_daemon *d = &m->d;
    ckt_resp r = ckt_httpf(d, "POST", "/v1/contracts", CKT_ADMIN_KEY, "{\"accountId\":\"%s\",\"amount\":%lld}",
                           m->acct, o->contract);
    ckt_expect_status(&r, 201);
    snprintf(m->contract, sizeof(m->contract), "%s", ckt_str(r.json, "id"));
    ckt_free(&r);
    ckt_user(d, "[\"approver\"]", m->approver, m->akey);
    ckt_give_account(d, m->approver, m->acct);
    ckt_user(d, "[\"fulfillment\"]", m->ful, m->fkey);
    for (int i = 0; i < CKT_MFX_PRODUCTS; i++) {
        char sku[64];
        snprintf(sku, sizeof(sku), "MFX-%d-%ld", i, (long)getpid());
        ckt_product_spec p = {.sku = sku, .stock = o->stock};
        ckt_fx_product(&m->base, &p, m->prods[i]);
        m->stock[i] = (ckt_inv_stock){m->prods[i], o->stock};
    }
}

void ckt_mfx_payment(const ckt_mfx *m, ckt_pay method, const char *tag, char *out, size_t n)
{
    switch (method) {
    case CKT_PAY_CARD: snprintf(out, n, "{\"method\":\"card\",\"cardToken\":\"tok_visa\"}"); break;
    case CKT_PAY_PO: snprintf(out, n, "{\"method\":\"purchase_order\",\"poNumber\":\"PO-%s\"}", tag); break;
    case CKT_PAY_NET_TERMS: snprintf(out, n, "{\"method\":\"net_terms\",\"poNumber\":\"NT-%s\"}", tag); break;
    case CKT_PAY_PREPAID: snprintf(out, n, "{\"method\":\"prepaid\"}"); break;
    default: snprintf(out, n, "{\"method\":\"contract\",\"contractId\":\"%s\"}", m->contract); break;
    }
}

ckt_inv_opts ckt_mfx_inv(ckt_mfx *m, int settled)
{
    return (ckt_inv_opts){.gw = settled ? m->gw : NULL, .stock = m->stock, .nstock = CKT_MFX_PRODUCTS,
                          .settled = settled};
}

const char *ckt_reason(const ckt_resp *r)
{
    json_t *v = ckt_get(r->json, "0.reason");
    return json_is_string(v) ? json_string_value(v) : "";
}
