/* contracts.c: POST and GET /v1/contracts, GET /v1/contracts/{id}: an
 * amount an account has agreed to draw orders against (payment method
 * `contract`). */
#include "api/common.h"
#include "api/routes.h"
#include "payments/balances.h"

#define CONTRACT_COLS "id, account_id, amount, remaining, active, created_at"
#define CONTRACT_BY_ID "SELECT " CONTRACT_COLS " FROM contracts WHERE id = ?"

static json_t *contract_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:b, s:o}", "id", ck_col_text(st, 0), "accountId",
                     ck_col_text(st, 1), "amount", (json_int_t)ck_col_int(st, 2), "remaining",
                     (json_int_t)ck_col_int(st, 3), "active", (int)ck_col_int(st, 4), "createdAt",
                     ck_json_time(ck_col_int(st, 5)));
}

/* Replies with the contract, or 404. */
static int reply_contract(ck_req *req, int status, const char *id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(req->db, &st, err, CONTRACT_BY_ID, "t", id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "contract", id);
    json_t *j = contract_json(st);
    ck_db_done(st);
    return ck_reply(req, status, j);
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
        (rc = ck_in_bool(b, "active", CK_OPTIONAL, &active, err)) < 0)
        return rc;
    ck_stmt *st = NULL;
    rc = ck_db_one(req->db, &st, err, "SELECT 1 FROM accounts WHERE id = ?", "t", account_id);
    ck_db_done(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", "accountId", "account %s not found",
                       account_id);
    ck_id_new(id, "ctr");
    int64_t now = ck_now_ms();
    rc = ck_db_exec(req->db, NULL, err,
                    "INSERT INTO contracts (id, account_id, amount, remaining, active, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    "ttiibii", id, account_id, amount, amount, active, now, now);
    if (rc == 0) /* the opening amount is the contract's first ledger row */
        rc = ck_balance_open_contract(req->db, account_id, id, amount, err);
    return rc < 0 ? rc : reply_contract(req, 201, id, err);
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
    ck_stmt *st = NULL;
    int rc;
    if (account_id && !ck_id_valid(account_id, "acct"))
        return ck_fail(err, CK_EINVALID, "INVALID_FIELD", "accountId", "'accountId' is not an account id");
    if ((rc = ck_page_params(req, "ctr", &limit, &after, err)) < 0 ||
        (account_id &&
         (rc = ck_must_exist(req->db, "SELECT 1 FROM accounts WHERE id = ?", "account", account_id, err)) < 0) ||
        (rc = ck_db_query(req->db, &st, err,
                          "SELECT " CONTRACT_COLS " FROM contracts WHERE (? = '' OR account_id = ?) AND id > ?"
                          " ORDER BY id LIMIT ?",
                          "ttti", account_id ? account_id : "", account_id ? account_id : "", after, limit)) < 0)
        return rc;
    return ck_reply_page(req, st, contract_json, limit, err);
}

const ck_route ck_routes_contracts[] = {
    {"GET", "/v1/contracts", list_contracts, 0, CK_PERM_ADMIN},
    {"POST", "/v1/contracts", create_contract, CK_ROUTE_BODY | CK_ROUTE_TX, CK_PERM_ADMIN},
    {"GET", "/v1/contracts/{id}", get_contract, 0, CK_PERM_ADMIN},
    {0},
};
