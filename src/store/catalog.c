/* catalog.c: the catalog repository (store/catalog.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog.h"

int ck_catalog_take_stock(ck_db *db, const char *product_id, int64_t quantity, int64_t now, ck_error *err)
{
    int64_t changed = 0;
    int rc = ck_db_exec(db, &changed, err,
                        "UPDATE products SET stock = stock - ?, updated_at = ? WHERE id = ? AND stock >= ?", "iiti",
                        quantity, now, product_id, quantity);
    return rc < 0 ? rc : changed == 1;
}
