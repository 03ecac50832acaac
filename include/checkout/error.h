/* checkout/error.h: error codes and the error object every libcheckout call fills. */
#ifndef CHECKOUT_ERROR_H
#define CHECKOUT_ERROR_H

#include <stdarg.h>

/* Functions return 0 or one of these. api maps each to an HTTP status
 * (src/api/errors.c); nothing below api knows HTTP. */
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

/* Details of the last failure: the code, a reason from API.md's tables
 * (INSUFFICIENT_CREDIT), the field and the step it concerns, a message. */
typedef struct ck_error {
    int code;
    char reason[64];
    char field[64];
    char step[64];    /* a step path (CK_STEP_PATH_MAX) */
    char message[256];
} ck_error;

void ck_error_clear(ck_error *err);

/* Fills err (NULL-tolerant) and returns code. reason and field may be NULL. */
int ck_fail(ck_error *err, int code, const char *reason, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* CK_ENOTFOUND, reason NOT_FOUND: "<kind> <id> not found". */
int ck_not_found(ck_error *err, const char *kind, const char *id);

/* The errorCode category of a code (API.md's vocabulary: BAD_REQUEST,
 * NOT_FOUND, CONFLICT, UNKNOWN_EXCEPTION, ...). Static. */
const char *ck_code_category(int code);

/* 1 when code is the caller's to fix (bad input, not found, conflict...),
 * 0 when it is ours (internal, busy storage, unknown). */
int ck_code_is_client(int code);

#endif
