/* errors.h: the one table from a ck_error's code and reason to the HTTP
 * status and errorCode category of API.md. */
#ifndef CK_API_ERRORS_H
#define CK_API_ERRORS_H

#include <jansson.h>

#include "checkout/error.h"

/* The HTTP status of err: its reason's row of the table, else its code's. */
int ck_api_status(const ck_error *err);

/* The errorCode category of err (static): the reason's row, else the code's. */
const char *ck_api_category(const ck_error *err);

#endif
