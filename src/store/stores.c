/* stores.c: the stores repository (store/stores.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/stores.h"

int ck_stores_active_flow(ck_db *db, const char *store_id, char flow_id[CK_ID_MAX], ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT active_flow_id FROM stores WHERE id = ?", "t", store_id);
    if (rc <= 0)
        return rc;
    snprintf(flow_id, CK_ID_MAX, "%s", ck_col_text(st, 0));
    ck_db_done(st);
    return 1;
}

int ck_stores_offers_shipping_method(ck_db *db, const char *store_id, const char *method_id, ck_error *err)
{
    ck_stmt *st = NULL;
    int rc = ck_db_one(db, &st, err, "SELECT 1 FROM shipping_methods WHERE id = ? AND store_id = ?", "tt", method_id,
                       store_id);
    ck_db_done(st);
    return rc;
}
