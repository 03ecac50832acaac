/* capture.h: capturing a card authorization at fulfilment. */
#ifndef CK_CAPTURE_H
#define CK_CAPTURE_H

#include <jansson.h>

#include "core/context.h"
#include "core/user.h"

/* Captures amount (or, when amount < 0, what remains) of the order's open
 * card authorization through the gateway. *out gets the payment
 * {"id","authorizationId","amount","createdAt"}. 404 invisible order; 400
 * NOTHING_TO_CAPTURE, CAPTURE_EXCEEDS_AUTHORIZATION (field amount) or
 * PAYMENT_DECLINED; 409 CAPTURE_IN_PROGRESS; 500 PAYMENT_GATEWAY_ERROR. */
int ck_order_capture(ck_ctx *cx, ck_db *db, const ck_user *user, const char *order_id, int64_t amount,
                     json_t **out, ck_error *err);

#endif
