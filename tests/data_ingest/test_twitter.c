/* X API v2 client against a fake API on 127.0.0.1 serving the recorded
 * pages in tests/fixtures/api/twitter/ (shapes from
 * https://docs.x.com/x-api/posts/search-recent-posts and
 * https://docs.x.com/x-api/posts/get-posts-counts-recent). */
#include "data_ingest/twitter.h"
#include "mock_api.h"
#include "testutil.h"
#include "utils/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN "AAAAAAAAAAAAAAAAAAAAAbearer-secret-42"

typedef struct sleeps {
    int64_t ms[8];
    int n;
} sleeps;

static void record_sleep(void *ctx, int64_t ms)
{
    sleeps *s = ctx;
    if (s->n < 8)
        s->ms[s->n++] = ms;
}

static char *fixture(const char *name)
{
    char rel[256], p[1024];
    snprintf(rel, sizeof rel, "tests/fixtures/api/twitter/%s", name);
    coce_test_path(p, sizeof p, rel);
    char *s = mock_read_fixture(p);
    assert_non_null(s);
    return s;
}

static const char *g_bad_body;

static void route(mock_api *m, struct MHD_Connection *c, const char *path,
                  int n, mock_reply *r)
{
    (void)m;
    const char *auth =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (auth == NULL || strcmp(auth, "Bearer " TOKEN) != 0) {
        r->status = 401;
        r->body = mock_strdup("{\"title\":\"Unauthorized\",\"detail\":"
                              "\"Unauthorized\",\"status\":401}");
        return;
    }
    const char *q = mock_arg(c, "query");
    const char *next = mock_arg(c, "next_token");
    if (g_bad_body != NULL) {
        r->body = mock_strdup(g_bad_body);
        return;
    }
    if (strcmp(path, "/2/tweets/search/recent") == 0) {
        if (q != NULL && strcmp(q, "nothing") == 0)
            r->body = fixture("search_empty.json");
        else if (q != NULL && strcmp(q, "limited") == 0 && n == 1) {
            r->status = 429;
            r->headers[0] = "Retry-After: 2";
            r->headers[1] = "x-rate-limit-remaining: 0";
            r->body = mock_strdup("{\"title\":\"Too Many Requests\"}");
        } else if (next == NULL)
            r->body = fixture("search_page1.json");
        else if (strcmp(next,
                        "b26v89c19zqg8o3fpzbkk6bqemwpsvd5v12s5d5x3hv5p") == 0)
            r->body = fixture("search_page2.json");
        else
            r->status = 400;
    } else if (strcmp(path, "/2/tweets/counts/recent") == 0) {
        r->body = fixture(next == NULL ? "counts_page1.json"
                                       : "counts_page2.json");
    } else {
        r->status = 404;
    }
}

static coce_http_client *client(sleeps *s)
{
    coce_http_opts o;
    coce_http_opts_default(&o);
    o.max_retries = 2;
    o.backoff_base_ms = 1;
    o.timeout_ms = 3000;
    o.sleep_fn = record_sleep;
    o.sleep_ctx = s;
    coce_http_client *c = NULL;
    assert_int_equal(coce_http_client_new(&c, &o, NULL), COCE_OK);
    return c;
}

static void test_search_next_token_chain(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s);
    coce_twitter_opts o = {.base_url = m.base, .bearer = TOKEN};
    coce_tweet *t = NULL;
    size_t n = 0;
    coce_err err;
    int64_t start = 1636992000000LL; /* 2021-11-15T16:00:00Z */
    assert_int_equal(coce_twitter_search_recent(c, &o, "$ADX pump", start,
                                                start + 4 * 3600000LL, 100, 0,
                                                &t, &n, &err),
                     COCE_OK);
    assert_int_equal(mock_count(&m), 2);
    assert_int_equal(n, 3);
    assert_non_null(strstr(m.last_headers, "Authorization: Bearer " TOKEN));
    assert_string_equal(m.last_query,
                        "query=$ADX pump&start_time=2021-11-15T16:00:00Z&"
                        "end_time=2021-11-15T20:00:00Z&max_results=100&"
                        "tweet.fields=created_at,public_metrics,author_id&"
                        "next_token=b26v89c19zqg8o3fpzbkk6bqemwpsvd5v12s5d5x3hv5p");
    assert_string_equal(t[0].id, "1460323737035677698");
    assert_string_equal(t[0].author_id, "2244994945");
    assert_int_equal(t[0].created_ms, 1637003285000LL);
    assert_string_equal(t[0].text,
                        "Next pump: $ADX on Binance in 10 minutes! #pump");
    assert_int_equal(t[0].retweets, 11);
    assert_int_equal(t[0].replies, 2);
    assert_int_equal(t[0].likes, 51);
    assert_int_equal(t[0].quotes, 1);
    assert_string_equal(t[2].id, "1460323737035677001");
    assert_string_equal(t[2].author_id, "");
    assert_int_equal(t[2].likes, -1);
    coce_tweets_free(t, n);
    coce_tweets_free(NULL, 0);

    /* max_pages stops the chain; an empty result has no data at all. */
    assert_int_equal(coce_twitter_search_recent(c, &o, "x", INT64_MIN,
                                                INT64_MIN, 10, 1, &t, &n,
                                                &err),
                     COCE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m.last_query, "query=x&max_results=10&tweet.fields="
                                      "created_at,public_metrics,author_id");
    coce_tweets_free(t, n);
    assert_int_equal(coce_twitter_search_recent(c, &o, "nothing", INT64_MIN,
                                                INT64_MIN, 10, 0, &t, &n,
                                                &err),
                     COCE_OK);
    assert_int_equal(n, 0);
    coce_tweets_free(t, n);
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_rate_limited_then_ok(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s);
    coce_twitter_opts o = {.base_url = m.base, .bearer = TOKEN};
    coce_tweet *t = NULL;
    size_t n = 0;
    assert_int_equal(coce_twitter_search_recent(c, &o, "limited", INT64_MIN,
                                                INT64_MIN, 10, 1, &t, &n,
                                                NULL),
                     COCE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ms[0], 2000);
    coce_tweets_free(t, n);
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_auth(void **state)
{
    (void)state;
    char dir[512], logp[600];
    coce_test_tmpdir(dir, sizeof dir);
    snprintf(logp, sizeof logp, "%s/log.jsonl", dir);
    assert_int_equal(coce_log_open(logp), 0);
    coce_log_set_stderr_level(COCE_LOG_OFF);
    mock_api m;
    assert_int_equal(mock_start(&m, route, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s);
    coce_twitter_opts o = {.base_url = m.base, .bearer = NULL};
    coce_tweet *t = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_twitter_search_recent(c, &o, "x", INT64_MIN,
                                                INT64_MIN, 10, 0, &t, &n,
                                                &err),
                     COCE_ESECRET);
    coce_tweet_count *cn = NULL;
    assert_int_equal(coce_twitter_counts_recent(c, &o, "x", INT64_MIN,
                                                INT64_MIN, "hour", &cn, &n,
                                                &err),
                     COCE_ESECRET);
    assert_int_equal(mock_count(&m), 0);
    o.bearer = "wrong-token-123456";
    assert_int_equal(coce_twitter_search_recent(c, &o, "x", INT64_MIN,
                                                INT64_MIN, 10, 0, &t, &n,
                                                &err),
                     COCE_EAUTH);
    assert_null(strstr(err.msg, "wrong-token-123456"));
    assert_non_null(strstr(err.msg, "HTTP 401"));
    coce_http_client_free(c);
    mock_stop(&m);
    coce_log_close();
    char *text = coce_test_read_file(logp, NULL);
    assert_non_null(text);
    assert_null(strstr(text, "wrong-token-123456"));
    free(text);
    coce_test_rmtree(dir);
}

static void test_counts(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s);
    coce_twitter_opts o = {.base_url = m.base, .bearer = TOKEN};
    coce_tweet_count *cn = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_twitter_counts_recent(c, &o, "#ADX", INT64_MIN,
                                                INT64_MIN, "hour", &cn, &n,
                                                &err),
                     COCE_OK);
    assert_int_equal(n, 3);
    assert_int_equal(mock_count(&m), 2);
    assert_string_equal(m.last_query,
                        "query=#ADX&granularity=hour&next_token=cnt-page-2");
    assert_int_equal(cn[0].start_ms, 1636995600000LL);
    assert_int_equal(cn[0].end_ms, 1636999200000LL);
    assert_int_equal(cn[0].count, 12);
    assert_int_equal(cn[2].count, 311);
    free(cn);
    assert_int_equal(coce_twitter_counts_recent(c, &o, "#ADX", INT64_MIN,
                                                INT64_MIN, "week", &cn, &n,
                                                &err),
                     COCE_EINVAL);
    assert_int_equal(coce_twitter_counts_recent(c, &o, "", INT64_MIN,
                                                INT64_MIN, "day", &cn, &n,
                                                &err),
                     COCE_EINVAL);
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_malformed(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route, NULL), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s);
    coce_twitter_opts o = {.base_url = m.base, .bearer = TOKEN};
    static const struct {
        const char *body;
        const char *msg;
    } bad[] = {
        {"{", "page 1: invalid JSON"},
        {"[]", "page 1: expected an object"},
        {"{\"data\":{}}", "field 'data': expected an array"},
        {"{\"meta\":[]}", "field 'meta': expected an object"},
        {"{\"meta\":{\"next_token\":5}}", "field 'meta.next_token'"},
        {"{\"data\":[1]}", "data[0]: expected an object"},
        {"{\"data\":[{\"text\":\"a\"}]}", "data[0]: field 'id': expected a "
                                          "string"},
        {"{\"data\":[{\"id\":\"1\"}]}", "field 'text'"},
        {"{\"data\":[{\"id\":\"1\",\"text\":\"a\",\"author_id\":5}]}",
         "field 'author_id'"},
        {"{\"data\":[{\"id\":\"1\",\"text\":\"a\",\"created_at\":\"soon\"}]}",
         "field 'created_at': expected an RFC 3339 time"},
        {"{\"data\":[{\"id\":\"1\",\"text\":\"a\",\"created_at\":"
         "\"2021-11-15T18:00:00Z\",\"public_metrics\":3}]}",
         "field 'public_metrics': expected an object"},
        {"{\"data\":[{\"id\":\"1\",\"text\":\"a\",\"created_at\":"
         "\"2021-11-15T18:00:00Z\",\"public_metrics\":{\"retweet_count\":"
         "\"1\"}}]}",
         "field 'public_metrics.retweet_count': expected an integer"},
        {"{\"data\":[{\"id\":\"1\",\"text\":\"a\",\"created_at\":"
         "\"2021-11-15T18:00:00Z\",\"public_metrics\":{\"reply_count\":1.5}}]}",
         "public_metrics.reply_count"},
        {"{\"data\":[{\"id\":\"1\",\"text\":\"a\",\"created_at\":"
         "\"2021-11-15T18:00:00Z\",\"public_metrics\":{\"like_count\":null}}]}",
         "public_metrics.like_count"},
        {"{\"data\":[{\"id\":\"1\",\"text\":\"a\",\"created_at\":"
         "\"2021-11-15T18:00:00Z\",\"public_metrics\":{\"quote_count\":[]}}]}",
         "public_metrics.quote_count"},
    };
    coce_tweet *t = NULL;
    size_t n = 0;
    coce_err err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        g_bad_body = bad[i].body;
        assert_int_equal(coce_twitter_search_recent(c, &o, "x", INT64_MIN,
                                                    INT64_MIN, 10, 0, &t, &n,
                                                    &err),
                         COCE_EPARSE);
        assert_non_null(strstr(err.msg, "twitter /2/tweets/search/recent"));
        if (strstr(err.msg, bad[i].msg) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i].msg);
    }
    static const struct {
        const char *body;
        const char *msg;
    } badc[] = {
        {"{\"data\":[{\"end\":\"x\"}]}", "field 'start'"},
        {"{\"data\":[{\"start\":\"2021-11-15T18:00:00Z\"}]}", "field 'end'"},
        {"{\"data\":[{\"start\":\"2021-11-15T18:00:00Z\",\"end\":"
         "\"2021-11-15T18:00:00Z\",\"tweet_count\":\"4\"}]}",
         "field 'tweet_count': expected an integer"},
        {"[]", "expected an object"},
    };
    coce_tweet_count *cn = NULL;
    for (size_t i = 0; i < sizeof badc / sizeof badc[0]; ++i) {
        g_bad_body = badc[i].body;
        assert_int_equal(coce_twitter_counts_recent(c, &o, "x", INT64_MIN,
                                                    INT64_MIN, "day", &cn, &n,
                                                    &err),
                         COCE_EPARSE);
        if (strstr(err.msg, badc[i].msg) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, badc[i].msg);
    }
    g_bad_body = NULL;
    assert_int_equal(coce_twitter_search_recent(c, &o, "x", INT64_MIN,
                                                INT64_MIN, 5, 0, &t, &n, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_twitter_search_recent(c, &o, NULL, INT64_MIN,
                                                INT64_MIN, 10, 0, &t, &n,
                                                &err),
                     COCE_EINVAL);
    char ts[32];
    assert_int_equal(coce_twitter_format_time(-1, ts, sizeof ts), COCE_OK);
    assert_string_equal(ts, "1969-12-31T23:59:59Z");
    assert_int_equal(coce_twitter_format_time(0, ts, 5), COCE_ERANGE);
    coce_http_client_free(c);
    mock_stop(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_next_token_chain),
        cmocka_unit_test(test_rate_limited_then_ok),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
