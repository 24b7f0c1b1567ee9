#include "agent/sim.h"

#include "agent/engine.h"
#include "agent/report.h"
#include "options/sleeve.h"
#include "alpha/pump_model.h"
#include "data_ingest/events.h"
#include "data_ingest/replay.h"
#include "data_ingest/synth.h"
#include "data_ingest/trades.h"
#include "execution/paper.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/state_file.h"
#include "utils/fsutil.h"
#include "utils/log.h"
#include "utils/notify.h"
#include "utils/progress.h"
#include "utils/symbols.h"

#include <errno.h>
#include <signal.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAY_MS INT64_C(86400000)

static volatile sig_atomic_t stop_requested;

void coce_sim_request_stop(void)
{
    stop_requested = 1;
}

static void iso(int64_t ms, char *buf, size_t len)
{
    if (ms == INT64_MIN || coce_trade_format_time(ms, buf, len) != COCE_OK)
        (void)snprintf(buf, len, "-");
}

/* The default market: generated once per parameter set, reused after. It is
 * generated into a temporary directory and renamed into place, so a half
 * written market is never reused. */
static int ensure_market(const coce_config *cfg, char *dir, size_t len,
                         coce_err *err)
{
    int n = snprintf(dir, len, "%s/a%lld-d%lld-k%lld-p%lld-t%lld-s%lld",
                     cfg->sim.market_dir, (long long)cfg->sim.assets,
                     (long long)cfg->sim.days, (long long)cfg->sim.sectors,
                     (long long)cfg->sim.pumps,
                     (long long)cfg->sim.trades_per_day,
                     (long long)cfg->sim.seed);
    if (n < 0 || (size_t)n >= len)
        return coce_err_set(err, COCE_EINVAL, "sim.market_dir: path too long");
    char manifest[1200];
    (void)snprintf(manifest, sizeof manifest, "%s/manifest.json", dir);
    if (coce_fs_exists(manifest)) {
        coce_log(COCE_LOG_INFO, "sim", "market_reused", "{s:s}", "dir", dir);
        return COCE_OK;
    }
    coce_synth_opts so;
    coce_synth_opts_default(&so);
    so.n_assets = (size_t)cfg->sim.assets;
    so.days = (size_t)cfg->sim.days;
    so.n_sectors = (size_t)cfg->sim.sectors;
    so.n_pumps = (size_t)cfg->sim.pumps;
    so.seed = (uint64_t)cfg->sim.seed;
    so.trades_per_day = cfg->sim.trades_per_day;
    char tmp[1200];
    (void)snprintf(tmp, sizeof tmp, "%s.tmp-%ld", dir, (long)getpid());
    int rc = coce_fs_mkdir_p(tmp);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "%s: cannot create directory", tmp);
    rc = coce_synth_generate(&so, tmp, err);
    if (rc != COCE_OK)
        return rc;
    if (rename(tmp, dir) != 0)
        return coce_err_set(err, COCE_EIO, "%s: cannot rename to %s: %s", tmp,
                            dir, strerror(errno));
    coce_log(COCE_LOG_INFO, "sim", "market_generated", "{s:s}", "dir", dir);
    return COCE_OK;
}

/* Events to score alerts against and to label the walk-forward model:
 * data.events, else the market's ground_truth.csv (pumps only), else one
 * event per trade file named SYMBOL_YYYY-MM-DD_HH.MM.csv[.gz]. */
static int load_events(const coce_config *cfg, const char *dir,
                       char *const *paths, size_t n_paths, coce_event **ev,
                       size_t *n_ev, coce_err *err)
{
    *ev = NULL;
    *n_ev = 0;
    char gt[1200];
    (void)snprintf(gt, sizeof gt, "%s/ground_truth.csv", dir);
    const char *path = cfg->data.events[0] != '\0' ? cfg->data.events
                       : coce_fs_exists(gt)        ? gt
                                                   : NULL;
    if (path != NULL) {
        int rc = coce_events_load(path, ev, n_ev, err);
        if (rc != COCE_OK)
            return rc;
        return coce_events_dedupe(*ev, n_ev, 10 * 60 * 1000);
    }
    coce_event *list = calloc(n_paths > 0 ? n_paths : 1, sizeof *list);
    if (list == NULL)
        return coce_err_set(err, COCE_ENOMEM, "events: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n_paths; ++i) {
        int64_t t;
        if (coce_trade_filename_parse(paths[i], list[k].symbol,
                                      sizeof list[k].symbol, &t) == COCE_OK &&
            t != INT64_MIN) {
            list[k].time_ms = t;
            list[k].onset_ms = INT64_MIN;
            ++k;
        }
    }
    *ev = list;
    *n_ev = k;
    return COCE_OK;
}

static int paper_place(void *impl, const coce_order_intent *intent,
                       int64_t now_ms, coce_fill *fills, size_t cap,
                       size_t *n_fills, coce_err *err)
{
    coce_exchange x = coce_paper_exchange(impl);
    return x.place(x.impl, intent, now_ms, fills, cap, n_fills, err);
}

static int paper_feed(void *venue, const coce_trade *t, coce_fill *fills,
                      size_t cap, size_t *n_fills)
{
    return coce_paper_on_trade(venue, t, fills, cap, n_fills);
}

static int paper_liquidity(void *venue, coce_asset_id asset, double adv,
                           double sigma)
{
    return coce_paper_set_liquidity(venue, asset, adv, sigma, NULL);
}

/* ---- report files --------------------------------------------------------- */

static FILE *open_report(const char *dir, const char *name, coce_err *err)
{
    char path[1200];
    (void)snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "we");
    if (f == NULL)
        coce_err_set(err, COCE_EIO, "%s: %s", path, strerror(errno));
    return f;
}

static int close_report(FILE *f, const char *name, coce_err *err)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return coce_err_set(err, COCE_EIO, "%s: write failed", name);
    return COCE_OK;
}

static int write_fills(const char *dir, const coce_engine *e,
                       const coce_symbols *symbols, coce_err *err)
{
    FILE *f = open_report(dir, "fills.csv", err);
    if (f == NULL)
        return COCE_EIO;
    size_t n = 0;
    const coce_fill_record *fills = coce_engine_fills(e, &n);
    fprintf(f, "time_ms,client_id,symbol,side,qty,price,fee,reason\n");
    for (size_t i = 0; i < n; ++i) {
        const coce_fill *x = &fills[i].fill;
        const char *name = coce_symbols_name(symbols, x->asset);
        if (name == NULL) /* an option of the sleeve */
            name = coce_book_symbol(coce_engine_book(e), x->asset);
        fprintf(f, "%lld,%s,%s,%s,%.17g,%.17g,%.17g,%s\n",
                (long long)x->time_ms, x->client_id, name ? name : "?",
                x->side > 0 ? "buy" : "sell", x->qty, x->price, x->fee,
                coce_order_reason_name(fills[i].reason));
    }
    return close_report(f, "fills.csv", err);
}

static int write_trades(const char *dir, const coce_book *b, coce_err *err)
{
    FILE *f = open_report(dir, "trades.csv", err);
    if (f == NULL)
        return COCE_EIO;
    fprintf(f, "symbol,entry_ms,exit_ms,qty,entry_price,exit_price,pnl\n");
    for (size_t i = 0; i < b->n_trades; ++i) {
        const coce_closed_trade *t = &b->trades[i];
        fprintf(f, "%s,%lld,%lld,%.17g,%.17g,%.17g,%.17g\n", t->symbol,
                (long long)t->entry_ms, (long long)t->exit_ms, t->qty,
                t->entry_price, t->exit_price, t->pnl);
    }
    return close_report(f, "trades.csv", err);
}

static int write_equity(const char *dir, const coce_book *b, coce_err *err)
{
    FILE *f = open_report(dir, "equity.csv", err);
    if (f == NULL)
        return COCE_EIO;
    fprintf(f, "time_ms,equity\n");
    for (size_t i = 0; i < b->n_equity; ++i)
        fprintf(f, "%lld,%.17g\n", (long long)b->equity[i].time_ms,
                b->equity[i].equity);
    return close_report(f, "equity.csv", err);
}

static int write_alerts(const char *dir, const coce_engine *e,
                        const coce_symbols *symbols, coce_err *err)
{
    FILE *f = open_report(dir, "alerts.csv", err);
    if (f == NULL)
        return COCE_EIO;
    size_t n = 0;
    const coce_alert *a = coce_engine_alerts(e, &n);
    fprintf(f, "symbol,timestamp,chunk_start,score,entered,note\n");
    for (size_t i = 0; i < n; ++i)
        fprintf(f, "%s,%lld,%lld,%.17g,%d,%s\n",
                coce_symbols_name(symbols, a[i].asset), (long long)a[i].time_ms,
                (long long)a[i].chunk_start_ms, a[i].score, a[i].entered,
                a[i].note);
    return close_report(f, "alerts.csv", err);
}

/* ---- summary figures ---------------------------------------------------- */

static void score_alerts(const coce_engine *e, const coce_symbols *symbols,
                         const coce_event *ev, size_t n_ev, int64_t from,
                         int64_t to, coce_sim_result *r)
{
    size_t n_alerts = 0;
    const coce_alert *a = coce_engine_alerts(e, &n_alerts);
    r->alerts = n_alerts;
    r->events = 0;
    r->events_alerted = 0;
    for (size_t i = 0; i < n_ev; ++i) {
        coce_asset_id id;
        if (ev[i].time_ms < from || ev[i].time_ms > to ||
            coce_symbols_find(symbols, ev[i].symbol, &id) != COCE_OK)
            continue;
        ++r->events;
        for (size_t j = 0; j < n_alerts; ++j)
            if (a[j].asset == id &&
                a[j].time_ms >= ev[i].time_ms - COCE_SIM_MATCH_BEFORE_MS &&
                a[j].time_ms <= ev[i].time_ms + COCE_SIM_MATCH_AFTER_MS) {
                ++r->events_alerted;
                break;
            }
    }
    r->false_alerts = 0;
    for (size_t j = 0; j < n_alerts; ++j) {
        int matched = 0;
        for (size_t i = 0; i < n_ev && !matched; ++i) {
            coce_asset_id id;
            matched = coce_symbols_find(symbols, ev[i].symbol, &id) == COCE_OK &&
                      a[j].asset == id &&
                      a[j].time_ms >= ev[i].time_ms - COCE_SIM_MATCH_BEFORE_MS &&
                      a[j].time_ms <= ev[i].time_ms + COCE_SIM_MATCH_AFTER_MS;
        }
        r->false_alerts += !matched;
    }
    /* Coin-days: for each asset, the part of [from, to] it traded in. */
    r->coin_days = 0;
    for (size_t i = 0; i < r->assets; ++i) {
        int64_t first, last;
        coce_engine_asset_span(e, (coce_asset_id)i, &first, &last);
        if (first == INT64_MIN)
            continue;
        int64_t lo = first > from ? first : from, hi = last < to ? last : to;
        if (hi > lo)
            r->coin_days += (double)(hi - lo) / (double)DAY_MS;
    }
    r->false_alerts_per_coin_day =
        r->coin_days > 0 ? (double)r->false_alerts / r->coin_days : 0.0;
}

/* Sharpe of daily equity returns from the first trading day on (mean over
 * sample std, ddof 1, two-pass, times sqrt(annualisation)); max drawdown
 * from the running peak of the equity series. */
static void performance(const coce_book *b, int64_t trading_ms, double ann,
                        double initial, coce_sim_result *r)
{
    double prev = initial, peak = initial, mdd = 0, sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < b->n_equity; ++i) {
        double eq = b->equity[i].equity;
        if (eq > peak)
            peak = eq;
        if (peak > 0 && (peak - eq) / peak > mdd)
            mdd = (peak - eq) / peak;
        if (trading_ms != INT64_MIN && b->equity[i].time_ms > trading_ms &&
            prev > 0) {
            sum += eq / prev - 1.0;
            ++n;
        }
        prev = eq;
    }
    r->max_drawdown = mdd;
    r->sharpe = NAN;
    if (n >= 2) {
        double mean = sum / (double)n, ss = 0;
        prev = initial;
        for (size_t i = 0; i < b->n_equity; ++i) {
            double eq = b->equity[i].equity;
            if (b->equity[i].time_ms > trading_ms && prev > 0) {
                double d = eq / prev - 1.0 - mean;
                ss += d * d;
            }
            prev = eq;
        }
        double sd = sqrt(ss / (double)(n - 1));
        r->sharpe = sd > 0 ? mean / sd * sqrt(ann) : NAN;
    }
    size_t wins = 0;
    for (size_t i = 0; i < b->n_trades; ++i)
        wins += b->trades[i].pnl > 0;
    r->round_trips = b->n_trades;
    r->hit_rate = b->n_trades > 0 ? (double)wins / (double)b->n_trades : NAN;
    r->fees = b->fees_paid;
}

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static int write_summary(const char *dir, const coce_sim_result *r,
                         coce_err *err)
{
    char a[40], b[40], c[40];
    iso(r->first_ms, a, sizeof a);
    iso(r->trading_ms, b, sizeof b);
    iso(r->last_ms, c, sizeof c);
    json_t *j = json_object();
    json_object_set_new(j, "run_id", json_string(r->run_id));
    json_object_set_new(j, "market", json_string(r->market));
    json_object_set_new(j, "period_start", json_string(a));
    json_object_set_new(j, "trading_start", json_string(b));
    json_object_set_new(j, "period_end", json_string(c));
    json_object_set_new(j, "first_ms", json_integer(r->first_ms));
    json_object_set_new(j, "trading_ms", r->trading_ms == INT64_MIN
                                             ? json_null()
                                             : json_integer(r->trading_ms));
    json_object_set_new(j, "last_ms", json_integer(r->last_ms));
    json_object_set_new(j, "assets", json_integer((json_int_t)r->assets));
    json_object_set_new(j, "trades_in", json_integer((json_int_t)r->trades_in));
    json_object_set_new(j, "skipped_rows",
                        json_integer((json_int_t)r->skipped_rows));
    json_object_set_new(j, "initial_equity", num(r->initial_equity));
    json_object_set_new(j, "final_equity", num(r->final_equity));
    json_object_set_new(j, "pnl", num(r->pnl));
    json_object_set_new(j, "total_return", num(r->total_return));
    json_object_set_new(j, "sharpe", num(r->sharpe));
    json_object_set_new(j, "max_drawdown", num(r->max_drawdown));
    json_object_set_new(j, "hit_rate", num(r->hit_rate));
    json_object_set_new(j, "fees", num(r->fees));
    json_object_set_new(j, "round_trips",
                        json_integer((json_int_t)r->round_trips));
    json_object_set_new(j, "fills", json_integer((json_int_t)r->fills));
    json_object_set_new(j, "alerts", json_integer((json_int_t)r->alerts));
    json_object_set_new(j, "events", json_integer((json_int_t)r->events));
    json_object_set_new(j, "events_alerted",
                        json_integer((json_int_t)r->events_alerted));
    json_object_set_new(j, "false_alerts",
                        json_integer((json_int_t)r->false_alerts));
    json_object_set_new(j, "coin_days", num(r->coin_days));
    json_object_set_new(j, "false_alerts_per_coin_day",
                        num(r->false_alerts_per_coin_day));
    json_object_set_new(j, "rebalances", json_integer((json_int_t)r->rebalances));
    json_object_set_new(j, "model_fits", json_integer((json_int_t)r->model_fits));
    json_object_set_new(j, "halts", json_integer((json_int_t)r->halts));
    json_object_set_new(j, "halted", json_boolean(r->halted));
    json_object_set_new(j, "interrupted", json_boolean(r->interrupted));
    if (r->sleeve) {
        json_t *sl = json_object();
        json_object_set_new(sl, "buys", json_integer((json_int_t)r->sleeve_buys));
        json_object_set_new(sl, "premium_and_fees_usd",
                            num(r->sleeve_premium_usd));
        json_object_set_new(sl, "pnl_usd", num(r->sleeve_pnl_usd));
        json_object_set_new(sl, "pnl_base", num(r->sleeve_pnl_base));
        json_object_set_new(sl, "pnl_base_on_worst_spot_days",
                            num(r->sleeve_worst_days_base));
        json_object_set_new(j, "sleeve", sl);
    }
    json_object_set_new(j, "halt_reason", json_string(r->halt_reason));
    json_t *cuts = json_object();
    json_object_set_new(cuts, "drawdown", json_integer((json_int_t)r->cuts_drawdown));
    json_object_set_new(cuts, "var", json_integer((json_int_t)r->cuts_var));
    json_object_set_new(cuts, "corr", json_integer((json_int_t)r->cuts_corr));
    json_object_set_new(cuts, "adv", json_integer((json_int_t)r->cuts_adv));
    json_object_set_new(j, "guardrail_cuts", cuts);
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(j);
    if (text == NULL)
        return coce_err_set(err, COCE_ENOMEM, "summary: out of memory");
    char path[1200];
    (void)snprintf(path, sizeof path, "%s/summary.json", dir);
    int rc = coce_fs_write_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}

static int write_manifest(const char *dir, const coce_sim_args *args,
                          const coce_sim_result *r, char *const *paths,
                          size_t n_paths, coce_err *err)
{
    json_t *j = json_object();
    json_object_set_new(j, "run_id", json_string(r->run_id));
    json_object_set_new(j, "version", json_string(COCE_VERSION));
    json_object_set_new(j, "seed", json_integer(args->cfg->run.seed));
    json_object_set_new(j, "config_file", args->config_file != NULL
                                              ? json_string(args->config_file)
                                              : json_null());
    char *cfg_text = NULL;
    if (coce_config_to_json(args->cfg, &cfg_text) == COCE_OK) {
        char hex[65];
        coce_sha256_hex(cfg_text, strlen(cfg_text), hex);
        json_object_set_new(j, "config", json_loads(cfg_text, 0, NULL));
        json_object_set_new(j, "config_sha256", json_string(hex));
        free(cfg_text);
    }
    char model_path[1200], hex[65];
    (void)snprintf(model_path, sizeof model_path, "%s/model.json", dir);
    json_object_set_new(j, "model_sha256",
                        coce_fs_sha256_file(model_path, hex, NULL) == COCE_OK
                            ? json_string(hex)
                            : json_null());
    json_object_set_new(j, "market", json_string(r->market));
    json_t *data = json_object();
    for (size_t i = 0; i < n_paths; ++i) {
        const char *slash = strrchr(paths[i], '/');
        if (coce_fs_sha256_file(paths[i], hex, err) != COCE_OK) {
            json_decref(data);
            json_decref(j);
            return COCE_EIO;
        }
        json_object_set_new(data, slash ? slash + 1 : paths[i],
                            json_string(hex));
    }
    json_object_set_new(j, "data_sha256", data);
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS |
                                   JSON_REAL_PRECISION(17));
    json_decref(j);
    if (text == NULL)
        return coce_err_set(err, COCE_ENOMEM, "manifest: out of memory");
    char path[1200];
    (void)snprintf(path, sizeof path, "%s/manifest.json", dir);
    int rc = coce_fs_write_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}

/* ---- the run ------------------------------------------------------------- */

static int make_report_dir(const coce_sim_args *args, coce_sim_result *r,
                           coce_err *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    (void)snprintf(r->run_id, sizeof r->run_id,
                   "sim-%04d%02d%02dT%02d%02d%02dZ-%ld", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   (long)getpid());
    if (args->out_dir != NULL)
        (void)snprintf(r->report_dir, sizeof r->report_dir, "%s",
                       args->out_dir);
    else
        (void)snprintf(r->report_dir, sizeof r->report_dir, "%s/%s",
                       args->cfg->run.reports_dir, r->run_id);
    char summary[1200];
    (void)snprintf(summary, sizeof summary, "%s/summary.json", r->report_dir);
    if (coce_fs_exists(summary))
        return coce_err_set(err, COCE_EEXIST,
                            "%s: holds another run's report; a simulation "
                            "never resumes or overwrites another run",
                            r->report_dir);
    int rc = coce_fs_mkdir_p(r->report_dir);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "%s: cannot create directory",
                            r->report_dir);
    return COCE_OK;
}

typedef struct sim_ctx {
    coce_symbols *symbols;
    char **paths;
    size_t n_paths;
    coce_event *events;
    size_t n_events;
    coce_replay *replay;
    coce_paper *paper;
    coce_journal *journal;
    coce_engine *engine;
    coce_lock *lock;
    coce_book *resume; /* loaded state.json, handed to the engine */
    int64_t resume_after_ms;
    const coce_config *cfg;
    int paper_mode;
    char state_path[1200];
    char model_path[1200];
    char meta_path[1200]; /* the engine keeps a pointer to it */
    /* --sleeve convex: the underlyings' USD series (BTC first) */
    int64_t *sl_t[COCE_ENGINE_SLEEVE_MAX];
    double *sl_px[COCE_ENGINE_SLEEVE_MAX];
    size_t sl_n[COCE_ENGINE_SLEEVE_MAX];
} sim_ctx;

static void ctx_free(sim_ctx *c)
{
    coce_book_free(c->resume);
    coce_engine_free(c->engine);
    coce_journal_close(c->journal);
    coce_paper_free(c->paper);
    coce_replay_free(c->replay);
    coce_events_free(c->events);
    coce_trade_dir_list_free(c->paths, c->n_paths);
    coce_symbols_free(c->symbols);
    coce_lock_release(c->lock);
    for (size_t u = 0; u < COCE_ENGINE_SLEEVE_MAX; ++u) {
        free(c->sl_t[u]);
        free(c->sl_px[u]);
    }
}

/* Snapshot after each daily close: state.json (atomic) and the model. */
static int snapshot(void *ctx, const coce_book *book, coce_err *err)
{
    sim_ctx *c = ctx;
    if (!c->paper_mode)
        return COCE_OK;
    int rc = coce_state_save(book, c->state_path, err);
    const coce_pump_model *m = c->engine ? coce_engine_model(c->engine) : NULL;
    if (rc == COCE_OK && m != NULL)
        rc = coce_pump_model_save(m, c->model_path, err);
    return rc;
}

/* Paper mode: lock run.data_dir, load state.json (if any), open the
 * durable journal, replay the fills the snapshot has not seen, and settle
 * every unfinished order: the paper venue lives in memory, so an order it
 * had before the restart is gone and is abandoned (journalled as done),
 * never sent twice. */
static int paper_prepare(const coce_config *cfg, sim_ctx *c, coce_err *err)
{
    const char *dir = cfg->run.data_dir;
    int rc = coce_fs_mkdir_p(dir);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "%s: cannot create directory", dir);
    rc = coce_lock_acquire(dir, &c->lock, err);
    if (rc != COCE_OK)
        return rc;
    (void)snprintf(c->state_path, sizeof c->state_path, "%s/state.json", dir);
    (void)snprintf(c->model_path, sizeof c->model_path, "%s/model.json", dir);
    rc = coce_state_load(c->state_path, &c->resume, err);
    if (rc == COCE_ENOTFOUND) {
        c->resume = NULL;
        rc = COCE_OK;
    }
    if (rc != COCE_OK)
        return rc;
    char journal[1200];
    (void)snprintf(journal, sizeof journal, "%s/journal.db", dir);
    rc = coce_journal_open(journal, &c->journal, err);
    if (rc != COCE_OK)
        return rc;
    if (c->resume == NULL) {
        rc = coce_book_new(cfg->strategy.initial_capital, &c->resume);
        if (rc != COCE_OK)
            return coce_err_set(err, rc, "book: out of memory");
    }
    size_t applied = 0;
    rc = coce_journal_replay(c->journal, c->resume, 0, &applied, err);
    if (rc != COCE_OK)
        return rc;
    coce_journal_pending_entry *pending = NULL;
    size_t n_pending = 0;
    rc = coce_journal_pending(c->journal, &pending, &n_pending, err);
    for (size_t i = 0; rc == COCE_OK && i < n_pending; ++i) {
        coce_journal_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = COCE_JOURNAL_DONE;
        ev.time_ms = pending[i].last_time_ms;
        memcpy(ev.client_id, pending[i].intent.client_id, sizeof ev.client_id);
        (void)snprintf(ev.note, sizeof ev.note,
                       "abandoned on restart (%s): the paper venue kept no "
                       "orders",
                       coce_journal_state_text(pending[i].state));
        rc = coce_journal_append(c->journal, &ev, NULL, err);
        (void)coce_book_order_remove(c->resume, pending[i].intent.client_id);
        coce_log(COCE_LOG_WARN, "paper", "order_abandoned", "{s:s, s:s}",
                 "client_id", pending[i].intent.client_id, "state",
                 coce_journal_state_text(pending[i].state));
    }
    free(pending);
    if (rc != COCE_OK)
        return rc;
    /* orders the book still lists without a journal entry are stale too */
    while (c->resume->n_orders > 0)
        (void)coce_book_order_remove(c->resume,
                                     c->resume->orders[0].client_id);
    c->resume_after_ms = c->resume->n_equity > 0 || applied > 0 ||
                                 c->resume->last_processed_ms > 0
                             ? c->resume->last_processed_ms
                             : INT64_MIN;
    coce_log(COCE_LOG_INFO, "paper", "prepared",
             "{s:s, s:I, s:I, s:I, s:b}", "data_dir", dir, "fills_replayed",
             (json_int_t)applied, "orders_abandoned", (json_int_t)n_pending,
             "resume_after_ms", (json_int_t)c->resume_after_ms, "halted",
             c->resume->kill.halted != 0);
    return COCE_OK;
}

/* The resumed book's assets keep their ids: they are interned first, in id
 * order, before any trade file is opened. */
static int intern_book_symbols(const coce_book *b, coce_symbols *symbols,
                               coce_err *err)
{
    for (coce_asset_id id = 0;; ++id) {
        const char *name = coce_book_symbol(b, id);
        if (name == NULL)
            return COCE_OK;
        coce_asset_id got;
        int rc = coce_symbols_intern(symbols, name, &got);
        if (rc != COCE_OK || got != id)
            return coce_err_set(err, COCE_ESTATE,
                                "state.json: asset ids are not dense (%s)",
                                name);
    }
}

static int load_usd_series(const char *path, int64_t **t, double **px,
                           size_t *n, coce_err *err);

/* The in-loop sleeve: the market's BTC/USD and ETH/USD series, the rules
 * of options.*, Deribit's lots (0.1 BTC, 1 ETH); the base currency's USD
 * price from the BTC series (BTC book) or 1 (USD book). */
static int sleeve_opts(const coce_config *cfg, const char *market, sim_ctx *c,
                       coce_engine_sleeve_opts *so, coce_err *err)
{
    static const char *const names[2] = {"BTC", "ETH"};
    static const char *const files[2] = {"btc_usd.csv", "eth_usd.csv"};
    const char *base = cfg->run.base_currency;
    int usd_base = strcmp(base, "USD") == 0 || strcmp(base, "USDT") == 0 ||
                   strcmp(base, "USDC") == 0;
    if (!usd_base && strcmp(base, "BTC") != 0)
        return coce_err_set(err, COCE_ECONFIG,
                            "run.base_currency: the options sleeve needs BTC "
                            "or USD/USDT/USDC, not '%s'",
                            base);
    memset(so, 0, sizeof *so);
    for (size_t u = 0; u < 2; ++u) {
        if (u > 0 && strstr(cfg->options.underlyings, names[u]) == NULL)
            continue; /* BTC is always read: the base currency's price */
        char path[1200];
        (void)snprintf(path, sizeof path, "%s/%s", market, files[u]);
        int rc = load_usd_series(path, &c->sl_t[u], &c->sl_px[u], &c->sl_n[u],
                                 err);
        if (rc == COCE_ENOTFOUND)
            return coce_err_set(err, COCE_ENOTFOUND,
                                "--sleeve convex needs %s beside the trade "
                                "files in %s, as `coce synth` writes it",
                                files[u], market);
        if (rc == COCE_OK && c->sl_n[u] < 2)
            rc = coce_err_set(err, COCE_EDATA, "%s: fewer than 2 prices",
                              path);
        if (rc != COCE_OK)
            return rc;
        if (strstr(cfg->options.underlyings, names[u]) == NULL)
            continue;
        coce_engine_underlying *un = &so->u[so->n_u++];
        (void)snprintf(un->name, sizeof un->name, "%s", names[u]);
        un->t_ms = c->sl_t[u];
        un->px = c->sl_px[u];
        un->n = c->sl_n[u];
        coce_sleeve_cfg_default(&un->cfg);
        rc = coce_sleeve_rules_from_config(cfg, &un->cfg.rules, err);
        if (rc != COCE_OK)
            return rc;
        un->cfg.vol_window_days = (double)cfg->options.vol_window_days;
        un->cfg.min_trade_amount = u == 0 ? 0.1 : 1.0; /* Deribit lots */
    }
    if (so->n_u == 0)
        return coce_err_set(err, COCE_ECONFIG,
                            "options.underlyings: '%s' names neither BTC nor "
                            "ETH",
                            cfg->options.underlyings);
    if (!usd_base) {
        so->base_t_ms = c->sl_t[0];
        so->base_px = c->sl_px[0];
        so->base_n = c->sl_n[0];
    }
    return COCE_OK;
}

static int setup(const coce_sim_args *args, coce_sim_result *r, sim_ctx *c,
                 coce_err *err)
{
    const coce_config *cfg = args->cfg;
    int rc;
    if (cfg->data.trades_dir[0] != '\0')
        (void)snprintf(r->market, sizeof r->market, "%s", cfg->data.trades_dir);
    else if ((rc = ensure_market(cfg, r->market, sizeof r->market, err)) !=
             COCE_OK)
        return rc;
    /* A generated market keeps its trade files under trades/, beside its
     * ground truth and other series. */
    char trades_dir[1200];
    (void)snprintf(trades_dir, sizeof trades_dir, "%s/trades", r->market);
    struct stat st;
    const char *list_dir = stat(trades_dir, &st) == 0 && S_ISDIR(st.st_mode)
                               ? trades_dir
                               : r->market;
    rc = coce_trade_dir_list(list_dir, &c->paths, &c->n_paths, err);
    if (rc != COCE_OK)
        return rc;
    if (c->n_paths == 0)
        return coce_err_set(err, COCE_ENOTFOUND,
                            "%s: no trade files (*.csv, *.csv.gz)", r->market);
    rc = load_events(cfg, r->market, c->paths, c->n_paths, &c->events,
                     &c->n_events, err);
    if (rc != COCE_OK)
        return rc;
    rc = coce_symbols_new(&c->symbols);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "symbols: out of memory");
    if (c->paper_mode) {
        rc = paper_prepare(cfg, c, err);
        if (rc == COCE_OK)
            rc = intern_book_symbols(c->resume, c->symbols, err);
        if (rc != COCE_OK)
            return rc;
    }
    coce_trade_reader_opts ro = {cfg->data.skip_bad_rows, 0};
    rc = coce_replay_open(&c->replay, c->paths, c->n_paths, c->symbols, &ro,
                          err);
    if (rc != COCE_OK)
        return rc;
    coce_paper_opts po;
    coce_paper_opts_default(&po);
    po.maker_fee_bps = cfg->execution.maker_fee_bps;
    po.taker_fee_bps = cfg->execution.taker_fee_bps;
    po.impact_coef = cfg->execution.impact_coef;
    po.participation = cfg->execution.max_participation;
    po.latency_ms = cfg->execution.latency_ms;
    po.initial_cash = cfg->strategy.initial_capital;
    rc = coce_paper_new(&po, &c->paper, err);
    if (rc != COCE_OK)
        return rc;
    coce_engine_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.cfg = cfg;
    eo.symbols = c->symbols;
    eo.exchange = coce_paper_exchange(c->paper);
    eo.feed_trade = paper_feed;
    eo.set_liquidity = paper_liquidity;
    eo.venue = c->paper;
    (void)snprintf(c->meta_path, sizeof c->meta_path, "%s/meta_events.jsonl",
                   r->report_dir);
    eo.meta_events_path = c->meta_path;
    eo.run_id = r->run_id;
    /* The simulation journals its orders exactly as paper/live runs do
     * (the same code path), in its own report directory. */
    if (!c->paper_mode) {
        char journal[1200];
        (void)snprintf(journal, sizeof journal, "%s/journal.db",
                       r->report_dir);
        rc = coce_journal_open(journal, &c->journal, err);
        if (rc == COCE_OK)
            rc = coce_journal_set_durable(c->journal, 0, err);
        if (rc != COCE_OK)
            return rc;
        eo.client_tag = "sim";
    } else {
        (void)snprintf(c->meta_path, sizeof c->meta_path,
                       "%s/meta_events.jsonl", cfg->run.logs_dir);
        rc = coce_fs_mkdir_p(cfg->run.logs_dir);
        if (rc != COCE_OK)
            return coce_err_set(err, rc, "%s: cannot create directory",
                                cfg->run.logs_dir);
        eo.book = c->resume;
        c->resume = NULL; /* the engine owns it now */
    }
    eo.journal = c->journal;
    eo.notifier = args->notifier;
    eo.on_day_close = snapshot;
    eo.ctx = c;
    eo.flatten_at_end = !c->paper_mode;
    (void)paper_place;
    coce_engine_sleeve_opts so;
    if (args->convex_sleeve) {
        rc = sleeve_opts(cfg, r->market, c, &so, err);
        if (rc != COCE_OK)
            return rc;
        eo.sleeve = &so;
    }
    rc = coce_engine_new(&c->engine, &eo, err);
    if (rc != COCE_OK)
        return rc;
    rc = coce_engine_set_events(c->engine, c->events, c->n_events, err);
    if (rc == COCE_OK && cfg->model.path[0] != '\0') {
        coce_pump_model model;
        rc = coce_pump_model_load(cfg->model.path, &model, err);
        if (rc == COCE_OK)
            rc = coce_engine_set_model(c->engine, &model, err);
    } else if (rc == COCE_OK && c->paper_mode && coce_fs_exists(c->model_path)) {
        /* resume with the model this data directory last saved */
        coce_pump_model model;
        rc = coce_pump_model_load(c->model_path, &model, err);
        if (rc == COCE_OK)
            rc = coce_engine_set_initial_model(c->engine, &model, err);
    }
    return rc;
}

/* ---- the convexity sleeve -------------------------------------------------- */

/* Reads `time_ms,price` (the generated market's btc_usd.csv / eth_usd.csv). */
static int load_usd_series(const char *path, int64_t **t, double **px,
                           size_t *n, coce_err *err)
{
    char *text = NULL;
    int rc = coce_fs_read_all(path, &text, NULL, err);
    if (rc != COCE_OK)
        return rc;
    size_t cap = 1024, k = 0, line = 0;
    *t = calloc(cap, sizeof **t);
    *px = calloc(cap, sizeof **px);
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l != NULL && rc == COCE_OK;
         l = strtok_r(NULL, "\n", &save)) {
        if (++line == 1)
            continue; /* header */
        if (k == cap) {
            cap *= 2;
            int64_t *nt = realloc(*t, cap * sizeof *nt);
            double *np = realloc(*px, cap * sizeof *np);
            if (nt != NULL)
                *t = nt;
            if (np != NULL)
                *px = np;
            if (nt == NULL || np == NULL)
                rc = coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
        }
        if (rc != COCE_OK)
            break;
        if (*t == NULL || *px == NULL) {
            rc = coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
            break;
        }
        char *end = NULL;
        long long ms = strtoll(l, &end, 10);
        double p = end != NULL && *end == ',' ? strtod(end + 1, &end) : NAN;
        if (end == NULL || (*end != '\0' && *end != '\r') || !(p > 0)) {
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s:%zu: expected time_ms,price (price > 0)",
                              path, line);
            break;
        }
        (*t)[k] = ms;
        (*px)[k++] = p;
    }
    free(text);
    *n = k;
    if (rc != COCE_OK) {
        free(*t);
        free(*px);
        *t = NULL;
        *px = NULL;
    }
    return rc;
}

/* Spot value (USD) at time t: the last sample at or before t. */
static double usd_at(const int64_t *t, const double *px, size_t n, int64_t at)
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

static json_t *leg_json(const char *name, const coce_sleeve_result *res)
{
    json_t *leg = json_object();
    json_object_set_new(leg, "underlying", json_string(name));
    json_object_set_new(leg, "premium_usd", num(res->premium_usd));
    json_object_set_new(leg, "fees_usd", num(res->fees_usd));
    json_object_set_new(leg, "proceeds_usd", num(res->proceeds_usd));
    json_object_set_new(leg, "final_value_usd", num(res->final_value_usd));
    json_object_set_new(leg, "pnl_usd", num(res->pnl_usd));
    json_object_set_new(leg, "pnl_coin", num(res->pnl_coin));
    json_object_set_new(leg, "max_period_spend_usd",
                        num(res->max_period_spend_usd));
    json_object_set_new(leg, "buys", json_integer((json_int_t)res->n_buys));
    json_object_set_new(leg, "rolls", json_integer((json_int_t)res->n_rolls));
    json_object_set_new(leg, "settled_itm",
                        json_integer((json_int_t)res->n_settled_itm));
    json_object_set_new(leg, "settled_otm",
                        json_integer((json_int_t)res->n_settled_otm));
    json_object_set_new(leg, "open_at_end",
                        json_integer((json_int_t)res->n_open));
    return leg;
}

/* Cumulative sleeve PnL (base) at time t: the last daily close at or before
 * t, the final figure after the last close. */
static double sleeve_cum_at(const coce_engine_sleeve_report *s, int64_t t,
                            int final)
{
    if (final)
        return s->pnl_base;
    double v = 0;
    for (size_t i = 0; i < s->n_days && s->day_ms[i] <= t; ++i)
        v = s->day_pnl_base[i];
    return v;
}

/* The sleeve's summary from the engine's in-loop results: premium spent,
 * PnL, and what it earned on the spot book's worst days (the book's daily
 * equity changes less the sleeve's own). sleeve.json also keeps the
 * standalone back-test of the same series (coce_sleeve_run with the
 * initial equity) beside the in-loop figures. */
static int run_sleeve(const coce_config *cfg, const coce_engine *eng,
                      const coce_book *b, const sim_ctx *c,
                      coce_sim_result *r, coce_err *err)
{
    const coce_engine_sleeve_report *s = coce_engine_sleeve(eng);
    if (s == NULL)
        return coce_err_set(err, COCE_EINVAL, "sleeve: not running");
    const int64_t *bt = c->sl_t[0];
    const double *bpx = c->sl_px[0];
    size_t bn = c->sl_n[0];
    int usd_base = strcmp(cfg->run.base_currency, "BTC") != 0;
    /* the spot book's worst days */
    enum { WORST = 3 };
    int64_t worst_t[WORST] = {0};
    double worst_r[WORST] = {0}, worst_s[WORST] = {0};
    size_t n_worst = 0;
    for (size_t i = 1; i < b->n_equity; ++i) {
        int fin = i + 1 == b->n_equity;
        double ds = sleeve_cum_at(s, b->equity[i].time_ms, fin) -
                    sleeve_cum_at(s, b->equity[i - 1].time_ms, 0);
        double ret = (b->equity[i].equity - b->equity[i - 1].equity - ds) /
                     b->equity[i - 1].equity;
        size_t pos = n_worst < WORST ? n_worst++ : WORST;
        if (pos == WORST && ret >= worst_r[WORST - 1])
            continue;
        if (pos == WORST)
            pos = WORST - 1;
        while (pos > 0 && worst_r[pos - 1] > ret) {
            worst_r[pos] = worst_r[pos - 1];
            worst_t[pos] = worst_t[pos - 1];
            worst_s[pos] = worst_s[pos - 1];
            --pos;
        }
        worst_r[pos] = ret;
        worst_t[pos] = b->equity[i].time_ms;
        worst_s[pos] = ds;
    }
    json_t *j = json_object();
    json_t *legs = json_array();
    json_t *bt_legs = json_array();
    int rc = COCE_OK;
    double equity_usd = cfg->strategy.initial_capital *
                        (usd_base ? 1.0 : bpx[0]);
    for (size_t u = 0; u < s->n_u && rc == COCE_OK; ++u) {
        const coce_sleeve_result *res = &s->res[u];
        json_array_append_new(legs, leg_json(s->names[u], res));
        r->sleeve_premium_usd += res->premium_usd + res->fees_usd;
        r->sleeve_pnl_usd += res->pnl_usd;
        r->sleeve_buys += res->n_buys;
        /* the standalone back-test of the same series, for comparison */
        size_t k = strcmp(s->names[u], "BTC") == 0 ? 0 : 1;
        coce_sleeve_cfg sc;
        coce_sleeve_cfg_default(&sc);
        rc = coce_sleeve_rules_from_config(cfg, &sc.rules, err);
        sc.vol_window_days = (double)cfg->options.vol_window_days;
        sc.min_trade_amount = k == 0 ? 0.1 : 1.0;
        coce_sleeve_result br;
        memset(&br, 0, sizeof br);
        if (rc == COCE_OK)
            rc = coce_sleeve_run(&sc, c->sl_t[k], c->sl_px[k], c->sl_n[k],
                                 equity_usd, &br, err);
        if (rc == COCE_OK)
            json_array_append_new(bt_legs, leg_json(s->names[u], &br));
        coce_log(COCE_LOG_INFO, "options", "sleeve", "{s:s, s:f, s:f, s:I}",
                 "underlying", s->names[u], "premium_usd", res->premium_usd,
                 "pnl_usd", res->pnl_usd, "buys", (json_int_t)res->n_buys);
    }
    r->sleeve_pnl_base = s->pnl_base;
    json_t *worst = json_array();
    for (size_t w = 0; w < n_worst; ++w) {
        json_t *o = json_object();
        double usd = usd_base ? 1.0 : usd_at(bt, bpx, bn, worst_t[w]);
        json_object_set_new(o, "day_end_ms", json_integer(worst_t[w]));
        json_object_set_new(o, "spot_return", num(worst_r[w]));
        json_object_set_new(o, "sleeve_pnl_usd", num(worst_s[w] * usd));
        json_object_set_new(o, "sleeve_pnl_base", num(worst_s[w]));
        json_array_append_new(worst, o);
        r->sleeve_worst_days_base += worst_s[w];
    }
    r->sleeve_worst_days = n_worst;
    json_object_set_new(j, "source", json_string("in-loop"));
    json_object_set_new(j, "legs", legs);
    json_object_set_new(j, "pnl_usd", num(r->sleeve_pnl_usd));
    json_object_set_new(j, "pnl_base", num(r->sleeve_pnl_base));
    json_object_set_new(j, "premium_and_fees_usd", num(r->sleeve_premium_usd));
    json_object_set_new(j, "option_intents",
                        json_integer((json_int_t)s->intents));
    json_object_set_new(j, "option_fills", json_integer((json_int_t)s->fills));
    json_object_set_new(j, "opens_skipped_halted",
                        json_integer((json_int_t)s->skipped_halted));
    json_object_set_new(j, "opens_cut_guardrails",
                        json_integer((json_int_t)s->cut_guardrails));
    json_object_set_new(j, "spot_worst_days", worst);
    json_t *btj = json_object();
    json_object_set_new(btj, "equity_usd_for_budget", num(equity_usd));
    json_object_set_new(btj, "legs", bt_legs);
    json_object_set_new(j, "backtest", btj);
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(j);
    if (rc == COCE_OK && text == NULL)
        rc = coce_err_set(err, COCE_ENOMEM, "sleeve: out of memory");
    if (rc == COCE_OK) {
        char path[1200];
        (void)snprintf(path, sizeof path, "%s/sleeve.json", r->report_dir);
        rc = coce_fs_write_atomic(path, text, strlen(text), err);
    }
    free(text);
    r->sleeve = rc == COCE_OK;
    return rc;
}

int coce_sim_run(const coce_sim_args *args, coce_sim_result *r, coce_err *err)
{
    memset(r, 0, sizeof *r);
    if (args == NULL || args->cfg == NULL)
        return coce_err_set(err, COCE_EINVAL, "sim: bad arguments");
    const coce_config *cfg = args->cfg;
    stop_requested = 0;
    int rc = make_report_dir(args, r, err);
    if (rc != COCE_OK)
        return rc;
    char logs[1200];
    (void)snprintf(logs, sizeof logs, "%s/logs.jsonl", r->report_dir);
    rc = coce_log_open(logs);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "%s: cannot open log", logs);
    coce_log(COCE_LOG_INFO, "sim", "start", "{s:s, s:s}", "run_id", r->run_id,
             "report_dir", r->report_dir);

    sim_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    c.paper_mode = args->paper;
    c.resume_after_ms = INT64_MIN;
    rc = setup(args, r, &c, err);
    coce_trade t;
    size_t skipped_old = 0, done = 0;
    /* A bar with rate and ETA on a terminal (market time for a generated
     * market of known length, else a trade counter); nothing otherwise. */
    int64_t span_s = cfg->data.trades_dir[0] == '\0'
                         ? (int64_t)cfg->sim.days * 86400
                         : 0;
    coce_progress *bar =
        coce_progress_new(stderr, span_s, span_s > 0 ? "sim days" : "trades");
    int64_t t0 = INT64_MIN;
    while (rc == COCE_OK && !stop_requested &&
           (rc = coce_replay_next(c.replay, &t, err)) == COCE_OK) {
        if (t.time_ms <= c.resume_after_ms) {
            ++skipped_old; /* processed before the restart */
            continue;
        }
        if (t0 == INT64_MIN)
            t0 = t.time_ms;
        if ((++done & 0xfff) == 0)
            coce_progress_update(bar, span_s > 0 ? (t.time_ms - t0) / 1000
                                                 : (int64_t)done);
        rc = coce_engine_on_trade(c.engine, &t, err);
    }
    coce_progress_finish(bar);
    coce_progress_free(bar);
    if (skipped_old > 0)
        coce_log(COCE_LOG_INFO, "paper", "resumed_after", "{s:I, s:I}",
                 "trades_skipped", (json_int_t)skipped_old, "after_ms",
                 (json_int_t)c.resume_after_ms);
    if (rc == COCE_OK && stop_requested) {
        r->interrupted = 1;
        coce_log(COCE_LOG_WARN, "sim", "interrupted", NULL);
        rc = COCE_EEOF;
    }
    if (rc == COCE_EEOF)
        rc = coce_engine_finish(c.engine, err);
    coce_log_set_sim_time(INT64_MIN);
    if (rc == COCE_OK) {
        const coce_book *b = coce_engine_book(c.engine);
        const coce_engine_stats *st = coce_engine_get_stats(c.engine);
        coce_engine_period(c.engine, &r->first_ms, &r->trading_ms, &r->last_ms);
        r->assets = coce_symbols_count(c.symbols);
        r->trades_in = st->trades;
        r->skipped_rows = coce_replay_skipped(c.replay);
        r->initial_equity = cfg->strategy.initial_capital;
        r->final_equity = b->n_equity > 0 ? b->equity[b->n_equity - 1].equity
                                           : r->initial_equity;
        r->pnl = r->final_equity - r->initial_equity;
        r->total_return = r->pnl / r->initial_equity;
        performance(b, r->trading_ms, cfg->hrp.annualisation,
                    r->initial_equity, r);
        size_t nf = 0;
        (void)coce_engine_fills(c.engine, &nf);
        r->fills = nf;
        score_alerts(c.engine, c.symbols, c.events, c.n_events,
                     r->trading_ms == INT64_MIN ? r->last_ms : r->trading_ms,
                     r->last_ms, r);
        r->rebalances = st->rebalances;
        r->model_fits = st->model_fits;
        r->halts = st->halts;
        r->cuts_drawdown = st->cuts_drawdown;
        r->cuts_var = st->cuts_var;
        r->cuts_corr = st->cuts_corr;
        r->cuts_adv = st->cuts_adv;
        r->halted = b->kill.halted;
        (void)snprintf(r->halt_reason, sizeof r->halt_reason, "%s",
                       b->kill.reason);
        char path[1200];
        (void)snprintf(path, sizeof path, "%s/state.json", r->report_dir);
        rc = coce_state_save(b, path, err);
        if (rc == COCE_OK && c.paper_mode)
            rc = snapshot(&c, b, err);
        const coce_pump_model *m = coce_engine_model(c.engine);
        (void)snprintf(path, sizeof path, "%s/model.json", r->report_dir);
        if (rc == COCE_OK && m != NULL)
            rc = coce_pump_model_save(m, path, err);
        if (rc == COCE_OK)
            rc = write_fills(r->report_dir, c.engine, c.symbols, err);
        if (rc == COCE_OK)
            rc = write_trades(r->report_dir, b, err);
        if (rc == COCE_OK)
            rc = write_equity(r->report_dir, b, err);
        if (rc == COCE_OK)
            rc = write_alerts(r->report_dir, c.engine, c.symbols, err);
        if (rc == COCE_OK)
            rc = write_manifest(r->report_dir, args, r, c.paths, c.n_paths,
                                err);
        if (rc == COCE_OK && args->convex_sleeve)
            rc = run_sleeve(cfg, c.engine, b, &c, r, err);
        if (rc == COCE_OK)
            rc = write_summary(r->report_dir, r, err);
        if (rc == COCE_OK) {
            /* the page is a view of the files above: a failure to draw it
             * is reported, never a failed run */
            coce_err rerr;
            coce_err_clear(&rerr);
            if (coce_report_write_html(r->report_dir, &rerr) != COCE_OK)
                coce_log(COCE_LOG_WARN, "sim", "report_failed", "{s:s}",
                         "why", rerr.msg);
        }
    }
    if (rc == COCE_OK)
        coce_log(COCE_LOG_INFO, "sim", "done", "{s:f, s:I}", "pnl", r->pnl,
                 "fills", (json_int_t)r->fills);
    else {
        const char *why = err != NULL ? err->msg : coce_strerror(rc);
        coce_log(COCE_LOG_ERROR, "sim", "failed", "{s:s}", "error", why);
        if (args->notifier != NULL) {
            char text[700];
            (void)snprintf(text, sizeof text, "COCE run %s failed: %s",
                           r->run_id, why);
            (void)coce_notify_slack(args->notifier, text);
            (void)coce_notify_sentry_event(args->notifier, COCE_NOTIFY_ERROR,
                                           text, "sim");
        }
    }
    ctx_free(&c);
    return rc;
}

void coce_sim_print_summary(const coce_sim_result *r, FILE *out)
{
    char a[40], b[40], c[40];
    iso(r->first_ms, a, sizeof a);
    iso(r->trading_ms, b, sizeof b);
    iso(r->last_ms, c, sizeof c);
    fprintf(out, "run %s\n", r->run_id);
    fprintf(out, "  market       %s (%zu assets, %zu trades)\n", r->market,
            r->assets, r->trades_in);
    fprintf(out, "  period       %s .. %s (trading from %s)\n", a, c, b);
    fprintf(out, "  alerts       %zu: %zu of %zu events alerted, %zu false "
                 "(%.3f per coin-day)\n",
            r->alerts, r->events_alerted, r->events, r->false_alerts,
            r->false_alerts_per_coin_day);
    fprintf(out, "  trades       %zu round trips, %zu fills, hit rate %.3f, "
                 "fees %.6g\n",
            r->round_trips, r->fills, r->hit_rate, r->fees);
    fprintf(out, "  pnl          %.6g (%.3f %%), Sharpe %.3f, max drawdown "
                 "%.3f %%\n",
            r->pnl, 100.0 * r->total_return, r->sharpe,
            100.0 * r->max_drawdown);
    fprintf(out, "  guardrails   cuts: drawdown %zu, VaR %zu, corr %zu, ADV "
                 "%zu; halts %zu\n",
            r->cuts_drawdown, r->cuts_var, r->cuts_corr, r->cuts_adv, r->halts);
    if (r->halted)
        fprintf(out, "  halted       %s (coce reset-kill-switch lifts it)\n",
                r->halt_reason);
    if (r->sleeve)
        fprintf(out,
                "  sleeve       convex: %zu options bought, premium+fees "
                "%.0f USD, PnL %.0f USD (%.6g base); on the spot book's %zu "
                "worst days it earned %.6g base\n",
                r->sleeve_buys, r->sleeve_premium_usd, r->sleeve_pnl_usd,
                r->sleeve_pnl_base, r->sleeve_worst_days,
                r->sleeve_worst_days_base);
    if (r->interrupted)
        fprintf(out, "  interrupted  by a signal: the run stopped early, "
                     "positions closed at the last prices\n");
    fprintf(out, "  report       %s\n", r->report_dir);
}
