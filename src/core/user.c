/* user.c: the caller's identity: permission names, new API keys (only their SHA-256 hex is
 * ever stored; store/users.c keeps users and keys). */
#include <stdio.h>
#include <string.h>

#include "core/user.h"

int ck_user_new_key(char key_out[64], char hash_out[65], ck_error *err)
{
    if (ck_api_key_new(key_out) != 0)
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "no randomness for an API key");
    ck_sha256_hex(hash_out, key_out, strlen(key_out));
    return 0;
}

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
