/* A thin HTTP GET client over libcurl for the public-data downloaders
 * (CoinGecko, X, Binance market data).
 *
 * - Retries with exponential backoff and jitter ("Exponential Backoff And
 *   Jitter", M. Brooker, AWS Architecture Blog, 2015: "equal jitter") on
 *   HTTP 429, 418, 5xx, timeouts and connection failures; a Retry-After
 *   header (seconds or HTTP date, RFC 9110 section 10.2.3) or an
 *   x-rate-limit-reset header (epoch seconds, X API:
 *   https://docs.x.com/fundamentals/rate-limits) lengthens the wait.
 * - An optional on-disk cache of 2xx responses keyed by the SHA-256 of the
 *   URL, written atomically, so that a re-run does not fetch again.
 * - Secrets (API keys, bearer tokens) travel only in headers marked secret:
 *   they are registered with the logger (coce_log_add_secret) and removed
 *   from every error message; URLs in logs and errors have the values of
 *   query parameters that look like keys (key, token, secret, signature,
 *   password) replaced by "[REDACTED]".
 * Not thread-safe: one client per thread. */
#ifndef COCE_DATA_INGEST_HTTP_H
#define COCE_DATA_INGEST_HTTP_H

#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct coce_http_opts {
    int64_t timeout_ms;         /* whole request; default 30000 */
    int64_t connect_timeout_ms; /* default 10000 */
    int max_retries;            /* retries after the first try; default 5 */
    int64_t backoff_base_ms;    /* first backoff; default 500 */
    int64_t backoff_max_ms;     /* cap of the exponential part; default 60000 */
    int64_t max_wait_ms;        /* cap of any single wait, including
                                   Retry-After; default 900000 (15 min) */
    uint64_t seed;              /* jitter generator seed; default 1 */
    const char *cache_dir;      /* NULL or "" = no cache; copied */
    const char *user_agent;     /* default "coce/<version>"; copied */
    /* Sleep hook (tests record waits instead of sleeping); NULL = nanosleep. */
    void (*sleep_fn)(void *ctx, int64_t ms);
    void *sleep_ctx;
} coce_http_opts;

/* Fills the defaults above. */
void coce_http_opts_default(coce_http_opts *o);

typedef struct coce_http_header {
    const char *name;
    const char *value;
    int secret; /* 1: never logged, stripped from errors */
} coce_http_header;

typedef struct coce_http_response {
    long status;      /* last HTTP status; 0 when no response came */
    char *body;       /* malloc'ed, NUL-terminated (may be NULL if empty) */
    size_t body_len;
    char *headers;    /* raw header lines of the last response, NUL-terminated */
    size_t headers_len;
    int from_cache;   /* 1 when served from the on-disk cache */
    int attempts;     /* tries made (0 when from the cache) */
} coce_http_response;

typedef struct coce_http_client coce_http_client;

/* opts NULL = defaults. COCE_ENOMEM, COCE_ENET (curl could not start). */
int coce_http_client_new(coce_http_client **out, const coce_http_opts *opts,
                         coce_err *err);
/* NULL is a no-op. */
void coce_http_client_free(coce_http_client *c);

/* GET `url` with n_headers extra headers. On COCE_OK the status is 2xx.
 * Errors (the response, when one came, is still filled for inspection):
 *   COCE_EAUTH (401/403), COCE_ENOTFOUND (404), COCE_EHTTP (other 4xx, 5xx
 *   after the retries), COCE_ERATELIMIT (429/418 after the retries),
 *   COCE_ETIMEOUT, COCE_ENET, COCE_EINVAL (bad URL or header).
 * The message is "GET <url with keys stripped>: HTTP 500 after 4 tries:
 * <start of the body>" with every secret header value removed.
 * `resp` must be zeroed or destroyed before reuse; it is reset here. */
int coce_http_get(coce_http_client *c, const char *url,
                  const coce_http_header *headers, size_t n_headers,
                  coce_http_response *resp, coce_err *err);

/* Frees the buffers and zeroes the struct; NULL is a no-op. */
void coce_http_response_destroy(coce_http_response *r);

/* Value of header `name` (any case) of the response, trimmed, into out.
 * COCE_ENOTFOUND when absent, COCE_ERANGE when out is too small. */
int coce_http_response_header(const coce_http_response *r, const char *name,
                              char *out, size_t len);

/* Network requests sent by this client so far (cache hits not counted). */
size_t coce_http_client_requests(const coce_http_client *c);

/* Sleeps through the client's sleep hook (for callers' own pacing). */
void coce_http_client_sleep(coce_http_client *c, int64_t ms);

/* Copies url into out with the values of key-like query parameters
 * replaced by "[REDACTED]"; truncates to fit (always NUL-terminated). */
void coce_http_redact_url(const char *url, char *out, size_t len);

/* Percent-encodes `in` (RFC 3986 unreserved characters kept) into out.
 * COCE_ERANGE when out is too small. */
int coce_http_escape(const char *in, char *out, size_t len);

/* Path of the cache file of `url` ("<cache_dir>/<sha256>.http") into out;
 * COCE_ENOTFOUND when the client has no cache. */
int coce_http_cache_path(const coce_http_client *c, const char *url,
                         char *out, size_t len);

#endif
