/* routes.h: the route table of each resource file. */
#ifndef CK_ROUTES_H
#define CK_ROUTES_H

#include "http/http.h"

extern const ck_route ck_routes_system[];
extern const ck_route ck_routes_stores[];
extern const ck_route ck_routes_accounts[];
extern const ck_route ck_routes_users[];
extern const ck_route ck_routes_catalog[];
extern const ck_route ck_routes_contracts[];
extern const ck_route ck_routes_subscribers[];
extern const ck_route ck_routes_carts[];
extern const ck_route ck_routes_checkouts[];
extern const ck_route ck_routes_admin[];
extern const ck_route ck_routes_orders[];
extern const ck_route ck_routes_fulfillment[];
extern const ck_route ck_routes_admin_page[];
extern const ck_route ck_routes_flows[];
extern const ck_route ck_routes_actions[];

/* Every table above, NULL-terminated: what the composition root hands to
 * http at start. */
const ck_route *const *ck_api_routes(void);

#endif
