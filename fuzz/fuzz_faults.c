/* fuzz_faults.c: CHECKOUTD_FAULTS (ck_faults_parse), the fault injection
 * spec read from the environment. Any text is parsed; a refusal must carry a
 * reason and a NUL-terminated message and leave nothing allocated; an
 * accepted spec must parse again the same way, and its points must answer
 * ck_fault and ck_fault_at (each at most its count times) without crashing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/faults.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    if (!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    ck_faults *f = NULL;
    ck_error err;
    ck_error_clear(&err);
    int rc = ck_faults_parse(&f, spec, &err);
    if (rc < 0) {
        if (f || !err.reason[0] || memchr(err.message, '\0', sizeof(err.message)) == NULL) {
            fprintf(stderr, "a refused spec left state or no reason\n");
            abort();
        }
    } else {
        ck_faults *again = NULL;
        ck_error err2;
        ck_error_clear(&err2);
        if (ck_faults_parse(&again, spec, &err2) < 0) {
            fprintf(stderr, "an accepted spec was refused the second time: %s\n", err2.message);
            abort();
        }
        ck_faults_free(again);
        static const char *const points[] = {"session.create", "crash.gateway", "crash.capture",
                                             "crash.before_void", "crash.sync", "nope"};
        for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
            for (int t = 0; t < 3; t++)
                (void)ck_fault(f, points[i]);
        for (int t = 0; t < 3; t++) {
            (void)ck_fault_at(f, "step.fail", "payment");
            (void)ck_fault_at(f, "crash.after", spec);
        }
    }
    ck_faults_free(f);
    free(spec);
    return 0;
}
