/* standard.c: the read-only standard flow's definition (API.md "Flows"),
 * parsed once into a ck_flow by ck_flow_standard. */
#include "flows/flow.h"

const char ck_flow_standard_json[] =
    "{\"id\": \"" CK_FLOW_STANDARD_ID "\", \"name\": \"Standard\", \"version\": 1, \"steps\": ["
    "{\"name\": \"validate_cart\", \"kind\": \"builtin\"},"
    "{\"name\": \"pricing\", \"kind\": \"builtin\"},"
    "{\"name\": \"shipping\", \"kind\": \"builtin\"},"
    "{\"name\": \"tax\", \"kind\": \"builtin\"},"
    "{\"name\": \"business_rules\", \"kind\": \"builtin\"},"
    "{\"name\": \"payment\", \"kind\": \"builtin\"},"
    "{\"name\": \"create_order\", \"kind\": \"builtin\"},"
    "{\"name\": \"confirm\", \"kind\": \"builtin\"},"
    "{\"name\": \"close_cart\", \"kind\": \"builtin\"}"
    "]}";
