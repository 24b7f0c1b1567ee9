/* Internal (coce__engine_*): the engine's state, shared by engine.c (the
 * spot strategy: detector, entries and exits, guardrails, daily close,
 * venue settlement) and engine_sleeve.c (the convexity sleeve: option
 * intents, marks, fills and its route on Deribit). Not installed: the
 * public API is agent/engine.h. */
#ifndef COCE_AGENT_ENGINE_INTERNAL_H
#define COCE_AGENT_ENGINE_INTERNAL_H

#include "agent/engine.h"

#include "alpha/detector.h"
#include "alpha/features.h"
#include "execution/exchange.h"
#include "options/instruments.h"
#include "options/sleeve.h"
#include "risk_guardrails/drawdown.h"
#include "state/journal.h"
#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

/* Fills taken from a venue per call (feed or poll). */
#define MAX_FILLS 64

typedef struct feature_store_row {
    coce_asset_id asset;
    int64_t chunk_start;
    double v[COCE_FEATURES_MAX];
} feature_store_row;

typedef struct asset_state {
    double last_price;
    int64_t first_ms;
    int64_t last_ms;
    double bar_last;   /* last price inside the current bar, NAN if none */
    double day_volume; /* quote volume of the current day */
    int entry_pending;
    int exit_pending;
    int64_t *onsets; /* sorted onsets of known events of this asset */
    size_t n_onsets;
} asset_state;

/* One option instrument the sleeve has traded. */
typedef struct opt_inst {
    char name[COCE_BOOK_SYMBOL_MAX];
    size_t u;         /* underlying index */
    double mark_coin; /* model mid at the last sample */
    double spot_usd;  /* underlying at the last sample */
    double mark_base; /* mark in the base currency per contract */
} opt_inst;

/* An option order working at the venue and the intent it came from. */
typedef struct sleeve_order {
    char client_id[COCE_CLIENT_ID_MAX];
    size_t u;
    coce_sleeve_event ev;
    coce_asset_id asset;
    double limit; /* base currency per contract */
    double conv;  /* base per coin of the underlying at the decision */
} sleeve_order;

struct coce_engine {
    coce_engine_opts o;
    const coce_config *cfg;
    size_t n_assets;
    asset_state *a;
    coce_book *book;
    coce_features_cfg fcfg;
    /* features -> prepared inputs -> score -> alert (with the 30-minute
     * pause): the same code path as `coce detect` */
    coce_detector *det;
    size_t n_features;
    const char *feature_names[COCE_FEATURES_MAX];

    /* model */
    coce_pump_model model;
    int have_model;
    int fixed_model;
    size_t known_events_at_fit;

    /* walk-forward feature store */
    feature_store_row *rows;
    size_t n_rows, cap_rows;

    /* warm-up replay (coce_engine_set_warmup): market history only */
    int warmup;

    /* clocks */
    int started;
    int64_t first_ms, trading_ms, last_ms;
    int64_t next_bar_ms, bar_ms, next_rebalance_ms;

    /* bar closes ring: bar_rows x n_assets */
    double *bars;
    size_t bar_rows, bar_count, bar_head;
    /* daily closes ring and daily volume ring: day_rows x n_assets */
    double *day_close, *day_vol;
    size_t day_rows, day_count, day_head;
    size_t adv_rows, vol_count, vol_head;

    /* equity */
    double *daily_returns;
    size_t n_days, cap_days;
    double last_equity;
    coce_drawdown dd;
    double scale_drawdown;

    /* allocation */
    double *weights; /* risk budget share per asset */
    double *px;      /* last trade price per asset (NAN before the first) */
    size_t *cluster_of;

    /* records */
    coce_alert *alerts;
    size_t n_alerts, cap_alerts;
    coce_fill_record *fills;
    size_t n_fills, cap_fills;
    coce_engine_stats stats;
    uint64_t order_seq;

    /* the known events */
    coce_event *events;
    size_t n_events;

    /* the convexity sleeve */
    int sleeve_on;
    coce_engine_sleeve_opts sl;
    coce_sleeve_state sst[COCE_ENGINE_SLEEVE_MAX];
    size_t snext[COCE_ENGINE_SLEEVE_MAX]; /* next sample to process */
    coce_engine_sleeve_report srep;
    opt_inst *opt; /* option instruments, by id - COCE_ENGINE_OPTION_BASE */
    size_t n_opt, cap_opt;
    sleeve_order *sord; /* option orders working at the venue */
    size_t n_sord, cap_sord;
    int64_t *sday_ms;
    double *sday_pnl;
    size_t n_sday, cap_sday;
    double sleeve_flow_base; /* option cash flows, base currency */
    /* streamed series (index COCE_ENGINE_SLEEVE_MAX: the base currency) */
    int64_t *ser_t[COCE_ENGINE_SLEEVE_MAX + 1];
    double *ser_px[COCE_ENGINE_SLEEVE_MAX + 1];
    size_t ser_cap[COCE_ENGINE_SLEEVE_MAX + 1];
    int ser_on[COCE_ENGINE_SLEEVE_MAX + 1];
    /* the option venue (Deribit) */
    int ox_on;
    coce_exchange ox;
    coce_instrument *oins[COCE_ENGINE_SLEEVE_MAX]; /* listed, by underlying */
    size_t n_oins[COCE_ENGINE_SLEEVE_MAX];
    int64_t oins_at[COCE_ENGINE_SLEEVE_MAX];   /* engine time of the listing */
    coce_ticker *osum[COCE_ENGINE_SLEEVE_MAX]; /* book summaries */
    size_t n_osum[COCE_ENGINE_SLEEVE_MAX];
    int64_t osum_at[COCE_ENGINE_SLEEVE_MAX]; /* engine time of the summary */
    coce_fill *ofill; /* option fills (coin) waiting for a USD price */
    size_t n_ofill, cap_ofill;
};

/* The sleeve's options take asset ids from COCE_ENGINE_OPTION_BASE up. */
static inline int is_option(coce_asset_id asset)
{
    return asset >= COCE_ENGINE_OPTION_BASE;
}

/* Errors of the venue that leave nothing behind (the order was journalled
 * as rejected and never reached the venue, or was refused by it): the loop
 * goes on. */
static inline int venue_refused(int rc)
{
    return rc == COCE_EDATA || rc == COCE_EEXCHANGE || rc == COCE_ENET ||
           rc == COCE_ERATELIMIT || rc == COCE_EHTTP || rc == COCE_ETIMEOUT;
}

/* ---- engine.c ------------------------------------------------------------ */

/* Grows *ptr (of *cap elements of size bytes) to hold at least need. */
int coce__engine_grow(void **ptr, size_t *cap, size_t need, size_t size);
/* The asset's symbol, an option's name ("?" when unknown). */
const char *coce__engine_sym(const coce_engine *e, coce_asset_id asset);
/* Cash plus the positions at their marks (options at their model marks). */
double coce__engine_mark_equity(const coce_engine *e);
/* Appends a fill to the run's records (its reason from the book's order). */
void coce__engine_record_fill(coce_engine *e, const coce_fill *f);
/* Journals and applies fills (each once) to the book. */
int coce__engine_apply_fills(coce_engine *e, const coce_fill *fills, size_t n,
                             coce_err *err);
/* Journals an event of the order client_id. */
int coce__engine_journal_event(coce_engine *e, coce_journal_kind kind,
                               const char *client_id, int64_t now,
                               const char *note, coce_err *err);
/* Decides, journals (before sending), sends to the asset's venue (limit 0:
 * market; the client id to client_id_out when not NULL). An unknown
 * outcome stays "unknown" and is never resent; a refusal is journalled as
 * rejected and returned as COCE_EEXCHANGE. */
int coce__engine_place_order(coce_engine *e, coce_asset_id asset, int8_t side,
                             double qty, double limit, coce_order_reason reason,
                             int64_t now, char *client_id_out, coce_err *err);

/* ---- engine_sleeve.c ----------------------------------------------------- */

/* coce_engine_new's sleeve: options checked and copied, a resumed book's
 * options and orders restored. */
int coce__engine_sleeve_setup(coce_engine *e, const coce_engine_sleeve_opts *so,
                              coce_err *err);
/* Every sleeve sample up to now, in time order per underlying. */
int coce__engine_sleeve_advance(coce_engine *e, int64_t now, coce_err *err);
/* The working option orders against the option market's print at now. */
int coce__engine_sleeve_feed(coce_engine *e, int64_t now, coce_err *err);
/* The sleeve's daily P&L point. */
int coce__engine_sleeve_day_close(coce_engine *e, int64_t now, coce_err *err);
/* End of a run: the sleeve's results (and a back-test's options closed). */
int coce__engine_sleeve_finish(coce_engine *e, int64_t now, coce_err *err);
/* The marks of the held options (base currency): their premium at risk. */
double coce__engine_sleeve_value_base(const coce_engine *e);
/* Executions of option orders from Deribit (coin per contract). */
int coce__engine_opt_fills(coce_engine *e, const coce_fill *fills, size_t n,
                           int64_t now, coce_err *err);
/* The waiting option fills, once a USD price is known. */
int coce__engine_opt_flush(coce_engine *e, int64_t now, coce_err *err);
/* Drops the sleeve's orders that have left the book. */
void coce__engine_sord_sweep(coce_engine *e);
/* Halt: asks Deribit to cancel an option buy (journalled). */
int coce__engine_cancel_option(coce_engine *e, coce_open_order *o, int64_t now,
                               coce_err *err);

#endif
