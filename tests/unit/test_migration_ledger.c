/* test_migration_ledger.c: migrations that change existing data. 0010:
 * orders released before fulfillment orders existed get one (so they can be
 * fulfilled); orders still waiting for approval do not. 0007, below: on a
 * database made before opening amounts and admin changes were ledger rows. After it, the ledger
 * reproduces every balance (API.md, "Payment step by method"): the
 * difference becomes one `adjust` row per account or contract, sorted
 * before the account's other rows; balances already explained get none.
 * SQLite file in a temporary directory (the migration's SQL runs on
 * PostgreSQL in every PostgreSQL suite's fresh database). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkout/db.h"
#include "checkout/sys/db_backend.h"
#include "store/migrations.h"

static ck_db *db;
static char dir[256], file[300];

static void exec_ok(const char *sql)
{
    ck_error err;
    ck_error_clear(&err);
    int rc = ck_db_driver_of(db)->exec_script(db, sql, &err);
    if (rc != 0)
        fail_msg("'%s' failed: %d %s", sql, rc, err.message);
}

static int64_t one_int(const char *sql)
{
    ck_error err;
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(db, &st, &err, sql, ""), 1);
    int64_t v = ck_col_int(st, 0);
    ck_db_done(st);
    return v;
}

/* Applies the migrations before version `upto` as an older release did;
 * returns how many. */
static int migrate_until(int upto)
{
    int applied = 0;
    exec_ok("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
    for (int i = 0; i < ck_migration_count && ck_migrations[i].version < upto; i++) {
        exec_ok(ck_migrations[i].sql);
        char sql[200];
        snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations VALUES (%d, 'old', 0)", ck_migrations[i].version);
        exec_ok(sql);
        applied++;
    }
    return applied;
}

static void backfills_opening_rows(void **state)
{
    (void)state;
    ck_error err;
    ck_error_clear(&err);
    /* The schema as it was before 0007. */
    assert_true(migrate_until(7) >= 6);
    /* acct A: prepaid 10000 set at creation, then a 3264 debit with its row.
     * acct B: nothing. acct C: prepaid explained by its rows already.
     * Contract K of A: 50000 opened, 2000 drawn (with its row). */
    exec_ok("INSERT INTO accounts (id, name, is_buyer, credit_limit, credit_used, prepaid_balance, hazmat_approved,"
            " country, created_at, updated_at) VALUES"
            " ('acct_01AAAAAAAAAAAAAAAAAAAAAAAA', 'A', 1, 0, 0, 6736, 0, 'US', 1000, 1000),"
            " ('acct_01BBBBBBBBBBBBBBBBBBBBBBBB', 'B', 1, 0, 0, 0, 0, 'US', 1000, 1000),"
            " ('acct_01CCCCCCCCCCCCCCCCCCCCCCCC', 'C', 1, 0, 0, 500, 0, 'US', 1000, 1000)");
    exec_ok("INSERT INTO contracts (id, account_id, amount, remaining, active, created_at, updated_at) VALUES"
            " ('ctr_01KKKKKKKKKKKKKKKKKKKKKKKK', 'acct_01AAAAAAAAAAAAAAAAAAAAAAAA', 50000, 48000, 1, 1500, 1500)");
    exec_ok("INSERT INTO balance_ledger (id, account_id, contract_id, kind, amount, entry, session_id, order_id,"
            " created_at) VALUES"
            " ('led_02AAAAAAAAAAAAAAAAAAAAAAAA', 'acct_01AAAAAAAAAAAAAAAAAAAAAAAA', NULL, 'prepaid', -3264, 'debit',"
            "  'cs_x', 'ord_x', 2000),"
            " ('led_02BBBBBBBBBBBBBBBBBBBBBBBB', 'acct_01AAAAAAAAAAAAAAAAAAAAAAAA', 'ctr_01KKKKKKKKKKKKKKKKKKKKKKKK',"
            "  'contract', -2000, 'debit', 'cs_y', 'ord_y', 2100),"
            " ('led_02CCCCCCCCCCCCCCCCCCCCCCCC', 'acct_01CCCCCCCCCCCCCCCCCCCCCCCC', NULL, 'prepaid', 500, 'release',"
            "  'cs_z', NULL, 2200)");

    assert_int_equal(ck_migrate(db, &err), 0);

    assert_int_equal(one_int("SELECT COUNT(*) FROM schema_migrations"), ck_migration_count);
    /* Every balance is its ledger's sum now. */
    assert_int_equal(one_int("SELECT COUNT(*) FROM accounts a WHERE a.prepaid_balance <> COALESCE((SELECT SUM(amount)"
                             " FROM balance_ledger l WHERE l.account_id = a.id AND l.kind = 'prepaid'), 0)"),
                     0);
    assert_int_equal(one_int("SELECT COUNT(*) FROM contracts c WHERE c.remaining <> COALESCE((SELECT SUM(amount)"
                             " FROM balance_ledger l WHERE l.contract_id = c.id AND l.kind = 'contract'), 0)"),
                     0);
    /* One opening row each where one was missing, none for B and C. */
    assert_int_equal(one_int("SELECT COUNT(*) FROM balance_ledger WHERE entry = 'adjust'"), 2);
    assert_int_equal(one_int("SELECT amount FROM balance_ledger WHERE entry = 'adjust' AND kind = 'prepaid'"), 10000);
    assert_int_equal(one_int("SELECT amount FROM balance_ledger WHERE entry = 'adjust' AND kind = 'contract'"), 50000);
    /* Dated at the creation and sorted first among the account's rows. */
    assert_int_equal(one_int("SELECT created_at FROM balance_ledger WHERE entry = 'adjust' AND kind = 'prepaid'"), 1000);
    assert_int_equal(one_int("SELECT COUNT(*) FROM balance_ledger l WHERE l.entry = 'adjust' AND EXISTS (SELECT 1"
                             " FROM balance_ledger o WHERE o.account_id = l.account_id AND o.entry <> 'adjust'"
                             " AND o.id < l.id)"),
                     0);
    assert_int_equal(one_int("SELECT COUNT(*) FROM balance_ledger WHERE entry = 'adjust' AND (length(id) <> 30"
                             " OR substr(id, 1, 4) <> 'led_' OR memo IS NULL)"),
                     0);
    /* The holds' new column is there. */
    assert_int_equal(one_int("SELECT COUNT(void_pending) FROM payment_authorizations"), 0);
}

static void makes_fulfillment_orders(void **state)
{
    (void)state;
    ck_error err;
    ck_error_clear(&err);
    migrate_until(10);
    /* Two orders of an older release: one released, one waiting for approval.
     * (Only the orders' own columns matter here: the rows they point to are
     * left out.) */
    exec_ok("PRAGMA foreign_keys=OFF");
    exec_ok("INSERT INTO orders (id, order_number, cart_id, session_id, store_id, account_id, buyer_id, status,"
            " currency, payment_method, subtotal, adjustments, shipping, tax, grand_total, shipping_address,"
            " shipping_method_id, created_at, updated_at) VALUES"
            " ('ord_01AAAAAAAAAAAAAAAAAAAAAAAA', 'CK-1', 'cart_a', 'cs_a', 'store_s', 'acct_a', 'usr_a', 'Activated',"
            "  'USD', 'card', 5997, 0, 1200, 495, 7692, '{}', 'shm_a', 1000, 2000),"
            " ('ord_01BBBBBBBBBBBBBBBBBBBBBBBB', 'CK-2', 'cart_b', 'cs_b', 'store_s', 'acct_a', 'usr_a',"
            "  'PendingApproval', 'USD', 'net_terms', 5997, 0, 1200, 495, 7692, '{}', 'shm_a', 1000, 2000)");
    assert_int_equal(ck_migrate(db, &err), 0);
    assert_int_equal(one_int("SELECT COUNT(*) FROM fulfillment_orders"), 1);
    assert_int_equal(one_int("SELECT COUNT(*) FROM fulfillment_orders WHERE id = 'fo_01AAAAAAAAAAAAAAAAAAAAAAAA'"
                             " AND order_id = 'ord_01AAAAAAAAAAAAAAAAAAAAAAAA' AND store_id = 'store_s'"
                             " AND status = 'Allocated' AND created_at = 2000"),
                     1);
    assert_int_equal(one_int("SELECT COUNT(*) FROM orders WHERE shipping_state = 'open'"), 2);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/ck_migration_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/old.db", dir);
    char url[400];
    snprintf(url, sizeof(url), "sqlite:%s", file);
    ck_db_options opts = {.busy_timeout_ms = 100, .synchronous_full = 0};
    ck_error err;
    ck_error_clear(&err);
    assert_int_equal(ck_db_open(&db, url, &opts, &err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ck_db_close(db);
    db = NULL;
    char path[400];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s%s", file, suffix[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(backfills_opening_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(makes_fulfillment_orders, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
