#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *coce_test_source_dir(void)
{
    const char *dir = getenv("COCE_SOURCE_DIR");
    return dir != NULL ? dir : ".";
}

const char *coce_test_shared_dir(void)
{
    static char buf[4096];
    const char *env = getenv("COCE_SHARED_DIR");
    if (env != NULL)
        (void)snprintf(buf, sizeof buf, "%s", env);
    else
        (void)snprintf(buf, sizeof buf, "%s/../shared", coce_test_source_dir());
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return buf;
}

const char *coce_test_bin(void)
{
    const char *bin = getenv("COCE_BIN");
    return bin != NULL ? bin : "./coce";
}

char *coce_test_path(char *buf, size_t len, const char *rel)
{
    (void)snprintf(buf, len, "%s/%s", coce_test_source_dir(), rel);
    return buf;
}

char *coce_test_shared_path(char *buf, size_t len, const char *rel)
{
    const char *shared = coce_test_shared_dir();
    if (shared == NULL) {
        fprintf(stderr, "skip: ../shared is absent; %s not available\n", rel);
        return NULL;
    }
    (void)snprintf(buf, len, "%s/%s", shared, rel);
    return buf;
}

char *coce_test_tmpdir(char *buf, size_t len)
{
    const char *base = getenv("TMPDIR");
    (void)snprintf(buf, len, "%s/coce-test-XXXXXX", base != NULL ? base : "/tmp");
    if (mkdtemp(buf) == NULL)
        return NULL;
    return buf;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void coce_test_rmtree(const char *path)
{
    (void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int coce_test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

char *coce_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        if (len != NULL)
            *len = n;
    }
    return buf;
}

void coce__assert_close(double a, double b, double rtol, double atol,
                        const char *expr, const char *file, int line)
{
    if (isnan(a) && isnan(b))
        return;
    if (fabs(a - b) <= atol + rtol * fabs(b))
        return;
    fprintf(stderr, "%s:%d: %s = %.17g, expected %.17g (rtol %g, atol %g)\n",
                   file, line, expr, a, b, rtol, atol);
    _fail(file, line);
}
