/* router.c: matching a method + path against the route tables that api
 * hands to http at start (ck_router_use); http itself knows no resource. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

#define MAX_TABLES 32
static const ck_route *tables[MAX_TABLES];
static size_t ntables;
#define NTABLES ntables

/* Route templates, each once, and for each entry of each table the index of
 * its template: the `route` label of the HTTP metrics. Built once; lives as
 * long as the process. */
static struct {
    pthread_once_t once;
    int ntemplates;
    const char **templates;
    int *entry_template[MAX_TABLES];
} names = {.once = PTHREAD_ONCE_INIT};

static void build_names(void)
{
    size_t total = 0;
    for (size_t t = 0; t < NTABLES; t++)
        for (const ck_route *r = tables[t]; r->method; r++)
            total++;
    names.templates = calloc(total ? total : 1, sizeof(*names.templates));
    for (size_t t = 0; t < NTABLES && names.templates; t++) {
        size_t n = 0;
        while (tables[t][n].method)
            n++;
        names.entry_template[t] = calloc(n ? n : 1, sizeof(int));
        if (!names.entry_template[t])
            abort(); /* at start-up: nothing can be served without it */
        for (size_t e = 0; e < n; e++) {
            int id = 0;
            while (id < names.ntemplates && strcmp(names.templates[id], tables[t][e].pattern) != 0)
                id++;
            if (id == names.ntemplates)
                names.templates[names.ntemplates++] = tables[t][e].pattern;
            names.entry_template[t][e] = id;
        }
    }
    if (!names.templates)
        abort();
}

void ck_router_use(const ck_route *const *list)
{
    if (ntables)
        return; /* once per process: the names below are built from the first list */
    for (size_t i = 0; i < MAX_TABLES && list[i]; i++)
        tables[ntables++] = list[i];
}

int ck_route_count(void)
{
    pthread_once(&names.once, build_names);
    return names.ntemplates;
}

const char *ck_route_name(int id)
{
    pthread_once(&names.once, build_names);
    return id >= 0 && id < names.ntemplates ? names.templates[id] : "unmatched";
}

/* Matches path against pattern, filling req->params. 1 on a match. */
static int match(const char *pattern, const char *path, ck_req *req)
{
    int np = 0;
    while (*pattern) {
        if (pattern[0] == '{' && pattern[1] == '*') {
            /* The rest of the path, slashes and all (empty too); kept as
             * the parameter when it fits, else the parameter is empty. */
            size_t n = strlen(path);
            if (np >= CK_MAX_PARAMS)
                return 0;
            if (n >= sizeof(req->params[0]))
                n = 0;
            memcpy(req->params[np], path, n);
            req->params[np++][n] = '\0';
            return strchr(pattern, '}') && strchr(pattern, '}')[1] == '\0';
        }
        if (!*path)
            break;
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
    pthread_once(&names.once, build_names);
    *method_mismatch = 0;
    req->route_id = -1;
    req->allow = 0;
    for (size_t t = 0; t < NTABLES; t++) {
        for (const ck_route *r = tables[t]; r->method; r++) {
            if (!match(r->pattern, path, req))
                continue;
            int id = names.entry_template[t][r - tables[t]];
            if (strcmp(r->method, method) == 0) {
                req->route_id = id;
                return r;
            }
            /* Wrong method: the answer is 405 with the methods this path has. */
            *method_mismatch = 1;
            req->route_id = id;
            req->allow |= 1u << ck_method_index(r->method);
        }
    }
    return NULL;
}
