/* json.h: small JSON helpers every layer may use (jansson underneath). */
#ifndef CK_JSON_H
#define CK_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "checkout/error.h"

/* An RFC 3339 string for ms (a new reference). */
json_t *ck_json_time(int64_t ms);

/* v as compact JSON text (caller frees); NULL when out of memory. */
char *ck_json_text(json_t *v);

/* The error envelope of API.md for err: [{"errorCode","reason","message",
 * "field"?,"step"?}], errorCode being the category of err->code
 * (ck_code_category) unless category is given. A new reference. */
json_t *ck_error_json(const ck_error *err, const char *category);

#endif
