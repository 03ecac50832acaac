/* cart.c: cart status transitions, totals and the JSON view. */
#include <string.h>

#include "core/context.h"
#include "carts/cart.h"
#include "store/carts.h"

static const char *const status_names[] = {"Active", "Checkout", "Closed"};

const char *ck_cart_status_name(ck_cart_status s)
{
    return status_names[s];
}

static ck_cart_status status_from(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(status_names[i], s) == 0)
            return (ck_cart_status)i;
    return CK_CART_CLOSED; /* unknown text: treat as not editable */
}

int ck_cart_load(ck_db *db, const char *id, ck_cart *out, ck_error *err)
{
    ck_cart_row row;
    int rc = ck_carts_get(db, id, &row, err);
    if (rc <= 0)
        return rc;
    snprintf(out->id, sizeof(out->id), "%s", row.id);
    snprintf(out->store_id, sizeof(out->store_id), "%s", row.store_id);
    snprintf(out->account_id, sizeof(out->account_id), "%s", row.account_id);
    snprintf(out->owner_id, sizeof(out->owner_id), "%s", row.owner_id);
    out->status = status_from(row.status);
    snprintf(out->currency, sizeof(out->currency), "%s", row.currency);
    return 1;
}

static int allowed(ck_cart_status from, ck_cart_status to)
{
    switch (from) {
    case CK_CART_ACTIVE: return to == CK_CART_CHECKOUT;
    case CK_CART_CHECKOUT: return to == CK_CART_ACTIVE || to == CK_CART_CLOSED || to == CK_CART_CHECKOUT;
    default: return 0;
    }
}

int ck_cart_set_status(ck_db *db, const char *cart_id, ck_cart_status to, ck_error *err)
{
    ck_cart c;
    int rc = ck_cart_load(db, cart_id, &c, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return ck_not_found(err, "cart", cart_id);
    if (!allowed(c.status, to))
        return ck_fail(err, CK_ECONFLICT, "INVALID_CART_STATUS", NULL, "a %s cart cannot become %s",
                       ck_cart_status_name(c.status), ck_cart_status_name(to));
    if (c.status == to)
        return 0;
    rc = ck_carts_set_status(db, cart_id, ck_cart_status_name(c.status), ck_cart_status_name(to), ck_now_ms(), err);
    if (rc < 0)
        return rc;
    if (rc != 1) {
        /* Another transaction moved it first (PostgreSQL re-checks the row
         * after waiting for it): reaching the same status is success. */
        ck_cart now;
        if ((rc = ck_cart_load(db, cart_id, &now, err)) < 0)
            return rc;
        if (rc == 1 && now.status == to)
            return 0;
        return ck_fail(err, CK_ECONFLICT, "INVALID_CART_STATUS", NULL, "the cart's status changed meanwhile");
    }
    return 0;
}

int ck_cart_hold_editable(ck_db *db, const char *cart_id, ck_error *err)
{
    int rc = ck_carts_hold_active(db, cart_id, err);
    return rc < 0 ? rc : rc == 1;
}

int ck_cart_recompute(ck_db *db, const char *cart_id, ck_error *err)
{
    return ck_carts_recompute(db, cart_id, ck_now_ms(), err);
}
