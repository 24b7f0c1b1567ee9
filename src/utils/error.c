#include "utils/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *coce_strerror(int code)
{
    switch (code) {
    case COCE_OK:
        return "success";
#define COCE__ERRNO_TEXT(name, value, text)                                    \
    case COCE_##name:                                                          \
        return text;
        COCE_ERRNO_MAP(COCE__ERRNO_TEXT)
#undef COCE__ERRNO_TEXT
    default:
        return "unknown error";
    }
}

const char *coce_err_name(int code)
{
    switch (code) {
    case COCE_OK:
        return "COCE_OK";
#define COCE__ERRNO_NAME(name, value, text)                                    \
    case COCE_##name:                                                          \
        return "COCE_" #name;
        COCE_ERRNO_MAP(COCE__ERRNO_NAME)
#undef COCE__ERRNO_NAME
    default:
        return "COCE_E?";
    }
}

void coce_err_clear(coce_err *err)
{
    if (err == NULL)
        return;
    err->code = COCE_OK;
    err->msg[0] = '\0';
}

int coce_err_set(coce_err *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int coce_err_prefix(coce_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return COCE_OK;
    char prefix[COCE_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix);
    size_t olen = strlen(err->msg);
    if (plen > sizeof err->msg - 1)
        plen = sizeof err->msg - 1;
    if (plen + olen > sizeof err->msg - 1)
        olen = sizeof err->msg - 1 - plen;
    memmove(err->msg + plen, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + olen] = '\0';
    return err->code;
}
