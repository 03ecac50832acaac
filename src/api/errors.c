/* errors.c: reasons and codes to HTTP statuses, in one table. */
#include <string.h>

#include "api/errors.h"

/* Reasons whose status is not their code's: the checkout session action's
 * table follows the reference, which answers 500 UNKNOWN_EXCEPTION for a
 * cart id that is not valid (still the caller's error, CK_EINVALID). */
static const struct {
    const char *reason;
    int status;
    const char *category;
} by_reason[] = {
    {"INVALID_CART_ID", 500, "UNKNOWN_EXCEPTION"},
};

static int code_status(int code)
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

int ck_api_status(const ck_error *err)
{
    for (size_t i = 0; i < sizeof(by_reason) / sizeof(by_reason[0]); i++)
        if (strcmp(err->reason, by_reason[i].reason) == 0)
            return by_reason[i].status;
    return code_status(err->code);
}

const char *ck_api_category(const ck_error *err)
{
    for (size_t i = 0; i < sizeof(by_reason) / sizeof(by_reason[0]); i++)
        if (strcmp(err->reason, by_reason[i].reason) == 0)
            return by_reason[i].category;
    return ck_code_category(err->code);
}
