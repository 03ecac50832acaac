/* test_session_progress.c: the one function that moves a session's progress
 * checks the transition: known steps only, never out of Completed, from the
 * expected step, under the lease holder; state follows lastSuccessfulStep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkout/session.h"
#include "store/migrations.h"

static char path[64];
static ck_db *db;

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/ck-progress-%d.db", (int)getpid());
    unlink(path);
    char url[80];
    snprintf(url, sizeof(url), "sqlite:%s", path);
    ck_error err;
    assert_int_equal(ck_db_open(&db, url, NULL, &err), 0);
    assert_int_equal(ck_migrate(db, &err), 0);
    /* One session; the rows it refers to are not what this test is about. */
    assert_int_equal(ck_db_exec(db, NULL, &err, "PRAGMA foreign_keys = OFF", ""), 0);
    assert_int_equal(ck_db_exec(db, NULL, &err,
                                "INSERT INTO checkout_sessions (id, cart_id, buyer_id, account_id, store_id, flow_id,"
                                " flow_version, state, created_at, updated_at)"
                                " VALUES ('cs_1', 'cart_1', 'usr_1', 'acct_1', 'store_1', 'flow_standard', 1, 'Start', 0, 0)",
                                ""),
                     0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ck_db_close(db);
    char wal[80], shm[80];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    snprintf(shm, sizeof(shm), "%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    return 0;
}

static void expect_progress(const char *last, const char *state)
{
    ck_error err;
    ck_stmt *st = NULL;
    assert_int_equal(ck_db_one(db, &st, &err,
                               "SELECT COALESCE(last_successful_step, ''), state FROM checkout_sessions WHERE id = 'cs_1'",
                               ""),
                     1);
    assert_string_equal(ck_col_text(st, 0), last);
    assert_string_equal(ck_col_text(st, 1), state);
    ck_db_done(st);
}

static void state_follows_last_step(void **state)
{
    (void)state;
    ck_error err;
    assert_int_equal(ck_session_set_progress(db, ck_flow_standard(), "cs_1", CK_ANY_STEP, "tax", NULL, &err), 1);
    expect_progress("tax", "business_rules");
    assert_int_equal(ck_session_set_progress(db, ck_flow_standard(), "cs_1", "tax", NULL, NULL, &err), 1);
    expect_progress("", "Start");
    assert_int_equal(ck_session_set_progress(db, ck_flow_standard(), "cs_1", "", "payment", NULL, &err), 1);
    expect_progress("payment", "create_order");
}

static void checks_the_transition(void **state)
{
    (void)state;
    ck_error err;
    /* Unknown steps are refused, Start is not a step. */
    assert_true(ck_session_set_progress(db, ck_flow_standard(), "cs_1", CK_ANY_STEP, "teleport", NULL, &err) < 0);
    assert_true(ck_session_set_progress(db, ck_flow_standard(), "cs_1", CK_ANY_STEP, "Start", NULL, &err) < 0);
    /* From a step it is not at: nothing moves. */
    assert_int_equal(ck_session_set_progress(db, ck_flow_standard(), "cs_1", "shipping", "tax", NULL, &err), 0);
    expect_progress("", "Start");
    /* Under a lease: only its holder moves it. */
    assert_int_equal(ck_db_exec(db, NULL, &err, "UPDATE checkout_sessions SET lease_owner = 'node_a' WHERE id = 'cs_1'", ""), 0);
    assert_int_equal(ck_session_set_progress(db, ck_flow_standard(), "cs_1", CK_ANY_STEP, "pricing", "node_b", &err), 0);
    assert_int_equal(ck_session_set_progress(db, ck_flow_standard(), "cs_1", CK_ANY_STEP, "pricing", "node_a", &err), 1);
    expect_progress("pricing", "shipping");
    /* After the last step the session is Completed and never moves again. */
    assert_int_equal(ck_session_set_progress(db, ck_flow_standard(), "cs_1", CK_ANY_STEP, "close_cart", NULL, &err), 1);
    expect_progress("close_cart", "Completed");
    assert_int_equal(ck_session_set_progress(db, ck_flow_standard(), "cs_1", CK_ANY_STEP, "business_rules", NULL, &err), 0);
    expect_progress("close_cart", "Completed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(state_follows_last_step, setup, teardown),
        cmocka_unit_test_setup_teardown(checks_the_transition, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
