/* contracts.c: POST and GET /v1/contracts, GET /v1/contracts/{id}: an
 * amount an account has agreed to draw orders against (payment method
 * `contract`). */
#include "api/common.h"
#include "api/routes.h"
#include "payments/balances.h"
#include "store/accounts.h"

/* Replies with the contract, or 404. */
static int reply_contract(ck_req *req, int status, const char *id, ck_error *err)
{
    json_t *j = NULL;
    int rc = ck_accounts_contract_json(req->db, id, &j, err);
    return rc < 0 ? rc : ck_reply(req, status, j);
}

static int create_contract(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"accountId", "amount", "active", NULL};
    json_t *b = req->json;
    const char *account_id = NULL;
    int64_t amount = 0;
    int active = 1;
    char id[CK_ID_MAX];
    int rc;
    if ((rc = ck_in_only(b, fields, err)) < 0 ||
        (rc = ck_in_id(b, "accountId", CK_REQUIRED, "acct", &account_id, err)) < 0 ||
        (rc = ck_in_int(b, "amount", CK_REQUIRED, 1, CK_MONEY_MAX, &amount, err)) < 0 ||
        (rc = ck_in_bool(b, "active", CK_OPTIONAL, &active, err)) < 0 ||
        (rc = ck_accounts_exists(req->db, account_id, err)) < 0)
        return rc;
    if (rc == 0)
        return ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", "accountId", "account %s not found", account_id);
    if ((rc = ck_accounts_insert_contract(req->db, account_id, amount, active, id, err)) < 0 ||
        /* the opening amount is the contract's first ledger row */
        (rc = ck_balance_open_contract(req->db, account_id, id, amount, err)) < 0)
        return rc;
    return reply_contract(req, 201, id, err);
}

static int get_contract(ck_req *req, ck_error *err)
{
    return reply_contract(req, 200, req->params[0], err);
}

/* GET /v1/contracts[?accountId=]: contracts, oldest first; with accountId
 * only that account's (400 if malformed, 404 if there is no such account). */
static int list_contracts(ck_req *req, ck_error *err)
{
    const char *account_id = ck_query(req, "accountId"), *after = NULL;
    int64_t limit = 0;
    json_t *items = NULL;
    char last[CK_ID_MAX];
    int rc;
    if (account_id && !ck_id_valid(account_id, "acct"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "accountId", "'accountId' is not an account id");
    if ((rc = ck_page_params(req, "ctr", &limit, &after, err)) < 0)
        return rc;
    if (account_id && (rc = ck_accounts_exists(req->db, account_id, err)) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "account", account_id);
    if ((rc = ck_accounts_list_contracts(req->db, account_id, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}

const ck_route ck_routes_contracts[] = {
    {"GET", "/v1/contracts", list_contracts, 0, CK_PERM_ADMIN},
    {"POST", "/v1/contracts", create_contract, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"GET", "/v1/contracts/{id}", get_contract, 0, CK_PERM_ADMIN},
    {0},
};
