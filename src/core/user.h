/* user.h: the authenticated caller and what it may do. */
#ifndef CK_USER_H
#define CK_USER_H

#include "checkout/db.h"
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

/* Can the user buy for account_id? Admins and integrators: any account;
 * buyers: the accounts given to them. Returns 1, 0, or <0. */
int ck_user_can_buy_for(ck_db *db, const ck_user *user, const char *account_id, ck_error *err);

#endif
