/* Secrets and environment: secrets come only from the environment or a
 * `.env` file (KEY=VALUE lines), never from YAML. Every secret read here is
 * registered with the logger so that it never reaches a log line. */
#ifndef COCE_UTILS_ENV_H
#define COCE_UTILS_ENV_H

#include "utils/error.h"

#define COCE_SECRET_MAX 512

typedef struct coce_secrets {
    char exchange_api_key[COCE_SECRET_MAX];
    char exchange_api_secret[COCE_SECRET_MAX];
    char deribit_client_id[COCE_SECRET_MAX];
    char deribit_client_secret[COCE_SECRET_MAX];
    char twitter_bearer[COCE_SECRET_MAX];
    char coingecko_api_key[COCE_SECRET_MAX];
    char sentry_dsn[COCE_SECRET_MAX];
    char slack_webhook_url[COCE_SECRET_MAX];
} coce_secrets;

/* Loads KEY=VALUE lines (comments '#', blank lines, optional quotes,
 * optional "export ") into the environment without overriding variables
 * already set. A missing file is not an error (COCE_OK). A malformed line is
 * COCE_EPARSE naming file:line (never the value). */
int coce_env_load_dotenv(const char *path, coce_err *err);

/* Reads the spec's variables from the environment and registers each
 * non-empty value as a secret with the logger. */
void coce_secrets_load(coce_secrets *s);

/* 1 when both exchange keys are set. */
int coce_secrets_have_exchange(const coce_secrets *s);
/* 1 when both Deribit credentials are set. */
int coce_secrets_have_deribit(const coce_secrets *s);

/* Overwrites every secret with zeros. */
void coce_secrets_wipe(coce_secrets *s);

#endif
