/* db_internal.h: the fields every backend's connection and statement start with. */
#ifndef CK_DB_INTERNAL_H
#define CK_DB_INTERNAL_H

#include "checkout/db.h"

struct ck_db {
    const ck_db_driver *drv;
    int in_tx;
};

struct ck_stmt {
    ck_db *db;
};

#endif
