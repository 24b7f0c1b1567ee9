/* X (Twitter) API v2 client: recent search and recent counts, app-only
 * bearer-token auth.
 *
 * Reference: https://docs.x.com/x-api/posts/search-recent-posts (GET
 * /2/tweets/search/recent: query, start_time/end_time RFC 3339, max_results
 * 10..100, next_token from meta.next_token, tweet.fields), https://docs.x.com/
 * x-api/posts/get-posts-counts-recent (GET /2/tweets/counts/recent:
 * granularity minute|hour|day; data[].start/end/tweet_count) and
 * https://docs.x.com/fundamentals/rate-limits (x-rate-limit-limit/
 * -remaining/-reset in epoch seconds; 429 when exhausted, which the HTTP
 * client waits out). Recent search covers the last seven days only. */
#ifndef COCE_DATA_INGEST_TWITTER_H
#define COCE_DATA_INGEST_TWITTER_H

#include "data_ingest/http.h"
#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

#define COCE_TWITTER_URL "https://api.x.com"

typedef struct coce_twitter_opts {
    const char *base_url; /* NULL = COCE_TWITTER_URL */
    const char *bearer;   /* required; a secret */
} coce_twitter_opts;

typedef struct coce_tweet {
    char id[32];
    char author_id[32]; /* "" when not requested */
    int64_t created_ms;
    char *text;         /* malloc'ed */
    int64_t retweets, replies, likes, quotes; /* public_metrics; -1 absent */
} coce_tweet;

/* Every tweet matching `query` between start_ms and end_ms (INT64_MIN: not
 * sent), max_results per page (10..100), following meta.next_token until it
 * is absent or max_pages (0 = no limit) pages were read. Requests
 * tweet.fields=created_at,public_metrics,author_id. COCE_ESECRET without a
 * bearer token; COCE_EPARSE as "twitter /2/tweets/search/recent: page 2:
 * data[4]: field 'created_at': expected an RFC 3339 time". Free with
 * coce_tweets_free. */
int coce_twitter_search_recent(coce_http_client *http,
                               const coce_twitter_opts *o, const char *query,
                               int64_t start_ms, int64_t end_ms,
                               size_t max_results, size_t max_pages,
                               coce_tweet **out, size_t *n, coce_err *err);
void coce_tweets_free(coce_tweet *t, size_t n);

typedef struct coce_tweet_count {
    int64_t start_ms;
    int64_t end_ms;
    int64_t count;
} coce_tweet_count;

/* Counts per bucket; granularity "minute", "hour" or "day"; pages through
 * meta.next_token. *out malloc'ed (free()). */
int coce_twitter_counts_recent(coce_http_client *http,
                               const coce_twitter_opts *o, const char *query,
                               int64_t start_ms, int64_t end_ms,
                               const char *granularity,
                               coce_tweet_count **out, size_t *n,
                               coce_err *err);

/* ms -> "YYYY-MM-DDTHH:MM:SSZ" (buf >= 21 bytes). */
int coce_twitter_format_time(int64_t ms, char *buf, size_t len);

#endif
