/* Shared pieces of the model-subcommand tests (test_cmd_model.c,
 * test_cmd_model_sentiment.c; header-only, like live_fixture.h): the test's
 * temporary directory, paths below it, calling a subcommand with a
 * NULL-terminated argument list, and the teardown that removes the
 * directory. Each test file writes its own setup (its own market). */
#ifndef COCE_TESTS_CMD_MODEL_FIXTURE_H
#define COCE_TESTS_CMD_MODEL_FIXTURE_H

#include "testutil.h"

#include <stdarg.h>
#include <stdio.h>

/* The test's temporary directory (filled by the test file's setup). */
static char dir[512];

/* fn(argc, argv) with argv = {a0, ..., NULL}; at most 39 arguments. */
static inline int run(int (*fn)(int, char **), const char *a0, ...)
{
    char *argv[40];
    int argc = 0;
    argv[argc++] = (char *)a0;
    va_list ap;
    va_start(ap, a0);
    char *s;
    while ((s = va_arg(ap, char *)) != NULL && argc < 39)
        argv[argc++] = s;
    va_end(ap);
    argv[argc] = NULL;
    return fn(argc, argv);
}

/* dir/rel in one of 8 rotating buffers, so that a call may pass several. */
static inline char *p(const char *rel)
{
    static char buf[8][1024];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, rel);
    return buf[i];
}

static inline int teardown(void **state)
{
    (void)state;
    coce_test_rmtree(dir);
    return 0;
}

#endif
