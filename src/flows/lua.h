/* lua.h: the sandbox of a flow's "lua" steps (issue 12). A script is
 * compiled once, when its flow is saved, to bytecode we dumped ourselves;
 * each check runs that bytecode's check(cart) in a Lua 5.4 state that has no
 * io, os, package, require, load, dofile, loadfile, debug, collectgarbage,
 * print or string.dump, under three limits per call: 1,000,000 instructions,
 * 8 MiB of memory and 500 ms of wall-clock time (a last resort; the first
 * two stop every hostile script we know far sooner). What the sandbox
 * allows, and why, is the comment at the top of lua.c. */
#ifndef CK_FLOWS_LUA_H
#define CK_FLOWS_LUA_H

#include <jansson.h>
#include <stddef.h>

#define CK_LUA_SOURCE_MAX (64 * 1024)        /* bytes of script source compile accepts */
#define CK_LUA_INSTRUCTIONS 1000000          /* VM instructions (and charged C work) per call */
#define CK_LUA_MEMORY (8 * 1024 * 1024)      /* bytes a call's state may hold */
#define CK_LUA_STRING_MAX (1024 * 1024)      /* bytes of one Lua string */
#define CK_LUA_TIME_MS 500                   /* CPU milliseconds (the calling thread's) per call */

/* Bytecode from ck_lua_compile (lua_dump, with line information so runtime
 * errors name the line). The caller owns code; free with ck_lua_chunk_free. */
typedef struct ck_lua_chunk {
    char *code;
    size_t len;
} ck_lua_chunk;

/* How ck_lua_check_with gets its state: a new one per call, or the calling
 * thread's pooled one with a fresh environment per call. */
typedef enum { CK_LUA_FRESH, CK_LUA_POOLED } ck_lua_mode;

/* Compiles source (text only, at most CK_LUA_SOURCE_MAX bytes) named name
 * (error messages read "name:3: ..."). 0 and *out filled (caller frees), or
 * CK_EINVALID with msg saying what does not compile, line included, or
 * CK_EINTERNAL (out of memory). *out is zeroed on failure. */
int ck_lua_compile(const char *source, const char *name, ck_lua_chunk *out, char *msg, size_t msglen);

/* Frees c's bytecode and zeroes it. NULL-tolerant. */
void ck_lua_chunk_free(ck_lua_chunk *c);

/* Runs the chunk, then check(cart) in the sandbox; cart (borrowed) is
 * converted to a table: objects to string-keyed tables, arrays to sequences
 * 1..n, integers to Lua integers, reals to floats, null to nil (absent; in
 * an array it leaves a hole). 1: check returned true. 0: rejected; msg holds
 * the script's message, or which limit or runtime error stopped it. <0
 * (CK_EINTERNAL or CK_EINVALID): our failure, msg says. msg is always
 * NUL-terminated, valid UTF-8, and ends in "..." when cut. Thread-safe. */
int ck_lua_check(const ck_lua_chunk *chunk, const json_t *cart, char *msg, size_t msglen);

/* ck_lua_check with the state's origin chosen (bench/bench_lua.c measures
 * both; ck_lua_check uses the faster one, CK_LUA_DEFAULT_MODE in lua.c). */
int ck_lua_check_with(ck_lua_mode mode, const ck_lua_chunk *chunk, const json_t *cart, char *msg, size_t msglen);

/* Runs the chunk's top level in the sandbox (a fresh state, the same
 * limits) and stops there: 1 when it defines function check, 0 when not or
 * when the top level fails (msg says which: a limit, a runtime error, "the
 * script defines no function check(cart)"), <0 our failure. For saving a
 * flow: a script that could never pass is refused then, not at checkout. */
int ck_lua_defines_check(const ck_lua_chunk *chunk, char *msg, size_t msglen);

/* Closes the calling thread's pooled state, if it has one (threads that
 * exit have theirs closed for them; this is for the main thread). */
void ck_lua_thread_cleanup(void);

#endif
