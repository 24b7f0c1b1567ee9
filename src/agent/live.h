/* `coce --mode paper` (without --data) and `coce --mode live`: the engine
 * loop on the live Binance aggregate-trade feed (data_ingest/live_feed.h),
 * with the paper venue (paper) or the Binance spot adapter (live) as the
 * exchange, and persistent state in run.data_dir (docs/live.md):
 *
 *   LOCK         one engine per data directory (state/lock.h)
 *   state.json   the book, written at each daily close, every
 *                feed.snapshot_ms of wall time and at a clean stop
 *   feed.json    the feed's per-pair cursors (last aggregate id returned),
 *                written right after state.json (atomic rename each)
 *   journal.db   the durable write-ahead journal of orders and fills
 *   model.json   the model in use (walk-forward refits)
 *
 * On start: state.json, then the journal's fills it has not seen; every
 * unfinished journalled order is settled by client id -- the paper venue
 * kept nothing, so paper abandons them (journal DONE); live asks Binance
 * (coce_engine_settle_orders): adopted when the venue has it, abandoned
 * when it finally does not, left "unknown" and asked again at each bar
 * close otherwise. Nothing is ever resent. The feed resumes after the saved
 * cursors. SIGTERM/SIGINT (coce_live_request_stop) stop the feed; the run
 * then writes state.json and feed.json and returns COCE_OK.
 *
 * With `sleeve` (--sleeve convex; needs options.live and the Deribit
 * credentials): the convexity sleeve runs in the loop and its orders go to
 * Deribit (deribit.base_url), in paper and live mode alike (the spot venue
 * stays paper or Binance). The feed also follows <underlying><feed.quote>
 * (BTCUSDT, ETHUSDT; feed.quote must be a USD stablecoin) for the
 * underlyings' USD prices, sampled at each bar boundary (cluster.
 * bar_minutes) with the last trade before it; pairs added only for this
 * are not traded. Unfinished option orders in the journal are settled by
 * label with Deribit, never abandoned. docs/options.md. */
#ifndef COCE_AGENT_LIVE_H
#define COCE_AGENT_LIVE_H

#include "utils/config.h"
#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

struct coce_notifier;

typedef struct coce_live_args {
    const coce_config *cfg;
    int live;               /* 0: paper venue; 1: Binance (exchange.*) */
    const char *api_key;    /* live: from the environment; never logged */
    const char *api_secret; /* live */
    struct coce_notifier *notifier; /* may be NULL */
    /* The engine's clock when the feed is idle (ms since the epoch); NULL:
     * the wall clock. Tests inject one (recorded trades are in the past). */
    int64_t (*clock_fn)(void *ctx);
    void *clock_ctx;
    /* Stop after this many idle time-outs in a row (0: never); tests use it
     * to end a run once a recorded feed is consumed. */
    size_t stop_after_idle;
    /* --sleeve convex: the options sleeve, its orders on Deribit; refused
     * (COCE_ECONFIG, naming what is missing) unless options.live is true
     * and both credentials are given. */
    int sleeve;
    const char *deribit_client_id;     /* DERIBIT_CLIENT_ID; never logged */
    const char *deribit_client_secret; /* DERIBIT_CLIENT_SECRET */
    /* 1: a restart does not replay the history before its cursors (no
     * warm-up; no entry before the next daily close). Tests and tools. */
    int no_warmup;
} coce_live_args;

typedef struct coce_live_result {
    size_t trades;           /* trades given to the engine */
    size_t late;             /* of which with their time raised */
    size_t idle;             /* idle time-outs (engine clock runs) */
    size_t net_errors;       /* COCE_ENET reports of the feed */
    size_t fills_replayed;   /* journal fills applied over state.json */
    size_t pending_at_start; /* unfinished journalled orders at start */
    size_t abandoned_at_start; /* paper: orders the venue lost */
    size_t entries, exits, fills;
    size_t adopted, abandoned, fills_skipped; /* live reconciliation */
    size_t open_orders;      /* still open (or unknown) at the end */
    size_t snapshots;
    size_t sleeve_samples; /* underlying samples given to the sleeve */
    size_t sleeve_intents, sleeve_fills, sleeve_refused;
    int interrupted;         /* stopped by coce_live_request_stop */
    /* restart warm-up (docs/live.md): trades replayed into the engine
     * without trading; 1 when the feed could not serve the history (logged
     * "warmup_failed"; the run went on without it) */
    size_t warmup_trades;
    int warmup_failed;
} coce_live_result;

int coce_live_run(const coce_live_args *args, coce_live_result *out,
                  coce_err *err);

/* Async-signal-safe: stops the running feed; the run then saves its state
 * and returns. */
void coce_live_request_stop(void);

#endif
