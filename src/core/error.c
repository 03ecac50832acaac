/* error.c: filling ck_error and mapping codes to HTTP statuses and categories. */
#include <stdio.h>
#include <string.h>

#include "checkout/error.h"

void ck_error_clear(ck_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

int ck_code_http_status(int code)
{
    switch (code) {
    case CK_OK: return 200;
    case CK_EINVALID:
    case CK_EJSON: return 400;
    case CK_EUNAUTH: return 401;
    case CK_EFORBIDDEN: return 403;
    case CK_ENOTFOUND: return 404;
    case CK_EMETHOD: return 405;
    case CK_ECONFLICT:
    case CK_EDUP: return 409;
    case CK_ETOOLARGE: return 413;
    case CK_EREUSED: return 422;
    default: return 500;
    }
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

static void fill(ck_error *err, int code, int status, const char *category, const char *reason,
                 const char *field, const char *fmt, va_list ap)
{
    err->code = code;
    err->http_status = status;
    snprintf(err->error_code, sizeof(err->error_code), "%s", category);
    snprintf(err->reason, sizeof(err->reason), "%s", reason ? reason : category);
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

int ck_fail(ck_error *err, int code, const char *reason, const char *field, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    fill(err, code, ck_code_http_status(code), ck_code_category(code), reason, field, fmt, ap);
    va_end(ap);
    return code;
}

int ck_fail_as(ck_error *err, int code, int http_status, const char *error_code,
               const char *reason, const char *field, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    fill(err, code, http_status, error_code, reason, field, fmt, ap);
    va_end(ap);
    return code;
}
