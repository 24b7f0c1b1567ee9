/* The event source of the engine loop: the one interface that a file replay
 * (data_ingest/replay.h) and a live feed (data_ingest/live_feed.h) both
 * implement, so that the loop cannot tell a back-test from a live run
 * (../shared/DESIGN.md, "Event source").
 *
 * next() returns, as the sources do:
 *   COCE_OK        the next trade in time order, in *out;
 *   COCE_ETIMEOUT  no trade for a while (live only): run the timers, call again;
 *   COCE_EEOF      the end (a replay's last trade was returned, or the
 *                  source was stopped);
 *   other negative codes: errors, with detail in err.
 * stop() makes the following next() of a live feed return COCE_EEOF; it is
 * async-signal-safe. For a replay it is a no-op: a replay ends by itself,
 * and a back-test is stopped by the loop's own flag.
 * The struct does not own impl: free the replay or the feed itself. */
#ifndef COCE_DATA_INGEST_SOURCE_H
#define COCE_DATA_INGEST_SOURCE_H

#include "data_ingest/live_feed.h"
#include "data_ingest/replay.h"
#include "utils/error.h"
#include "utils/types.h"

typedef struct coce_source {
    void *impl;
    int (*next)(void *impl, coce_trade *out, coce_err *err);
    void (*stop)(void *impl);
} coce_source;

/* Wraps a replay (not owned). */
coce_source coce_replay_source(coce_replay *r);

/* Wraps a live feed (not owned). */
coce_source coce_live_feed_source(coce_live_feed *f);

#endif
