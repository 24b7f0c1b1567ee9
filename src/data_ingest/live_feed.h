/* Live feed: Binance spot aggregate trades of a set of pairs, polled over
 * REST by `fromId`, as one time-ordered stream of trades -- the event source
 * of `--mode paper` and `--mode live`, with the same shape as a file replay
 * (data_ingest/replay.h; both implement data_ingest/source.h).
 *
 * Endpoint: GET /api/v3/aggTrades (Binance spot REST, "Compressed/Aggregate
 * trades list", https://developers.binance.com/docs/binance-spot-api-docs/
 * rest-api): fromId, or startTime/endTime (a window under one hour), limit
 * up to 1000; aggregate ids of a pair are consecutive integers. Request
 * weight per IP and minute in X-MBX-USED-WEIGHT-1M; 429/418 with
 * Retry-After ("LIMITS" section).
 *
 * Polling. Pairs are polled in turn, one request per pair per turn. A pair
 * with no last id starts with a time window from opts.start_ms (or "now
 * minus start_minutes_back"); once it has a trade it is polled by fromId =
 * last id + 1. A round (one turn per pair) is followed immediately by the
 * next while some pair is behind (its page was full); when every pair was
 * caught up the next round waits poll_ms.
 *
 * Exactly once, per pair: a page is sorted by id; ids at or below the last
 * id are dropped as duplicates; a hole in the ids (the page starts above
 * last + 1, or skips ids inside) is filled by a range request (fromId =
 * first missing, limit = the hole's size) before anything of the page is
 * kept. A hole still open after gap_retries range requests that brought
 * nothing new is given up (logged, counted in ids_missing): ids of a pair
 * are consecutive on Binance, so this only happens on a broken server.
 * A failed request keeps nothing of its turn; the turn is redone.
 *
 * Merge rule (time order across pairs). Each pair has a watermark W: every
 * trade of the pair at or before W has been fetched. W is the time of its
 * last fetched trade; after a poll that found the pair caught up (short
 * page), also P - lateness_ms, P being the clock when the request was sent
 * (lateness_ms covers clock skew and the API's publication delay). Buffered
 * trades are released in (time, pair order, id) order once their time is
 * at or below the smallest W -- every pair has been polled past that time.
 * So that one failing pair cannot hold the stream back, a pair whose
 * requests have been failing for max_hold_ms since its last success is
 * left out of that minimum until its next success. Latency: a trade of time T is released between T and
 * T + lateness_ms + poll_ms (plus the time of one round of requests) when
 * every pair answers; while a pair fails, at most max_hold_ms after that
 * pair's last success. A trade that arrives after later ones were released
 * (its pair was left out, or the API was later than lateness_ms) is still
 * emitted, once, with its time raised to the last emitted time (counted in
 * `late`), so the stream never goes back in time.
 *
 * Errors. Every request goes through the HTTP client (its retries, backoff
 * and Retry-After). A failed request that may pass (no answer, timeout, 5xx,
 * 429/418, a malformed page) never ends the feed: the pair is retried after
 * a feed-level backoff (exponential from backoff_base_ms to backoff_max_ms,
 * at least the Retry-After of the answer; the other pairs take their turns
 * meanwhile); after max_failures failed requests in a row for one pair
 * next() returns COCE_ENET once with the last error (calling next() again
 * goes on trying, and reports again after as many more failures). Other errors (a 4xx such as an
 * unknown symbol, 401/403, 404) are returned by next() as they are.
 * When X-MBX-USED-WEIGHT-1M reaches weight_pause_at no request is sent
 * until the next minute (the weight window) starts.
 *
 * Time. All waits go through opts.sleep_fn and all readings of the time
 * through opts.clock_fn (defaults: nanosleep, CLOCK_REALTIME), the HTTP
 * client's waits included, so that given the server's answers and an
 * injected clock a run is deterministic.
 *
 * Threads: one thread calls next(); coce_live_feed_stop() may be called from
 * any thread or from a signal handler. */
#ifndef COCE_DATA_INGEST_LIVE_FEED_H
#define COCE_DATA_INGEST_LIVE_FEED_H

#include "data_ingest/http.h"
#include "utils/error.h"
#include "utils/symbols.h"
#include "utils/types.h"

#include <stddef.h>
#include <stdint.h>

/* Longest pair symbol ("ADXBTC"), excluding the NUL. */
#define COCE_LIVE_FEED_SYMBOL_MAX 40

/* Last aggregate id of one pair; -1 = none yet. */
typedef struct coce_live_feed_cursor {
    char symbol[COCE_LIVE_FEED_SYMBOL_MAX + 1]; /* pair, e.g. "ADXBTC" */
    int64_t last_id;
} coce_live_feed_cursor;

typedef struct coce_live_feed_opts {
    const char *base_url;       /* default COCE_BINANCE_API_URL; copied */
    const char *const *bases;   /* base assets ("ADX"); interned upper-case */
    size_t n_bases;             /* 1..1024 */
    const char *quote;          /* quote asset, default "BTC" */
    size_t limit;               /* page size 1..1000; default 1000 */
    int64_t poll_ms;            /* wait after a caught-up round; default 2000 */
    int64_t start_ms;           /* first trade time of a pair without a last
                                   id; <= 0: now - start_minutes_back */
    int64_t start_minutes_back; /* default 5 */
    /* Saved cursors (from coce_live_feed_last_ids): these pairs continue
     * with the trade after last_id. Unknown symbols are ignored; a pair
     * without a cursor (or with last_id < 0) starts from the time above. */
    const coce_live_feed_cursor *resume;
    size_t n_resume;
    int64_t lateness_ms;     /* see the merge rule; default 2000 */
    int64_t max_hold_ms;     /* a pair failing this long is not waited for
                                (see the merge rule); default 30000 */
    int64_t idle_timeout_ms; /* next() gives COCE_ETIMEOUT after this long
                                without a trade; default 1000 */
    int max_failures;        /* failed requests in a row of one pair before
                                COCE_ENET; default 10 */
    int64_t backoff_base_ms; /* feed-level backoff; default 1000 */
    int64_t backoff_max_ms;  /* default 60000 */
    int gap_retries;         /* range requests without progress before a hole
                                is given up; default 3 */
    int64_t weight_pause_at; /* X-MBX-USED-WEIGHT-1M at or above this: pause
                                until the next minute; default 5000 (of
                                6000); 0 = never */
    /* HTTP client options (NULL = coce_http_opts_default with timeout 10 s
     * and 2 retries). Its sleep hook is replaced by the feed's. */
    const coce_http_opts *http;
    /* Time hooks (tests); NULL = CLOCK_REALTIME in ms / nanosleep. Waits
     * are cut into slices of at most 100 ms so that stop() is prompt. */
    int64_t (*clock_fn)(void *ctx);
    void (*sleep_fn)(void *ctx, int64_t ms);
    void *time_ctx;
} coce_live_feed_opts;

/* Fills the defaults above (bases NULL, n_bases 0). */
void coce_live_feed_opts_default(coce_live_feed_opts *o);

typedef struct coce_live_feed_stats {
    size_t requests;    /* HTTP requests made (range requests included) */
    size_t failures;    /* requests that failed (after the client's retries) */
    size_t emitted;     /* trades returned by next() */
    size_t duplicates;  /* trades dropped as already seen */
    size_t gap_fills;   /* range requests made to fill holes */
    size_t ids_missing; /* ids given up after gap_retries */
    size_t late;        /* trades emitted with their time raised */
    size_t weight_pauses;
} coce_live_feed_stats;

typedef struct coce_live_feed coce_live_feed;

/* Creates the feed (no request is made yet); the base assets are interned
 * into `symbols`, which must outlive the feed. COCE_EINVAL (with the field
 * named) for bad options, COCE_ENOMEM, COCE_ENET (HTTP client). */
int coce_live_feed_new(const coce_live_feed_opts *opts, coce_symbols *symbols,
                       coce_live_feed **out, coce_err *err);

/* The next trade in time order (asset = the interned base, side = the
 * taker's side, time = the trade time T). COCE_OK; COCE_ETIMEOUT when no
 * trade came within idle_timeout_ms (the caller runs its timers and calls
 * again); COCE_EEOF once stopped; COCE_ENET after max_failures failed
 * requests in a row (transient: calling again goes on); other codes for
 * errors that will not pass (e.g. COCE_EHTTP for an unknown symbol). */
int coce_live_feed_next(coce_live_feed *f, coce_trade *out, coce_err *err);

/* Makes next() return COCE_EEOF (within one request or a 100 ms wait
 * slice). Async-signal-safe, thread-safe. NULL is a no-op. */
void coce_live_feed_stop(coce_live_feed *f);

/* Per pair (in the order of opts.bases), the id of the last trade returned
 * by next() (-1 when none was returned; for a resumed pair the saved id
 * until a newer trade is returned). Trades fetched but not yet returned are
 * not counted, so persisting these with the state that has seen every
 * returned trade makes a restart lose and repeat nothing. Writes
 * min(cap, pairs) cursors; *n = the number of pairs. */
void coce_live_feed_last_ids(const coce_live_feed *f,
                             coce_live_feed_cursor *out, size_t cap,
                             size_t *n);

/* Counters since coce_live_feed_new. */
void coce_live_feed_stats_get(const coce_live_feed *f,
                              coce_live_feed_stats *out);

/* NULL is a no-op. */
void coce_live_feed_free(coce_live_feed *f);

#endif
