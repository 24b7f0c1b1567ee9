#include "agent/engine_internal.h"

#include "alpha/detector.h"
#include "alpha/features.h"
#include "alpha/labels.h"
#include "network_analysis/consensus.h"
#include "network_analysis/covariance.h"
#include "network_analysis/louvain.h"
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
/* A pump's label is taken as known this long after its onset (the pump is
 * over and announced): the walk-forward trainer never sees it earlier. */
#define LABEL_DELAY_MS HOUR_MS
/* Fitting needs at least this many positive chunks. */
#define MIN_POSITIVES 3
/* Negatives are thinned deterministically beyond this many per fit. */
#define MAX_NEGATIVES 50000

static int advance_clock(coce_engine *e, int64_t t, coce_err *err);
static int check_exit(coce_engine *e, coce_asset_id asset, int64_t now,
                      coce_err *err);
static int on_detector_event(coce_engine *e, const coce_detector_event *ev,
                             coce_err *err);

int coce__engine_grow(void **ptr, size_t *cap, size_t need, size_t size)
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

const char *coce__engine_sym(const coce_engine *e, coce_asset_id asset)
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
        if (coce__engine_grow((void **)&e->daily_returns, &e->cap_days,
                              e->n_days + 1,
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
                                  coce__engine_sym(e, (coce_asset_id)i), err);
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
    rc = coce__engine_sleeve_setup(e, opts->sleeve, err);
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

double coce__engine_mark_equity(const coce_engine *e)
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

void coce__engine_record_fill(coce_engine *e, const coce_fill *f)
{
    coce_order_reason reason = COCE_REASON_ENTRY;
    coce_open_order *o = coce_book_order_find(e->book, f->client_id);
    if (o != NULL)
        reason = o->reason;
    if (coce__engine_grow((void **)&e->fills, &e->cap_fills, e->n_fills + 1,
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

int coce__engine_apply_fills(coce_engine *e, const coce_fill *fills, size_t n,
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
        coce__engine_record_fill(e, f);
        /* With a journal the fill is journalled first, then applied: the
         * book never holds a fill the journal lacks. */
        int rc =
            e->o.journal != NULL
                ? coce_journal_record_fill(e->o.journal, e->book, f,
                                           coce__engine_sym(e, f->asset), err)
                : coce_book_apply_fill(e->book, f,
                                       coce__engine_sym(e, f->asset), err);
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
        coce_log(COCE_LOG_DEBUG, "engine", "fill",
                 "{s:s, s:s, s:s, s:f, s:f, s:f}", "client_id", f->client_id,
                 "asset", coce__engine_sym(e, f->asset), "side",
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

int coce__engine_journal_event(coce_engine *e, coce_journal_kind kind,
                               const char *client_id, int64_t now,
                               const char *note, coce_err *err)
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
int coce__engine_place_order(coce_engine *e, coce_asset_id asset, int8_t side,
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
                                coce__engine_sym(e, asset), qty);
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
        rc = coce_journal_append_intent(e->o.journal, &in,
                                        coce__engine_sym(e, asset), NULL, err);
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
        return coce__engine_journal_event(e, COCE_JOURNAL_UNKNOWN, in.client_id,
                                          now, xerr.msg, err);
    }
    if (rc != COCE_OK) {
        (void)coce_book_order_remove(e->book, in.client_id);
        int jrc = coce__engine_journal_event(e, COCE_JOURNAL_REJECTED,
                                             in.client_id, now, xerr.msg, err);
        if (jrc != COCE_OK)
            return jrc;
        coce_log(COCE_LOG_WARN, "engine", "order_rejected", "{s:s, s:s, s:s}",
                 "client_id", in.client_id, "asset", coce__engine_sym(e, asset),
                 "why", xerr.msg);
        if (err != NULL)
            *err = xerr;
        return rc;
    }
    rc = coce__engine_journal_event(e, COCE_JOURNAL_SENT, in.client_id, now,
                                    NULL, err);
    if (rc != COCE_OK)
        return rc;
    (void)coce_book_order_update(e->book, in.client_id, COCE_ORDER_OPEN,
                                 0.0);
    set_pending(e, asset, side);
    coce_log(COCE_LOG_INFO, "engine", "order", "{s:s, s:s, s:s, s:f, s:s}",
             "client_id", in.client_id, "asset", coce__engine_sym(e, asset),
             "side", side > 0 ? "buy" : "sell", "qty", qty, "reason",
             coce_order_reason_name(reason));
    double notional =
        qty * (is_option(asset) ? in.limit_price : e->a[asset].last_price);
    if (notional >= e->cfg->notify.slack_min_trade_notional)
        notify(e, 0, "COCE %s %s %.8g %s (%.6g %s notional), reason %s",
               in.client_id, side > 0 ? "buys" : "sells", qty,
               coce__engine_sym(e, asset), notional, e->cfg->run.base_currency,
               coce_order_reason_name(reason));
    return on_ovenue(e, asset)
               ? coce__engine_opt_fills(e, fills, n_fills, now, err)
               : coce__engine_apply_fills(e, fills, n_fills, err);
}

static int place(coce_engine *e, coce_asset_id asset, int8_t side, double qty,
                 coce_order_reason reason, int64_t now, coce_err *err)
{
    return coce__engine_place_order(e, asset, side, qty, 0.0, reason, now, NULL,
                                    err);
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
                     "{s:s, s:I, s:I}", "asset",
                     coce__engine_sym(e, (coce_asset_id)idx[j]), "returns",
                     (json_int_t)valid, "min_bars", (json_int_t)min_bars);
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
                json_object_set_new(clusters,
                                    coce__engine_sym(e, (coce_asset_id)idx[j]),
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
                     "asset", coce__engine_sym(e, p->asset), "why",
                     coce_strerror(rc));
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

static int cancel_entries(coce_engine *e, int64_t now, coce_err *err)
{
    for (size_t i = 0; i < e->book->n_orders; ++i) {
        coce_open_order *o = &e->book->orders[i];
        if (o->side <= 0)
            continue;
        if (on_ovenue(e, o->asset)) {
            int orc = coce__engine_cancel_option(e, o, now, err);
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
    double equity = coce__engine_mark_equity(e);
    int rc = coce_book_record_equity(e->book, now, equity, err);
    if (rc == COCE_OK)
        rc = coce__engine_sleeve_day_close(e, now, err);
    if (rc != COCE_OK)
        return rc;
    rc = coce__engine_grow((void **)&e->daily_returns, &e->cap_days,
                           e->n_days + 1, sizeof *e->daily_returns);
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
    int rc = coce__engine_journal_event(e, kind, client_id, now, note, err);
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
        rc = options ? coce__engine_opt_fills(e, fills, n, now, err)
                     : coce__engine_apply_fills(e, fills, n, err);
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
            rc = coce__engine_journal_event(e, COCE_JOURNAL_ACK, id, now, note,
                                            err);
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

int coce_engine_settle_orders(coce_engine *e, int64_t now, coce_err *err)
{
    if (e == NULL)
        return coce_err_set(err, COCE_EINVAL, "engine: NULL");
    int rc = COCE_OK;
    if (live_venue(e))
        rc = settle_venue(e, &e->o.exchange, 0, now, err);
    if (rc == COCE_OK && e->ox_on) {
        rc = coce__engine_opt_flush(e, now, err);
        if (rc == COCE_OK)
            rc = settle_venue(e, &e->ox, 1, now, err);
        coce__engine_sord_sweep(e);
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
    int rc = e->warmup ? COCE_OK : coce__engine_sleeve_advance(e, at, err);
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
    double premium = e->sleeve_on ? coce__engine_sleeve_value_base(e) : 0.0;
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
                     "{s:s, s:f, s:f, s:f, s:f}", "asset",
                     coce__engine_sym(e, asset), "var", var, "premium_at_risk",
                     premium, "floor", cfg->guardrails.var_floor * equity,
                     "scale", scale);
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
                     "{s:s, s:f, s:f, s:f}", "asset",
                     coce__engine_sym(e, asset), "avg_short", avg_s, "avg_long",
                     avg_l, "scale", scale);
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
    double equity = coce__engine_mark_equity(e);
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
             coce__engine_sym(e, asset), "score", score, "requested", requested,
             "allowed", allowed, "scale_drawdown", gd.scale_drawdown,
             "scale_var", gd.scale_var, "scale_corr", gd.scale_corr, "adv_cut",
             gd.adv_cut != 0, "binding_rule", gd.binding_rule);
    if (allowed < requested * (1.0 - 1e-9))
        notify(e, 0,
               "COCE guardrail cut on %s: %.6g -> %.6g (binding: %s; scales "
               "drawdown %.3f, VaR %.3f, corr %.3f%s)",
               coce__engine_sym(e, asset), requested, allowed, gd.binding_rule,
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
        coce_log(COCE_LOG_WARN, "engine", "exit_refused", "{s:s, s:s}", "asset",
                 coce__engine_sym(e, asset), "why", coce_strerror(rc));
        return COCE_OK;
    }
    return rc;
}

static int record_alert(coce_engine *e, coce_asset_id asset,
                        const coce_feature_row *row, double score,
                        int64_t now, coce_err *err)
{
    int rc = coce__engine_grow((void **)&e->alerts, &e->cap_alerts,
                               e->n_alerts + 1, sizeof *e->alerts);
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
             coce__engine_sym(e, asset), "chunk_start_ms",
             (json_int_t)row->chunk_start_ms, "score", score);
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
        int rc = coce__engine_grow((void **)&e->rows, &e->cap_rows,
                                   e->n_rows + 1, sizeof *e->rows);
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
        rc = coce__engine_apply_fills(e, fills, n_fills, err);
        if (rc == COCE_OK && e->n_sord > 0 && !e->ox_on)
            rc = coce__engine_sleeve_feed(e, t->time_ms, err);
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
        return coce_err_prefix(
            err, "features of %s: ", coce__engine_sym(e, t->asset));
    if (emitted)
        rc = on_detector_event(e, &ev, err);
    return rc;
}

int coce_engine_finish(coce_engine *e, coce_err *err)
{
    if (!e->started)
        return COCE_OK;
    int64_t now = e->last_ms;
    int src = coce__engine_sleeve_advance(e, now, err);
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
        src = coce__engine_sleeve_finish(e, now, err);
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
        if (coce__engine_grow((void **)&e->fills, &e->cap_fills, e->n_fills + 1,
                              sizeof *e->fills) == COCE_OK) {
            e->fills[e->n_fills].fill = f;
            e->fills[e->n_fills].reason = COCE_REASON_FLATTEN;
            ++e->n_fills;
        }
        int rc = coce_book_apply_fill(e->book, &f, NULL, err);
        if (rc != COCE_OK)
            return rc;
    }
    double equity = coce__engine_mark_equity(e);
    int rc = coce_book_record_equity(e->book, now, equity, err);
    if (rc != COCE_OK)
        return rc;
    if (coce__engine_grow((void **)&e->daily_returns, &e->cap_days,
                          e->n_days + 1, sizeof *e->daily_returns) == COCE_OK)
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

const coce_pump_model *coce_engine_model(const coce_engine *e)
{
    return e->have_model ? &e->model : NULL;
}
