/* error.c: filling ck_error, and the category of each code. */
#include <stdio.h>
#include <string.h>

#include "checkout/error.h"
#include "core/text.h"

void ck_error_clear(ck_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

const char *ck_code_category(int code)
{
    switch (code) {
    case CK_EINVALID:
    case CK_EREUSED: return "BAD_REQUEST";
    case CK_EJSON: return "JSON_PARSER_ERROR";
    case CK_EUNAUTH: return "UNAUTHORIZED";
    case CK_EFORBIDDEN: return "FORBIDDEN";
    case CK_ENOTFOUND: return "NOT_FOUND";
    case CK_EMETHOD: return "METHOD_NOT_ALLOWED";
    case CK_ECONFLICT:
    case CK_EDUP: return "CONFLICT";
    case CK_ETOOLARGE: return "PAYLOAD_TOO_LARGE";
    default: return "UNKNOWN_EXCEPTION";
    }
}

int ck_code_is_client(int code)
{
    switch (code) {
    case CK_EINVALID:
    case CK_EJSON:
    case CK_EUNAUTH:
    case CK_EFORBIDDEN:
    case CK_ENOTFOUND:
    case CK_ECONFLICT:
    case CK_ETOOLARGE:
    case CK_EMETHOD:
    case CK_EREUSED:
    case CK_EDUP: return 1;
    default: return 0;
    }
}

static void fill(ck_error *err, int code, const char *category, const char *reason, const char *field,
                 const char *fmt, va_list ap)
{
    err->code = code;
    snprintf(err->reason, sizeof(err->reason), "%s", reason ? reason : category);
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    /* A bounded copy can cut a character, and a message can hold a client's
     * bytes (a method, a header): the envelope is JSON, which needs UTF-8. */
    ck_utf8_repair(err->reason);
    ck_utf8_repair(err->field);
    ck_utf8_repair(err->message);
}

int ck_fail(ck_error *err, int code, const char *reason, const char *field, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    fill(err, code, ck_code_category(code), reason, field, fmt, ap);
    va_end(ap);
    return code;
}

int ck_not_found(ck_error *err, const char *kind, const char *id)
{
    return ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", NULL, "%s %s not found", kind, id);
}
