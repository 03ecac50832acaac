/* admin_page.c: GET /admin, the admin dashboard (API.md "Admin
 * dashboard"): one page compiled into the binary with its script, style
 * and Chart.js, served without a key (the page asks for one and calls the
 * API with it). Every other path under /admin/ falls back to the page;
 * /admin/assets/<name> is one of the files, or 404. */
#include <string.h>

#include "api/admin_assets.h"
#include "api/common.h"
#include "api/routes.h"

static const ck_admin_asset *asset(const char *name)
{
    for (const ck_admin_asset *a = ck_admin_assets; a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

static int admin_page(ck_req *req, ck_error *err)
{
    const char *rest = req->route && strcmp(req->route, "/admin") == 0 ? "" : req->params[0];
    const ck_admin_asset *a = NULL;
    if (strncmp(rest, "assets/", 7) == 0) {
        a = strcmp(rest + 7, "index.html") == 0 ? NULL : asset(rest + 7);
        if (!a)
            return ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", NULL, "no dashboard file %s", rest);
    } else {
        a = asset("index.html");
    }
    if (!a)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "the dashboard was not built in");
    req->status = 200;
    req->raw = a->data;
    req->raw_len = a->len;
    req->raw_ctype = a->ctype;
    return 0;
}

const ck_route ck_routes_admin_page[] = {
    {"GET", "/admin", admin_page, CK_ROUTE_NOAUTH, 0},
    {"GET", "/admin/{*path}", admin_page, CK_ROUTE_NOAUTH, 0},
    {0},
};
