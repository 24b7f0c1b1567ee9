/* Shared pieces of the paper/live runner tests (header-only, like
 * tests/data_ingest/mock_api.h): a fake Binance market-data server serving
 * generated aggTrades of two pairs (ids 0.. at a fixed cadence, a day of
 * data from 23:00 UTC a few days ago, so that the engine sees a daily close
 * and a rebalance early), an always-alerting pump model, and a small
 * configuration that trades within minutes of data time. */
#ifndef COCE_TESTS_LIVE_FIXTURE_H
#define COCE_TESTS_LIVE_FIXTURE_H

#include "../data_ingest/mock_api.h"
#include "testutil.h"

#include "alpha/features.h"
#include "alpha/pump_model.h"
#include "utils/config.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LF_PAIRS 2
#define LF_STEP_MS INT64_C(30000)
#define LF_DAY_MS INT64_C(86400000)

typedef struct lf_market {
    int64_t t0;           /* time of trade 0 of pair 0 (23:00 UTC) */
    int64_t n_trades;     /* ids 0..n_trades-1 per pair */
    int64_t max_served[LF_PAIRS]; /* highest id served (-1: none) */
    int64_t served_total; /* trades sent, duplicates included */
} lf_market;

static const char *const lf_bases[LF_PAIRS] = {"AAA", "BBB"};

static inline uint64_t lf_hash(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* About one trade in four shares the millisecond of the one before (a
 * "rush order" of the pump features, both buys). */
static inline int lf_rush(int pair, int64_t id)
{
    return id > 0 && lf_hash((uint64_t)id * 7 + (uint64_t)pair) % 4 == 0;
}

static inline int64_t lf_time(const lf_market *m, int pair, int64_t id)
{
    return m->t0 + (id - lf_rush(pair, id)) * LF_STEP_MS + pair * 7000;
}

static inline void lf_trade(const lf_market *m, int pair, int64_t id,
                            char *out, size_t cap)
{
    uint64_t h = lf_hash((uint64_t)id * 2 + (uint64_t)pair + 1);
    double price = 0.001 * (1.0 + 0.02 * sin((double)id * 0.37 + pair) +
                            0.004 * ((double)(h % 1000) / 1000.0 - 0.5));
    double qty = 100.0 + (double)(h % 900);
    snprintf(out, cap,
             "{\"a\":%" PRId64 ",\"p\":\"%.8f\",\"q\":\"%.2f\",\"f\":%" PRId64
             ",\"l\":%" PRId64 ",\"T\":%" PRId64 ",\"m\":%s,\"M\":true}",
             id, price, qty, id, id, lf_time(m, pair, id),
             (h >> 20) % 3 == 0 && !lf_rush(pair, id) && !lf_rush(pair, id + 1)
                 ? "true"
                 : "false");
}

/* A generated aggTrades source, served by lf_serve_aggtrades: ids
 * 0..n_trades-1 per pair, trade `id` of `pair` at time(ctx, pair, id), never
 * before time(ctx, pair, 0) + id * step_ms (so that a startTime maps to a
 * first id), non-decreasing in id. trade() writes one aggTrade object
 * (shorter than LF_TRADE_MAX) and may count what is served. */
#define LF_TRADE_MAX 200

typedef struct lf_source {
    void *ctx;
    int64_t n_trades;
    int64_t step_ms;
    int64_t (*time)(const void *ctx, int pair, int64_t id);
    void (*trade)(void *ctx, int pair, int64_t id, char *out, size_t cap);
} lf_source;

/* The answer of GET /api/v3/aggTrades for `pair` as Binance pages it: from
 * fromId, else from the first trade at or after startTime up to endTime; at
 * most `limit` (default 500) trades. */
static inline void lf_serve_aggtrades(const lf_source *src,
                                      struct MHD_Connection *c, int pair,
                                      mock_reply *out)
{
    const char *lim = mock_arg(c, "limit");
    const char *from = mock_arg(c, "fromId");
    const char *st = mock_arg(c, "startTime");
    const char *et = mock_arg(c, "endTime");
    int64_t limit = lim != NULL ? atoll(lim) : 500;
    int64_t first = 0, last_time = INT64_MAX;
    if (from != NULL) {
        first = atoll(from);
    } else if (st != NULL) {
        int64_t s = atoll(st), t0 = src->time(src->ctx, pair, 0);
        first = s <= t0 ? 0 : (s - t0 + src->step_ms - 1) / src->step_ms;
        if (et != NULL)
            last_time = atoll(et);
    }
    size_t cap = 64 + (size_t)limit * LF_TRADE_MAX;
    char *body = malloc(cap);
    size_t len = 0;
    body[len++] = '[';
    int64_t k = 0;
    for (int64_t id = first; id < src->n_trades && k < limit; ++id, ++k) {
        if (src->time(src->ctx, pair, id) > last_time)
            break;
        char one[LF_TRADE_MAX];
        src->trade(src->ctx, pair, id, one, sizeof one);
        len += (size_t)snprintf(body + len, cap - len, "%s%s", k ? "," : "",
                                one);
    }
    body[len++] = ']';
    body[len] = '\0';
    out->body = body;
}

static inline int64_t lf_time_cb(const void *ctx, int pair, int64_t id)
{
    return lf_time(ctx, pair, id);
}

static inline void lf_trade_cb(void *ctx, int pair, int64_t id, char *out,
                               size_t cap)
{
    lf_market *m = ctx;
    lf_trade(m, pair, id, out, cap);
    if (id > m->max_served[pair])
        m->max_served[pair] = id;
    ++m->served_total;
}

static inline void lf_route(mock_api *api, struct MHD_Connection *c,
                            const char *path, int n, mock_reply *out)
{
    (void)n;
    lf_market *m = api->ctx;
    if (strcmp(path, "/api/v3/aggTrades") != 0) {
        out->status = 404;
        out->body = mock_strdup("{\"code\":-1,\"msg\":\"no\"}");
        return;
    }
    const char *symbol = mock_arg(c, "symbol");
    int pair = -1;
    for (int i = 0; i < LF_PAIRS && symbol != NULL; ++i)
        if (strncmp(symbol, lf_bases[i], 3) == 0)
            pair = i;
    if (pair < 0) {
        out->status = 400;
        out->body = mock_strdup("{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
        return;
    }
    lf_source src = {m, m->n_trades, LF_STEP_MS, lf_time_cb, lf_trade_cb};
    lf_serve_aggtrades(&src, c, pair, out);
}

/* 23:00 UTC, `days_back` days ago. */
static inline void lf_market_init(lf_market *m, int days_back,
                                  int64_t n_trades)
{
    memset(m, 0, sizeof *m);
    int64_t now = (int64_t)time(NULL) * 1000;
    m->t0 = (now / LF_DAY_MS - days_back) * LF_DAY_MS - 3600000;
    m->n_trades = n_trades;
    for (int i = 0; i < LF_PAIRS; ++i)
        m->max_served[i] = -1;
}

/* A model that alerts on every usable chunk: zero weights, intercept 5. */
static inline int lf_write_model(const char *path, int64_t chunk_ms)
{
    coce_features_cfg f;
    coce_features_cfg_default(&f, chunk_ms);
    f.extras = 0;
    coce_pump_model m;
    memset(&m, 0, sizeof m);
    m.schema_version = COCE_PUMP_MODEL_SCHEMA_VERSION;
    snprintf(m.version, sizeof m.version, "test-always");
    m.n_features = coce_features_count(&f);
    for (size_t i = 0; i < m.n_features; ++i) {
        snprintf(m.names[i], sizeof m.names[i], "%s", coce_features_name(i));
        m.scale[i] = 1.0;
    }
    m.intercept = 5.0;
    m.threshold = 0.5;
    m.chunk_ms = chunk_ms;
    m.C = 1.0;
    m.weight_pos = 1.0;
    m.weight_neg = 1.0;
    coce_err err;
    return coce_pump_model_save(&m, path, &err) == COCE_OK ? 0 : -1;
}

/* The test configuration: small windows so that the engine trades within
 * minutes of data time after the first daily close. */
static inline int lf_config(coce_config *cfg, const char *dir,
                            const char *feed_url, const char *venue_url)
{
    char yaml[4096], model[600];
    snprintf(model, sizeof model, "%s/model.json", dir);
    if (lf_write_model(model, 300000) != 0)
        return -1;
    snprintf(yaml, sizeof yaml,
             "run:\n  data_dir: %s/data\n  logs_dir: %s/logs\n"
             "  reports_dir: %s/reports\n  log_level: warn\n"
             "features:\n  chunk_seconds: 300\n  window_chunks: 5\n"
             "  price_window_chunks: 2\n"
             "model:\n  path: %s\n  alert_pause_minutes: 0\n"
             "cluster:\n  bar_minutes: 1\n  window_bars: 3\n  min_bars: 2\n"
             "hrp:\n  rebalance_hours: 1\n"
             "strategy:\n  max_hold_minutes: 1\n"
             "guardrails:\n  adv_window_days: 1\n  var_window_days: 2\n"
             "  corr_short_bars: 2\n  corr_long_bars: 3\n"
             "  drawdown_soft: 0.5\n  drawdown_hard: 0.9\n"
             "killswitch:\n  min_trades: 100000\n"
             "exchange:\n  base_url: %s\n  recv_window_ms: 200\n"
             "  timeout_ms: 2000\n"
             "feed:\n  binance_url: %s\n  symbols: [AAA, BBB]\n"
             "  quote: BTC\n  poll_ms: 100\n  start_minutes_back: 10080\n"
             "  lateness_ms: 0\n  idle_timeout_ms: 100\n"
             "  backoff_base_ms: 10\n  backoff_max_ms: 100\n",
             dir, dir, dir, model, venue_url, feed_url);
    coce_config_defaults(cfg);
    coce_err err;
    if (coce_config_load_string(cfg, yaml, "test.yaml", &err) != COCE_OK ||
        coce_config_validate(cfg, &err) != COCE_OK) {
        fprintf(stderr, "config: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static inline int64_t lf_no_clock(void *ctx)
{
    (void)ctx;
    return 0; /* the engine's clock follows the trades only */
}

#endif
