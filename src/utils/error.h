/* Error codes and error details shared by every COCE module.
 *
 * Every fallible function returns an int status: COCE_OK (0) or one of the
 * negative codes below. Functions that can say more (file, line, field) also
 * take a `coce_err *` (may be NULL) and fill its message. */
#ifndef COCE_UTILS_ERROR_H
#define COCE_UTILS_ERROR_H

#include <stddef.h>

/* One table: code, name, description. Append new codes at the end. */
#define COCE_ERRNO_MAP(X)                                                      \
    X(ENOMEM, -1, "out of memory")                                             \
    X(EINVAL, -2, "invalid argument")                                          \
    X(EIO, -3, "input/output error")                                           \
    X(EPARSE, -4, "malformed input")                                           \
    X(ERANGE, -5, "value out of range")                                        \
    X(ENOTFOUND, -6, "not found")                                              \
    X(EEXIST, -7, "already exists")                                            \
    X(ECONFIG, -8, "invalid configuration")                                    \
    X(ENET, -9, "network error")                                               \
    X(EHTTP, -10, "unexpected HTTP status")                                    \
    X(ETIMEOUT, -11, "timed out")                                              \
    X(ERATELIMIT, -12, "rate limited")                                         \
    X(EAUTH, -13, "authentication failed")                                     \
    X(EEXCHANGE, -14, "exchange rejected the request")                         \
    X(ESTATE, -15, "corrupt or incompatible state")                            \
    X(ELOCKED, -16, "resource locked by another process")                      \
    X(EHALTED, -17, "trading halted by the kill-switch")                       \
    X(ECONVERGE, -18, "numerical method did not converge")                     \
    X(EMISMATCH, -19, "incompatible model or data")                            \
    X(EUNKNOWN, -20, "outcome unknown")                                        \
    X(ENOTSUP, -21, "not supported")                                           \
    X(EEOF, -22, "end of input")                                               \
    X(EORDER, -23, "out of order")                                             \
    X(ESECRET, -24, "missing or misplaced secret")                             \
    X(EDATA, -25, "insufficient data")

enum {
    COCE_OK = 0,
#define COCE__ERRNO_ENUM(name, value, text) COCE_##name = (value),
    COCE_ERRNO_MAP(COCE__ERRNO_ENUM)
#undef COCE__ERRNO_ENUM
};

/* Human text of a status code; never NULL. */
const char *coce_strerror(int code);
/* Symbolic name ("COCE_EPARSE"); never NULL. */
const char *coce_err_name(int code);

#define COCE_ERR_MSG_MAX 512

/* Caller-owned error detail. */
typedef struct coce_err {
    int code;
    char msg[COCE_ERR_MSG_MAX];
} coce_err;

void coce_err_clear(coce_err *err);

/* Records `code` and a printf-style message in err (if err is not NULL)
 * and returns code, so that `return coce_err_set(err, COCE_EPARSE, ...)`
 * reads naturally. The message is truncated to fit. */
int coce_err_set(coce_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes existing detail with more context ("file.csv: " + old). */
int coce_err_prefix(coce_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
