#include "utils/env.h"

#include "utils/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        ++s;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int valid_name(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s != '\0'; ++s)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

int coce_env_load_dotenv(const char *path, coce_err *err)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return errno == ENOENT ? COCE_OK
                               : coce_err_set(err, COCE_EIO, "%s: %s", path,
                                              strerror(errno));
    char line[4096];
    size_t lineno = 0;
    int rc = COCE_OK;
    while (fgets(line, sizeof line, f) != NULL) {
        ++lineno;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        if (strncmp(s, "export ", 7) == 0)
            s = trim(s + 7);
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s:%zu: expected KEY=VALUE", path, lineno);
            break;
        }
        *eq = '\0';
        char *name = trim(s);
        char *value = trim(eq + 1);
        if (!valid_name(name)) {
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s:%zu: invalid variable name", path, lineno);
            break;
        }
        size_t vlen = strlen(value);
        if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') &&
            value[vlen - 1] == value[0]) {
            value[vlen - 1] = '\0';
            ++value;
        }
        if (setenv(name, value, 0) != 0) {
            rc = coce_err_set(err, COCE_EIO, "%s:%zu: setenv failed", path,
                              lineno);
            break;
        }
    }
    fclose(f);
    return rc;
}

static void read_secret(char *dst, const char *name)
{
    const char *v = getenv(name);
    (void)snprintf(dst, COCE_SECRET_MAX, "%s", v != NULL ? v : "");
    if (dst[0] != '\0')
        coce_log_add_secret(dst);
}

void coce_secrets_load(coce_secrets *s)
{
    read_secret(s->exchange_api_key, "EXCHANGE_API_KEY");
    read_secret(s->exchange_api_secret, "EXCHANGE_API_SECRET");
    read_secret(s->deribit_client_id, "DERIBIT_CLIENT_ID");
    read_secret(s->deribit_client_secret, "DERIBIT_CLIENT_SECRET");
    read_secret(s->twitter_bearer, "TWITTER_BEARER");
    read_secret(s->coingecko_api_key, "COINGECKO_API_KEY");
    read_secret(s->sentry_dsn, "SENTRY_DSN");
    read_secret(s->slack_webhook_url, "SLACK_WEBHOOK_URL");
}

int coce_secrets_have_exchange(const coce_secrets *s)
{
    return s->exchange_api_key[0] != '\0' && s->exchange_api_secret[0] != '\0';
}

int coce_secrets_have_deribit(const coce_secrets *s)
{
    return s->deribit_client_id[0] != '\0' &&
           s->deribit_client_secret[0] != '\0';
}

void coce_secrets_wipe(coce_secrets *s)
{
    volatile unsigned char *p = (volatile unsigned char *)s;
    for (size_t i = 0; i < sizeof *s; ++i)
        p[i] = 0;
}
