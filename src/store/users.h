/* users.h: the users and keys repository: the one INSERT of a user, the
 * user of an API key, key rotation, and who may buy for which account. */
#ifndef CK_STORE_USERS_H
#define CK_STORE_USERS_H

#include "checkout/db.h"
#include "core/user.h"

/* The one INSERT of a user: an enabled user with that key hash; its new id
 * goes to id_out. Runs in the caller's transaction, if any. 0 or <0
 * (CK_EDUP if the hash is taken). */
int ck_user_insert(ck_db *db, const char *name, const char *email, unsigned perms, const char *key_hash,
                   char id_out[CK_ID_MAX], ck_error *err);

/* The user an API key belongs to: its current key, or a replaced one whose
 * grace period has not ended. 0 with *out filled; CK_EUNAUTH (reason
 * UNAUTHORIZED) for an unknown or expired key, CK_EUNAUTH (reason
 * USER_DISABLED) for a disabled user's key; or <0. */
int ck_user_by_key(ck_db *db, const char *api_key, ck_user *out, ck_error *err);

/* Gives user_id a new key (key_out, 64 bytes, shown once; zero it after
 * use). The key it replaces keeps working for grace_seconds (0: stops at
 * once); keys replaced earlier stop then too, if not sooner. *until gets
 * the moment the replaced key stops (ms). Call inside a write transaction.
 * 0, CK_ENOTFOUND, or <0. */
int ck_user_rotate_key(ck_db *db, const char *user_id, int64_t grace_seconds, char key_out[64], int64_t *until,
                       ck_error *err);

/* Can the user buy for account_id? Admins and integrators: any account;
 * buyers: the accounts given to them. Returns 1, 0, or <0. */
int ck_user_can_buy_for(ck_db *db, const ck_user *user, const char *account_id, ck_error *err);

/* Makes sure a user with the admin permission has this API key (at least
 * 16 characters), enabled, in its own transaction. 0 or <0. */
int ck_user_ensure_admin_key(ck_db *db, const char *key, ck_error *err);

/* Gives user_id account_id to buy for, at now, unless it has it already:
 * *added 1 when this call gave it, 0 when it was given before; *created_at
 * when it was first given. 0 or <0. */
int ck_users_give_account(ck_db *db, const char *user_id, const char *account_id, int *added, int64_t *created_at,
                          ck_error *err);

/* A user as API.md shows it (never a key). */
typedef struct ck_user_row {
    char id[CK_ID_MAX];
    char name[256];
    char email[256];
    unsigned perms;
    int disabled;
    int64_t created_at, updated_at;
} ck_user_row;

/* Does user id exist? 1, 0, or <0. */
int ck_users_exists(ck_db *db, const char *id, ck_error *err);

/* The user id into *out: 1, 0 when there is none, or <0. */
int ck_users_get(ck_db *db, const char *id, ck_user_row *out, ck_error *err);

/* Up to limit users with an id after `after` ("" first), in id order, into
 * rows (room for limit), how many in *n. 0 or <0. */
int ck_users_list(ck_db *db, const char *after, int64_t limit, ck_user_row *rows, int64_t *n, ck_error *err);

/* Sets the user's name (NULL leaves it), its permissions to perms when
 * has_perms, disabled when disabled >= 0, and updated_at = now. 1 changed,
 * 0 when there is no such user, or <0. */
int ck_users_update(ck_db *db, const char *id, const char *name, int has_perms, unsigned perms, int disabled,
                    ck_error *err);

/* Is there an enabled user with the admin permission? 1, 0, or <0. */
int ck_users_any_enabled_admin(ck_db *db, ck_error *err);

/* The user with that id (id, name, email, permissions; disabled or not):
 * 1 found (*out filled), 0 none, <0. */
int ck_users_by_id(ck_db *db, const char *id, ck_user *out, ck_error *err);

#endif
