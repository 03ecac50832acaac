/* extensions.h: the step kinds a merchant's flow adds to the built-ins:
 * "lua" (a sandboxed check(cart) script, flows/lua.h) and "http" (a signed
 * callout to the merchant's service, flows/callout.h), and the cart both
 * are shown (API.md "Flows"). */
#ifndef CK_FLOWS_EXTENSIONS_H
#define CK_FLOWS_EXTENSIONS_H

#include <jansson.h>

#include "flows/callout.h"
#include "steps/step.h"

#define CK_CALLOUT_TIMEOUT_MAX_MS 30000

extern const ck_step_kind ck_step_lua, ck_step_http;

/* The cart an extension step is shown: {"items":[{"sku","productId",
 * "quantity","salesPrice","adjustment"}],"totals":{...},"account":{"id",
 * "name","country"},"inputs":{...},"paymentMethod"} (paymentMethod null
 * when none is chosen). A new reference, or NULL with ctx->err set. */
json_t *ck_flow_cart_json(ck_step_ctx *ctx);

#endif
