/* Pump-and-dump event lists (labels): when and where a coin was pumped.
 *
 * Sources understood by coce_events_load, told apart by content:
 *  - La Morgia et al., "Pump and Dumps in the Bitcoin Era", ICCCN 2020:
 *    pump_telegram.csv, columns symbol,group,date,hour,exchange (UTC);
 *  - pump_events_more/pumps.json: [{"symbol":"ADX-BTC","exchange":
 *    "BINANCE_SPOT","time":"YYYY-MM-DD HH:MM:SS"}, ...] (symbol -> base);
 *  - pump_onsets/onset_features_*.csv: columns date (the hand-labelled onset
 *    chunk's start, UTC) and symbol: time_ms = onset_ms = date, exchange
 *    "binance" (all of them are Binance pumps);
 *  - ground truth CSV: symbol,time_ms[,onset_ms][,exchange] (times as ms or
 *    ISO text; a blank onset is unknown). */
#ifndef COCE_DATA_INGEST_EVENTS_H
#define COCE_DATA_INGEST_EVENTS_H

#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct coce_event {
    char symbol[24];   /* base asset, upper case: "ADX" */
    int64_t time_ms;   /* announced (or labelled) time, UTC */
    char exchange[24]; /* as in the source ("binance", "BINANCE_SPOT"); may be "" */
    int64_t onset_ms;  /* INT64_MIN if unknown */
} coce_event;

/* Loads every event of `path` in file order into a malloc'ed array (free
 * with coce_events_free). An empty list gives *out == NULL, *n == 0.
 * Errors: COCE_ENOTFOUND / COCE_EIO (from coce_fs_read_all), COCE_EPARSE
 * naming "FILE:LINE: column 'X': ..." (JSON: "FILE: event I: field ..."). */
int coce_events_load(const char *path, coce_event **out, size_t *n,
                     coce_err *err);

/* Keeps, in order, the events whose exchange is `exchange` ignoring case,
 * or starts with it followed by '_' ("binance" keeps "BINANCE_SPOT"). */
int coce_events_filter_exchange(coce_event *ev, size_t *n,
                                const char *exchange);

/* Sorts by (symbol, time) and collapses each run of events of one symbol
 * that lie within window_ms of the run's first event into that first
 * (earliest) event; its onset, if unknown, is taken from the first event of
 * the run that has one. window_ms = 0 removes exact duplicates. The exchange
 * is not part of the key: filter first to dedupe per exchange. */
int coce_events_dedupe(coce_event *ev, size_t *n, int64_t window_ms);

/* NULL is a no-op. */
void coce_events_free(coce_event *ev);

#endif
