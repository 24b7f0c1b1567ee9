/* Helpers shared by the cmocka tests. */
#ifndef COCE_TESTUTIL_H
#define COCE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Repository root (COCE_SOURCE_DIR from CTest, else "."). */
const char *coce_test_source_dir(void);
/* ../shared beside the repository, or NULL when it is absent. */
const char *coce_test_shared_dir(void);
/* Path of the coce binary (COCE_BIN from CTest). */
const char *coce_test_bin(void);
/* Writes "<source>/<rel>" into buf; returns buf. */
char *coce_test_path(char *buf, size_t len, const char *rel);
/* Writes "<shared>/<rel>" into buf; returns NULL (and prints why) when
 * ../shared is absent, so that a test can skip() cleanly. */
char *coce_test_shared_path(char *buf, size_t len, const char *rel);
/* Creates a fresh empty temporary directory; writes its path into buf. */
char *coce_test_tmpdir(char *buf, size_t len);
/* Removes a directory tree (best effort). */
void coce_test_rmtree(const char *path);
/* Writes text to a file; returns 0 on success. */
int coce_test_write_file(const char *path, const char *text);
/* Reads a whole file into a malloc'ed NUL-terminated buffer (NULL on error). */
char *coce_test_read_file(const char *path, size_t *len);

/* |a - b| <= atol + rtol * |b| */
#define assert_close(a, b, rtol, atol)                                         \
    coce__assert_close((a), (b), (rtol), (atol), #a, __FILE__, __LINE__)
void coce__assert_close(double a, double b, double rtol, double atol,
                        const char *expr, const char *file, int line);

#endif
