/* driver.c: runs a fuzz target (LLVMFuzzerTestOneInput) over inputs, for
 * builds without libFuzzer (gcc): every regular file of each directory
 * given, in name order, each file given, or stdin when there are no
 * arguments. Names each input before it runs (so a sanitizer report follows
 * the name of its input) and ends with the count. Exit status 1 when an
 * argument cannot be read or no input ran: a corpus that went missing must
 * fail the test, not pass it empty. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads all of f into *out (the caller frees it). 0, or -1 with errno. */
static int slurp(FILE *f, uint8_t **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    *out = NULL;
    *len = 0;
    if (!buf)
        return -1;
    for (;;) {
        if (n == cap) {
            uint8_t *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                return -1;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Runs the target on one file. 0, or -1 when it cannot be read. */
static int run_file(const char *path)
{
    uint8_t *data = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    if (!f || slurp(f, &data, &len) < 0) {
        fprintf(stderr, "fuzz driver: %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    printf("%s (%zu bytes)\n", path, len);
    fflush(stdout);
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

static int skip_dots(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* Runs the target on every regular file of dir, in name order; adds them
 * to *ran. 0, or -1 when something cannot be read. */
static int run_dir(const char *dir, size_t *ran)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, skip_dots, alphasort), rc = 0;
    if (n < 0) {
        fprintf(stderr, "fuzz driver: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >= (int)sizeof(path)) {
            fprintf(stderr, "fuzz driver: %s/%s: path too long\n", dir, names[i]->d_name);
            rc = -1;
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) < 0)
                rc = -1;
            else
                (*ran)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t ran = 0;
    int rc = 0;
    if (argc < 2) {
        uint8_t *data = NULL;
        size_t len = 0;
        if (slurp(stdin, &data, &len) < 0) {
            fprintf(stderr, "fuzz driver: stdin: %s\n", strerror(errno));
            return 1;
        }
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        ran = 1;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "fuzz driver: %s: %s\n", argv[i], strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            if (run_dir(argv[i], &ran) < 0)
                rc = -1;
        } else if (run_file(argv[i]) < 0) {
            rc = -1;
        } else {
            ran++;
        }
    }
    printf("%zu inputs ran\n", ran);
    if (ran == 0)
        fprintf(stderr, "fuzz driver: no input ran\n");
    return rc < 0 || ran == 0 ? 1 : 0;
}
