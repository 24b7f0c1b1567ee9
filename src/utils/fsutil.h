/* Small, careful file-system helpers: directories, atomic writes, hashing. */
#ifndef COCE_UTILS_FSUTIL_H
#define COCE_UTILS_FSUTIL_H

#include "utils/error.h"

#include <stddef.h>

/* mkdir -p of a directory. */
int coce_fs_mkdir_p(const char *dir);
/* mkdir -p of the directory that holds `path`. */
int coce_fs_mkdir_parent(const char *path);

/* Writes `len` bytes to `path` atomically: a temporary file in the same
 * directory, fsync, rename over `path`, fsync of the directory. On any
 * failure the old file is left untouched. */
int coce_fs_write_atomic(const char *path, const void *data, size_t len,
                         coce_err *err);

/* Reads a whole file into a malloc'ed buffer, NUL-terminated. */
int coce_fs_read_all(const char *path, char **out, size_t *out_len,
                     coce_err *err);

/* 1 if a regular file or directory exists at path. */
int coce_fs_exists(const char *path);

/* SHA-256 of a file's bytes as 64 lowercase hex characters + NUL. */
int coce_fs_sha256_file(const char *path, char out_hex[65], coce_err *err);
/* SHA-256 of a buffer. */
void coce_sha256_hex(const void *data, size_t len, char out_hex[65]);

#endif
