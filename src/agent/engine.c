#include "agent/engine.h"

#include "alpha/detector.h"
#include "alpha/features.h"
#include "alpha/labels.h"
#include "execution/deribit.h"
#include "network_analysis/consensus.h"
#include "network_analysis/covariance.h"
#include "network_analysis/louvain.h"
#include "options/instruments.h"
#include "options/sleeve.h"
#include "portfolio/constraints.h"
#include "portfolio/hrp.h"
#include "risk_guardrails/drawdown.h"
#include "risk_guardrails/guardrails.h"
#include "risk_guardrails/killswitch.h"
#include "state/journal.h"
#include "utils/log.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)
#define HOUR_MS INT64_C(3600000)
#define MAX_FILLS 64
/* A pump's label is taken as known this long after its onset (the pump is
 * over and announced): the walk-forward trainer never sees it earlier. */
#define LABEL_DELAY_MS HOUR_MS
/* Fitting needs at least this many positive chunks. */
#define MIN_POSITIVES 3
/* Negatives are thinned deterministically beyond this many per fit. */
#define MAX_NEGATIVES 50000

typedef struct feature_store_row {
    coce_asset_id asset;
    int64_t chunk_start;
    double v[COCE_FEATURES_MAX];
} feature_store_row;

typedef struct asset_state {
    double last_price;
    int64_t first_ms;
    int64_t last_ms;
    double bar_last;    /* last price inside the current bar, NAN if none */
    double day_volume;  /* quote volume of the current day */
    int entry_pending;
    int exit_pending;
    int64_t *onsets; /* sorted onsets of known events of this asset */
    size_t n_onsets;
} asset_state;

/* One option instrument the sleeve has traded. */
typedef struct opt_inst {
    char name[COCE_BOOK_SYMBOL_MAX];
    size_t u;          /* underlying index */
    double mark_coin;  /* model mid at the last sample */
    double spot_usd;   /* underlying at the last sample */
    double mark_base;  /* mark in the base currency per contract */
} opt_inst;

/* An option order working at the venue and the intent it came from. */
typedef struct sleeve_order {
    char client_id[COCE_CLIENT_ID_MAX];
    size_t u;
    coce_sleeve_event ev;
    coce_asset_id asset;
    double limit;    /* base currency per contract */
    double conv;     /* base per coin of the underlying at the decision */
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
    int64_t oins_at[COCE_ENGINE_SLEEVE_MAX]; /* engine time of the listing */
    coce_ticker *osum[COCE_ENGINE_SLEEVE_MAX]; /* book summaries */
    size_t n_osum[COCE_ENGINE_SLEEVE_MAX];
    int64_t osum_at[COCE_ENGINE_SLEEVE_MAX]; /* engine time of the summary */
    coce_fill *ofill; /* option fills (coin) waiting for a USD price */
    size_t n_ofill, cap_ofill;
};

static int venue_refused(int rc);
static int sleeve_day_close(coce_engine *e, int64_t now, coce_err *err);
static int sleeve_advance(coce_engine *e, int64_t now, coce_err *err);
static double sleeve_value_base(const coce_engine *e);
static int advance_clock(coce_engine *e, int64_t t, coce_err *err);
static int check_exit(coce_engine *e, coce_asset_id asset, int64_t now,
                      coce_err *err);
static int on_detector_event(coce_engine *e, const coce_detector_event *ev,
                             coce_err *err);
static int opt_fills(coce_engine *e, const coce_fill *fills, size_t n,
                     int64_t now, coce_err *err);

static int grow(void **ptr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return COCE_OK;
    size_t n = *cap > 0 ? *cap : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*ptr, n * size);
    if (p == NULL)
        return COCE_ENOMEM;
    *ptr = p;
    *cap = n;
    return COCE_OK;
}

static int is_option(coce_asset_id asset)
{
    return asset >= COCE_ENGINE_OPTION_BASE;
}

static const char *sym(const coce_engine *e, coce_asset_id asset)
{
    if (is_option(asset)) {
        size_t k = asset - COCE_ENGINE_OPTION_BASE;
        return k < e->n_opt && e->opt[k].name[0] ? e->opt[k].name : "?";
    }
    const char *s = coce_symbols_name(e->o.symbols, asset);
    return s != NULL ? s : "?";
}

/* A resumed book brings its equity history (the kill-switch's window and
 * the drawdown peak continue where they were) and the kill-switch state. */
static int restore_from_book(coce_engine *e, coce_err *err)
{
    const coce_book *b = e->book;
    if (b->n_equity == 0)
        return COCE_OK;
    double prev = e->cfg->strategy.initial_capital;
    for (size_t i = 0; i < b->n_equity; ++i) {
        if (grow((void **)&e->daily_returns, &e->cap_days, e->n_days + 1,
                 sizeof *e->daily_returns) != COCE_OK)
            return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
        e->daily_returns[e->n_days++] =
            prev > 0 ? b->equity[i].equity / prev - 1.0 : 0.0;
        prev = b->equity[i].equity;
    }
    e->last_equity = prev;
    /* the tracker sees the persisted peak first, then the last equity */
    double scale = 1.0;
    int flatten = 0;
    const coce_config *cfg = e->cfg;
    int rc = coce_drawdown_update(&e->dd, b->peak_equity,
                                  cfg->guardrails.drawdown_soft,
                                  cfg->guardrails.drawdown_hard, &scale,
                                  &flatten);
    if (rc == COCE_OK)
        rc = coce_drawdown_update(&e->dd, prev, cfg->guardrails.drawdown_soft,
                                  cfg->guardrails.drawdown_hard,
                                  &e->scale_drawdown, &flatten);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "drawdown: %s", coce_strerror(rc));
    coce_log(COCE_LOG_INFO, "engine", "resumed",
             "{s:f, s:f, s:I, s:b, s:s}", "equity", prev, "peak",
             b->peak_equity, "days", (json_int_t)b->n_equity, "halted",
             b->kill.halted != 0, "halt_reason", b->kill.reason);
    return COCE_OK;
}

void coce_engine_free(coce_engine *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->n_assets; ++i) {
        free(e->a[i].onsets);
    }
    free(e->a);
    coce_detector_free(e->det);
    coce_book_free(e->book);
    free(e->rows);
    free(e->bars);
    free(e->day_close);
    free(e->day_vol);
    free(e->daily_returns);
    free(e->weights);
    free(e->px);
    free(e->cluster_of);
    free(e->alerts);
    free(e->fills);
    free(e->events);
    free(e->opt);
    free(e->sord);
    free(e->sday_ms);
    free(e->sday_pnl);
    for (size_t i = 0; i <= COCE_ENGINE_SLEEVE_MAX; ++i) {
        free(e->ser_t[i]);
        free(e->ser_px[i]);
    }
    for (size_t u = 0; u < COCE_ENGINE_SLEEVE_MAX; ++u) {
        free(e->oins[u]);
        free(e->osum[u]);
    }
    free(e->ofill);
    free(e);
}

static int sleeve_restore(coce_engine *e, coce_err *err);
static int opt_venue_restore(coce_engine *e, coce_err *err);

static int sleeve_setup(coce_engine *e, const coce_engine_sleeve_opts *so,
                        coce_err *err)
{
    e->o.sleeve = NULL;
    if (so == NULL)
        return COCE_OK;
    if (e->o.feed_trade == NULL && so->deribit == NULL)
        return coce_err_set(err, COCE_ECONFIG,
                            "options sleeve: with a live spot venue the "
                            "sleeve's orders need the Deribit venue "
                            "(options.live; docs/options.md)");
    if (so->n_u == 0 || so->n_u > COCE_ENGINE_SLEEVE_MAX)
        return coce_err_set(err, COCE_EINVAL,
                            "options sleeve: %zu underlyings (1 to %d)",
                            so->n_u, COCE_ENGINE_SLEEVE_MAX);
    for (size_t u = 0; u < so->n_u; ++u) {
        int streamed = so->u[u].t_ms == NULL && so->u[u].n == 0;
        if (!streamed && (so->u[u].t_ms == NULL || so->u[u].px == NULL))
            return coce_err_set(err, COCE_EINVAL,
                                "options sleeve: %s: no price series",
                                so->u[u].name);
        e->ser_on[u] = streamed;
    }
    e->sl = *so;
    e->ser_on[COCE_ENGINE_SLEEVE_MAX] = so->base_streamed != 0;
    if (so->base_streamed) {
        e->sl.base_t_ms = NULL;
        e->sl.base_px = NULL;
        e->sl.base_n = 0;
    }
    if (so->deribit != NULL) {
        e->ox_on = 1;
        e->ox = coce_deribit_exchange(so->deribit);
    }
    e->sleeve_on = 1;
    e->srep.n_u = so->n_u;
    for (size_t u = 0; u < so->n_u; ++u) {
        coce_sleeve_state_init(&e->sst[u]);
        memcpy(e->srep.names[u], so->u[u].name, sizeof e->srep.names[u]);
        e->srep.res[u].first_trade = SIZE_MAX;
    }
    int rc = sleeve_restore(e, err);
    if (rc == COCE_OK && e->ox_on)
        rc = opt_venue_restore(e, err);
    return rc;
}

int coce_engine_new(coce_engine **out, const coce_engine_opts *opts,
                    coce_err *err)
{
    if (out == NULL || opts == NULL || opts->cfg == NULL ||
        opts->symbols == NULL || opts->exchange.place == NULL)
        return coce_err_set(err, COCE_EINVAL, "engine: bad arguments");
    const coce_config *cfg = opts->cfg;
    coce_engine *e = calloc(1, sizeof *e);
    if (e == NULL) {
        coce_book_free(opts->book);
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    }
    e->o = *opts;
    e->cfg = cfg;
    e->n_assets = coce_symbols_count(opts->symbols);
    size_t n = e->n_assets > 0 ? e->n_assets : 1;
    int64_t chunk_ms = cfg->features.chunk_seconds * 1000;
    coce_features_cfg_default(&e->fcfg, chunk_ms);
    e->fcfg.window = (size_t)cfg->features.window_chunks;
    e->fcfg.price_window = (size_t)cfg->features.price_window_chunks;
    e->fcfg.extras = cfg->features.extras;
    e->n_features = coce_features_count(&e->fcfg);
    for (size_t i = 0; i < e->n_features; ++i)
        e->feature_names[i] = coce_features_name(i);
    e->bar_ms = cfg->cluster.bar_minutes * 60000;
    e->bar_rows = (size_t)(cfg->cluster.window_bars >
                                   cfg->guardrails.corr_long_bars
                               ? cfg->cluster.window_bars
                               : cfg->guardrails.corr_long_bars) +
                  1;
    e->day_rows = (size_t)cfg->guardrails.var_window_days + 1;
    e->adv_rows = (size_t)cfg->guardrails.adv_window_days;
    e->a = calloc(n, sizeof *e->a);
    e->bars = malloc(e->bar_rows * n * sizeof *e->bars);
    e->day_close = malloc(e->day_rows * n * sizeof *e->day_close);
    e->day_vol = calloc(e->adv_rows * n, sizeof *e->day_vol);
    e->weights = calloc(n, sizeof *e->weights);
    e->px = malloc(n * sizeof *e->px);
    e->cluster_of = calloc(n, sizeof *e->cluster_of);
    int rc = COCE_OK;
    if (opts->book != NULL)
        e->book = opts->book;
    else
        rc = coce_book_new(cfg->strategy.initial_capital, &e->book);
    if (e->a == NULL || e->bars == NULL || e->day_close == NULL ||
        e->day_vol == NULL || e->weights == NULL || e->px == NULL || e->cluster_of == NULL ||
        rc != COCE_OK) {
        coce_engine_free(e);
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    }
    for (size_t i = 0; i < e->n_assets; ++i) {
        e->a[i].bar_last = NAN;
        e->a[i].last_price = NAN;
        e->a[i].first_ms = INT64_MIN;
        e->a[i].last_ms = INT64_MIN;
        e->px[i] = NAN;
        rc = coce_book_set_symbol(e->book, (coce_asset_id)i,
                                  sym(e, (coce_asset_id)i), err);
        if (rc != COCE_OK) {
            coce_engine_free(e);
            return rc;
        }
    }
    rc = coce_detector_new(NULL, &e->fcfg, n,
                           (int64_t)cfg->model.alert_pause_minutes * 60000,
                           &e->det, err);
    if (rc != COCE_OK) {
        coce_engine_free(e);
        return rc;
    }
    (void)coce_book_set_run(e->book, opts->run_id ? opts->run_id : "", "");
    coce_drawdown_init(&e->dd);
    e->scale_drawdown = 1.0;
    e->last_equity = cfg->strategy.initial_capital;
    rc = restore_from_book(e, err);
    if (rc != COCE_OK) {
        coce_engine_free(e);
        return rc;
    }
    /* A resumed position is marked at its entry price until its asset
     * trades again (marks and equity need a price for every position). */
    for (size_t i = 0; i < coce_book_position_count(e->book); ++i) {
        const coce_position *p = coce_book_position_at(e->book, i);
        if (p->asset < e->n_assets && p->avg_price > 0) {
            e->a[p->asset].last_price = p->avg_price;
            e->px[p->asset] = p->avg_price;
        }
    }
    /* orders a restart found unfinished block their asset until settled */
    for (size_t i = 0; i < e->book->n_orders; ++i) {
        const coce_open_order *o = &e->book->orders[i];
        if (o->asset >= e->n_assets)
            continue;
        if (o->side > 0)
            e->a[o->asset].entry_pending = 1;
        else
            e->a[o->asset].exit_pending = 1;
    }
    rc = sleeve_setup(e, opts->sleeve, err);
    if (rc != COCE_OK) {
        coce_engine_free(e);
        return rc;
    }
    *out = e;
    return COCE_OK;
}

int coce_engine_set_initial_model(coce_engine *e, const coce_pump_model *model,
                                  coce_err *err)
{
    int rc = coce_engine_set_model(e, model, err);
    e->fixed_model = 0;
    return rc;
}

int coce_engine_set_model(coce_engine *e, const coce_pump_model *model,
                          coce_err *err)
{
    /* the detector checks the feature set, chunk size and preparation */
    int rc = coce_detector_set_model(e->det, model, err);
    if (rc != COCE_OK)
        return rc;
    e->model = *model;
    e->have_model = 1;
    e->fixed_model = 1;
    (void)coce_book_set_model_version(e->book, model->version);
    return COCE_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int coce_engine_set_events(coce_engine *e, const coce_event *events, size_t n,
                           coce_err *err)
{
    free(e->events);
    e->events = NULL;
    e->n_events = 0;
    if (n > 0) {
        e->events = malloc(n * sizeof *e->events);
        if (e->events == NULL)
            return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
        memcpy(e->events, events, n * sizeof *events);
        e->n_events = n;
    }
    for (size_t i = 0; i < e->n_assets; ++i) {
        free(e->a[i].onsets);
        e->a[i].onsets = NULL;
        e->a[i].n_onsets = 0;
    }
    for (size_t i = 0; i < n; ++i) {
        coce_asset_id id;
        if (coce_symbols_find(e->o.symbols, events[i].symbol, &id) != COCE_OK ||
            id >= e->n_assets)
            continue;
        asset_state *s = &e->a[id];
        int64_t *p = realloc(s->onsets, (s->n_onsets + 1) * sizeof *p);
        if (p == NULL)
            return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
        s->onsets = p;
        s->onsets[s->n_onsets++] = events[i].onset_ms != INT64_MIN
                                       ? events[i].onset_ms
                                       : events[i].time_ms;
    }
    for (size_t i = 0; i < e->n_assets; ++i)
        if (e->a[i].n_onsets > 1)
            qsort(e->a[i].onsets, e->a[i].n_onsets, sizeof(int64_t), cmp_i64);
    return COCE_OK;
}

/* ---- equity and prices -------------------------------------------------- */

static double mark_equity(const coce_engine *e)
{
    double eq = e->book->cash;
    for (size_t i = 0; i < coce_book_position_count(e->book); ++i) {
        const coce_position *p = coce_book_position_at(e->book, i);
        if (is_option(p->asset)) {
            size_t k = p->asset - COCE_ENGINE_OPTION_BASE;
            eq += p->qty * (k < e->n_opt ? e->opt[k].mark_base : p->avg_price);
        } else {
            eq += p->qty * e->a[p->asset].last_price;
        }
    }
    return eq;
}

/* ---- orders --------------------------------------------------------------- */

static void record_fill(coce_engine *e, const coce_fill *f)
{
    coce_order_reason reason = COCE_REASON_ENTRY;
    coce_open_order *o = coce_book_order_find(e->book, f->client_id);
    if (o != NULL)
        reason = o->reason;
    if (grow((void **)&e->fills, &e->cap_fills, e->n_fills + 1,
             sizeof *e->fills) == COCE_OK) {
        e->fills[e->n_fills].fill = *f;
        e->fills[e->n_fills].reason = reason;
        ++e->n_fills;
    }
}

/* A venue that reports its own executions (no market-trade feed). */
static int live_venue(const coce_engine *e)
{
    return e->o.feed_trade == NULL && e->o.exchange.query_by_client_id != NULL;
}

/* An option traded on the sleeve's own venue (Deribit). */
static int on_ovenue(const coce_engine *e, coce_asset_id asset)
{
    return e->ox_on && is_option(asset);
}

static const coce_exchange *venue_of(const coce_engine *e, coce_asset_id asset)
{
    return on_ovenue(e, asset) ? &e->ox : &e->o.exchange;
}

/* The asset's venue reports its own executions (by client id). */
static int asset_live(const coce_engine *e, coce_asset_id asset)
{
    return on_ovenue(e, asset) || live_venue(e);
}

static int apply_fills(coce_engine *e, const coce_fill *fills, size_t n,
                       coce_err *err)
{
    for (size_t i = 0; i < n; ++i) {
        const coce_fill *f = &fills[i];
        coce_fill clipped;
        if (asset_live(e, f->asset)) {
            /* A live venue's fill is applied at most once: the journal (and
             * the book's order, rebuilt from it) knows how much of the order
             * is filled already, and a report beyond that is a repeat. */
            coce_open_order *o = coce_book_order_find(e->book, f->client_id);
            double rest = o != NULL ? o->qty - o->filled : 0.0;
            if (o == NULL || rest <= o->qty * COCE_BOOK_QTY_RTOL) {
                ++e->stats.fills_skipped;
                coce_log(COCE_LOG_WARN, "engine", "fill_skipped",
                         "{s:s, s:f, s:s}", "client_id", f->client_id, "qty",
                         f->qty, "why",
                         o == NULL ? "no open order with this client id"
                                   : "the order is filled already");
                continue;
            }
            clipped = *f;
            if (f->qty > rest * (1.0 + COCE_BOOK_QTY_RTOL)) {
                clipped.qty = rest;
                ++e->stats.fills_skipped;
            }
            /* holding times are measured on one clock, the feed's (the
             * venue stamps its own) */
            if (e->started && clipped.time_ms != e->last_ms)
                clipped.time_ms = e->last_ms;
            f = &clipped;
        }
        record_fill(e, f);
        /* With a journal the fill is journalled first, then applied: the
         * book never holds a fill the journal lacks. */
        int rc = e->o.journal != NULL
                     ? coce_journal_record_fill(e->o.journal, e->book, f,
                                                sym(e, f->asset), err)
                     : coce_book_apply_fill(e->book, f, sym(e, f->asset), err);
        if (rc != COCE_OK)
            return rc;
        /* A position may appear before its asset has traded in this run
         * (a fill adopted from the venue after a restart): until it trades,
         * it is marked at its execution price, never at NAN. */
        if (f->asset < e->n_assets && !isfinite(e->px[f->asset]) &&
            f->price > 0) {
            e->px[f->asset] = f->price;
            e->a[f->asset].last_price = f->price;
        }
        coce_log(COCE_LOG_DEBUG, "engine", "fill", "{s:s, s:s, s:s, s:f, s:f, s:f}",
                 "client_id", f->client_id, "asset", sym(e, f->asset), "side",
                 f->side > 0 ? "buy" : "sell", "qty", f->qty, "price", f->price,
                 "fee", f->fee);
        if (is_option(f->asset)) {
            ++e->srep.fills;
            e->sleeve_flow_base += f->side > 0 ? -(f->qty * f->price + f->fee)
                                               : f->qty * f->price - f->fee;
            continue;
        }
        asset_state *s = &e->a[f->asset];
        if (coce_book_order_find(e->book, f->client_id) == NULL) {
            if (f->side > 0)
                s->entry_pending = 0;
            else
                s->exit_pending = 0;
        }
    }
    return COCE_OK;
}

/* A Slack line (and, for warnings, a Sentry event), formatted here; queued,
 * never waited on. */
static void notify(coce_engine *e, int sentry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void notify(coce_engine *e, int sentry, const char *fmt, ...)
{
    if (e->o.notifier == NULL)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    (void)coce_notify_slack(e->o.notifier, text);
    if (sentry)
        (void)coce_notify_sentry_event(e->o.notifier, COCE_NOTIFY_WARNING,
                                       text, "engine");
}

static int journal_event(coce_engine *e, coce_journal_kind kind,
                         const char *client_id, int64_t now, const char *note,
                         coce_err *err)
{
    if (e->o.journal == NULL)
        return COCE_OK;
    coce_journal_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.time_ms = now;
    (void)snprintf(ev.client_id, sizeof ev.client_id, "%s", client_id);
    if (note != NULL)
        (void)snprintf(ev.note, sizeof ev.note, "%s", note);
    return coce_journal_append(e->o.journal, &ev, NULL, err);
}

static void set_pending(coce_engine *e, coce_asset_id asset, int8_t side)
{
    if (is_option(asset))
        return; /* the sleeve tracks its own working orders */
    if (side > 0)
        e->a[asset].entry_pending = 1;
    else
        e->a[asset].exit_pending = 1;
}

/* Decides, journals (before sending), sends. An order whose outcome is
 * unknown (timeout after sending) stays "unknown" in the book and is never
 * resent: a query by client id settles it. A refused order is journalled
 * as rejected and reported as COCE_EEXCHANGE to the caller. */
static int place_order(coce_engine *e, coce_asset_id asset, int8_t side,
                       double qty, double limit, coce_order_reason reason,
                       int64_t now, char *client_id_out, coce_err *err)
{
    coce_order_intent in;
    memset(&in, 0, sizeof in);
    int rc = COCE_OK;
    const coce_exchange *x = venue_of(e, asset);
    if (asset_live(e, asset) && x->instrument_rules != NULL) {
        /* The journalled intent is what the venue gets: round to its lot
         * first, so a filled order is filled in the journal too. */
        coce_instrument_rules ir;
        coce_err rerr;
        coce_err_clear(&rerr);
        rc = x->instrument_rules(x->impl, asset, &ir, &rerr);
        if (rc != COCE_OK) {
            if (err != NULL)
                *err = rerr;
            return rc;
        }
        if (ir.lot_size > 0)
            qty = floor(qty / ir.lot_size + 1e-9) * ir.lot_size;
        if (!(qty > 0) || qty < ir.min_qty)
            return coce_err_set(err, COCE_EEXCHANGE,
                                "%s: %.17g is below the venue's lot size or "
                                "minimum quantity",
                                sym(e, asset), qty);
    }
    if (e->o.journal != NULL)
        rc = coce_journal_next_client_id(
            e->o.journal,
            e->o.client_tag ? e->o.client_tag
                            : (e->o.run_id ? e->o.run_id : "run"),
            in.client_id, err);
    else
        (void)snprintf(in.client_id, sizeof in.client_id, "coce-%llu",
                       (unsigned long long)++e->order_seq);
    if (rc != COCE_OK)
        return rc;
    in.asset = asset;
    in.side = side;
    in.type = limit > 0 ? COCE_ORDER_LIMIT : COCE_ORDER_MARKET;
    in.limit_price = limit > 0 ? limit : 0.0;
    in.qty = qty;
    if (client_id_out != NULL)
        memcpy(client_id_out, in.client_id, sizeof in.client_id);
    in.reason = reason;
    in.time_ms = now;
    if (e->o.journal != NULL) {
        rc = coce_journal_append_intent(e->o.journal, &in, sym(e, asset), NULL,
                                        err);
        if (rc != COCE_OK)
            return rc;
    }
    coce_open_order oo;
    memset(&oo, 0, sizeof oo);
    memcpy(oo.client_id, in.client_id, sizeof oo.client_id);
    oo.asset = asset;
    oo.side = side;
    oo.type = in.type;
    oo.limit_price = in.limit_price;
    oo.reason = reason;
    oo.qty = qty;
    oo.status = COCE_ORDER_PENDING;
    oo.time_ms = now;
    rc = coce_book_order_add(e->book, &oo, err);
    if (rc != COCE_OK)
        return rc;
    coce_fill fills[MAX_FILLS];
    size_t n_fills = 0;
    coce_err xerr;
    coce_err_clear(&xerr);
    rc = x->place(x->impl, &in, now, fills, MAX_FILLS, &n_fills, &xerr);
    if (rc == COCE_EUNKNOWN) {
        (void)coce_book_order_update(e->book, in.client_id,
                                     COCE_ORDER_UNKNOWN, 0.0);
        set_pending(e, asset, side);
        coce_log(COCE_LOG_WARN, "engine", "order_outcome_unknown",
                 "{s:s, s:s}", "client_id", in.client_id, "why", xerr.msg);
        return journal_event(e, COCE_JOURNAL_UNKNOWN, in.client_id, now,
                             xerr.msg, err);
    }
    if (rc != COCE_OK) {
        (void)coce_book_order_remove(e->book, in.client_id);
        int jrc = journal_event(e, COCE_JOURNAL_REJECTED, in.client_id, now,
                                xerr.msg, err);
        if (jrc != COCE_OK)
            return jrc;
        coce_log(COCE_LOG_WARN, "engine", "order_rejected", "{s:s, s:s, s:s}",
                 "client_id", in.client_id, "asset", sym(e, asset), "why",
                 xerr.msg);
        if (err != NULL)
            *err = xerr;
        return rc;
    }
    rc = journal_event(e, COCE_JOURNAL_SENT, in.client_id, now, NULL, err);
    if (rc != COCE_OK)
        return rc;
    (void)coce_book_order_update(e->book, in.client_id, COCE_ORDER_OPEN,
                                 0.0);
    set_pending(e, asset, side);
    coce_log(COCE_LOG_INFO, "engine", "order", "{s:s, s:s, s:s, s:f, s:s}",
             "client_id", in.client_id, "asset", sym(e, asset), "side",
             side > 0 ? "buy" : "sell", "qty", qty, "reason",
             coce_order_reason_name(reason));
    double notional =
        qty * (is_option(asset) ? in.limit_price : e->a[asset].last_price);
    if (notional >= e->cfg->notify.slack_min_trade_notional)
        notify(e, 0, "COCE %s %s %.8g %s (%.6g %s notional), reason %s",
               in.client_id, side > 0 ? "buys" : "sells", qty, sym(e, asset),
               notional, e->cfg->run.base_currency,
               coce_order_reason_name(reason));
    return on_ovenue(e, asset) ? opt_fills(e, fills, n_fills, now, err)
                               : apply_fills(e, fills, n_fills, err);
}

static int place(coce_engine *e, coce_asset_id asset, int8_t side, double qty,
                 coce_order_reason reason, int64_t now, coce_err *err)
{
    return place_order(e, asset, side, qty, 0.0, reason, now, NULL, err);
}

/* ---- walk-forward model --------------------------------------------------- */

static size_t known_events(const coce_engine *e, int64_t now)
{
    size_t k = 0;
    for (size_t i = 0; i < e->n_assets; ++i)
        for (size_t j = 0; j < e->a[i].n_onsets; ++j)
            k += e->a[i].onsets[j] + LABEL_DELAY_MS <= now;
    return k;
}

/* Number of onsets of asset a known at `now` (they are sorted). */
static size_t known_onsets(const asset_state *s, int64_t now)
{
    size_t k = 0;
    while (k < s->n_onsets && s->onsets[k] + LABEL_DELAY_MS <= now)
        ++k;
    return k;
}

static int fit_model(coce_engine *e, int64_t now, coce_err *err)
{
    int64_t chunk_ms = e->cfg->features.chunk_seconds * 1000;
    int64_t horizon = now - LABEL_DELAY_MS;
    size_t n_pos = 0, n_neg = 0;
    uint8_t *label = malloc((e->n_rows > 0 ? e->n_rows : 1) * sizeof *label);
    if (label == NULL)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    for (size_t i = 0; i < e->n_rows; ++i) {
        const feature_store_row *r = &e->rows[i];
        label[i] = COCE_LABEL_SKIP;
        if (r->chunk_start + chunk_ms > horizon)
            continue;
        const asset_state *s = &e->a[r->asset];
        label[i] = (uint8_t)coce_label_chunk(r->chunk_start, chunk_ms,
                                             s->onsets, known_onsets(s, now));
        n_pos += label[i] == COCE_LABEL_POS;
        n_neg += label[i] == COCE_LABEL_NEG;
    }
    if (n_pos < MIN_POSITIVES || n_neg == 0) {
        free(label);
        return COCE_EDATA;
    }
    size_t stride = n_neg > MAX_NEGATIVES ? (n_neg + MAX_NEGATIVES - 1) /
                                                MAX_NEGATIVES
                                          : 1;
    size_t d = e->n_features, cap = n_pos + n_neg / stride + 1, m = 0, k = 0;
    double *X = malloc(cap * d * sizeof *X);
    uint8_t *y = malloc(cap * sizeof *y);
    if (X == NULL || y == NULL) {
        free(X);
        free(y);
        free(label);
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    }
    for (size_t i = 0; i < e->n_rows && m < cap; ++i) {
        if (label[i] == COCE_LABEL_SKIP)
            continue;
        if (label[i] == COCE_LABEL_NEG && (k++ % stride) != 0)
            continue;
        memcpy(X + m * d, e->rows[i].v, d * sizeof *X);
        y[m++] = label[i] == COCE_LABEL_POS;
    }
    free(label);
    coce_pump_train_opts to;
    memset(&to, 0, sizeof to);
    to.C = e->cfg->model.C;
    to.balanced = e->cfg->model.balanced;
    to.weight_pos = 1.0;
    to.chunk_ms = chunk_ms;
    to.data_hash = "walk-forward";
    to.trained_at = "simulation";
    coce_pump_model model;
    int rc = coce_pump_model_train(X, y, m, d, e->feature_names, &to, &model,
                                   err);
    free(X);
    free(y);
    if (rc != COCE_OK)
        return rc;
    (void)snprintf(model.version, sizeof model.version, "wf-%zu",
                   e->stats.model_fits + 1);
    (void)snprintf(model.notes, sizeof model.notes,
                   "prepare=%s window=%zu price_window=%zu; walk-forward fit "
                   "in the engine loop",
                   coce_prepare_name(COCE_PREPARE_DEFAULT), e->fcfg.window,
                   e->fcfg.price_window);
    rc = coce_detector_set_model(e->det, &model, err);
    if (rc != COCE_OK)
        return rc;
    e->model = model;
    e->have_model = 1;
    ++e->stats.model_fits;
    (void)coce_book_set_model_version(e->book, model.version);
    coce_log(COCE_LOG_INFO, "model", "fit",
             "{s:s, s:I, s:I, s:I, s:f}", "version", model.version, "rows",
             (json_int_t)m, "positives", (json_int_t)n_pos, "at_ms",
             (json_int_t)now, "threshold", model.threshold);
    return COCE_OK;
}

static int maybe_refit(coce_engine *e, int64_t now, coce_err *err)
{
    if (e->fixed_model)
        return COCE_OK;
    if (now - e->first_ms < e->cfg->model.train_days * DAY_MS)
        return COCE_OK;
    size_t known = known_events(e, now);
    if (known == e->known_events_at_fit)
        return COCE_OK;
    int rc = fit_model(e, now, err);
    if (rc == COCE_EDATA) {
        coce_log(COCE_LOG_INFO, "model", "fit_skipped", "{s:s, s:I}", "why",
                 "fewer than 3 labelled pump chunks so far", "known_events",
                 (json_int_t)known);
        return COCE_OK;
    }
    if (rc != COCE_OK)
        return rc;
    e->known_events_at_fit = known;
    if (e->trading_ms == INT64_MIN)
        e->trading_ms = now;
    if (!e->warmup && e->book->trading_since_ms == INT64_MIN)
        e->book->trading_since_ms = e->trading_ms;
    return COCE_OK;
}

/* ---- bars, rebalance ---------------------------------------------------- */

/* Row i (0 = oldest) of the last `rows` rows of a ring. */
static const double *ring_row(const double *ring, size_t cap, size_t count,
                              size_t head, size_t rows, size_t i, size_t width)
{
    size_t start = (head + cap - (count < rows ? count : rows)) % cap;
    return ring + ((start + i) % cap) * width;
}

/* Copies the last `rows` rows of the ring into out (rows x k) for the given
 * assets; returns the rows copied. */
static size_t ring_copy(const double *ring, size_t cap, size_t count,
                        size_t head, size_t rows, size_t width,
                        const size_t *assets, size_t k, double *out)
{
    size_t m = count < rows ? count : rows;
    for (size_t i = 0; i < m; ++i) {
        const double *src = ring_row(ring, cap, count, head, m, i, width);
        for (size_t j = 0; j < k; ++j)
            out[i * k + j] = src[assets[j]];
    }
    return m;
}

static int rebalance(coce_engine *e, int64_t now, coce_err *err)
{
    const coce_config *cfg = e->cfg;
    size_t n = e->n_assets;
    size_t rows = (size_t)cfg->cluster.window_bars + 1;
    size_t *idx = malloc((n + 1) * sizeof *idx);
    double *prices = malloc((rows * (n + 1)) * sizeof *prices);
    double *ret = malloc((rows * (n + 1)) * sizeof *ret);
    size_t *counts = malloc(((n + 1) * (n + 1)) * sizeof *counts);
    double *cov = malloc(((n + 1) * (n + 1)) * sizeof *cov);
    double *corr = malloc(((n + 1) * (n + 1)) * sizeof *corr);
    double *target = calloc(n + 1, sizeof *target);
    double *full = calloc(n + 1, sizeof *full);
    size_t *member = calloc(n + 1, sizeof *member);
    int rc = COCE_OK;
    if (idx == NULL || prices == NULL || ret == NULL || counts == NULL ||
        cov == NULL || corr == NULL || target == NULL || full == NULL ||
        member == NULL) {
        rc = coce_err_set(err, COCE_ENOMEM, "rebalance: out of memory");
        goto done;
    }
    /* Candidate assets: any that traded in the window. */
    size_t k = 0;
    for (size_t i = 0; i < n; ++i)
        idx[k++] = i;
    size_t m = ring_copy(e->bars, e->bar_rows, e->bar_count, e->bar_head, rows,
                         n, idx, k, prices);
    if (m < 3)
        goto done;
    rc = coce_returns_simple(prices, m, k, ret);
    if (rc != COCE_OK)
        goto done;
    size_t nr = m - 1;
    /* Eligible: enough returns in the window and non-zero variance. */
    size_t min_bars = (size_t)cfg->cluster.min_bars;
    if (min_bars > nr)
        min_bars = nr;
    size_t kept = 0;
    for (size_t j = 0; j < k; ++j) {
        size_t valid = 0;
        double first = NAN;
        int varies = 0;
        for (size_t t = 0; t < nr; ++t) {
            double r = ret[t * k + j];
            if (!isfinite(r))
                continue;
            if (valid++ == 0)
                first = r;
            else if (r != first)
                varies = 1;
        }
        if (valid >= min_bars && varies && min_bars >= 2)
            idx[kept++] = idx[j];
        else if (valid > 0)
            coce_log(COCE_LOG_DEBUG, "portfolio", "ineligible",
                     "{s:s, s:I, s:I}", "asset", sym(e, (coce_asset_id)idx[j]),
                     "returns", (json_int_t)valid, "min_bars",
                     (json_int_t)min_bars);
    }
    for (;;) {
        if (kept == 0)
            break;
        m = ring_copy(e->bars, e->bar_rows, e->bar_count, e->bar_head, rows, n,
                      idx, kept, prices);
        rc = coce_returns_simple(prices, m, kept, ret);
        if (rc != COCE_OK)
            goto done;
        rc = coce_cov_pairwise(ret, m - 1, kept, 2, cov, counts, NULL);
        if (rc != COCE_OK)
            goto done;
        /* An asset whose covariance with another is undefined (too little
         * overlap) leaves the universe, never a zero-filled covariance. */
        size_t worst = kept, worst_nan = 0;
        for (size_t a = 0; a < kept; ++a) {
            size_t nan_count = 0;
            for (size_t b = 0; b < kept; ++b)
                nan_count += !isfinite(cov[a * kept + b]);
            if (nan_count > worst_nan) {
                worst_nan = nan_count;
                worst = a;
            }
        }
        if (worst == kept)
            break;
        memmove(idx + worst, idx + worst + 1,
                (kept - worst - 1) * sizeof *idx);
        --kept;
    }
    if (kept == 0)
        goto done;
    if (cfg->cluster.ledoit_wolf && kept > 1) {
        void *lw_work = malloc(coce_cov_lw_work_size(m - 1, kept) *
                               sizeof(double));
        double shrink = 0;
        if (lw_work != NULL &&
            coce_cov_ledoit_wolf(ret, m - 1, kept, cov, &shrink, lw_work) !=
                COCE_OK)
            coce_log(COCE_LOG_WARN, "portfolio", "ledoit_wolf_failed", NULL);
        free(lw_work);
    }
    /* Pairwise-complete correlation, as pandas' .corr() that
     * PyPortfolioOpt's HRPOpt clusters on (not derived from the covariance:
     * with unequal histories the two differ). */
    rc = cfg->cluster.ledoit_wolf
             ? coce_corr_from_cov(cov, kept, corr)
             : coce_corr_pairwise(ret, m - 1, kept, 2, corr, counts);
    if (rc != COCE_OK)
        goto done;
    /* Consensus clusters on the positive-correlation graph. */
    size_t n_clusters = kept;
    double modularity = 0;
    for (size_t j = 0; j < kept; ++j)
        member[j] = j;
    if (kept >= 3) {
        double *w = malloc(kept * kept * sizeof *w);
        void *work = malloc(coce_consensus_work_size(kept));
        coce_consensus_opts co;
        coce_consensus_opts_default(&co);
        co.runs = (size_t)cfg->cluster.consensus_runs;
        co.tau = cfg->cluster.consensus_tau;
        co.resolution = cfg->cluster.resolution;
        co.seed = (uint64_t)cfg->run.seed + (uint64_t)e->stats.rebalances;
        if (w == NULL || work == NULL)
            rc = COCE_ENOMEM;
        if (rc == COCE_OK)
            rc = coce_corr_graph(corr, kept, w);
        if (rc == COCE_OK)
            rc = coce_consensus_cluster(w, kept, &co, member, &n_clusters,
                                        &modularity, work);
        free(w);
        free(work);
        if (rc != COCE_OK) {
            rc = coce_err_set(err, rc, "rebalance: consensus clustering: %s",
                              coce_strerror(rc));
            goto done;
        }
    }
    void *hwork = malloc(coce_hrp_work_size(kept));
    if (hwork == NULL) {
        rc = coce_err_set(err, COCE_ENOMEM, "rebalance: out of memory");
        goto done;
    }
    coce_err herr;
    coce_err_clear(&herr);
    rc = coce_hrp_weights_ex(cov, corr, kept, target, NULL, hwork, &herr);
    free(hwork);
    if (rc == COCE_EINVAL) {
        /* A pairwise covariance need not be positive semi-definite; when a
         * bisection meets a non-positive variance the previous budgets
         * stay in force. */
        coce_log(COCE_LOG_WARN, "portfolio", "hrp_skipped", "{s:s}", "why",
                 herr.msg);
        rc = COCE_OK;
        goto done;
    }
    if (rc != COCE_OK) {
        rc = coce_err_set(err, rc, "rebalance: HRP: %s", herr.msg);
        goto done;
    }
    if (n_clusters > 1 && cfg->hrp.cluster_cap * (double)n_clusters >= 1.0) {
        double *cwork = malloc(2 * n_clusters * sizeof *cwork);
        if (cwork != NULL)
            rc = coce_alloc_cluster_caps(target, member, kept, n_clusters,
                                         cfg->hrp.cluster_cap, cwork);
        free(cwork);
        if (rc != COCE_OK) {
            rc = coce_err_set(err, rc, "rebalance: cluster caps: %s",
                              coce_strerror(rc));
            goto done;
        }
    }
    for (size_t j = 0; j < kept; ++j)
        full[idx[j]] = target[j];
    /* Turnover limit against the previous budgets (all assets). */
    double *limited = malloc(n * sizeof *limited);
    if (limited == NULL) {
        rc = coce_err_set(err, COCE_ENOMEM, "rebalance: out of memory");
        goto done;
    }
    int had_prev = e->stats.rebalances > 0;
    rc = coce_alloc_turnover_limit(full, had_prev ? e->weights : NULL, n,
                                   had_prev ? cfg->hrp.turnover_cap : 2.0,
                                   limited);
    if (rc == COCE_OK) {
        double turnover = 0;
        for (size_t i = 0; i < n; ++i) {
            turnover += fabs(limited[i] - e->weights[i]);
            e->weights[i] = limited[i];
        }
        json_t *clusters = json_object();
        for (size_t j = 0; j < kept; ++j) {
            e->cluster_of[idx[j]] = member[j];
            if (clusters != NULL)
                json_object_set_new(clusters, sym(e, (coce_asset_id)idx[j]),
                                    json_integer((json_int_t)member[j]));
        }
        /* consensus membership of this rebalance (for reports) */
        coce_log(COCE_LOG_INFO, "portfolio", "clusters", "o", clusters);
        ++e->stats.rebalances;
        coce_log(COCE_LOG_INFO, "portfolio", "rebalance",
                 "{s:I, s:I, s:I, s:f, s:f}", "at_ms", (json_int_t)now,
                 "eligible", (json_int_t)kept, "clusters",
                 (json_int_t)n_clusters, "modularity", modularity, "turnover",
                 turnover);
    } else {
        rc = coce_err_set(err, rc, "rebalance: turnover limit: %s",
                          coce_strerror(rc));
    }
    free(limited);
done:
    free(idx);
    free(prices);
    free(ret);
    free(counts);
    free(cov);
    free(corr);
    free(target);
    free(full);
    free(member);
    return rc;
}

/* ---- daily close: equity, drawdown, kill-switch ------------------------- */

static double average_daily_volume(const coce_engine *e, coce_asset_id asset);

/* Daily volatility of an asset from the hourly bar returns in the ring
 * (sample std, ddof 1, two-pass; scaled by sqrt(bars per day)); NAN with
 * fewer than 2 returns. */
static double hourly_sigma_daily(const coce_engine *e, size_t asset)
{
    size_t n = e->n_assets, m = e->bar_count;
    double sum = 0, prev = NAN;
    size_t cnt = 0;
    for (size_t i = 0; i < m; ++i) {
        double p = ring_row(e->bars, e->bar_rows, m, e->bar_head, m, i, n)[asset];
        if (isfinite(prev) && isfinite(p) && prev > 0) {
            sum += p / prev - 1.0;
            ++cnt;
        }
        prev = p;
    }
    if (cnt < 2)
        return NAN;
    double mean = sum / (double)cnt, ss = 0;
    prev = NAN;
    for (size_t i = 0; i < m; ++i) {
        double p = ring_row(e->bars, e->bar_rows, m, e->bar_head, m, i, n)[asset];
        if (isfinite(prev) && isfinite(p) && prev > 0) {
            double d = p / prev - 1.0 - mean;
            ss += d * d;
        }
        prev = p;
    }
    double bars_per_day = (double)DAY_MS / (double)e->bar_ms;
    return sqrt(ss / (double)(cnt - 1)) * sqrt(bars_per_day);
}

static int append_meta_event(const coce_engine *e, const char *line)
{
    if (e->o.meta_events_path == NULL)
        return COCE_OK;
    FILE *f = fopen(e->o.meta_events_path, "ae");
    if (f == NULL)
        return COCE_EIO;
    fputs(line, f);
    fputc('\n', f);
    int rc = fflush(f) == 0 ? COCE_OK : COCE_EIO;
    fclose(f);
    return rc;
}

static int flatten_all(coce_engine *e, int64_t now, coce_err *err)
{
    for (size_t i = 0; i < coce_book_position_count(e->book); ++i) {
        const coce_position *p = coce_book_position_at(e->book, i);
        /* the sleeve's options stay: long convexity is the hedge of a
         * halted book, and settles or rolls on its own */
        if (is_option(p->asset) || e->a[p->asset].exit_pending)
            continue;
        int rc = place(e, p->asset, COCE_SIDE_SELL, p->qty,
                       COCE_REASON_FLATTEN, now, err);
        if (venue_refused(rc)) {
            ++e->stats.orders_refused;
            coce_log(COCE_LOG_WARN, "engine", "flatten_refused", "{s:s, s:s}",
                     "asset", sym(e, p->asset), "why", coce_strerror(rc));
            continue; /* the next daily close tries again */
        }
        if (rc != COCE_OK)
            return rc;
        i = (size_t)-1; /* fills may have changed the list: rescan */
        if (coce_book_position_count(e->book) == 0)
            break;
    }
    return COCE_OK;
}

/* An option buy on Deribit: the cancel is journalled and the order stays in
 * the book (and blocks its kind) until the venue's answer to a query by
 * client id closes it, so that an execution racing the cancel still lands
 * once. A cancel that fails is asked again at the next halt check. */
static int cancel_option(coce_engine *e, coce_open_order *o, int64_t now,
                         coce_err *err)
{
    if (o->status == COCE_ORDER_CANCEL_REQUESTED)
        return COCE_OK;
    coce_err xerr;
    coce_err_clear(&xerr);
    char id[COCE_CLIENT_ID_MAX];
    memcpy(id, o->client_id, sizeof id);
    int rc = e->ox.cancel(e->ox.impl, id, now, &xerr);
    if (rc != COCE_OK) {
        coce_log(COCE_LOG_WARN, "engine", "option_cancel_failed",
                 "{s:s, s:s}", "client_id", id, "why", xerr.msg);
        return COCE_OK; /* settled by client id at the next bar close */
    }
    (void)coce_book_order_update(e->book, id, COCE_ORDER_CANCEL_REQUESTED,
                                 o->filled);
    return journal_event(e, COCE_JOURNAL_CANCEL_REQ, id, now, "halt", err);
}

static int cancel_entries(coce_engine *e, int64_t now, coce_err *err)
{
    for (size_t i = 0; i < e->book->n_orders; ++i) {
        coce_open_order *o = &e->book->orders[i];
        if (o->side <= 0)
            continue;
        if (on_ovenue(e, o->asset)) {
            int orc = cancel_option(e, o, now, err);
            if (orc != COCE_OK)
                return orc;
            continue;
        }
        int rc = e->o.exchange.cancel(e->o.exchange.impl, o->client_id, now,
                                      err);
        if (rc != COCE_OK && rc != COCE_ENOTFOUND && rc != COCE_EEXCHANGE)
            return rc;
        for (size_t k = 0; k < e->n_sord; ++k)
            if (strcmp(e->sord[k].client_id, o->client_id) == 0)
                e->sord[k--] = e->sord[--e->n_sord];
        if (!is_option(o->asset))
            e->a[o->asset].entry_pending = 0;
        (void)coce_book_order_remove(e->book, o->client_id);
        --i;
    }
    return COCE_OK;
}

static int day_close_hook(coce_engine *e, coce_err *err)
{
    if (e->o.on_day_close == NULL)
        return COCE_OK;
    return e->o.on_day_close(e->o.ctx, e->book, err);
}

static int day_close(coce_engine *e, int64_t now, coce_err *err)
{
    const coce_config *cfg = e->cfg;
    size_t n = e->n_assets;
    /* daily closes and volumes */
    double *row = e->day_close + e->day_head * n;
    for (size_t i = 0; i < n; ++i)
        row[i] = e->a[i].last_price;
    e->day_head = (e->day_head + 1) % e->day_rows;
    if (e->day_count < e->day_rows)
        ++e->day_count;
    double *vrow = e->day_vol + e->vol_head * n;
    for (size_t i = 0; i < n; ++i) {
        vrow[i] = e->a[i].day_volume;
        e->a[i].day_volume = 0;
    }
    e->vol_head = (e->vol_head + 1) % e->adv_rows;
    if (e->vol_count < e->adv_rows)
        ++e->vol_count;

    if (e->o.set_liquidity != NULL) {
        for (size_t i = 0; i < n; ++i) {
            double adv = average_daily_volume(e, (coce_asset_id)i);
            double sigma = hourly_sigma_daily(e, i);
            if (adv > 0 && isfinite(sigma)) {
                int lrc = e->o.set_liquidity(e->o.venue, (coce_asset_id)i,
                                             adv, sigma);
                if (lrc != COCE_OK)
                    return coce_err_set(err, lrc, "venue liquidity: %s",
                                        coce_strerror(lrc));
            }
        }
    }
    /* warm-up: the book's equity history, the drawdown and the
     * kill-switch belong to the run that traded, not to a replay; nor is a
     * day closed again that the book closed before a restart (its clock
     * may have run ahead of the trades while idle) */
    const coce_book *b = e->book;
    if (e->warmup ||
        (b->n_equity > 0 && now <= b->equity[b->n_equity - 1].time_ms))
        return COCE_OK;
    double equity = mark_equity(e);
    int rc = coce_book_record_equity(e->book, now, equity, err);
    if (rc == COCE_OK)
        rc = sleeve_day_close(e, now, err);
    if (rc != COCE_OK)
        return rc;
    rc = grow((void **)&e->daily_returns, &e->cap_days, e->n_days + 1,
              sizeof *e->daily_returns);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "engine: out of memory");
    e->daily_returns[e->n_days++] =
        e->last_equity > 0 ? equity / e->last_equity - 1.0 : 0.0;
    e->last_equity = equity;

    int flatten = 0;
    rc = coce_drawdown_update(&e->dd, equity, cfg->guardrails.drawdown_soft,
                              cfg->guardrails.drawdown_hard,
                              &e->scale_drawdown, &flatten);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "drawdown: %s", coce_strerror(rc));
    if (flatten && !e->book->kill.halted) {
        coce_log(COCE_LOG_WARN, "guardrails", "drawdown_hard_limit",
                 "{s:f, s:f, s:f}", "equity", equity, "peak", e->dd.peak,
                 "drawdown", e->dd.drawdown);
        (void)coce_book_halt(e->book, "drawdown hard limit", now, NAN, NAN,
                             e->dd.drawdown);
        notify(e, 1,
               "COCE halted: drawdown hard limit (%.2f %% from the peak %.6g); "
               "positions flattened",
               100.0 * e->dd.drawdown, e->dd.peak);
        ++e->stats.halts;
        rc = cancel_entries(e, now, err);
        if (rc == COCE_OK)
            rc = flatten_all(e, now, err);
        if (rc != COCE_OK)
            return rc;
    }

    if (e->book->kill.halted || e->trading_ms == INT64_MIN)
        return day_close_hook(e, err);
    /* Kill-switch over the trading days and the trades closed in the
     * window. */
    coce_killswitch_cfg kc;
    coce_killswitch_cfg_default(&kc);
    kc.sharpe_min = cfg->killswitch.sharpe_min;
    kc.hit_rate_min = cfg->killswitch.hit_rate_min;
    kc.window_days = (size_t)cfg->killswitch.window_days;
    kc.min_trades = (size_t)cfg->killswitch.min_trades;
    kc.annualisation = cfg->hrp.annualisation;
    /* days of trading history, counted from when trading first began (a
     * resumed book remembers it) */
    int64_t since = e->book->trading_since_ms != INT64_MIN
                        ? e->book->trading_since_ms
                        : e->trading_ms;
    size_t trading_days = (size_t)((now - since) / DAY_MS);
    if (trading_days > e->n_days)
        trading_days = e->n_days;
    int64_t window_start = now - (int64_t)kc.window_days * DAY_MS;
    size_t nt = 0;
    for (size_t i = 0; i < e->book->n_trades; ++i)
        nt += e->book->trades[i].exit_ms > window_start;
    double *pnl = malloc((nt > 0 ? nt : 1) * sizeof *pnl);
    if (pnl == NULL)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    nt = 0;
    for (size_t i = 0; i < e->book->n_trades; ++i)
        if (e->book->trades[i].exit_ms > window_start)
            pnl[nt++] = e->book->trades[i].pnl;
    coce_killswitch_verdict v;
    rc = coce_killswitch_evaluate(&kc,
                                  e->daily_returns + (e->n_days - trading_days),
                                  trading_days, pnl, nt, &v);
    free(pnl);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "kill-switch: %s", coce_strerror(rc));
    if (!v.judged || !v.halt)
        return day_close_hook(e, err);
    char line[1024];
    rc = coce_killswitch_event_json(&v, now, line, sizeof line);
    if (rc == COCE_OK)
        rc = append_meta_event(e, line);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "%s: cannot append the kill-switch event",
                            e->o.meta_events_path);
    (void)coce_book_halt(e->book, v.reason, now, v.sharpe, v.hit_rate,
                         e->dd.drawdown);
    notify(e, 1,
           "COCE halted by the meta kill-switch: %s (7-day Sharpe %.3f, hit "
           "rate %.3f over %zu trades); `coce reset-kill-switch` lifts it",
           v.reason, v.sharpe, v.hit_rate, v.trades);
    ++e->stats.halts;
    coce_log(COCE_LOG_WARN, "killswitch", "halt", "{s:s, s:f, s:f, s:I}",
             "reason", v.reason, "sharpe_7d", v.sharpe, "hit_rate_7d",
             v.hit_rate, "trades", (json_int_t)v.trades);
    rc = cancel_entries(e, now, err);
    if (rc == COCE_OK && cfg->killswitch.flatten_on_halt)
        rc = flatten_all(e, now, err);
    if (rc == COCE_OK)
        rc = day_close_hook(e, err);
    return rc;
}

/* ---- live venues: settling orders by client id ---------------------------- */

static void clear_pending(coce_engine *e, const coce_open_order *o)
{
    if (o->asset >= e->n_assets)
        return;
    if (o->side > 0)
        e->a[o->asset].entry_pending = 0;
    else
        e->a[o->asset].exit_pending = 0;
}

/* Journals the terminal event, then drops the order from the book. */
static int close_order(coce_engine *e, const char *client_id,
                       coce_journal_kind kind, int64_t now, const char *note,
                       coce_err *err)
{
    int rc = journal_event(e, kind, client_id, now, note, err);
    if (rc != COCE_OK)
        return rc;
    coce_open_order *o = coce_book_order_find(e->book, client_id);
    if (o != NULL) {
        clear_pending(e, o);
        (void)coce_book_order_remove(e->book, client_id);
    }
    return COCE_OK;
}

/* Executions the venue x (the spot venue, or the options' venue when
 * options) reports since the last call (each applied once). */
static int poll_venue(coce_engine *e, const coce_exchange *x, int options,
                      int64_t now, coce_err *err)
{
    if (x->poll_fills == NULL)
        return COCE_OK;
    for (int round = 0; round < 64; ++round) {
        coce_fill fills[MAX_FILLS];
        size_t n = 0;
        coce_err xerr;
        coce_err_clear(&xerr);
        int rc = x->poll_fills(x->impl, fills, MAX_FILLS, &n, &xerr);
        if (rc != COCE_OK) {
            coce_log(COCE_LOG_WARN, "engine", "poll_fills_failed",
                     "{s:s, s:s}", "venue", x->name ? x->name : "?", "why",
                     xerr.msg);
            return COCE_OK; /* asked again at the next bar close */
        }
        rc = options ? opt_fills(e, fills, n, now, err)
                     : apply_fills(e, fills, n, err);
        if (rc != COCE_OK || n < MAX_FILLS)
            return rc;
    }
    return COCE_OK;
}

typedef struct settle_item {
    char client_id[COCE_CLIENT_ID_MAX];
    int found;
    coce_order_state st;
} settle_item;

/* Reconciles the book's open orders of one venue (x: the spot venue's
 * orders, or the options' when options) by client id; see
 * coce_engine_settle_orders. */
static int settle_venue(coce_engine *e, const coce_exchange *x, int options,
                        int64_t now, coce_err *err)
{
    size_t n = 0;
    for (size_t i = 0; i < e->book->n_orders; ++i)
        n += is_option(e->book->orders[i].asset) == (options != 0);
    if (n == 0 && !options)
        return COCE_OK;
    settle_item *items = calloc(n > 0 ? n : 1, sizeof *items);
    if (items == NULL)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    n = 0;
    for (size_t i = 0; i < e->book->n_orders; ++i)
        if (is_option(e->book->orders[i].asset) == (options != 0))
            memcpy(items[n++].client_id, e->book->orders[i].client_id,
                   sizeof items[0].client_id);
    int rc = COCE_OK;
    char note[COCE_JOURNAL_NOTE_MAX];
    for (size_t i = 0; i < n && rc == COCE_OK; ++i) {
        const char *id = items[i].client_id;
        coce_err xerr;
        coce_err_clear(&xerr);
        int q = x->query_by_client_id(x->impl, id, &items[i].st, &xerr);
        coce_open_order *o = coce_book_order_find(e->book, id);
        if (o == NULL)
            continue;
        if (q == COCE_ENOTFOUND) {
            /* final: the venue refuses it from now on (recvWindow passed) */
            ++e->stats.orders_abandoned;
            (void)snprintf(note, sizeof note,
                           "abandoned: the venue never got it (%.200s); "
                           "never resent",
                           xerr.msg);
            coce_log(COCE_LOG_WARN, "engine", "order_abandoned",
                     "{s:s, s:s}", "client_id", id, "why", xerr.msg);
            rc = close_order(e, id, COCE_JOURNAL_DONE, now, note, err);
            continue;
        }
        if (q != COCE_OK) {
            coce_log(COCE_LOG_INFO, "engine", "order_still_unknown",
                     "{s:s, s:s}", "client_id", id, "why", xerr.msg);
            continue; /* asked again at the next bar close */
        }
        items[i].found = 1;
        if (o->status == COCE_ORDER_UNKNOWN || o->status == COCE_ORDER_PENDING) {
            ++e->stats.orders_adopted;
            (void)snprintf(note, sizeof note,
                           "adopted: at the venue, %s, %.17g filled",
                           coce_exec_status_name(items[i].st.status),
                           items[i].st.filled_qty);
            coce_log(COCE_LOG_WARN, "engine", "order_adopted",
                     "{s:s, s:s, s:f, s:f}", "client_id", id, "status",
                     coce_exec_status_name(items[i].st.status), "venue_filled",
                     items[i].st.filled_qty, "journal_filled", o->filled);
            rc = journal_event(e, COCE_JOURNAL_ACK, id, now, note, err);
            (void)coce_book_order_update(e->book, id,
                                         o->filled > 0 ? COCE_ORDER_PARTIAL
                                                       : COCE_ORDER_OPEN,
                                         o->filled);
        }
    }
    /* the executions the journal lacks (the option venue is polled even
     * without open orders: deferred fills wait there too) */
    if (rc == COCE_OK)
        rc = poll_venue(e, x, options, now, err);
    /* terminal at the venue, the journal caught up, not fully filled */
    for (size_t i = 0; i < n && rc == COCE_OK; ++i) {
        coce_open_order *o = coce_book_order_find(e->book, items[i].client_id);
        const coce_order_state *st = &items[i].st;
        if (o == NULL || !items[i].found ||
            !coce_exec_status_terminal(st->status) ||
            o->filled < st->filled_qty * (1.0 - COCE_BOOK_QTY_RTOL))
            continue;
        (void)snprintf(note, sizeof note, "venue: %s, %.17g of %.17g filled",
                       coce_exec_status_name(st->status), st->filled_qty,
                       o->qty);
        coce_log(COCE_LOG_INFO, "engine", "order_closed", "{s:s, s:s}",
                 "client_id", items[i].client_id, "note", note);
        rc = close_order(e, items[i].client_id,
                         st->status == COCE_EXEC_REJECTED
                             ? COCE_JOURNAL_REJECTED
                             : COCE_JOURNAL_CANCELED,
                         now, note, err);
    }
    free(items);
    return rc;
}

static void sord_sweep(coce_engine *e);
static int opt_flush(coce_engine *e, int64_t now, coce_err *err);

int coce_engine_settle_orders(coce_engine *e, int64_t now, coce_err *err)
{
    if (e == NULL)
        return coce_err_set(err, COCE_EINVAL, "engine: NULL");
    int rc = COCE_OK;
    if (live_venue(e))
        rc = settle_venue(e, &e->o.exchange, 0, now, err);
    if (rc == COCE_OK && e->ox_on) {
        rc = opt_flush(e, now, err);
        if (rc == COCE_OK)
            rc = settle_venue(e, &e->ox, 1, now, err);
        sord_sweep(e);
    }
    return rc;
}

int coce_engine_on_clock(coce_engine *e, int64_t now, coce_err *err)
{
    if (e == NULL)
        return coce_err_set(err, COCE_EINVAL, "engine: NULL");
    if (!e->started || now <= e->last_ms)
        return COCE_OK;
    int rc = advance_clock(e, now, err);
    if (rc != COCE_OK)
        return rc;
    e->last_ms = now;
    for (size_t i = 0; i < e->n_assets && rc == COCE_OK; ++i) {
        coce_detector_event ev;
        int emitted = 0;
        rc = coce_detector_advance(e->det, (coce_asset_id)i, now, &ev,
                                   &emitted, err);
        if (rc == COCE_OK && emitted)
            rc = on_detector_event(e, &ev, err);
    }
    for (size_t i = 0; i < e->n_assets && rc == COCE_OK; ++i)
        if (coce_book_position(e->book, (coce_asset_id)i) != NULL)
            rc = check_exit(e, (coce_asset_id)i, now, err);
    return rc;
}

int coce_engine_set_warmup(coce_engine *e, int on)
{
    if (e == NULL)
        return COCE_EINVAL;
    if (e->warmup && !on && e->started && e->have_model) {
        /* trading begins now, not at the first replayed trade */
        e->trading_ms = e->last_ms;
        if (e->book->trading_since_ms == INT64_MIN)
            e->book->trading_since_ms = e->last_ms;
    }
    e->warmup = on != 0;
    return COCE_OK;
}

int64_t coce_engine_now(const coce_engine *e)
{
    return e->started ? e->last_ms : INT64_MIN;
}

static int bar_close(coce_engine *e, int64_t at, coce_err *err)
{
    size_t n = e->n_assets;
    double *row = e->bars + e->bar_head * n;
    for (size_t i = 0; i < n; ++i) {
        row[i] = e->a[i].bar_last;
        e->a[i].bar_last = NAN;
    }
    e->bar_head = (e->bar_head + 1) % e->bar_rows;
    if (e->bar_count < e->bar_rows)
        ++e->bar_count;
    coce_log_set_sim_time(at);
    int rc = e->warmup ? COCE_OK : sleeve_advance(e, at, err);
    if (rc == COCE_OK && at % DAY_MS == 0)
        rc = day_close(e, at, err);
    if (rc == COCE_OK && !e->warmup && (live_venue(e) || e->ox_on))
        rc = coce_engine_settle_orders(e, at, err);
    if (rc == COCE_OK && at >= e->next_rebalance_ms) {
        rc = maybe_refit(e, at, err);
        if (rc == COCE_OK)
            rc = rebalance(e, at, err);
        e->next_rebalance_ms = at + e->cfg->hrp.rebalance_hours * HOUR_MS;
    }
    return rc;
}

static int advance_clock(coce_engine *e, int64_t t, coce_err *err)
{
    if (!e->started) {
        e->started = 1;
        e->first_ms = t;
        e->trading_ms = e->have_model ? t : INT64_MIN;
        if (e->have_model && !e->warmup &&
            e->book->trading_since_ms == INT64_MIN)
            e->book->trading_since_ms = t;
        e->next_bar_ms = (t / e->bar_ms + 1) * e->bar_ms;
        int64_t step = e->cfg->hrp.rebalance_hours * HOUR_MS;
        e->next_rebalance_ms = (t / DAY_MS + 1) * DAY_MS;
        if (step < DAY_MS)
            e->next_rebalance_ms = (t / step + 1) * step;
    }
    while (t >= e->next_bar_ms) {
        int rc = bar_close(e, e->next_bar_ms, err);
        if (rc != COCE_OK)
            return rc;
        e->next_bar_ms += e->bar_ms;
    }
    return COCE_OK;
}

/* ---- entries and exits ---------------------------------------------------- */

static double average_daily_volume(const coce_engine *e, coce_asset_id asset)
{
    size_t n = e->n_assets, days = 0;
    double sum = 0;
    for (size_t i = 0; i < e->vol_count; ++i) {
        double v = e->day_vol[i * n + asset];
        if (v > 0) {
            sum += v;
            ++days;
        }
    }
    return days > 0 ? sum / (double)days : 0.0;
}

/* Held assets plus the candidate, as indices and signed notionals. */
static size_t book_assets(const coce_engine *e, coce_asset_id candidate,
                          double candidate_notional, size_t *assets,
                          double *notional)
{
    size_t k = 0;
    int seen = 0;
    for (size_t i = 0; i < coce_book_position_count(e->book); ++i) {
        const coce_position *p = coce_book_position_at(e->book, i);
        if (is_option(p->asset))
            continue; /* options: premium at risk, see var_scale */
        assets[k] = p->asset;
        notional[k] = p->qty * e->a[p->asset].last_price;
        if (p->asset == candidate) {
            notional[k] += candidate_notional;
            seen = 1;
        }
        ++k;
    }
    if (!seen) {
        assets[k] = candidate;
        notional[k++] = candidate_notional;
    }
    return k;
}

static double var_scale(coce_engine *e, coce_asset_id asset, double requested,
                        double equity)
{
    const coce_config *cfg = e->cfg;
    size_t k_max = coce_book_position_count(e->book) + 1;
    size_t rows = e->day_count;
    double premium = e->sleeve_on ? sleeve_value_base(e) : 0.0;
    if (rows < 3 && premium > 0) {
        /* no return history yet: the premium alone against the floor */
        double scale = 1.0;
        (void)coce_guard_var_premium_scale(0.0, premium,
                                           cfg->guardrails.var_floor * equity,
                                           NULL, &scale);
        return scale;
    }
    if (rows < 3)
        return 1.0;
    size_t *assets = malloc(k_max * sizeof *assets);
    double *notional = malloc(k_max * sizeof *notional);
    double *closes = malloc(rows * k_max * sizeof *closes);
    double *rets = malloc(rows * k_max * sizeof *rets);
    double *work = malloc(rows * sizeof *work);
    double scale = 1.0;
    if (assets != NULL && notional != NULL && closes != NULL && rets != NULL &&
        work != NULL) {
        size_t k = book_assets(e, asset, requested, assets, notional);
        size_t m = ring_copy(e->day_close, e->day_rows, e->day_count,
                             e->day_head, rows, e->n_assets, assets, k, closes);
        double var = 0;
        if (coce_returns_simple(closes, m, k, rets) == COCE_OK &&
            coce_guard_var(rets, m - 1, k, notional,
                           cfg->guardrails.var_confidence, &var,
                           work) == COCE_OK &&
            (premium > 0
                 ? coce_guard_var_premium_scale(
                       var, premium, cfg->guardrails.var_floor * equity, NULL,
                       &scale)
                 : coce_guard_var_scale(var, cfg->guardrails.var_floor * equity,
                                        &scale)) == COCE_OK &&
            scale < 1.0)
            coce_log(COCE_LOG_INFO, "guardrails", "var_cut",
                     "{s:s, s:f, s:f, s:f, s:f}", "asset", sym(e, asset),
                     "var", var, "premium_at_risk", premium, "floor",
                     cfg->guardrails.var_floor * equity, "scale", scale);
    }
    free(assets);
    free(notional);
    free(closes);
    free(rets);
    free(work);
    return scale;
}

static double corr_scale(coce_engine *e, coce_asset_id asset)
{
    const coce_config *cfg = e->cfg;
    size_t k_max = coce_book_position_count(e->book) + 1;
    size_t rows = (size_t)cfg->guardrails.corr_long_bars + 1;
    if (k_max < 2 || e->bar_count < rows)
        return 1.0;
    size_t *assets = malloc(k_max * sizeof *assets);
    double *notional = malloc(k_max * sizeof *notional);
    double *closes = malloc(rows * k_max * sizeof *closes);
    double *rets = malloc(rows * k_max * sizeof *rets);
    double *work = malloc(2 * k_max * sizeof *work);
    double scale = 1.0;
    if (assets != NULL && notional != NULL && closes != NULL && rets != NULL &&
        work != NULL) {
        size_t k = book_assets(e, asset, 0.0, assets, notional);
        size_t m = ring_copy(e->bars, e->bar_rows, e->bar_count, e->bar_head,
                             rows, e->n_assets, assets, k, closes);
        double avg_s = 0, avg_l = 0;
        if (k >= 2 && coce_returns_simple(closes, m, k, rets) == COCE_OK &&
            coce_guard_corr_sentinel(
                rets, m - 1, k, (size_t)cfg->guardrails.corr_short_bars,
                (size_t)cfg->guardrails.corr_long_bars,
                cfg->guardrails.corr_threshold, cfg->guardrails.corr_cut_scale,
                &avg_s, &avg_l, &scale, work) == COCE_OK &&
            scale < 1.0)
            coce_log(COCE_LOG_INFO, "guardrails", "corr_spike",
                     "{s:s, s:f, s:f, s:f}", "asset", sym(e, asset),
                     "avg_short", avg_s, "avg_long", avg_l, "scale", scale);
        else if (scale != 1.0 && scale >= 1.0)
            scale = 1.0;
    }
    free(assets);
    free(notional);
    free(closes);
    free(rets);
    free(work);
    return scale;
}

/* Errors of the venue that leave nothing behind (the order was journalled
 * as rejected and never reached the venue, or was refused by it): the loop
 * goes on. */
static int venue_refused(int rc)
{
    return rc == COCE_EDATA || rc == COCE_EEXCHANGE || rc == COCE_ENET ||
           rc == COCE_ERATELIMIT || rc == COCE_EHTTP || rc == COCE_ETIMEOUT;
}

/* ---- the convexity sleeve ------------------------------------------------ */

/* Last sample at or before t (the first one when none is): the history up
 * to t only. */
static double series_at(const int64_t *t, const double *px, size_t n,
                        int64_t at)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid] <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 ? px[lo - 1] : px[0];
}

/* USD per unit of the base currency at t (1 for a USD book; NAN for a
 * streamed one before its first sample). */
static double base_usd(const coce_engine *e, int64_t at)
{
    if (e->sl.base_t_ms == NULL || e->sl.base_n == 0)
        return e->ser_on[COCE_ENGINE_SLEEVE_MAX] ? NAN : 1.0;
    return series_at(e->sl.base_t_ms, e->sl.base_px, e->sl.base_n, at);
}

/* The marks of the held options (base currency): their premium at risk. */
static double sleeve_value_base(const coce_engine *e)
{
    double v = 0;
    for (size_t i = 0; i < coce_book_position_count(e->book); ++i) {
        const coce_position *p = coce_book_position_at(e->book, i);
        size_t k = p->asset - COCE_ENGINE_OPTION_BASE;
        if (is_option(p->asset) && k < e->n_opt)
            v += p->qty * e->opt[k].mark_base;
    }
    return v;
}

/* The asset id of an option (registered on first use) under the venue's
 * name `listed` (NULL: the name made from the event). A held option is
 * found again by its contract (type, strike, expiry), also when the
 * venue's spelling of the name differs from coce_sleeve_option_name's. */
static int opt_id(coce_engine *e, size_t u, const coce_sleeve_event *ev,
                  const char *listed, coce_asset_id *out, coce_err *err)
{
    char name[COCE_BOOK_SYMBOL_MAX];
    if (listed != NULL)
        (void)snprintf(name, sizeof name, "%s", listed);
    else if (coce_sleeve_option_name(e->sl.u[u].name, ev->type, ev->strike,
                                     ev->expiry_ms, name,
                                     sizeof name) != COCE_OK)
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve: no instrument name for strike %g", ev->strike);
    for (size_t k = 0; k < e->n_opt; ++k) {
        coce_instrument in;
        int same = strcmp(e->opt[k].name, name) == 0;
        if (!same && e->opt[k].u == u &&
            coce_instrument_parse_name(e->opt[k].name, &in, NULL) == COCE_OK)
            same = in.option_type == ev->type && in.strike == ev->strike &&
                   in.expiry_ms == ev->expiry_ms;
        if (same) {
            *out = COCE_ENGINE_OPTION_BASE + (coce_asset_id)k;
            return COCE_OK;
        }
    }
    if (grow((void **)&e->opt, &e->cap_opt, e->n_opt + 1, sizeof *e->opt) !=
        COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    opt_inst *o = &e->opt[e->n_opt];
    memset(o, 0, sizeof *o);
    (void)snprintf(o->name, sizeof o->name, "%s", name);
    o->u = u;
    *out = COCE_ENGINE_OPTION_BASE + (coce_asset_id)e->n_opt++;
    /* the state file names it even while only an order is working */
    return coce_book_set_symbol(e->book, *out, name, err);
}

static int sleeve_order_working(const coce_engine *e, size_t u,
                                const coce_sleeve_event *ev)
{
    for (size_t i = 0; i < e->n_sord; ++i) {
        const coce_sleeve_event *w = &e->sord[i].ev;
        if (e->sord[i].u != u)
            continue;
        if (ev->what == COCE_SLEEVE_BUY ? w->what == COCE_SLEEVE_BUY &&
                                              w->type == ev->type
                                        : w->type == ev->type &&
                                              w->strike == ev->strike &&
                                              w->expiry_ms == ev->expiry_ms)
            return 1;
    }
    return 0;
}

/* Guardrails on an opening intent, in coce_guard_apply_entry's order:
 * halts, drawdown scale, the VaR floor against the premium at risk (the
 * new option's cost is premium at risk too). Cuts the amount to whole
 * lots; 0 when nothing may be bought. */
static double sleeve_guard(coce_engine *e, size_t u, const coce_sleeve_event *ev,
                           double conv, coce_err *err, int *rc)
{
    const coce_config *cfg = e->cfg;
    double unit = (ev->price_coin + ev->fee_coin) * conv;
    double cost = ev->amount * unit;
    double equity = mark_equity(e);
    coce_guard_entry_input gi;
    memset(&gi, 0, sizeof gi);
    gi.requested = cost;
    gi.adv_notional = cost; /* options: no ADV cap */
    gi.adv_max_fraction = 1.0;
    gi.killswitch_halted = e->book->kill.halted;
    gi.drawdown_halted = e->dd.halted;
    gi.scale_drawdown = e->scale_drawdown;
    gi.scale_corr = 1.0;
    double floor_loss = cfg->guardrails.var_floor * (equity > 0 ? equity : 0);
    *rc = coce_guard_var_premium_scale(cost, sleeve_value_base(e), floor_loss,
                                       NULL, &gi.scale_var);
    coce_guard_decision gd;
    if (*rc == COCE_OK)
        *rc = coce_guard_apply_entry(&gi, &gd);
    if (*rc != COCE_OK) {
        *rc = coce_err_set(err, *rc, "sleeve guardrails: %s",
                           coce_strerror(*rc));
        return 0.0;
    }
    double lot = e->sl.u[u].cfg.min_trade_amount;
    double amount = ev->amount;
    if (gd.allowed < cost * (1.0 - 1e-12))
        amount = floor(gd.allowed / unit / lot + 1e-9) * lot;
    if (gd.halted)
        ++e->srep.skipped_halted;
    else if (amount < ev->amount)
        ++e->srep.cut_guardrails;
    coce_log(COCE_LOG_INFO, "guardrails", "sleeve_entry_decision",
             "{s:s, s:f, s:f, s:f, s:f, s:s}", "underlying",
             e->sl.u[u].name, "requested", cost, "allowed", gd.allowed,
             "scale_var", gd.scale_var, "premium_at_risk",
             sleeve_value_base(e), "binding_rule", gd.binding_rule);
    return amount > 0 ? amount : 0.0;
}

/* Settlement at expiry: the venue pays the intrinsic value in coin. It is
 * journalled as an intent and a fill (no order reaches the venue). */
static int sleeve_settle(coce_engine *e, coce_asset_id asset, double qty,
                         double price, int64_t now, coce_err *err)
{
    coce_order_intent in;
    memset(&in, 0, sizeof in);
    int rc = COCE_OK;
    if (e->o.journal != NULL)
        rc = coce_journal_next_client_id(
            e->o.journal,
            e->o.client_tag ? e->o.client_tag
                            : (e->o.run_id ? e->o.run_id : "run"),
            in.client_id, err);
    else
        (void)snprintf(in.client_id, sizeof in.client_id, "coce-%llu",
                       (unsigned long long)++e->order_seq);
    if (rc != COCE_OK)
        return rc;
    in.asset = asset;
    in.side = COCE_SIDE_SELL;
    in.type = COCE_ORDER_MARKET;
    in.qty = qty;
    in.reason = COCE_REASON_FLATTEN;
    in.time_ms = now;
    if (e->o.journal != NULL) {
        rc = coce_journal_append_intent(e->o.journal, &in, sym(e, asset), NULL,
                                        err);
        if (rc != COCE_OK)
            return rc;
    }
    ++e->srep.intents;
    coce_open_order oo;
    memset(&oo, 0, sizeof oo);
    memcpy(oo.client_id, in.client_id, sizeof oo.client_id);
    oo.asset = asset;
    oo.side = COCE_SIDE_SELL;
    oo.reason = in.reason;
    oo.qty = qty;
    oo.status = COCE_ORDER_OPEN;
    oo.time_ms = now;
    rc = coce_book_order_add(e->book, &oo, err);
    if (rc != COCE_OK)
        return rc;
    coce_fill f;
    memset(&f, 0, sizeof f);
    memcpy(f.client_id, in.client_id, sizeof f.client_id);
    f.asset = asset;
    f.side = COCE_SIDE_SELL;
    f.qty = qty;
    f.price = price;
    f.time_ms = now;
    if (price > 0)
        return apply_fills(e, &f, 1, err);
    /* Worthless: the journal takes no fill at price 0, so the expiry is
     * journalled as done and the position leaves the book directly (after
     * a crash the restored option is past expiry and settles again). */
    rc = journal_event(e, COCE_JOURNAL_DONE, in.client_id, now,
                       "expired worthless: settled at 0 by the venue", err);
    if (rc != COCE_OK)
        return rc;
    record_fill(e, &f);
    rc = coce_book_apply_fill(e->book, &f, sym(e, asset), err);
    if (rc == COCE_OK)
        ++e->srep.fills;
    return rc;
}

/* ---- the sleeve on Deribit ------------------------------------------------ */

static sleeve_order *sord_find(coce_engine *e, const char *client_id)
{
    for (size_t i = 0; i < e->n_sord; ++i)
        if (strcmp(e->sord[i].client_id, client_id) == 0)
            return &e->sord[i];
    return NULL;
}

/* Drops the sleeve's orders that have left the book (filled, closed). */
static void sord_sweep(coce_engine *e)
{
    for (size_t i = 0; i < e->n_sord; ++i)
        if (coce_book_order_find(e->book, e->sord[i].client_id) == NULL) {
            e->sord[i] = e->sord[--e->n_sord];
            --i;
        }
}

/* Underlying of an option asset (SIZE_MAX when not the sleeve's). */
static size_t opt_underlying(const coce_engine *e, coce_asset_id asset)
{
    size_t k = asset - COCE_ENGINE_OPTION_BASE;
    return is_option(asset) && k < e->n_opt && e->opt[k].u < e->sl.n_u
               ? e->opt[k].u
               : SIZE_MAX;
}

/* Base currency per coin of an option's underlying: the rate its order was
 * decided at, else the samples' at `now` (at most the engine's time); 0
 * when no USD price is known yet. */
static double opt_conv(const coce_engine *e, const sleeve_order *so,
                       coce_asset_id asset, int64_t now)
{
    if (so != NULL && so->conv > 0)
        return so->conv;
    size_t u = opt_underlying(e, asset);
    if (u == SIZE_MAX)
        return 0.0;
    const coce_engine_underlying *un = &e->sl.u[u];
    if (un->n == 0 || un->t_ms[0] > now)
        return 0.0;
    double c = series_at(un->t_ms, un->px, un->n, now) / base_usd(e, now);
    return c > 0 && isfinite(c) ? c : 0.0;
}

/* The sleeve's state and results take `amount` of an executed option
 * order. A buy adds to a held option of the same name (Deribit fills one
 * order in parts); the book stays the reference when the two disagree
 * (a resumed order), so a mismatch is logged, not fatal. */
static void sleeve_fill(coce_engine *e, const sleeve_order *so, double amount)
{
    if (so->u >= e->sl.n_u)
        return;
    coce_sleeve_state *st = &e->sst[so->u];
    const coce_sleeve_event *ev = &so->ev;
    if (ev->what == COCE_SLEEVE_BUY)
        for (size_t k = 0; k < st->np; ++k) {
            coce_sleeve_pos *p = &st->pos[k];
            if (p->type != ev->type || p->strike != ev->strike ||
                p->expiry_ms != ev->expiry_ms || p->abandoned)
                continue;
            double cost = amount * (ev->price_coin + ev->fee_coin) * ev->spot;
            p->amount += amount;
            st->spent_kind[ev->type == COCE_OPT_PUT] += cost;
            st->period_spend += cost;
            if (st->period_spend > st->max_period_spend_usd)
                st->max_period_spend_usd = st->period_spend;
            /* the premium and fees of the part; still one option bought */
            coce_sleeve_account(&e->srep.res[so->u], ev, amount);
            --e->srep.res[so->u].n_buys;
            return;
        }
    coce_err serr;
    coce_err_clear(&serr);
    if (coce_sleeve_apply(st, ev, amount, &serr) == COCE_OK)
        coce_sleeve_account(&e->srep.res[so->u], ev, amount);
    else
        coce_log(COCE_LOG_WARN, "options", "sleeve_state_mismatch",
                 "{s:s, s:s}", "client_id", so->client_id, "why", serr.msg);
}

/* Executions of option orders from Deribit (coin per contract): converted
 * to the base currency, journalled and applied once (apply_fills), then
 * given to the sleeve's state. A fill without a known USD price (a restart
 * before the first sample) waits in memory: the journal has not seen it,
 * so after a crash meanwhile the adapter reports it again. */
static int opt_fills(coce_engine *e, const coce_fill *fills, size_t n,
                     int64_t now, coce_err *err)
{
    for (size_t i = 0; i < n; ++i) {
        coce_fill f = fills[i];
        const sleeve_order *so = sord_find(e, f.client_id);
        double conv = opt_conv(e, so, f.asset, now);
        if (!(conv > 0)) {
            if (grow((void **)&e->ofill, &e->cap_ofill, e->n_ofill + 1,
                     sizeof *e->ofill) != COCE_OK)
                return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
            e->ofill[e->n_ofill++] = f;
            ++e->srep.fills_deferred;
            coce_log(COCE_LOG_INFO, "engine", "option_fill_deferred",
                     "{s:s, s:f}", "client_id", f.client_id, "qty", f.qty);
            continue;
        }
        /* what the book will take of it (apply_fills skips repeats) */
        const coce_open_order *o = coce_book_order_find(e->book, f.client_id);
        double rest = o != NULL ? o->qty - o->filled : 0.0;
        double taken = o == NULL || rest <= o->qty * COCE_BOOK_QTY_RTOL ? 0.0
                       : f.qty > rest * (1.0 + COCE_BOOK_QTY_RTOL) ? rest
                                                                   : f.qty;
        size_t u = opt_underlying(e, f.asset);
        double fee_coin = f.fee;
        if (!(fee_coin > 0) && u != SIZE_MAX)
            fee_coin = f.qty * coce_sleeve_fee(f.price, e->sl.u[u].cfg.fee_rate,
                                               e->sl.u[u].cfg.fee_cap);
        f.price *= conv;
        f.fee = fee_coin > 0 ? fee_coin * conv : 0.0;
        int rc = apply_fills(e, &f, 1, err);
        if (rc != COCE_OK)
            return rc;
        /* until the model can mark it (next sample, a vol window), an
         * option is marked at its fill price, never at 0 */
        opt_inst *oi = &e->opt[f.asset - COCE_ENGINE_OPTION_BASE];
        if (u != SIZE_MAX && taken > 0 && !(oi->mark_base > 0))
            oi->mark_base = f.price;
        if (so != NULL && taken > 0)
            sleeve_fill(e, so, taken);
    }
    return COCE_OK;
}

/* The waiting option fills, once a USD price is known. */
static int opt_flush(coce_engine *e, int64_t now, coce_err *err)
{
    size_t n = e->n_ofill;
    if (n == 0)
        return COCE_OK;
    coce_fill *f = malloc(n * sizeof *f);
    if (f == NULL)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    memcpy(f, e->ofill, n * sizeof *f);
    e->n_ofill = 0;
    int rc = opt_fills(e, f, n, now, err);
    free(f);
    if (rc == COCE_OK)
        sord_sweep(e);
    return rc;
}

/* The instrument `name` as the venue lists it (public/get_instruments of
 * the underlying's currency, fetched again when a name is missing, at most
 * once per engine time). COCE_ENOTFOUND when not listed; venue errors as
 * they come. */
static int opt_fetch_list(coce_engine *e, size_t u, int64_t now,
                          coce_err *err);

static int opt_listed(coce_engine *e, size_t u, const char *name,
                      int64_t now, coce_instrument *out, coce_err *err)
{
    size_t k = coce_instrument_find(e->oins[u], e->n_oins[u], name);
    if (k < e->n_oins[u]) {
        *out = e->oins[u][k];
        return COCE_OK;
    }
    if (e->oins[u] == NULL || e->oins_at[u] != now) {
        int rc = opt_fetch_list(e, u, now, err);
        if (rc != COCE_OK)
            return rc;
        k = coce_instrument_find(e->oins[u], e->n_oins[u], name);
    }
    if (k >= e->n_oins[u] || e->oins[u] == NULL)
        return coce_err_set(err, COCE_ENOTFOUND,
                            "%s: not listed by the venue (public/"
                            "get_instruments %s)",
                            name, e->sl.u[u].name);
    *out = e->oins[u][k];
    return COCE_OK;
}

/* Deribit answers parsed whole: the parsers count first (COCE_ERANGE with
 * *n = the number of entries when cap is short), then fill. */
typedef int (*venue_list_parse)(const char *json, size_t len, void *out,
                                size_t cap, size_t *n, coce_err *err);

static int parse_instrument_list(const char *json, size_t len, void *out,
                                 size_t cap, size_t *n, coce_err *err)
{
    return coce_instruments_parse(json, len, out, cap, n, err);
}

static int parse_summary_list(const char *json, size_t len, void *out,
                              size_t cap, size_t *n, coce_err *err)
{
    return coce_book_summary_parse(json, len, out, cap, n, err);
}

/* Parses json (freed here) into a new array of *n entries of elem bytes. */
static int parse_venue_list(char *json, size_t elem, venue_list_parse parse,
                            void **out, size_t *n, coce_err *err)
{
    size_t len = strlen(json);
    *n = 0;
    void *all = malloc(elem);
    int rc = all != NULL ? parse(json, len, all, 1, n, err) : COCE_ENOMEM;
    if (rc == COCE_ERANGE) { /* *n > 1 entries: parse again into room */
        free(all);
        all = malloc(*n * elem);
        rc = all != NULL ? parse(json, len, all, *n, n, err) : COCE_ENOMEM;
    }
    free(json);
    if (rc != COCE_OK) {
        free(all);
        return rc == COCE_ENOMEM
                   ? coce_err_set(err, rc, "engine: out of memory")
                   : rc;
    }
    *out = all;
    return COCE_OK;
}

/* The venue's option list of underlying u (public/get_instruments of its
 * currency) into e->oins[u], stamped with the engine time. */
static int opt_fetch_list(coce_engine *e, size_t u, int64_t now,
                          coce_err *err)
{
    char *json = NULL;
    int rc = coce_deribit_get_instruments(e->sl.deribit, e->sl.u[u].name,
                                          "option", &json, err);
    void *all = NULL;
    size_t n = 0;
    if (rc == COCE_OK)
        rc = parse_venue_list(json, sizeof(coce_instrument),
                              parse_instrument_list, &all, &n, err);
    if (rc != COCE_OK)
        return rc;
    free(e->oins[u]);
    e->oins[u] = all;
    e->n_oins[u] = n;
    e->oins_at[u] = now;
    return COCE_OK;
}

/* The book summaries of underlying u's options
 * (public/get_book_summary_by_currency) into e->osum[u]. */
static int opt_fetch_summary(coce_engine *e, size_t u, int64_t now,
                             coce_err *err)
{
    char *json = NULL;
    int rc = coce_deribit_book_summary(e->sl.deribit, e->sl.u[u].name,
                                       "option", &json, err);
    void *all = NULL;
    size_t n = 0;
    if (rc == COCE_OK)
        rc = parse_venue_list(json, sizeof(coce_ticker), parse_summary_list,
                              &all, &n, err);
    if (rc != COCE_OK)
        return rc;
    free(e->osum[u]);
    e->osum[u] = all;
    e->n_osum[u] = n;
    e->osum_at[u] = now;
    return COCE_OK;
}

static json_t *num_or_null(double x)
{
    return isfinite(x) ? json_real(x) : NULL;
}

/* The live route's choice of the option to buy (docs/options.md, "The
 * live route"): the step's model choice is replaced by the best listed
 * option of the same type by the rules (coce_sleeve_select_listed) on the
 * venue's list and book summaries of this engine time; the event takes
 * its contract, its limit (min of model and venue ask, on the tick) and an
 * amount never above the step's nor above what is left of the budget.
 * COCE_ENOTFOUND (logged with the reject counts) when nothing passes,
 * COCE_EEXCHANGE (logged) when the venue cannot be read; both are
 * counted by the caller as refused. */
static int opt_choose(coce_engine *e, size_t u, coce_sleeve_event *ev,
                      int64_t now, char *listed, size_t cap, coce_err *err)
{
    const coce_engine_underlying *un = &e->sl.u[u];
    coce_err xerr;
    coce_err_clear(&xerr);
    int rc = COCE_OK;
    if (e->oins[u] == NULL || e->oins_at[u] != now)
        rc = opt_fetch_list(e, u, now, &xerr);
    if (rc == COCE_OK && (e->osum[u] == NULL || e->osum_at[u] != now))
        rc = opt_fetch_summary(e, u, now, &xerr);
    if (rc == COCE_ENOMEM) {
        if (err != NULL)
            *err = xerr;
        return rc;
    }
    if (rc != COCE_OK) {
        coce_log(COCE_LOG_WARN, "options", "sleeve_no_choice",
                 "{s:s, s:s, s:s}", "underlying", un->name, "type",
                 ev->type == COCE_OPT_CALL ? "call" : "put", "why", xerr.msg);
        return COCE_EEXCHANGE;
    }
    coce_sleeve_choice ch;
    coce_sleeve_rejects rej;
    rc = coce_sleeve_select_listed(&un->cfg, ev->type, ev->t_ms, ev->spot,
                                   e->sst[u].sigma_atm, e->oins[u],
                                   e->n_oins[u], e->osum[u], e->n_osum[u], &ch,
                                   &rej, &xerr);
    if (rc != COCE_OK) {
        coce_log(COCE_LOG_WARN, "options", "sleeve_no_choice",
                 "{s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
                 "underlying", un->name, "type",
                 ev->type == COCE_OPT_CALL ? "call" : "put", "why", xerr.msg,
                 "rejected", "listed", (json_int_t)rej.seen, "kind",
                 (json_int_t)rej.kind, "inactive", (json_int_t)rej.inactive,
                 "days", (json_int_t)rej.days, "delta",
                 (json_int_t)rej.delta, "open_interest",
                 (json_int_t)rej.open_interest, "spread",
                 (json_int_t)rej.spread, "price", (json_int_t)rej.price);
        return rc == COCE_EINVAL ? COCE_EEXCHANGE : COCE_ENOTFOUND;
    }
    const coce_instrument *in = &e->oins[u][ch.inst];
    /* what the step had left of the budget for this buy, at its spot */
    double left = ev->budget_left_usd +
                  ev->amount * (ev->price_coin + ev->fee_coin) * ev->spot;
    double fee = coce_sleeve_fee(ch.limit, un->cfg.fee_rate, un->cfg.fee_cap);
    double lot = in->min_trade_amount > 0 ? in->min_trade_amount
                                          : un->cfg.min_trade_amount;
    double amount = 0.0;
    (void)coce_sleeve_size(left / ev->spot, ch.limit, fee, lot, &amount);
    if (amount > ev->amount)
        amount = ev->amount;
    size_t len = strlen(in->name);
    if (len >= cap) /* longer than a book symbol: cannot be held */
        return COCE_ENOTFOUND;
    memcpy(listed, in->name, len + 1);
    coce_log(COCE_LOG_INFO, "options", "sleeve_choice",
             "{s:s, s:s, s:f, s:f, s:f, s:o?, s:o?, s:f, s:f, s:o?, s:f, "
             "s:f, s:f, s:f}",
             "instrument", in->name, "type",
             ch.type == COCE_OPT_CALL ? "call" : "put", "delta", ch.delta,
             "days", ch.days, "iv", ch.iv, "open_interest",
             num_or_null(ch.open_interest), "spread", num_or_null(ch.spread),
             "price", ch.limit, "model_ask", ch.model_ask, "venue_ask",
             num_or_null(ch.venue_ask), "amount", amount, "model_strike",
             ev->strike, "underlying", ch.underlying, "score", ch.score);
    if (!(amount > 0))
        return COCE_ENOTFOUND;
    ev->strike = ch.strike;
    ev->expiry_ms = ch.expiry_ms;
    ev->days = ch.days;
    ev->delta = ch.delta;
    ev->sigma = ch.iv;
    ev->price_coin = ch.limit;
    ev->fee_coin = fee;
    ev->budget_left_usd = left - amount * (ch.limit + fee) * ev->spot;
    ev->amount = amount;
    return COCE_OK;
}

/* Before an option order goes to Deribit: its name registered for its
 * asset id, listed and active, the limit in coin on the tick grid in force
 * (down for a buy: never above the model ask; up for a sale).
 * COCE_EEXCHANGE (logged, counted by the caller) when the venue cannot
 * take it now; other errors are the engine's. */
static int opt_prepare(coce_engine *e, size_t u, coce_asset_id asset,
                       int8_t side, double price_coin, int64_t now,
                       double *limit_coin, coce_err *err)
{
    const char *name = sym(e, asset);
    int rc = coce_deribit_register(e->sl.deribit, asset, name, err);
    if (rc != COCE_OK)
        return rc;
    coce_instrument in;
    coce_err xerr;
    coce_err_clear(&xerr);
    rc = opt_listed(e, u, name, now, &in, &xerr);
    if (rc == COCE_OK && !in.is_active)
        rc = coce_err_set(&xerr, COCE_EEXCHANGE, "%s: not active", name);
    if (rc == COCE_OK &&
        coce_instrument_round_price(&in, price_coin,
                                    side > 0 ? COCE_ROUND_DOWN : COCE_ROUND_UP,
                                    limit_coin) != COCE_OK)
        rc = coce_err_set(&xerr, COCE_EEXCHANGE,
                          "%s: no tick grid for the price %.10g", name,
                          price_coin);
    if (rc == COCE_OK && !(*limit_coin > 0))
        rc = coce_err_set(&xerr, COCE_EEXCHANGE,
                          "%s: model price %.10g is below one tick", name,
                          price_coin);
    if (rc == COCE_ENOMEM) {
        if (err != NULL)
            *err = xerr;
        return rc;
    }
    if (rc != COCE_OK) {
        coce_log(COCE_LOG_WARN, "engine", "sleeve_refused", "{s:s, s:s}",
                 "option", name, "why", xerr.msg);
        return COCE_EEXCHANGE;
    }
    return COCE_OK;
}

/* A resumed book on Deribit: every option name registered for its asset
 * id, every unfinished option order tracked by the adapter (so that a
 * query by client id can settle it) and listed as working (it blocks new
 * orders of its kind until settled). */
static int opt_venue_restore(coce_engine *e, coce_err *err)
{
    for (size_t k = 0; k < e->n_opt; ++k) {
        if (e->opt[k].name[0] == '\0')
            continue;
        int rc = coce_deribit_register(e->sl.deribit,
                                       COCE_ENGINE_OPTION_BASE +
                                           (coce_asset_id)k,
                                       e->opt[k].name, err);
        if (rc != COCE_OK)
            return rc;
    }
    for (size_t i = 0; i < e->book->n_orders; ++i) {
        const coce_open_order *o = &e->book->orders[i];
        size_t u = opt_underlying(e, o->asset);
        if (!is_option(o->asset))
            continue;
        coce_instrument in;
        if (u == SIZE_MAX ||
            coce_instrument_parse_name(sym(e, o->asset), &in, NULL) != COCE_OK)
            return coce_err_set(err, COCE_ESTATE,
                                "state: order %s: '%s' is not an option of "
                                "the sleeve's underlyings",
                                o->client_id, sym(e, o->asset));
        coce_order_intent it;
        memset(&it, 0, sizeof it);
        memcpy(it.client_id, o->client_id, sizeof it.client_id);
        it.asset = o->asset;
        it.side = o->side;
        it.type = o->type;
        it.limit_price = o->limit_price;
        it.qty = o->qty;
        it.reason = o->reason;
        it.time_ms = o->time_ms;
        int rc = coce_deribit_track(e->sl.deribit, &it, e->sl.sent_before_ms,
                                    o->filled, err);
        if (rc == COCE_OK)
            rc = grow((void **)&e->sord, &e->cap_sord, e->n_sord + 1,
                      sizeof *e->sord) == COCE_OK
                     ? COCE_OK
                     : coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
        if (rc != COCE_OK)
            return rc;
        sleeve_order *so = &e->sord[e->n_sord++];
        memset(so, 0, sizeof *so);
        memcpy(so->client_id, o->client_id, sizeof so->client_id);
        so->u = u;
        so->asset = o->asset;
        so->ev.what = o->side > 0 ? COCE_SLEEVE_BUY : COCE_SLEEVE_ROLL;
        so->ev.type = in.option_type;
        so->ev.strike = in.strike;
        so->ev.expiry_ms = in.expiry_ms;
        so->ev.amount = o->qty;
        so->ev.price_coin = o->limit_price;
        so->ev.fee_coin = coce_sleeve_fee(o->limit_price,
                                          e->sl.u[u].cfg.fee_rate,
                                          e->sl.u[u].cfg.fee_cap);
        /* conv 0: the rate at the fill (the decision's is not journalled) */
        coce_log(COCE_LOG_INFO, "engine", "option_order_resumed",
                 "{s:s, s:s, s:f}", "client_id", o->client_id, "option",
                 sym(e, o->asset), "filled", o->filled);
    }
    return COCE_OK;
}

int coce_engine_sleeve_sample(coce_engine *e, const char *series, int64_t t_ms,
                              double px_usd, coce_err *err)
{
    if (e == NULL || series == NULL || !e->sleeve_on)
        return coce_err_set(err, COCE_EINVAL, "sleeve sample: no sleeve");
    size_t k = COCE_ENGINE_SLEEVE_MAX;
    if (strcmp(series, COCE_ENGINE_BASE_SERIES) != 0)
        for (k = 0; k < e->sl.n_u; ++k)
            if (strcmp(e->sl.u[k].name, series) == 0)
                break;
    if (k == e->sl.n_u || !e->ser_on[k])
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve sample: '%s' is not a streamed series",
                            series);
    if (!(px_usd > 0) || !isfinite(px_usd))
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve sample: %s: price %g not positive", series,
                            px_usd);
    size_t n = k < COCE_ENGINE_SLEEVE_MAX ? e->sl.u[k].n : e->sl.base_n;
    if (n > 0 && t_ms <= e->ser_t[k][n - 1])
        return coce_err_set(err, COCE_EORDER,
                            "sleeve sample: %s: t %lld not after %lld", series,
                            (long long)t_ms, (long long)e->ser_t[k][n - 1]);
    size_t cap = e->ser_cap[k];
    if (grow((void **)&e->ser_t[k], &cap, n + 1, sizeof *e->ser_t[k]) !=
            COCE_OK ||
        grow((void **)&e->ser_px[k], &e->ser_cap[k], n + 1,
             sizeof *e->ser_px[k]) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    e->ser_t[k][n] = t_ms;
    e->ser_px[k][n] = px_usd;
    if (k < COCE_ENGINE_SLEEVE_MAX) {
        e->sl.u[k].t_ms = e->ser_t[k];
        e->sl.u[k].px = e->ser_px[k];
        e->sl.u[k].n = n + 1;
    } else {
        e->sl.base_t_ms = e->ser_t[k];
        e->sl.base_px = e->ser_px[k];
        e->sl.base_n = n + 1;
    }
    return COCE_OK;
}

/* One intent of the step: settle, or an order on the venue (a limit at the
 * model quote: the venue fills it at that price, as the back-test does). */
static int sleeve_intent(coce_engine *e, size_t u, const coce_sleeve_event *ev,
                         int64_t now, coce_err *err)
{
    coce_sleeve_state *st = &e->sst[u];
    if (ev->what == COCE_SLEEVE_ROLL && !(ev->price_coin > 0)) {
        /* no bid: kept to settlement; nothing is sent */
        int rc = coce_sleeve_apply(st, ev, ev->amount, err);
        if (rc == COCE_OK)
            coce_sleeve_account(&e->srep.res[u], ev, ev->amount);
        return rc;
    }
    if (sleeve_order_working(e, u, ev)) {
        ++e->srep.skipped_pending;
        return COCE_OK;
    }
    coce_sleeve_event chosen;
    char listed[COCE_BOOK_SYMBOL_MAX];
    listed[0] = '\0';
    if (e->ox_on && ev->what == COCE_SLEEVE_BUY && !e->book->kill.halted &&
        !e->dd.halted) {
        /* Deribit: a listed option by the rules, not the model grid's (a
         * halt skips the venue: the guardrails refuse the buy below) */
        chosen = *ev;
        int crc = opt_choose(e, u, &chosen, now, listed, sizeof listed, err);
        if (crc == COCE_ENOTFOUND || crc == COCE_EEXCHANGE) {
            ++e->srep.refused;
            ++e->srep.no_listed;
            return COCE_OK;
        }
        if (crc != COCE_OK)
            return crc;
        ev = &chosen;
    }
    coce_asset_id asset = COCE_ENGINE_OPTION_BASE;
    int rc = opt_id(e, u, ev, listed[0] != '\0' ? listed : NULL, &asset, err);
    if (rc != COCE_OK)
        return rc;
    double conv = ev->spot / base_usd(e, now); /* base per coin */
    double amount = ev->amount;
    if (ev->what == COCE_SLEEVE_SETTLE) {
        const coce_position *p = coce_book_position(e->book, asset);
        if (p != NULL) {
            amount = p->qty;
            rc = sleeve_settle(e, asset, amount, ev->price_coin * conv, now,
                               err);
        }
        if (rc == COCE_OK)
            rc = coce_sleeve_apply(st, ev, ev->amount, err);
        if (rc == COCE_OK)
            coce_sleeve_account(&e->srep.res[u], ev, amount);
        return rc;
    }
    int8_t side = COCE_SIDE_BUY;
    coce_order_reason reason = COCE_REASON_ENTRY;
    if (ev->what == COCE_SLEEVE_BUY) {
        amount = sleeve_guard(e, u, ev, conv, err, &rc);
        if (rc != COCE_OK || !(amount > 0))
            return rc;
    } else {
        /* a roll sells the held option, never more: long only */
        const coce_position *p = coce_book_position(e->book, asset);
        double held = p != NULL ? p->qty : 0.0;
        rc = coce_sleeve_check_sell(held, amount, err);
        if (rc != COCE_OK)
            return rc;
        side = COCE_SIDE_SELL;
        reason = COCE_REASON_MAX_HOLD;
    }
    /* the venue's limit: base currency per contract on the engine's own
     * venue, coin on Deribit (rounded to the listed instrument's tick) */
    double limit = ev->price_coin * conv;
    if (e->ox_on) {
        double coin = 0.0;
        rc = opt_prepare(e, u, asset, side, ev->price_coin, now, &coin, err);
        if (rc == COCE_EEXCHANGE) {
            ++e->srep.refused;
            return COCE_OK;
        }
        if (rc != COCE_OK)
            return rc;
        limit = coin;
    }
    if (grow((void **)&e->sord, &e->cap_sord, e->n_sord + 1,
             sizeof *e->sord) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    /* listed before sending: synchronous fills find their order */
    sleeve_order *so = &e->sord[e->n_sord++];
    memset(so, 0, sizeof *so);
    so->u = u;
    so->ev = *ev;
    so->ev.amount = amount;
    so->asset = asset;
    so->conv = conv;
    so->limit = e->ox_on ? limit * conv : limit;
    /* (nothing reorders the list before the sweep below) */
    rc = place_order(e, asset, side, amount, limit, reason, now,
                     so->client_id, err);
    ++e->srep.intents;
    if (rc != COCE_OK)
        --e->n_sord; /* so is still the last entry */
    if (venue_refused(rc) || (e->ox_on && rc == COCE_ENOTFOUND)) {
        ++e->srep.refused;
        coce_log(COCE_LOG_WARN, "engine", "sleeve_refused", "{s:s, s:s}",
                 "option", sym(e, asset), "why", coce_strerror(rc));
        return COCE_OK;
    }
    if (rc == COCE_OK) {
        coce_log(COCE_LOG_INFO, "options", "sleeve_order",
                 "{s:s, s:s, s:f, s:f, s:f, s:f, s:f}", "option",
                 sym(e, asset), "side", side > 0 ? "buy" : "sell", "amount",
                 amount, "price_coin", ev->price_coin, "spot", ev->spot,
                 "sigma", ev->sigma, "delta", ev->delta);
        sord_sweep(e); /* filled at once */
    }
    return rc;
}

/* Sample i of underlying u: the step, its intents, then the marks. */
static int sleeve_sample(coce_engine *e, size_t u, size_t i, int64_t now,
                         coce_err *err)
{
    const coce_engine_underlying *un = &e->sl.u[u];
    coce_sleeve_state *st = &e->sst[u];
    const int64_t t = un->t_ms[i];
    if (!(base_usd(e, t) > 0))
        return COCE_OK; /* no USD price of the base currency yet */
    double equity_usd = e->sl.fixed_equity_usd > 0
                            ? e->sl.fixed_equity_usd
                            : mark_equity(e) * base_usd(e, t);
    coce_sleeve_event out[COCE_SLEEVE_STEP_MAX];
    size_t k = 0;
    int rc = COCE_OK;
    if (equity_usd > 0)
        rc = coce_sleeve_step(&un->cfg, st, un->t_ms, un->px, i + 1,
                              equity_usd, out, COCE_SLEEVE_STEP_MAX, &k, err);
    for (size_t j = 0; j < k && rc == COCE_OK; ++j)
        rc = sleeve_intent(e, u, &out[j], now, err);
    if (rc != COCE_OK)
        return rc;
    const double F = un->px[i];
    const double conv = F / base_usd(e, t);
    for (size_t j = 0; j < e->n_opt; ++j) {
        opt_inst *o = &e->opt[j];
        if (o->u != u)
            continue;
        coce_instrument in;
        if (coce_instrument_parse_name(o->name, &in, NULL) != COCE_OK)
            continue;
        /* no vol window yet (a run resumed on streamed samples): the last
         * mark (entry or fill price) stays rather than a floor-vol price */
        if (!(st->sigma_atm > 0) && t < in.expiry_ms)
            continue;
        coce_sleeve_pos p = {in.option_type, in.strike, in.expiry_ms, 0, 0};
        o->mark_coin = coce_sleeve_mark(&un->cfg, &p, t, F, st->sigma_atm);
        o->spot_usd = F;
        o->mark_base = o->mark_coin * conv;
    }
    return e->ox_on ? opt_flush(e, t, err) : COCE_OK;
}

/* Every sample of every underlying up to now, in time order per
 * underlying. */
static int sleeve_advance(coce_engine *e, int64_t now, coce_err *err)
{
    if (!e->sleeve_on)
        return COCE_OK;
    for (size_t u = 0; u < e->sl.n_u; ++u) {
        const coce_engine_underlying *un = &e->sl.u[u];
        while (e->snext[u] < un->n && un->t_ms[e->snext[u]] <= now) {
            int rc = sleeve_sample(e, u, e->snext[u], now, err);
            if (rc != COCE_OK)
                return rc;
            ++e->snext[u];
        }
    }
    return COCE_OK;
}

/* The option market's print at the model quote for each working option
 * order (the paper venue fills a limit order on a print through it, after
 * its latency), at the time of a market trade. Option fees are Deribit's
 * per-contract fee (coce_sleeve_fee), not the spot venue's bps. */
static int sleeve_feed(coce_engine *e, int64_t now, coce_err *err)
{
    for (size_t i = 0; i < e->n_sord; ++i) {
        sleeve_order *so = &e->sord[i];
        coce_trade t;
        memset(&t, 0, sizeof t);
        t.time_ms = now;
        t.asset = so->asset;
        t.price = so->limit * (so->ev.what == COCE_SLEEVE_BUY ? 1.0 - 1e-9
                                                             : 1.0 + 1e-9);
        t.qty = so->ev.amount * 1e9;
        t.side = so->ev.what == COCE_SLEEVE_BUY ? COCE_SIDE_SELL : COCE_SIDE_BUY;
        coce_fill fills[MAX_FILLS];
        size_t n = 0;
        int rc = e->o.feed_trade(e->o.venue, &t, fills, MAX_FILLS, &n);
        if (rc != COCE_OK)
            return coce_err_set(err, rc, "exchange: %s", coce_strerror(rc));
        double filled = 0;
        for (size_t j = 0; j < n; ++j) {
            fills[j].fee = fills[j].qty * so->ev.fee_coin * so->conv;
            filled += fills[j].qty;
        }
        rc = apply_fills(e, fills, n, err);
        if (rc == COCE_OK && filled > 0) {
            rc = coce_sleeve_apply(&e->sst[so->u], &so->ev, filled, err);
            if (rc == COCE_OK)
                coce_sleeve_account(&e->srep.res[so->u], &so->ev, filled);
        }
        if (rc != COCE_OK)
            return rc;
        if (coce_book_order_find(e->book, so->client_id) == NULL) {
            e->sord[i] = e->sord[--e->n_sord];
            --i;
        }
    }
    return COCE_OK;
}

static int sleeve_day_close(coce_engine *e, int64_t now, coce_err *err)
{
    if (!e->sleeve_on)
        return COCE_OK;
    size_t cap = e->cap_sday;
    if (grow((void **)&e->sday_ms, &cap, e->n_sday + 1, sizeof *e->sday_ms) !=
            COCE_OK ||
        grow((void **)&e->sday_pnl, &e->cap_sday, e->n_sday + 1,
             sizeof *e->sday_pnl) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    e->sday_ms[e->n_sday] = now;
    e->sday_pnl[e->n_sday++] = e->sleeve_flow_base + sleeve_value_base(e);
    return COCE_OK;
}

/* A resumed book's options: their ids and names, and the held ones in the
 * sleeve's state (the period budget starts afresh). */
static int sleeve_restore(coce_engine *e, coce_err *err)
{
    const coce_book *b = e->book;
    for (size_t i = 0; i < b->n_symbols; ++i) {
        coce_asset_id id = b->symbols[i].asset;
        if (!is_option(id))
            continue;
        size_t k = id - COCE_ENGINE_OPTION_BASE;
        if (grow((void **)&e->opt, &e->cap_opt, k + 1, sizeof *e->opt) !=
            COCE_OK)
            return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
        if (k >= e->n_opt) {
            memset(e->opt + e->n_opt, 0, (k + 1 - e->n_opt) * sizeof *e->opt);
            e->n_opt = k + 1;
        }
        opt_inst *o = &e->opt[k];
        (void)snprintf(o->name, sizeof o->name, "%s", b->symbols[i].symbol);
        o->u = SIZE_MAX;
        for (size_t u = 0; u < e->sl.n_u; ++u) {
            size_t len = strlen(e->sl.u[u].name);
            if (strncmp(o->name, e->sl.u[u].name, len) == 0 &&
                o->name[len] == '-')
                o->u = u;
        }
    }
    /* samples the previous run has seen are not decided again */
    for (size_t u = 0; u < e->sl.n_u && b->last_processed_ms > 0; ++u)
        while (e->snext[u] < e->sl.u[u].n &&
               e->sl.u[u].t_ms[e->snext[u]] <= b->last_processed_ms)
            ++e->snext[u];
    for (size_t i = 0; i < coce_book_position_count(b); ++i) {
        const coce_position *p = coce_book_position_at(b, i);
        if (!is_option(p->asset))
            continue;
        opt_inst *o = &e->opt[p->asset - COCE_ENGINE_OPTION_BASE];
        o->mark_base = p->avg_price; /* until the next sample */
        coce_instrument in;
        coce_err perr;
        if (o->u == SIZE_MAX ||
            coce_instrument_parse_name(o->name, &in, &perr) != COCE_OK)
            return coce_err_set(err, COCE_ESTATE,
                                "state: option position '%s' is not an "
                                "option of the sleeve's underlyings",
                                o->name);
        coce_sleeve_state *st = &e->sst[o->u];
        if (st->np >= COCE_SLEEVE_MAX_POS)
            return coce_err_set(err, COCE_ESTATE,
                                "state: more than %d options held",
                                COCE_SLEEVE_MAX_POS);
        coce_sleeve_pos *sp = &st->pos[st->np++];
        sp->type = in.option_type;
        sp->strike = in.strike;
        sp->expiry_ms = in.expiry_ms;
        sp->amount = p->qty;
        sp->abandoned = 0;
    }
    return COCE_OK;
}

/* End of a run: the in-loop results' final marks (the back-test's final
 * value), then, for a back-test, the options closed at the model mid. */
static int sleeve_finish(coce_engine *e, int64_t now, coce_err *err)
{
    for (size_t u = 0; u < e->sl.n_u; ++u) {
        coce_sleeve_result *r = &e->srep.res[u];
        r->final_value_coin = 0;
        r->final_value_usd = 0;
        r->n_open = e->sst[u].np;
        r->max_period_spend_usd = e->sst[u].max_period_spend_usd;
    }
    for (size_t i = 0; i < coce_book_position_count(e->book); ++i) {
        const coce_position *p = coce_book_position_at(e->book, i);
        if (!is_option(p->asset))
            continue;
        const opt_inst *o = &e->opt[p->asset - COCE_ENGINE_OPTION_BASE];
        if (o->u >= e->sl.n_u)
            continue;
        coce_sleeve_result *r = &e->srep.res[o->u];
        r->final_value_coin += p->qty * o->mark_coin;
        r->final_value_usd += p->qty * o->mark_coin * o->spot_usd;
    }
    for (size_t u = 0; u < e->sl.n_u; ++u) {
        coce_sleeve_result *r = &e->srep.res[u];
        r->pnl_coin = r->proceeds_coin + r->final_value_coin -
                      r->premium_coin - r->fees_coin;
        r->pnl_usd = r->proceeds_usd + r->final_value_usd - r->premium_usd -
                     r->fees_usd;
    }
    e->srep.premium_at_risk_base = sleeve_value_base(e);
    for (size_t i = 0; e->o.flatten_at_end &&
                       i < coce_book_position_count(e->book);
         ++i) {
        const coce_position *p = coce_book_position_at(e->book, i);
        if (!is_option(p->asset))
            continue;
        coce_fill f;
        memset(&f, 0, sizeof f);
        (void)snprintf(f.client_id, sizeof f.client_id, "coce-end-%llu",
                       (unsigned long long)++e->order_seq);
        f.asset = p->asset;
        f.side = COCE_SIDE_SELL;
        f.qty = p->qty;
        f.price = e->opt[p->asset - COCE_ENGINE_OPTION_BASE].mark_base;
        f.time_ms = now;
        e->sleeve_flow_base += f.qty * f.price;
        int rc = coce_book_apply_fill(e->book, &f, NULL, err);
        if (rc != COCE_OK)
            return rc;
        --i;
    }
    return COCE_OK;
}

static int try_entry(coce_engine *e, coce_asset_id asset, double score,
                     int64_t now, coce_alert *alert, coce_err *err)
{
    const coce_config *cfg = e->cfg;
    asset_state *s = &e->a[asset];
    if (e->book->kill.halted) {
        ++e->stats.skipped_halted;
        (void)snprintf(alert->note, sizeof alert->note, "halted");
        return COCE_OK;
    }
    if (s->entry_pending || s->exit_pending ||
        coce_book_position(e->book, asset) != NULL) {
        (void)snprintf(alert->note, sizeof alert->note, "already in position");
        return COCE_OK;
    }
    double equity = mark_equity(e);
    double budget = e->weights[asset] * equity;
    if (!(budget > 0)) {
        ++e->stats.skipped_no_budget;
        (void)snprintf(alert->note, sizeof alert->note, "no risk budget");
        return COCE_OK;
    }
    double requested = budget * cfg->strategy.entry_fraction *
                       (1.0 - cfg->strategy.core_share) *
                       (cfg->strategy.score_scaling ? score : 1.0);
    coce_guard_entry_input gi;
    memset(&gi, 0, sizeof gi);
    gi.requested = requested;
    gi.position_notional = 0;
    gi.adv_notional = average_daily_volume(e, asset);
    gi.adv_max_fraction = cfg->guardrails.adv_max_fraction;
    gi.killswitch_halted = e->book->kill.halted;
    gi.drawdown_halted = e->dd.halted;
    gi.scale_drawdown = e->scale_drawdown;
    gi.scale_var = var_scale(e, asset, requested, equity);
    gi.scale_corr = corr_scale(e, asset);
    coce_guard_decision gd;
    int rc = coce_guard_apply_entry(&gi, &gd);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "guardrails: %s", coce_strerror(rc));
    e->stats.cuts_drawdown += gd.scale_drawdown < 1.0;
    e->stats.cuts_var += gd.scale_var < 1.0;
    e->stats.cuts_corr += gd.scale_corr < 1.0;
    e->stats.cuts_adv += gd.adv_cut != 0;
    double allowed = gd.allowed;
    double fee_room = 1.0 + cfg->execution.taker_fee_bps * 1e-4 + 0.01;
    if (allowed * fee_room > e->book->cash) {
        allowed = e->book->cash / fee_room;
        ++e->stats.skipped_cash;
    }
    coce_log(COCE_LOG_INFO, "guardrails", "entry_decision",
             "{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:b, s:s}", "asset",
             sym(e, asset), "score", score, "requested", requested, "allowed",
             allowed, "scale_drawdown", gd.scale_drawdown, "scale_var",
             gd.scale_var, "scale_corr", gd.scale_corr, "adv_cut",
             gd.adv_cut != 0, "binding_rule", gd.binding_rule);
    if (allowed < requested * (1.0 - 1e-9))
        notify(e, 0,
               "COCE guardrail cut on %s: %.6g -> %.6g (binding: %s; scales "
               "drawdown %.3f, VaR %.3f, corr %.3f%s)",
               sym(e, asset), requested, allowed, gd.binding_rule,
               gd.scale_drawdown, gd.scale_var, gd.scale_corr,
               gd.adv_cut ? ", ADV cap" : "");
    if (!(allowed > 0) || !(s->last_price > 0)) {
        (void)snprintf(alert->note, sizeof alert->note, "cut to zero by %s",
                       gd.binding_rule);
        return COCE_OK;
    }
    rc = place(e, asset, COCE_SIDE_BUY, allowed / s->last_price,
               COCE_REASON_ENTRY, now, err);
    if (venue_refused(rc)) {
        /* the venue refused it (no liquidity estimate yet, below its
         * minimum size, not reachable...): the alert stays, the entry does
         * not happen */
        ++e->stats.orders_refused;
        (void)snprintf(alert->note, sizeof alert->note, "refused by venue: %s",
                       coce_strerror(rc));
        return COCE_OK;
    }
    if (rc == COCE_OK) {
        alert->entered = 1;
        ++e->stats.entries;
    }
    return rc;
}

static int check_exit(coce_engine *e, coce_asset_id asset, int64_t now,
                      coce_err *err)
{
    const coce_config *cfg = e->cfg;
    asset_state *s = &e->a[asset];
    const coce_position *p = coce_book_position(e->book, asset);
    if (e->warmup || p == NULL || s->exit_pending || s->entry_pending)
        return COCE_OK;
    double price = s->last_price;
    double high = p->high_price > price ? p->high_price : price;
    coce_order_reason reason;
    if (price >= p->avg_price * (1.0 + cfg->strategy.take_profit))
        reason = COCE_REASON_TAKE_PROFIT;
    else if (price <= p->avg_price * (1.0 - cfg->strategy.hard_stop))
        reason = COCE_REASON_HARD_STOP;
    else if (price <= high * (1.0 - cfg->strategy.trailing_stop))
        reason = COCE_REASON_TRAILING_STOP;
    else if (now - p->entry_ms >= cfg->strategy.max_hold_minutes * 60000)
        reason = COCE_REASON_MAX_HOLD;
    else
        return COCE_OK;
    ++e->stats.exits;
    int rc = place(e, asset, COCE_SIDE_SELL, p->qty, reason, now, err);
    if (venue_refused(rc)) {
        /* tried again at the next trade of the asset */
        ++e->stats.orders_refused;
        coce_log(COCE_LOG_WARN, "engine", "exit_refused", "{s:s, s:s}",
                 "asset", sym(e, asset), "why", coce_strerror(rc));
        return COCE_OK;
    }
    return rc;
}

static int record_alert(coce_engine *e, coce_asset_id asset,
                        const coce_feature_row *row, double score,
                        int64_t now, coce_err *err)
{
    int rc = grow((void **)&e->alerts, &e->cap_alerts, e->n_alerts + 1,
                  sizeof *e->alerts);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "engine: out of memory");
    coce_alert *al = &e->alerts[e->n_alerts++];
    memset(al, 0, sizeof *al);
    al->asset = asset;
    al->time_ms = now;
    al->chunk_start_ms = row->chunk_start_ms;
    al->score = score;
    ++e->stats.alerts;
    coce_log(COCE_LOG_INFO, "alpha", "pump_alert", "{s:s, s:I, s:f}", "asset",
             sym(e, asset), "chunk_start_ms", (json_int_t)row->chunk_start_ms,
             "score", score);
    rc = try_entry(e, asset, score, now, al, err);
    return rc;
}

static int on_detector_event(coce_engine *e, const coce_detector_event *ev,
                             coce_err *err)
{
    if (!ev->usable)
        return COCE_OK; /* warm-up, or a NaN (0/0) row: never scored */
    ++e->stats.feature_rows;
    if (!e->fixed_model) {
        int rc = grow((void **)&e->rows, &e->cap_rows, e->n_rows + 1,
                      sizeof *e->rows);
        if (rc != COCE_OK)
            return coce_err_set(err, rc, "engine: out of memory");
        feature_store_row *r = &e->rows[e->n_rows++];
        r->asset = ev->asset;
        r->chunk_start = ev->row.chunk_start_ms;
        /* the prepared inputs, exactly what the model is fitted and
         * scored on */
        memcpy(r->v, ev->x, e->n_features * sizeof *r->v);
    }
    if (ev->alerted && !e->warmup)
        return record_alert(e, ev->asset, &ev->row, ev->score,
                            ev->decision_ms, err);
    return COCE_OK;
}

int coce_engine_on_trade(coce_engine *e, const coce_trade *t, coce_err *err)
{
    if (e == NULL || t == NULL || t->asset >= e->n_assets)
        return coce_err_set(err, COCE_EINVAL, "engine: trade of unknown asset");
    if (e->started && t->time_ms < e->last_ms)
        return coce_err_set(err, COCE_EORDER,
                            "engine: trade at %lld before %lld",
                            (long long)t->time_ms, (long long)e->last_ms);
    int rc = advance_clock(e, t->time_ms, err);
    if (rc != COCE_OK)
        return rc;
    e->last_ms = t->time_ms;
    if (!e->warmup)
        e->book->last_processed_ms = t->time_ms;
    ++e->stats.trades;
    asset_state *s = &e->a[t->asset];
    s->last_price = t->price;
    e->px[t->asset] = t->price;
    if (s->first_ms == INT64_MIN)
        s->first_ms = t->time_ms;
    s->last_ms = t->time_ms;
    s->bar_last = t->price;
    s->day_volume += t->price * t->qty;

    /* 1. the market trade may fill our working orders */
    if (e->o.feed_trade != NULL && !e->warmup) {
        coce_fill fills[MAX_FILLS];
        size_t n_fills = 0;
        rc = e->o.feed_trade(e->o.venue, t, fills, MAX_FILLS, &n_fills);
        if (rc != COCE_OK)
            return coce_err_set(err, rc, "exchange: %s", coce_strerror(rc));
        rc = apply_fills(e, fills, n_fills, err);
        if (rc == COCE_OK && e->n_sord > 0 && !e->ox_on)
            rc = sleeve_feed(e, t->time_ms, err);
        if (rc != COCE_OK)
            return rc;
    }
    /* 2. trailing-stop high and exits */
    const coce_position *p =
        e->warmup ? NULL : coce_book_position(e->book, t->asset);
    if (p != NULL) {
        e->px[t->asset] = t->price;
        rc = coce_book_mark_one(e->book, t->asset, t->price);
        if (rc != COCE_OK)
            return coce_err_set(err, rc, "book: bad price %g", t->price);
        rc = check_exit(e, t->asset, t->time_ms, err);
        if (rc != COCE_OK)
            return rc;
    }
    /* 3. features -> score -> alert -> entry */
    coce_detector_event ev;
    int emitted = 0;
    rc = coce_detector_push(e->det, t, &ev, &emitted, err);
    if (rc != COCE_OK)
        return coce_err_prefix(err, "features of %s: ", sym(e, t->asset));
    if (emitted)
        rc = on_detector_event(e, &ev, err);
    return rc;
}

int coce_engine_finish(coce_engine *e, coce_err *err)
{
    if (!e->started)
        return COCE_OK;
    int64_t now = e->last_ms;
    int src = sleeve_advance(e, now, err);
    if (src != COCE_OK)
        return src;
    /* cancel everything still working */
    while (e->book->n_orders > 0) {
        coce_open_order *o = &e->book->orders[0];
        const coce_exchange *x = venue_of(e, o->asset);
        (void)x->cancel(x->impl, o->client_id, now, NULL);
        if (!is_option(o->asset)) {
            e->a[o->asset].entry_pending = 0;
            e->a[o->asset].exit_pending = 0;
        }
        (void)coce_book_order_remove(e->book, o->client_id);
    }
    e->n_sord = 0;
    if (e->sleeve_on) {
        src = sleeve_finish(e, now, err);
        if (src != COCE_OK)
            return src;
    }
    /* close positions at the last trade price with the taker fee */
    while (e->o.flatten_at_end && coce_book_position_count(e->book) > 0) {
        const coce_position *p = coce_book_position_at(e->book, 0);
        coce_fill f;
        memset(&f, 0, sizeof f);
        (void)snprintf(f.client_id, sizeof f.client_id, "coce-end-%llu",
                       (unsigned long long)++e->order_seq);
        f.asset = p->asset;
        f.side = COCE_SIDE_SELL;
        f.qty = p->qty;
        f.price = e->a[p->asset].last_price;
        f.fee = f.qty * f.price * e->cfg->execution.taker_fee_bps * 1e-4;
        f.time_ms = now;
        if (grow((void **)&e->fills, &e->cap_fills, e->n_fills + 1,
                 sizeof *e->fills) == COCE_OK) {
            e->fills[e->n_fills].fill = f;
            e->fills[e->n_fills].reason = COCE_REASON_FLATTEN;
            ++e->n_fills;
        }
        int rc = coce_book_apply_fill(e->book, &f, NULL, err);
        if (rc != COCE_OK)
            return rc;
    }
    double equity = mark_equity(e);
    int rc = coce_book_record_equity(e->book, now, equity, err);
    if (rc != COCE_OK)
        return rc;
    if (grow((void **)&e->daily_returns, &e->cap_days, e->n_days + 1,
             sizeof *e->daily_returns) == COCE_OK)
        e->daily_returns[e->n_days++] =
            e->last_equity > 0 ? equity / e->last_equity - 1.0 : 0.0;
    e->last_equity = equity;
    return COCE_OK;
}

const coce_book *coce_engine_book(const coce_engine *e)
{
    return e->book;
}

const coce_engine_stats *coce_engine_get_stats(const coce_engine *e)
{
    return &e->stats;
}

const coce_alert *coce_engine_alerts(const coce_engine *e, size_t *n)
{
    *n = e->n_alerts;
    return e->alerts;
}

const coce_fill_record *coce_engine_fills(const coce_engine *e, size_t *n)
{
    *n = e->n_fills;
    return e->fills;
}

void coce_engine_period(const coce_engine *e, int64_t *first_ms,
                        int64_t *trading_ms, int64_t *last_ms)
{
    *first_ms = e->first_ms;
    *trading_ms = e->trading_ms;
    *last_ms = e->last_ms;
}

void coce_engine_asset_span(const coce_engine *e, coce_asset_id asset,
                            int64_t *first_ms, int64_t *last_ms)
{
    *first_ms = asset < e->n_assets ? e->a[asset].first_ms : INT64_MIN;
    *last_ms = asset < e->n_assets ? e->a[asset].last_ms : INT64_MIN;
}

const coce_engine_sleeve_report *coce_engine_sleeve(const coce_engine *e)
{
    if (!e->sleeve_on)
        return NULL;
    coce_engine_sleeve_report *r = (coce_engine_sleeve_report *)&e->srep;
    r->day_ms = e->sday_ms;
    r->day_pnl_base = e->sday_pnl;
    r->n_days = e->n_sday;
    r->premium_at_risk_base = sleeve_value_base(e);
    r->pnl_base = e->sleeve_flow_base + r->premium_at_risk_base;
    return r;
}

const coce_pump_model *coce_engine_model(const coce_engine *e)
{
    return e->have_model ? &e->model : NULL;
}
