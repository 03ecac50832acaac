/* faults.h: fault injection points (only with --enable-fault-injection).
 * CHECKOUTD_FAULTS holds comma-separated points, each POINT or POINT*N (fire
 * the first N times only). A point is a name from the registry in faults.c,
 * with ":<argument>" for points that take one (step.fail:<step>). */
#ifndef CK_FAULTS_H
#define CK_FAULTS_H

#include "checkout/error.h"

typedef struct ck_faults ck_faults;

/* Parses spec; unknown point names are an error (a typo must not silently
 * disable a test). *out is NULL for an empty spec; free with ck_faults_free. */
int ck_faults_parse(ck_faults **out, const char *spec, ck_error *err);
void ck_faults_free(ck_faults *f);

/* True (and counts one firing) when point is armed. NULL f: never. Thread-safe. */
int ck_fault(ck_faults *f, const char *point);
/* As ck_fault for "<name>:<arg>". */
int ck_fault_at(ck_faults *f, const char *name, const char *arg);

/* Exits the process at once, as a crash would (no cleanup, no flush). */
void ck_fault_crash(void) __attribute__((noreturn));

#endif
