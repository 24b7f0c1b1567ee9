/* OHLCV bar files (CSV) -> coce_bar arrays.
 *
 * With a header line, columns are found by name (case and surrounding
 * blanks ignored, any order, extra columns ignored):
 *   open_time  (also: timestamp, time, time_ms, open_ms, date)  required
 *   open, high, low, close, volume                               required
 *   quote_volume (also: quote_asset_volume, quote_av)  optional, default 0
 *   trades (also: number_of_trades, count)             optional, default 0
 *   close_time                                          optional
 * Times are ms integers or ISO text (see coce_trade_parse_time).
 *
 * Without a header (the first field of the first line is a number) the file
 * must be Binance's kline layout (data.binance.vision, GET /api/v3/klines),
 * exactly 12 columns:
 *   1 open_time  2 open  3 high  4 low  5 close  6 volume  7 close_time
 *   8 quote_asset_volume  9 number_of_trades  10 taker_buy_base_volume
 *   11 taker_buy_quote_volume  12 ignore
 * Binance's close_time is the last ms inside the bar, so close_ms =
 * close_time + 1. An integer time >= 10^14 is taken as microseconds (Binance
 * spot files from 2025 on) and divided by 1000.
 *
 * Without a close_time column: close_ms = open_ms + opts->interval_ms when
 * that is > 0, else open_ms + the smallest gap between consecutive open
 * times of the file (a single bar then gets close_ms = open_ms).
 *
 * Checks per row, each a "FILE:LINE: column 'X': ..." COCE_EPARSE:
 * numbers parse (finite), prices > 0, high >= max(open, close),
 * low <= min(open, close), volume, quote_volume >= 0, trades a
 * non-negative integer < 2^32, close_time > open_time, open times strictly
 * increasing, the header's number of columns. */
#ifndef COCE_DATA_INGEST_OHLCV_H
#define COCE_DATA_INGEST_OHLCV_H

#include "utils/error.h"
#include "utils/types.h"

#include <stddef.h>
#include <stdint.h>

typedef struct coce_ohlcv_opts {
    int skip_bad_rows;   /* skip and count bad rows (the first is logged) */
    int64_t interval_ms; /* bar length when there is no close_time; 0 = infer */
} coce_ohlcv_opts;

/* Parses `len` bytes of CSV text (no NUL needed); `name` is the file name
 * used in messages. Every bar gets `asset`. *out is malloc'ed (free with
 * coce_ohlcv_free; NULL when there are no bars), *n its length, *skipped
 * (may be NULL) the rows skipped. opts NULL = strict. Errors: COCE_EPARSE
 * (empty text, unknown header, a bad row), COCE_ENOMEM; on error *out is
 * NULL and *n 0. */
int coce_ohlcv_parse(const char *text, size_t len, const char *name,
                     coce_asset_id asset, const coce_ohlcv_opts *opts,
                     coce_bar **out, size_t *n, size_t *skipped,
                     coce_err *err);

/* Reads `path` whole and parses it as above; COCE_ENOTFOUND / COCE_EIO
 * when it cannot be read. */
int coce_ohlcv_load(const char *path, coce_asset_id asset,
                    const coce_ohlcv_opts *opts, coce_bar **out, size_t *n,
                    size_t *skipped, coce_err *err);

/* NULL is a no-op. */
void coce_ohlcv_free(coce_bar *bars);

#endif
