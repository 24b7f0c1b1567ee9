/* The convexity sleeve inside the engine loop: journal, paper venue, book,
 * guardrails; agreement with the standalone back-test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent/engine.h"
#include "execution/paper.h"
#include "options/sleeve.h"
#include "risk_guardrails/guardrails.h"
#include "state/journal.h"
#include "state/state_file.h"
#include "testutil.h"
#include "utils/rng.h"
#include "utils/symbols.h"

#define T0 1546300800000LL
#define HOURS (24 * 45)
static int64_t g_t[HOURS + 1];
static double g_px[HOURS + 1];

static void make_series(void)
{
    coce_rng r;
    coce_rng_init(&r, 11);
    g_px[0] = 4000.0;
    for (size_t i = 0; i <= HOURS; i++) {
        g_t[i] = T0 + (int64_t)i * 3600000LL;
        if (i > 0)
            g_px[i] = g_px[i - 1] *
                      exp(1.2 / sqrt(24.0 * 365.0) * coce_rng_normal(&r));
    }
}

static int feed(void *venue, const coce_trade *t, coce_fill *fills, size_t cap,
                size_t *n)
{
    return coce_paper_on_trade(venue, t, fills, cap, n);
}

typedef struct rig {
    coce_config cfg;
    coce_symbols *sym;
    coce_paper *paper;
    coce_journal *journal;
    coce_engine *e;
    coce_engine_sleeve_opts so;
    char dir[512];
} rig;

static void sleeve_cfg(coce_sleeve_cfg *c)
{
    coce_sleeve_cfg_default(c);
    c->vol_window_days = 7.0;
    c->rules.budget_period_days = 7.0;
    c->rules.min_days = 3.0;
    c->rules.max_days = 30.0;
}

static int g_flatten;

static void rig_open(rig *g, coce_book *book)
{
    memset(g, 0, sizeof *g);
    coce_config_defaults(&g->cfg);
    (void)snprintf(g->cfg.run.base_currency, sizeof g->cfg.run.base_currency,
                   "USD");
    g->cfg.strategy.initial_capital = 1e5;
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
    g->so.n_u = 1;
    (void)snprintf(g->so.u[0].name, sizeof g->so.u[0].name, "BTC");
    g->so.u[0].t_ms = g_t;
    g->so.u[0].px = g_px;
    g->so.u[0].n = HOURS + 1;
    sleeve_cfg(&g->so.u[0].cfg);
    g->so.fixed_equity_usd = 2e5;
    coce_engine_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.cfg = &g->cfg;
    eo.symbols = g->sym;
    eo.exchange = coce_paper_exchange(g->paper);
    eo.feed_trade = feed;
    eo.venue = g->paper;
    eo.journal = g->journal;
    eo.client_tag = "t";
    eo.book = book;
    eo.sleeve = &g->so;
    eo.flatten_at_end = book == NULL && g_flatten;
    coce_err err;
    int rc = coce_engine_new(&g->e, &eo, &err);
    assert_int_equal(rc, COCE_OK);
}

static void rig_close(rig *g)
{
    coce_engine_free(g->e);
    coce_journal_close(g->journal);
    coce_paper_free(g->paper);
    coce_symbols_free(g->sym);
    coce_test_rmtree(g->dir);
}

/* A spot trade every 10 minutes from `from` (ms) to `to`. */
static void run_trades(rig *g, int64_t from, int64_t to)
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

static size_t count_options(const coce_book *b)
{
    size_t k = 0;
    for (size_t i = 0; i < coce_book_position_count(b); i++)
        k += coce_book_position_at(b, i)->asset >= COCE_ENGINE_OPTION_BASE;
    return k;
}

/* In-loop results equal the back-test of the same series and equity; the
 * journal holds the option intents and fills; the book holds the options
 * and a state file keeps them across a restart. */
static void test_in_loop_equals_backtest(void **state)
{
    (void)state;
    make_series();
    rig g;
    g_flatten = 1;
    rig_open(&g, NULL);
    g_flatten = 0;
    const int64_t end = T0 + (int64_t)HOURS * 3600000LL + 1800000;
    run_trades(&g, T0 + 60000, end);
    const coce_book *b = coce_engine_book(g.e);
    assert_true(count_options(b) > 0);
    for (size_t i = 0; i < coce_book_position_count(b); i++)
        assert_true(coce_book_position_at(b, i)->qty > 0); /* long only */
    assert_int_equal(coce_engine_finish(g.e, NULL), COCE_OK);
    const coce_engine_sleeve_report *s = coce_engine_sleeve(g.e);
    assert_non_null(s);
    assert_int_equal(count_options(coce_engine_book(g.e)), 0); /* closed */

    coce_sleeve_result br;
    memset(&br, 0, sizeof br);
    assert_int_equal(coce_sleeve_run(&g.so.u[0].cfg, g_t, g_px, HOURS + 1, 2e5,
                                     &br, NULL),
                     COCE_OK);
    const coce_sleeve_result *r = &s->res[0];
    assert_true(br.n_buys > 2);
    assert_true(br.n_settled_itm + br.n_settled_otm > 0);
    assert_int_equal(r->n_buys, br.n_buys);
    assert_int_equal(r->n_rolls, br.n_rolls);
    assert_int_equal(r->n_settled_itm + r->n_settled_otm,
                     br.n_settled_itm + br.n_settled_otm);
    assert_close(r->premium_usd, br.premium_usd, 1e-12, 1e-9);
    assert_close(r->fees_usd, br.fees_usd, 1e-12, 1e-9);
    assert_close(r->proceeds_usd, br.proceeds_usd, 1e-12, 1e-9);
    assert_close(r->final_value_usd, br.final_value_usd, 1e-9, 1e-9);
    assert_close(r->pnl_usd, br.pnl_usd, 1e-9, 1e-9);
    /* USD book: the sleeve's PnL in the book is the back-test's */
    assert_close(s->pnl_base, br.pnl_usd, 1e-9, 1e-6);
    assert_int_equal(s->skipped_halted, 0);

    /* the journal: each option intent before its fill */
    int64_t last = 0;
    assert_int_equal(coce_journal_last_seq(g.journal, &last, NULL), COCE_OK);
    size_t intents = 0, fills = 0;
    static char ids[256][COCE_CLIENT_ID_MAX];
    for (int64_t q = 1; q <= last; q++) {
        coce_journal_event ev;
        assert_int_equal(coce_journal_get(g.journal, q, &ev, NULL), COCE_OK);
        if (ev.kind == COCE_JOURNAL_INTENT && strncmp(ev.asset, "BTC-", 4) == 0 &&
            intents < 256)
            memcpy(ids[intents++], ev.client_id, COCE_CLIENT_ID_MAX);
        if (ev.kind != COCE_JOURNAL_FILL)
            continue;
        for (size_t k = 0; k < intents; k++)
            fills += strcmp(ids[k], ev.client_id) == 0; /* after its intent */
    }
    assert_int_equal(intents, s->intents);
    /* one fill per intent (opens, roll sales, settlements); a roll without
     * a bid sends nothing */
    /* (an expiry worthless is journalled as done, not as a fill) */
    assert_int_equal(fills + r->n_settled_otm, intents);
    assert_true(intents >= r->n_buys + r->n_settled_itm + r->n_settled_otm);
    assert_int_equal(fills + r->n_settled_otm, s->fills);
    rig_close(&g);
}

/* A restart: the state file keeps the options, the engine takes them back
 * (no second option of a kind it holds), old state files still load. */
static void test_restart_keeps_options(void **state)
{
    (void)state;
    make_series();
    rig g;
    rig_open(&g, NULL);
    run_trades(&g, T0 + 60000, T0 + 9 * 86400000LL);
    const coce_book *b = coce_engine_book(g.e);
    size_t held = count_options(b);
    assert_true(held > 0);
    char dir[512], path[700];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    (void)snprintf(path, sizeof path, "%s/state.json", dir);
    assert_int_equal(coce_state_save(b, path, NULL), COCE_OK);
    size_t buys = coce_engine_sleeve(g.e)->res[0].n_buys;
    rig_close(&g);

    coce_book *back = NULL;
    assert_int_equal(coce_state_load(path, &back, NULL), COCE_OK);
    assert_int_equal(count_options(back), held);
    rig g2;
    rig_open(&g2, back);
    /* the next day's decision sees the held options: no second option of
     * a kind held at the restart */
    char kinds[2] = {0, 0};
    for (size_t i = 0; i < coce_book_position_count(back); i++) {
        const coce_position *p = coce_book_position_at(back, i);
        size_t L = strlen(p->symbol);
        kinds[p->symbol[L - 1] == 'P'] += 1;
    }
    run_trades(&g2, T0 + 9 * 86400000LL + 600000, T0 + 10 * 86400000LL + 60000);
    const coce_book *b2 = coce_engine_book(g2.e);
    char kinds2[2] = {0, 0};
    for (size_t i = 0; i < coce_book_position_count(b2); i++) {
        const coce_position *p = coce_book_position_at(b2, i);
        size_t L = strlen(p->symbol);
        kinds2[p->symbol[L - 1] == 'P'] += 1;
    }
    for (int k = 0; k < 2; k++)
        if (kinds[k] > 0)
            assert_true(kinds2[k] <= kinds[k]);
    assert_true(count_options(b2) > 0);
    (void)buys;
    rig_close(&g2);
    coce_test_rmtree(dir);
}

/* A kill-switch halt stops sleeve opens too. */
static void test_halt_stops_opens(void **state)
{
    (void)state;
    make_series();
    coce_book *book = NULL;
    assert_int_equal(coce_book_new(1e5, &book), COCE_OK);
    assert_int_equal(coce_book_halt(book, "test halt", T0, -3, 0.1, 0.0),
                     COCE_OK);
    rig g;
    rig_open(&g, book);
    run_trades(&g, T0 + 60000, T0 + 12 * 86400000LL);
    const coce_engine_sleeve_report *s = coce_engine_sleeve(g.e);
    assert_true(s->skipped_halted > 0);
    assert_int_equal(s->res[0].n_buys, 0);
    assert_int_equal(count_options(coce_engine_book(g.e)), 0);
    rig_close(&g);
}

/* A live venue (no trade feed) with the sleeve is a configuration error. */
static void test_live_refused(void **state)
{
    (void)state;
    rig g;
    memset(&g, 0, sizeof g);
    coce_config_defaults(&g.cfg);
    assert_int_equal(coce_symbols_new(&g.sym), COCE_OK);
    coce_paper_opts po;
    coce_paper_opts_default(&po);
    assert_int_equal(coce_paper_new(&po, &g.paper, NULL), COCE_OK);
    g.so.n_u = 1;
    g.so.u[0].t_ms = g_t;
    g.so.u[0].px = g_px;
    g.so.u[0].n = 2;
    coce_engine_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.cfg = &g.cfg;
    eo.symbols = g.sym;
    eo.exchange = coce_paper_exchange(g.paper);
    eo.sleeve = &g.so;
    coce_err err;
    assert_int_equal(coce_engine_new(&g.e, &eo, &err), COCE_ECONFIG);
    assert_non_null(strstr(err.msg, "sleeve"));
    eo.feed_trade = feed;
    eo.venue = g.paper;
    g.so.n_u = 0;
    assert_int_equal(coce_engine_new(&g.e, &eo, &err), COCE_EINVAL);
    coce_paper_free(g.paper);
    coce_symbols_free(g.sym);
}

/* Closed form of the premium-vs-VaR floor rule. */
static void test_var_premium_scale(void **state)
{
    (void)state;
    double tot = 0, s = 0;
    /* room 5 - 1 = 4 for a spot VaR of 8: half */
    assert_int_equal(coce_guard_var_premium_scale(8.0, 1.0, 5.0, &tot, &s),
                     COCE_OK);
    assert_close(tot, 9.0, 0, 0);
    assert_close(s, 0.5, 1e-15, 0);
    /* within the floor: no cut */
    assert_int_equal(coce_guard_var_premium_scale(3.0, 2.0, 5.0, NULL, &s),
                     COCE_OK);
    assert_close(s, 1.0, 0, 0);
    /* the premium uses the whole budget: spot entries cut to 0 */
    assert_int_equal(coce_guard_var_premium_scale(0.1, 5.0, 5.0, NULL, &s),
                     COCE_OK);
    assert_close(s, 0.0, 0, 0);
    assert_int_equal(coce_guard_var_premium_scale(-1.0, 1.0, 5.0, NULL, &s),
                     COCE_OK);
    assert_close(s, 1.0, 0, 0);
    /* without premium it is coce_guard_var_scale */
    for (double v = 0.5; v < 20; v += 1.3) {
        double a = 0, c = 0;
        assert_int_equal(coce_guard_var_premium_scale(v, 0.0, 5.0, NULL, &a),
                         COCE_OK);
        assert_int_equal(coce_guard_var_scale(v, 5.0, &c), COCE_OK);
        assert_close(a, c, 1e-15, 0);
        /* never increases exposure; the scaled total meets the floor */
        assert_true(a <= 1.0 && a >= 0.0);
        assert_true(a * v + 0.0 <= 5.0 * (1 + 1e-12));
    }
    assert_int_equal(coce_guard_var_premium_scale(1.0, -1.0, 5.0, NULL, &s),
                     COCE_EINVAL);
    assert_int_equal(coce_guard_var_premium_scale(NAN, 1.0, 5.0, NULL, &s),
                     COCE_EINVAL);
    assert_int_equal(coce_guard_var_premium_scale(1.0, 1.0, -5.0, NULL, &s),
                     COCE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_loop_equals_backtest),
        cmocka_unit_test(test_restart_keeps_options),
        cmocka_unit_test(test_halt_stops_opens),
        cmocka_unit_test(test_live_refused),
        cmocka_unit_test(test_var_premium_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
