/* test_framing.c: requests whose framing is ambiguous (RFC 9112 section
 * 6.3), over a raw socket, because an HTTP client library will not send
 * them. Each is refused with 400 and the API's error envelope, the
 * connection is closed after that one answer, so a request hidden behind
 * it is never answered, and nothing was written. A request with two
 * Authorization headers is refused the same way. Sound requests (chunked,
 * Content-Length, two pipelined requests on one keep-alive connection) are
 * still answered. A path or query that is not text once percent-decoded (a
 * %00, which would cut it short, or bytes that are not UTF-8) is 400
 * INVALID_PATH in the same envelope. */
#include "api/harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define AUTH "Authorization: Bearer " CKT_ADMIN_KEY "\r\n"
#define STORE_BODY "{\"name\":\"S\",\"currency\":\"USD\"}"
/* STORE_BODY as one chunk (0x1d = 29 bytes), then the last chunk. */
#define STORE_CHUNKED "1d\r\n" STORE_BODY "\r\n0\r\n\r\n"
/* Behind each refused request: a second one that must never be answered. */
#define SMUGGLED "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

static ckt_daemon D;

static int setup(void **state)
{
    (void)state;
    ckt_start(&D, NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ckt_cleanup(&D);
    memset(&D, 0, sizeof(D));
    return 0;
}

/* Sends req on a new connection and reads until the server closes it. A
 * server that keeps the connection open fails the test after 10 s (it was
 * to close it). Returns what came back (the caller frees). */
static char *exchange(const char *req, int *closed)
{
    int s = ckt_dial(&D);
    size_t len = strlen(req), sent = 0;
    while (sent < len) {
        ssize_t n = send(s, req + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may close before it read everything: what it answered is the test */
        sent += (size_t)n;
    }
    size_t cap = 65536, got = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    *closed = 0;
    for (;;) {
        ssize_t n = recv(s, out + got, cap - 1 - got, 0);
        if (n == 0) {
            *closed = 1;
            break;
        }
        if (n < 0)
            break; /* timeout (or reset): not closed cleanly */
        got += (size_t)n;
        if (got + 1 >= cap)
            break;
    }
    out[got] = '\0';
    close(s);
    return out;
}

/* How many whole HTTP responses the bytes hold, read one after the other
 * by their Content-Length (every answer of ours carries one); -1 when the
 * bytes are not a run of whole responses. */
static int responses(const char *out)
{
    int n = 0;
    const char *p = out;
    while (*p) {
        if (strncmp(p, "HTTP/1.1 ", 9) != 0)
            return -1;
        const char *end = strstr(p, "\r\n\r\n");
        if (!end)
            return -1;
        long length = -1;
        for (const char *h = strstr(p, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
            if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
                length = strtol(h + 17, NULL, 10);
        if (length < 0 || strlen(end + 4) < (size_t)length)
            return -1;
        p = end + 4 + length;
        n++;
    }
    return n;
}

/* One answer, 400 with reason in the JSON envelope, then the connection
 * closed (the request asks for that itself when its framing is sound), and
 * no store written. */
static void expect_refused(const char *req, const char *reason)
{
    int closed = 0;
    char *out = exchange(req, &closed);
    assert_true(closed);
    assert_int_equal(responses(out), 1);
    assert_int_equal(strncmp(out, "HTTP/1.1 400 ", 13), 0);
    const char *body = strstr(out, "\r\n\r\n");
    assert_non_null(body);
    json_error_t je;
    json_t *j = json_loads(body + 4, 0, &je);
    assert_non_null(j);
    assert_true(json_is_array(j) && json_array_size(j) == 1);
    assert_string_equal(ckt_str(json_array_get(j, 0), "errorCode"), "BAD_REQUEST");
    assert_string_equal(ckt_str(json_array_get(j, 0), "reason"), reason);
    json_decref(j);
    free(out);
    assert_int_equal(ckt_db_int(&D, "SELECT count(*) FROM stores"), 0);
}

static void content_length_and_chunked(void **state)
{
    (void)state;
    expect_refused("POST /v1/stores HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                   "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" STORE_CHUNKED SMUGGLED,
                   "AMBIGUOUS_FRAMING");
    /* The other order of the two headers. */
    expect_refused("POST /v1/stores HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\nContent-Length: 35\r\n\r\n" STORE_CHUNKED SMUGGLED,
                   "AMBIGUOUS_FRAMING");
}

static void two_content_lengths(void **state)
{
    (void)state;
    expect_refused("POST /v1/stores HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                   "Content-Length: 29\r\nContent-Length: 30\r\n\r\n" STORE_BODY " " SMUGGLED,
                   "AMBIGUOUS_FRAMING");
    /* Even equal: one header, one length. */
    expect_refused("POST /v1/stores HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                   "Content-Length: 29\r\nContent-Length: 29\r\n\r\n" STORE_BODY SMUGGLED,
                   "AMBIGUOUS_FRAMING");
}

static void transfer_encodings_other_than_chunked(void **state)
{
    (void)state;
    expect_refused("POST /v1/stores HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                   "Transfer-Encoding: xchunked\r\n\r\n" STORE_CHUNKED SMUGGLED,
                   "AMBIGUOUS_FRAMING");
    expect_refused("POST /v1/stores HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                   "Transfer-Encoding: chunked, identity\r\n\r\n" STORE_CHUNKED SMUGGLED,
                   "AMBIGUOUS_FRAMING");
    expect_refused("POST /v1/stores HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" STORE_CHUNKED SMUGGLED,
                   "AMBIGUOUS_FRAMING");
    /* HTTP/1.0 has no chunked coding (RFC 9112 section 6.1). */
    expect_refused("POST /v1/stores HTTP/1.0\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n" STORE_CHUNKED SMUGGLED,
                   "AMBIGUOUS_FRAMING");
}

static void two_authorization_headers(void **state)
{
    (void)state;
    /* The first key is the admin's: the second must not be ignored either. */
    expect_refused("POST /v1/stores HTTP/1.1\r\nHost: x\r\n" AUTH "Authorization: Bearer someone-else\r\n"
                   "Content-Type: application/json\r\nContent-Length: 29\r\n\r\n" STORE_BODY SMUGGLED,
                   "DUPLICATE_HEADER");
    expect_refused("GET /v1/stores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer someone-else\r\n" AUTH
                   "\r\n" SMUGGLED,
                   "DUPLICATE_HEADER");
}

static void paths_that_are_not_text(void **state)
{
    (void)state;
    /* Decoded, %00 would make this /healthz (200) and /v1/stores (a write). */
    expect_refused("GET /healthz%00x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "INVALID_PATH");
    expect_refused("POST /v1/stores%00/x HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                   "Content-Length: 29\r\nConnection: close\r\n\r\n" STORE_BODY,
                   "INVALID_PATH");
    expect_refused("GET /v1/stores?pageToken=a%00b HTTP/1.1\r\nHost: x\r\n" AUTH "Connection: close\r\n\r\n",
                   "INVALID_PATH");
    /* Not UTF-8 once decoded: a lone 0xFF, a broken two-byte sequence. */
    expect_refused("GET /v1/stores/%FF HTTP/1.1\r\nHost: x\r\n" AUTH "Connection: close\r\n\r\n", "INVALID_PATH");
    expect_refused("GET /v1/stores?pageToken=%C3%28 HTTP/1.1\r\nHost: x\r\n" AUTH "Connection: close\r\n\r\n",
                   "INVALID_PATH");
    /* UTF-8 is fine: an unknown route is still the usual JSON 404. */
    int closed = 0;
    char *out = exchange("GET /v1/caf%C3%A9 HTTP/1.1\r\nHost: x\r\n" AUTH "Connection: close\r\n\r\n", &closed);
    assert_int_equal(strncmp(out, "HTTP/1.1 404 ", 13), 0);
    assert_non_null(strstr(out, "\"ROUTE_NOT_FOUND\""));
    free(out);
}

/* A body declared far past the limit (over 16 MiB) is answered 413 at once,
 * before any of it is sent, and the connection closed; one just past 1 MiB
 * is read and dropped first, so its sender can read the 413 (body_limit in
 * test_daemon). */
static void huge_declared_body(void **state)
{
    (void)state;
    int closed = 0;
    char *out = exchange("POST /v1/stores HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                         "Content-Length: 104857600\r\n\r\n",
                         &closed);
    assert_true(closed);
    assert_int_equal(responses(out), 1);
    assert_int_equal(strncmp(out, "HTTP/1.1 413 ", 13), 0);
    assert_non_null(strstr(out, "\"PAYLOAD_TOO_LARGE\""));
    free(out);
    assert_int_equal(ckt_db_int(&D, "SELECT count(*) FROM stores"), 0);
}

/* The control: sound framing still works, kept alive and pipelined. */
static void sound_requests_are_answered(void **state)
{
    (void)state;
    int closed = 0;
    char *out = exchange("POST /v1/stores HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n" STORE_CHUNKED
                         "POST /v1/stores HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Type: application/json\r\n"
                         "Content-Length: 29\r\n\r\n" STORE_BODY
                         "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                         &closed);
    assert_true(closed);
    assert_int_equal(responses(out), 3);
    assert_int_equal(strncmp(out, "HTTP/1.1 201 ", 13), 0);
    const char *second = strstr(out + 1, "HTTP/1.1 201 ");
    assert_non_null(second);
    assert_non_null(strstr(second + 1, "HTTP/1.1 200 "));
    free(out);
    assert_int_equal(ckt_db_int(&D, "SELECT count(*) FROM stores"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(content_length_and_chunked, setup, teardown),
        cmocka_unit_test_setup_teardown(two_content_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(transfer_encodings_other_than_chunked, setup, teardown),
        cmocka_unit_test_setup_teardown(two_authorization_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(paths_that_are_not_text, setup, teardown),
        cmocka_unit_test_setup_teardown(huge_declared_body, setup, teardown),
        cmocka_unit_test_setup_teardown(sound_requests_are_answered, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
