/* common.h: small helpers shared by the resource handlers. */
#ifndef CK_API_COMMON_H
#define CK_API_COMMON_H

#include "http/http.h"
#include "core/json.h"
#include "core/jsonin.h"

/* ?limit= (1..500, default 50) and ?pageToken= (the last id of the previous
 * page, so an id with the list's prefix: anything else is 400
 * INVALID_PAGE_TOKEN). *after is "" on the first page. */
int ck_page_params(ck_req *req, const char *prefix, int64_t *limit, const char **after, ck_error *err);

/* {"items": items, "nextPageToken": last id when the page is full, else null}. Steals items. */
json_t *ck_page(json_t *items, int64_t limit, const char *last_id);

/* For calls whose body is optional: no body leaves req->json NULL; otherwise
 * it must be a JSON object (400 JSON_PARSER_ERROR or INVALID_BODY), which
 * becomes req->json (freed with the request). */
int ck_body_optional(ck_req *req, ck_error *err);

/* An item of a list as JSON by its id (*out owned by the caller); 0 or <0. */
typedef int (*ck_item_json_fn)(ck_req *req, const char *id, json_t **out, ck_error *err);

/* The items of a page whose JSON takes queries of their own, from the page's
 * ids (a repository's list of ids, read whole first so no cursor is open
 * meanwhile): each through fn, in order, into *out (the caller's). Run it in
 * the read transaction that read the ids, for a page from one snapshot.
 * 0 or <0 (*out NULL). */
int ck_items_from_ids(ck_req *req, char (*ids)[CK_ID_MAX], int64_t n, ck_item_json_fn fn, json_t **out,
                      ck_error *err);

/* The answer of a lookup by id (1 found, 0 not, <0): 404 NOT_FOUND for kind
 * and id when 0, else rc itself. */
int ck_or_404(int rc, const char *kind, const char *id, ck_error *err);

/* The account filter ?<name>=acct_... of a list of things bought for
 * accounts: 0 with *out NULL when absent; 400 INVALID_FIELD when malformed;
 * 404 alike for an account that does not exist and one the caller may not
 * buy for (ck_can_buy_for), so account ids cannot be probed (as for
 * GET /v1/orders?accountId=); 1 when present and visible. */
int ck_query_buyer_account(ck_req *req, const char *name, const char **out, ck_error *err);

#endif
