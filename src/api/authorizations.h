/* authorizations.h: the list of payment holds (authorizations.c). */
#ifndef CK_API_AUTHORIZATIONS_H
#define CK_API_AUTHORIZATIONS_H

#include "http/http.h"

/* GET /v1/authorizations?status=&storeId=: payment holds, oldest first, with
 * expiresAt and orderId; each caller sees the holds of the orders and
 * sessions it may see. 400 for a bad filter, 404 for an unknown store. */
int ck_authorizations_list(ck_req *req, ck_error *err);

/* POST /v1/authorizations/{id}/void (admin): 200 the hold, Voided; 404;
 * 409 HOLD_HAS_ORDER / HOLD_NOT_AUTHORIZED; 500 PAYMENT_GATEWAY_ERROR. */
int ck_authorizations_void(ck_req *req, ck_error *err);

#endif
