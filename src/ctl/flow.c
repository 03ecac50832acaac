/* flow.c: checkoutctl flow export FLOW_ID and flow import --store STORE_ID
 * FILE: flows as files, so they can live in version control and move from
 * staging to production (API.md "Flows"). export prints the flow as GET
 * /v1/flows/{id} shows it, without inFlightSessions (a count, not part of
 * the flow); import reads name and steps from such a file (other fields are
 * ignored) into a new Draft, checked as PUT /v1/flows checks it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "ctl/ctl.h"
#include "flows/flows.h"

#define FLOW_FILE_MAX (1024 * 1024) /* as a request body */

static int export_flow(const char *db_url, const char *id)
{
    ck_error err;
    ck_error_clear(&err);
    ck_db *db = NULL;
    json_t *flow = NULL;
    int status = 1;
    if (open_db(&db, db_url, &err) < 0 || ck_flow_view(db, id, NULL, &flow, &err) < 0)
        goto done;
    json_object_del(flow, "inFlightSessions");
    char *text = json_dumps(flow, JSON_INDENT(2));
    if (!text || printf("%s\n", text) < 0 || fflush(stdout) != 0) {
        free(text);
        ck_fail(&err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "could not write the flow");
        goto done;
    }
    free(text);
    status = 0;
done:
    json_decref(flow);
    ck_db_close(db);
    return status ? failed("flow export", &err) : 0;
}

/* Reads a flow file (path, or "-" for stdin) whole, at most FLOW_FILE_MAX
 * bytes: the parsed object, or NULL with err set. */
static json_t *read_flow_file(const char *path, ck_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        ck_fail(err, CK_EINVALID, "INVALID_FILE", NULL, "cannot open %s", path);
        return NULL;
    }
    char *buf = malloc(FLOW_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, FLOW_FILE_MAX + 1, f) : 0;
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    json_t *doc = NULL;
    json_error_t jerr;
    if (!buf)
        ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    else if (bad)
        ck_fail(err, CK_EINVALID, "INVALID_FILE", NULL, "cannot read %s", path);
    else if (n > FLOW_FILE_MAX)
        ck_fail(err, CK_EINVALID, "INVALID_FILE", NULL, "%s is larger than %d bytes", path, FLOW_FILE_MAX);
    else if (!(doc = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr)))
        ck_fail(err, CK_EJSON, "JSON_PARSER_ERROR", NULL, "%s: malformed JSON at line %d column %d: %s", path,
                jerr.line, jerr.column, jerr.text);
    free(buf);
    return doc;
}

static int import_flow(const char *db_url, const char *store_id, const char *path)
{
    ck_error err;
    ck_error_clear(&err);
    ck_db *db = NULL;
    char id[CK_ID_MAX];
    int status = 1;
    json_t *doc = read_flow_file(path, &err);
    if (!doc || open_db(&db, db_url, &err) < 0 || ck_flow_import(db, store_id, doc, id, &err) < 0)
        goto done;
    printf("%s\n", id);
    status = 0;
done:
    json_decref(doc);
    ck_db_close(db);
    return status ? failed("flow import", &err) : 0;
}

int ctl_flow(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"store", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db_url = DEFAULT_DB, *store_id = NULL;
    if (argc < 2)
        return usage_error("flow", "export FLOW_ID or import --store STORE_ID FILE");
    const char *sub = argv[1];
    int c;
    /* The subcommand plays argv[0] for getopt. */
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db_url = optarg; break;
        case 's': store_id = optarg; break;
        case 'h': usage(stdout); return 0;
        default: return usage_error("flow", "bad option (see --help)");
        }
    }
    int nargs = argc - 1 - optind;
    char **args = argv + 1 + optind;
    if (strcmp(sub, "export") == 0) {
        if (store_id)
            return usage_error("flow export", "--store is for import");
        if (nargs != 1)
            return usage_error("flow export", "FLOW_ID is required (and only it)");
        if (strncmp(args[0], "flow_", 5) != 0)
            return usage_error("flow export", "'%s' is not a flow id (flow_...)", args[0]);
        return export_flow(db_url, args[0]);
    }
    if (strcmp(sub, "import") == 0) {
        if (!store_id || !ck_id_valid(store_id, "store"))
            return usage_error("flow import", "--store STORE_ID (store_...) is required");
        if (nargs != 1)
            return usage_error("flow import", "FILE is required (and only it; - for stdin)");
        return import_flow(db_url, store_id, args[0]);
    }
    return usage_error("flow", "unknown subcommand '%s' (export or import)", sub);
}
