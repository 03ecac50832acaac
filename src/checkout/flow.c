/* flow.c: the standard flow's step list and state succession. */
#include <string.h>

#include "checkout/flow.h"

const char *const ck_standard_steps[] = {"validate_cart", "pricing", "shipping", "tax", "business_rules",
                                         "payment", "create_order", "confirm", "close_cart", NULL};

const char *ck_flow_next_state(const char *state)
{
    if (strcmp(state, CK_STATE_START) == 0)
        return ck_standard_steps[0];
    for (int i = 0; ck_standard_steps[i]; i++)
        if (strcmp(ck_standard_steps[i], state) == 0)
            return ck_standard_steps[i + 1] ? ck_standard_steps[i + 1] : CK_STATE_COMPLETED;
    return NULL;
}
