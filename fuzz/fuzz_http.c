/* fuzz_http.c: the request line and the headers, as libmicrohttpd and
 * server.c read them off a connection: the input is the bytes a client
 * writes (one request, several pipelined, or none that parses), with each
 * $name of the harness's shop (http_harness.h: $store, $cart, ...) put in
 * place first, so seeds can reach routes past their ids. The input goes to
 * the real server in process, the connection is half-closed, and every
 * answer read until the daemon closes it must keep fz_send's promises: a
 * well-formed answer; libmicrohttpd's own only for what it refuses itself;
 * ours JSON, errors in the envelope, no internal error; a refused framing
 * answered once and the connection closed; nothing left in flight. The
 * admin key is FZ_ADMIN_KEY (in fuzz/http.dict). */
#include <stdint.h>
#include <stdlib.h>

#include "http_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0;
    char *req = fz_subst((const char *)data, size, &len);
    fz_exchange x;
    fz_send(req, len, 1, &x);
    fz_say("%d answers, %zu bytes", x.count, x.raw_len);
    fz_exchange_free(&x);
    free(req);
    return 0;
}
