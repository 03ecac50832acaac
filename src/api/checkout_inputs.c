/* checkout_inputs.c: the PATCH body of a checkout session, validated field
 * by field into ck_session_changes (the address, the shipping method id,
 * the payment and its method's details). */
#include <string.h>

#include "api/checkout_inputs.h"
#include "core/jsonin.h"
#include "steps/step.h"

/* Prefixes err->field with the object's name ("shippingAddress.city"). */
static int in_object(ck_error *err, const char *name, int rc)
{
    char f[sizeof(err->field) + 32];
    snprintf(f, sizeof(f), "%s.%s", name, err->field);
    snprintf(err->field, sizeof(err->field), "%.63s", f);
    return rc;
}

static int read_address(json_t *a, ck_address_input *out, ck_error *err)
{
    static const char *const fields[] = {"name", "street", "city", "region", "postalCode", "country", NULL};
    int rc;
    if (!json_is_object(a))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "shippingAddress", "'shippingAddress' must be an object");
    if ((rc = ck_in_only(a, fields, err)) < 0 || (rc = ck_in_str(a, "name", 1, CK_NAME_MAX, &out->name, err)) < 0 ||
        (rc = ck_in_str(a, "street", 1, CK_NAME_MAX, &out->street, err)) < 0 ||
        (rc = ck_in_str(a, "city", 1, CK_NAME_MAX, &out->city, err)) < 0 ||
        (rc = ck_in_str(a, "region", 0, CK_NAME_MAX, &out->region, err)) < 0 ||
        (rc = ck_in_str(a, "postalCode", 1, 32, &out->postal_code, err)) < 0 ||
        (rc = ck_in_country(a, "country", 1, &out->country, err)) < 0)
        return in_object(err, "shippingAddress", rc);
    out->region_null = json_is_null(json_object_get(a, "region"));
    return 0;
}

static int read_payment(json_t *p, ck_payment_input *out, ck_error *err)
{
    static const char *const fields[] = {"method", "cardToken", "poNumber", "contractId", NULL};
    int rc;
    if (!json_is_object(p))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "payment", "'payment' must be an object");
    if ((rc = ck_in_only(p, fields, err)) < 0 ||
        (rc = ck_in_enum(p, "method", 1, ck_payment_method_names, &out->method, err)) < 0 ||
        (rc = ck_in_str(p, "cardToken", 0, 256, &out->card_token, err)) < 0 ||
        (rc = ck_in_str(p, "poNumber", 0, 64, &out->po_number, err)) < 0 ||
        (rc = ck_in_id(p, "contractId", 0, "ctr", &out->contract_id, err)) < 0)
        return in_object(err, "payment", rc);
    /* Each method takes its own details only. */
    const char *method = out->method;
    const char *allowed = strcmp(method, "card") == 0                                        ? "cardToken"
                          : strcmp(method, "purchase_order") == 0 || !strcmp(method, "net_terms") ? "poNumber"
                          : strcmp(method, "contract") == 0                                       ? "contractId"
                                                                                                  : "";
    for (int i = 1; fields[i]; i++)
        if (json_object_get(p, fields[i]) && !json_is_null(json_object_get(p, fields[i])) &&
            strcmp(fields[i], allowed) != 0)
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", fields[i] == fields[1]   ? "payment.cardToken"
                                                               : fields[i] == fields[2] ? "payment.poNumber"
                                                                                        : "payment.contractId",
                           "payment.%s does not apply to the %s method", fields[i], method);
    out->card_token_null = json_is_null(json_object_get(p, "cardToken"));
    out->po_number_null = json_is_null(json_object_get(p, "poNumber"));
    out->contract_id_null = json_is_null(json_object_get(p, "contractId"));
    return 0;
}

/* KEEP when the body does not name the input, CLEAR for null, else SET. */
static ck_input_op op_of(json_t *v)
{
    return !v ? CK_INPUT_KEEP : json_is_null(v) ? CK_INPUT_CLEAR : CK_INPUT_SET;
}

int ck_api_read_session_changes(json_t *body, ck_session_changes *out, ck_error *err)
{
    static const char *const fields[] = {"shippingAddress", "shippingMethodId", "payment", NULL};
    json_t *addr = json_object_get(body, "shippingAddress"), *pay = json_object_get(body, "payment");
    int rc;
    memset(out, 0, sizeof(*out));
    out->address_op = op_of(addr);
    out->method_op = op_of(json_object_get(body, "shippingMethodId"));
    out->payment_op = op_of(pay);
    if ((rc = ck_in_only(body, fields, err)) < 0 ||
        (out->address_op == CK_INPUT_SET && (rc = read_address(addr, &out->address, err)) < 0) ||
        (rc = ck_in_id(body, "shippingMethodId", 0, "shm", &out->shipping_method_id, err)) < 0 ||
        (out->payment_op == CK_INPUT_SET && (rc = read_payment(pay, &out->payment, err)) < 0)) {
        out->invalid = err;
        return rc;
    }
    return 0;
}
