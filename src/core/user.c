/* user.c: the caller's identity: new API keys (only their SHA-256 hex is
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
