/* The convexity sleeve inside the engine loop: journal, paper venue, book,
 * guardrails; agreement with the standalone back-test. */
#include "engine_sleeve_fixture.h"

#include "risk_guardrails/guardrails.h"
#include "state/state_file.h"

#define T0 ES_T0
#define HOURS (24 * 45)
static int64_t g_t[HOURS + 1];
static double g_px[HOURS + 1];

static void make_series(void)
{
    es_make_series(g_t, g_px, HOURS + 1);
}

typedef es_rig rig;

static int g_flatten;

static void rig_open(rig *g, coce_book *book)
{
    es_rig_base(g, NULL);
    es_sleeve_opts(g, g_t, g_px, HOURS + 1);
    coce_engine_opts eo;
    es_engine_opts(g, book, &eo);
    eo.flatten_at_end = book == NULL && g_flatten;
    coce_err err;
    int rc = coce_engine_new(&g->e, &eo, &err);
    assert_int_equal(rc, COCE_OK);
}

static void rig_close(rig *g)
{
    es_rig_close(g, 0);
}

/* Options held in `b`, by kind: k[0] calls, k[1] puts. */
static void count_kinds(const coce_book *b, char k[2])
{
    k[0] = k[1] = 0;
    for (size_t i = 0; i < coce_book_position_count(b); i++) {
        const coce_position *p = coce_book_position_at(b, i);
        size_t L = strlen(p->symbol);
        k[p->symbol[L - 1] == 'P'] += 1;
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
    es_run_trades(&g, T0 + 60000, end);
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
    es_run_trades(&g, T0 + 60000, T0 + 9 * 86400000LL);
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
    char kinds[2];
    count_kinds(back, kinds);
    es_run_trades(&g2, T0 + 9 * 86400000LL + 600000,
                  T0 + 10 * 86400000LL + 60000);
    const coce_book *b2 = coce_engine_book(g2.e);
    char kinds2[2];
    count_kinds(b2, kinds2);
    for (int k = 0; k < 2; k++)
        if (kinds[k] > 0)
            assert_true(kinds2[k] <= kinds[k]);
    assert_true(count_options(b2) > 0);
    (void)buys;
    rig_close(&g2);
    coce_test_rmtree(dir);
}

/* Budget periods of the rig: the vol window (7 days of hourly samples from
 * T0) makes the first decision at T0 + 7 days; periods last 7 days. */
#define BUD_FIRST (T0 + 7 * 86400000LL)
#define BUD_PERIOD (7 * 86400000LL)
#define BUD_NPER 6
#define BUD_USD (0.01 * 2e5) /* budget_share x fixed equity */

/* USD spent on option buys (premium + fee; a USD book) per budget period,
 * from the journal's fills; *n_buys counts them. */
static void period_spend(coce_journal *j, double spend[BUD_NPER],
                         size_t *n_buys, int64_t buy_ms[64])
{
    int64_t last = 0;
    assert_int_equal(coce_journal_last_seq(j, &last, NULL), COCE_OK);
    for (int k = 0; k < BUD_NPER; k++)
        spend[k] = 0;
    *n_buys = 0;
    for (int64_t q = 1; q <= last; q++) {
        coce_journal_event ev;
        assert_int_equal(coce_journal_get(j, q, &ev, NULL), COCE_OK);
        if (ev.kind != COCE_JOURNAL_FILL || ev.side <= 0 ||
            ev.asset_id < COCE_ENGINE_OPTION_BASE)
            continue;
        int64_t per = (ev.time_ms - BUD_FIRST) / BUD_PERIOD;
        assert_true(ev.time_ms >= BUD_FIRST && per < BUD_NPER);
        spend[per] += ev.qty * ev.price + ev.fee;
        if (*n_buys < 64)
            buy_ms[*n_buys] = ev.time_ms;
        ++*n_buys;
    }
}

/* Runs [T0, end] in one engine, or restarted once at `restart` (state
 * file and the same journal); the spend per period of the whole run. */
static void run_with_restart(int64_t restart, int64_t end,
                             double spend[BUD_NPER], size_t *n_buys,
                             int64_t buy_ms[64])
{
    char dir[512], path[700];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    (void)snprintf(path, sizeof path, "%s/state.json", dir);
    rig g;
    es_rig_base(&g, dir);
    es_sleeve_opts(&g, g_t, g_px, HOURS + 1);
    coce_engine_opts eo;
    es_engine_opts(&g, NULL, &eo);
    es_engine_new(&g, &eo);
    es_run_trades(&g, T0 + 60000, restart > 0 ? restart : end);
    if (restart > 0) {
        assert_int_equal(coce_state_save(coce_engine_book(g.e), path, NULL),
                         COCE_OK);
        es_rig_close(&g, 1);
        coce_book *back = NULL;
        assert_int_equal(coce_state_load(path, &back, NULL), COCE_OK);
        es_rig_base(&g, dir);
        es_sleeve_opts(&g, g_t, g_px, HOURS + 1);
        es_engine_opts(&g, back, &eo);
        es_engine_new(&g, &eo);
        es_run_trades(&g, restart + 600000, end);
    }
    period_spend(g.journal, spend, n_buys, buy_ms);
    es_rig_close(&g, 0);
}

/* A restart does not spend a period's premium budget twice: restarted
 * just after a buy, the run spends in that period what the uninterrupted
 * run spends, never more than the period budget. */
static void test_restart_keeps_period_spend(void **state)
{
    (void)state;
    make_series();
    const int64_t end = T0 + (int64_t)HOURS * 3600000LL;
    double ref[BUD_NPER];
    size_t nb = 0;
    int64_t buy_ms[64];
    run_with_restart(0, end, ref, &nb, buy_ms);
    assert_true(nb > 2);
    for (int k = 0; k < BUD_NPER; k++)
        assert_true(ref[k] <= BUD_USD * (1 + 1e-12));
    /* both kinds bought at the first decision: restarted 20 minutes after
     * that buy (the same day), a fresh budget would buy again and spend
     * ~1.5 budgets in period 0 */
    assert_true(ref[0] > 0.9 * BUD_USD);
    /* restarts before the first decision (no period yet) and 20 minutes
     * after each buy */
    for (size_t i = 0; i <= nb && i < 64; i++) {
        double got[BUD_NPER];
        size_t nb2 = 0;
        int64_t b2[64];
        run_with_restart(i < nb ? buy_ms[i] + 1200000 : T0 + 3 * 86400000LL,
                         end, got, &nb2, b2);
        assert_int_equal(nb2, nb);
        for (int k = 0; k < BUD_NPER; k++) {
            assert_true(got[k] <= BUD_USD * (1 + 1e-12));
            assert_close(got[k], ref[k], 1e-12, 1e-9);
        }
    }
}

/* A kill-switch halt stops sleeve opens too. */
static void test_halt_stops_opens(void **state)
{
    (void)state;
    make_series();
    coce_book *book = es_halted_book();
    rig g;
    rig_open(&g, book);
    es_run_trades(&g, T0 + 60000, T0 + 12 * 86400000LL);
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
    coce_engine_opts eo;
    es_rig_no_feed(&g, &eo);
    g.so.u[0].t_ms = g_t;
    g.so.u[0].px = g_px;
    g.so.u[0].n = 2;
    coce_err err;
    assert_int_equal(coce_engine_new(&g.e, &eo, &err), COCE_ECONFIG);
    assert_non_null(strstr(err.msg, "sleeve"));
    eo.feed_trade = es_feed;
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
        cmocka_unit_test(test_restart_keeps_period_spend),
        cmocka_unit_test(test_halt_stops_opens),
        cmocka_unit_test(test_live_refused),
        cmocka_unit_test(test_var_premium_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
