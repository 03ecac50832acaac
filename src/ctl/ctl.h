/* ctl.h: what checkoutctl's command files share (main.c). */
#ifndef CK_CTL_CTL_H
#define CK_CTL_CTL_H

#include <stdio.h>

#include "checkout/db.h"
#include "checkout/error.h"

#define DEFAULT_DB "sqlite:./checkout.db"
#define EXIT_USAGE 2

/* The help text, on f. */
void usage(FILE *f);
/* Prints a usage error for cmd (NULL: none) and returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a failure from err and returns 1. */
int failed(const char *cmd, const ck_error *err);
/* Opens url and applies the migrations. *out belongs to the caller (ck_db_close). */
int open_db(ck_db **out, const char *url, ck_error *err);

/* checkoutctl flow export|import ... (flow.c); argv[0] is "flow". */
int ctl_flow(int argc, char **argv);

#endif
