/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c, built by
 * scripts/fuzz): parsers that take a path get the input through a file. */
#ifndef COCE_FUZZ_COMMON_H
#define COCE_FUZZ_COMMON_H

#include "utils/log.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes data to "<TMPDIR>/coce_fuzz_<pid>_<suffix>"; returns the path in
 * buf, or NULL on failure. */
static inline const char *fuzz_file(const uint8_t *data, size_t size,
                             const char *suffix, char *buf, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    (void)snprintf(buf, len, "%s/coce_fuzz_%ld_%s",
                   tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp",
                   (long)getpid(), suffix);
    FILE *f = fopen(buf, "wb");
    if (f == NULL)
        return NULL;
    size_t w = size > 0 ? fwrite(data, 1, size, f) : 0;
    if (fclose(f) != 0 || w != size)
        return NULL;
    return buf;
}

static inline void fuzz_quiet(void)
{
    coce_log_set_stderr_level(COCE_LOG_OFF);
    coce_log_set_level(COCE_LOG_OFF);
}

#endif
