/* routes.c: api's route tables, in one list for http. */
#include "api/routes.h"

static const ck_route *const all[] = {
    ck_routes_system, ck_routes_stores, ck_routes_accounts, ck_routes_users,
    ck_routes_catalog, ck_routes_contracts, ck_routes_subscribers, ck_routes_carts,
    ck_routes_checkouts, ck_routes_orders, ck_routes_fulfillment, ck_routes_admin, ck_routes_flows, ck_routes_actions, ck_routes_admin_page, NULL,
};

const ck_route *const *ck_api_routes(void)
{
    return all;
}
