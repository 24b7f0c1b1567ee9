/* X API v2 client (see twitter.h for the documentation URLs). */
#include "data_ingest/twitter.h"

#include "data_ingest/trades.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EP_SEARCH "twitter /2/tweets/search/recent"
#define EP_COUNTS "twitter /2/tweets/counts/recent"
#define URL_MAX 4096

int coce_twitter_format_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return COCE_ERANGE;
    return COCE_OK;
}

void coce_tweets_free(coce_tweet *t, size_t n)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < n; ++i)
        free(t[i].text);
    free(t);
}

/* Common part of both endpoints' URLs (without next_token). */
static int base_url(const coce_twitter_opts *o, const char *path,
                    const char *query, int64_t start_ms, int64_t end_ms,
                    char *url, size_t len, const char *ep, coce_err *err)
{
    char q[2048];
    if (query == NULL || query[0] == '\0' ||
        coce_http_escape(query, q, sizeof q) != COCE_OK)
        return coce_err_set(err, COCE_EINVAL, "%s: empty or too long query",
                            ep);
    const char *b =
        (o->base_url != NULL && o->base_url[0] != '\0') ? o->base_url
                                                        : COCE_TWITTER_URL;
    int w = snprintf(url, len, "%s%s?query=%s", b, path, q);
    char ts[32];
    if (w > 0 && (size_t)w < len && start_ms != INT64_MIN &&
        coce_twitter_format_time(start_ms, ts, sizeof ts) == COCE_OK)
        w += snprintf(url + w, len - (size_t)w, "&start_time=%s", ts);
    if (w > 0 && (size_t)w < len && end_ms != INT64_MIN &&
        coce_twitter_format_time(end_ms, ts, sizeof ts) == COCE_OK)
        w += snprintf(url + w, len - (size_t)w, "&end_time=%s", ts);
    if (w < 0 || (size_t)w >= len)
        return coce_err_set(err, COCE_EINVAL, "%s: URL too long", ep);
    return COCE_OK;
}

/* Fetches one page: root object, "data" array (may be absent = empty) and
 * the next token (or "" at the end). */
static int fetch_page(coce_http_client *http, const coce_twitter_opts *o,
                      const char *url, const char *token, size_t page,
                      const char *ep, json_t **root, json_t **data,
                      char *next, size_t next_len, coce_err *err)
{
    char full[URL_MAX + 256];
    char tok[256] = "";
    if (token[0] != '\0' && coce_http_escape(token, tok, sizeof tok) != COCE_OK)
        return coce_err_set(err, COCE_EPARSE, "%s: page %zu: next_token too "
                                              "long", ep, page);
    snprintf(full, sizeof full, "%s%s%s", url, tok[0] != '\0' ? "&next_token="
                                                              : "", tok);
    char auth[600];
    snprintf(auth, sizeof auth, "Bearer %s", o->bearer);
    coce_http_header h[] = {{"Authorization", auth, 1}};
    coce_http_response r;
    int rc = coce_http_get(http, full, h, 1, &r, err);
    memset(auth, 0, sizeof auth);
    if (rc != COCE_OK) {
        coce_http_response_destroy(&r);
        return rc;
    }
    json_error_t je;
    *root = json_loadb(r.body, r.body_len, 0, &je);
    coce_http_response_destroy(&r);
    if (*root == NULL)
        return coce_err_set(err, COCE_EPARSE,
                            "%s: page %zu: invalid JSON at line %d column %d: "
                            "%s",
                            ep, page, je.line, je.column, je.text);
    rc = COCE_OK;
    *data = json_object_get(*root, "data");
    json_t *meta = json_object_get(*root, "meta");
    json_t *nt = json_object_get(meta, "next_token");
    next[0] = '\0';
    if (!json_is_object(*root))
        rc = coce_err_set(err, COCE_EPARSE, "%s: page %zu: expected an object",
                          ep, page);
    else if (*data != NULL && !json_is_array(*data))
        rc = coce_err_set(err, COCE_EPARSE,
                          "%s: page %zu: field 'data': expected an array", ep,
                          page);
    else if (meta != NULL && !json_is_object(meta))
        rc = coce_err_set(err, COCE_EPARSE,
                          "%s: page %zu: field 'meta': expected an object", ep,
                          page);
    else if (nt != NULL && (!json_is_string(nt) ||
                            json_string_length(nt) >= next_len ||
                            json_string_length(nt) == 0))
        rc = coce_err_set(err, COCE_EPARSE,
                          "%s: page %zu: field 'meta.next_token': expected a "
                          "short string",
                          ep, page);
    else if (nt != NULL)
        memcpy(next, json_string_value(nt), json_string_length(nt) + 1);
    if (rc != COCE_OK) {
        json_decref(*root);
        *root = NULL;
    }
    return rc;
}

static int time_field(json_t *item, const char *key, int64_t *out)
{
    json_t *v = json_object_get(item, key);
    if (!json_is_string(v))
        return COCE_EPARSE;
    return coce_trade_parse_time(json_string_value(v), json_string_length(v),
                                 out);
}

static int metric(json_t *pm, const char *key, int64_t *out)
{
    json_t *v = json_object_get(pm, key);
    *out = -1;
    if (v == NULL)
        return COCE_OK;
    if (!json_is_integer(v))
        return COCE_EPARSE;
    *out = (int64_t)json_integer_value(v);
    return COCE_OK;
}

static int parse_tweet(json_t *item, coce_tweet *t, const char **field,
                       const char **want)
{
    json_t *id = json_object_get(item, "id");
    json_t *text = json_object_get(item, "text");
    json_t *author = json_object_get(item, "author_id");
    *want = "a string";
    if (!json_is_string(id) || json_string_length(id) >= sizeof t->id)
        return *field = "id", COCE_EPARSE;
    if (!json_is_string(text))
        return *field = "text", COCE_EPARSE;
    if (author != NULL &&
        (!json_is_string(author) ||
         json_string_length(author) >= sizeof t->author_id))
        return *field = "author_id", COCE_EPARSE;
    memcpy(t->id, json_string_value(id), json_string_length(id) + 1);
    if (author != NULL)
        memcpy(t->author_id, json_string_value(author),
               json_string_length(author) + 1);
    if (time_field(item, "created_at", &t->created_ms) != COCE_OK)
        return *field = "created_at", *want = "an RFC 3339 time", COCE_EPARSE;
    json_t *pm = json_object_get(item, "public_metrics");
    *want = "an integer";
    if (pm != NULL && !json_is_object(pm))
        return *field = "public_metrics", *want = "an object", COCE_EPARSE;
    if (metric(pm, "retweet_count", &t->retweets) != COCE_OK)
        return *field = "public_metrics.retweet_count", COCE_EPARSE;
    if (metric(pm, "reply_count", &t->replies) != COCE_OK)
        return *field = "public_metrics.reply_count", COCE_EPARSE;
    if (metric(pm, "like_count", &t->likes) != COCE_OK)
        return *field = "public_metrics.like_count", COCE_EPARSE;
    if (metric(pm, "quote_count", &t->quotes) != COCE_OK)
        return *field = "public_metrics.quote_count", COCE_EPARSE;
    t->text = strdup(json_string_value(text));
    if (t->text == NULL)
        return *field = "text", *want = "memory", COCE_ENOMEM;
    return COCE_OK;
}

int coce_twitter_search_recent(coce_http_client *http,
                               const coce_twitter_opts *o, const char *query,
                               int64_t start_ms, int64_t end_ms,
                               size_t max_results, size_t max_pages,
                               coce_tweet **out, size_t *n, coce_err *err)
{
    *out = NULL;
    *n = 0;
    if (o == NULL || o->bearer == NULL || o->bearer[0] == '\0')
        return coce_err_set(err, COCE_ESECRET,
                            EP_SEARCH ": no bearer token (set the X API "
                                      "bearer token in the environment)");
    if (max_results < 10 || max_results > 100)
        return coce_err_set(err, COCE_EINVAL,
                            EP_SEARCH ": max_results %zu: must be 10..100",
                            max_results);
    char url[URL_MAX];
    int rc = base_url(o, "/2/tweets/search/recent", query, start_ms, end_ms,
                      url, sizeof url - 96, EP_SEARCH, err);
    if (rc != COCE_OK)
        return rc;
    size_t ul = strlen(url);
    snprintf(url + ul, sizeof url - ul,
             "&max_results=%zu&tweet.fields=created_at%%2Cpublic_metrics"
             "%%2Cauthor_id",
             max_results);
    coce_tweet *all = NULL;
    size_t total = 0;
    char token[256] = "";
    for (size_t page = 1; max_pages == 0 || page <= max_pages; ++page) {
        json_t *root = NULL, *data = NULL;
        char next[256];
        rc = fetch_page(http, o, url, token, page, EP_SEARCH, &root, &data,
                        next, sizeof next, err);
        if (rc != COCE_OK)
            break;
        size_t k = json_array_size(data);
        coce_tweet *grown =
            k > 0 ? realloc(all, (total + k) * sizeof *all) : all;
        if (k > 0 && grown == NULL) {
            json_decref(root);
            rc = coce_err_set(err, COCE_ENOMEM, EP_SEARCH ": out of memory");
            break;
        }
        all = grown;
        for (size_t i = 0; i < k && rc == COCE_OK; ++i) {
            coce_tweet *t = &all[total];
            memset(t, 0, sizeof *t);
            const char *field = NULL, *want = NULL;
            json_t *item = json_array_get(data, i);
            if (!json_is_object(item))
                rc = coce_err_set(err, COCE_EPARSE,
                                  EP_SEARCH ": page %zu: data[%zu]: expected "
                                            "an object",
                                  page, i);
            else if (parse_tweet(item, t, &field, &want) != COCE_OK)
                rc = coce_err_set(err, COCE_EPARSE,
                                  EP_SEARCH ": page %zu: data[%zu]: field "
                                            "'%s': expected %s",
                                  page, i, field, want);
            else
                ++total;
        }
        json_decref(root);
        if (rc != COCE_OK || next[0] == '\0')
            break;
        memcpy(token, next, sizeof token);
    }
    if (rc != COCE_OK) {
        coce_tweets_free(all, total);
        return rc;
    }
    *out = all;
    *n = total;
    return COCE_OK;
}

int coce_twitter_counts_recent(coce_http_client *http,
                               const coce_twitter_opts *o, const char *query,
                               int64_t start_ms, int64_t end_ms,
                               const char *granularity,
                               coce_tweet_count **out, size_t *n,
                               coce_err *err)
{
    *out = NULL;
    *n = 0;
    if (o == NULL || o->bearer == NULL || o->bearer[0] == '\0')
        return coce_err_set(err, COCE_ESECRET, EP_COUNTS ": no bearer token");
    if (granularity == NULL || (strcmp(granularity, "minute") != 0 &&
                                strcmp(granularity, "hour") != 0 &&
                                strcmp(granularity, "day") != 0))
        return coce_err_set(err, COCE_EINVAL,
                            EP_COUNTS ": granularity: minute, hour or day");
    char url[URL_MAX];
    int rc = base_url(o, "/2/tweets/counts/recent", query, start_ms, end_ms,
                      url, sizeof url - 32, EP_COUNTS, err);
    if (rc != COCE_OK)
        return rc;
    size_t ul = strlen(url);
    snprintf(url + ul, sizeof url - ul, "&granularity=%s", granularity);
    coce_tweet_count *all = NULL;
    size_t total = 0;
    char token[256] = "";
    for (size_t page = 1;; ++page) {
        json_t *root = NULL, *data = NULL;
        char next[256];
        rc = fetch_page(http, o, url, token, page, EP_COUNTS, &root, &data,
                        next, sizeof next, err);
        if (rc != COCE_OK)
            break;
        size_t k = json_array_size(data);
        coce_tweet_count *grown =
            k > 0 ? realloc(all, (total + k) * sizeof *all) : all;
        if (k > 0 && grown == NULL) {
            json_decref(root);
            rc = coce_err_set(err, COCE_ENOMEM, EP_COUNTS ": out of memory");
            break;
        }
        all = grown;
        for (size_t i = 0; i < k && rc == COCE_OK; ++i) {
            json_t *item = json_array_get(data, i);
            coce_tweet_count *c = &all[total];
            json_t *cnt = json_object_get(item, "tweet_count");
            const char *field = NULL;
            if (time_field(item, "start", &c->start_ms) != COCE_OK)
                field = "start";
            else if (time_field(item, "end", &c->end_ms) != COCE_OK)
                field = "end";
            else if (!json_is_integer(cnt))
                field = "tweet_count";
            if (field != NULL)
                rc = coce_err_set(err, COCE_EPARSE,
                                  EP_COUNTS ": page %zu: data[%zu]: field "
                                            "'%s': expected %s",
                                  page, i, field,
                                  field[0] == 't' ? "an integer"
                                                  : "an RFC 3339 time");
            else {
                c->count = (int64_t)json_integer_value(cnt);
                ++total;
            }
        }
        json_decref(root);
        if (rc != COCE_OK || next[0] == '\0')
            break;
        memcpy(token, next, sizeof token);
    }
    if (rc != COCE_OK) {
        free(all);
        return rc;
    }
    *out = all;
    *n = total;
    return COCE_OK;
}
