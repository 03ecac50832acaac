/* user.h: the authenticated caller and what it may do. */
#ifndef CK_USER_H
#define CK_USER_H

#include <jansson.h>

#include "checkout/error.h"
#include "core/util.h"

/* Permissions of a user, as a bit set. */
enum {
    CK_PERM_BUYER = 1 << 0,
    CK_PERM_INTEGRATOR = 1 << 1,
    CK_PERM_ADMIN = 1 << 2,
    CK_PERM_APPROVER = 1 << 3,
    CK_PERM_FULFILLMENT = 1 << 4,
};

typedef struct ck_user {
    char id[CK_ID_MAX];
    char name[256];
    char email[256];
    unsigned perms;
} ck_user;

#define CK_GRACE_MAX_SECONDS (30 * 86400) /* longest a replaced API key may keep working */

/* A new API key in key_out ("ck_" + 43 base64url characters; zero it after
 * use) and its SHA-256 hex, the only form stored, in hash_out. 0 or <0. */
int ck_user_new_key(char key_out[64], char hash_out[65], ck_error *err);

/* Permission names ("buyer", "admin", ...) <-> bits: 0 for an unknown name;
 * a new JSON array of the names of perms. */
unsigned ck_perm_from_name(const char *name);
json_t *ck_perms_to_json(unsigned perms);

#endif
