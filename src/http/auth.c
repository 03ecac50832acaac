/* auth.c: API keys (only their SHA-256 is stored; see store/users.c) and account access. */
#include <string.h>

#include "store/users.h"
#include "http/http.h"

int ck_auth_lookup(ck_db *db, const char *api_key, ck_user *out, ck_error *err)
{
    return ck_user_by_key(db, api_key, out, err);
}

int ck_can_buy_for(ck_req *req, const char *account_id, ck_error *err)
{
    return ck_user_can_buy_for(req->db, &req->user, account_id, err);
}
