/* Shared set-up of the engine's convexity-sleeve tests (test_engine_sleeve.c,
 * test_engine_sleeve_deribit.c): the generated hourly BTC series, the sleeve
 * configuration, and a rig of config, symbols, paper spot venue, journal
 * and engine. Static functions: include once per test executable. */
#ifndef COCE_TESTS_ENGINE_SLEEVE_FIXTURE_H
#define COCE_TESTS_ENGINE_SLEEVE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent/engine.h"
#include "execution/deribit.h"
#include "execution/paper.h"
#include "options/sleeve.h"
#include "state/journal.h"
#include "testutil.h"
#include "utils/rng.h"
#include "utils/symbols.h"

#define ES_T0 1546300800000LL /* 2019-01-01 00:00 UTC */
#define ES_HOUR_MS 3600000LL

/* `n` hourly samples from ES_T0: a geometric random walk from 4000 at an
 * annual vol of 1.2 (seed 11). */
static inline void es_make_series(int64_t *t, double *px, size_t n)
{
    coce_rng r;
    coce_rng_init(&r, 11);
    px[0] = 4000.0;
    for (size_t i = 0; i < n; i++) {
        t[i] = ES_T0 + (int64_t)i * ES_HOUR_MS;
        if (i > 0)
            px[i] =
                px[i - 1] * exp(1.2 / sqrt(24.0 * 365.0) * coce_rng_normal(&r));
    }
}

/* Weekly budget, a week's vol window, expiries in [3, 30] days. */
static inline void es_sleeve_cfg(coce_sleeve_cfg *c)
{
    coce_sleeve_cfg_default(c);
    c->vol_window_days = 7.0;
    c->rules.budget_period_days = 7.0;
    c->rules.min_days = 3.0;
    c->rules.max_days = 30.0;
}

static inline int es_feed(void *venue, const coce_trade *t, coce_fill *fills,
                          size_t cap, size_t *n)
{
    return coce_paper_on_trade(venue, t, fills, cap, n);
}

typedef struct es_rig {
    coce_config cfg;
    coce_symbols *sym;
    coce_paper *paper;
    coce_journal *journal;
    coce_deribit *d; /* NULL: no option venue */
    coce_engine *e;
    coce_engine_sleeve_opts so;
    char dir[512];
} es_rig;

/* A USD book of 1e5, the spot asset "SPOT", a non-durable journal in `dir`
 * (NULL: a new temporary directory). */
static inline void es_rig_base(es_rig *g, const char *dir)
{
    memset(g, 0, sizeof *g);
    coce_config_defaults(&g->cfg);
    (void)snprintf(g->cfg.run.base_currency, sizeof g->cfg.run.base_currency,
                   "USD");
    g->cfg.strategy.initial_capital = 1e5;
    if (dir != NULL)
        (void)snprintf(g->dir, sizeof g->dir, "%s", dir);
    else
        assert_non_null(coce_test_tmpdir(g->dir, sizeof g->dir));
    assert_int_equal(coce_symbols_new(&g->sym), COCE_OK);
    coce_asset_id id;
    assert_int_equal(coce_symbols_intern(g->sym, "SPOT", &id), COCE_OK);
    coce_paper_opts po;
    coce_paper_opts_default(&po);
    assert_int_equal(coce_paper_new(&po, &g->paper, NULL), COCE_OK);
    char path[700];
    (void)snprintf(path, sizeof path, "%s/journal.db", g->dir);
    assert_int_equal(coce_journal_open(path, &g->journal, NULL), COCE_OK);
    assert_int_equal(coce_journal_set_durable(g->journal, 0, NULL), COCE_OK);
}

/* One sleeve underlying "BTC" on a fixed equity of 2e5; its samples are
 * t/px[0..n) unless t is NULL (streamed). */
static inline void es_sleeve_opts(es_rig *g, const int64_t *t, const double *px,
                                  size_t n)
{
    g->so.n_u = 1;
    (void)snprintf(g->so.u[0].name, sizeof g->so.u[0].name, "BTC");
    if (t != NULL) {
        g->so.u[0].t_ms = t;
        g->so.u[0].px = px;
        g->so.u[0].n = n;
    }
    es_sleeve_cfg(&g->so.u[0].cfg);
    g->so.fixed_equity_usd = 2e5;
}

/* Engine options of a venue without a trade feed (a live venue). */
static inline void es_engine_opts_min(es_rig *g, coce_engine_opts *eo)
{
    memset(eo, 0, sizeof *eo);
    eo->cfg = &g->cfg;
    eo->symbols = g->sym;
    eo->exchange = coce_paper_exchange(g->paper);
    eo->sleeve = &g->so;
}

/* A zeroed rig with default config, symbols, a default paper venue and one
 * sleeve underlying (no samples, no journal), and engine options without a
 * trade feed (a live venue). */
static inline void es_rig_no_feed(es_rig *g, coce_engine_opts *eo)
{
    memset(g, 0, sizeof *g);
    coce_config_defaults(&g->cfg);
    assert_int_equal(coce_symbols_new(&g->sym), COCE_OK);
    coce_paper_opts po;
    coce_paper_opts_default(&po);
    assert_int_equal(coce_paper_new(&po, &g->paper, NULL), COCE_OK);
    g->so.n_u = 1;
    es_engine_opts_min(g, eo);
}

/* Engine options on the rig's paper venue and journal, client tag "t". */
static inline void es_engine_opts(es_rig *g, coce_book *book,
                                  coce_engine_opts *eo)
{
    es_engine_opts_min(g, eo);
    eo->feed_trade = es_feed;
    eo->venue = g->paper;
    eo->journal = g->journal;
    eo->client_tag = "t";
    eo->book = book;
}

static inline void es_engine_new(es_rig *g, const coce_engine_opts *eo)
{
    coce_err err;
    int rc = coce_engine_new(&g->e, eo, &err);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
}

static inline void es_rig_close(es_rig *g, int keep_dir)
{
    coce_engine_free(g->e);
    coce_journal_close(g->journal);
    coce_deribit_free(g->d);
    coce_paper_free(g->paper);
    coce_symbols_free(g->sym);
    if (!keep_dir)
        coce_test_rmtree(g->dir);
}

/* A new book of 1e5 halted by the kill switch at ES_T0. */
static inline coce_book *es_halted_book(void)
{
    coce_book *book = NULL;
    assert_int_equal(coce_book_new(1e5, &book), COCE_OK);
    assert_int_equal(coce_book_halt(book, "test halt", ES_T0, -3, 0.1, 0.0),
                     COCE_OK);
    return book;
}

/* A spot trade every 10 minutes in [from, to]. */
static inline void es_run_trades(es_rig *g, int64_t from, int64_t to)
{
    for (int64_t t = from; t <= to; t += 600000) {
        coce_trade tr;
        memset(&tr, 0, sizeof tr);
        tr.time_ms = t;
        tr.asset = 0;
        tr.price = 1.0;
        tr.qty = 10;
        tr.side = COCE_SIDE_BUY;
        coce_err err;
        int rc = coce_engine_on_trade(g->e, &tr, &err);
        if (rc != COCE_OK)
            fail_msg("%s", err.msg);
    }
}

#endif
