/* faults.c: the fault point registry and the CHECKOUTD_FAULTS parser. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/faults.h"

/* The registry: one line per point. takes_arg: the point is "name:<arg>". */
static const struct {
    const char *name;
    int takes_arg;
} registry[] = {
    {"session.create", 0}, /* writing the checkout session fails */
    {"step.fail", 1},      /* step.fail:<step>: the step fails with INTERNAL_ERROR */
    {"crash.after", 1},    /* crash.after:<step>: _exit(99) right after the step's commit; also
                            * crash.after:fulfill|cancel|return|capture after that change's last commit */
    {"crash.gateway", 0},  /* _exit(99) after the gateway answered an authorization, or a change's
                            * capture or refund, before any commit */
    {"crash.capture", 0},  /* _exit(99) after the gateway captured, before the payment is recorded */
    {"crash.before_void", 0}, /* _exit(99) after a void was decided and committed, before the gateway call */
    {"crash.sync", 0},        /* SQLite: _exit(99) at a group commit's fsync, before it returns (whoever
                               * waits for it, an answer or an outbound call, never happens) */
};

typedef struct armed {
    char point[96];
    long remaining; /* -1: always */
} armed;

struct ck_faults {
    pthread_mutex_t mu;
    int n;
    armed pts[32];
};

static int known(const char *point)
{
    const char *colon = strchr(point, ':');
    size_t n = colon ? (size_t)(colon - point) : strlen(point);
    for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
        if (strlen(registry[i].name) == n && strncmp(registry[i].name, point, n) == 0)
            return registry[i].takes_arg ? (colon && colon[1]) : !colon;
    return 0;
}

int ck_faults_parse(ck_faults **out, const char *spec, ck_error *err)
{
    *out = NULL;
    if (!spec || !*spec)
        return 0;
    ck_faults *f = calloc(1, sizeof(*f));
    char *copy = strdup(spec);
    if (!f || !copy) {
        free(f);
        free(copy);
        return ck_fail(err, CK_EINTERNAL, "INTERNAL_ERROR", NULL, "out of memory");
    }
    pthread_mutex_init(&f->mu, NULL);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (!*tok)
            continue;
        long times = -1;
        char *star = strchr(tok, '*');
        if (star) {
            char *end = NULL;
            *star = '\0';
            times = strtol(star + 1, &end, 10);
            if (!star[1] || *end || times < 1)
                times = 0;
        }
        if (times == 0 || !known(tok) || strlen(tok) >= sizeof(f->pts[0].point) ||
            f->n >= (int)(sizeof(f->pts) / sizeof(f->pts[0]))) {
            ck_fail(err, CK_EINVALID, "BAD_FAULT", "CHECKOUTD_FAULTS", "unknown or malformed fault point '%s'", tok);
            free(copy);
            ck_faults_free(f);
            return CK_EINVALID;
        }
        snprintf(f->pts[f->n].point, sizeof(f->pts[0].point), "%s", tok);
        f->pts[f->n++].remaining = times;
    }
    free(copy);
    *out = f;
    return 0;
}

void ck_faults_free(ck_faults *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->mu);
    free(f);
}

int ck_fault(ck_faults *f, const char *point)
{
    if (!f)
        return 0;
    int fire = 0;
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->n && !fire; i++) {
        if (strcmp(f->pts[i].point, point) != 0 || f->pts[i].remaining == 0)
            continue;
        fire = 1;
        if (f->pts[i].remaining > 0)
            f->pts[i].remaining--;
    }
    pthread_mutex_unlock(&f->mu);
    return fire;
}

int ck_fault_at(ck_faults *f, const char *name, const char *arg)
{
    if (!f)
        return 0;
    char point[128];
    snprintf(point, sizeof(point), "%s:%s", name, arg);
    return ck_fault(f, point);
}

void ck_fault_crash(void)
{
    ck_log(CK_LOG_FATAL, "fault injection: crashing", NULL);
    _exit(99);
}
