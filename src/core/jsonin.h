/* jsonin.h: reading typed, range-checked fields from a JSON object (a request body). Each
 * reader returns 1 (present), 0 (absent and optional) or CK_EINVALID with
 * err->field set. JSON null counts as absent. */
#ifndef CK_JSONIN_H
#define CK_JSONIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "checkout/error.h"
#include "core/util.h"

#define CK_REQUIRED 1
#define CK_OPTIONAL 0

#define CK_QTY_MAX 1000000
#define CK_CART_LINES_MAX 500 /* lines in one cart (400 TOO_MANY_LINES past it) */
#define CK_NAME_MAX 200
#define CK_TEXT_MAX 2000
#define CK_URL_MAX 2000

int ck_in_only(json_t *obj, const char *const allowed[], ck_error *err);
int ck_in_str(json_t *obj, const char *key, int required, size_t maxlen, const char **out,
              ck_error *err);
int ck_in_int(json_t *obj, const char *key, int required, int64_t min, int64_t max, int64_t *out,
              ck_error *err);
int ck_in_bool(json_t *obj, const char *key, int required, int *out, ck_error *err);
int ck_in_enum(json_t *obj, const char *key, int required, const char *const values[],
               const char **out, ck_error *err);
/* An id of the given prefix. A malformed id is 400 with field. */
int ck_in_id(json_t *obj, const char *key, int required, const char *prefix, const char **out,
             ck_error *err);
/* A two-letter upper-case country code. */
int ck_in_country(json_t *obj, const char *key, int required, const char **out, ck_error *err);
/* An absolute http:// or https:// URL (smtp:// or smtps:// when smtp is
 * set) with a host, as libcurl's URL API parses it (the one that sends to it). */
int ck_in_url(json_t *obj, const char *key, int required, int smtp, const char **out, ck_error *err);

/* An array (present) or absent; wrong type is 400. */
int ck_in_array(json_t *obj, const char *key, int required, size_t maxlen, json_t **out,
                ck_error *err);

#endif
