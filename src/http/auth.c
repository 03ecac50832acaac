/* auth.c: API keys (only their SHA-256 is stored; see core/user.c), permissions, account access. */
#include <string.h>

#include "store/users.h"
#include "http/http.h"

static const struct {
    const char *name;
    unsigned bit;
} perm_names[] = {
    {"buyer", CK_PERM_BUYER},       {"integrator", CK_PERM_INTEGRATOR},
    {"admin", CK_PERM_ADMIN},       {"approver", CK_PERM_APPROVER},
    {"fulfillment", CK_PERM_FULFILLMENT},
};

unsigned ck_perm_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(perm_names) / sizeof(perm_names[0]); i++)
        if (strcmp(perm_names[i].name, name) == 0)
            return perm_names[i].bit;
    return 0;
}

json_t *ck_perms_to_json(unsigned perms)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof(perm_names) / sizeof(perm_names[0]); i++)
        if (perms & perm_names[i].bit)
            json_array_append_new(a, json_string(perm_names[i].name));
    return a;
}

int ck_auth_lookup(ck_db *db, const char *api_key, ck_user *out, ck_error *err)
{
    return ck_user_by_key(db, api_key, out, err);
}

int ck_can_buy_for(ck_req *req, const char *account_id, ck_error *err)
{
    return ck_user_can_buy_for(req->db, &req->user, account_id, err);
}
