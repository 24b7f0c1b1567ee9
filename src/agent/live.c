/* The paper/live runner (see live.h; rules in docs/live.md). */
#include "agent/live.h"

#include "agent/engine.h"
#include "alpha/pump_model.h"
#include "data_ingest/live_feed.h"
#include "data_ingest/source.h"
#include "execution/binance.h"
#include "execution/deribit.h"
#include "execution/paper.h"
#include "options/sleeve.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/state_file.h"
#include "utils/fsutil.h"
#include "utils/log.h"
#include "utils/notify.h"
#include "utils/symbols.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PATH_LEN 1200
#define DAY_MS INT64_C(86400000)
/* Idle time-outs in a row (feed.idle_timeout_ms each) after which a
 * warm-up that has not reached every cursor gives up. */
#define WARMUP_IDLE_MAX 30

static volatile sig_atomic_t stop_requested;
static coce_live_feed *volatile running_feed;

void coce_live_request_stop(void)
{
    stop_requested = 1;
    coce_live_feed_stop(running_feed);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct live_ctx {
    const coce_config *cfg;
    const coce_live_args *args;
    coce_lock *lock;
    coce_book *book; /* until the engine takes it */
    coce_journal *journal;
    coce_symbols *symbols;
    coce_live_feed *feed;
    coce_paper *paper;
    coce_binance *binance;
    coce_deribit *deribit; /* the sleeve's option venue (--sleeve convex) */
    coce_engine *engine;
    /* the sleeve's streamed underlyings: their pair's asset id, the last
     * price before the next sample time */
    coce_engine_sleeve_opts so;
    coce_asset_id u_asset[COCE_ENGINE_SLEEVE_MAX];
    double u_last[COCE_ENGINE_SLEEVE_MAX];
    int u_traded[COCE_ENGINE_SLEEVE_MAX]; /* also in feed.symbols */
    int base_is_btc;
    int64_t next_sample_ms;
    coce_live_feed_cursor *resume;
    size_t n_resume;
    coce_live_result *r;
    int64_t last_snapshot;
    int restart; /* state.json was present */
    char run_id[96];
    char state_path[PATH_LEN];
    char feed_path[PATH_LEN];
    char model_path[PATH_LEN];
    char meta_path[PATH_LEN];
} live_ctx;

static void ctx_free(live_ctx *c)
{
    running_feed = NULL;
    coce_engine_free(c->engine);
    coce_book_free(c->book);
    coce_live_feed_free(c->feed);
    coce_paper_free(c->paper);
    coce_binance_free(c->binance);
    coce_deribit_free(c->deribit);
    coce_journal_close(c->journal);
    coce_symbols_free(c->symbols);
    free(c->resume);
    coce_lock_release(c->lock);
}

/* ---- feed.json ------------------------------------------------------------ */

static int save_cursors(live_ctx *c, coce_err *err)
{
    size_t n = 0;
    coce_live_feed_last_ids(c->feed, NULL, 0, &n);
    coce_live_feed_cursor *cur = calloc(n > 0 ? n : 1, sizeof *cur);
    if (cur == NULL)
        return coce_err_set(err, COCE_ENOMEM, "feed.json: out of memory");
    coce_live_feed_last_ids(c->feed, cur, n, &n);
    json_t *j = json_object();
    json_t *arr = json_array();
    for (size_t i = 0; i < n; ++i) {
        json_t *o = json_object();
        json_object_set_new(o, "symbol", json_string(cur[i].symbol));
        json_object_set_new(o, "last_id", json_integer(cur[i].last_id));
        json_array_append_new(arr, o);
    }
    free(cur);
    json_object_set_new(j, "version", json_integer(1));
    json_object_set_new(j, "cursors", arr);
    json_object_set_new(
        j, "last_processed_ms",
        json_integer(c->engine != NULL ? coce_engine_book(c->engine)
                                             ->last_processed_ms
                                       : 0));
    char *text = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (text == NULL)
        return coce_err_set(err, COCE_ENOMEM, "feed.json: out of memory");
    int rc = coce_fs_write_atomic(c->feed_path, text, strlen(text), err);
    free(text);
    return rc;
}

static int load_cursors(live_ctx *c, coce_err *err)
{
    if (!coce_fs_exists(c->feed_path))
        return COCE_OK;
    json_error_t je;
    json_t *j = json_load_file(c->feed_path, 0, &je);
    const json_t *arr = j != NULL ? json_object_get(j, "cursors") : NULL;
    if (!json_is_array(arr)) {
        json_decref(j);
        return coce_err_set(err, COCE_ESTATE,
                            "%s:%d: not a feed cursor file (%s)", c->feed_path,
                            je.line, j == NULL ? je.text : "no 'cursors'");
    }
    size_t n = json_array_size(arr);
    c->resume = calloc(n > 0 ? n : 1, sizeof *c->resume);
    if (c->resume == NULL) {
        json_decref(j);
        return coce_err_set(err, COCE_ENOMEM, "feed.json: out of memory");
    }
    for (size_t i = 0; i < n; ++i) {
        const json_t *o = json_array_get(arr, i);
        const char *sym = json_string_value(json_object_get(o, "symbol"));
        const json_t *id = json_object_get(o, "last_id");
        if (sym == NULL || !json_is_integer(id) ||
            strlen(sym) > COCE_LIVE_FEED_SYMBOL_MAX) {
            json_decref(j);
            return coce_err_set(err, COCE_ESTATE,
                                "%s: cursors[%zu]: needs 'symbol' and "
                                "integer 'last_id'",
                                c->feed_path, i);
        }
        (void)snprintf(c->resume[i].symbol, sizeof c->resume[i].symbol, "%s",
                       sym);
        c->resume[i].last_id = (int64_t)json_integer_value(id);
    }
    c->n_resume = n;
    json_decref(j);
    return COCE_OK;
}

/* state.json, then feed.json (the cursors never run ahead of the book a
 * restart starts from), then the model. */
static int snapshot(void *ctx, const coce_book *book, coce_err *err)
{
    live_ctx *c = ctx;
    int rc = coce_state_save(book, c->state_path, err);
    if (rc == COCE_OK)
        rc = save_cursors(c, err);
    const coce_pump_model *m =
        c->engine != NULL ? coce_engine_model(c->engine) : NULL;
    if (rc == COCE_OK && m != NULL && c->cfg->model.path[0] == '\0')
        rc = coce_pump_model_save(m, c->model_path, err);
    if (rc == COCE_OK) {
        ++c->r->snapshots;
        c->last_snapshot = wall_ms();
    }
    return rc;
}

/* ---- start ---------------------------------------------------------------- */

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

static int open_state(live_ctx *c, coce_err *err)
{
    const coce_config *cfg = c->cfg;
    const char *dir = cfg->run.data_dir;
    int rc = coce_fs_mkdir_p(dir);
    if (rc == COCE_OK)
        rc = coce_fs_mkdir_p(cfg->run.logs_dir);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "%s or %s: cannot create directory", dir,
                            cfg->run.logs_dir);
    rc = coce_lock_acquire(dir, &c->lock, err);
    if (rc != COCE_OK)
        return rc;
    (void)snprintf(c->state_path, sizeof c->state_path, "%s/state.json", dir);
    (void)snprintf(c->feed_path, sizeof c->feed_path, "%s/feed.json", dir);
    (void)snprintf(c->model_path, sizeof c->model_path, "%s/model.json", dir);
    (void)snprintf(c->meta_path, sizeof c->meta_path, "%s/meta_events.jsonl",
                   cfg->run.logs_dir);
    rc = coce_state_load(c->state_path, &c->book, err);
    c->restart = rc == COCE_OK;
    if (rc == COCE_ENOTFOUND) {
        c->book = NULL;
        rc = coce_book_new(cfg->strategy.initial_capital, &c->book);
        if (rc != COCE_OK)
            return coce_err_set(err, rc, "book: out of memory");
    } else if (rc != COCE_OK) {
        return rc;
    }
    char journal[PATH_LEN];
    (void)snprintf(journal, sizeof journal, "%s/journal.db", dir);
    rc = coce_journal_open(journal, &c->journal, err);
    if (rc == COCE_OK)
        rc = coce_journal_replay(c->journal, c->book, 0, &c->r->fills_replayed,
                                 err);
    if (rc != COCE_OK)
        return rc;
    /* the journal, not state.json, says which orders are unfinished */
    while (c->book->n_orders > 0)
        (void)coce_book_order_remove(c->book, c->book->orders[0].client_id);
    rc = coce_symbols_new(&c->symbols);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "symbols: out of memory");
    rc = intern_book_symbols(c->book, c->symbols, err);
    if (rc == COCE_OK)
        rc = load_cursors(c, err);
    return rc;
}

/* The feed options of the configuration (pairs, start and resume apart). */
static void feed_opts(const coce_config *cfg, coce_live_feed_opts *fo)
{
    coce_live_feed_opts_default(fo);
    fo->base_url = cfg->feed.binance_url;
    fo->quote = cfg->feed.quote;
    fo->limit = (size_t)cfg->feed.page_limit;
    fo->poll_ms = cfg->feed.poll_ms;
    fo->start_minutes_back = cfg->feed.start_minutes_back;
    fo->lateness_ms = cfg->feed.lateness_ms;
    fo->max_hold_ms = cfg->feed.max_hold_ms;
    fo->idle_timeout_ms = cfg->feed.idle_timeout_ms;
    fo->max_failures = (int)cfg->feed.max_failures;
    fo->backoff_base_ms = cfg->feed.backoff_base_ms;
    fo->backoff_max_ms = cfg->feed.backoff_max_ms;
    fo->weight_pause_at = cfg->feed.weight_pause_at;
}

static int open_feed(live_ctx *c, coce_err *err)
{
    const coce_config *cfg = c->cfg;
    const char *bases[COCE_CFG_LIST_MAX + COCE_ENGINE_SLEEVE_MAX];
    size_t n_bases = cfg->feed.symbols.n;
    for (size_t i = 0; i < n_bases; ++i)
        bases[i] = cfg->feed.symbols.items[i];
    /* the sleeve's underlyings, followed for their USD price */
    for (size_t u = 0; u < c->so.n_u; ++u) {
        size_t i = 0;
        while (i < n_bases && strcmp(bases[i], c->so.u[u].name) != 0)
            ++i;
        c->u_traded[u] = i < cfg->feed.symbols.n;
        if (i == n_bases)
            bases[n_bases++] = c->so.u[u].name;
    }
    coce_live_feed_opts fo;
    feed_opts(cfg, &fo);
    fo.bases = bases;
    fo.n_bases = n_bases;
    fo.resume = c->resume;
    fo.n_resume = c->n_resume;
    int rc = coce_live_feed_new(&fo, c->symbols, &c->feed, err);
    if (rc == COCE_OK)
        running_feed = c->feed;
    for (size_t u = 0; u < c->so.n_u && rc == COCE_OK; ++u)
        if (coce_symbols_find(c->symbols, c->so.u[u].name, &c->u_asset[u]) !=
            COCE_OK)
            rc = coce_err_set(err, COCE_ECONFIG,
                              "options sleeve: the feed does not follow %s%s",
                              c->so.u[u].name, cfg->feed.quote);
    return rc;
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

static coce_order_status book_status(coce_journal_state s)
{
    switch (s) {
    case COCE_JSTATE_ACKED:
        return COCE_ORDER_OPEN;
    case COCE_JSTATE_PARTIAL:
        return COCE_ORDER_PARTIAL;
    case COCE_JSTATE_CANCEL_PENDING:
        return COCE_ORDER_CANCEL_REQUESTED;
    default:
        return COCE_ORDER_UNKNOWN;
    }
}

/* Every unfinished journalled order: paper abandons it (the in-memory venue
 * lost it); live tracks it with the adapter and puts it back in the book,
 * to be settled by client id before trading. */
static int settle_journal(live_ctx *c, coce_err *err)
{
    coce_journal_pending_entry *p = NULL;
    size_t n = 0;
    int rc = coce_journal_pending(c->journal, &p, &n, err);
    if (rc != COCE_OK)
        return rc;
    c->r->pending_at_start = n;
    int64_t now = wall_ms();
    for (size_t i = 0; i < n && rc == COCE_OK; ++i) {
        const coce_journal_pending_entry *e = &p[i];
        int option = e->intent.asset >= COCE_ENGINE_OPTION_BASE;
        if (option && c->deribit == NULL) {
            rc = coce_err_set(err, COCE_ESTATE,
                              "journal: order %s on Deribit (%s) is "
                              "unfinished: restart with --sleeve convex and "
                              "options.live so that it is settled by label",
                              e->intent.client_id, e->asset);
            break;
        }
        if (!option && !c->args->live) {
            coce_journal_event ev;
            memset(&ev, 0, sizeof ev);
            ev.kind = COCE_JOURNAL_DONE;
            ev.time_ms = now;
            memcpy(ev.client_id, e->intent.client_id, sizeof ev.client_id);
            (void)snprintf(ev.note, sizeof ev.note,
                           "abandoned on restart (%s): the paper venue kept "
                           "no orders",
                           coce_journal_state_text(e->state));
            rc = coce_journal_append(c->journal, &ev, NULL, err);
            ++c->r->abandoned_at_start;
            coce_log(COCE_LOG_WARN, "paper", "order_abandoned", "{s:s, s:s}",
                     "client_id", e->intent.client_id, "state",
                     coce_journal_state_text(e->state));
            continue;
        }
        coce_asset_id id = e->intent.asset;
        if (option) /* the engine tracks it with Deribit */
            rc = coce_book_set_symbol(c->book, id, e->asset, err);
        else if (coce_symbols_find(c->symbols, e->asset, &id) != COCE_OK ||
                 id != e->intent.asset) {
            rc = coce_err_set(err, COCE_ESTATE,
                              "journal: order %s: asset %s is not asset %u of "
                              "the book",
                              e->intent.client_id, e->asset,
                              (unsigned)e->intent.asset);
            break;
        }
        /* Sent, at the latest, before this restart: the venue refuses it
         * from now + recvWindow on, so a missing order is final then. */
        if (rc == COCE_OK && !option)
            rc = coce_binance_track(c->binance, &e->intent, now, e->filled,
                                    err);
        coce_open_order o;
        memset(&o, 0, sizeof o);
        memcpy(o.client_id, e->intent.client_id, sizeof o.client_id);
        memcpy(o.exchange_order_id, e->exchange_order_id,
               sizeof o.exchange_order_id);
        o.asset = e->intent.asset;
        o.side = e->intent.side;
        o.type = e->intent.type;
        o.reason = e->intent.reason;
        o.qty = e->intent.qty;
        o.filled = e->filled;
        o.limit_price = e->intent.limit_price;
        o.status = book_status(e->state);
        o.time_ms = e->intent.time_ms;
        if (rc == COCE_OK)
            rc = coce_book_order_add(c->book, &o, err);
        coce_log(COCE_LOG_INFO, "live", "order_to_settle",
                 "{s:s, s:s, s:f}", "client_id", e->intent.client_id, "state",
                 coce_journal_state_text(e->state), "filled", e->filled);
    }
    free(p);
    return rc;
}

static int open_venue(live_ctx *c, coce_err *err)
{
    const coce_config *cfg = c->cfg;
    if (c->args->live) {
        coce_binance_opts bo;
        coce_binance_opts_default(&bo);
        bo.base_url = cfg->exchange.base_url;
        bo.api_key = c->args->api_key;
        bo.api_secret = c->args->api_secret;
        bo.quote_asset = cfg->feed.quote;
        bo.symbols = c->symbols;
        bo.recv_window_ms = cfg->exchange.recv_window_ms;
        bo.timeout_ms = cfg->exchange.timeout_ms;
        return coce_binance_new(&bo, &c->binance, err);
    }
    coce_paper_opts po;
    coce_paper_opts_default(&po);
    po.maker_fee_bps = cfg->execution.maker_fee_bps;
    po.taker_fee_bps = cfg->execution.taker_fee_bps;
    po.impact_coef = cfg->execution.impact_coef;
    po.participation = cfg->execution.max_participation;
    po.latency_ms = cfg->execution.latency_ms;
    po.initial_cash = cfg->strategy.initial_capital;
    return coce_paper_new(&po, &c->paper, err);
}

/* ---- the options sleeve on Deribit ---------------------------------------- */

static int usd_like(const char *ccy)
{
    static const char *const usd[] = {"USD", "USDT", "USDC", "FDUSD", "BUSD",
                                      "TUSD"};
    for (size_t i = 0; i < sizeof usd / sizeof usd[0]; ++i)
        if (strcmp(ccy, usd[i]) == 0)
            return 1;
    return 0;
}

/* --sleeve convex on a live feed: everything it needs, named when missing
 * (before the data directory is touched; secrets are never printed). */
static int sleeve_check(const coce_live_args *a, coce_err *err)
{
    const coce_config *cfg = a->cfg;
    int have_id = a->deribit_client_id != NULL && a->deribit_client_id[0];
    int have_secret =
        a->deribit_client_secret != NULL && a->deribit_client_secret[0];
    if (!cfg->options.live || !have_id || !have_secret)
        return coce_err_set(
            err, COCE_ECONFIG,
            "--sleeve convex on a live feed sends the sleeve's orders to "
            "Deribit: it needs options.live: true in the configuration%s, "
            "DERIBIT_CLIENT_ID%s and DERIBIT_CLIENT_SECRET%s in the "
            "environment",
            cfg->options.live ? " (set)" : " (not set)",
            have_id ? " (set)" : " (not set)",
            have_secret ? " (set)" : " (not set)");
    if (!usd_like(cfg->feed.quote))
        return coce_err_set(err, COCE_ECONFIG,
                            "feed.quote: '%s': the options sleeve takes its "
                            "underlyings' USD prices from the feed "
                            "(BTCUSDT, ETHUSDT): use a USD stablecoin quote",
                            cfg->feed.quote);
    if (!usd_like(cfg->run.base_currency) &&
        strcmp(cfg->run.base_currency, "BTC") != 0)
        return coce_err_set(err, COCE_ECONFIG,
                            "run.base_currency: the options sleeve needs BTC "
                            "or USD/USDT/USDC, not '%s'",
                            cfg->run.base_currency);
    if (strstr(cfg->options.underlyings, "BTC") == NULL &&
        strstr(cfg->options.underlyings, "ETH") == NULL)
        return coce_err_set(err, COCE_ECONFIG,
                            "options.underlyings: '%s' names neither BTC nor "
                            "ETH",
                            cfg->options.underlyings);
    if (strcmp(cfg->run.base_currency, "BTC") == 0 &&
        strstr(cfg->options.underlyings, "BTC") == NULL)
        return coce_err_set(err, COCE_ECONFIG,
                            "options.underlyings: a BTC book needs BTC among "
                            "them (its USD price)");
    return COCE_OK;
}

/* The sleeve's rules (options.*, Deribit's lots: 0.1 BTC, 1 ETH), its
 * streamed series (BTC: also the base currency's price in a BTC book) and
 * the Deribit adapter. */
static int sleeve_setup(live_ctx *c, coce_err *err)
{
    static const char *const names[2] = {"BTC", "ETH"};
    const coce_config *cfg = c->cfg;
    coce_engine_sleeve_opts *so = &c->so;
    for (size_t u = 0; u < 2; ++u) {
        if (strstr(cfg->options.underlyings, names[u]) == NULL)
            continue;
        coce_engine_underlying *un = &so->u[so->n_u];
        (void)snprintf(un->name, sizeof un->name, "%s", names[u]);
        coce_sleeve_cfg_default(&un->cfg);
        int rc = coce_sleeve_rules_from_config(cfg, &un->cfg.rules, err);
        if (rc != COCE_OK)
            return rc;
        un->cfg.vol_window_days = (double)cfg->options.vol_window_days;
        un->cfg.min_trade_amount = u == 0 ? 0.1 : 1.0;
        c->u_last[so->n_u] = NAN;
        ++so->n_u;
    }
    c->base_is_btc = strcmp(cfg->run.base_currency, "BTC") == 0;
    so->base_streamed = c->base_is_btc;
    coce_deribit_opts dop;
    coce_deribit_opts_default(&dop);
    dop.base_url = cfg->deribit.base_url;
    dop.client_id = c->args->deribit_client_id;
    dop.client_secret = c->args->deribit_client_secret;
    dop.timeout_ms = cfg->deribit.timeout_ms;
    int rc = coce_deribit_new(&dop, &c->deribit, err);
    so->deribit = c->deribit;
    so->sent_before_ms = wall_ms();
    return rc;
}

/* Samples of the underlyings up to `until` (exclusive): at each bar
 * boundary B <= until, the last price of a trade before B. */
static int sleeve_samples(live_ctx *c, int64_t until, coce_err *err)
{
    if (c->deribit == NULL)
        return COCE_OK;
    int64_t step = c->cfg->cluster.bar_minutes * 60000;
    if (c->next_sample_ms == 0)
        c->next_sample_ms = (until / step + 1) * step;
    int rc = COCE_OK;
    while (rc == COCE_OK && until >= c->next_sample_ms) {
        int64_t b = c->next_sample_ms;
        for (size_t u = 0; u < c->so.n_u && rc == COCE_OK; ++u) {
            if (!(c->u_last[u] > 0))
                continue;
            rc = coce_engine_sleeve_sample(c->engine, c->so.u[u].name, b,
                                           c->u_last[u], err);
            if (rc == COCE_OK && u == 0 && c->base_is_btc)
                rc = coce_engine_sleeve_sample(
                    c->engine, COCE_ENGINE_BASE_SERIES, b, c->u_last[u], err);
            c->r->sleeve_samples += rc == COCE_OK;
        }
        c->next_sample_ms = b + step;
    }
    return rc;
}

/* A trade of the feed: an underlying's price is noted (after the samples
 * before it); 1 when the engine must not see it (a pair followed only for
 * the sleeve). */
static int sleeve_trade(live_ctx *c, const coce_trade *t, int *skip,
                        coce_err *err)
{
    *skip = 0;
    int rc = sleeve_samples(c, t->time_ms, err);
    for (size_t u = 0; u < c->so.n_u && c->deribit != NULL; ++u)
        if (t->asset == c->u_asset[u]) {
            c->u_last[u] = t->price;
            *skip = !c->u_traded[u];
        }
    return rc;
}

static int open_engine(live_ctx *c, coce_err *err)
{
    const coce_config *cfg = c->cfg;
    coce_engine_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.cfg = cfg;
    eo.symbols = c->symbols;
    if (c->args->live) {
        eo.exchange = coce_binance_exchange(c->binance);
    } else {
        eo.exchange = coce_paper_exchange(c->paper);
        eo.feed_trade = paper_feed;
        eo.set_liquidity = paper_liquidity;
        eo.venue = c->paper;
    }
    eo.meta_events_path = c->meta_path;
    eo.journal = c->journal;
    eo.run_id = c->run_id;
    eo.book = c->book;
    c->book = NULL; /* the engine owns it now, also on failure */
    eo.on_day_close = snapshot;
    eo.ctx = c;
    eo.flatten_at_end = 0;
    eo.notifier = c->args->notifier;
    eo.sleeve = c->deribit != NULL ? &c->so : NULL;
    int rc = coce_engine_new(&c->engine, &eo, err);
    if (rc != COCE_OK)
        return rc;
    coce_pump_model model;
    if (cfg->model.path[0] != '\0') {
        rc = coce_pump_model_load(cfg->model.path, &model, err);
        if (rc == COCE_OK)
            rc = coce_engine_set_model(c->engine, &model, err);
    } else if (coce_fs_exists(c->model_path)) {
        rc = coce_pump_model_load(c->model_path, &model, err);
        if (rc == COCE_OK)
            rc = coce_engine_set_initial_model(c->engine, &model, err);
    }
    return rc;
}

/* ---- warm-up ------------------------------------------------------------- */

/* Days of market history the engine needs before it can enter: the ADV
 * window, the VaR window's daily closes (one more than its returns), the
 * HRP bar window and the features' window, at least one daily close;
 * at most feed.warmup_max_days. */
static int64_t warmup_days(const coce_config *cfg)
{
    int64_t ms[4] = {
        cfg->guardrails.adv_window_days * DAY_MS,
        (cfg->guardrails.var_window_days + 1) * DAY_MS,
        (cfg->cluster.window_bars + 1) * cfg->cluster.bar_minutes * 60000,
        cfg->features.window_chunks * cfg->features.chunk_seconds * 1000};
    int64_t longest = DAY_MS;
    for (size_t i = 0; i < 4; ++i)
        longest = ms[i] > longest ? ms[i] : longest;
    int64_t d = (longest + DAY_MS - 1) / DAY_MS;
    return d < cfg->feed.warmup_max_days ? d : cfg->feed.warmup_max_days;
}

/* Pairs of the feed: feed.symbols and the sleeve's underlyings. */
#define WARMUP_PAIRS (COCE_CFG_LIST_MAX + COCE_ENGINE_SLEEVE_MAX)

/* The replay itself: trades of the pairs up to their cursors (upto) go to
 * the engine, in warm-up; a pair's trades past its cursor are left to the
 * live feed. The feed's stream never goes back in time and the engine has
 * seen nothing before it. 1 in *done when every pair reached its cursor. */
static int warmup_replay(live_ctx *c, coce_live_feed *wf, int64_t *upto,
                         size_t n, int *done, coce_err *err)
{
    coce_live_feed_cursor cur[WARMUP_PAIRS], prev[WARMUP_PAIRS];
    size_t k = 0, left = n, idle = 0;
    coce_live_feed_last_ids(wf, prev, n, &k);
    int rc = COCE_OK;
    while (rc == COCE_OK && left > 0 && !stop_requested) {
        coce_trade t;
        coce_err ferr;
        coce_err_clear(&ferr);
        int got = coce_live_feed_next(wf, &t, &ferr);
        if (got == COCE_ETIMEOUT && ++idle < WARMUP_IDLE_MAX)
            continue;
        if (got != COCE_OK) {
            if (got != COCE_EEOF)
                coce_log(COCE_LOG_WARN, "live", "warmup_failed", "{s:s, s:I}",
                         "why",
                         got == COCE_ETIMEOUT ? "the feed went quiet before "
                                                "the cursors"
                                              : ferr.msg,
                         "trades", (json_int_t)c->r->warmup_trades);
            c->r->warmup_failed = got != COCE_EEOF;
            break;
        }
        idle = 0;
        /* the pair of this trade: the one whose last id moved */
        coce_live_feed_last_ids(wf, cur, n, &k);
        size_t i = 0;
        while (i + 1 < n && cur[i].last_id == prev[i].last_id)
            ++i;
        prev[i].last_id = cur[i].last_id;
        if (upto[i] == INT64_MIN)
            continue; /* past its cursor: the live feed's */
        if (cur[i].last_id <= upto[i]) {
            rc = coce_engine_on_trade(c->engine, &t, err);
            ++c->r->warmup_trades;
        }
        if (cur[i].last_id >= upto[i]) {
            upto[i] = INT64_MIN;
            --left;
        }
    }
    *done = left == 0;
    return rc;
}

/* A restart replays the market history before its cursors into the engine
 * in warm-up (coce_engine_set_warmup: no order, book and journal
 * untouched), from `warmup_days` before the day of the last processed
 * trade, so that bars, ADV, liquidity and HRP budgets are there at once.
 * A feed that cannot serve it is logged and the run goes on without. */
static int warm_up(live_ctx *c, coce_err *err)
{
    const coce_config *cfg = c->cfg;
    coce_live_feed_cursor cur[WARMUP_PAIRS];
    const char *bases[WARMUP_PAIRS];
    int64_t upto[WARMUP_PAIRS];
    size_t np = 0, n = 0;
    coce_live_feed_last_ids(c->feed, cur, WARMUP_PAIRS, &np);
    /* the traded pairs come first in the feed, in feed.symbols order */
    for (size_t i = 0; i < np && i < cfg->feed.symbols.n; ++i)
        if (cur[i].last_id >= 0) {
            bases[n] = cfg->feed.symbols.items[i];
            upto[n++] = cur[i].last_id;
        }
    if (n == 0)
        return COCE_OK;
    int64_t last = coce_engine_book(c->engine)->last_processed_ms;
    int64_t anchor = last > 0 ? last : wall_ms();
    int64_t from = (anchor / DAY_MS - warmup_days(cfg)) * DAY_MS;
    coce_live_feed_opts fo;
    feed_opts(cfg, &fo);
    fo.bases = bases;
    fo.n_bases = n;
    fo.start_ms = from;
    coce_live_feed *wf = NULL;
    coce_err ferr;
    coce_err_clear(&ferr);
    int done = 0, rc = COCE_OK;
    int64_t t0 = wall_ms();
    coce_log(COCE_LOG_INFO, "live", "warmup_start", "{s:I, s:I}", "from_ms",
             (json_int_t)from, "pairs", (json_int_t)n);
    int frc = coce_live_feed_new(&fo, c->symbols, &wf, &ferr);
    if (frc != COCE_OK) {
        c->r->warmup_failed = 1;
        coce_log(COCE_LOG_WARN, "live", "warmup_failed", "{s:s}", "why",
                 ferr.msg);
    } else {
        running_feed = wf;
        rc = coce_engine_set_warmup(c->engine, 1);
        if (rc == COCE_OK)
            rc = warmup_replay(c, wf, upto, n, &done, err);
        (void)coce_engine_set_warmup(c->engine, 0);
        running_feed = c->feed;
        if (stop_requested)
            coce_live_feed_stop(c->feed);
    }
    coce_live_feed_free(wf);
    coce_log(COCE_LOG_INFO, "live", "warmup_done", "{s:I, s:b, s:I}", "trades",
             (json_int_t)c->r->warmup_trades, "complete", done != 0, "ms",
             (json_int_t)(wall_ms() - t0));
    return rc;
}

/* ---- the loop ------------------------------------------------------------- */

static int64_t engine_clock(const coce_live_args *a)
{
    return a->clock_fn != NULL ? a->clock_fn(a->clock_ctx) : wall_ms();
}

static int run_loop(live_ctx *c, coce_err *err)
{
    const coce_live_args *a = c->args;
    coce_source src = coce_live_feed_source(c->feed);
    size_t idle_in_row = 0;
    int rc = COCE_OK;
    while (rc == COCE_OK && !stop_requested) {
        coce_trade t;
        coce_err ferr;
        coce_err_clear(&ferr);
        int got = src.next(src.impl, &t, &ferr);
        if (got == COCE_OK) {
            idle_in_row = 0;
            /* the engine's clock may have run ahead on idle time-outs */
            int64_t now = coce_engine_now(c->engine);
            if (now != INT64_MIN && t.time_ms < now) {
                t.time_ms = now;
                ++c->r->late;
            }
            int skip = 0;
            rc = sleeve_trade(c, &t, &skip, err);
            if (rc == COCE_OK && !skip) {
                ++c->r->trades;
                rc = coce_engine_on_trade(c->engine, &t, err);
            }
        } else if (got == COCE_ETIMEOUT) {
            ++c->r->idle;
            int64_t now = engine_clock(a);
            if (coce_engine_now(c->engine) != INT64_MIN)
                rc = sleeve_samples(c, now, err);
            if (rc == COCE_OK)
                rc = coce_engine_on_clock(c->engine, now, err);
            /* unknown orders are asked again while the market is quiet */
            if (rc == COCE_OK && (a->live || c->deribit != NULL))
                rc = coce_engine_settle_orders(
                    c->engine, coce_engine_now(c->engine), err);
            if (a->stop_after_idle > 0 && ++idle_in_row >= a->stop_after_idle)
                break;
        } else if (got == COCE_ENET) {
            ++c->r->net_errors;
            coce_log(COCE_LOG_WARN, "live", "feed_failing", "{s:s}", "why",
                     ferr.msg);
        } else if (got == COCE_EEOF) {
            break;
        } else {
            if (err != NULL)
                *err = ferr;
            rc = got;
        }
        if (rc == COCE_OK &&
            wall_ms() - c->last_snapshot >= c->cfg->feed.snapshot_ms)
            rc = snapshot(c, coce_engine_book(c->engine), err);
    }
    return rc;
}

int coce_live_run(const coce_live_args *args, coce_live_result *r,
                  coce_err *err)
{
    if (args == NULL || args->cfg == NULL || r == NULL)
        return coce_err_set(err, COCE_EINVAL, "live: bad arguments");
    memset(r, 0, sizeof *r);
    /* Nothing to trade without a universe: the mode is not available
     * (checked before the data directory is touched). */
    if (args->cfg->feed.symbols.n == 0)
        return coce_err_set(err, COCE_ENOTSUP,
                            "feed.symbols: empty; list the base assets to "
                            "trade in the configuration (e.g. feed: "
                            "{symbols: [ADX, VIB]})");
    if (args->sleeve) {
        int src = sleeve_check(args, err);
        if (src != COCE_OK)
            return src;
    }
    stop_requested = 0;
    live_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = args->cfg;
    c.args = args;
    c.r = r;
    const char *mode = args->live ? "live" : "paper";
    struct tm tm;
    time_t secs = time(NULL);
    gmtime_r(&secs, &tm);
    (void)snprintf(c.run_id, sizeof c.run_id, "%s%02d%02d%02d%02d%02d",
                   args->live ? "l" : "p", tm.tm_year % 100, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min);
    int rc = open_state(&c, err);
    if (rc == COCE_OK && args->sleeve)
        rc = sleeve_setup(&c, err);
    char log_path[PATH_LEN];
    (void)snprintf(log_path, sizeof log_path, "%s/%s.jsonl",
                   args->cfg->run.logs_dir, mode);
    if (rc == COCE_OK && coce_log_open(log_path) != COCE_OK)
        rc = coce_err_set(err, COCE_EIO, "%s: cannot open log", log_path);
    if (rc == COCE_OK)
        rc = open_feed(&c, err);
    if (rc == COCE_OK)
        rc = open_venue(&c, err);
    if (rc == COCE_OK)
        rc = settle_journal(&c, err);
    if (rc == COCE_OK)
        rc = open_engine(&c, err);
    if (rc == COCE_OK) {
        coce_log(COCE_LOG_INFO, "live", "start",
                 "{s:s, s:s, s:I, s:I, s:I, s:b}", "mode", mode, "run_id",
                 c.run_id, "fills_replayed", (json_int_t)r->fills_replayed,
                 "orders_to_settle", (json_int_t)r->pending_at_start,
                 "cursors", (json_int_t)c.n_resume, "halted",
                 coce_engine_book(c.engine)->kill.halted != 0);
        /* before any new order: every unfinished order settled by id */
        rc = coce_engine_settle_orders(c.engine, wall_ms(), err);
    }
    if (rc == COCE_OK)
        rc = snapshot(&c, coce_engine_book(c.engine), err);
    if (rc == COCE_OK && c.restart && !args->no_warmup &&
        args->cfg->feed.warmup_max_days > 0)
        rc = warm_up(&c, err);
    if (rc == COCE_OK)
        rc = run_loop(&c, err);
    if (c.engine != NULL) {
        r->interrupted = stop_requested != 0;
        /* the state is written even when the loop failed: it holds every
         * fill journalled so far */
        coce_err serr;
        coce_err_clear(&serr);
        int src = snapshot(&c, coce_engine_book(c.engine), &serr);
        if (rc == COCE_OK && src != COCE_OK) {
            rc = src;
            if (err != NULL)
                *err = serr;
        }
        const coce_engine_stats *st = coce_engine_get_stats(c.engine);
        r->entries = st->entries;
        r->exits = st->exits;
        r->adopted = st->orders_adopted;
        r->abandoned = st->orders_abandoned;
        r->fills_skipped = st->fills_skipped;
        const coce_engine_sleeve_report *sr = coce_engine_sleeve(c.engine);
        if (sr != NULL) {
            r->sleeve_intents = sr->intents;
            r->sleeve_fills = sr->fills;
            r->sleeve_refused = sr->refused;
        }
        (void)coce_engine_fills(c.engine, &r->fills);
        r->open_orders = coce_engine_book(c.engine)->n_orders;
    }
    if (rc == COCE_OK)
        coce_log(COCE_LOG_INFO, "live", "stop",
                 "{s:I, s:I, s:I, s:b}", "trades", (json_int_t)r->trades,
                 "entries", (json_int_t)r->entries, "exits",
                 (json_int_t)r->exits, "interrupted", r->interrupted != 0);
    else
        coce_log(COCE_LOG_ERROR, "live", "failed", "{s:s}", "error",
                 err != NULL ? err->msg : coce_strerror(rc));
    ctx_free(&c);
    return rc;
}
