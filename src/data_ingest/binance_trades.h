/* Binance spot aggregate trades: the REST endpoint GET /api/v3/aggTrades and
 * a resumable downloader that writes one trade file per event in the export
 * format of data_ingest/trades.h.
 *
 * API reference (Binance spot REST, "Compressed/Aggregate trades list" and
 * "LIMITS"): https://developers.binance.com/docs/binance-spot-api-docs/rest-api
 * (formerly https://binance-docs.github.io/apidocs/spot/en/). Parameters
 * symbol, fromId, startTime, endTime (ms, inclusive; with both times the
 * window must be under one hour), limit (default 500, max 1000). Each row:
 * a (aggregate id), p (price, text), q (quantity, text), f/l (first/last
 * trade id), T (ms), m (the buyer was the maker, so the taker SOLD). Limits
 * are per IP: X-MBX-USED-WEIGHT-1M tells the weight used this minute; 429
 * and 418 (ban) come with Retry-After, which the HTTP client honours.
 *
 * Public archive (https://data.binance.vision, documented at
 * https://github.com/binance/binance-public-data): data/spot/daily/
 * aggTrades/SYMBOL/SYMBOL-aggTrades-YYYY-MM-DD.zip and data/spot/monthly/
 * aggTrades/SYMBOL/SYMBOL-aggTrades-YYYY-MM.zip, one CSV without a header:
 * agg id, price, quantity, first id, last id, time, buyer was maker, best
 * price match. */
#ifndef COCE_DATA_INGEST_BINANCE_TRADES_H
#define COCE_DATA_INGEST_BINANCE_TRADES_H

#include "data_ingest/http.h"
#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

#define COCE_BINANCE_API_URL "https://api.binance.com"
#define COCE_BINANCE_DATA_URL "https://data.binance.vision"
#define COCE_BINANCE_MAX_LIMIT 1000
/* startTime..endTime of one request must be under one hour. */
#define COCE_BINANCE_WINDOW_MS 3600000LL

typedef struct coce_agg_trade {
    int64_t id;       /* a */
    double price;     /* p */
    double qty;       /* q */
    int64_t first_id; /* f */
    int64_t last_id;  /* l */
    int64_t time_ms;  /* T */
    int buyer_maker;  /* m: 1 = taker sold */
} coce_agg_trade;

/* Parses a JSON array of aggregate trades (the endpoint's response). An
 * empty array gives *out == NULL, *n == 0. COCE_EPARSE with
 * "binance /api/v3/aggTrades: item 3: field 'p': expected a decimal string"
 * on anything unexpected. Free *out with free(). */
int coce_binance_parse_agg_trades(const char *json, size_t len,
                                  coce_agg_trade **out, size_t *n,
                                  coce_err *err);

/* One request. from_id < 0, start_ms/end_ms == INT64_MIN: not sent.
 * limit 1..1000. Errors from coce_http_get, COCE_EINVAL, COCE_EPARSE. */
int coce_binance_agg_trades_page(coce_http_client *http, const char *base_url,
                                 const char *symbol, int64_t from_id,
                                 int64_t start_ms, int64_t end_ms,
                                 size_t limit, coce_agg_trade **out,
                                 size_t *n, coce_err *err);

typedef struct coce_binance_dl_opts {
    const char *base_url;    /* default COCE_BINANCE_API_URL */
    size_t limit;            /* per page, default 1000 */
    int64_t weight_pause_at; /* X-MBX-USED-WEIGHT-1M at or above this: wait
                                for the next minute; default 5000 (of 6000);
                                0 = never */
} coce_binance_dl_opts;

void coce_binance_dl_opts_default(coce_binance_dl_opts *o);

typedef struct coce_binance_dl_stats {
    size_t pages;    /* requests made by this call */
    size_t trades;   /* trades in the finished file */
    int resumed;     /* 1 when an interrupted download was continued */
    int64_t last_id; /* last aggregate id stored */
} coce_binance_dl_stats;

/* Every aggregate trade of base+quote (e.g. "ADX", "BTC" -> ADXBTC) with
 * start_ms <= T <= end_ms, written to `path` (export format, pair
 * "ADX/BTC", side = taker side; gzip when the name ends in .gz).
 *
 * Paging: time windows of under one hour until the first trade, then fromId
 * = last id + 1 until a trade lies past end_ms or a page is short (no newer
 * trades). Progress goes to PATH.part (appended rows) and PATH.resume (last
 * id and the .part size, written atomically after each page); a later call
 * with the same arguments continues after the last stored id. On success the
 * trade file appears whole (renamed into place) and both are removed; on
 * failure they are kept and the error is returned. opts/stats may be NULL. */
int coce_binance_download_trades(coce_http_client *http,
                                 const coce_binance_dl_opts *opts,
                                 const char *base, const char *quote,
                                 int64_t start_ms, int64_t end_ms,
                                 const char *path,
                                 coce_binance_dl_stats *stats, coce_err *err);

/* Archive URL of one day (monthly = 0) or of the month holding day_ms
 * (monthly = 1): "<data_url>/data/spot/daily/aggTrades/ADXBTC/ADXBTC-
 * aggTrades-2019-07-05.zip". data_url NULL = COCE_BINANCE_DATA_URL. */
int coce_binance_archive_url(const char *data_url, const char *symbol,
                             int64_t day_ms, int monthly, char *out,
                             size_t len);

/* One CSV row of an archive file (len bytes, no NUL needed; no header).
 * The buyer-maker column accepts true/false in any case. COCE_EPARSE. */
int coce_binance_archive_parse_row(const char *line, size_t len,
                                   coce_agg_trade *out);

#endif
