/* router.c: every route table, and matching a method + path against them. */
#include <string.h>

#include "api/routes.h"
#include "http/http.h"

static const ck_route *const tables[] = {
    ck_routes_system, ck_routes_stores, ck_routes_accounts, ck_routes_users,
    ck_routes_catalog, ck_routes_contracts, ck_routes_subscribers, ck_routes_carts,
    ck_routes_checkouts, ck_routes_orders, ck_routes_admin,
};

/* Matches path against pattern, filling req->params. 1 on a match. */
static int match(const char *pattern, const char *path, ck_req *req)
{
    int np = 0;
    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *pe = strchr(pattern, '}');
            const char *se = strchr(path, '/');
            size_t n = se ? (size_t)(se - path) : strlen(path);
            if (!pe || n == 0 || n >= sizeof(req->params[0]) || np >= CK_MAX_PARAMS)
                return 0;
            memcpy(req->params[np], path, n);
            req->params[np++][n] = '\0';
            pattern = pe + 1;
            path += n;
        } else if (*pattern++ != *path++) {
            return 0;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

const ck_route *ck_route_match(const char *method, const char *path, ck_req *req, int *method_mismatch)
{
    *method_mismatch = 0;
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        for (const ck_route *r = tables[t]; r->method; r++) {
            if (!match(r->pattern, path, req))
                continue;
            if (strcmp(r->method, method) == 0)
                return r;
            *method_mismatch = 1;
        }
    }
    return NULL;
}
