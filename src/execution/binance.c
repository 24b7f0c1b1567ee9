/* Binance spot REST adapter; behaviour, guarantees and sources in binance.h,
 * fault matrix in docs/execution.md. */
#include "execution/binance.h"

#include "execution/http_call.h"
#include "execution/venue_common.h"
#include "utils/log.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BN_SYMBOL_MAX 48
#define BN_KEY_MAX 512
#define BN_URL_MAX 512
#define BN_PARAMS_MAX 1024
/* rest-api.md, "New order": newClientOrderId ^[.A-Z:/a-z0-9_-]{1,36}$. */
#define BN_CLIENT_ID_LEN 36
/* Clock slack of the venue: "timestamp < (serverTime + 1000)". */
#define BN_CLOCK_SLACK_MS 1000

typedef struct bn_symbol {
    coce_asset_id asset;
    char symbol[BN_SYMBOL_MAX];
    int trading; /* status == TRADING */
    double min_price, max_price, tick;
    double min_qty, max_qty, step;
    double min_notional, max_notional; /* 0: none */
    int min_to_market, max_to_market;
} bn_symbol;

typedef struct bn_order {
    coce_order_intent intent;
    char symbol[BN_SYMBOL_MAX];
    int64_t deadline_ms; /* local ms after which it cannot arrive; 0 none */
    double reported_qty; /* executed qty already reported as fills */
    double reported_quote;
    double fees;
    int terminal;
    int quote_unknown; /* reported_qty known (journal), its quote not */
} bn_order;

/* Integer headers of every answer (rest-api.md, LIMITS): Retry-After
 * (seconds) on 429/418, the used weight per interval and the order count
 * per interval; indexes into coce__xhttp_resp.captured. */
enum { BN_RETRY_AFTER, BN_WEIGHT_1M, BN_ORDERS_10S, BN_ORDERS_1D };
static const char *const bn_capture[] = {"Retry-After", "X-MBX-USED-WEIGHT-1M",
                                         "X-MBX-ORDER-COUNT-10S",
                                         "X-MBX-ORDER-COUNT-1D", NULL};

struct coce_binance {
    coce_binance_opts o;
    char base_url[BN_URL_MAX];
    char quote[BN_SYMBOL_MAX];
    char key[BN_KEY_MAX];
    char secret[BN_KEY_MAX];
    char key_header[BN_KEY_MAX + 16];
    CURL *curl;
    int synced;
    coce_binance_stats st;
    bn_symbol *syms;
    size_t n_syms, cap_syms;
    bn_order *orders;
    size_t n_orders, cap_orders;
    coce__venue_fills pending; /* fills not yet handed out */
};

/* ---- small helpers ---------------------------------------------------- */

/* Appends "&name=value" (no '&' first) with value percent-encoded outside
 * RFC 3986 unreserved characters; the signature covers exactly this text. */
static int bn_param(char *buf, size_t cap, const char *name, const char *value)
{
    size_t len = strlen(buf);
    int n = snprintf(buf + len, cap - len, "%s%s=", len ? "&" : "", name);
    if (n < 0 || (size_t)n >= cap - len)
        return COCE_ERANGE;
    len += (size_t)n;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (len + 4 >= cap)
            return COCE_ERANGE;
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf[len++] = (char)*p;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            buf[len++] = '%';
            buf[len++] = hex[*p >> 4];
            buf[len++] = hex[*p & 15];
        }
    }
    buf[len] = '\0';
    return COCE_OK;
}

/* Binance sends decimals as JSON strings ("0.00100000"). */
static double bn_num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        return strtod(json_string_value(v), NULL);
    if (json_is_number(v))
        return json_number_value(v);
    return 0.0;
}

static int64_t bn_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

static const char *bn_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static int bn_valid_client_id(const char *id)
{
    size_t n = strnlen(id, COCE_CLIENT_ID_MAX);
    if (n == 0 || n > BN_CLIENT_ID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!isalnum(c) && c != '.' && c != ':' && c != '/' && c != '_' &&
            c != '-')
            return 0;
    }
    return 1;
}

/* ---- public pure helpers ---------------------------------------------- */

void coce_binance_opts_default(coce_binance_opts *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->base_url = "https://testnet.binance.vision";
    opts->quote_asset = "USDT";
    opts->recv_window_ms = 5000;
    opts->timeout_ms = 10000;
    opts->get_retries = 3;
    opts->backoff_ms = 250;
    opts->max_wait_ms = 5000;
    opts->weight_limit_1m = 6000;
}

int coce_binance_sign(const char *secret, const char *payload, char out[65])
{
    if (!secret || !payload || !out)
        return COCE_EINVAL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    /* "Use your secretKey as the key and totalParams as the value for the
     * HMAC operation" (rest-api.md, SIGNED endpoint security). */
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret),
              (const unsigned char *)payload, strlen(payload), md, &md_len) ||
        md_len != 32)
        return COCE_EIO;
    static const char hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < md_len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    OPENSSL_cleanse(md, sizeof md);
    return COCE_OK;
}

static int bn_step_decimals(double step)
{
    if (!(step > 0.0))
        return 8;
    double scaled = step;
    for (int d = 0; d <= 16; d++) {
        if (scaled >= 0.5 && fabs(scaled - nearbyint(scaled)) <= 1e-9 * scaled)
            return d;
        scaled *= 10.0;
    }
    return 16;
}

int coce_binance_format_decimal(double value, double step, int decimals,
                                coce_binance_round mode, char *out,
                                size_t out_len)
{
    if (!out || !isfinite(value) || value < 0.0 || !isfinite(step) ||
        step < 0.0 || decimals > 16 || decimals < -1)
        return COCE_EINVAL;
    if (decimals < 0)
        decimals = bn_step_decimals(step);
    double v = value;
    if (step > 0.0) {
        /* A quotient within rounding noise of a whole number of steps is
         * that number: 0.3/0.1 = 2.9999999999999996 is 3 steps, whether
         * rounding down or up. */
        double q = value / step;
        double whole = nearbyint(q);
        double n;
        if (fabs(q - whole) <= 1e-9 + 4.0 * DBL_EPSILON * q)
            n = whole;
        else
            n = mode == COCE_BINANCE_ROUND_UP ? ceil(q) : floor(q);
        v = n * step;
    }
    int n = snprintf(out, out_len, "%.*f", decimals, v);
    if (n < 0 || (size_t)n >= out_len)
        return COCE_ERANGE;
    return COCE_OK;
}

/* ---- handle ------------------------------------------------------------ */

int coce_binance_new(const coce_binance_opts *opts, coce_binance **out,
                     coce_err *err)
{
    if (!out)
        return coce_err_set(err, COCE_EINVAL, "binance: out is NULL");
    *out = NULL;
    if (!opts)
        return coce_err_set(err, COCE_EINVAL, "binance: opts is NULL");
    coce_binance_opts o = *opts;
    if (!o.base_url || !*o.base_url || strlen(o.base_url) >= BN_URL_MAX)
        return coce_err_set(err, COCE_EINVAL,
                            "binance: exchange.base_url empty or too long");
    if (strncmp(o.base_url, "http://", 7) != 0 &&
        strncmp(o.base_url, "https://", 8) != 0)
        return coce_err_set(err, COCE_EINVAL,
                            "binance: exchange.base_url must start with "
                            "http:// or https://");
    if (!o.api_key || !*o.api_key || !o.api_secret || !*o.api_secret)
        return coce_err_set(err, COCE_ESECRET,
                            "binance: API key or secret missing (set them in "
                            "the environment)");
    if (strlen(o.api_key) >= BN_KEY_MAX || strlen(o.api_secret) >= BN_KEY_MAX)
        return coce_err_set(err, COCE_ESECRET,
                            "binance: API key or secret too long");
    if (!o.quote_asset || !*o.quote_asset ||
        strlen(o.quote_asset) >= BN_SYMBOL_MAX / 2)
        return coce_err_set(err, COCE_EINVAL, "binance: quote_asset invalid");
    if (!o.symbols)
        return coce_err_set(err, COCE_EINVAL, "binance: symbols is NULL");
    if (o.recv_window_ms <= 0 || o.recv_window_ms > 60000)
        return coce_err_set(err, COCE_EINVAL,
                            "binance: exchange.recv_window_ms must be in "
                            "(0, 60000], got %lld",
                            (long long)o.recv_window_ms);
    if (o.timeout_ms <= 0)
        return coce_err_set(err, COCE_EINVAL,
                            "binance: exchange.timeout_ms must be > 0");
    if (o.get_retries < 0 || o.backoff_ms < 0 || o.max_wait_ms < 0 ||
        o.weight_limit_1m < 0)
        return coce_err_set(err, COCE_EINVAL,
                            "binance: get_retries, backoff_ms, max_wait_ms "
                            "and weight_limit_1m must be >= 0");
    coce_binance *b = calloc(1, sizeof *b);
    if (!b)
        return coce_err_set(err, COCE_ENOMEM, "binance: out of memory");
    b->curl = curl_easy_init();
    if (!b->curl) {
        free(b);
        return coce_err_set(err, COCE_ENOMEM, "binance: curl_easy_init failed");
    }
    b->o = o;
    snprintf(b->base_url, sizeof b->base_url, "%s", o.base_url);
    size_t bl = strlen(b->base_url);
    if (bl > 0 && b->base_url[bl - 1] == '/')
        b->base_url[bl - 1] = '\0';
    snprintf(b->quote, sizeof b->quote, "%s", o.quote_asset);
    snprintf(b->key, sizeof b->key, "%s", o.api_key);
    snprintf(b->secret, sizeof b->secret, "%s", o.api_secret);
    snprintf(b->key_header, sizeof b->key_header, "X-MBX-APIKEY: %s", b->key);
    b->o.base_url = b->base_url;
    b->o.quote_asset = b->quote;
    b->o.api_key = NULL; /* only the private copies are kept */
    b->o.api_secret = NULL;
    coce_log_add_secret(b->key);
    coce_log_add_secret(b->secret);
    b->st.used_weight_1m = -1;
    b->st.order_count_10s = -1;
    b->st.order_count_1d = -1;
    *out = b;
    return COCE_OK;
}

void coce_binance_free(coce_binance *b)
{
    if (!b)
        return;
    curl_easy_cleanup(b->curl);
    OPENSSL_cleanse(b->key, sizeof b->key);
    OPENSSL_cleanse(b->secret, sizeof b->secret);
    OPENSSL_cleanse(b->key_header, sizeof b->key_header);
    free(b->syms);
    free(b->orders);
    coce__venue_fills_free(&b->pending);
    free(b);
}

void coce_binance_get_stats(const coce_binance *b, coce_binance_stats *out)
{
    if (!b || !out)
        return;
    *out = b->st;
}

/* ---- HTTP --------------------------------------------------------------- */

/* One HTTP exchange. params: the query (GET, DELETE) or the form body
 * (POST), already signed when needed. */
static void bn_perform(coce_binance *b, const char *method, const char *path,
                       const char *params, int with_key, coce__xhttp_resp *r)
{
    char url[BN_URL_MAX + BN_PARAMS_MAX + 64];
    int post = strcmp(method, "POST") == 0;
    snprintf(url, sizeof url, "%s%s%s%s", b->base_url, path,
             (!post && *params) ? "?" : "", post ? "" : params);
    const char *hdr[3] = {NULL, NULL, NULL};
    size_t nh = 0;
    if (with_key)
        hdr[nh++] = b->key_header;
    if (post)
        hdr[nh] = "Content-Type: application/x-www-form-urlencoded";
    coce__xhttp_req req = {.method = method,
                           .url = url,
                           .headers = hdr,
                           .body = post ? params : NULL,
                           .timeout_ms = b->o.timeout_ms,
                           /* An order or a cancel is never resent, not even
                            * by libcurl (http_call.h). */
                           .fresh = strcmp(method, "GET") != 0,
                           .capture = bn_capture};
    b->st.requests++;
    coce__xhttp_perform(b->curl, &req, r);
    if (r->captured[BN_WEIGHT_1M] >= 0)
        b->st.used_weight_1m = r->captured[BN_WEIGHT_1M];
    if (r->captured[BN_ORDERS_10S] >= 0)
        b->st.order_count_10s = r->captured[BN_ORDERS_10S];
    if (r->captured[BN_ORDERS_1D] >= 0)
        b->st.order_count_1d = r->captured[BN_ORDERS_1D];
}

static int64_t bn_server_ms(const coce_binance *b)
{
    return coce__xhttp_now_ms() + b->st.time_offset_ms;
}

/* Refuses (or, for a safe request within max_wait_ms, waits out) a
 * rate-limit window so that a 429 is never answered by another request. */
static int bn_respect_block(coce_binance *b, int safe, const char *what,
                            coce_err *err)
{
    int64_t wait =
        coce__xhttp_wait_block(b->st.blocked_until_ms, safe, b->o.max_wait_ms);
    if (wait == 0)
        return COCE_OK;
    return coce_err_set(err, COCE_ERATELIMIT,
                        "binance: %s not sent: rate limited for another "
                        "%lld ms (Retry-After / used weight)",
                        what, (long long)wait);
}

static void bn_note_limits(coce_binance *b, const coce__xhttp_resp *r)
{
    int64_t now = coce__xhttp_now_ms();
    if (r->status == 429 || r->status == 418) {
        /* rest-api.md, LIMITS: "A Retry-After header is sent with a 418 or
         * 429 responses and will give the number of seconds required to
         * wait"; an order-count 429 comes without it. */
        b->st.rate_limited++;
        int64_t retry_after_s = r->captured[BN_RETRY_AFTER];
        int64_t wait =
            retry_after_s >= 0 ? retry_after_s * 1000 : b->o.backoff_ms;
        coce__xhttp_block(&b->st.blocked_until_ms, now, wait);
        coce_log(COCE_LOG_WARN, "binance", "rate_limited", "{s:i, s:I}",
                 "http_status", (int)r->status, "wait_ms", (json_int_t)wait);
    } else if (b->o.weight_limit_1m > 0 &&
               r->captured[BN_WEIGHT_1M] >= b->o.weight_limit_1m) {
        /* The used weight counts per server minute: pause until the next. */
        int64_t server = now + b->st.time_offset_ms;
        int64_t wait = 60000 - server % 60000;
        coce__xhttp_block(&b->st.blocked_until_ms, now, wait);
        coce_log(COCE_LOG_WARN, "binance", "weight_limit", "{s:I, s:I}",
                 "used_weight_1m", (json_int_t)r->captured[BN_WEIGHT_1M],
                 "wait_ms", (json_int_t)wait);
    }
}

/* Maps a Binance error payload {"code":..,"msg":..} (4xx) to a status. */
static int bn_api_error(coce_binance *b, const coce__xhttp_resp *r,
                        const char *what, coce_err *err)
{
    json_error_t je;
    json_t *j = r->body ? json_loads(r->body, 0, &je) : NULL;
    if (!json_is_object(j) || !json_is_integer(json_object_get(j, "code"))) {
        json_decref(j);
        if (r->status == 401 || r->status == 403)
            return coce_err_set(err, COCE_EAUTH,
                                "binance: %s: HTTP %ld (key, IP or WAF)", what,
                                r->status);
        return coce_err_set(err, COCE_EHTTP, "binance: %s: HTTP %ld", what,
                            r->status);
    }
    long long code = (long long)json_integer_value(json_object_get(j, "code"));
    char msg[200];
    snprintf(msg, sizeof msg, "%s", bn_str(j, "msg"));
    json_decref(j);
    int rc;
    switch (code) {
    case -1021: /* INVALID_TIMESTAMP: the request was refused, resync */
        b->synced = 0;
        rc = COCE_EEXCHANGE;
        break;
    case -1022: /* INVALID_SIGNATURE */
    case -2014: /* BAD_API_KEY_FMT */
    case -2015: /* REJECTED_MBX_KEY */
    case -1002: /* UNAUTHORIZED */
        rc = COCE_EAUTH;
        break;
    case -1006: /* UNEXPECTED_RESP: "Execution status unknown." */
    case -1007: /* TIMEOUT: "execution status unknown" */
        rc = COCE_EUNKNOWN;
        break;
    case -2013: /* NO_SUCH_ORDER */
        rc = COCE_ENOTFOUND;
        break;
    case -2010: /* NEW_ORDER_REJECTED */
        rc = strcmp(msg, "Duplicate order sent.") == 0 ? COCE_EEXIST
                                                       : COCE_EEXCHANGE;
        break;
    case -1003: /* TOO_MANY_REQUESTS */
    case -1015: /* TOO_MANY_ORDERS */
        rc = COCE_ERATELIMIT;
        break;
    default:
        rc = COCE_EEXCHANGE;
        break;
    }
    return coce_err_set(err, rc, "binance: %s: error %lld: %s", what, code,
                        msg);
}

/* A request with retries for safe ones. Signed requests get recvWindow,
 * timestamp and signature appended afresh on every attempt. *out gets the
 * parsed JSON of a 2xx answer. */
static int bn_request(coce_binance *b, const char *method, const char *path,
                      const char *params, int sign, json_t **out,
                      coce_err *err);

int coce_binance_sync_time(coce_binance *b, coce_err *err)
{
    if (!b)
        return coce_err_set(err, COCE_EINVAL, "binance: handle is NULL");
    int64_t t0 = coce__xhttp_now_ms();
    json_t *j = NULL;
    int rc = bn_request(b, "GET", "/api/v3/time", "", 0, &j, err);
    if (rc != COCE_OK)
        return rc;
    int64_t t1 = coce__xhttp_now_ms();
    int64_t server = bn_int(j, "serverTime");
    json_decref(j);
    if (server <= 0)
        return coce_err_set(err, COCE_EPARSE,
                            "binance: GET /api/v3/time: no serverTime");
    b->st.time_offset_ms = server - (t0 + t1) / 2;
    b->synced = 1;
    coce_log(COCE_LOG_INFO, "binance", "time_sync", "{s:I}", "offset_ms",
             (json_int_t)b->st.time_offset_ms);
    return COCE_OK;
}

static int bn_request(coce_binance *b, const char *method, const char *path,
                      const char *params, int sign, json_t **out, coce_err *err)
{
    *out = NULL;
    int safe = strcmp(method, "GET") == 0;
    char what[96];
    snprintf(what, sizeof what, "%s %s", method, path);
    int attempts = safe ? 1 + b->o.get_retries : 1;
    int last = COCE_EIO;
    for (int attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0) {
            b->st.retries++;
            coce__xhttp_backoff(b->o.backoff_ms, attempt);
        }
        if (sign && !b->synced) {
            int src = coce_binance_sync_time(b, err);
            if (src != COCE_OK)
                return src;
        }
        int rc = bn_respect_block(b, safe, what, err);
        if (rc != COCE_OK)
            return rc;
        char full[BN_PARAMS_MAX];
        snprintf(full, sizeof full, "%s", params);
        if (sign) {
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)b->o.recv_window_ms);
            int prc = bn_param(full, sizeof full, "recvWindow", num);
            snprintf(num, sizeof num, "%lld", (long long)bn_server_ms(b));
            if (prc == COCE_OK)
                prc = bn_param(full, sizeof full, "timestamp", num);
            char sig[65];
            if (prc == COCE_OK)
                prc = coce_binance_sign(b->secret, full, sig);
            if (prc == COCE_OK)
                prc = bn_param(full, sizeof full, "signature", sig);
            if (prc != COCE_OK)
                return coce_err_set(err, COCE_ERANGE,
                                    "binance: %s: parameters too long", what);
        }
        coce__xhttp_resp r;
        bn_perform(b, method, path, full, sign, &r);
        OPENSSL_cleanse(full, sizeof full);
        bn_note_limits(b, &r);
        if (r.curl != CURLE_OK) {
            last = coce__xhttp_failure(&r, safe, "binance", what, "client id",
                                       err);
            coce__xhttp_resp_free(&r);
            if (!safe)
                return last;
            continue;
        }
        if (r.status >= 500) {
            /* rest-api.md, HTTP Return Codes: 5XX means "the execution status
             * is UNKNOWN and could have been a success". */
            last = coce_err_set(err, safe ? COCE_EHTTP : COCE_EUNKNOWN,
                                "binance: %s: HTTP %ld%s", what, r.status,
                                safe ? ""
                                     : ": execution status unknown, query "
                                       "by client id before anything else");
            coce__xhttp_resp_free(&r);
            if (!safe)
                return last;
            continue;
        }
        if (r.status == 429 || r.status == 418) {
            last = coce_err_set(
                err, COCE_ERATELIMIT,
                "binance: %s: HTTP %ld (%s), Retry-After %lld s", what,
                r.status, r.status == 418 ? "IP banned" : "rate limited",
                (long long)r.captured[BN_RETRY_AFTER]);
            coce__xhttp_resp_free(&r);
            if (!safe || b->st.blocked_until_ms - coce__xhttp_now_ms() >
                             b->o.max_wait_ms)
                return last;
            continue;
        }
        if (r.status < 200 || r.status >= 300) {
            last = bn_api_error(b, &r, what, err);
            coce__xhttp_resp_free(&r);
            /* A GET may be repeated: after -1021 with a fresh clock. */
            if (safe && (last == COCE_EUNKNOWN ||
                         (last == COCE_EEXCHANGE && sign && !b->synced)))
                continue;
            return last;
        }
        json_error_t je;
        json_t *j = r.body ? json_loads(r.body, 0, &je) : NULL;
        coce__xhttp_resp_free(&r);
        if (!j) {
            last = coce_err_set(
                err, safe ? COCE_EPARSE : COCE_EUNKNOWN,
                "binance: %s: malformed JSON in the HTTP %ld answer%s", what,
                r.status,
                safe ? "" : ": outcome unknown, query by client id first");
            if (!safe)
                return last;
            continue;
        }
        *out = j;
        return COCE_OK;
    }
    return last;
}

/* ---- symbols and filters ---------------------------------------------- */

static int bn_symbol_name(const coce_binance *b, coce_asset_id asset,
                          char out[BN_SYMBOL_MAX], coce_err *err)
{
    const char *base = coce_symbols_name(b->o.symbols, asset);
    if (!base)
        return coce_err_set(err, COCE_EINVAL, "binance: unknown asset id %u",
                            (unsigned)asset);
    snprintf(out, BN_SYMBOL_MAX, "%s%s", base, b->quote);
    return COCE_OK;
}

static int bn_asset_of_symbol(const coce_binance *b, const char *symbol,
                              coce_asset_id *out)
{
    size_t sl = strlen(symbol), ql = strlen(b->quote);
    if (sl <= ql || strcmp(symbol + sl - ql, b->quote) != 0)
        return COCE_ENOTFOUND;
    char base[BN_SYMBOL_MAX];
    snprintf(base, sizeof base, "%.*s", (int)(sl - ql), symbol);
    return coce_symbols_find(b->o.symbols, base, out);
}

static void bn_parse_filters(bn_symbol *s, const json_t *sym)
{
    s->trading = strcmp(bn_str(sym, "status"), "TRADING") == 0;
    const json_t *filters = json_object_get(sym, "filters");
    size_t i;
    const json_t *f;
    json_array_foreach(filters, i, f)
    {
        const char *type = bn_str(f, "filterType");
        if (strcmp(type, "PRICE_FILTER") == 0) {
            s->min_price = bn_num(f, "minPrice");
            s->max_price = bn_num(f, "maxPrice");
            s->tick = bn_num(f, "tickSize");
        } else if (strcmp(type, "LOT_SIZE") == 0) {
            s->min_qty = bn_num(f, "minQty");
            s->max_qty = bn_num(f, "maxQty");
            s->step = bn_num(f, "stepSize");
        } else if (strcmp(type, "NOTIONAL") == 0) {
            s->min_notional = bn_num(f, "minNotional");
            s->max_notional = bn_num(f, "maxNotional");
            s->min_to_market =
                json_is_true(json_object_get(f, "applyMinToMarket"));
            s->max_to_market =
                json_is_true(json_object_get(f, "applyMaxToMarket"));
        } else if (strcmp(type, "MIN_NOTIONAL") == 0) {
            s->min_notional = bn_num(f, "minNotional");
            s->min_to_market =
                json_is_true(json_object_get(f, "applyToMarket"));
        }
    }
}

/* Filters of asset's symbol, fetched once per handle. */
static int bn_symbol_info(coce_binance *b, coce_asset_id asset,
                          const bn_symbol **out, coce_err *err)
{
    for (size_t i = 0; i < b->n_syms; i++)
        if (b->syms[i].asset == asset) {
            *out = &b->syms[i];
            return COCE_OK;
        }
    bn_symbol s;
    memset(&s, 0, sizeof s);
    s.asset = asset;
    int rc = bn_symbol_name(b, asset, s.symbol, err);
    if (rc != COCE_OK)
        return rc;
    char params[128] = "";
    bn_param(params, sizeof params, "symbol", s.symbol);
    json_t *j = NULL;
    rc = bn_request(b, "GET", "/api/v3/exchangeInfo", params, 0, &j, err);
    if (rc != COCE_OK)
        return rc;
    const json_t *syms = json_object_get(j, "symbols");
    const json_t *found = NULL;
    size_t i;
    const json_t *sym;
    json_array_foreach(syms, i, sym)
    {
        if (strcmp(bn_str(sym, "symbol"), s.symbol) == 0)
            found = sym;
    }
    if (!found) {
        json_decref(j);
        return coce_err_set(err, COCE_ENOTFOUND,
                            "binance: GET /api/v3/exchangeInfo: symbol %s not "
                            "listed",
                            s.symbol);
    }
    bn_parse_filters(&s, found);
    json_decref(j);
    if (coce__venue_grow((void **)&b->syms, &b->cap_syms, b->n_syms + 1,
                         sizeof s) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "binance: out of memory");
    b->syms[b->n_syms] = s;
    *out = &b->syms[b->n_syms++];
    return COCE_OK;
}

static int bn_avg_price(coce_binance *b, const char *symbol, double *out,
                        coce_err *err)
{
    char params[128] = "";
    bn_param(params, sizeof params, "symbol", symbol);
    json_t *j = NULL;
    int rc = bn_request(b, "GET", "/api/v3/avgPrice", params, 0, &j, err);
    if (rc != COCE_OK)
        return rc;
    *out = bn_num(j, "price");
    json_decref(j);
    if (!(*out > 0.0))
        return coce_err_set(err, COCE_EPARSE,
                            "binance: GET /api/v3/avgPrice %s: no price",
                            symbol);
    return COCE_OK;
}

/* ---- order tracking ----------------------------------------------------- */

static bn_order *bn_find(coce_binance *b, const char *client_id)
{
    for (size_t i = b->n_orders; i-- > 0;)
        if (strcmp(b->orders[i].intent.client_id, client_id) == 0)
            return &b->orders[i];
    return NULL;
}

static int bn_track(coce_binance *b, const coce_order_intent *intent,
                    int64_t deadline_ms, bn_order **out, coce_err *err)
{
    if (!bn_valid_client_id(intent->client_id))
        return coce_err_set(err, COCE_EINVAL,
                            "binance: client id '%.40s' not 1..36 characters "
                            "of [.A-Za-z0-9:/_-]",
                            intent->client_id);
    char symbol[BN_SYMBOL_MAX];
    int rc = bn_symbol_name(b, intent->asset, symbol, err);
    if (rc != COCE_OK)
        return rc;
    if (coce__venue_grow((void **)&b->orders, &b->cap_orders, b->n_orders + 1,
                         sizeof *b->orders) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "binance: out of memory");
    bn_order *o = &b->orders[b->n_orders++];
    memset(o, 0, sizeof *o);
    o->intent = *intent;
    snprintf(o->symbol, sizeof o->symbol, "%s", symbol);
    o->deadline_ms = deadline_ms;
    *out = o;
    return COCE_OK;
}

int coce_binance_track(coce_binance *b, const coce_order_intent *intent,
                       int64_t sent_ms, double filled, coce_err *err)
{
    if (!b || !intent)
        return coce_err_set(err, COCE_EINVAL, "binance: NULL argument");
    if (!isfinite(filled) || filled < 0.0)
        return coce_err_set(err, COCE_EINVAL,
                            "binance: track %.40s: filled must be >= 0",
                            intent->client_id);
    bn_order *o = NULL;
    if (bn_find(b, intent->client_id))
        return COCE_OK;
    int64_t deadline =
        sent_ms > 0 ? sent_ms + b->o.recv_window_ms + BN_CLOCK_SLACK_MS : 0;
    int rc = bn_track(b, intent, deadline, &o, err);
    if (rc == COCE_OK && o && filled > 0.0) {
        o->reported_qty = filled;
        o->quote_unknown = 1;
    }
    return rc;
}

static coce_exec_status bn_status(const char *s)
{
    if (strcmp(s, "NEW") == 0 || strcmp(s, "PENDING_CANCEL") == 0)
        return COCE_EXEC_OPEN;
    if (strcmp(s, "PARTIALLY_FILLED") == 0)
        return COCE_EXEC_PARTIAL;
    if (strcmp(s, "FILLED") == 0)
        return COCE_EXEC_FILLED;
    if (strcmp(s, "REJECTED") == 0)
        return COCE_EXEC_REJECTED;
    if (strcmp(s, "CANCELED") == 0 || strncmp(s, "EXPIRED", 7) == 0)
        return COCE_EXEC_CANCELED;
    return COCE_EXEC_PENDING; /* PENDING_NEW and anything newer */
}

/* An order object of GET /api/v3/order or /openOrders -> coce_order_state. */
static void bn_order_state(const coce_binance *b, const json_t *j,
                           const bn_order *known, coce_order_state *st)
{
    memset(st, 0, sizeof *st);
    if (known) {
        st->intent = known->intent;
        st->fees = known->fees;
    } else {
        snprintf(st->intent.client_id, sizeof st->intent.client_id, "%s",
                 bn_str(j, "clientOrderId"));
        bn_asset_of_symbol(b, bn_str(j, "symbol"), &st->intent.asset);
        st->intent.side =
            (int8_t)(strcmp(bn_str(j, "side"), "SELL") == 0 ? COCE_SIDE_SELL
                                                            : COCE_SIDE_BUY);
        st->intent.type = strcmp(bn_str(j, "type"), "MARKET") == 0
                              ? COCE_ORDER_MARKET
                              : COCE_ORDER_LIMIT;
        st->intent.qty = bn_num(j, "origQty");
        st->intent.limit_price =
            st->intent.type == COCE_ORDER_LIMIT ? bn_num(j, "price") : 0.0;
        st->intent.time_ms = bn_int(j, "time");
    }
    st->status = bn_status(bn_str(j, "status"));
    st->filled_qty = bn_num(j, "executedQty");
    double quote = bn_num(j, "cummulativeQuoteQty");
    st->avg_price =
        st->filled_qty > 0.0 && quote > 0.0 ? quote / st->filled_qty : 0.0;
    st->placed_ms = bn_int(j, "time");
    st->active_ms = st->placed_ms;
    st->updated_ms = bn_int(j, "updateTime");
    if (st->updated_ms == 0)
        st->updated_ms = st->placed_ms;
}

/* ---- vtable ------------------------------------------------------------- */

static double bn_fee_in_quote(const coce_binance *b, const bn_symbol *s,
                              const json_t *f, double price)
{
    double fee = bn_num(f, "commission");
    const char *asset = bn_str(f, "commissionAsset");
    size_t sl = strlen(s->symbol), ql = strlen(b->quote);
    if (strcmp(asset, b->quote) == 0)
        return fee;
    if (strlen(asset) == sl - ql && strncmp(asset, s->symbol, sl - ql) == 0)
        return fee * price;
    if (fee != 0.0)
        coce_log(COCE_LOG_INFO, "binance", "fee_other_asset", "{s:s, s:f}",
                 "asset", asset, "commission", fee);
    return 0.0;
}

static int bn_check_filters(coce_binance *b, const bn_symbol *s,
                            const coce_order_intent *in, char *qty_txt,
                            char *price_txt, size_t txt_len, coce_err *err)
{
    const char *id = in->client_id;
    if (!s->trading)
        return coce_err_set(err, COCE_EEXCHANGE,
                            "binance: order %s: symbol %s is not TRADING", id,
                            s->symbol);
    char tmp[64];
    coce_binance_format_decimal(in->qty, s->step, -1, COCE_BINANCE_ROUND_DOWN,
                                tmp, sizeof tmp);
    double qty = strtod(tmp, NULL);
    snprintf(qty_txt, txt_len, "%s", tmp);
    /* filters.md, LOT_SIZE: quantity >= minQty, <= maxQty, on stepSize. */
    if (!(qty > 0.0) || (s->min_qty > 0.0 && qty < s->min_qty * (1 - 1e-12)))
        return coce_err_set(err, COCE_EEXCHANGE,
                            "binance: order %s: filter LOT_SIZE: quantity %s "
                            "(%.10g rounded down to stepSize %.10g) below "
                            "minQty %.10g",
                            id, qty_txt, in->qty, s->step, s->min_qty);
    if (s->max_qty > 0.0 && qty > s->max_qty * (1 + 1e-12))
        return coce_err_set(err, COCE_EEXCHANGE,
                            "binance: order %s: filter LOT_SIZE: quantity %s "
                            "above maxQty %.10g",
                            id, qty_txt, s->max_qty);
    double price;
    int market = in->type == COCE_ORDER_MARKET;
    price_txt[0] = '\0';
    if (!market) {
        coce_binance_format_decimal(in->limit_price, s->tick, -1,
                                    in->side == COCE_SIDE_BUY
                                        ? COCE_BINANCE_ROUND_DOWN
                                        : COCE_BINANCE_ROUND_UP,
                                    tmp, sizeof tmp);
        price = strtod(tmp, NULL);
        snprintf(price_txt, txt_len, "%s", tmp);
        /* filters.md, PRICE_FILTER (each rule disabled when 0). */
        if (!(price > 0.0) ||
            (s->min_price > 0.0 && price < s->min_price * (1 - 1e-12)))
            return coce_err_set(err, COCE_EEXCHANGE,
                                "binance: order %s: filter PRICE_FILTER: "
                                "price %s below minPrice %.10g",
                                id, price_txt, s->min_price);
        if (s->max_price > 0.0 && price > s->max_price * (1 + 1e-12))
            return coce_err_set(err, COCE_EEXCHANGE,
                                "binance: order %s: filter PRICE_FILTER: "
                                "price %s above maxPrice %.10g",
                                id, price_txt, s->max_price);
    }
    /* filters.md, NOTIONAL / MIN_NOTIONAL: price * quantity; a MARKET order
     * is valued at the average price when the rule applies to it. */
    int check_min = s->min_notional > 0.0 && (!market || s->min_to_market);
    int check_max = s->max_notional > 0.0 && (!market || s->max_to_market);
    if (!check_min && !check_max)
        return COCE_OK;
    if (market) {
        int rc = bn_avg_price(b, s->symbol, &price, err);
        if (rc != COCE_OK)
            return rc;
    }
    double notional = price * qty;
    if (check_min && notional < s->min_notional * (1 - 1e-12))
        return coce_err_set(err, COCE_EEXCHANGE,
                            "binance: order %s: filter NOTIONAL: %.10g below "
                            "minNotional %.10g",
                            id, notional, s->min_notional);
    if (check_max && notional > s->max_notional * (1 + 1e-12))
        return coce_err_set(err, COCE_EEXCHANGE,
                            "binance: order %s: filter NOTIONAL: %.10g above "
                            "maxNotional %.10g",
                            id, notional, s->max_notional);
    return COCE_OK;
}

static int bn_place(void *impl, const coce_order_intent *in, int64_t now_ms,
                    coce_fill *fills, size_t cap, size_t *n_fills,
                    coce_err *err)
{
    (void)now_ms;
    coce_binance *b = impl;
    int rc = coce__venue_check_place("binance", b, in, fills, cap, n_fills,
                                     "qty", err);
    if (rc != COCE_OK)
        return rc;
    if (!bn_valid_client_id(in->client_id))
        return coce_err_set(err, COCE_EINVAL,
                            "binance: client id '%.40s' not 1..36 characters "
                            "of [.A-Za-z0-9:/_-]",
                            in->client_id);
    if (bn_find(b, in->client_id))
        return coce_err_set(err, COCE_EEXIST,
                            "binance: client id %s already used by this "
                            "process",
                            in->client_id);
    const bn_symbol *s = NULL;
    rc = bn_symbol_info(b, in->asset, &s, err);
    if (rc != COCE_OK)
        return rc;
    char qty[64], price[64];
    rc = bn_check_filters(b, s, in, qty, price, sizeof qty, err);
    if (rc != COCE_OK)
        return rc;
    if (!b->synced) {
        rc = coce_binance_sync_time(b, err);
        if (rc != COCE_OK)
            return rc;
    }
    char params[BN_PARAMS_MAX] = "";
    bn_param(params, sizeof params, "symbol", s->symbol);
    bn_param(params, sizeof params, "side",
             in->side == COCE_SIDE_BUY ? "BUY" : "SELL");
    bn_param(params, sizeof params, "type",
             in->type == COCE_ORDER_MARKET ? "MARKET" : "LIMIT");
    if (in->type == COCE_ORDER_LIMIT) {
        bn_param(params, sizeof params, "timeInForce", "GTC");
        bn_param(params, sizeof params, "price", price);
    }
    bn_param(params, sizeof params, "quantity", qty);
    bn_param(params, sizeof params, "newClientOrderId", in->client_id);
    bn_param(params, sizeof params, "newOrderRespType", "FULL");
    /* Tracked before sending so that an unknown outcome can be queried; the
     * deadline is when the venue must refuse it (timestamp + recvWindow). */
    bn_order *o = NULL;
    rc = bn_track(
        b, in, coce__xhttp_now_ms() + b->o.recv_window_ms + BN_CLOCK_SLACK_MS,
        &o, err);
    if (rc != COCE_OK)
        return rc;
    size_t idx = (size_t)(o - b->orders);
    json_t *j = NULL;
    coce_log(COCE_LOG_INFO, "binance", "order_send", "{s:s, s:s, s:s, s:s}",
             "client_id", in->client_id, "symbol", s->symbol, "quantity", qty,
             "price", price);
    rc = bn_request(b, "POST", "/api/v3/order", params, 1, &j, err);
    o = &b->orders[idx];
    if (rc != COCE_OK) {
        if (rc != COCE_EUNKNOWN) { /* refused: it can never arrive */
            o->terminal = 1;
            o->deadline_ms = 0;
        }
        if (rc == COCE_EEXIST) /* someone else's order: forget our copy */
            b->n_orders--;
        coce_log(rc == COCE_EUNKNOWN ? COCE_LOG_WARN : COCE_LOG_INFO, "binance",
                 "order_error", "{s:s, s:s}", "client_id", in->client_id,
                 "error", coce_err_name(rc));
        return rc;
    }
    int64_t t = bn_int(j, "transactTime");
    const json_t *arr = json_object_get(j, "fills");
    size_t i;
    const json_t *f;
    json_array_foreach(arr, i, f)
    {
        coce_fill fill;
        memset(&fill, 0, sizeof fill);
        snprintf(fill.client_id, sizeof fill.client_id, "%s", in->client_id);
        fill.asset = in->asset;
        fill.side = in->side;
        fill.qty = bn_num(f, "qty");
        fill.price = bn_num(f, "price");
        fill.fee = bn_fee_in_quote(b, s, f, fill.price);
        fill.time_ms = t;
        o->reported_qty += fill.qty;
        o->reported_quote += fill.qty * fill.price;
        o->fees += fill.fee;
        if (*n_fills < cap)
            fills[(*n_fills)++] = fill;
        else if (coce__venue_fills_push(&b->pending, &fill) != COCE_OK) {
            json_decref(j);
            return coce_err_set(err, COCE_ENOMEM, "binance: out of memory");
        }
    }
    o->terminal = coce_exec_status_terminal(bn_status(bn_str(j, "status")));
    json_decref(j);
    return COCE_OK;
}

static int bn_query(coce_binance *b, const char *client_id, json_t **out,
                    bn_order **known, coce_err *err)
{
    *known = bn_find(b, client_id);
    if (!*known)
        return coce_err_set(err, COCE_EINVAL,
                            "binance: client id %.40s not tracked: its symbol "
                            "is unknown (coce_binance_track the journalled "
                            "intent first)",
                            client_id);
    char params[256] = "";
    bn_param(params, sizeof params, "symbol", (*known)->symbol);
    bn_param(params, sizeof params, "origClientOrderId", client_id);
    int rc = bn_request(b, "GET", "/api/v3/order", params, 1, out, err);
    bn_order *o = *known;
    if (rc == COCE_ENOTFOUND && o->deadline_ms > 0 &&
        coce__xhttp_now_ms() <= o->deadline_ms)
        return coce_err_set(err, COCE_EUNKNOWN,
                            "binance: order %s not visible yet; it may still "
                            "arrive for %lld ms (recvWindow): query again "
                            "later",
                            client_id,
                            (long long)(o->deadline_ms - coce__xhttp_now_ms()));
    if (rc == COCE_ENOTFOUND)
        o->terminal = 1;
    return rc;
}

static int bn_query_by_client_id(void *impl, const char *client_id,
                                 coce_order_state *out, coce_err *err)
{
    coce_binance *b = impl;
    if (!b || !client_id || !out)
        return coce_err_set(err, COCE_EINVAL, "binance: query: NULL argument");
    json_t *j = NULL;
    bn_order *o = NULL;
    int rc = bn_query(b, client_id, &j, &o, err);
    if (rc != COCE_OK)
        return rc;
    bn_order_state(b, j, o, out);
    json_decref(j);
    return COCE_OK;
}

static int bn_cancel(void *impl, const char *client_id, int64_t now_ms,
                     coce_err *err)
{
    (void)now_ms;
    coce_binance *b = impl;
    if (!b || !client_id)
        return coce_err_set(err, COCE_EINVAL, "binance: cancel: NULL argument");
    bn_order *o = bn_find(b, client_id);
    if (!o)
        return coce_err_set(err, COCE_EINVAL,
                            "binance: cancel %.40s: not tracked: its symbol "
                            "is unknown (coce_binance_track it first)",
                            client_id);
    char params[256] = "";
    bn_param(params, sizeof params, "symbol", o->symbol);
    bn_param(params, sizeof params, "origClientOrderId", client_id);
    json_t *j = NULL;
    int rc = bn_request(b, "DELETE", "/api/v3/order", params, 1, &j, err);
    if (rc == COCE_OK) {
        json_decref(j);
        return COCE_OK;
    }
    if (rc != COCE_EEXCHANGE)
        return rc;
    /* -2011 "Unknown order sent." covers both an unknown and an already
     * closed order (errors.md): the order's own state tells them apart. */
    coce_err qerr;
    coce_order_state st;
    int qrc = bn_query_by_client_id(b, client_id, &st, &qerr);
    if (qrc == COCE_ENOTFOUND)
        return coce_err_set(err, COCE_ENOTFOUND,
                            "binance: cancel %s: no such order at the venue",
                            client_id);
    if (qrc == COCE_OK && coce_exec_status_terminal(st.status))
        return coce_err_set(err, COCE_EEXCHANGE,
                            "binance: cancel %s: order already %s", client_id,
                            coce_exec_status_name(st.status));
    return rc;
}

static int bn_collect(coce_binance *b, const json_t *arr, coce_order_state *out,
                      size_t cap, size_t *n)
{
    size_t k = 0;
    size_t i;
    const json_t *o;
    json_array_foreach(arr, i, o)
    {
        coce_asset_id asset;
        if (bn_asset_of_symbol(b, bn_str(o, "symbol"), &asset) != COCE_OK)
            continue; /* another quote or an asset this run does not trade */
        if (k < cap)
            bn_order_state(b, o, bn_find(b, bn_str(o, "clientOrderId")),
                           &out[k]);
        k++;
    }
    *n = k;
    if (k > cap)
        return COCE_ERANGE;
    coce__venue_sort_by_placed(out, k);
    return COCE_OK;
}

static int bn_open_orders(void *impl, coce_order_state *out, size_t cap,
                          size_t *n, coce_err *err)
{
    coce_binance *b = impl;
    if (!b || !n || (cap > 0 && !out))
        return coce_err_set(err, COCE_EINVAL,
                            "binance: open_orders: NULL argument");
    *n = 0;
    json_t *j = NULL;
    int rc = bn_request(b, "GET", "/api/v3/openOrders", "", 1, &j, err);
    if (rc != COCE_OK)
        return rc;
    rc = bn_collect(b, j, out, cap, n);
    json_decref(j);
    if (rc == COCE_ERANGE)
        return coce_err_set(err, COCE_ERANGE,
                            "binance: open_orders: %zu orders, room for %zu",
                            *n, cap);
    return COCE_OK;
}

static int bn_balances(void *impl, coce_balance *out, size_t cap, size_t *n,
                       coce_err *err)
{
    coce_binance *b = impl;
    if (!b || !n || (cap > 0 && !out))
        return coce_err_set(err, COCE_EINVAL,
                            "binance: balances: NULL argument");
    *n = 0;
    json_t *j = NULL;
    int rc = bn_request(b, "GET", "/api/v3/account", "", 1, &j, err);
    if (rc != COCE_OK)
        return rc;
    size_t k = 0;
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(j, "balances"), i, e)
    {
        const char *asset = bn_str(e, "asset");
        coce_balance bal;
        if (strcmp(asset, b->quote) == 0)
            bal.asset = COCE_ASSET_QUOTE;
        else if (coce_symbols_find(b->o.symbols, asset, &bal.asset) != COCE_OK)
            continue;
        bal.locked = bn_num(e, "locked");
        bal.total = bn_num(e, "free") + bal.locked;
        if (k < cap)
            out[k] = bal;
        k++;
    }
    json_decref(j);
    *n = k;
    if (k > cap)
        return coce_err_set(err, COCE_ERANGE,
                            "binance: balances: %zu assets, room for %zu", k,
                            cap);
    return COCE_OK;
}

static int bn_instrument_rules(void *impl, coce_asset_id asset,
                               coce_instrument_rules *out, coce_err *err)
{
    coce_binance *b = impl;
    if (!b || !out)
        return coce_err_set(err, COCE_EINVAL,
                            "binance: instrument_rules: NULL argument");
    const bn_symbol *s = NULL;
    int rc = bn_symbol_info(b, asset, &s, err);
    if (rc != COCE_OK)
        return rc;
    memset(out, 0, sizeof *out);
    out->asset = asset;
    out->tick_size = s->tick;
    out->lot_size = s->step;
    out->min_qty = s->min_qty;
    out->min_notional = s->min_notional;
    return COCE_OK;
}

static int bn_poll_fills(void *impl, coce_fill *fills, size_t cap,
                         size_t *n_fills, coce_err *err)
{
    coce_binance *b = impl;
    if (!b || !n_fills || (cap > 0 && !fills))
        return coce_err_set(err, COCE_EINVAL,
                            "binance: poll_fills: NULL argument");
    *n_fills = 0;
    for (size_t i = 0; i < b->n_orders && b->pending.n < cap; i++) {
        if (b->orders[i].terminal)
            continue;
        json_t *j = NULL;
        bn_order *o = NULL;
        int rc = bn_query(b, b->orders[i].intent.client_id, &j, &o, err);
        if (rc == COCE_ENOTFOUND || rc == COCE_EUNKNOWN)
            continue;
        if (rc != COCE_OK)
            return rc;
        double exec = bn_num(j, "executedQty");
        double quote = bn_num(j, "cummulativeQuoteQty");
        coce_exec_status status = bn_status(bn_str(j, "status"));
        int64_t t = bn_int(j, "updateTime");
        json_decref(j);
        if (o->quote_unknown && exec > 0.0) {
            /* Fills journalled before a restart: value them at the average
             * price so far, so only the increment is reported below. */
            o->reported_quote = o->reported_qty * quote / exec;
            o->quote_unknown = 0;
        }
        if (exec > o->reported_qty * (1 + 1e-12) + 1e-15) {
            coce_fill f;
            memset(&f, 0, sizeof f);
            snprintf(f.client_id, sizeof f.client_id, "%s",
                     o->intent.client_id);
            f.asset = o->intent.asset;
            f.side = o->intent.side;
            f.qty = exec - o->reported_qty;
            f.price = quote > o->reported_quote
                          ? (quote - o->reported_quote) / f.qty
                          : quote / exec;
            f.time_ms = t;
            if (coce__venue_fills_push(&b->pending, &f) != COCE_OK)
                return coce_err_set(err, COCE_ENOMEM, "binance: out of memory");
            o->reported_qty = exec;
            o->reported_quote = quote;
        }
        o->terminal = coce_exec_status_terminal(status);
    }
    *n_fills = coce__venue_fills_take(&b->pending, fills, cap);
    return COCE_OK;
}

coce_exchange coce_binance_exchange(coce_binance *b)
{
    coce_exchange x = {.name = "binance",
                       .impl = b,
                       .place = bn_place,
                       .cancel = bn_cancel,
                       .query_by_client_id = bn_query_by_client_id,
                       .open_orders = bn_open_orders,
                       .balances = bn_balances,
                       .instrument_rules = bn_instrument_rules,
                       .poll_fills = bn_poll_fills};
    return x;
}
