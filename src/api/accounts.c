/* accounts.c: POST and GET /v1/accounts, GET/PATCH /v1/accounts/{id}, the balance
 * ledger (GET /v1/accounts/{id}/ledger, POST /v1/accounts/{id}/adjustments),
 * and store membership: POST /v1/stores/{id}/members, DELETE
 * /v1/stores/{id}/members/{accountId}. */
#include <string.h>

#include "api/common.h"
#include "api/routes.h"
#include "payments/balances.h"
#include "store/accounts.h"
#include "store/stores.h"

/* Replies with the account, or 404. */
static int reply_account(ck_req *req, int status, const char *id, ck_error *err)
{
    json_t *j = NULL;
    int rc = ck_accounts_json(req->db, id, &j, err);
    return rc < 0 ? rc : ck_reply(req, status, j);
}

static const char *const account_fields[] = {"name", "isBuyer", "creditLimit", "prepaidBalance",
                                             "hazmatApproved", "country", NULL};

/* Fields of the account JSON that the server keeps: named in the error so a
 * client that sends a fetched account back learns why. */
static int reject_read_only(json_t *b, ck_error *err)
{
    static const char *const ro[] = {"id", "creditUsed", "createdAt", "updatedAt", NULL};
    for (int i = 0; ro[i]; i++)
        if (json_object_get(b, ro[i]))
            return ck_fail(err, CK_EINVALID, "UNKNOWN_FIELD", ro[i],
                           "'%s' is kept by the server and cannot be set", ro[i]);
    return 0;
}

/* Reads the body into in; absent fields keep their preset values. create
 * makes name and country required. Returns the number of fields present, or <0. */
static int read_account(json_t *b, int create, ck_account_fields *in, ck_error *err)
{
    int rc, n = 0;
    if ((rc = reject_read_only(b, err)) < 0 || (rc = ck_in_only(b, account_fields, err)) < 0)
        return rc;
    if ((rc = ck_in_str(b, "name", create, CK_NAME_MAX, &in->name, err)) < 0)
        return rc;
    n += rc;
    if ((rc = ck_in_bool(b, "isBuyer", CK_OPTIONAL, &in->is_buyer, err)) < 0)
        return rc;
    n += rc;
    if ((rc = ck_in_int(b, "creditLimit", CK_OPTIONAL, 0, CK_MONEY_MAX, &in->credit_limit, err)) < 0)
        return rc;
    n += rc;
    if ((rc = ck_in_int(b, "prepaidBalance", CK_OPTIONAL, 0, CK_MONEY_MAX, &in->prepaid_balance, err)) < 0)
        return rc;
    n += rc;
    if ((rc = ck_in_bool(b, "hazmatApproved", CK_OPTIONAL, &in->hazmat_approved, err)) < 0)
        return rc;
    n += rc;
    if ((rc = ck_in_country(b, "country", create, &in->country, err)) < 0)
        return rc;
    return n + rc;
}

static int create_account(ck_req *req, ck_error *err)
{
    ck_account_fields in = {.is_buyer = 1};
    char id[CK_ID_MAX];
    int rc;
    if ((rc = read_account(req->json, 1, &in, err)) < 0 || (rc = ck_accounts_insert(req->db, &in, id, err)) < 0 ||
        /* the opening balance is the ledger's first row */
        (rc = ck_balance_open_prepaid(req->db, id, in.prepaid_balance, err)) < 0)
        return rc;
    return reply_account(req, 201, id, err);
}

static int get_account(ck_req *req, ck_error *err)
{
    return reply_account(req, 200, req->params[0], err);
}

/* GET /v1/accounts: every account, oldest first. */
static int list_accounts(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after;
    json_t *items = NULL;
    char last[CK_ID_MAX];
    int rc;
    if ((rc = ck_page_params(req, "acct", &limit, &after, err)) < 0 ||
        (rc = ck_accounts_list(req->db, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}

/* Any of the create fields. A creditLimit below the credit already used is
 * allowed: it only blocks further credit until orders are paid down; it
 * does not touch creditUsed or orders already placed. prepaidBalance is set
 * outright and the difference written as an `adjust` ledger row in the same
 * commit (a concurrent debit is never erased: the difference is taken from
 * the balance as it is under the row's lock). An empty body changes nothing
 * (updatedAt included) and returns the account. */
static int patch_account(ck_req *req, ck_error *err)
{
    const char *id = req->params[0];
    ck_account_fields in = {NULL, NULL, -1, -1, -1, -1};
    int rc = read_account(req->json, 0, &in, err);
    if (rc <= 0)
        return rc < 0 ? rc : reply_account(req, 200, id, err);
    if ((rc = ck_accounts_update(req->db, id, &in, err)) < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "account", id);
    if (in.prepaid_balance >= 0 && (rc = ck_balance_set_prepaid(req->db, id, in.prepaid_balance, err)) < 0)
        return rc;
    return reply_account(req, 200, id, err);
}

/* GET /v1/accounts/{id}/ledger: every balance change of the account, oldest first. */
static int account_ledger(ck_req *req, ck_error *err)
{
    const char *id = req->params[0], *after;
    int64_t limit;
    json_t *items = NULL;
    char last[CK_ID_MAX];
    int rc;
    if ((rc = ck_page_params(req, "led", &limit, &after, err)) < 0 || (rc = ck_accounts_exists(req->db, id, err)) < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "account", id);
    if ((rc = ck_accounts_list_ledger(req->db, id, after, limit, &items, last, err)) < 0)
        return rc;
    return ck_reply(req, 200, ck_page(items, limit, last));
}

/* POST /v1/accounts/{id}/adjustments {"kind":"prepaid"|"credit","amount","memo"}:
 * a relative change, safe beside concurrent orders; 201 the ledger row. */
static int add_adjustment(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"kind", "amount", "memo", NULL};
    static const char *const kinds[] = {"prepaid", "credit", NULL};
    const char *kind = NULL, *memo = NULL;
    int64_t amount = 0;
    int rc;
    if ((rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_enum(req->json, "kind", CK_REQUIRED, kinds, &kind, err)) < 0 ||
        (rc = ck_in_int(req->json, "amount", CK_REQUIRED, -CK_MONEY_MAX, CK_MONEY_MAX, &amount, err)) < 0 ||
        (rc = ck_in_str(req->json, "memo", CK_OPTIONAL, CK_TEXT_MAX, &memo, err)) < 0)
        return rc;
    if (amount == 0)
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "amount", "'amount' must not be 0");
    char ledger_id[CK_ID_MAX];
    json_t *j = NULL;
    if ((rc = ck_balance_adjust(req->db, req->params[0], kind, amount, memo, ledger_id, err)) < 0)
        return rc;
    if ((rc = ck_accounts_ledger_entry_json(req->db, ledger_id, &j, err)) < 0)
        return rc == CK_ENOTFOUND ? ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "the ledger row vanished") : rc;
    return ck_reply(req, 201, j);
}

/* Adding a member again is idempotent: 201 the first time, 200 with the
 * original row after. */
static int add_member(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"accountId", NULL};
    const char *store_id = req->params[0], *account_id = NULL;
    json_t *j = NULL;
    int rc;
    if ((rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_id(req->json, "accountId", CK_REQUIRED, "acct", &account_id, err)) < 0)
        return rc;
    if ((rc = ck_stores_exists(req->db, store_id, err)) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "store", store_id);
    if ((rc = ck_accounts_exists(req->db, account_id, err)) <= 0)
        return rc < 0 ? rc : ck_not_found(err, "account", account_id);
    if ((rc = ck_accounts_add_member(req->db, store_id, account_id, &j, err)) < 0)
        return rc;
    return ck_reply(req, rc == 1 ? 201 : 200, j);
}

static int remove_member(ck_req *req, ck_error *err)
{
    const char *store_id = req->params[0], *account_id = req->params[1];
    int rc = ck_accounts_remove_member(req->db, store_id, account_id, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", NULL, "account %s is not a member of store %s",
                       account_id, store_id);
    req->status = 204;
    return 0;
}

const ck_route ck_routes_accounts[] = {
    {"POST", "/v1/accounts", create_account, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"GET", "/v1/accounts", list_accounts, 0, CK_PERM_ADMIN},
    {"GET", "/v1/accounts/{id}", get_account, 0, CK_PERM_ADMIN},
    {"PATCH", "/v1/accounts/{id}", patch_account, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"GET", "/v1/accounts/{id}/ledger", account_ledger, 0, CK_PERM_ADMIN},
    {"POST", "/v1/accounts/{id}/adjustments", add_adjustment, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"POST", "/v1/stores/{id}/members", add_member, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"DELETE", "/v1/stores/{id}/members/{accountId}", remove_member, CK_ROUTE_TX, CK_PERM_ADMIN},
    {0},
};
