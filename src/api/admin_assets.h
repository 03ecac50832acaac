/* admin_assets.h: the admin dashboard's files, compiled into the binary
 * (cmake/embed_assets.cmake writes the table from web/admin and Debian's
 * Chart.js). */
#ifndef CK_API_ADMIN_ASSETS_H
#define CK_API_ADMIN_ASSETS_H

#include <stddef.h>

typedef struct ck_admin_asset {
    const char *name;  /* "index.html", "app.js", "app.css", "chart.js" */
    const char *ctype; /* its Content-Type */
    const unsigned char *data;
    size_t len;
} ck_admin_asset;

/* Ends with an entry whose name is NULL. */
extern const ck_admin_asset ck_admin_assets[];

#endif
