/* main.c: checkoutctl, the admin command line. Every subcommand opens the
 * database named by --db, applies the migrations, and then does one thing:
 * migrate, create-user (prints a new API key once), seed-demo (a demo store
 * with products, shipping, tax, a buyer account and two users) or flow
 * export/import (flow.c). Exit codes: 0 done, 1 failed, 2 usage error. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkout/db.h"
#include "checkout/error.h"
#include "ctl/ctl.h"
#include "core/user.h"
#include "core/util.h"
#include "payments/balances.h"
#include "store/accounts.h"
#include "store/catalog.h"
#include "store/migrations.h"
#include "store/stores.h"
#include "store/users.h"

#define DEFAULT_BASE_URL "http://127.0.0.1:8080"

void usage(FILE *f)
{
    fprintf(f,
            "usage: checkoutctl COMMAND [--db URL] [options]\n"
            "\n"
            "Every command applies pending migrations first. --db defaults to " DEFAULT_DB ".\n"
            "\n"
            "commands:\n"
            "  migrate                      apply the schema migrations and print the version\n"
            "  create-user --name NAME --email EMAIL --perm PERM[,PERM...] [--account acct_ID]...\n"
            "                               create a user and print its id and API key (shown once);\n"
            "                               PERM: buyer, integrator, admin, approver, fulfillment;\n"
            "                               --account (repeatable) lets the user buy for that account\n"
            "  seed-demo [--base-url URL]   on a database without stores, create a demo store,\n"
            "                               products, shipping, tax, a buyer account, an admin and a\n"
            "                               buyer user; print their keys and curl commands for URL\n"
            "                               (default " DEFAULT_BASE_URL ")\n"
            "  flow export FLOW_ID          print a flow (flow_standard or a store's) as JSON\n"
            "  flow import --store STORE_ID FILE\n"
            "                               create a Draft flow in the store from an exported\n"
            "                               file (- for stdin), checked as PUT /v1/flows checks\n"
            "                               it; print its id\n"
            "  help                         this text\n");
}

/* Prints a usage error and returns the usage exit code. */
int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "checkoutctl%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nrun 'checkoutctl --help' for usage\n");
    va_end(ap);
    return EXIT_USAGE;
}

/* Prints a failure from err and returns 1. */
int failed(const char *cmd, const ck_error *err)
{
    fprintf(stderr, "checkoutctl %s: %s\n", cmd, err->message[0] ? err->message : "failed");
    return 1;
}

/* Opens url and applies the migrations. *out belongs to the caller (ck_db_close). */
int open_db(ck_db **out, const char *url, ck_error *err)
{
    ck_db_options opts = {.busy_timeout_ms = 10000, .synchronous_full = 1};
    ck_db *db = NULL;
    *out = NULL;
    int rc = ck_db_open(&db, url, &opts, err);
    if (rc == 0)
        rc = ck_migrate(db, err);
    if (rc < 0) {
        ck_db_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

/* Inserts a user with a new API key; key_out (64 bytes) gets the key, id_out
 * the id. Runs inside the caller's transaction. Only the key's hash is stored. */
static int insert_user(ck_db *db, const char *name, const char *email, unsigned perms,
                       char id_out[CK_ID_MAX], char key_out[64], ck_error *err)
{
    char hash[65];
    int rc = ck_user_new_key(key_out, hash, err);
    return rc < 0 ? rc : ck_user_insert(db, name, email, perms, hash, id_out, err);
}

/* Lets the user buy for the account, as POST /v1/users/{id}/accounts does
 * (giving it twice is giving it once). 0 or <0. */
static int give_account(ck_db *db, const char *user_id, const char *account_id, ck_error *err)
{
    int added = 0;
    int64_t created_at = 0;
    return ck_users_give_account(db, user_id, account_id, &added, &created_at, err);
}

/* ---- migrate ------------------------------------------------------------ */

static int cmd_migrate(const char *db_url)
{
    ck_error err;
    ck_error_clear(&err);
    ck_db *db = NULL;
    int64_t version = 0;
    int status = 1;
    if (open_db(&db, db_url, &err) < 0)
        goto done;
    if (ck_migrate_version(db, &version, &err) < 0)
        goto done;
    printf("%s: schema version %lld\n", db_url, (long long)version);
    status = 0;
done:
    ck_db_close(db);
    return status ? failed("migrate", &err) : 0;
}

/* ---- create-user -------------------------------------------------------- */

/* Adds the permissions named in a comma-separated list to *perms; returns 0,
 * or -1 and points *bad at a copy of the unknown name (caller frees). */
static int parse_perms(const char *list, unsigned *perms, char **bad)
{
    char *copy = strdup(list);
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        unsigned bit = ck_perm_from_name(tok);
        if (!bit) {
            *bad = strdup(tok);
            rc = -1;
            break;
        }
        *perms |= bit;
    }
    free(copy);
    return rc;
}

typedef struct new_user {
    const char *name, *email;
    unsigned perms;
    const char **accounts;
    int naccounts;
    char id[CK_ID_MAX], key[64];
} new_user;

/* The transaction of create-user: the user, and the accounts it may buy
 * for (each must exist: CK_ENOTFOUND, field account). 0 or <0. */
static int create_user_tx(ck_db *db, void *arg, ck_error *err)
{
    new_user *u = arg;
    int rc = insert_user(db, u->name, u->email, u->perms, u->id, u->key, err);
    for (int i = 0; rc >= 0 && i < u->naccounts; i++) {
        rc = ck_accounts_exists(db, u->accounts[i], err);
        if (rc == 0)
            rc = ck_fail(err, CK_ENOTFOUND, "NOT_FOUND", "account", "no account %s", u->accounts[i]);
        if (rc > 0)
            rc = give_account(db, u->id, u->accounts[i], err);
    }
    return rc < 0 ? rc : 0;
}

static int cmd_create_user(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},    {"name", required_argument, 0, 'n'},
        {"email", required_argument, 0, 'e'}, {"perm", required_argument, 0, 'p'},
        {"account", required_argument, 0, 'a'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *db_url = DEFAULT_DB, *name = NULL, *email = NULL;
    unsigned perms = 0;
    const char **accounts = calloc((size_t)argc + 1, sizeof(*accounts));
    int naccounts = 0, status = 1, c;
    ck_error err;
    ck_error_clear(&err);
    ck_db *db = NULL;
    new_user u;
    memset(&u, 0, sizeof(u));

    if (!accounts)
        return 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db_url = optarg; break;
        case 'n': name = optarg; break;
        case 'e': email = optarg; break;
        case 'p': {
            char *bad = NULL;
            if (parse_perms(optarg, &perms, &bad) < 0) {
                status = usage_error("create-user",
                                     "unknown permission '%s' (use buyer, integrator, admin, approver, fulfillment)",
                                     bad);
                free(bad);
                goto done;
            }
            break;
        }
        case 'a':
            if (!ck_id_valid(optarg, "acct")) {
                status = usage_error("create-user", "--account takes an account id (acct_...), not '%s'", optarg);
                goto done;
            }
            accounts[naccounts++] = optarg;
            break;
        case 'h': usage(stdout); status = 0; goto done;
        default: status = usage_error("create-user", "bad option (see --help)"); goto done;
        }
    }
    if (optind < argc) {
        status = usage_error("create-user", "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (!name || !*name || strlen(name) > 200) {
        status = usage_error("create-user", "--name NAME is required (1 to 200 characters)");
        goto done;
    }
    if (!email || !strchr(email, '@') || strlen(email) > 200) {
        status = usage_error("create-user", "--email EMAIL is required (an address with '@')");
        goto done;
    }
    if (!perms) {
        status = usage_error("create-user", "--perm PERM[,PERM...] is required");
        goto done;
    }

    u.name = name;
    u.email = email;
    u.perms = perms;
    u.accounts = accounts;
    u.naccounts = naccounts;
    if (open_db(&db, db_url, &err) < 0 || ck_db_tx(db, 1, create_user_tx, &u, &err) < 0) {
        status = failed("create-user", &err);
        goto done;
    }
    printf("id: %s\napiKey: %s\n", u.id, u.key);
    printf("The API key is shown only this once; only its hash is stored.\n");
    status = 0;
done:
    ck_secure_zero(u.key, sizeof(u.key));
    ck_db_close(db);
    free(accounts);
    return status;
}

/* ---- seed-demo ---------------------------------------------------------- */

typedef struct demo {
    char store[CK_ID_MAX], account[CK_ID_MAX], shipping[CK_ID_MAX], tax[CK_ID_MAX];
    char products[3][CK_ID_MAX];
    char admin_id[CK_ID_MAX], buyer_id[CK_ID_MAX];
    char admin_key[64], buyer_key[64];
} demo;

static const struct {
    const char *sku, *name;
    int64_t unit_price, stock, weight_grams;
    const char *price_tiers;
    int hazmat;
} demo_products[3] = {
    {"WIDGET-1", "Widget", 1999, 100, 500, "[]", 0},
    {"WIDGET-BULK", "Widget, volume pricing", 1999, 1000, 500, "[{\"minQuantity\":10,\"unitPrice\":1799}]", 0},
    {"SOLVENT-5L", "Industrial solvent, 5 L (hazmat)", 4599, 40, 5000, "[]", 1},
};

/* Writes the demo data with the operations the daemon's API uses; runs
 * inside the caller's write transaction. */
static int seed_rows(ck_db *db, demo *d, ck_error *err)
{
    ck_store_fields store = {.name = "Demo Store", .currency = "USD", .sla_seconds = 900,
                             .stale_auth_seconds = 86400, .embargoed_countries = "[\"KP\"]"};
    int rc = ck_stores_insert(db, &store, d->store, err);
    for (int i = 0; rc == 0 && i < 3; i++) {
        ck_product p;
        memset(&p, 0, sizeof(p));
        snprintf(p.sku, sizeof(p.sku), "%s", demo_products[i].sku);
        snprintf(p.name, sizeof(p.name), "%s", demo_products[i].name);
        p.unit_price = demo_products[i].unit_price;
        p.stock = demo_products[i].stock;
        p.min_quantity = 1;
        p.weight_grams = demo_products[i].weight_grams;
        p.hazmat = demo_products[i].hazmat;
        p.active = 1;
        if (!(p.price_tiers = strdup(demo_products[i].price_tiers)))
            return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
        rc = ck_catalog_insert_product(db, d->store, &p, err);
        snprintf(d->products[i], CK_ID_MAX, "%s", p.id);
        ck_catalog_product_clear(&p);
    }
    if (rc == 0)
        rc = ck_stores_insert_shipping_method(db, d->store, "Ground", 1000, 100, d->shipping, err);
    if (rc == 0)
        rc = ck_stores_insert_tax_rate(db, d->store, "US", 825, d->tax, err);
    if (rc == 0) {
        ck_account_fields acct = {.name = "Demo Buyer Co", .country = "US", .is_buyer = 1, .hazmat_approved = 0,
                                  .credit_limit = 1000000, .prepaid_balance = 0};
        rc = ck_accounts_insert(db, &acct, d->account, err);
        if (rc == 0) /* as the daemon does: the opening balance's ledger row (none for 0) */
            rc = ck_balance_open_prepaid(db, d->account, acct.prepaid_balance, err);
    }
    if (rc == 0) {
        json_t *member = NULL;
        rc = ck_accounts_add_member(db, d->store, d->account, &member, err);
        json_decref(member);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0)
        rc = insert_user(db, "Demo Admin", "admin@demo.example", CK_PERM_ADMIN, d->admin_id, d->admin_key, err);
    if (rc == 0)
        rc = insert_user(db, "Demo Buyer", "buyer@demo.example", CK_PERM_BUYER, d->buyer_id, d->buyer_key, err);
    if (rc == 0)
        rc = give_account(db, d->buyer_id, d->account, err);
    return rc;
}

typedef struct seed {
    demo *d;
    int64_t stores; /* the stores found; the demo is written only when there are none */
} seed;

/* The transaction of seed-demo. The stores are counted inside the write
 * transaction, so two seeds at once make one store. 0 or <0. */
static int seed_tx(ck_db *db, void *arg, ck_error *err)
{
    seed *s = arg;
    int rc = ck_stores_count(db, &s->stores, err);
    if (rc < 0 || s->stores > 0)
        return rc;
    return seed_rows(db, s->d, err);
}

static void print_demo(const demo *d, const char *db_url, const char *base)
{
    printf("Demo data created in %s\n", db_url);
    printf("store: %s (Demo Store, USD; embargoed: KP)\n", d->store);
    for (int i = 0; i < 3; i++)
        printf("product: %s %s %lld cents%s%s\n", d->products[i], demo_products[i].sku,
               (long long)demo_products[i].unit_price,
               strcmp(demo_products[i].price_tiers, "[]") ? ", 1799 from 10 units" : "",
               demo_products[i].hazmat ? ", hazmat" : "");
    printf("shippingMethod: %s (Ground: 1000 + 100 per kg)\n", d->shipping);
    printf("taxRate: %s (US 825 bp)\n", d->tax);
    printf("account: %s (Demo Buyer Co, US, credit limit 1000000)\n", d->account);
    printf("admin: %s\n", d->admin_id);
    printf("buyer: %s (may buy for %s)\n", d->buyer_id, d->account);
    printf("admin key: %s\n", d->admin_key);
    printf("buyer key: %s\n", d->buyer_key);
    printf("The keys are shown only this once; only their hashes are stored.\n\nTry:\n");
    printf("curl -s -H 'Authorization: Bearer %s' %s/v1/stores/%s\n", d->admin_key, base, d->store);
    printf("curl -s -H 'Authorization: Bearer %s' %s/v1/accounts/%s\n", d->admin_key, base, d->account);
    printf("curl -s -X POST -H 'Authorization: Bearer %s' -H 'Content-Type: application/json'"
           " -d '{\"accountId\":\"%s\"}' %s/v1/stores/%s/carts\n",
           d->buyer_key, d->account, base, d->store);
    fflush(stdout);
}

static int cmd_seed_demo(const char *self, int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},
        {"base-url", required_argument, 0, 'b'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *db_url = DEFAULT_DB, *base = DEFAULT_BASE_URL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db_url = optarg; break;
        case 'b': base = optarg; break;
        case 'h': usage(stdout); return 0;
        default: return usage_error("seed-demo", "bad option (see --help)");
        }
    }
    if (optind < argc)
        return usage_error("seed-demo", "unexpected argument '%s'", argv[optind]);
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
        return usage_error("seed-demo", "--base-url takes http://HOST:PORT, not '%s'", base);
    size_t blen = strlen(base);
    char base_trim[512];
    if (blen >= sizeof(base_trim))
        return usage_error("seed-demo", "--base-url is too long");
    memcpy(base_trim, base, blen + 1);
    while (blen > 0 && base_trim[blen - 1] == '/')
        base_trim[--blen] = '\0';

    ck_error err;
    ck_error_clear(&err);
    ck_db *db = NULL;
    demo d;
    memset(&d, 0, sizeof(d));
    int status = 1;
    seed s = {&d, 0};

    if (open_db(&db, db_url, &err) < 0 || ck_db_tx(db, 1, seed_tx, &s, &err) < 0) {
        status = failed("seed-demo", &err);
        goto done;
    }
    int64_t stores = s.stores;
    if (stores > 0) {
        printf("Demo data exists (%lld store%s in %s); make a new API key with: "
               "%s create-user --db %s --name NAME --email EMAIL --perm admin\n",
               (long long)stores, stores == 1 ? "" : "s", db_url, self, db_url);
        status = 0;
        goto done;
    }
    print_demo(&d, db_url, base_trim);
    status = 0;
done:
    ck_secure_zero(&d, sizeof(d));
    ck_db_close(db);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error(NULL, "a command is required");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    /* Each command parses its own options: argv[1] plays argv[0]. */
    if (strcmp(cmd, "migrate") == 0) {
        static const struct option opts[] = {
            {"db", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
        const char *db_url = DEFAULT_DB;
        int c;
        while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
            if (c == 'd')
                db_url = optarg;
            else if (c == 'h') {
                usage(stdout);
                return 0;
            } else
                return usage_error("migrate", "bad option (see --help)");
        }
        if (optind < argc - 1)
            return usage_error("migrate", "unexpected argument '%s'", argv[optind + 1]);
        return cmd_migrate(db_url);
    }
    if (strcmp(cmd, "create-user") == 0)
        return cmd_create_user(argc - 1, argv + 1);
    if (strcmp(cmd, "seed-demo") == 0)
        return cmd_seed_demo(argv[0], argc - 1, argv + 1);
    if (strcmp(cmd, "flow") == 0)
        return ctl_flow(argc - 1, argv + 1);
    return usage_error(NULL, "unknown command '%s'", cmd);
}
