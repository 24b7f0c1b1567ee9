/* The HTTP client against an in-process server on 127.0.0.1: retries,
 * backoff hints, cache, timeouts and secret hygiene. */
#include "data_ingest/http.h"
#include "mock_api.h"
#include "testutil.h"
#include "utils/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct sleeps {
    int64_t ms[32];
    int n;
} sleeps;

static void record_sleep(void *ctx, int64_t ms)
{
    sleeps *s = ctx;
    if (s->n < 32)
        s->ms[s->n++] = ms;
}

static coce_http_client *client(sleeps *s, int retries, const char *cache)
{
    coce_http_opts o;
    coce_http_opts_default(&o);
    o.max_retries = retries;
    o.backoff_base_ms = 8;
    o.backoff_max_ms = 64;
    o.timeout_ms = 2000;
    o.seed = 42;
    o.cache_dir = cache;
    o.sleep_fn = record_sleep;
    o.sleep_ctx = s;
    coce_http_client *c = NULL;
    assert_int_equal(coce_http_client_new(&c, &o, NULL), COCE_OK);
    return c;
}

/* ---- routes ---- */

static void route_ok(mock_api *m, struct MHD_Connection *c, const char *path,
                     int n, mock_reply *r)
{
    (void)m;
    (void)c;
    (void)n;
    char tmp[256];
    snprintf(tmp, sizeof tmp, "{\"path\":\"%s\"}", path);
    r->body = mock_strdup(tmp);
    r->headers[0] = "X-MBX-USED-WEIGHT-1M: 12";
}

static void route_429_then_ok(mock_api *m, struct MHD_Connection *c,
                              const char *path, int n, mock_reply *r)
{
    (void)m;
    (void)c;
    (void)path;
    if (n == 1) {
        r->status = 429;
        r->headers[0] = "Retry-After: 1";
        r->body = mock_strdup("{\"code\":-1003,\"msg\":\"Too many requests\"}");
    } else {
        r->body = mock_strdup("[]");
    }
}

static void route_reset(mock_api *m, struct MHD_Connection *c,
                        const char *path, int n, mock_reply *r)
{
    (void)c;
    (void)path;
    if (n == 1) {
        static char hdr[64];
        snprintf(hdr, sizeof hdr, "x-rate-limit-reset: %ld",
                 (long)time(NULL) + 3);
        r->status = 429;
        r->headers[0] = "x-rate-limit-limit: 450";
        r->headers[1] = "x-rate-limit-remaining: 0";
        r->headers[2] = hdr;
        r->body = mock_strdup("{\"title\":\"Too Many Requests\"}");
    } else {
        r->body = mock_strdup("{}");
    }
    (void)m;
}

static void route_503(mock_api *m, struct MHD_Connection *c, const char *path,
                      int n, mock_reply *r)
{
    (void)m;
    (void)c;
    (void)path;
    (void)n;
    r->status = 503;
    r->body = mock_strdup("Service Unavailable\nretry later");
}

static void route_slow(mock_api *m, struct MHD_Connection *c,
                       const char *path, int n, mock_reply *r)
{
    (void)m;
    (void)c;
    (void)path;
    (void)n;
    r->delay_ms = 400;
    r->body = mock_strdup("{}");
}

static void route_status(mock_api *m, struct MHD_Connection *c,
                         const char *path, int n, mock_reply *r)
{
    (void)m;
    (void)c;
    (void)n;
    r->status = atoi(path + 1);
    r->body = mock_strdup("{\"error\":\"no\"}");
}

static void route_echo_key(mock_api *m, struct MHD_Connection *c,
                           const char *path, int n, mock_reply *r)
{
    (void)m;
    (void)path;
    (void)n;
    const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                "x-cg-demo-api-key");
    char tmp[256];
    snprintf(tmp, sizeof tmp, "{\"error\":\"invalid key %s\"}",
             k != NULL ? k : "?");
    r->status = 500;
    r->body = mock_strdup(tmp);
}

static void route_drop(mock_api *m, struct MHD_Connection *c,
                       const char *path, int n, mock_reply *r)
{
    (void)m;
    (void)c;
    (void)path;
    (void)n;
    r->drop = 1;
}


static void route_edge(mock_api *m, struct MHD_Connection *c,
                       const char *path, int n, mock_reply *r)
{
    (void)m;
    (void)c;
    (void)n;
    if (strcmp(path, "/big") == 0) {
        r->body = malloc(20001);
        memset(r->body, 'x', 20000);
        r->body[20000] = '\0';
        r->headers[0] = "X-Padded:   value with spaces   ";
    } else if (strcmp(path, "/date") == 0) {
        r->status = 503;
        r->headers[0] = "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT";
        r->body = mock_strdup("busy");
    } else if (strcmp(path, "/long") == 0) {
        r->status = 429;
        r->headers[0] = "Retry-After: 100";
        r->body = mock_strdup("slow down");
    } else if (strcmp(path, "/loop") == 0) {
        /* Claims gzip but is not: curl fails decoding (not retried). */
        r->headers[0] = "Content-Encoding: gzip";
        r->body = mock_strdup("this is not gzip data at all");
    } else {
        const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                    "X-Key");
        char tmp[128];
        snprintf(tmp, sizeof tmp, "bad key %s", k != NULL ? k : "?");
        r->status = 400;
        r->body = mock_strdup(tmp);
    }
}

/* ---- tests ---- */

static void test_get_ok_headers_captured(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route_ok, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 2, NULL);
    char url[256];
    snprintf(url, sizeof url, "%s/api/v3/ping?symbol=ADXBTC", m.base);
    coce_http_header h[] = {{"x-cg-demo-api-key", "k-123", 1},
                            {"Accept", "application/json", 0}};
    coce_http_response r;
    coce_err err;
    assert_int_equal(coce_http_get(c, url, h, 2, &r, &err), COCE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"path\":\"/api/v3/ping\"}");
    assert_int_equal(r.attempts, 1);
    assert_int_equal(r.from_cache, 0);
    char v[32];
    assert_int_equal(coce_http_response_header(&r, "x-mbx-used-weight-1m", v,
                                               sizeof v),
                     COCE_OK);
    assert_string_equal(v, "12");
    assert_int_equal(coce_http_response_header(&r, "Nope", v, sizeof v),
                     COCE_ENOTFOUND);
    assert_int_equal(coce_http_response_header(&r, "Content-Type", v, 4),
                     COCE_ERANGE);
    assert_non_null(strstr(m.last_headers, "x-cg-demo-api-key: k-123"));
    assert_string_equal(m.last_query, "symbol=ADXBTC");
    assert_int_equal(s.n, 0);
    assert_int_equal(coce_http_client_requests(c), 1);
    coce_http_response_destroy(&r);
    coce_http_response_destroy(NULL);
    coce_http_client_free(c);
    coce_http_client_free(NULL);
    mock_stop(&m);
}

static void test_429_retry_after_then_success(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route_429_then_ok, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 3, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/api/v3/aggTrades", m.base);
    coce_http_response r;
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, NULL), COCE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.attempts, 2);
    assert_int_equal(mock_count(&m), 2);
    /* Retry-After: 1 outweighs the tiny exponential backoff. */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ms[0], 1000);
    coce_http_response_destroy(&r);
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_rate_limit_reset_header(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route_reset, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 1, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/2/tweets/search/recent", m.base);
    coce_http_response r;
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, NULL), COCE_OK);
    assert_int_equal(s.n, 1);
    /* reset = now + 3 s (whole seconds): between 1 and 3 s from now. */
    assert_true(s.ms[0] >= 1000 && s.ms[0] <= 3100);
    coce_http_response_destroy(&r);
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_5xx_bounded_then_error(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route_503, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 2, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/api/v3/aggTrades?symbol=X", m.base);
    coce_http_response r;
    coce_err err;
    coce_err_clear(&err);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, &err), COCE_EHTTP);
    assert_int_equal(mock_count(&m), 3);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.attempts, 3);
    assert_non_null(strstr(err.msg, "HTTP 503 after 3 tries"));
    assert_non_null(strstr(err.msg, "/api/v3/aggTrades?symbol=X"));
    assert_non_null(strstr(err.msg, "Service Unavailable retry later"));
    /* Exponential with equal jitter: [4, 8], then [8, 16] ms. */
    assert_int_equal(s.n, 2);
    assert_true(s.ms[0] >= 4 && s.ms[0] <= 8);
    assert_true(s.ms[1] >= 8 && s.ms[1] <= 16);
    coce_http_response_destroy(&r);
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_backoff_capped(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route_503, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 6, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/x", m.base);
    coce_http_response r;
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, NULL), COCE_EHTTP);
    assert_int_equal(s.n, 6);
    for (int i = 0; i < s.n; ++i)
        assert_true(s.ms[i] <= 64);
    assert_true(s.ms[5] >= 32);
    coce_http_response_destroy(&r);
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_timeout(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route_slow, NULL), 0);
    sleeps s = {0};
    coce_http_opts o;
    coce_http_opts_default(&o);
    o.timeout_ms = 100;
    o.max_retries = 1;
    o.backoff_base_ms = 2;
    o.sleep_fn = record_sleep;
    o.sleep_ctx = &s;
    coce_http_client *c = NULL;
    assert_int_equal(coce_http_client_new(&c, &o, NULL), COCE_OK);
    char url[128];
    snprintf(url, sizeof url, "%s/slow", m.base);
    coce_http_response r;
    coce_err err;
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, &err), COCE_ETIMEOUT);
    assert_int_equal(r.attempts, 2);
    assert_non_null(strstr(err.msg, "after 2 tries"));
    coce_http_response_destroy(&r);
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_client_errors_not_retried(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route_status, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 3, NULL);
    char url[128];
    coce_http_response r;
    coce_err err;
    snprintf(url, sizeof url, "%s/404", m.base);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, &err), COCE_ENOTFOUND);
    assert_non_null(strstr(err.msg, "HTTP 404 after 1 try"));
    coce_http_response_destroy(&r);
    snprintf(url, sizeof url, "%s/401", m.base);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, NULL), COCE_EAUTH);
    coce_http_response_destroy(&r);
    snprintf(url, sizeof url, "%s/400", m.base);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, NULL), COCE_EHTTP);
    assert_int_equal(r.status, 400);
    coce_http_response_destroy(&r);
    assert_int_equal(mock_count(&m), 3);
    assert_int_equal(s.n, 0);
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_cache_avoids_second_request(void **state)
{
    (void)state;
    char dir[512], cache[600];
    coce_test_tmpdir(dir, sizeof dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    mock_api m;
    assert_int_equal(mock_start(&m, route_ok, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 0, cache);
    char url[128];
    snprintf(url, sizeof url, "%s/cached?x=1", m.base);
    coce_http_response r;
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, NULL), COCE_OK);
    assert_int_equal(r.from_cache, 0);
    coce_http_response_destroy(&r);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, NULL), COCE_OK);
    assert_int_equal(r.from_cache, 1);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"path\":\"/cached\"}");
    char v[32];
    assert_int_equal(
        coce_http_response_header(&r, "X-MBX-USED-WEIGHT-1M", v, sizeof v),
        COCE_OK);
    coce_http_response_destroy(&r);
    assert_int_equal(mock_count(&m), 1);
    assert_int_equal(coce_http_client_requests(c), 1);

    /* A new client (a re-run) also hits the cache. */
    coce_http_client *c2 = client(&s, 0, cache);
    assert_int_equal(coce_http_get(c2, url, NULL, 0, &r, NULL), COCE_OK);
    assert_int_equal(r.from_cache, 1);
    coce_http_response_destroy(&r);
    assert_int_equal(mock_count(&m), 1);

    /* A damaged entry is ignored and refetched. */
    char path[1024];
    assert_int_equal(coce_http_cache_path(c2, url, path, sizeof path), COCE_OK);
    assert_int_equal(coce_test_write_file(path, "COCEHTTP1 200 5 99\nabc"), 0);
    assert_int_equal(coce_http_get(c2, url, NULL, 0, &r, NULL), COCE_OK);
    assert_int_equal(r.from_cache, 0);
    coce_http_response_destroy(&r);
    assert_int_equal(mock_count(&m), 2);
    assert_int_equal(coce_http_cache_path(c2, url, path, 8), COCE_ERANGE);
    coce_http_client_free(c2);

    /* Errors are not cached. */
    coce_http_client_free(c);
    mock_stop(&m);
    assert_int_equal(mock_start(&m, route_status, NULL), 0);
    c = client(&s, 0, cache);
    snprintf(url, sizeof url, "%s/500", m.base);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, NULL), COCE_EHTTP);
    coce_http_response_destroy(&r);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, NULL), COCE_EHTTP);
    coce_http_response_destroy(&r);
    assert_int_equal(mock_count(&m), 2);
    coce_http_client_free(c);
    mock_stop(&m);

    coce_http_client *nc = client(&s, 0, NULL);
    assert_int_equal(coce_http_cache_path(nc, url, path, sizeof path),
                     COCE_ENOTFOUND);
    coce_http_client_free(nc);
    coce_test_rmtree(dir);
}

static void test_secret_never_logged(void **state)
{
    (void)state;
    char dir[512], logp[600];
    coce_test_tmpdir(dir, sizeof dir);
    snprintf(logp, sizeof logp, "%s/log.jsonl", dir);
    assert_int_equal(coce_log_open(logp), 0);
    coce_log_set_level(COCE_LOG_DEBUG);
    coce_log_set_stderr_level(COCE_LOG_OFF);
    mock_api m;
    assert_int_equal(mock_start(&m, route_echo_key, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 1, NULL);
    const char *key = "CG-supersecretkey9876";
    const char *qkey = "querysecret5555";
    char url[256];
    snprintf(url, sizeof url, "%s/api/v3/coins/markets?vs_currency=usd&"
             "x_cg_demo_api_key=%s&page=1", m.base, qkey);
    coce_http_header h[] = {{"x-cg-demo-api-key", key, 1}};
    coce_http_response r;
    coce_err err;
    coce_err_clear(&err);
    assert_int_equal(coce_http_get(c, url, h, 1, &r, &err), COCE_EHTTP);
    /* The server did echo the key, so the body holds it... */
    assert_non_null(strstr(r.body, key));
    /* ...but neither the error nor the log does. */
    assert_null(strstr(err.msg, key));
    assert_null(strstr(err.msg, qkey));
    assert_non_null(strstr(err.msg, "invalid key [REDACTED]"));
    assert_non_null(strstr(err.msg, "x_cg_demo_api_key=[REDACTED]&page=1"));
    coce_http_response_destroy(&r);
    coce_http_client_free(c);
    mock_stop(&m);
    coce_log_close();
    size_t n = 0;
    char *text = coce_test_read_file(logp, &n);
    assert_non_null(text);
    assert_true(n > 0);
    assert_null(strstr(text, key));
    assert_null(strstr(text, qkey));
    assert_non_null(strstr(text, "request_failed"));
    free(text);
    coce_log_clear_secrets();
    coce_log_set_level(COCE_LOG_INFO);
    coce_test_rmtree(dir);
}

static void test_network_errors(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route_drop, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 2, NULL);
    char url[128];
    snprintf(url, sizeof url, "%s/drop", m.base);
    coce_http_response r;
    coce_err err;
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, &err), COCE_ENET);
    assert_int_equal(mock_count(&m), 3);
    assert_int_equal(r.status, 0);
    coce_http_response_destroy(&r);
    unsigned short port = m.port;
    mock_stop(&m);
    /* Nothing listens any more: connection refused, retried, then ENET. */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/x", (unsigned)port);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, &err), COCE_ENET);
    coce_http_response_destroy(&r);
    /* Bad URLs and headers are refused without retrying. */
    assert_int_equal(coce_http_get(c, "ftp://127.0.0.1/x", NULL, 0, &r, &err),
                     COCE_EINVAL);
    coce_http_response_destroy(&r);
    assert_int_equal(coce_http_get(c, "", NULL, 0, &r, &err), COCE_EINVAL);
    coce_http_header bad[] = {{"X-Evil", "a\r\nInjected: 1", 0}};
    assert_int_equal(coce_http_get(c, url, bad, 1, &r, &err), COCE_EINVAL);
    assert_non_null(strstr(err.msg, "bad header"));
    coce_http_client_free(c);
}

static void test_redact_and_escape(void **state)
{
    (void)state;
    char out[256];
    coce_http_redact_url("https://a.b/c?symbol=X&apiKey=abc&signature=f00"
                         "&limit=5#frag",
                         out, sizeof out);
    assert_string_equal(out, "https://a.b/c?symbol=X&apiKey=[REDACTED]&"
                             "signature=[REDACTED]&limit=5#frag");
    coce_http_redact_url("https://a.b/c", out, sizeof out);
    assert_string_equal(out, "https://a.b/c");
    coce_http_redact_url("https://a.b/c?token=zzz", out, 12);
    assert_string_equal(out, "https://a.b");
    coce_http_redact_url("x", out, 0);
    coce_http_redact_url("https://a.b/?flag&Bearer_TOKEN=1", out, sizeof out);
    assert_string_equal(out, "https://a.b/?flag&Bearer_TOKEN=[REDACTED]");

    assert_int_equal(coce_http_escape("(#pump OR $ADX) lang:en", out,
                                      sizeof out),
                     COCE_OK);
    assert_string_equal(out, "%28%23pump%20OR%20%24ADX%29%20lang%3Aen");
    assert_int_equal(coce_http_escape("a-b_c.d~e", out, sizeof out), COCE_OK);
    assert_string_equal(out, "a-b_c.d~e");
    assert_int_equal(coce_http_escape("abc", out, 3), COCE_ERANGE);
    assert_int_equal(coce_http_escape(" ", out, 3), COCE_ERANGE);
}

static void test_real_sleep_and_defaults(void **state)
{
    (void)state;
    coce_http_client *c = NULL;
    assert_int_equal(coce_http_client_new(&c, NULL, NULL), COCE_OK);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    coce_http_client_sleep(c, 5);
    coce_http_client_sleep(c, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
                (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    assert_true(ms >= 4.5);
    coce_http_client_free(c);
}


static void test_edge_cases(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route_edge, NULL), 0);
    sleeps s = {0};
    coce_http_opts o;
    coce_http_opts_default(&o);
    o.max_retries = -3; /* treated as 0 */
    o.sleep_fn = record_sleep;
    o.sleep_ctx = &s;
    char dir[512], file[600];
    coce_test_tmpdir(dir, sizeof dir);
    snprintf(file, sizeof file, "%s/not_a_dir", dir);
    assert_int_equal(coce_test_write_file(file, "x"), 0);
    o.cache_dir = file; /* unwritable cache: a warning, not a failure */
    coce_http_client *c = NULL;
    assert_int_equal(coce_http_client_new(&c, &o, NULL), COCE_OK);
    char url[256];
    coce_http_response r;
    coce_err err;
    snprintf(url, sizeof url, "%s/big", m.base);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, &err), COCE_OK);
    assert_int_equal(r.body_len, 20000);
    char v[64];
    assert_int_equal(coce_http_response_header(&r, "x-padded", v, sizeof v),
                     COCE_OK);
    assert_string_equal(v, "value with spaces");
    coce_http_response_destroy(&r);
    assert_int_equal(coce_http_response_header(&r, "x", v, sizeof v),
                     COCE_ENOTFOUND);
    /* Short secrets echoed back are masked with stars. */
    snprintf(url, sizeof url, "%s/key", m.base);
    coce_http_header h[] = {{"X-Key", "abc12", 1}};
    assert_int_equal(coce_http_get(c, url, h, 1, &r, &err), COCE_EHTTP);
    assert_null(strstr(err.msg, "abc12"));
    assert_non_null(strstr(err.msg, "bad key *****"));
    coce_http_response_destroy(&r);
    snprintf(url, sizeof url, "%s/loop", m.base);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, &err), COCE_ENET);
    assert_int_equal(r.attempts, 1);
    coce_http_response_destroy(&r);
    coce_http_client_free(c);

    /* Retry-After as an HTTP date in the past: no extra wait; a long
     * Retry-After is capped by max_wait_ms; base above max is capped. */
    coce_http_opts_default(&o);
    o.max_retries = 1;
    o.backoff_base_ms = 100;
    o.backoff_max_ms = 40;
    o.max_wait_ms = 70;
    o.sleep_fn = record_sleep;
    o.sleep_ctx = &s;
    assert_int_equal(coce_http_client_new(&c, &o, NULL), COCE_OK);
    s.n = 0;
    snprintf(url, sizeof url, "%s/date", m.base);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, &err), COCE_EHTTP);
    assert_int_equal(s.n, 1);
    assert_true(s.ms[0] >= 20 && s.ms[0] <= 40);
    coce_http_response_destroy(&r);
    snprintf(url, sizeof url, "%s/long", m.base);
    assert_int_equal(coce_http_get(c, url, NULL, 0, &r, &err),
                     COCE_ERATELIMIT);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.ms[1], 70);
    coce_http_response_destroy(&r);
    coce_http_client_free(c);
    mock_stop(&m);

    char out[256];
    coce_http_redact_url("https://a/?a_very_long_parameter_name_that_goes_on_"
                         "and_on_and_on_forever_token=1",
                         out, sizeof out);
    assert_non_null(strstr(out, "=[REDACTED]"));
    coce_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_ok_headers_captured),
        cmocka_unit_test(test_429_retry_after_then_success),
        cmocka_unit_test(test_rate_limit_reset_header),
        cmocka_unit_test(test_5xx_bounded_then_error),
        cmocka_unit_test(test_backoff_capped),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_client_errors_not_retried),
        cmocka_unit_test(test_cache_avoids_second_request),
        cmocka_unit_test(test_secret_never_logged),
        cmocka_unit_test(test_network_errors),
        cmocka_unit_test(test_redact_and_escape),
        cmocka_unit_test(test_real_sleep_and_defaults),
        cmocka_unit_test(test_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
