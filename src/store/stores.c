/* stores.c: the stores repository (store/stores.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/stores.h"

/* Copies s into a field of n bytes; 0, or -1 when it does not fit. */
static int s3_copy_field(char *dst, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len >= n)
        return -1;
    memcpy(dst, s, len + 1);
    return 0;
}

int ck_stores_gateway_config(ck_db *db, const char *store_id, char *kind, size_t kind_n, char *url, size_t url_n,
                             char *secret, size_t secret_n, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT gateway_kind, gateway_url, gateway_secret FROM stores WHERE id = ?",
                       "t", store_id);
    if (rc <= 0)
        return rc;
    if (s3_copy_field(kind, kind_n, ck_col_text(st, 0)) < 0 || s3_copy_field(url, url_n, ck_col_text(st, 1)) < 0 ||
        s3_copy_field(secret, secret_n, ck_col_text(st, 2)) < 0) {
        ck_db_done(st);
        ck_secure_zero(kind, kind_n);
        ck_secure_zero(url, url_n);
        ck_secure_zero(secret, secret_n);
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "store %s: gateway configuration too long",
                       store_id);
    }
    ck_db_done(st);
    return 1;
}
