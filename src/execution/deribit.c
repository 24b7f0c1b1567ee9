/* Deribit JSON-RPC adapter; behaviour, guarantees and sources in deribit.h,
 * fault matrix in docs/deribit.md. */
#include "execution/deribit.h"

#include "execution/http_call.h"
#include "execution/venue_common.h"
#include "utils/log.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_URL_MAX 512
#define DB_SECRET_MAX 512
#define DB_TOKEN_MAX 2048
#define DB_CCY_MAX 16
#define DB_STEPS_MAX 4
/* Clock slack around valid_until (venue clock vs ours after the offset). */
#define DB_CLOCK_SLACK_MS 1000

typedef enum db_kind {
    DB_READ = 0,  /* public or private read: retried */
    DB_AUTH = 1,  /* public/auth: retried, no bearer */
    DB_WRITE = 2, /* buy, sell, cancel: sent once */
} db_kind;

typedef struct db_inst {
    coce_asset_id asset;
    char name[COCE_DERIBIT_NAME_MAX];
    char currency[DB_CCY_MAX];
    int loaded; /* rules fetched */
    int active;
    double tick, min_amount;
    size_t n_steps;
    double step_above[DB_STEPS_MAX], step_tick[DB_STEPS_MAX];
} db_inst;

typedef struct db_order {
    coce_order_intent intent;
    size_t inst;
    char order_id[COCE_DERIBIT_NAME_MAX];
    int64_t deadline_ms; /* local ms after which it cannot start; 0 none */
    double reported_qty; /* filled amount already reported as fills */
    double reported_coin;
    double fees;
    int terminal;
    int unknown;        /* outcome not yet seen at the venue */
    int coin_unknown;   /* reported_qty from the journal, its value not */
    double seen_filled; /* last filled_amount the venue showed */
    double seen_avg;
    int64_t seen_ms;
} db_order;

/* The one header read from an answer: Retry-After (seconds) on a 429. */
static const char *const db_capture[] = {"Retry-After", NULL};

struct coce_deribit {
    coce_deribit_opts o;
    char base_url[DB_URL_MAX];
    char currency[DB_CCY_MAX];
    char client_id[DB_SECRET_MAX];
    char client_secret[DB_SECRET_MAX];
    char access[DB_TOKEN_MAX];
    char refresh[DB_TOKEN_MAX];
    CURL *curl;
    int64_t next_id;
    coce_deribit_stats st;
    db_inst *insts;
    size_t n_insts, cap_insts;
    db_order *orders;
    size_t n_orders, cap_orders;
    coce__venue_fills pending; /* fills not yet handed out */
};

/* ---- small helpers ---------------------------------------------------- */

static double db_num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static int64_t db_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    return json_is_number(v) ? (int64_t)json_number_value(v) : 0;
}

static const char *db_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* The settlement currency of an instrument name: its first '-' field, or
 * the part after '_' for linear instruments ("SOL_USDC-..." -> "USDC"). */
static int db_currency_of(const char *name, char out[DB_CCY_MAX])
{
    const char *dash = strchr(name, '-');
    size_t n = dash ? (size_t)(dash - name) : strlen(name);
    const char *us = memchr(name, '_', n);
    const char *start = us ? us + 1 : name;
    size_t len = (size_t)(name + n - start);
    if (len == 0 || len >= DB_CCY_MAX)
        return COCE_EINVAL;
    memcpy(out, start, len);
    out[len] = '\0';
    return COCE_OK;
}

static int db_valid_label(const char *id)
{
    size_t n = strnlen(id, COCE_CLIENT_ID_MAX);
    if (n == 0 || n >= COCE_CLIENT_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

/* ---- handle ------------------------------------------------------------ */

void coce_deribit_opts_default(coce_deribit_opts *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->base_url = "https://test.deribit.com";
    opts->currency = "BTC";
    opts->timeout_ms = 10000;
    opts->read_retries = 3;
    opts->backoff_ms = 250;
    opts->max_wait_ms = 5000;
    opts->refresh_margin_ms = 60000;
    opts->valid_window_ms = 5000;
}

int coce_deribit_new(const coce_deribit_opts *opts, coce_deribit **out,
                     coce_err *err)
{
    if (!out)
        return coce_err_set(err, COCE_EINVAL, "deribit: out is NULL");
    *out = NULL;
    if (!opts)
        return coce_err_set(err, COCE_EINVAL, "deribit: opts is NULL");
    coce_deribit_opts o = *opts;
    if (!o.base_url || !*o.base_url || strlen(o.base_url) >= DB_URL_MAX - 64)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: deribit.base_url empty or too long");
    if (strncmp(o.base_url, "http://", 7) != 0 &&
        strncmp(o.base_url, "https://", 8) != 0)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: deribit.base_url must start with "
                            "http:// or https://");
    if (!o.client_id || !*o.client_id || !o.client_secret || !*o.client_secret)
        return coce_err_set(err, COCE_ESECRET,
                            "deribit: client id or secret missing (set "
                            "DERIBIT_CLIENT_ID and DERIBIT_CLIENT_SECRET)");
    if (strlen(o.client_id) >= DB_SECRET_MAX ||
        strlen(o.client_secret) >= DB_SECRET_MAX)
        return coce_err_set(err, COCE_ESECRET,
                            "deribit: client id or secret too long");
    if (!o.currency || !*o.currency || strlen(o.currency) >= DB_CCY_MAX)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: deribit.currency invalid");
    if (o.timeout_ms <= 0)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: deribit.timeout_ms must be > 0");
    if (o.read_retries < 0 || o.backoff_ms < 0 || o.max_wait_ms < 0 ||
        o.refresh_margin_ms < 0 || o.valid_window_ms <= 0)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: read_retries, backoff_ms, max_wait_ms "
                            "and refresh_margin_ms must be >= 0, "
                            "valid_window_ms > 0");
    coce_deribit *d = calloc(1, sizeof *d);
    if (!d)
        return coce_err_set(err, COCE_ENOMEM, "deribit: out of memory");
    d->curl = curl_easy_init();
    if (!d->curl) {
        free(d);
        return coce_err_set(err, COCE_ENOMEM, "deribit: curl_easy_init failed");
    }
    d->o = o;
    snprintf(d->base_url, sizeof d->base_url, "%s", o.base_url);
    size_t bl = strlen(d->base_url);
    if (d->base_url[bl - 1] == '/')
        d->base_url[bl - 1] = '\0';
    snprintf(d->currency, sizeof d->currency, "%s", o.currency);
    snprintf(d->client_id, sizeof d->client_id, "%s", o.client_id);
    snprintf(d->client_secret, sizeof d->client_secret, "%s", o.client_secret);
    d->o.base_url = d->base_url;
    d->o.currency = d->currency;
    d->o.client_id = NULL; /* only the private copies are kept */
    d->o.client_secret = NULL;
    coce_log_add_secret(d->client_id);
    coce_log_add_secret(d->client_secret);
    d->next_id = 1;
    *out = d;
    return COCE_OK;
}

void coce_deribit_free(coce_deribit *d)
{
    if (!d)
        return;
    curl_easy_cleanup(d->curl);
    OPENSSL_cleanse(d->client_id, sizeof d->client_id);
    OPENSSL_cleanse(d->client_secret, sizeof d->client_secret);
    OPENSSL_cleanse(d->access, sizeof d->access);
    OPENSSL_cleanse(d->refresh, sizeof d->refresh);
    free(d->insts);
    free(d->orders);
    coce__venue_fills_free(&d->pending);
    free(d);
}

void coce_deribit_get_stats(const coce_deribit *d, coce_deribit_stats *out)
{
    if (d && out)
        *out = d->st;
}

/* ---- HTTP --------------------------------------------------------------- */

static void db_perform(coce_deribit *d, const char *method, const char *body,
                       int bearer, int fresh, coce__xhttp_resp *r)
{
    char url[DB_URL_MAX + 128];
    snprintf(url, sizeof url, "%s/api/v2/%s", d->base_url, method);
    char auth[DB_TOKEN_MAX + 32];
    const char *hdr[3] = {"Content-Type: application/json", NULL, NULL};
    if (bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", d->access);
        hdr[1] = auth;
    }
    /* fresh: an order must not be resent by libcurl (http_call.h). */
    coce__xhttp_req req = {.method = "POST",
                           .url = url,
                           .headers = hdr,
                           .body = body,
                           .timeout_ms = d->o.timeout_ms,
                           .fresh = fresh,
                           .capture = db_capture};
    d->st.requests++;
    coce__xhttp_perform(d->curl, &req, r);
    if (bearer)
        OPENSSL_cleanse(auth, sizeof auth);
}

static void db_block(coce_deribit *d, int64_t retry_after_s)
{
    int64_t wait = retry_after_s >= 0 ? retry_after_s * 1000 : d->o.backoff_ms;
    d->st.rate_limited++;
    coce__xhttp_block(&d->st.blocked_until_ms, coce__xhttp_now_ms(), wait);
    coce_log(COCE_LOG_WARN, "deribit", "rate_limited", "{s:I}", "wait_ms",
             (json_int_t)wait);
}

/* Refuses (or, for a read within max_wait_ms, waits out) a rate-limit
 * window so that a 429 is never answered with more traffic. */
static int db_respect_block(coce_deribit *d, int safe, const char *method,
                            coce_err *err)
{
    int64_t wait =
        coce__xhttp_wait_block(d->st.blocked_until_ms, safe, d->o.max_wait_ms);
    if (wait == 0)
        return COCE_OK;
    return coce_err_set(err, COCE_ERATELIMIT,
                        "deribit: %s not sent: rate limited for another %lld "
                        "ms",
                        method, (long long)wait);
}

/* Outcome classes of a Deribit error code ("RPC Error Codes"). */
typedef struct db_code_map {
    long long code;
    int rc;
    int transient; /* a read may be repeated */
} db_code_map;

static const db_code_map db_codes[] = {
    {10000, COCE_EAUTH, 0},      /* authorization_required */
    {13004, COCE_EAUTH, 0},      /* invalid_credentials */
    {13009, COCE_EAUTH, 0},      /* unauthorized: wrong/expired token */
    {13021, COCE_EAUTH, 0},      /* forbidden */
    {11042, COCE_EAUTH, 0},      /* permission_denied */
    {10028, COCE_ERATELIMIT, 1}, /* too_many_requests */
    {10066, COCE_ERATELIMIT, 1}, /* too_many_concurrent_requests */
    {10047, COCE_ERATELIMIT, 1}, /* matching_engine_queue_full */
    {10004, COCE_ENOTFOUND, 0},  /* order_not_found */
    {11094, COCE_EUNKNOWN, 1},   /* internal_server_error */
    {13028, COCE_EUNKNOWN, 1},   /* temporarily_unavailable */
    {10040, COCE_EEXCHANGE, 1},  /* retry: not processed */
    {10041, COCE_EEXCHANGE, 1},  /* settlement_in_progress */
    {11051, COCE_EEXCHANGE, 1},  /* system_maintenance */
    {13888, COCE_EEXCHANGE, 0},  /* timed_out: valid_until passed */
    {10009, COCE_EEXCHANGE, 0},  /* not_enough_funds */
    {10010, COCE_EEXCHANGE, 0},  /* already_closed */
    {11044, COCE_EEXCHANGE, 0},  /* not_open_order */
    {11008, COCE_EEXCHANGE, 0},  /* already_filled */
    {10020, COCE_EEXCHANGE, 0},  /* invalid_or_unsupported_instrument */
    {13020, COCE_EEXCHANGE, 0},  /* not_found: instrument */
};

static int db_map_code(long long code, int *transient)
{
    for (size_t i = 0; i < sizeof db_codes / sizeof db_codes[0]; i++)
        if (db_codes[i].code == code) {
            *transient = db_codes[i].transient;
            return db_codes[i].rc;
        }
    *transient = 0;
    return COCE_EEXCHANGE; /* every other refusal: quantity, price, ... */
}

static int db_ensure_token(coce_deribit *d, coce_err *err);

/* One JSON-RPC call. params is stolen. *result gets a new reference to the
 * `result` member on success. */
static int db_call(coce_deribit *d, const char *method, json_t *params,
                   db_kind kind, json_t **result, coce_err *err)
{
    *result = NULL;
    int safe = kind != DB_WRITE;
    int is_private = strncmp(method, "private/", 8) == 0;
    int skip_wait = 0;
    int attempts = safe ? 1 + d->o.read_retries : 1;
    int reauthed = 0;
    int last = COCE_EIO;
    if (!params)
        return coce_err_set(err, COCE_ENOMEM, "deribit: out of memory");
    for (int attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0 && !skip_wait) {
            d->st.retries++;
            coce__xhttp_backoff(d->o.backoff_ms, attempt);
        }
        skip_wait = 0;
        if (is_private) {
            int trc = db_ensure_token(d, err);
            if (trc != COCE_OK) {
                json_decref(params);
                return trc;
            }
        }
        int rc = db_respect_block(d, safe, method, err);
        if (rc != COCE_OK) {
            json_decref(params);
            return rc;
        }
        json_t *req = json_pack("{s:s, s:I, s:s, s:O}", "jsonrpc", "2.0", "id",
                                (json_int_t)d->next_id++, "method", method,
                                "params", params);
        char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
        json_decref(req);
        if (!body) {
            json_decref(params);
            return coce_err_set(err, COCE_ENOMEM, "deribit: out of memory");
        }
        int64_t t0 = coce__xhttp_now_ms();
        coce__xhttp_resp r;
        db_perform(d, method, body, is_private, !safe, &r);
        int64_t t1 = coce__xhttp_now_ms();
        OPENSSL_cleanse(body, strlen(body));
        free(body);
        if (r.curl != CURLE_OK) {
            last =
                coce__xhttp_failure(&r, safe, "deribit", method, "label", err);
            coce__xhttp_resp_free(&r);
            if (!safe)
                break;
            continue;
        }
        if (r.status == 429) {
            db_block(d, r.captured[0]);
            json_error_t je429;
            json_t *j429 = r.body ? json_loads(r.body, 0, &je429) : NULL;
            long long code = (long long)json_integer_value(
                json_object_get(json_object_get(j429, "error"), "code"));
            json_decref(j429);
            last = coce_err_set(err, COCE_ERATELIMIT,
                                "deribit: %s: HTTP 429, error %lld "
                                "too_many_requests%s",
                                method, code, safe ? "" : ": not placed");
            coce__xhttp_resp_free(&r);
            if (!safe || d->st.blocked_until_ms - coce__xhttp_now_ms() >
                             d->o.max_wait_ms)
                break;
            continue;
        }
        if (r.status >= 500) {
            last = coce_err_set(err, safe ? COCE_EHTTP : COCE_EUNKNOWN,
                                "deribit: %s: HTTP %ld%s", method, r.status,
                                safe ? ""
                                     : ": outcome unknown, query by label "
                                       "before anything else");
            coce__xhttp_resp_free(&r);
            if (!safe)
                break;
            continue;
        }
        json_error_t je;
        json_t *j = r.body ? json_loads(r.body, 0, &je) : NULL;
        coce__xhttp_resp_free(&r);
        if (!json_is_object(j)) {
            json_decref(j);
            if (r.status == 401 || r.status == 403) {
                last = coce_err_set(err, COCE_EAUTH, "deribit: %s: HTTP %ld",
                                    method, r.status);
                break;
            }
            if (r.status < 200 || r.status >= 300) {
                last = coce_err_set(err, COCE_EHTTP, "deribit: %s: HTTP %ld",
                                    method, r.status);
                break;
            }
            last = coce_err_set(
                err, safe ? COCE_EPARSE : COCE_EUNKNOWN,
                "deribit: %s: malformed JSON in the HTTP %ld answer%s", method,
                r.status,
                safe ? "" : ": outcome unknown, query by label first");
            if (!safe)
                break;
            continue;
        }
        const json_t *us_out = json_object_get(j, "usOut");
        if (json_is_integer(us_out))
            d->st.time_offset_ms =
                (int64_t)(json_integer_value(us_out) / 1000) - (t0 + t1) / 2;
        const json_t *e = json_object_get(j, "error");
        if (json_is_object(e)) {
            long long code =
                (long long)json_integer_value(json_object_get(e, "code"));
            char msg[160], data[160] = "";
            snprintf(msg, sizeof msg, "%s", db_str(e, "message"));
            const json_t *dj = json_object_get(e, "data");
            if (json_is_object(dj) &&
                json_is_string(json_object_get(dj, "reason")))
                snprintf(data, sizeof data, " (%s)", db_str(dj, "reason"));
            json_decref(j);
            int transient = 0;
            last = db_map_code(code, &transient);
            if (last == COCE_EUNKNOWN && safe)
                last = COCE_EEXCHANGE;
            last = coce_err_set(err, last, "deribit: %s: error %lld %s%s%s",
                                method, code, msg, data,
                                last == COCE_EUNKNOWN
                                    ? ": outcome unknown, query by label "
                                      "before anything else"
                                    : "");
            if (code == 10028 || code == 10066 || code == 10047)
                db_block(d, r.captured[0]);
            if (code == 13009 && is_private && !reauthed) {
                /* An error answer was not executed: a fresh token and one
                 * more attempt cannot duplicate anything. */
                reauthed = 1;
                d->access[0] = '\0';
                d->st.token_expiry_ms = 0;
                attempts++;
                skip_wait = 1;
                continue;
            }
            if (safe && transient &&
                d->st.blocked_until_ms - coce__xhttp_now_ms() <=
                    d->o.max_wait_ms)
                continue;
            break;
        }
        json_t *res = json_object_get(j, "result");
        if (!res) {
            json_decref(j);
            last = coce_err_set(err, safe ? COCE_EPARSE : COCE_EUNKNOWN,
                                "deribit: %s: answer without result or "
                                "error%s",
                                method,
                                safe ? ""
                                     : ": outcome unknown, query by "
                                       "label first");
            if (!safe)
                break;
            continue;
        }
        *result = json_incref(res);
        json_decref(j);
        json_decref(params);
        return COCE_OK;
    }
    json_decref(params);
    return last;
}

/* ---- authentication ---------------------------------------------------- */

static int db_grant(coce_deribit *d, int use_refresh, coce_err *err)
{
    json_t *params =
        use_refresh ? json_pack("{s:s, s:s}", "grant_type", "refresh_token",
                                "refresh_token", d->refresh)
                    : json_pack("{s:s, s:s, s:s}", "grant_type",
                                "client_credentials", "client_id", d->client_id,
                                "client_secret", d->client_secret);
    json_t *res = NULL;
    int rc = db_call(d, "public/auth", params, DB_AUTH, &res, err);
    if (rc != COCE_OK)
        return rc;
    const char *access = db_str(res, "access_token");
    const char *refresh = db_str(res, "refresh_token");
    int64_t expires_in = db_int(res, "expires_in");
    if (!*access || strlen(access) >= DB_TOKEN_MAX ||
        strlen(refresh) >= DB_TOKEN_MAX || expires_in <= 0) {
        json_decref(res);
        return coce_err_set(err, COCE_EPARSE,
                            "deribit: public/auth: no access_token or "
                            "expires_in in the answer");
    }
    snprintf(d->access, sizeof d->access, "%s", access);
    snprintf(d->refresh, sizeof d->refresh, "%s", refresh);
    json_decref(res);
    d->st.token_expiry_ms = coce__xhttp_now_ms() + expires_in * 1000;
    if (use_refresh)
        d->st.refreshes++;
    else
        d->st.auths++;
    coce_log(COCE_LOG_INFO, "deribit", use_refresh ? "token_refresh" : "auth",
             "{s:I}", "expires_in_s", (json_int_t)expires_in);
    return COCE_OK;
}

int coce_deribit_authenticate(coce_deribit *d, coce_err *err)
{
    if (!d)
        return coce_err_set(err, COCE_EINVAL, "deribit: handle is NULL");
    return db_grant(d, 0, err);
}

static int db_ensure_token(coce_deribit *d, coce_err *err)
{
    int64_t left = d->st.token_expiry_ms - coce__xhttp_now_ms();
    if (d->access[0] && left > d->o.refresh_margin_ms)
        return COCE_OK;
    if (d->access[0] && d->refresh[0] && left > 0) {
        coce_err rerr;
        if (db_grant(d, 1, &rerr) == COCE_OK)
            return COCE_OK;
        coce_log(COCE_LOG_WARN, "deribit", "refresh_failed", "{s:s}", "error",
                 coce_err_name(rerr.code));
    }
    return db_grant(d, 0, err);
}

/* ---- instruments ------------------------------------------------------- */

static db_inst *db_inst_of(coce_deribit *d, coce_asset_id asset)
{
    for (size_t i = 0; i < d->n_insts; i++)
        if (d->insts[i].asset == asset)
            return &d->insts[i];
    return NULL;
}

static db_inst *db_inst_named(coce_deribit *d, const char *name)
{
    for (size_t i = 0; i < d->n_insts; i++)
        if (strcmp(d->insts[i].name, name) == 0)
            return &d->insts[i];
    return NULL;
}

int coce_deribit_register(coce_deribit *d, coce_asset_id asset,
                          const char *instrument, coce_err *err)
{
    if (!d || !instrument)
        return coce_err_set(err, COCE_EINVAL, "deribit: register: NULL");
    if (asset == COCE_ASSET_QUOTE || !*instrument ||
        strlen(instrument) >= COCE_DERIBIT_NAME_MAX)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: register: bad asset or instrument name "
                            "'%.64s'",
                            instrument);
    db_inst *by_asset = db_inst_of(d, asset);
    db_inst *by_name = db_inst_named(d, instrument);
    if (by_asset && by_asset == by_name)
        return COCE_OK;
    if (by_asset || by_name)
        return coce_err_set(err, COCE_EEXIST,
                            "deribit: register: asset %u or instrument %s "
                            "already mapped otherwise",
                            (unsigned)asset, instrument);
    db_inst in;
    memset(&in, 0, sizeof in);
    if (db_currency_of(instrument, in.currency) != COCE_OK)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: register: no currency in instrument "
                            "name '%s'",
                            instrument);
    if (coce__venue_grow((void **)&d->insts, &d->cap_insts, d->n_insts + 1,
                         sizeof in) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "deribit: out of memory");
    in.asset = asset;
    snprintf(in.name, sizeof in.name, "%s", instrument);
    d->insts[d->n_insts++] = in;
    return COCE_OK;
}

/* Rules of every registered instrument of in's currency, from one
 * public/get_instruments call (the method is limited to 1 request per 10 s,
 * burst 5: fetched once per currency per handle). */
static int db_load_rules(coce_deribit *d, db_inst *in, coce_err *err)
{
    if (in->loaded)
        return COCE_OK;
    size_t idx = (size_t)(in - d->insts);
    json_t *res = NULL;
    int rc = db_call(
        d, "public/get_instruments",
        json_pack("{s:s, s:s}", "currency", in->currency, "kind", "option"),
        DB_READ, &res, err);
    if (rc != COCE_OK)
        return rc;
    in = &d->insts[idx];
    size_t i;
    const json_t *e;
    json_array_foreach(res, i, e)
    {
        db_inst *t = db_inst_named(d, db_str(e, "instrument_name"));
        if (!t)
            continue;
        t->loaded = 1;
        t->active = json_is_true(json_object_get(e, "is_active"));
        t->tick = db_num(e, "tick_size");
        t->min_amount = db_num(e, "min_trade_amount");
        t->n_steps = 0;
        size_t k;
        const json_t *s;
        json_array_foreach(json_object_get(e, "tick_size_steps"), k, s)
        {
            if (t->n_steps < DB_STEPS_MAX) {
                t->step_above[t->n_steps] = db_num(s, "above_price");
                t->step_tick[t->n_steps] = db_num(s, "tick_size");
                t->n_steps++;
            }
        }
    }
    json_decref(res);
    if (!in->loaded)
        return coce_err_set(err, COCE_ENOTFOUND,
                            "deribit: public/get_instruments: %s not listed "
                            "(expired or misspelt)",
                            in->name);
    return COCE_OK;
}

/* "tick_size_steps: the price from which the increased tick size
 * applies": the largest step at or below price, else tick_size. */
static double db_tick_at(const db_inst *in, double price)
{
    double tick = in->tick;
    double best = -1.0;
    for (size_t i = 0; i < in->n_steps; i++)
        if (in->step_above[i] <= price && in->step_above[i] > best) {
            best = in->step_above[i];
            tick = in->step_tick[i];
        }
    return tick;
}

static double db_round(double v, double step, int up)
{
    if (!(step > 0.0))
        return v;
    double q = v / step;
    double whole = nearbyint(q);
    if (fabs(q - whole) <= 1e-9 * (1.0 + fabs(q)))
        return whole * step;
    return (up ? ceil(q) : floor(q)) * step;
}

/* ---- orders ------------------------------------------------------------- */

static db_order *db_find(coce_deribit *d, const char *client_id)
{
    for (size_t i = d->n_orders; i-- > 0;)
        if (strcmp(d->orders[i].intent.client_id, client_id) == 0)
            return &d->orders[i];
    return NULL;
}

static int db_track(coce_deribit *d, const coce_order_intent *intent,
                    int64_t deadline_ms, db_order **out, coce_err *err)
{
    if (!db_valid_label(intent->client_id))
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: client id '%.40s' empty, too long or "
                            "not printable ASCII",
                            intent->client_id);
    db_inst *in = db_inst_of(d, intent->asset);
    if (!in)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: asset %u has no registered instrument",
                            (unsigned)intent->asset);
    if (coce__venue_grow((void **)&d->orders, &d->cap_orders, d->n_orders + 1,
                         sizeof *d->orders) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "deribit: out of memory");
    db_order *o = &d->orders[d->n_orders++];
    memset(o, 0, sizeof *o);
    o->intent = *intent;
    o->inst = (size_t)(in - d->insts);
    o->deadline_ms = deadline_ms;
    *out = o;
    return COCE_OK;
}

int coce_deribit_track(coce_deribit *d, const coce_order_intent *intent,
                       int64_t sent_ms, double filled, coce_err *err)
{
    if (!d || !intent)
        return coce_err_set(err, COCE_EINVAL, "deribit: track: NULL");
    if (!isfinite(filled) || filled < 0.0)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: track %.40s: filled must be >= 0",
                            intent->client_id);
    if (db_find(d, intent->client_id))
        return COCE_OK;
    db_order *o = NULL;
    int64_t deadline =
        sent_ms > 0 ? sent_ms + d->o.valid_window_ms + DB_CLOCK_SLACK_MS : 0;
    int rc = db_track(d, intent, deadline, &o, err);
    if (rc == COCE_OK && o) {
        o->unknown = 1;
        o->reported_qty = filled;
        o->coin_unknown = filled > 0.0;
    }
    return rc;
}

/* "order_state": open, filled, rejected, cancelled, untriggered. */
static coce_exec_status db_status(const json_t *o)
{
    const char *s = db_str(o, "order_state");
    double filled = db_num(o, "filled_amount");
    if (strcmp(s, "open") == 0)
        return filled > 0.0 ? COCE_EXEC_PARTIAL : COCE_EXEC_OPEN;
    if (strcmp(s, "filled") == 0)
        return COCE_EXEC_FILLED;
    if (strcmp(s, "rejected") == 0)
        return COCE_EXEC_REJECTED;
    if (strcmp(s, "cancelled") == 0)
        return COCE_EXEC_CANCELED;
    return COCE_EXEC_PENDING; /* untriggered and anything newer */
}

static void db_order_state(coce_deribit *d, const json_t *j,
                           const db_order *known, coce_order_state *st)
{
    memset(st, 0, sizeof *st);
    if (known) {
        st->intent = known->intent;
        st->fees = known->fees;
    } else {
        snprintf(st->intent.client_id, sizeof st->intent.client_id, "%s",
                 db_str(j, "label"));
        const db_inst *in = db_inst_named(d, db_str(j, "instrument_name"));
        st->intent.asset = in ? in->asset : COCE_ASSET_QUOTE;
        st->intent.side = (int8_t)(strcmp(db_str(j, "direction"), "sell") == 0
                                       ? COCE_SIDE_SELL
                                       : COCE_SIDE_BUY);
        st->intent.type = strcmp(db_str(j, "order_type"), "market") == 0
                              ? COCE_ORDER_MARKET
                              : COCE_ORDER_LIMIT;
        st->intent.qty = db_num(j, "amount");
        st->intent.limit_price =
            st->intent.type == COCE_ORDER_LIMIT ? db_num(j, "price") : 0.0;
        st->intent.time_ms = db_int(j, "creation_timestamp");
    }
    st->status = db_status(j);
    st->filled_qty = db_num(j, "filled_amount");
    st->avg_price = st->filled_qty > 0.0 ? db_num(j, "average_price") : 0.0;
    st->placed_ms = db_int(j, "creation_timestamp");
    st->active_ms = st->placed_ms;
    st->updated_ms = db_int(j, "last_update_timestamp");
    if (st->updated_ms == 0)
        st->updated_ms = st->placed_ms;
}

/* private/get_order_state_by_label: the order with this label, or NULL
 * (*out) when the venue has none. Several (placed by another process with
 * the same label) is COCE_EEXIST. */
static int db_by_label(coce_deribit *d, const char *currency, const char *label,
                       json_t **out, coce_err *err)
{
    *out = NULL;
    json_t *res = NULL;
    int rc =
        db_call(d, "private/get_order_state_by_label",
                json_pack("{s:s, s:s}", "currency", currency, "label", label),
                DB_READ, &res, err);
    if (rc != COCE_OK)
        return rc;
    size_t n = json_array_size(res);
    if (n > 1) {
        json_decref(res);
        return coce_err_set(err, COCE_EEXIST,
                            "deribit: label %s names %zu orders at the venue",
                            label, n);
    }
    if (n == 1)
        *out = json_incref(json_array_get(res, 0));
    json_decref(res);
    return COCE_OK;
}

static void db_note_order(db_order *o, const json_t *j)
{
    const char *oid = db_str(j, "order_id");
    if (*oid)
        snprintf(o->order_id, sizeof o->order_id, "%s", oid);
    o->unknown = 0;
    o->terminal = coce_exec_status_terminal(db_status(j));
    o->seen_filled = db_num(j, "filled_amount");
    o->seen_avg = db_num(j, "average_price");
    o->seen_ms = db_int(j, "last_update_timestamp");
}

static int db_query(coce_deribit *d, const char *client_id, json_t **out,
                    db_order **known, coce_err *err)
{
    *out = NULL;
    *known = db_find(d, client_id);
    if (!*known)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: client id %.40s not tracked: its "
                            "currency is unknown (coce_deribit_track the "
                            "journalled intent first)",
                            client_id);
    size_t idx = (size_t)(*known - d->orders);
    char ccy[DB_CCY_MAX];
    snprintf(ccy, sizeof ccy, "%s", d->insts[(*known)->inst].currency);
    int rc = db_by_label(d, ccy, client_id, out, err);
    *known = &d->orders[idx];
    if (rc != COCE_OK)
        return rc;
    db_order *o = *known;
    if (*out) {
        db_note_order(o, *out);
        return COCE_OK;
    }
    if (o->deadline_ms > 0 && coce__xhttp_now_ms() <= o->deadline_ms)
        return coce_err_set(err, COCE_EUNKNOWN,
                            "deribit: order %s not visible yet; it may still "
                            "start for %lld ms (valid_until): query again "
                            "later",
                            client_id,
                            (long long)(o->deadline_ms - coce__xhttp_now_ms()));
    o->terminal = 1;
    o->unknown = 0;
    return coce_err_set(err, COCE_ENOTFOUND,
                        "deribit: no order labelled %s at the venue",
                        client_id);
}

/* Contracts a new sell may still take from the position without opening a
 * short: held size minus open sells and this handle's unknown sells. */
static int db_sellable(coce_deribit *d, const db_inst *in, double *out,
                       coce_err *err)
{
    size_t idx = (size_t)(in - d->insts);
    char name[COCE_DERIBIT_NAME_MAX], ccy[DB_CCY_MAX];
    snprintf(name, sizeof name, "%s", in->name);
    snprintf(ccy, sizeof ccy, "%s", in->currency);
    double held = 0.0;
    int rc = coce_deribit_position(d, d->insts[idx].asset, &held, err);
    if (rc != COCE_OK)
        return rc;
    json_t *res = NULL;
    rc = db_call(d, "private/get_open_orders_by_currency",
                 json_pack("{s:s, s:s}", "currency", ccy, "kind", "option"),
                 DB_READ, &res, err);
    if (rc != COCE_OK)
        return rc;
    double reserved = 0.0;
    size_t i;
    const json_t *e;
    json_array_foreach(res, i, e)
    {
        if (strcmp(db_str(e, "instrument_name"), name) == 0 &&
            strcmp(db_str(e, "direction"), "sell") == 0)
            reserved += db_num(e, "amount") - db_num(e, "filled_amount");
    }
    json_decref(res);
    for (size_t k = 0; k < d->n_orders; k++) {
        const db_order *o = &d->orders[k];
        if (o->unknown && !o->terminal && o->inst == idx &&
            o->intent.side == COCE_SIDE_SELL)
            reserved += o->intent.qty - o->reported_qty;
    }
    *out = held - reserved;
    return COCE_OK;
}

int coce_deribit_position(coce_deribit *d, coce_asset_id asset, double *size,
                          coce_err *err)
{
    if (!d || !size)
        return coce_err_set(err, COCE_EINVAL, "deribit: position: NULL");
    *size = 0.0;
    const db_inst *in = db_inst_of(d, asset);
    if (!in)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: asset %u has no registered instrument",
                            (unsigned)asset);
    char name[COCE_DERIBIT_NAME_MAX];
    snprintf(name, sizeof name, "%s", in->name);
    json_t *res = NULL;
    int rc = db_call(
        d, "private/get_positions",
        json_pack("{s:s, s:s}", "currency", in->currency, "kind", "option"),
        DB_READ, &res, err);
    if (rc != COCE_OK)
        return rc;
    size_t i;
    const json_t *e;
    json_array_foreach(res, i, e)
    {
        /* "size ... for options size is in base currency"; negative for
         * a short. */
        if (strcmp(db_str(e, "instrument_name"), name) == 0)
            *size = db_num(e, "size");
    }
    json_decref(res);
    return COCE_OK;
}

static int db_check_rules(coce_deribit *d, db_inst *in,
                          const coce_order_intent *o, double *amount,
                          double *price, coce_err *err)
{
    int rc = db_load_rules(d, in, err);
    if (rc != COCE_OK)
        return rc;
    const char *id = o->client_id;
    if (!in->active)
        return coce_err_set(err, COCE_EEXCHANGE,
                            "deribit: order %s: instrument %s is not active",
                            id, in->name);
    *amount = db_round(o->qty, in->min_amount, 0);
    if (!(*amount > 0.0) ||
        (in->min_amount > 0.0 && *amount < in->min_amount * (1 - 1e-12)))
        return coce_err_set(err, COCE_EEXCHANGE,
                            "deribit: order %s: amount %.10g (rounded down "
                            "to %.10g) below min_trade_amount %.10g of %s",
                            id, o->qty, *amount, in->min_amount, in->name);
    *price = 0.0;
    if (o->type == COCE_ORDER_LIMIT) {
        double tick = db_tick_at(in, o->limit_price);
        *price = db_round(o->limit_price, tick, o->side == COCE_SIDE_SELL);
        /* Rounding up may cross into a coarser step: round again there. */
        double tick2 = db_tick_at(in, *price);
        if (tick2 != tick)
            *price = db_round(*price, tick2, o->side == COCE_SIDE_SELL);
        if (!(*price > 0.0))
            return coce_err_set(err, COCE_EEXCHANGE,
                                "deribit: order %s: limit %.10g rounds to 0 "
                                "on tick %.10g",
                                id, o->limit_price, tick);
    }
    return COCE_OK;
}

static int db_place(void *impl, const coce_order_intent *in, int64_t now_ms,
                    coce_fill *fills, size_t cap, size_t *n_fills,
                    coce_err *err)
{
    (void)now_ms;
    coce_deribit *d = impl;
    int rc = coce__venue_check_place("deribit", d, in, fills, cap, n_fills,
                                     "amount", err);
    if (rc != COCE_OK)
        return rc;
    if (!db_valid_label(in->client_id))
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: client id '%.40s' empty, too long or "
                            "not printable ASCII",
                            in->client_id);
    if (db_find(d, in->client_id))
        return coce_err_set(err, COCE_EEXIST,
                            "deribit: client id %s already used by this "
                            "process",
                            in->client_id);
    db_inst *inst = db_inst_of(d, in->asset);
    if (!inst)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: asset %u has no registered instrument",
                            (unsigned)in->asset);
    size_t ii = (size_t)(inst - d->insts);
    double amount = 0.0, price = 0.0;
    rc = db_check_rules(d, inst, in, &amount, &price, err);
    if (rc != COCE_OK)
        return rc;
    inst = &d->insts[ii];
    /* Deribit does not refuse a reused label: look first. */
    json_t *existing = NULL;
    rc = db_by_label(d, inst->currency, in->client_id, &existing, err);
    if (rc != COCE_OK)
        return rc;
    if (existing) {
        json_decref(existing);
        return coce_err_set(err, COCE_EEXIST,
                            "deribit: label %s already names an order at the "
                            "venue: not sent",
                            in->client_id);
    }
    inst = &d->insts[ii];
    if (in->side == COCE_SIDE_SELL) {
        double sellable = 0.0;
        rc = db_sellable(d, inst, &sellable, err);
        if (rc != COCE_OK)
            return rc;
        inst = &d->insts[ii];
        if (amount > sellable + 1e-12)
            return coce_err_set(err, COCE_EEXCHANGE,
                                "deribit: order %s: sell %.10g of %s would "
                                "open a short (sellable %.10g): long-only, "
                                "not sent",
                                in->client_id, amount, inst->name, sellable);
    }
    int64_t valid_until =
        coce__xhttp_now_ms() + d->st.time_offset_ms + d->o.valid_window_ms;
    json_t *params = json_pack(
        "{s:s, s:f, s:s, s:s, s:I}", "instrument_name", inst->name, "amount",
        amount, "type", in->type == COCE_ORDER_MARKET ? "market" : "limit",
        "label", in->client_id, "valid_until", (json_int_t)valid_until);
    if (params && in->type == COCE_ORDER_LIMIT)
        json_object_set_new(params, "price", json_real(price));
    if (params && in->side == COCE_SIDE_SELL)
        json_object_set_new(params, "reduce_only", json_true());
    char name[COCE_DERIBIT_NAME_MAX];
    snprintf(name, sizeof name, "%s", inst->name);
    /* Tracked before sending so that an unknown outcome can be queried. */
    db_order *o = NULL;
    rc = db_track(
        d, in, coce__xhttp_now_ms() + d->o.valid_window_ms + DB_CLOCK_SLACK_MS,
        &o, err);
    if (rc != COCE_OK) {
        json_decref(params);
        return rc;
    }
    size_t idx = (size_t)(o - d->orders);
    o->unknown = 1;
    coce_log(COCE_LOG_INFO, "deribit", "order_send",
             "{s:s, s:s, s:s, s:f, s:f}", "client_id", in->client_id,
             "instrument", name, "side",
             in->side == COCE_SIDE_BUY ? "buy" : "sell", "amount", amount,
             "price", price);
    json_t *res = NULL;
    rc = db_call(d, in->side == COCE_SIDE_BUY ? "private/buy" : "private/sell",
                 params, DB_WRITE, &res, err);
    o = &d->orders[idx];
    if (rc != COCE_OK) {
        if (rc != COCE_EUNKNOWN) { /* refused: it can never start */
            o->terminal = 1;
            o->unknown = 0;
            o->deadline_ms = 0;
        }
        coce_log(rc == COCE_EUNKNOWN ? COCE_LOG_WARN : COCE_LOG_INFO, "deribit",
                 "order_error", "{s:s, s:s}", "client_id", in->client_id,
                 "error", coce_err_name(rc));
        return rc;
    }
    const json_t *ord = json_object_get(res, "order");
    db_note_order(o, ord);
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(res, "trades"), i, t)
    {
        coce_fill f;
        memset(&f, 0, sizeof f);
        snprintf(f.client_id, sizeof f.client_id, "%s", in->client_id);
        f.asset = in->asset;
        f.side = in->side;
        f.qty = db_num(t, "amount");
        f.price = db_num(t, "price");
        f.fee = db_num(t, "fee");
        f.time_ms = db_int(t, "timestamp");
        o->reported_qty += f.qty;
        o->reported_coin += f.qty * f.price;
        o->fees += f.fee;
        if (*n_fills < cap) {
            fills[(*n_fills)++] = f;
        } else if (coce__venue_fills_push(&d->pending, &f) != COCE_OK) {
            json_decref(res);
            return coce_err_set(err, COCE_ENOMEM, "deribit: out of memory");
        }
    }
    json_decref(res);
    return COCE_OK;
}

static int db_query_by_client_id(void *impl, const char *client_id,
                                 coce_order_state *out, coce_err *err)
{
    coce_deribit *d = impl;
    if (!d || !client_id || !out)
        return coce_err_set(err, COCE_EINVAL, "deribit: query: NULL argument");
    json_t *j = NULL;
    db_order *o = NULL;
    int rc = db_query(d, client_id, &j, &o, err);
    if (rc != COCE_OK)
        return rc;
    db_order_state(d, j, o, out);
    json_decref(j);
    return COCE_OK;
}

static int db_cancel(void *impl, const char *client_id, int64_t now_ms,
                     coce_err *err)
{
    (void)now_ms;
    coce_deribit *d = impl;
    if (!d || !client_id)
        return coce_err_set(err, COCE_EINVAL, "deribit: cancel: NULL argument");
    db_order *o = db_find(d, client_id);
    if (!o)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: cancel %.40s: not tracked (coce_deribit_"
                            "track it first)",
                            client_id);
    if (!o->order_id[0]) {
        /* private/cancel takes the venue's order_id: learn it by label. */
        json_t *j = NULL;
        int rc = db_query(d, client_id, &j, &o, err);
        if (rc != COCE_OK)
            return rc;
        json_decref(j);
    }
    char oid[COCE_DERIBIT_NAME_MAX];
    snprintf(oid, sizeof oid, "%s", o->order_id);
    json_t *res = NULL;
    int rc = db_call(d, "private/cancel", json_pack("{s:s}", "order_id", oid),
                     DB_WRITE, &res, err);
    if (rc == COCE_OK) {
        o = db_find(d, client_id);
        db_note_order(o, res);
        json_decref(res);
        coce_log(COCE_LOG_INFO, "deribit", "order_cancel", "{s:s}", "client_id",
                 client_id);
        return COCE_OK;
    }
    if (rc == COCE_ENOTFOUND)
        return coce_err_set(err, COCE_ENOTFOUND,
                            "deribit: cancel %s: no such order at the venue",
                            client_id);
    return rc;
}

static int db_open_orders(void *impl, coce_order_state *out, size_t cap,
                          size_t *n, coce_err *err)
{
    coce_deribit *d = impl;
    if (!d || !n || (cap > 0 && !out))
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: open_orders: NULL argument");
    *n = 0;
    size_t k = 0;
    /* One call per distinct currency of the registered instruments. */
    for (size_t c = 0; c < d->n_insts; c++) {
        int seen = 0;
        for (size_t p = 0; p < c; p++)
            seen |= strcmp(d->insts[p].currency, d->insts[c].currency) == 0;
        if (seen)
            continue;
        json_t *res = NULL;
        int rc = db_call(d, "private/get_open_orders_by_currency",
                         json_pack("{s:s, s:s}", "currency",
                                   d->insts[c].currency, "kind", "option"),
                         DB_READ, &res, err);
        if (rc != COCE_OK)
            return rc;
        size_t i;
        const json_t *e;
        json_array_foreach(res, i, e)
        {
            if (!db_inst_named(d, db_str(e, "instrument_name")))
                continue; /* an instrument this run does not trade */
            if (k < cap)
                db_order_state(d, e, db_find(d, db_str(e, "label")), &out[k]);
            k++;
        }
        json_decref(res);
    }
    *n = k;
    if (k > cap)
        return coce_err_set(err, COCE_ERANGE,
                            "deribit: open_orders: %zu orders, room for %zu", k,
                            cap);
    coce__venue_sort_by_placed(out, k);
    return COCE_OK;
}

static int db_balances(void *impl, coce_balance *out, size_t cap, size_t *n,
                       coce_err *err)
{
    coce_deribit *d = impl;
    if (!d || !n || (cap > 0 && !out))
        return coce_err_set(err, COCE_EINVAL, "deribit: balances: NULL");
    *n = 0;
    json_t *res = NULL;
    int rc = db_call(d, "private/get_account_summary",
                     json_pack("{s:s}", "currency", d->currency), DB_READ, &res,
                     err);
    if (rc != COCE_OK)
        return rc;
    coce_balance q;
    q.asset = COCE_ASSET_QUOTE;
    q.total = db_num(res, "balance");
    double avail = db_num(res, "available_funds");
    q.locked = q.total > avail ? q.total - avail : 0.0;
    json_decref(res);
    size_t k = 0;
    if (k < cap)
        out[k] = q;
    k++;
    for (size_t i = 0; i < d->n_insts; i++) {
        coce_balance b;
        b.asset = d->insts[i].asset;
        b.locked = 0.0;
        rc = coce_deribit_position(d, b.asset, &b.total, err);
        if (rc != COCE_OK)
            return rc;
        if (b.total == 0.0)
            continue;
        if (k < cap)
            out[k] = b;
        k++;
    }
    *n = k;
    if (k > cap)
        return coce_err_set(err, COCE_ERANGE,
                            "deribit: balances: %zu entries, room for %zu", k,
                            cap);
    return COCE_OK;
}

static int db_instrument_rules(void *impl, coce_asset_id asset,
                               coce_instrument_rules *out, coce_err *err)
{
    coce_deribit *d = impl;
    if (!d || !out)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: instrument_rules: NULL");
    db_inst *in = db_inst_of(d, asset);
    if (!in)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: asset %u has no registered instrument",
                            (unsigned)asset);
    size_t idx = (size_t)(in - d->insts);
    int rc = db_load_rules(d, in, err);
    if (rc != COCE_OK)
        return rc;
    in = &d->insts[idx];
    memset(out, 0, sizeof *out);
    out->asset = asset;
    out->tick_size = in->tick;
    out->lot_size = in->min_amount;
    out->min_qty = in->min_amount;
    return COCE_OK;
}

static int db_poll_fills(void *impl, coce_fill *fills, size_t cap,
                         size_t *n_fills, coce_err *err)
{
    coce_deribit *d = impl;
    if (!d || !n_fills || (cap > 0 && !fills))
        return coce_err_set(err, COCE_EINVAL, "deribit: poll_fills: NULL");
    *n_fills = 0;
    for (size_t i = 0; i < d->n_orders && d->pending.n < cap; i++) {
        char id[COCE_CLIENT_ID_MAX];
        snprintf(id, sizeof id, "%s", d->orders[i].intent.client_id);
        db_order *o = &d->orders[i];
        if (!o->terminal) {
            json_t *j = NULL;
            int rc = db_query(d, id, &j, &o, err);
            if (rc == COCE_ENOTFOUND || rc == COCE_EUNKNOWN)
                continue;
            if (rc != COCE_OK)
                return rc;
            json_decref(j);
        }
        /* A terminal order may still hold executions not reported yet
         * (its answer was lost and a query settled it). */
        double filled = o->seen_filled, avg = o->seen_avg;
        double coin = filled * avg;
        if (o->coin_unknown && filled > 0.0) {
            /* Journalled fills before a restart: value them at the
             * average so far, so only the increment is reported. */
            o->reported_coin = o->reported_qty * avg;
            o->coin_unknown = 0;
        }
        if (filled > o->reported_qty * (1 + 1e-12) + 1e-15) {
            coce_fill f;
            memset(&f, 0, sizeof f);
            snprintf(f.client_id, sizeof f.client_id, "%s", id);
            f.asset = o->intent.asset;
            f.side = o->intent.side;
            f.qty = filled - o->reported_qty;
            f.price = coin > o->reported_coin
                          ? (coin - o->reported_coin) / f.qty
                          : avg;
            f.time_ms = o->seen_ms;
            if (coce__venue_fills_push(&d->pending, &f) != COCE_OK)
                return coce_err_set(err, COCE_ENOMEM, "deribit: out of memory");
            o->reported_qty = filled;
            o->reported_coin = coin;
        }
    }
    *n_fills = coce__venue_fills_take(&d->pending, fills, cap);
    return COCE_OK;
}

/* ---- market data -------------------------------------------------------- */

static int db_public_text(coce_deribit *d, const char *method, json_t *params,
                          char **json, coce_err *err)
{
    json_t *res = NULL;
    int rc = db_call(d, method, params, DB_READ, &res, err);
    if (rc != COCE_OK)
        return rc;
    *json = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(res);
    if (!*json)
        return coce_err_set(err, COCE_ENOMEM, "deribit: out of memory");
    return COCE_OK;
}

static json_t *db_currency_kind(const char *currency, const char *kind)
{
    json_t *p = json_pack("{s:s}", "currency", currency);
    if (p && kind)
        json_object_set_new(p, "kind", json_string(kind));
    return p;
}

int coce_deribit_get_instruments(coce_deribit *d, const char *currency,
                                 const char *kind, char **json, coce_err *err)
{
    if (!d || !currency || !json)
        return coce_err_set(err, COCE_EINVAL, "deribit: get_instruments: NULL");
    *json = NULL;
    return db_public_text(d, "public/get_instruments",
                          db_currency_kind(currency, kind), json, err);
}

int coce_deribit_book_summary(coce_deribit *d, const char *currency,
                              const char *kind, char **json, coce_err *err)
{
    if (!d || !currency || !json)
        return coce_err_set(err, COCE_EINVAL, "deribit: book_summary: NULL");
    *json = NULL;
    return db_public_text(d, "public/get_book_summary_by_currency",
                          db_currency_kind(currency, kind), json, err);
}

int coce_deribit_ticker(coce_deribit *d, const char *instrument, char **json,
                        coce_err *err)
{
    if (!d || !instrument || !json)
        return coce_err_set(err, COCE_EINVAL, "deribit: ticker: NULL");
    *json = NULL;
    return db_public_text(d, "public/ticker",
                          json_pack("{s:s}", "instrument_name", instrument),
                          json, err);
}

int coce_deribit_order_book(coce_deribit *d, const char *instrument, int depth,
                            coce_deribit_book *out, coce_err *err)
{
    if (!d || !instrument || !out)
        return coce_err_set(err, COCE_EINVAL, "deribit: order_book: NULL");
    if (depth < 1 || depth > 10000)
        return coce_err_set(err, COCE_EINVAL,
                            "deribit: order_book: depth %d not in 1..10000",
                            depth);
    memset(out, 0, sizeof *out);
    json_t *res = NULL;
    int rc = db_call(
        d, "public/get_order_book",
        json_pack("{s:s, s:i}", "instrument_name", instrument, "depth", depth),
        DB_READ, &res, err);
    if (rc != COCE_OK)
        return rc;
    snprintf(out->instrument, sizeof out->instrument, "%s",
             db_str(res, "instrument_name"));
    out->timestamp_ms = db_int(res, "timestamp");
    /* best_*_price is null when the side is empty: db_num gives 0. */
    out->best_bid = db_num(res, "best_bid_price");
    out->best_bid_amount = db_num(res, "best_bid_amount");
    out->best_ask = db_num(res, "best_ask_price");
    out->best_ask_amount = db_num(res, "best_ask_amount");
    out->mark_price = db_num(res, "mark_price");
    out->index_price = db_num(res, "index_price");
    out->underlying_price = db_num(res, "underlying_price");
    out->n_bids = json_array_size(json_object_get(res, "bids"));
    out->n_asks = json_array_size(json_object_get(res, "asks"));
    json_decref(res);
    return COCE_OK;
}

coce_exchange coce_deribit_exchange(coce_deribit *d)
{
    coce_exchange x = {.name = "deribit",
                       .impl = d,
                       .place = db_place,
                       .cancel = db_cancel,
                       .query_by_client_id = db_query_by_client_id,
                       .open_orders = db_open_orders,
                       .balances = db_balances,
                       .instrument_rules = db_instrument_rules,
                       .poll_fills = db_poll_fills};
    return x;
}
