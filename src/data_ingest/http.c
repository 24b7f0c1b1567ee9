/* libcurl GET with retries, backoff, an on-disk cache and secret hygiene.
 * See http.h for the policy and its sources. */
#include "data_ingest/http.h"

#include "utils/fsutil.h"
#include "utils/log.h"
#include "utils/rng.h"

#include <curl/curl.h>
#include <jansson.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef COCE_VERSION
#define COCE_VERSION "dev"
#endif

#define MAX_SECRETS 8
#define SNIPPET_MAX 160
#define CACHE_MAGIC "COCEHTTP1"

struct coce_http_client {
    CURL *curl;
    coce_http_opts opts;
    char *cache_dir;
    char *user_agent;
    coce_rng rng;
    size_t requests;
    /* Secret header values of the request in progress (borrowed). */
    const char *secrets[MAX_SECRETS];
    size_t n_secrets;
};

typedef struct buf {
    char *p;
    size_t n;
    size_t cap;
} buf;

static int buf_append(buf *b, const void *data, size_t len)
{
    if (b->p == NULL || b->n + len + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 4096 : b->cap;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL)
            return COCE_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = '\0';
    return COCE_OK;
}

void coce_http_opts_default(coce_http_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = 30000;
    o->connect_timeout_ms = 10000;
    o->max_retries = 5;
    o->backoff_base_ms = 500;
    o->backoff_max_ms = 60000;
    o->max_wait_ms = 900000;
    o->seed = 1;
}

static char *dup_or_null(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return NULL;
    return strdup(s);
}

int coce_http_client_new(coce_http_client **out, const coce_http_opts *opts,
                         coce_err *err)
{
    *out = NULL;
    coce_http_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return coce_err_set(err, COCE_ENOMEM, "http: out of memory");
    if (opts != NULL)
        c->opts = *opts;
    else
        coce_http_opts_default(&c->opts);
    c->cache_dir = dup_or_null(c->opts.cache_dir);
    c->user_agent = dup_or_null(c->opts.user_agent);
    if (c->user_agent == NULL)
        c->user_agent = strdup("coce/" COCE_VERSION);
    c->opts.cache_dir = c->cache_dir;
    c->opts.user_agent = c->user_agent;
    if (c->opts.max_retries < 0)
        c->opts.max_retries = 0;
    coce_rng_init(&c->rng, c->opts.seed);
    /* curl_global_init is implied by the first curl_easy_init (libcurl
     * documents this as thread-unsafe only for the very first call). */
    c->curl = curl_easy_init();
    if (c->curl == NULL || c->user_agent == NULL ||
        (c->opts.cache_dir == NULL && opts != NULL && opts->cache_dir != NULL &&
         opts->cache_dir[0] != '\0')) {
        coce_http_client_free(c);
        return coce_err_set(err, COCE_ENET, "http: cannot start libcurl");
    }
    *out = c;
    return COCE_OK;
}

void coce_http_client_free(coce_http_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    free(c->cache_dir);
    free(c->user_agent);
    free(c);
}

size_t coce_http_client_requests(const coce_http_client *c)
{
    return c->requests;
}

void coce_http_client_sleep(coce_http_client *c, int64_t ms)
{
    if (ms <= 0)
        return;
    if (c->opts.sleep_fn != NULL) {
        c->opts.sleep_fn(c->opts.sleep_ctx, ms);
        return;
    }
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                          .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void coce_http_response_destroy(coce_http_response *r)
{
    if (r == NULL)
        return;
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

static int key_like(const char *name, size_t len)
{
    static const char *const words[] = {"key",       "token",    "secret",
                                        "signature", "password", "auth"};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; ++w) {
        size_t wl = strlen(words[w]);
        for (size_t i = 0; i + wl <= len; ++i)
            if (strncasecmp(name + i, words[w], wl) == 0)
                return 1;
    }
    return 0;
}

static void put(char *out, size_t len, size_t *pos, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *pos + 1 < len; ++i)
        out[(*pos)++] = s[i];
    out[*pos] = '\0';
}

void coce_http_redact_url(const char *url, char *out, size_t len)
{
    if (len == 0)
        return;
    size_t pos = 0;
    out[0] = '\0';
    const char *q = strchr(url, '?');
    if (q == NULL) {
        put(out, len, &pos, url, strlen(url));
        return;
    }
    put(out, len, &pos, url, (size_t)(q - url) + 1);
    const char *p = q + 1;
    while (*p != '\0') {
        size_t seg = strcspn(p, "&#");
        size_t name_len = strcspn(p, "=&#");
        if (name_len < seg && key_like(p, name_len)) {
            put(out, len, &pos, p, name_len + 1);
            put(out, len, &pos, "[REDACTED]", 10);
        } else {
            put(out, len, &pos, p, seg);
        }
        p += seg;
        if (*p == '&') {
            put(out, len, &pos, "&", 1);
            ++p;
        } else if (*p == '#') {
            put(out, len, &pos, p, strlen(p));
            break;
        }
    }
}

int coce_http_escape(const char *in, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t pos = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; ++p) {
        int keep = isalnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
                   *p == '~';
        size_t need = keep ? 1 : 3;
        if (pos + need + 1 > len) {
            if (len > 0)
                out[0] = '\0';
            return COCE_ERANGE;
        }
        if (keep) {
            out[pos++] = (char)*p;
        } else {
            out[pos++] = '%';
            out[pos++] = hex[*p >> 4];
            out[pos++] = hex[*p & 15];
        }
    }
    if (pos + 1 > len)
        return COCE_ERANGE;
    out[pos] = '\0';
    return COCE_OK;
}

int coce_http_cache_path(const coce_http_client *c, const char *url,
                         char *out, size_t len)
{
    if (c->cache_dir == NULL)
        return COCE_ENOTFOUND;
    char hex[65];
    coce_sha256_hex(url, strlen(url), hex);
    int w = snprintf(out, len, "%s/%s.http", c->cache_dir, hex);
    if (w < 0 || (size_t)w >= len)
        return COCE_ERANGE;
    return COCE_OK;
}

int coce_http_response_header(const coce_http_response *r, const char *name,
                              char *out, size_t len)
{
    if (r->headers == NULL)
        return COCE_ENOTFOUND;
    size_t nlen = strlen(name);
    const char *p = r->headers;
    while (*p != '\0') {
        size_t line = strcspn(p, "\r\n");
        if (line > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            const char *e = p + line;
            while (v < e && (*v == ' ' || *v == '\t'))
                ++v;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                --e;
            size_t vlen = (size_t)(e - v);
            if (vlen + 1 > len)
                return COCE_ERANGE;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return COCE_OK;
        }
        p += line;
        while (*p == '\r' || *p == '\n')
            ++p;
    }
    return COCE_ENOTFOUND;
}

/* ---- cache ------------------------------------------------------------ */

static int cache_load(const coce_http_client *c, const char *url,
                      coce_http_response *resp)
{
    char path[1024];
    if (coce_http_cache_path(c, url, path, sizeof path) != COCE_OK ||
        !coce_fs_exists(path))
        return COCE_ENOTFOUND;
    char *data = NULL;
    size_t n = 0;
    if (coce_fs_read_all(path, &data, &n, NULL) != COCE_OK)
        return COCE_ENOTFOUND;
    /* Header line: CACHE_MAGIC status headers_len body_len. */
    long long vals[3] = {0, 0, 0};
    const char *nl = memchr(data, '\n', n);
    const char *p = data + strlen(CACHE_MAGIC);
    int ok = nl != NULL && strncmp(data, CACHE_MAGIC, strlen(CACHE_MAGIC)) == 0;
    for (int i = 0; ok && i < 3; ++i) {
        char *end = NULL;
        if (*p != ' ')
            ok = 0;
        else
            vals[i] = strtoll(p + 1, &end, 10);
        if (ok && (end == p + 1 || vals[i] < 0))
            ok = 0;
        p = end;
    }
    if (!ok || p != nl ||
        (size_t)(nl - data) + 1 + (size_t)vals[1] + (size_t)vals[2] != n) {
        /* A damaged entry is ignored and will be replaced. */
        free(data);
        return COCE_ENOTFOUND;
    }
    long status = (long)vals[0];
    size_t hlen = (size_t)vals[1], blen = (size_t)vals[2];
    const char *h = nl + 1;
    resp->headers = malloc(hlen + 1);
    resp->body = malloc(blen + 1);
    if (resp->headers == NULL || resp->body == NULL) {
        free(data);
        coce_http_response_destroy(resp);
        return COCE_ENOMEM;
    }
    memcpy(resp->headers, h, hlen);
    resp->headers[hlen] = '\0';
    memcpy(resp->body, h + hlen, blen);
    resp->body[blen] = '\0';
    resp->headers_len = hlen;
    resp->body_len = blen;
    resp->status = status;
    resp->from_cache = 1;
    free(data);
    return COCE_OK;
}

static void cache_store(const coce_http_client *c, const char *url,
                        const coce_http_response *resp)
{
    char path[1024];
    if (coce_http_cache_path(c, url, path, sizeof path) != COCE_OK)
        return;
    char head[96];
    int hn = snprintf(head, sizeof head, CACHE_MAGIC " %ld %zu %zu\n",
                      resp->status, resp->headers_len, resp->body_len);
    buf b = {0};
    if (buf_append(&b, head, (size_t)hn) != COCE_OK ||
        buf_append(&b, resp->headers != NULL ? resp->headers : "",
                   resp->headers_len) != COCE_OK ||
        buf_append(&b, resp->body != NULL ? resp->body : "",
                   resp->body_len) != COCE_OK) {
        free(b.p);
        return;
    }
    /* A cache that cannot be written only costs a re-fetch later. */
    if (coce_fs_mkdir_p(c->cache_dir) != COCE_OK ||
        coce_fs_write_atomic(path, b.p, b.n, NULL) != COCE_OK)
        coce_log(COCE_LOG_WARN, "http", "cache_write_failed", "{s:s}", "path",
                 path);
    free(b.p);
}

/* ---- one request ------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    buf *b = ud;
    return buf_append(b, data, size * nmemb) == COCE_OK ? size * nmemb : 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    buf *b = ud;
    size_t n = size * nmemb;
    /* A new status line (redirect, 100 Continue) starts a new header set. */
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        b->n = 0;
    return buf_append(b, data, n) == COCE_OK ? n : 0;
}

static void redact_secrets(const coce_http_client *c, char *s)
{
    for (size_t i = 0; i < c->n_secrets; ++i) {
        const char *sec = c->secrets[i];
        size_t sl = strlen(sec);
        if (sl == 0)
            continue;
        char *p;
        while ((p = strstr(s, sec)) != NULL) {
            static const char mark[] = "[REDACTED]";
            size_t ml = sizeof mark - 1;
            size_t tail = strlen(p + sl) + 1;
            if (ml <= sl) {
                memcpy(p, mark, ml);
                memmove(p + ml, p + sl, tail);
            } else {
                /* Never grows: cut the secret to the marker's prefix. */
                memset(p, '*', sl);
            }
        }
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Server-requested wait in ms (Retry-After, x-rate-limit-reset), or 0. */
static int64_t hinted_wait(const coce_http_response *r)
{
    char v[128];
    int64_t wait = 0;
    if (coce_http_response_header(r, "Retry-After", v, sizeof v) == COCE_OK) {
        char *end = NULL;
        long long s = strtoll(v, &end, 10);
        if (end != v && *end == '\0' && s >= 0) {
            wait = s * 1000;
        } else {
            time_t t = curl_getdate(v, NULL);
            if (t > 0)
                wait = (int64_t)t * 1000 - now_ms();
        }
    }
    /* X API: epoch seconds at which the window resets; only meaningful when
     * the window is used up. */
    if (r->status == 429 &&
        coce_http_response_header(r, "x-rate-limit-reset", v, sizeof v) ==
            COCE_OK) {
        char *end = NULL;
        long long s = strtoll(v, &end, 10);
        if (end != v && *end == '\0') {
            int64_t w = s * 1000 - now_ms();
            if (w > wait)
                wait = w;
        }
    }
    return wait > 0 ? wait : 0;
}

static int64_t backoff_ms(coce_http_client *c, int retry)
{
    int64_t exp = c->opts.backoff_base_ms;
    for (int i = 0; i < retry && exp < c->opts.backoff_max_ms; ++i)
        exp *= 2;
    if (exp > c->opts.backoff_max_ms)
        exp = c->opts.backoff_max_ms;
    if (exp < 0)
        exp = 0;
    /* Equal jitter: half fixed, half uniform (Brooker 2015). */
    int64_t half = exp / 2;
    return half + (int64_t)(coce_rng_uniform(&c->rng) * (double)half);
}

static int status_code(long status)
{
    if (status == 401 || status == 403)
        return COCE_EAUTH;
    if (status == 404)
        return COCE_ENOTFOUND;
    if (status == 429 || status == 418)
        return COCE_ERATELIMIT;
    return COCE_EHTTP;
}

static int retryable_status(long status)
{
    return status == 429 || status == 418 || status >= 500;
}

static int curl_code(CURLcode cc, int *retry)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        *retry = 1;
        return COCE_ETIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        *retry = 1;
        return COCE_ENET;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        *retry = 0;
        return COCE_EINVAL;
    default:
        *retry = 0;
        return COCE_ENET;
    }
}

static void make_snippet(const char *body, size_t len, char *out)
{
    size_t i = 0;
    for (; i < len && i < SNIPPET_MAX; ++i) {
        unsigned char ch = (unsigned char)body[i];
        out[i] = (ch < 32 || ch == 127) ? ' ' : (char)ch;
    }
    out[i] = '\0';
}

static int fail(coce_http_client *c, coce_err *err, int code, const char *url,
                const char *what, const coce_http_response *resp)
{
    char safe[512];
    coce_http_redact_url(url, safe, sizeof safe);
    char snippet[SNIPPET_MAX + 1] = "";
    if (resp != NULL && resp->body != NULL)
        make_snippet(resp->body, resp->body_len, snippet);
    char msg[1024];
    if (snprintf(msg, sizeof msg, "GET %s: %s%s%s", safe, what,
                 snippet[0] != '\0' ? ": " : "", snippet) < 0)
        msg[0] = '\0';
    redact_secrets(c, msg);
    coce_log(COCE_LOG_WARN, "http", "request_failed", "{s:s, s:s}", "error",
             coce_err_name(code), "detail", msg);
    return coce_err_set(err, code, "%s", msg);
}

static int perform(coce_http_client *c, const char *url,
                   struct curl_slist *hdrs, buf *body, buf *head,
                   long *status, CURLcode *cc)
{
    CURL *h = c->curl;
    curl_easy_reset(h);
    body->n = 0;
    head->n = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->opts.timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)c->opts.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, head);
    c->requests++;
    *cc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    return COCE_OK;
}

static int take(buf *b, char **p, size_t *n)
{
    if (b->p == NULL && buf_append(b, "", 0) != COCE_OK)
        return COCE_ENOMEM;
    *p = b->p;
    *n = b->n;
    b->p = NULL;
    b->n = b->cap = 0;
    return COCE_OK;
}

static int build_headers(coce_http_client *c, const coce_http_header *headers,
                         size_t n_headers, struct curl_slist **out)
{
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < n_headers; ++i) {
        const coce_http_header *hd = &headers[i];
        if (hd->name == NULL || hd->value == NULL || hd->name[0] == '\0' ||
            strpbrk(hd->name, "\r\n:") != NULL ||
            strpbrk(hd->value, "\r\n") != NULL) {
            curl_slist_free_all(list);
            return COCE_EINVAL;
        }
        if (hd->secret && hd->value[0] != '\0') {
            coce_log_add_secret(hd->value);
            if (c->n_secrets < MAX_SECRETS)
                c->secrets[c->n_secrets++] = hd->value;
            /* "Bearer TOKEN": the token alone is a secret too. */
            const char *sp = strrchr(hd->value, ' ');
            if (sp != NULL && strlen(sp + 1) >= 8) {
                coce_log_add_secret(sp + 1);
                if (c->n_secrets < MAX_SECRETS)
                    c->secrets[c->n_secrets++] = sp + 1;
            }
        }
        size_t len = strlen(hd->name) + strlen(hd->value) + 3;
        char *line = malloc(len);
        if (line == NULL) {
            curl_slist_free_all(list);
            return COCE_ENOMEM;
        }
        snprintf(line, len, "%s: %s", hd->name, hd->value);
        struct curl_slist *next = curl_slist_append(list, line);
        /* curl copies the string; wipe ours in case it held a secret. */
        memset(line, 0, len);
        free(line);
        if (next == NULL) {
            curl_slist_free_all(list);
            return COCE_ENOMEM;
        }
        list = next;
    }
    *out = list;
    return COCE_OK;
}

int coce_http_get(coce_http_client *c, const char *url,
                  const coce_http_header *headers, size_t n_headers,
                  coce_http_response *resp, coce_err *err)
{
    memset(resp, 0, sizeof *resp);
    c->n_secrets = 0;
    if (url == NULL || url[0] == '\0')
        return coce_err_set(err, COCE_EINVAL, "http: empty URL");
    struct curl_slist *hdrs = NULL;
    int rc = build_headers(c, headers, n_headers, &hdrs);
    if (rc != COCE_OK) {
        c->n_secrets = 0;
        return fail(c, err, rc, url,
                    rc == COCE_EINVAL ? "bad header (empty, or CR/LF/':' in it)"
                                      : "out of memory",
                    NULL);
    }
    if (cache_load(c, url, resp) == COCE_OK) {
        char safe[512];
        coce_http_redact_url(url, safe, sizeof safe);
        coce_log(COCE_LOG_DEBUG, "http", "cache_hit", "{s:s}", "url", safe);
        curl_slist_free_all(hdrs);
        c->n_secrets = 0;
        return COCE_OK;
    }

    buf body = {0}, head = {0};
    long status = 0;
    CURLcode cc = CURLE_OK;
    int code = COCE_OK;
    char what[128] = "";
    for (int attempt = 0;; ++attempt) {
        perform(c, url, hdrs, &body, &head, &status, &cc);
        resp->attempts = attempt + 1;
        int retry = 0;
        int64_t hint = 0;
        if (cc != CURLE_OK) {
            code = curl_code(cc, &retry);
            snprintf(what, sizeof what, "%s", curl_easy_strerror(cc));
        } else if (status >= 200 && status < 300) {
            code = COCE_OK;
        } else {
            code = status_code(status);
            retry = retryable_status(status);
            snprintf(what, sizeof what, "HTTP %ld", status);
            coce_http_response tmp = {.status = status, .headers = head.p};
            hint = hinted_wait(&tmp);
        }
        if (code == COCE_OK || !retry || attempt >= c->opts.max_retries)
            break;
        int64_t wait = backoff_ms(c, attempt);
        if (hint > wait)
            wait = hint;
        if (wait > c->opts.max_wait_ms)
            wait = c->opts.max_wait_ms;
        char safe[512];
        coce_http_redact_url(url, safe, sizeof safe);
        coce_log(COCE_LOG_INFO, "http", "retry", "{s:s, s:s, s:i, s:I}", "url",
                 safe, "reason", what, "attempt", attempt + 1, "wait_ms",
                 (json_int_t)wait);
        coce_http_client_sleep(c, wait);
    }
    curl_slist_free_all(hdrs);
    resp->status = status;
    if (take(&body, &resp->body, &resp->body_len) != COCE_OK ||
        take(&head, &resp->headers, &resp->headers_len) != COCE_OK) {
        free(body.p);
        free(head.p);
        coce_http_response_destroy(resp);
        c->n_secrets = 0;
        return coce_err_set(err, COCE_ENOMEM, "http: out of memory");
    }
    if (code == COCE_OK) {
        cache_store(c, url, resp);
        c->n_secrets = 0;
        return COCE_OK;
    }
    char full[192];
    if (snprintf(full, sizeof full, "%s after %d tr%s", what, resp->attempts,
                 resp->attempts > 1 ? "ies" : "y") < 0)
        full[0] = '\0';
    rc = fail(c, err, code, url, full, cc == CURLE_OK ? resp : NULL);
    c->n_secrets = 0;
    return rc;
}
