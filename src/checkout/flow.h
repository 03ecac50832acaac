/* flow.h: the flow object moved to src/flows/flow.h; this name stays for the
 * callers that include it still. */
#ifndef CK_CHECKOUT_FLOW_H
#define CK_CHECKOUT_FLOW_H

#include "flows/flow.h"

#endif
