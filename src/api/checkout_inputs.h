/* checkout_inputs.h: reading a PATCH /v1/checkouts/{id} body into the
 * domain's typed ck_session_changes. */
#ifndef CK_API_CHECKOUT_INPUTS_H
#define CK_API_CHECKOUT_INPUTS_H

#include <jansson.h>

#include "checkout/session.h"

/* Reads body (an object) into *out; its strings are borrowed from body.
 * Returns 0, or CK_EINVALID with err filled (reason, field, message as
 * API.md's PATCH answers them) and out->invalid = err, so the domain answers
 * it after its visibility check. The checks run in this order: unknown
 * fields, shippingAddress, shippingMethodId, payment; the first failure wins. */
int ck_api_read_session_changes(json_t *body, ck_session_changes *out, ck_error *err);

#endif
