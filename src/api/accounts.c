/* accounts.c: POST and GET /v1/accounts, GET/PATCH /v1/accounts/{id}, the balance
 * ledger (GET /v1/accounts/{id}/ledger, POST /v1/accounts/{id}/adjustments),
 * and store membership: POST /v1/stores/{id}/members, DELETE
 * /v1/stores/{id}/members/{accountId}. */
#include <string.h>

#include "api/common.h"
#include "api/routes.h"
#include "payments/balances.h"

#define ACCOUNT_COLS "id, name, is_buyer, credit_limit, credit_used, prepaid_balance," \
                     " hazmat_approved, country, created_at, updated_at"

static json_t *account_json(ck_stmt *st)
{
    return json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:b, s:s, s:o, s:o}", "id", ck_col_text(st, 0),
                     "name", ck_col_text(st, 1), "isBuyer", ck_col_int(st, 2) != 0, "creditLimit",
                     (json_int_t)ck_col_int(st, 3), "creditUsed", (json_int_t)ck_col_int(st, 4),
                     "prepaidBalance", (json_int_t)ck_col_int(st, 5), "hazmatApproved",
                     ck_col_int(st, 6) != 0, "country", ck_col_text(st, 7), "createdAt",
                     ck_json_time(ck_col_int(st, 8)), "updatedAt", ck_json_time(ck_col_int(st, 9)));
}

/* Replies with the account, or 404. */
static int reply_account(ck_req *req, int status, const char *id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(req->db, &st, err, "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?", "t", id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "account", id);
    json_t *j = account_json(st);
    ck_db_done(st);
    return ck_reply(req, status, j);
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

/* The account body's fields. */
typedef struct account_in {
    const char *name, *country;
    int is_buyer, hazmat; /* -1: absent */
    int64_t credit_limit, prepaid; /* -1: absent */
} account_in;

/* Reads the body into in; absent fields keep their preset values. create
 * makes name and country required. Returns the number of fields present, or <0. */
static int read_account(json_t *b, int create, account_in *in, ck_error *err)
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
    if ((rc = ck_in_int(b, "prepaidBalance", CK_OPTIONAL, 0, CK_MONEY_MAX, &in->prepaid, err)) < 0)
        return rc;
    n += rc;
    if ((rc = ck_in_bool(b, "hazmatApproved", CK_OPTIONAL, &in->hazmat, err)) < 0)
        return rc;
    n += rc;
    if ((rc = ck_in_country(b, "country", create, &in->country, err)) < 0)
        return rc;
    return n + rc;
}

static int create_account(ck_req *req, ck_error *err)
{
    account_in in = {NULL, NULL, 1, 0, 0, 0};
    char id[CK_ID_MAX];
    int rc = read_account(req->json, 1, &in, err);
    if (rc < 0)
        return rc;
    ck_id_new(id, "acct");
    int64_t now = ck_now_ms();
    rc = ck_db_exec(req->db, NULL, err,
                    "INSERT INTO accounts (id, name, is_buyer, credit_limit, credit_used, prepaid_balance,"
                    " hazmat_approved, country, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
                    "ttiiiitii", id, in.name, (int64_t)in.is_buyer, in.credit_limit, in.prepaid,
                    (int64_t)in.hazmat, in.country, now, now);
    if (rc == 0) /* the opening balance is the ledger's first row */
        rc = ck_balance_open_prepaid(req->db, id, in.prepaid, err);
    return rc < 0 ? rc : reply_account(req, 201, id, err);
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
    ck_stmt *st = NULL;
    int rc;
    if ((rc = ck_page_params(req, "acct", &limit, &after, err)) < 0 ||
        (rc = ck_db_query(req->db, &st, err, "SELECT " ACCOUNT_COLS " FROM accounts WHERE id > ? ORDER BY id LIMIT ?",
                          "ti", after, limit)) < 0)
        return rc;
    return ck_reply_page(req, st, account_json, limit, err);
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
    account_in in = {NULL, NULL, -1, -1, -1, -1};
    int rc = read_account(req->json, 0, &in, err);
    if (rc <= 0)
        return rc < 0 ? rc : reply_account(req, 200, id, err);
    int64_t changed = 0;
    rc = ck_db_exec(req->db, &changed, err,
                    "UPDATE accounts SET name = COALESCE(?, name),"
                    " is_buyer = CASE WHEN ? >= 0 THEN ? ELSE is_buyer END,"
                    " credit_limit = CASE WHEN ? >= 0 THEN ? ELSE credit_limit END,"
                    " hazmat_approved = CASE WHEN ? >= 0 THEN ? ELSE hazmat_approved END,"
                    " country = COALESCE(?, country), updated_at = ? WHERE id = ?",
                    "tiiiiiitit", in.name, (int64_t)in.is_buyer, (int64_t)in.is_buyer, in.credit_limit,
                    in.credit_limit, (int64_t)in.hazmat, (int64_t)in.hazmat, in.country, ck_now_ms(), id);
    if (rc < 0)
        return rc;
    if (changed == 0)
        return ck_not_found(err, "account", id);
    if (in.prepaid >= 0 && (rc = ck_balance_set_prepaid(req->db, id, in.prepaid, err)) < 0)
        return rc;
    return reply_account(req, 200, id, err);
}

static json_t *ledger_json(ck_stmt *st)
{
    json_t *e = json_pack("{s:s, s:s, s:I, s:s, s:o}", "id", ck_col_text(st, 0), "kind", ck_col_text(st, 1),
                          "amount", (json_int_t)ck_col_int(st, 2), "entry", ck_col_text(st, 3), "createdAt",
                          ck_json_time(ck_col_int(st, 7)));
    static const char *const keys[] = {"contractId", "sessionId", "orderId", "memo"};
    static const int cols[] = {4, 5, 6, 8};
    for (int k = 0; k < 4; k++) {
        const char *v = ck_col_text_or_null(st, cols[k]);
        json_object_set_new(e, keys[k], v ? json_string(v) : json_null());
    }
    return e;
}

#define LEDGER_COLS "id, kind, amount, entry, contract_id, session_id, order_id, created_at, memo"

/* GET /v1/accounts/{id}/ledger: every balance change of the account, oldest first. */
static int account_ledger(ck_req *req, ck_error *err)
{
    int64_t limit;
    const char *after;
    int rc = ck_page_params(req, "led", &limit, &after, err);
    if (rc < 0 || (rc = ck_must_exist(req->db, "SELECT 1 FROM accounts WHERE id = ?", "account", req->params[0],
                                      err)) < 0)
        return rc;
    ck_stmt *st = NULL;
    rc = ck_db_query(req->db, &st, err,
                     "SELECT " LEDGER_COLS " FROM balance_ledger WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?",
                     "tti", req->params[0], after, limit);
    return rc < 0 ? rc : ck_reply_page(req, st, ledger_json, limit, err);
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
    if ((rc = ck_balance_adjust(req->db, req->params[0], kind, amount, memo, ledger_id, err)) < 0)
        return rc;
    ck_stmt *st = NULL;
    rc = ck_db_one(req->db, &st, err, "SELECT " LEDGER_COLS " FROM balance_ledger WHERE id = ?", "t", ledger_id);
    if (rc <= 0)
        return rc < 0 ? rc : ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "the ledger row vanished");
    json_t *j = ledger_json(st);
    ck_db_done(st);
    return ck_reply(req, 201, j);
}

/* Replies with the membership row {"storeId","accountId","createdAt"}. */
static int reply_member(ck_req *req, int status, const char *store_id, const char *account_id,
                        ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(req->db, &st, err,
                       "SELECT created_at FROM store_members WHERE store_id = ? AND account_id = ?", "tt",
                       store_id, account_id);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "membership row vanished");
    json_t *j = json_pack("{s:s, s:s, s:o}", "storeId", store_id, "accountId", account_id, "createdAt",
                          ck_json_time(ck_col_int(st, 0)));
    ck_db_done(st);
    return ck_reply(req, status, j);
}

/* Adding a member again is idempotent: 201 the first time, 200 with the
 * original row after. */
static int add_member(ck_req *req, ck_error *err)
{
    static const char *const fields[] = {"accountId", NULL};
    const char *store_id = req->params[0], *account_id = NULL;
    int rc;
    if ((rc = ck_in_only(req->json, fields, err)) < 0 ||
        (rc = ck_in_id(req->json, "accountId", CK_REQUIRED, "acct", &account_id, err)) < 0)
        return rc;
    if ((rc = ck_must_exist(req->db, "SELECT 1 FROM stores WHERE id = ?", "store", store_id, err)) < 0 ||
        (rc = ck_must_exist(req->db, "SELECT 1 FROM accounts WHERE id = ?", "account", account_id, err)) < 0)
        return rc;
    int64_t added = 0;
    rc = ck_db_exec(req->db, &added, err,
                    "INSERT INTO store_members (store_id, account_id, created_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (store_id, account_id) DO NOTHING",
                    "tti", store_id, account_id, ck_now_ms());
    if (rc < 0)
        return rc;
    return reply_member(req, added ? 201 : 200, store_id, account_id, err);
}

static int remove_member(ck_req *req, ck_error *err)
{
    const char *store_id = req->params[0], *account_id = req->params[1];
    int64_t removed = 0;
    int rc = ck_db_exec(req->db, &removed, err,
                        "DELETE FROM store_members WHERE store_id = ? AND account_id = ?", "tt", store_id,
                        account_id);
    if (rc < 0)
        return rc;
    if (removed == 0)
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
