/* subscribers.c: placeholder route table; filled in by its resource work. */
#include "api/routes.h"

const ck_route ck_routes_subscribers[] = {
    {0},
};
