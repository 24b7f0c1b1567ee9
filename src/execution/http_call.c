/* HTTP plumbing shared by the exchange adapters; contracts in
 * http_call.h. */
#include "execution/http_call.h"

#include "execution/venue_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct xhttp_ctx {
    const coce__xhttp_req *req;
    coce__xhttp_resp *r;
    size_t body_cap;
} xhttp_ctx;

static size_t xhttp_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    xhttp_ctx *x = ud;
    coce__xhttp_resp *r = x->r;
    size_t n = size * nmemb;
    /* Out of memory: 0 makes libcurl fail the transfer (after sending). */
    if (coce__venue_grow((void **)&r->body, &x->body_cap, r->body_len + n + 1,
                         1) != COCE_OK)
        return 0;
    memcpy(r->body + r->body_len, ptr, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return n;
}

/* "Name: 123" -> *out when line is header `name`; else 0. */
static int xhttp_header_value(const char *line, size_t len, const char *name,
                              int64_t *out)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return 0;
    char tmp[32];
    size_t vl = len - nl - 1;
    if (vl >= sizeof tmp)
        vl = sizeof tmp - 1;
    memcpy(tmp, line + nl + 1, vl);
    tmp[vl] = '\0';
    char *end = NULL;
    long long v = strtoll(tmp, &end, 10);
    if (end == tmp)
        return 0;
    *out = (int64_t)v;
    return 1;
}

static size_t xhttp_header_cb(char *line, size_t size, size_t nmemb, void *ud)
{
    xhttp_ctx *x = ud;
    size_t n = size * nmemb;
    const char *const *cap = x->req->capture;
    for (size_t i = 0; cap && cap[i] && i < COCE__XHTTP_CAPTURE_MAX; i++)
        if (xhttp_header_value(line, n, cap[i], &x->r->captured[i]))
            break;
    return n;
}

void coce__xhttp_perform(CURL *c, const coce__xhttp_req *req,
                         coce__xhttp_resp *r)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < COCE__XHTTP_CAPTURE_MAX; i++)
        r->captured[i] = -1;
    xhttp_ctx x = {.req = req, .r = r, .body_cap = 0};
    int post = strcmp(req->method, "POST") == 0;
    curl_easy_reset(c);
    struct curl_slist *hdr = NULL;
    for (size_t i = 0; req->headers && req->headers[i]; i++)
        hdr = curl_slist_append(hdr, req->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)req->timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, xhttp_write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, xhttp_header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "coce/" COCE_VERSION);
    if (hdr)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    if (post) {
        const char *body = req->body ? req->body : "";
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    }
    if (req->fresh) {
        curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    }
    r->curl = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hdr);
}

void coce__xhttp_resp_free(coce__xhttp_resp *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

int coce__xhttp_not_sent(CURLcode c)
{
    return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST ||
           c == CURLE_COULDNT_RESOLVE_PROXY ||
           c == CURLE_UNSUPPORTED_PROTOCOL || c == CURLE_URL_MALFORMAT;
}

int coce__xhttp_failure(const coce__xhttp_resp *r, int safe, const char *venue,
                        const char *what, const char *lookup, coce_err *err)
{
    const char *text = curl_easy_strerror(r->curl);
    if (coce__xhttp_not_sent(r->curl))
        return coce_err_set(err, COCE_ENET, "%s: %s: %s (not sent)", venue,
                            what, text);
    if (!safe)
        return coce_err_set(err, COCE_EUNKNOWN,
                            "%s: %s: %s after sending: outcome unknown, query "
                            "by %s before anything else",
                            venue, what, text, lookup);
    return coce_err_set(
        err, r->curl == CURLE_OPERATION_TIMEDOUT ? COCE_ETIMEOUT : COCE_ENET,
        "%s: %s: %s", venue, what, text);
}

int64_t coce__xhttp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void coce__xhttp_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void coce__xhttp_backoff(int64_t base_ms, int attempt)
{
    coce__xhttp_sleep_ms(base_ms << (attempt - 1 > 20 ? 20 : attempt - 1));
}

int64_t coce__xhttp_wait_block(int64_t blocked_until_ms, int safe,
                               int64_t max_wait_ms)
{
    int64_t wait = blocked_until_ms - coce__xhttp_now_ms();
    if (wait <= 0)
        return 0;
    if (safe && wait <= max_wait_ms) {
        coce__xhttp_sleep_ms(wait);
        return 0;
    }
    return wait;
}

void coce__xhttp_block(int64_t *blocked_until_ms, int64_t now_ms,
                       int64_t wait_ms)
{
    if (now_ms + wait_ms > *blocked_until_ms)
        *blocked_until_ms = now_ms + wait_ms;
}
