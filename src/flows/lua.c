/* lua.c: the sandbox of "lua" flow steps: compiling a script to bytecode,
 * and running its check(cart) under limits.
 *
 * What a script gets: the base library without dofile, loadfile, load,
 * collectgarbage, print and warn; getmetatable answers nil for anything but
 * a table (so the string metatable and its __index stay out of reach);
 * setmetatable refuses a metatable with __gc (no finalizer ever runs, in
 * this call or in a later one); string without dump, pack, packsize and
 * unpack; table; math without random and randomseed (a check is
 * deterministic); utf8; coroutine. rawget/rawset/rawequal/rawlen stay: they
 * only reach tables the script can reach anyway. null in the cart is nil.
 *
 * Limits, per call (lua.h): CK_LUA_INSTRUCTIONS counted by a count hook
 * every HOOK_CHUNK instructions (coroutines inherit the hook; creating one is
 * charged HOOK_CHUNK, what it may run before its first hook); C work that
 * runs no instruction is charged to the same budget: one per ALLOC_CHARGE
 * bytes allocated, an upper bound of the pattern matcher's steps / 32 for
 * find, match, gmatch and gsub (pattern_work), one per element for the
 * table functions (which refuse tables with metatables, so __len or
 * __index cannot stretch them), one per 64 bytes scanned for byte,
 * tonumber and utf8.len/offset/codepoint; string.rep of an empty string is
 * "" at once. CK_LUA_MEMORY through the allocator, and no string over
 * CK_LUA_STRING_MAX (a bound on what one comparison costs). CK_LUA_TIME_MS
 * of the calling thread's CPU time, checked in the hook, as the last resort
 * (CPU, not wall-clock, time: a check that a busy machine preempts is not
 * killed for the wait, so which limit stops a script does not depend on
 * the machine's load). Once a limit is
 * hit the call is dead: allocation is refused, the hook fires on every
 * instruction and raises, and pcall, xpcall, coroutine.resume and
 * coroutine.close re-raise, so a script cannot catch its way past a limit.
 *
 * Every Lua API call that can raise runs inside one lua_pcall (run), so
 * lua_atpanic's handler (Lua's default, abort) is never reached. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkout/error.h"
#include "core/util.h"
#include "flows/lua.h"

#ifndef CK_LUA_DEFAULT_MODE
#define CK_LUA_DEFAULT_MODE CK_LUA_POOLED
#endif

#define HOOK_CHUNK 1000
#define ALLOC_CHARGE 64
#define CART_DEPTH_MAX 32

enum { LIMIT_NONE, LIMIT_INSTRUCTIONS, LIMIT_MEMORY, LIMIT_TIME };

/* One state's accounting; the allocator's ud, so every thread of the state
 * finds it with lua_getallocf. */
typedef struct sandbox {
    size_t used;          /* bytes held */
    size_t cap;           /* used may not pass it */
    long long steps;      /* instructions counted by the hook */
    long long charged;    /* C work charged by the wrappers */
    size_t allocated;     /* bytes allocated this call (charged / ALLOC_CHARGE) */
    int limit;            /* LIMIT_*: once set, the call is dead */
    int string_refused;   /* a string over CK_LUA_STRING_MAX was refused */
    struct timespec deadline;
} sandbox;

static sandbox *sandbox_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

static long long work_done(const sandbox *sb)
{
    return sb->steps + sb->charged + (long long)(sb->allocated / ALLOC_CHARGE);
}

/* Lua assumes a shrink never fails (manual, lua_Alloc), so only growth is
 * refused: past the cap, past the instruction budget, for a string over
 * CK_LUA_STRING_MAX (ptr NULL: osize is the new object's type), or once
 * the call is dead. */
static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    sandbox *sb = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        sb->used -= old;
        return NULL;
    }
    if (nsize > old) {
        size_t grow = nsize - old;
        if (sb->limit || grow > sb->cap || sb->used > sb->cap - grow)
            return NULL;
        if (!ptr && osize == LUA_TSTRING && nsize > CK_LUA_STRING_MAX + 64) {
            sb->string_refused = 1;
            return NULL;
        }
        sb->allocated += grow;
        if (work_done(sb) > CK_LUA_INSTRUCTIONS) {
            sb->limit = LIMIT_INSTRUCTIONS;
            return NULL;
        }
    }
    void *p = realloc(ptr, nsize);
    if (!p)
        return nsize <= old ? ptr : NULL;
    sb->used = sb->used - old + nsize;
    return p;
}

/* Raises the error of the limit that killed the call. */
static int raise_limit(lua_State *L, const sandbox *sb)
{
    switch (sb->limit) {
    case LIMIT_MEMORY:
        return luaL_error(L, "memory limit (%d MiB) exceeded", CK_LUA_MEMORY / (1024 * 1024));
    case LIMIT_TIME:
        return luaL_error(L, "time limit (%d ms) exceeded", CK_LUA_TIME_MS);
    default:
        return luaL_error(L, "instruction limit (%d) exceeded", CK_LUA_INSTRUCTIONS);
    }
}

static int past(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void on_count(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    sandbox *sb = sandbox_of(L);
    sb->steps += HOOK_CHUNK;
    if (!sb->limit && work_done(sb) > CK_LUA_INSTRUCTIONS)
        sb->limit = LIMIT_INSTRUCTIONS;
    if (!sb->limit && past(&sb->deadline))
        sb->limit = LIMIT_TIME;
    if (sb->limit) {
        lua_sethook(L, on_count, LUA_MASKCOUNT, 1);
        raise_limit(L, sb);
    }
}

/* Charges work (in instructions) done in C; raises when the budget is gone. */
static void charge(lua_State *L, double work)
{
    sandbox *sb = sandbox_of(L);
    if (!sb->limit && work > (double)(CK_LUA_INSTRUCTIONS - work_done(sb)))
        sb->limit = LIMIT_INSTRUCTIONS;
    if (sb->limit)
        raise_limit(L, sb);
    sb->charged += (long long)work;
}

/* Calls upvalue 1 with this call's arguments; returns all its results. */
static int call_original(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* pcall, xpcall, coroutine.resume, coroutine.close: what they caught is
 * raised again when it was a limit (a memory error included). */
static int guarded(lua_State *L)
{
    int n = call_original(L);
    sandbox *sb = sandbox_of(L);
    if (!sb->limit && n >= 2 && lua_type(L, 1) == LUA_TBOOLEAN && !lua_toboolean(L, 1) &&
        lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "not enough memory") == 0)
        sb->limit = LIMIT_MEMORY;
    if (sb->limit)
        return raise_limit(L, sb);
    return n;
}

/* coroutine.create, coroutine.wrap: a new thread may run up to HOOK_CHUNK
 * instructions before its hook first fires, so that is paid up front. */
static int charged_thread(lua_State *L)
{
    charge(L, HOOK_CHUNK);
    return call_original(L);
}

/* byte, tonumber, utf8.len/offset/codepoint scan their string. */
static int charged_scan(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING)
        charge(L, (double)lua_rawlen(L, 1) / 64 + 1);
    return call_original(L);
}

static int sb_getmetatable(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TTABLE) {
        lua_pushnil(L);
        return 1;
    }
    return call_original(L);
}

static int sb_setmetatable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc metamethods are not allowed");
        lua_pop(L, 1);
    }
    return call_original(L);
}

/* string.rep: an empty result at once (the C loop would spin n times on an
 * empty string), a result over the memory cap refused before any work. */
static int sb_rep(lua_State *L)
{
    size_t l = 0, lsep = 0;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || l + lsep == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    if ((double)l * (double)n + (double)lsep * (double)(n - 1) > CK_LUA_STRING_MAX) {
        sandbox *sb = sandbox_of(L);
        if (!sb->limit)
            sb->limit = LIMIT_MEMORY;
        sb->string_refused = 1;
        return raise_limit(L, sb);
    }
    return call_original(L);
}

/* An upper bound of the steps Lua's backtracking matcher may take for
 * pattern p over a subject of n bytes. Quantifiers (* + - ?) apply to one
 * character class and each repetition consumes one byte, so a match
 * attempt's tree of choices has at most C(n+q+1, q) nodes for q of them;
 * each node processes at most plen items costing at most the longest set,
 * or n+1 with %b or a back-reference; captures add a node each. Attempts:
 * one when anchored (find, match, gsub), else n+1. */
static double pattern_work(const char *p, size_t plen, size_t n, int may_anchor)
{
    size_t i = 0, q = 0, caps = 0, setmax = 1;
    int heavy = 0;
    double starts = (double)n + 1;
    if (may_anchor && plen > 0 && p[0] == '^') {
        starts = 1;
        i = 1;
    }
    while (i < plen) {
        size_t end;
        if (p[i] == '(' || p[i] == ')') {
            caps++;
            i++;
            continue;
        }
        if (p[i] == '%' && i + 1 < plen && (p[i + 1] == 'b' || (p[i + 1] >= '0' && p[i + 1] <= '9'))) {
            heavy = 1;
            i += p[i + 1] == 'b' ? 4 : 2;
            continue;
        }
        if (p[i] == '%' && i + 1 < plen && p[i + 1] == 'f') {
            i += 2;
            continue;
        }
        if (p[i] == '%') {
            end = i + 2;
        } else if (p[i] == '[') {
            end = i + 1;
            if (end < plen && p[end] == '^')
                end++;
            do {
                end += end < plen && p[end] == '%' ? 2 : 1;
            } while (end < plen && p[end] != ']');
            end++;
            if (end - i > setmax)
                setmax = end - i;
        } else {
            end = i + 1;
        }
        if (end < plen && strchr("*+-?", p[end])) {
            q++;
            end++;
        }
        i = end;
    }
    double nodes = 1;
    for (size_t k = 1; k <= q && nodes < 1e30; k++)
        nodes = nodes * ((double)n + 1 + (double)k) / (double)k;
    return starts * nodes * (double)(caps + 1) * (double)(plen ? plen : 1) * (double)setmax *
           (heavy ? (double)n + 1 : 1);
}

/* string.find, match, gmatch, gsub: charged pattern_work / 32 before the
 * match (gmatch: for all its iterations at once). Upvalue 2: may_anchor. */
static int charged_pattern(lua_State *L)
{
    size_t n = 0, plen = 0;
    luaL_checklstring(L, 1, &n);
    const char *p = luaL_checklstring(L, 2, &plen);
    int may_anchor = (int)lua_tointeger(L, lua_upvalueindex(2));
    double work = may_anchor == 2 && lua_toboolean(L, 4) ? ((double)n + 1) * (double)(plen ? plen : 1)
                                                          : pattern_work(p, plen, n, may_anchor != 0);
    charge(L, work / 32 + 1);
    return call_original(L);
}

/* The table library: no metatables (a __len or __index could make its C
 * loops run on without bound), one instruction charged per element. */
static int charged_table(lua_State *L)
{
    const char *fn = lua_tostring(L, lua_upvalueindex(2));
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getmetatable(L, 1) || (strcmp(fn, "move") == 0 && lua_type(L, 5) == LUA_TTABLE && lua_getmetatable(L, 5)))
        return luaL_error(L, "table.%s: tables with metatables are not allowed", fn);
    double len = (double)lua_rawlen(L, 1), work = len + 1;
    if (strcmp(fn, "concat") == 0 || strcmp(fn, "unpack") == 0) {
        int a = fn[0] == 'c' ? 3 : 2;
        double first = (double)luaL_optinteger(L, a, 1);
        double last = lua_isnoneornil(L, a + 1) ? len : (double)luaL_checkinteger(L, a + 1);
        work = last >= first ? last - first + 1 : 1;
    } else if (strcmp(fn, "move") == 0) {
        double first = (double)luaL_checkinteger(L, 2), last = (double)luaL_checkinteger(L, 3);
        work = last >= first ? last - first + 1 : 1;
    } else if (strcmp(fn, "sort") == 0) {
        work = len * (log2(len + 2) + 1);
    }
    charge(L, work);
    return call_original(L);
}

static void drop(lua_State *L, const char *field)
{
    lua_pushnil(L);
    lua_setfield(L, -2, field);
}

/* Replaces table[-1].field with f closed over the original as upvalue 1;
 * nextra 1 adds the integer extra as upvalue 2, nextra 2 the field's name. */
static void wrap(lua_State *L, const char *field, lua_CFunction f, int nextra, lua_Integer extra)
{
    lua_getfield(L, -1, field);
    if (nextra == 1)
        lua_pushinteger(L, extra);
    else if (nextra == 2)
        lua_pushstring(L, field);
    lua_pushcclosure(L, f, nextra ? 2 : 1);
    lua_setfield(L, -2, field);
}

/* Opens the safe libraries in L's globals and takes out or wraps what is
 * dangerous. Raises on out-of-memory. */
static void open_sandbox(lua_State *L)
{
    static const struct {
        const char *name;
        lua_CFunction open;
    } libs[] = {{LUA_GNAME, luaopen_base},     {LUA_STRLIBNAME, luaopen_string}, {LUA_TABLIBNAME, luaopen_table},
                {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_COLIBNAME, luaopen_coroutine}};
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
        luaL_requiref(L, libs[i].name, libs[i].open, 1);
        lua_pop(L, 1);
    }
    lua_pushglobaltable(L);
    static const char *const base_out[] = {"dofile", "loadfile", "load", "collectgarbage", "print", "warn"};
    for (size_t i = 0; i < sizeof(base_out) / sizeof(base_out[0]); i++)
        drop(L, base_out[i]);
    wrap(L, "getmetatable", sb_getmetatable, 0, 0);
    wrap(L, "setmetatable", sb_setmetatable, 0, 0);
    wrap(L, "pcall", guarded, 0, 0);
    wrap(L, "xpcall", guarded, 0, 0);
    wrap(L, "tonumber", charged_scan, 0, 0);
    /* package.loaded would hand out the unwrapped tables: there is no package, but clear it anyway */
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);

    lua_getfield(L, -1, LUA_STRLIBNAME); /* also the string metatable's __index */
    drop(L, "dump");
    drop(L, "pack");
    drop(L, "packsize");
    drop(L, "unpack");
    wrap(L, "rep", sb_rep, 0, 0);
    wrap(L, "byte", charged_scan, 0, 0);
    wrap(L, "find", charged_pattern, 1, 2);
    wrap(L, "match", charged_pattern, 1, 1);
    wrap(L, "gsub", charged_pattern, 1, 1);
    wrap(L, "gmatch", charged_pattern, 1, 0);
    lua_pop(L, 1);

    lua_getfield(L, -1, LUA_TABLIBNAME);
    static const char *const table_fns[] = {"concat", "insert", "move", "remove", "sort", "unpack"};
    for (size_t i = 0; i < sizeof(table_fns) / sizeof(table_fns[0]); i++)
        wrap(L, table_fns[i], charged_table, 2, 0);
    lua_pop(L, 1);

    lua_getfield(L, -1, LUA_MATHLIBNAME);
    drop(L, "random");
    drop(L, "randomseed");
    lua_pop(L, 1);

    lua_getfield(L, -1, LUA_UTF8LIBNAME);
    wrap(L, "len", charged_scan, 0, 0);
    wrap(L, "offset", charged_scan, 0, 0);
    wrap(L, "codepoint", charged_scan, 0, 0);
    lua_pop(L, 1);

    lua_getfield(L, -1, LUA_COLIBNAME);
    wrap(L, "create", charged_thread, 0, 0);
    wrap(L, "wrap", charged_thread, 0, 0);
    wrap(L, "resume", guarded, 0, 0);
    wrap(L, "close", guarded, 0, 0);
    lua_pop(L, 1);
    lua_pop(L, 1);
}

/* Pushes a copy of the table at idx (one level deep). */
static void copy_table(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

/* Pushes a fresh environment for a pooled call: the sandbox's globals with
 * every library table copied, so what a script changes dies with the call. */
static void push_env(lua_State *L)
{
    lua_newtable(L);
    int env = lua_gettop(L);
    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, g)) {
        if (lua_rawequal(L, -1, g)) {
            lua_pop(L, 1);
            lua_pushvalue(L, env);
        } else if (lua_type(L, -1) == LUA_TTABLE) {
            copy_table(L, -1);
            lua_remove(L, -2);
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, env);
    }
    lua_pop(L, 1);
}

/* Pushes j as a Lua value (see ck_lua_check). Raises on depth or memory. */
static void push_json(lua_State *L, const json_t *j, int depth)
{
    if (depth > CART_DEPTH_MAX)
        luaL_error(L, "the cart nests deeper than %d levels", CART_DEPTH_MAX);
    luaL_checkstack(L, 4, "the cart nests too deep");
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *v;
        lua_createtable(L, 0, (int)json_object_size(j));
        json_object_foreach((json_t *)j, key, v) {
            if (json_is_null(v))
                continue;
            push_json(L, v, depth + 1);
            lua_setfield(L, -2, key);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            const json_t *v = json_array_get(j, i);
            if (json_is_null(v))
                continue;
            push_json(L, v, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(j));
        break;
    case JSON_REAL:
        lua_pushnumber(L, (lua_Number)json_real_value(j));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    default:
        lua_pushnil(L);
        break;
    }
}

/* Bounded, valid UTF-8 messages: invalid bytes and NULs become '?', a cut
 * message ends in "...". */
typedef struct msgbuf {
    char *p;
    size_t cap, n;
    int cut;
} msgbuf;

static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0], cp;
    size_t len;
    if (c == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static void msg_add(msgbuf *m, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len && !m->cut;) {
        size_t k = utf8_seq(u + i, len - i);
        const char *from = k ? s + i : "?";
        size_t w = k ? k : 1;
        if (m->n + w + 1 > m->cap) {
            m->cut = 1;
            break;
        }
        memcpy(m->p + m->n, from, w);
        m->n += w;
        i += w;
    }
    if (m->cut) {
        while (m->n > 0 && m->n + 4 > m->cap) {
            do
                m->n--;
            while (m->n > 0 && ((unsigned char)m->p[m->n] & 0xC0) == 0x80);
        }
        if (m->n + 4 <= m->cap) {
            memcpy(m->p + m->n, "...", 3);
            m->n += 3;
        }
    }
    m->p[m->n] = '\0';
}

/* Sets msg to prefix followed by text (len bytes). */
static void set_msg(char *msg, size_t msglen, const char *prefix, const char *text, size_t len)
{
    if (!msg || msglen == 0)
        return;
    msgbuf m = {.p = msg, .cap = msglen, .n = 0, .cut = 0};
    msg[0] = '\0';
    msg_add(&m, prefix, strlen(prefix));
    if (text)
        msg_add(&m, text, len);
}

static int setf(char *msg, size_t msglen, int rc, const char *fmt, const char *arg)
{
    char tmp[256];
    snprintf(tmp, sizeof(tmp), fmt, arg);
    set_msg(msg, msglen, tmp, NULL, 0);
    return rc;
}

typedef struct reader {
    const char *p;
    size_t left;
} reader;

static const char *read_chunk(lua_State *L, void *ud, size_t *size)
{
    (void)L;
    reader *r = ud;
    *size = r->left;
    r->left = 0;
    return *size ? r->p : NULL;
}

static int write_chunk(lua_State *L, const void *p, size_t sz, void *ud)
{
    (void)L;
    ck_lua_chunk *c = ud;
    char *grown = realloc(c->code, c->len + sz);
    if (!grown && c->len + sz > 0)
        return 1;
    c->code = grown;
    memcpy(c->code + c->len, p, sz);
    c->len += sz;
    return 0;
}

enum { PHASE_SETUP, PHASE_LOAD, PHASE_SCRIPT };

/* What run needs and what it found. */
typedef struct job {
    const ck_lua_chunk *chunk;
    const json_t *cart;
    int pooled;
    int phase;
    int verdict; /* 1, 0, <0 as ck_lua_check */
    int define_only; /* ck_lua_defines_check: stop once check is known to be a function */
    char *msg;
    size_t msglen;
} job;

/* The protected body of a check: [sandbox,] env, load, run the chunk, the
 * cart, check(cart), the verdict into jb. Raises on anything the caller maps. */
static int run(lua_State *L)
{
    job *jb = lua_touserdata(L, 1);
    jb->phase = PHASE_SETUP;
    if (jb->pooled) {
        push_env(L);
    } else {
        open_sandbox(L);
        sandbox *sb = sandbox_of(L);
        sb->cap = sb->used + CK_LUA_MEMORY;
        sb->allocated = 0;
        lua_pushglobaltable(L);
    }
    int env = lua_gettop(L);
    push_json(L, jb->cart, 0);
    int cart = lua_gettop(L);
    jb->phase = PHASE_LOAD;
    reader rd = {jb->chunk->code, jb->chunk->len};
    if (lua_load(L, read_chunk, &rd, "=check", "b") != LUA_OK) {
        size_t len = 0;
        const char *e = lua_tolstring(L, -1, &len);
        set_msg(jb->msg, jb->msglen, "the compiled script does not load: ", e, e ? len : 0);
        jb->verdict = CK_EINTERNAL;
        return 0;
    }
    lua_pushvalue(L, env);
    if (!lua_setupvalue(L, -2, 1))
        lua_pop(L, 1);
    jb->phase = PHASE_SCRIPT;
    lua_call(L, 0, 0);
    lua_pushliteral(L, "check");
    if (lua_rawget(L, env) != LUA_TFUNCTION) {
        set_msg(jb->msg, jb->msglen, "the script defines no function check(cart)", NULL, 0);
        jb->verdict = 0;
        return 0;
    }
    if (jb->define_only) {
        jb->verdict = 1;
        return 0;
    }
    lua_pushvalue(L, cart);
    lua_call(L, 1, 2);
    if (lua_type(L, -2) == LUA_TBOOLEAN && lua_toboolean(L, -2)) {
        set_msg(jb->msg, jb->msglen, "", NULL, 0);
        jb->verdict = 1;
    } else if (lua_type(L, -2) == LUA_TBOOLEAN && lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
        size_t len = 0;
        const char *m = lua_tolstring(L, -1, &len);
        set_msg(jb->msg, jb->msglen, "", m, len);
        jb->verdict = 0;
    } else if (lua_type(L, -2) == LUA_TBOOLEAN) {
        set_msg(jb->msg, jb->msglen, "check returned false without a message", NULL, 0);
        jb->verdict = 0;
    } else {
        setf(jb->msg, jb->msglen, 0, "check must return true, or false and a message; it returned %s",
             lua_typename(L, lua_type(L, -2)));
        jb->verdict = 0;
    }
    return 0;
}

/* The message of a failed run: the limit, else the error object. */
static int failure(lua_State *L, const sandbox *sb, const job *jb, int status, char *msg, size_t msglen)
{
    char tmp[128];
    int limit = sb->limit ? sb->limit : status == LUA_ERRMEM ? LIMIT_MEMORY : LIMIT_NONE;
    if (limit) {
        if (limit == LIMIT_MEMORY)
            snprintf(tmp, sizeof(tmp), "memory limit (%d MiB) exceeded%s", CK_LUA_MEMORY / (1024 * 1024),
                     sb->string_refused ? " (a string may hold at most 1 MiB)" : "");
        else if (limit == LIMIT_TIME)
            snprintf(tmp, sizeof(tmp), "time limit (%d ms) exceeded", CK_LUA_TIME_MS);
        else
            snprintf(tmp, sizeof(tmp), "instruction limit (%d) exceeded", CK_LUA_INSTRUCTIONS);
        if (jb->phase != PHASE_SCRIPT)
            return setf(msg, msglen, CK_EINTERNAL, "the sandbox could not be set up: %s", tmp);
        set_msg(msg, msglen, tmp, NULL, 0);
        return 0;
    }
    const char *prefix = jb->phase == PHASE_SCRIPT ? "runtime error: " : "the sandbox could not be set up: ";
    int rc = jb->phase == PHASE_SCRIPT ? 0 : CK_EINTERNAL;
    int t = lua_type(L, -1);
    if (t == LUA_TSTRING) {
        size_t len = 0;
        const char *e = lua_tolstring(L, -1, &len);
        set_msg(msg, msglen, prefix, e, len);
    } else if (t == LUA_TNUMBER && lua_isinteger(L, -1)) {
        snprintf(tmp, sizeof(tmp), "%s%lld", prefix, (long long)lua_tointeger(L, -1));
        set_msg(msg, msglen, tmp, NULL, 0);
    } else if (t == LUA_TNUMBER) {
        snprintf(tmp, sizeof(tmp), "%s%.14g", prefix, (double)lua_tonumber(L, -1));
        set_msg(msg, msglen, tmp, NULL, 0);
    } else {
        snprintf(tmp, sizeof(tmp), "%s(error object is a %s value)", prefix, lua_typename(L, t));
        set_msg(msg, msglen, tmp, NULL, 0);
    }
    return rc;
}

/* Resets sb for a call that may hold CK_LUA_MEMORY more than now. */
static void sandbox_start(sandbox *sb)
{
    sb->steps = 0;
    sb->charged = 0;
    sb->allocated = 0;
    sb->limit = LIMIT_NONE;
    sb->string_refused = 0;
    sb->cap = sb->used + CK_LUA_MEMORY;
    ck_timespec_in(&sb->deadline, CLOCK_THREAD_CPUTIME_ID, CK_LUA_TIME_MS);
}

/* A thread's pooled state: its sandbox is the allocator's ud, so it lives
 * beside the state. */
typedef struct pool {
    lua_State *L;
    sandbox sb;
} pool;

static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_free(void *p)
{
    pool *pl = p;
    if (!pl)
        return;
    if (pl->L)
        lua_close(pl->L);
    free(pl);
}

static void pool_key_init(void)
{
    pthread_key_create(&pool_key, pool_free);
}

static int open_protected(lua_State *L)
{
    open_sandbox(L);
    return 0;
}

/* The calling thread's pooled state, made on first use. NULL: out of memory. */
static pool *pool_get(void)
{
    pthread_once(&pool_once, pool_key_init);
    pool *pl = pthread_getspecific(pool_key);
    if (pl)
        return pl;
    pl = calloc(1, sizeof(*pl));
    if (!pl)
        return NULL;
    pl->sb.cap = CK_LUA_MEMORY;
    pl->L = lua_newstate(sb_alloc, &pl->sb);
    if (!pl->L) {
        free(pl);
        return NULL;
    }
    lua_pushcfunction(pl->L, open_protected);
    if (lua_pcall(pl->L, 0, 0, 0) != LUA_OK || pthread_setspecific(pool_key, pl) != 0) {
        pool_free(pl);
        return NULL;
    }
    return pl;
}

void ck_lua_thread_cleanup(void)
{
    pthread_once(&pool_once, pool_key_init);
    pool *pl = pthread_getspecific(pool_key);
    pthread_setspecific(pool_key, NULL);
    pool_free(pl);
}

/* ck_lua_check_with, or (define_only) only as far as knowing that the
 * chunk defines check. */
static int check_with(ck_lua_mode mode, const ck_lua_chunk *chunk, const json_t *cart, int define_only, char *msg,
                      size_t msglen)
{
    sandbox fresh_sb = {.cap = CK_LUA_MEMORY};
    sandbox *sb = &fresh_sb;
    lua_State *L = NULL;
    pool *pl = NULL;
    int rc;
    if (msg && msglen)
        msg[0] = '\0';
    if (!chunk || !chunk->code || !cart)
        return setf(msg, msglen, CK_EINVALID, "%s", "no compiled script or no cart");
    if (mode == CK_LUA_POOLED) {
        if (!(pl = pool_get()))
            return setf(msg, msglen, CK_EINTERNAL, "%s", "out of memory opening the sandbox");
        L = pl->L;
        sb = &pl->sb;
        /* garbage of earlier calls must not count against this one */
        if (sb->used > 1024 * 1024)
            lua_gc(L, LUA_GCCOLLECT);
    } else if (!(L = lua_newstate(sb_alloc, sb))) {
        return setf(msg, msglen, CK_EINTERNAL, "%s", "out of memory opening the sandbox");
    }
    sandbox_start(sb);
    lua_sethook(L, on_count, LUA_MASKCOUNT, HOOK_CHUNK);
    job jb = {.chunk = chunk, .cart = cart, .pooled = mode == CK_LUA_POOLED, .phase = PHASE_SETUP,
              .verdict = CK_EINTERNAL, .define_only = define_only, .msg = msg, .msglen = msglen};
    lua_pushcfunction(L, run);
    lua_pushlightuserdata(L, &jb);
    int status = lua_pcall(L, 1, 0, 0);
    rc = status == LUA_OK ? jb.verdict : failure(L, sb, &jb, status, msg, msglen);
    lua_settop(L, 0);
    if (!pl) {
        lua_close(L);
    } else if (sb->limit || status != LUA_OK || rc < 0) {
        /* a state that was stopped mid-way is not reused: start the next call on a new one */
        ck_lua_thread_cleanup();
    } else {
        sb->limit = LIMIT_NONE;
    }
    return rc;
}

int ck_lua_check_with(ck_lua_mode mode, const ck_lua_chunk *chunk, const json_t *cart, char *msg, size_t msglen)
{
    return check_with(mode, chunk, cart, 0, msg, msglen);
}

int ck_lua_check(const ck_lua_chunk *chunk, const json_t *cart, char *msg, size_t msglen)
{
    return check_with(CK_LUA_DEFAULT_MODE, chunk, cart, 0, msg, msglen);
}

int ck_lua_defines_check(const ck_lua_chunk *chunk, char *msg, size_t msglen)
{
    json_t *cart = json_object();
    int rc = check_with(CK_LUA_FRESH, chunk, cart, 1, msg, msglen);
    json_decref(cart);
    return rc;
}

typedef struct compile_job {
    const char *source;
    size_t len;
    const char *name;
    ck_lua_chunk *out;
    int rc;
    char *msg;
    size_t msglen;
} compile_job;

static int compile_protected(lua_State *L)
{
    compile_job *cj = lua_touserdata(L, 1);
    char chunkname[80];
    snprintf(chunkname, sizeof(chunkname), "=%s", cj->name ? cj->name : "script");
    if (luaL_loadbufferx(L, cj->source, cj->len, chunkname, "t") != LUA_OK) {
        size_t len = 0;
        const char *e = lua_tolstring(L, -1, &len);
        set_msg(cj->msg, cj->msglen, "", e, e ? len : 0);
        cj->rc = CK_EINVALID;
        return 0;
    }
    if (lua_dump(L, write_chunk, cj->out, 0) != 0) {
        set_msg(cj->msg, cj->msglen, "out of memory compiling the script", NULL, 0);
        cj->rc = CK_EINTERNAL;
        return 0;
    }
    cj->rc = 0;
    return 0;
}

int ck_lua_compile(const char *source, const char *name, ck_lua_chunk *out, char *msg, size_t msglen)
{
    sandbox sb = {.cap = CK_LUA_MEMORY};
    compile_job cj = {.source = source, .name = name, .out = out, .rc = CK_EINTERNAL, .msg = msg, .msglen = msglen};
    lua_State *L = NULL;
    if (msg && msglen)
        msg[0] = '\0';
    if (!out)
        return CK_EINVALID;
    out->code = NULL;
    out->len = 0;
    if (!source)
        return setf(msg, msglen, CK_EINVALID, "%s", "no script");
    cj.len = strlen(source);
    if (cj.len > CK_LUA_SOURCE_MAX) {
        char tmp[96];
        snprintf(tmp, sizeof(tmp), "the script is %zu bytes; at most %d are allowed", cj.len, CK_LUA_SOURCE_MAX);
        set_msg(msg, msglen, tmp, NULL, 0);
        return CK_EINVALID;
    }
    sandbox_start(&sb);
    if (!(L = lua_newstate(sb_alloc, &sb))) {
        set_msg(msg, msglen, "out of memory compiling the script", NULL, 0);
        goto done;
    }
    lua_pushcfunction(L, compile_protected);
    lua_pushlightuserdata(L, &cj);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        set_msg(msg, msglen, "out of memory compiling the script", NULL, 0);
        cj.rc = CK_EINTERNAL;
    }
done:
    if (L)
        lua_close(L);
    if (cj.rc != 0)
        ck_lua_chunk_free(out);
    return cj.rc;
}

void ck_lua_chunk_free(ck_lua_chunk *c)
{
    if (!c)
        return;
    free(c->code);
    c->code = NULL;
    c->len = 0;
}
