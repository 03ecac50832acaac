/* common.c: helpers shared by the resource handlers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "store/accounts.h"

int ck_page_params(ck_req *req, const char *prefix, int64_t *limit, const char **after, ck_error *err)
{
    *limit = 50;
    *after = ck_query(req, "pageToken");
    const char *l = ck_query(req, "limit");
    if (l) {
        char *end = NULL;
        long long v = strtoll(l, &end, 10);
        if (!*l || *end || v < 1 || v > 500)
            return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "limit", "'limit' must be an integer from 1 to 500");
        *limit = v;
    }
    /* A token is the id of the last item of the page it ended, so one this
     * API gave is an id of the list's own type. Its item need not still
     * exist: paging goes on past an item deleted meanwhile. */
    if (*after && !ck_id_valid(*after, prefix))
        return ck_fail(err, CK_EINVALID, "INVALID_PAGE_TOKEN", "pageToken",
                       "'pageToken' is not a token this list gave: pass its nextPageToken unchanged");
    if (!*after)
        *after = "";
    return 0;
}

json_t *ck_page(json_t *items, int64_t limit, const char *last_id)
{
    json_t *next = ((int64_t)json_array_size(items) == limit && last_id && *last_id) ? json_string(last_id)
                                                                                     : json_null();
    return json_pack("{s:o, s:o}", "items", items, "nextPageToken", next);
}

int ck_body_optional(ck_req *req, ck_error *err)
{
    if (req->body_len == 0)
        return 0;
    json_error_t je;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!j)
        return ck_fail(err, CK_EJSON, "JSON_PARSER_ERROR", NULL, "malformed JSON at line %d column %d: %s", je.line,
                       je.column, je.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return ck_fail(err, CK_EINVALID, "INVALID_BODY", NULL, "the body must be a JSON object");
    }
    json_decref(req->json);
    req->json = j;
    return 0;
}

int ck_items_from_ids(ck_req *req, char (*ids)[CK_ID_MAX], int64_t n, ck_item_json_fn fn, json_t **out,
                      ck_error *err)
{
    json_t *items = json_array();
    int rc = items ? 0 : ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    *out = NULL;
    for (int64_t i = 0; rc >= 0 && i < n; i++) {
        json_t *j = NULL;
        if ((rc = fn(req, ids[i], &j, err)) == 0)
            json_array_append_new(items, j);
    }
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    *out = items;
    return 0;
}

int ck_or_404(int rc, const char *kind, const char *id, ck_error *err)
{
    return rc == 0 ? ck_not_found(err, kind, id) : rc;
}

int ck_query_buyer_account(ck_req *req, const char *name, const char **out, ck_error *err)
{
    const char *id = *out = ck_query(req, name);
    if (!id)
        return 0;
    if (!ck_id_valid(id, "acct"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", name, "'%s' is not an account id", name);
    int rc = ck_accounts_exists(req->db, id, err);
    if (rc == 1)
        rc = ck_can_buy_for(req, id, err);
    return rc == 0 ? ck_not_found(err, "account", id) : rc;
}
