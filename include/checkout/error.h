/* checkout/error.h: error codes and the error object every libcheckout call fills. */
#ifndef CHECKOUT_ERROR_H
#define CHECKOUT_ERROR_H

#include <stdarg.h>

/* Functions return 0 or one of these. Each maps to one HTTP status. */
enum {
    CK_OK = 0,
    CK_EINVALID = -1,   /* 400 BAD_REQUEST: missing or ill-typed input */
    CK_EJSON = -2,      /* 400 JSON_PARSER_ERROR */
    CK_EUNAUTH = -3,    /* 401 UNAUTHORIZED */
    CK_EFORBIDDEN = -4, /* 403 FORBIDDEN */
    CK_ENOTFOUND = -5,  /* 404 NOT_FOUND */
    CK_ECONFLICT = -6,  /* 409 CONFLICT */
    CK_ETOOLARGE = -7,  /* 413 PAYLOAD_TOO_LARGE */
    CK_EMETHOD = -8,    /* 405 METHOD_NOT_ALLOWED */
    CK_EREUSED = -9,    /* 422 idempotency key reused */
    CK_EINTERNAL = -10, /* 500 UNKNOWN_EXCEPTION */
    CK_EDUP = -11,      /* storage: a unique constraint held (callers map it) */
    CK_EBUSY = -12,     /* storage: locked past the busy timeout (500) */
};

/* Details of the last failure. `http_status` and `error_code` are set by
 * ck_fail from `code`; operations with their own status table (the checkout
 * session action) override them with ck_fail_as. */
typedef struct ck_error {
    int code;
    int http_status;
    char error_code[32];
    char reason[64];
    char field[64];
    char step[32];
    char message[256];
} ck_error;

void ck_error_clear(ck_error *err);

/* Fills err (NULL-tolerant) and returns code. reason and field may be NULL. */
int ck_fail(ck_error *err, int code, const char *reason, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* As ck_fail, with an explicit HTTP status and errorCode category. */
int ck_fail_as(ck_error *err, int code, int http_status, const char *error_code,
               const char *reason, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* The HTTP status and errorCode category of a code. */
int ck_code_http_status(int code);
const char *ck_code_category(int code);

#endif
