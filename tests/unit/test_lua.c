/* test_lua.c: the lua step sandbox (flows/lua.c) on real Lua 5.4: compile
 * errors with their line, a grand-total rule on both sides of its bound,
 * the cart's types, every sandbox escape we know of, each limit (with the
 * time every hostile script takes, bounded generously), runtime errors,
 * isolation between calls, messages, and two threads at once. Every case
 * that runs a script runs in both state modes (fresh and pooled). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "checkout/error.h"
#include "flows/lua.h"

static const char CART[] =
    "{\"items\":[{\"sku\":\"A-1\",\"quantity\":2,\"salesPrice\":12500,\"adjustment\":-500},"
    "{\"sku\":\"B-2\",\"quantity\":1,\"salesPrice\":99900,\"adjustment\":0},"
    "{\"sku\":\"C-3\",\"quantity\":10,\"salesPrice\":150,\"adjustment\":0}],"
    "\"totals\":{\"subtotal\":125400,\"adjustments\":-500,\"shipping\":1000,\"tax\":25180,\"grandTotal\":151080},"
    "\"account\":{\"id\":\"acc_1\",\"name\":\"Acme\",\"country\":\"DE\"},"
    "\"inputs\":{\"poNumber\":\"PO-7\",\"note\":null,\"rate\":0.19},\"paymentMethod\":\"card\"}";

static const ck_lua_mode MODES[] = {CK_LUA_FRESH, CK_LUA_POOLED};

static json_t *cart_with_total(long long total)
{
    json_t *c = json_loads(CART, 0, NULL);
    assert_non_null(c);
    json_object_set_new(json_object_get(c, "totals"), "grandTotal", json_integer(total));
    return c;
}

/* This thread's CPU time: what the sandbox's time limit counts, so that a
 * loaded machine's waits make neither the limit nor this check fire. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void compile_ok(const char *src, ck_lua_chunk *out)
{
    char msg[256];
    int rc = ck_lua_compile(src, "check", out, msg, sizeof(msg));
    if (rc != 0)
        fail_msg("does not compile: %s", msg);
}

/* Compiles and runs src over cart in mode; the verdict, msg filled, *secs the CPU time the check took. */
static int run_in(ck_lua_mode mode, const char *src, const json_t *cart, char *msg, size_t msglen, double *secs)
{
    ck_lua_chunk c;
    compile_ok(src, &c);
    double t0 = now_s();
    int rc = ck_lua_check_with(mode, &c, cart, msg, msglen);
    if (secs)
        *secs = now_s() - t0;
    ck_lua_chunk_free(&c);
    return rc;
}

/* src must give rc with a message containing want, in both modes, in < 2 s of CPU time. */
static void expect(const char *src, int rc, const char *want)
{
    json_t *cart = json_loads(CART, 0, NULL);
    for (size_t m = 0; m < 2; m++) {
        char msg[512];
        double secs = 0;
        int got = run_in(MODES[m], src, cart, msg, sizeof(msg), &secs);
        if (got != rc || !strstr(msg, want))
            fail_msg("mode %zu: %s\n  gave %d '%s', wanted %d '%s'", m, src, got, msg, rc, want);
        if (secs >= 2.0)
            fail_msg("mode %zu: %s took %.3f s", m, src, secs);
    }
    json_decref(cart);
}

static void compile_errors_carry_the_line(void **state)
{
    (void)state;
    ck_lua_chunk c = {(char *)"x", 1};
    char msg[256];
    assert_int_equal(ck_lua_compile("function check(cart)\n  return true\n\nend end\n", "rule", &c, msg, sizeof(msg)),
                     CK_EINVALID);
    assert_null(c.code);
    assert_non_null(strstr(msg, "rule:4:"));
    assert_int_equal(ck_lua_compile("function check(cart)\n  local x = = 1\nend\n", "rule", &c, msg, sizeof(msg)),
                     CK_EINVALID);
    assert_non_null(strstr(msg, "rule:2:"));

    /* too long a source is refused by size, before Lua sees it */
    size_t n = CK_LUA_SOURCE_MAX + 1;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[n] = '\0';
    assert_int_equal(ck_lua_compile(big, "rule", &c, msg, sizeof(msg)), CK_EINVALID);
    assert_non_null(strstr(msg, "at most 65536"));
    free(big);

    /* source only: a bytecode "script" does not compile */
    ck_lua_chunk good;
    compile_ok("function check(c) return true end", &good);
    char *fake = malloc(good.len + 1);
    memcpy(fake, good.code, good.len);
    fake[good.len] = '\0';
    assert_int_equal(ck_lua_compile(fake, "rule", &c, msg, sizeof(msg)), CK_EINVALID);
    assert_non_null(strstr(msg, "binary"));
    free(fake);
    ck_lua_chunk_free(&good);
    ck_lua_chunk_free(NULL);
}

static const char GRAND_TOTAL_RULE[] = "function check(cart)\n"
                                       "  if cart.totals.grandTotal > 1000000 then\n"
                                       "    return false, \"orders over 10,000.00 need a quote\"\n"
                                       "  end\n"
                                       "  return true\n"
                                       "end\n";

static void grand_total_rule(void **state)
{
    (void)state;
    ck_lua_chunk c;
    compile_ok(GRAND_TOTAL_RULE, &c);
    for (size_t m = 0; m < 2; m++) {
        char msg[128];
        json_t *under = cart_with_total(1000000), *over = cart_with_total(1000001);
        assert_int_equal(ck_lua_check_with(MODES[m], &c, under, msg, sizeof(msg)), 1);
        assert_int_equal(ck_lua_check_with(MODES[m], &c, over, msg, sizeof(msg)), 0);
        assert_string_equal(msg, "orders over 10,000.00 need a quote");
        /* the same chunk, the same answer, again */
        assert_int_equal(ck_lua_check_with(MODES[m], &c, over, msg, sizeof(msg)), 0);
        assert_int_equal(ck_lua_check_with(MODES[m], &c, under, msg, sizeof(msg)), 1);
        json_decref(under);
        json_decref(over);
    }
    ck_lua_chunk_free(&c);
}

static void cart_types(void **state)
{
    (void)state;
    /* integers stay integers, reals are floats, items are a sequence, null is nil */
    expect("function check(cart)\n"
           "  if math.type(cart.totals.grandTotal) ~= 'integer' then return false, 'total not integer' end\n"
           "  if math.type(cart.inputs.rate) ~= 'float' then return false, 'rate not float' end\n"
           "  if cart.inputs.note ~= nil then return false, 'null is not nil' end\n"
           "  local n, sum = 0, 0\n"
           "  for i, it in ipairs(cart.items) do\n"
           "    n = n + 1\n"
           "    if math.type(it.quantity) ~= 'integer' then return false, 'qty' end\n"
           "    sum = sum + it.quantity * it.salesPrice + it.adjustment\n"
           "  end\n"
           "  if n ~= 3 or #cart.items ~= 3 then return false, 'items ' .. n end\n"
           "  if math.type(sum) ~= 'integer' or sum ~= 125900 then return false, 'sum ' .. sum end\n"
           "  if cart.account.country ~= 'DE' or cart.paymentMethod ~= 'card' then return false, 'strings' end\n"
           "  return false, 'all types right: ' .. cart.items[2].sku\n"
           "end\n",
           0, "all types right: B-2");
}

static void verdicts(void **state)
{
    (void)state;
    expect("x = 1", 0, "the script defines no function check(cart)");
    expect("function check(c) return false end", 0, "check returned false without a message");
    expect("function check(c) return false, \"\" end", 0, "check returned false without a message");
    expect("function check(c) return 1 end", 0, "check must return true, or false and a message; it returned number");
    expect("function check(c) end", 0, "it returned nil");
    expect("function check(c) return true, 'ignored' end", 1, "");
}

static void escapes(void **state)
{
    (void)state;
    expect("function check(c) os.execute('touch /tmp/pwned') return true end", 0,
           "runtime error: check:1: attempt to index a nil value (global 'os')");
    expect("function check(c) io.open('/etc/passwd') return true end", 0, "attempt to index a nil value (global 'io')");
    expect("function check(c) require('os') return true end", 0, "attempt to call a nil value (global 'require')");
    expect("function check(c) load('return 1')() return true end", 0, "attempt to call a nil value (global 'load')");
    expect("function check(c) loadstring('return 1')() return true end", 0,
           "attempt to call a nil value (global 'loadstring')");
    expect("function check(c) dofile('/etc/passwd') return true end", 0, "attempt to call a nil value (global 'dofile')");
    expect("function check(c) loadfile('/etc/passwd') return true end", 0,
           "attempt to call a nil value (global 'loadfile')");
    expect("function check(c) debug.getinfo(1) return true end", 0, "attempt to index a nil value (global 'debug')");
    expect("function check(c) collectgarbage('stop') return true end", 0,
           "attempt to call a nil value (global 'collectgarbage')");
    expect("function check(c) print('x') return true end", 0, "attempt to call a nil value (global 'print')");
    expect("function check(c) package.loadlib('libc.so.6', 'system') return true end", 0,
           "attempt to index a nil value (global 'package')");
    expect("function check(c) string.dump(check) return true end", 0, "attempt to call a nil value (field 'dump')");
    expect("function check(c) ('x'):dump() return true end", 0, "attempt to call a nil value (method 'dump')");
    expect("function check(c) return getmetatable('').__index.dump end", 0, "attempt to index a nil value");
    expect("function check(c) setmetatable(getmetatable(''), {}) return true end", 0,
           "bad argument #1 to 'setmetatable' (table expected, got nil)");
    expect("function check(c) rawset('', 'x', 1) return true end", 0, "bad argument #1 to 'rawset' (table expected");
    expect("function check(c) math.randomseed(1) return true end", 0, "(field 'randomseed')");
    expect("function check(c) string.unpack('z', 'x') return true end", 0, "(field 'unpack')");
    expect("function check(c) setmetatable({}, {__gc = function() end}) return true end", 0,
           "setmetatable: __gc metamethods are not allowed");
}

static void limits(void **state)
{
    (void)state;
    const char *instr = "instruction limit (1000000) exceeded", *mem = "memory limit (8 MiB) exceeded";
    expect("function check(c) while true do end end", 0, instr);
    expect("function check(c) local t = {} for i = 1, 1e9 do t[i] = i end end", 0, mem);
    expect("function check(c) local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100000) .. i end end", 0, mem);
    expect("function check(c) local t = {} for i = 1, 1e9 do t[#t + 1] = {i, i, i, i, i, i, i, i} end end", 0, mem);
    expect("function check(c) return string.rep('x', 2^40) end", 0, mem);
    expect("function check(c) return string.rep('x', 1e8) end", 0, mem);
    expect("function check(c) return ('xy'):rep(1e7, ',') end", 0, mem);
    expect("function check(c) local s = 'x' while true do s = s .. s end end", 0, mem);
    expect("function check(c) local s = '' for i = 1, 1e9 do s = s .. 'x' end end", 0, instr);
    expect("function check(c) local p = {} for i = 1, 50000 do p[i] = 'x' end\n"
           "  for i = 1, 1e9 do table.concat(p) end end",
           0, instr);
    /* C loops that run no instruction */
    expect("function check(c) return #string.rep('', 2^50) == 0 and #string.rep('', 2^50, '') == 0 end", 1, "");
    expect("function check(c) table.move({}, 1, math.maxinteger - 1, 2) end", 0, instr);
    expect("function check(c) local t = setmetatable({}, {__len = function() return 1e15 end})\n"
           "  table.insert(t, 1, 'x') end",
           0, "table.insert: tables with metatables are not allowed");
    expect("function check(c) local s = string.rep('a', 100000) for i = 1, 1e9 do utf8.len(s) end end", 0, instr);
    /* pattern bombs: catastrophic backtracking, and gsub on a large subject */
    expect("function check(c) return string.find(string.rep('a', 200000), string.rep('a?', 200000) .. string.rep('a', "
           "200000)) end",
           0, instr);
    expect("function check(c) return string.find(string.rep('a', 30), string.rep('a?', 30) .. string.rep('a', 30)) end",
           0, instr);
    expect("function check(c) return string.match(string.rep('a', 5000), string.rep('.-', 10) .. 'b') end", 0, instr);
    expect("function check(c) for k in string.gmatch(string.rep('a', 5000), '(.-)(.-)(.-)b') do end end", 0, instr);
    expect("function check(c) local s = string.rep('a', 1000000) s = s:gsub('a', 'bb') end", 0, mem);
    expect("function check(c) local s = string.rep('a ', 400000) for i = 1, 1e9 do s:gsub('%s+', '') end end", 0,
           instr);
    /* ordinary patterns still work */
    expect("function check(c) local a, b = ('A-1234'):match('^(%u+)%-(%d+)$') local t = ('  x  '):gsub('^%s*(.-)%s*$', "
           "'%1')\n  return a == 'A' and b == '1234' and t == 'x' and ('a,b,c'):find(',', 1, true) == 2 end",
           1, "");
    /* equal 1 MiB strings compared in a loop: a comparison runs no instruction, the clock stops it */
    expect("function check(c) local a, b = string.rep('a', 1000000), string.rep('a', 999999) .. 'a'\n"
           "  while a == b do end end",
           0, "time limit (500 ms) exceeded");
}

static void catching_the_limit(void **state)
{
    (void)state;
    const char *instr = "instruction limit (1000000) exceeded", *mem = "memory limit (8 MiB) exceeded";
    expect("function check(c) while true do pcall(function() while true do end end) end end", 0, instr);
    expect("function check(c) for i = 1, 1e9 do xpcall(function() while true do end end, function(e) return e end) end "
           "return true end",
           0, instr);
    expect("function check(c) local ok = pcall(string.rep, 'x', 1e8) return true end", 0, mem);
    expect("function check(c) local ok = pcall(function() local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(9e5) .. i "
           "end end)\n  return true end",
           0, mem);
    /* coroutines: the hook follows them, resume cannot swallow a limit, and many short ones are paid for */
    expect("function check(c) coroutine.wrap(function() while true do end end)() end", 0, instr);
    expect("function check(c) while true do coroutine.resume(coroutine.create(function() while true do end end)) end "
           "end",
           0, instr);
    expect("function check(c) for i = 1, 1e9 do local co = coroutine.create(function() for j = 1, 300 do end end)\n"
           "  coroutine.resume(co) end end",
           0, instr);
    expect("function check(c) local co = coroutine.create(function() local x <close> = setmetatable({}, {__close = "
           "function() while true do end end}) coroutine.yield() end)\n"
           "  coroutine.resume(co) coroutine.close(co) return true end",
           0, instr);
}

static void runtime_errors(void **state)
{
    (void)state;
    expect("function check(c) error('no') end", 0, "runtime error: check:1: no");
    expect("function check(c)\n  local x = nil\n  return x.y\nend", 0,
           "runtime error: check:3: attempt to index a nil value (local 'x')");
    expect("function check(c) error({code = 1}) end", 0, "runtime error: (error object is a table value)");
    expect("function check(c) error(setmetatable({}, {__tostring = function() while true do end end})) end", 0,
           "(error object is a table value)");
    expect("function check(c) error(42) end", 0, "runtime error: 42");
    expect("function check(c) local x <close> = setmetatable({}, {__close = function() error('in close') end})\n"
           "  return true end",
           0, "runtime error: check:1: in close");
    expect("error('at load')", 0, "runtime error: check:1: at load");
    /* Lua's stack would grow to 16 MiB before "stack overflow": the memory cap comes first */
    expect("local function f(n) return 1 + f(n + 1) end\nfunction check(c) return f(1) end", 0,
           "memory limit (8 MiB) exceeded");
    expect("function check(c) local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x end", 0,
           "stack overflow");
    expect("function check(c) return string.gsub('x', 'x', function() return check(c) end) end", 0, "stack overflow");
}

static void messages(void **state)
{
    (void)state;
    json_t *cart = json_loads(CART, 0, NULL);
    for (size_t m = 0; m < 2; m++) {
        char msg[16];
        assert_int_equal(run_in(MODES[m], "function check(c) return false, 'abcdefghijklmnopqrstuvwxyz' end", cart, msg,
                                sizeof(msg), NULL),
                         0);
        assert_string_equal(msg, "abcdefghijkl...");
        /* cut at a character boundary: 'é' is two bytes */
        assert_int_equal(run_in(MODES[m], "function check(c) return false, 'abcdefghijk\\u{e9}\\u{e9}\\u{e9}' end", cart,
                                msg, sizeof(msg), NULL),
                         0);
        assert_string_equal(msg, "abcdefghijk...");
        char big[64];
        assert_int_equal(run_in(MODES[m], "function check(c) return false, 'a\\0b\\255c\\u{e9}' end", cart, big,
                                sizeof(big), NULL),
                         0);
        assert_string_equal(big, "a?b?c\xc3\xa9");
        json_t *s = json_string(big);
        assert_non_null(s); /* jansson takes it as it is */
        json_decref(s);
    }
    json_decref(cart);
}

static void nothing_carries_over(void **state)
{
    (void)state;
    const char *src = "function check(c)\n"
                      "  if seen or string.seen or math.pi ~= 3.141592653589793 then return false, 'state carried over' end\n"
                      "  seen = true string.seen = true math.pi = 3 _G.x = 1\n"
                      "  local mt = {} setmetatable(_G, mt)\n"
                      "  return true\n"
                      "end\n";
    ck_lua_chunk c;
    compile_ok(src, &c);
    json_t *cart = json_loads(CART, 0, NULL);
    for (size_t m = 0; m < 2; m++)
        for (int i = 0; i < 3; i++) {
            char msg[128];
            int rc = ck_lua_check_with(MODES[m], &c, cart, msg, sizeof(msg));
            if (rc != 1)
                fail_msg("mode %zu call %d: %d %s", m, i, rc, msg);
        }
    assert_int_equal(ck_lua_check(&c, cart, NULL, 0), 1);
    ck_lua_chunk_free(&c);

    /* what one script does to string methods (rawset on the table it sees
     * as string) is gone for the next script on the same thread */
    ck_lua_chunk tamper, probe;
    compile_ok("rawset(string, 'upper', function() return 'pwned' end)\n"
               "rawset(table, 'concat', nil)\n"
               "function check(c) return ('a'):upper() == 'A' or 'tampered' end",
               &tamper);
    compile_ok("function check(c) return ('a'):upper() == 'A' and string.upper('b') == 'B' and table.concat({}) == '' "
               "end",
               &probe);
    for (size_t m = 0; m < 2; m++) {
        char msg[128];
        ck_lua_check_with(MODES[m], &tamper, cart, msg, sizeof(msg));
        int rc = ck_lua_check_with(MODES[m], &probe, cart, msg, sizeof(msg));
        if (rc != 1)
            fail_msg("mode %zu: after tampering: %d %s", m, rc, msg);
    }
    ck_lua_chunk_free(&tamper);
    ck_lua_chunk_free(&probe);
    json_decref(cart);
}

static void still_fine_after_all_that(void **state)
{
    (void)state;
    json_t *over = cart_with_total(2000000);
    for (size_t m = 0; m < 2; m++) {
        char msg[128];
        assert_int_equal(run_in(MODES[m], GRAND_TOTAL_RULE, over, msg, sizeof(msg), NULL), 0);
        assert_string_equal(msg, "orders over 10,000.00 need a quote");
    }
    json_decref(over);
}

typedef struct worker {
    ck_lua_mode mode;
    int failures;
    char last[320];
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    ck_lua_chunk rule, loop;
    char msg[256];
    if (ck_lua_compile(GRAND_TOTAL_RULE, "rule", &rule, msg, sizeof(msg)) != 0 ||
        ck_lua_compile("function check(c) while true do end end", "loop", &loop, msg, sizeof(msg)) != 0) {
        w->failures++;
        return NULL;
    }
    json_t *under = cart_with_total(5000), *over = cart_with_total(5000000);
    for (int i = 0; i < 100; i++) {
        int a = ck_lua_check_with(w->mode, &rule, under, msg, sizeof(msg));
        int b = ck_lua_check_with(w->mode, &rule, over, msg, sizeof(msg));
        int ok = a == 1 && b == 0 && strcmp(msg, "orders over 10,000.00 need a quote") == 0;
        if (i % 10 == 0) {
            int c = ck_lua_check_with(w->mode, &loop, under, msg, sizeof(msg));
            ok = ok && c == 0 && strstr(msg, "instruction limit");
        }
        if (!ok) {
            w->failures++;
            snprintf(w->last, sizeof(w->last), "%d %d %s", a, b, msg);
        }
    }
    json_decref(under);
    json_decref(over);
    ck_lua_chunk_free(&rule);
    ck_lua_chunk_free(&loop);
    return NULL;
}

static void two_threads_at_once(void **state)
{
    (void)state;
    for (size_t m = 0; m < 2; m++) {
        pthread_t t[2];
        worker w[2] = {{.mode = MODES[m]}, {.mode = MODES[m]}};
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        for (int i = 0; i < 2; i++)
            if (w[i].failures)
                fail_msg("mode %zu thread %d: %d failures, last %s", m, i, w[i].failures, w[i].last);
    }
}

static int teardown(void **state)
{
    (void)state;
    ck_lua_thread_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compile_errors_carry_the_line),
        cmocka_unit_test(grand_total_rule),
        cmocka_unit_test(cart_types),
        cmocka_unit_test(verdicts),
        cmocka_unit_test(escapes),
        cmocka_unit_test(limits),
        cmocka_unit_test(catching_the_limit),
        cmocka_unit_test(runtime_errors),
        cmocka_unit_test(messages),
        cmocka_unit_test(nothing_carries_over),
        cmocka_unit_test(still_fine_after_all_that),
        cmocka_unit_test(two_threads_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
