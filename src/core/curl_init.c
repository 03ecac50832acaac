/* curl_init.c: libcurl's process-wide initialisation, once, for every part
 * that makes outbound calls (gateways, webhooks, email). */
#include <curl/curl.h>
#include <pthread.h>

#include "core/util.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_rc = -1;

static void init(void)
{
    init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int ck_curl_init(void)
{
    pthread_once(&once, init);
    return init_rc;
}
