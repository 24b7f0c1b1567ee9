/* Convexity sleeve: selection on hand fixtures, sizing helpers, and the
 * back-test kernel on crash, flat and random paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options/sleeve.h"
#include "testutil.h"
#include "utils/rng.h"

#define DAY 86400000LL
#define T0 1609459200000LL /* 2021-01-01 00:00 UTC, a Friday */

static void mk(coce_instrument *in, coce_ticker *tk, const char *name,
               double delta, double bid, double ask, double oi, double vega)
{
    assert_int_equal(coce_instrument_parse_name(name, in, NULL), COCE_OK);
    in->tick_size = 0.0005;
    in->min_trade_amount = 0.1;
    in->contract_size = 1.0;
    memset(tk, 0, sizeof *tk);
    strcpy(tk->name, name);
    tk->underlying_price = 40000.0;
    tk->delta = delta;
    tk->best_bid_price = bid;
    tk->best_ask_price = ask;
    tk->open_interest = oi;
    tk->vega = vega;
    tk->mark_iv = 90.0;
}

static void test_select_fixture(void **state)
{
    (void)state;
    coce_instrument in[9];
    coce_ticker tk[8];
    /* now = 2021-01-01 08:00; 29JAN21 is 28 days away, 8JAN21 7 days */
    int64_t now = T0 + 8 * 3600000LL;
    mk(&in[0], &tk[0], "BTC-29JAN21-30000-P", -0.10, 0.010, 0.011, 100,
       20); /* mid */
    mk(&in[1], &tk[1], "BTC-29JAN21-28000-P", -0.06, 0.005, 0.006, 100,
       18); /* ok */
    mk(&in[2], &tk[2], "BTC-29JAN21-50000-C", 0.12, 0.012, 0.013, 100,
       22); /* ok */
    mk(&in[3], &tk[3], "BTC-29JAN21-36000-P", -0.30, 0.05, 0.051, 100,
       40); /* delta */
    mk(&in[4], &tk[4], "BTC-26MAR21-20000-P", -0.10, 0.01, 0.011, 100,
       30); /* days */
    mk(&in[5], &tk[5], "BTC-29JAN21-29000-P", -0.08, 0.007, 0.008, 1,
       19); /* OI */
    mk(&in[6], &tk[6], "BTC-29JAN21-27000-P", -0.05, 0.001, 0.004, 100,
       15); /* spread */
    mk(&in[7], &tk[7], "BTC-29JAN21-26000-P", -0.05, 0.0, 0.004, 100,
       15); /* no bid */
    /* an instrument without ticker, and a future (ignored) */
    coce_instrument extra;
    assert_int_equal(
        coce_instrument_parse_name("BTC-29JAN21-25000-P", &in[8], NULL), 0);
    assert_int_equal(coce_instrument_parse_name("BTC-29JAN21", &extra, NULL),
                     0);
    coce_sleeve_rules r;
    coce_sleeve_rules_default(&r);
    coce_sleeve_choice ch[4];
    size_t n;
    coce_sleeve_rejects rej;
    assert_int_equal(
        coce_sleeve_select(&r, in, 9, tk, 8, now, ch, 4, &n, &rej, NULL),
        COCE_OK);
    assert_int_equal(rej.seen, 9);
    assert_int_equal(rej.accepted, 3);
    assert_int_equal(rej.delta, 1);
    assert_int_equal(rej.days, 1);
    assert_int_equal(rej.open_interest, 1);
    assert_int_equal(rej.spread, 1);
    assert_int_equal(rej.no_quote, 2);
    assert_int_equal(n, 3);
    /* DELTA_MID: |0.10 - 0.10| < |0.12 - 0.10| < |0.06 - 0.10| */
    assert_string_equal(in[ch[0].inst].name, "BTC-29JAN21-30000-P");
    assert_string_equal(in[ch[1].inst].name, "BTC-29JAN21-50000-C");
    assert_string_equal(in[ch[2].inst].name, "BTC-29JAN21-28000-P");
    assert_close(ch[0].days, 28.0, 1e-12, 0);
    assert_close(ch[0].mid, 0.0105, 1e-12, 0);
    assert_close(ch[0].spread, 0.001 / 0.0105, 1e-12, 0);
    assert_close(ch[0].score, 0.0, 0, 1e-12);
    assert_close(ch[0].cost_per_vega, 0.011 * 40000 / 20, 1e-12, 0);
    assert_int_equal(ch[0].ticker, 0);
    /* cap 1 keeps the best; VEGA_COST ranks by ask * F / vega */
    r.rank = COCE_SLEEVE_RANK_VEGA_COST;
    assert_int_equal(
        coce_sleeve_select(&r, in, 9, tk, 8, now, ch, 1, &n, NULL, NULL),
        COCE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(in[ch[0].inst].name, "BTC-29JAN21-28000-P");
    /* puts only */
    r.calls = 0;
    assert_int_equal(
        coce_sleeve_select(&r, in, 9, tk, 8, now, ch, 4, &n, &rej, NULL),
        COCE_OK);
    assert_int_equal(rej.kind, 1);
    assert_int_equal(n, 2);
    r.puts = 0;
    r.calls = 1;
    assert_int_equal(
        coce_sleeve_select(&r, in, 9, tk, 8, now, ch, 4, &n, &rej, NULL),
        COCE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ch[0].type, COCE_OPT_CALL);
    /* errors */
    r.delta_min = 0.3;
    assert_int_equal(
        coce_sleeve_select(&r, in, 9, tk, 8, now, ch, 4, &n, NULL, NULL),
        COCE_EINVAL);
    assert_int_equal(
        coce_sleeve_select(&r, NULL, 9, tk, 8, now, ch, 4, &n, NULL, NULL),
        COCE_EINVAL);
}

static void test_rules_and_helpers(void **state)
{
    (void)state;
    coce_config cfg;
    coce_config_defaults(&cfg);
    coce_sleeve_rules r;
    coce_err err;
    assert_int_equal(coce_sleeve_rules_from_config(&cfg, &r, &err), COCE_OK);
    assert_true(r.calls && r.puts);
    assert_true(r.delta_min == cfg.options.delta_min &&
                r.roll_days == (double)cfg.options.roll_days &&
                r.budget_share == cfg.options.budget_share);
    strcpy(cfg.options.kind, "put");
    assert_int_equal(coce_sleeve_rules_from_config(&cfg, &r, &err), COCE_OK);
    assert_true(!r.calls && r.puts);
    strcpy(cfg.options.kind, "call");
    assert_int_equal(coce_sleeve_rules_from_config(&cfg, &r, &err), COCE_OK);
    assert_true(r.calls && !r.puts);
    strcpy(cfg.options.kind, "strangle");
    assert_int_equal(coce_sleeve_rules_from_config(&cfg, &r, &err),
                     COCE_ECONFIG);
    assert_non_null(strstr(err.msg, "options.kind"));
    strcpy(cfg.options.kind, "both");
    cfg.options.delta_min = 0.5;
    assert_int_equal(coce_sleeve_rules_from_config(&cfg, &r, &err),
                     COCE_ECONFIG);
    cfg.options.delta_min = 0.05;
    cfg.options.min_days = 90;
    assert_int_equal(coce_sleeve_rules_from_config(&cfg, &r, &err),
                     COCE_ECONFIG);
    assert_int_equal(coce_sleeve_rules_from_config(NULL, &r, &err),
                     COCE_EINVAL);

    /* Deribit fee: 0.0003 coin capped at 12.5 % of the premium */
    assert_close(coce_sleeve_fee(0.01, 0.0003, 0.125), 0.0003, 1e-15, 0);
    assert_close(coce_sleeve_fee(0.001, 0.0003, 0.125), 0.000125, 1e-15, 0);
    double a;
    assert_int_equal(coce_sleeve_size(0.1, 0.0095, 0.0003, 0.1, &a), COCE_OK);
    assert_close(a, 10.2, 1e-12, 0); /* 102 lots of 0.1 at 0.00098 */
    assert_true(a * (0.0095 + 0.0003) <= 0.1);
    assert_int_equal(coce_sleeve_size(0.0009, 0.0095, 0.0003, 0.1, &a),
                     COCE_OK);
    assert_true(a == 0.0);
    assert_int_equal(coce_sleeve_size(-1.0, 0.0095, 0.0003, 0.1, &a), COCE_OK);
    assert_true(a == 0.0);
    assert_int_equal(coce_sleeve_size(1.0, 0.0, 0.0003, 0.1, &a), COCE_EINVAL);
    coce_sleeve_rules_default(&r);
    assert_true(coce_sleeve_must_roll(&r, T0, T0 + 3 * DAY));
    assert_false(coce_sleeve_must_roll(&r, T0, T0 + 3 * DAY + 1));
    assert_int_equal(coce_sleeve_check_sell(1.0, 1.0, &err), COCE_OK);
    assert_int_equal(coce_sleeve_check_sell(1.0, 1.5, &err), COCE_ERANGE);
    assert_non_null(strstr(err.msg, "short"));
    assert_int_equal(coce_sleeve_check_sell(0.0, 0.1, &err), COCE_ERANGE);
    assert_int_equal(coce_sleeve_check_sell(1.0, -0.1, &err), COCE_EINVAL);

    coce_sleeve_cfg c;
    coce_sleeve_cfg_default(&c);
    /* put skew steeper than call skew at the same distance in log strike */
    double sp = coce_sleeve_surface(&c, 0.6, 100.0, 100.0 / 1.5);
    double sc = coce_sleeve_surface(&c, 0.6, 100.0, 150.0);
    assert_close(sp, 0.6 * (1 + 1.0 * log(1.5)), 1e-14, 0);
    assert_close(sc, 0.6 * (1 + 0.5 * log(1.5)), 1e-14, 0);
    assert_true(sp > sc);
    assert_true(coce_sleeve_surface(&c, 0.0, 100, 100) == c.vol_floor);
    assert_true(coce_sleeve_surface(&c, 9.0, 100, 100) == c.vol_cap);
}

/* Replays the events: every ROLL/SETTLE removes exactly what a BUY added
 * (never short), BUY amounts > 0, spend per period within the budget. */
static void check_events(const coce_sleeve_result *res, double period_days,
                         int64_t t_first)
{
    struct {
        int type;
        double strike;
        int64_t expiry;
        double amount;
    } held[64];
    size_t nh = 0;
    double spend[64] = {0};
    assert_true(res->n_events <= res->events_cap);
    for (size_t i = 0; i < res->n_events; i++) {
        const coce_sleeve_event *e = &res->events[i];
        assert_true(e->amount > 0.0);
        if (e->what == COCE_SLEEVE_BUY) {
            assert_true(nh < 64);
            held[nh].type = e->type;
            held[nh].strike = e->strike;
            held[nh].expiry = e->expiry_ms;
            held[nh].amount = e->amount;
            nh++;
            size_t p = (size_t)((e->t_ms - t_first) / (period_days * DAY));
            assert_true(p < 64);
            spend[p] += e->amount * (e->price_coin + e->fee_coin) * e->spot;
            assert_true(spend[p] <= res->budget_usd * (1 + 1e-12));
            assert_true(e->budget_left_usd >= -1e-9);
            continue;
        }
        size_t k = 0;
        while (k < nh &&
               !(held[k].type == (int)e->type && held[k].strike == e->strike &&
                 held[k].expiry == e->expiry_ms))
            k++;
        assert_true(k < nh); /* a sell/settle only of a held long */
        assert_int_equal(
            coce_sleeve_check_sell(held[k].amount, e->amount, NULL), COCE_OK);
        assert_true(e->amount == held[k].amount);
        if (e->what == COCE_SLEEVE_SETTLE || e->price_coin > 0.0)
            held[k] = held[--nh];
    }
    assert_true(res->max_period_spend_usd <= res->budget_usd * (1 + 1e-12));
}

static void check_sums(const coce_sleeve_result *res, const double *pnl,
                       const double *val, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += pnl[i];
    assert_close(s, res->pnl_usd, 1e-9, 1e-6);
    assert_close(val[n - 1], res->final_value_usd, 1e-12, 1e-9);
    assert_close(res->pnl_coin,
                 res->proceeds_coin + res->final_value_coin -
                     res->premium_coin - res->fees_coin,
                 1e-12, 1e-12);
}

#define NMAX 3000
static int64_t g_t[NMAX];
static double g_px[NMAX], g_pnl[NMAX], g_val[NMAX];
static coce_sleeve_event g_ev[512];

static void setup_res(coce_sleeve_result *res)
{
    memset(res, 0, sizeof *res);
    res->step_pnl_usd = g_pnl;
    res->step_value_usd = g_val;
    res->events = g_ev;
    res->events_cap = 512;
}

/* 90 days of a 60 % vol random walk, then the price halves in 5 days. */
static void test_crash_path(void **state)
{
    (void)state;
    coce_rng rng;
    coce_rng_init(&rng, 7);
    size_t n = 130;
    g_px[0] = 40000.0;
    for (size_t i = 0; i < n; i++) {
        g_t[i] = T0 + (int64_t)i * DAY;
        if (i > 0)
            g_px[i] =
                g_px[i - 1] * exp(0.6 / sqrt(365.0) * coce_rng_normal(&rng));
        if (i >= 90 && i < 95)
            g_px[i] = g_px[i - 1] * pow(0.5, 0.2);
    }
    coce_sleeve_cfg c;
    coce_sleeve_cfg_default(&c);
    c.rules.calls = 0;
    coce_sleeve_result res;
    setup_res(&res);
    coce_err err;
    assert_int_equal(coce_sleeve_run(&c, g_t, g_px, n, 1e6, &res, &err),
                     COCE_OK);
    assert_int_equal(res.first_trade, 30);
    assert_true(res.n_buys >= 2);
    assert_close(res.budget_usd, 1e4, 1e-12, 0);
    check_events(&res, 30.0, g_t[res.first_trade]);
    check_sums(&res, g_pnl, g_val, n);
    /* the puts pay off: the sleeve gains over the crash days and overall */
    double crash = 0.0;
    for (size_t i = 90; i < 95; i++)
        crash += g_pnl[i];
    printf("crash: premium %.0f USD, pnl %.0f USD (%.3f coin), crash days "
           "%+.0f USD, buys %zu rolls %zu itm %zu otm %zu\n",
           res.premium_usd, res.pnl_usd, res.pnl_coin, crash, res.n_buys,
           res.n_rolls, res.n_settled_itm, res.n_settled_otm);
    assert_true(crash > res.budget_usd);
    assert_true(res.pnl_usd > 0.0);
    assert_true(res.min_held > 0.0);
}

/* A flat price: implied vol at the floor, every option expires or is sold
 * for nearly nothing: the premium decays to ~0. */
static void test_flat_path(void **state)
{
    (void)state;
    size_t n = 400;
    for (size_t i = 0; i < n; i++) {
        g_t[i] = T0 + (int64_t)i * DAY;
        g_px[i] = 2000.0;
    }
    coce_sleeve_cfg c;
    coce_sleeve_cfg_default(&c);
    c.min_trade_amount = 1.0; /* ETH lots */
    coce_sleeve_result res;
    setup_res(&res);
    assert_int_equal(coce_sleeve_run(&c, g_t, g_px, n, 5e6, &res, NULL),
                     COCE_OK);
    check_events(&res, 30.0, g_t[res.first_trade]);
    check_sums(&res, g_pnl, g_val, n);
    printf("flat: premium %.0f USD, proceeds %.0f, fees %.0f, pnl %.0f, buys "
           "%zu, itm %zu otm %zu\n",
           res.premium_usd, res.proceeds_usd, res.fees_usd, res.pnl_usd,
           res.n_buys, res.n_settled_itm, res.n_settled_otm);
    assert_true(res.n_buys >= 10);
    assert_int_equal(res.n_settled_itm, 0);
    assert_true(res.proceeds_usd < 0.1 * res.premium_usd);
    assert_true(res.pnl_usd < -0.85 * (res.premium_usd + res.fees_usd));
    assert_true(res.pnl_usd >= -(res.premium_usd + res.fees_usd));
}

/* Hourly random paths with jumps, both kinds, both ranks: the budget of
 * every period holds and no position ever goes short. */
static void test_random_paths_budget(void **state)
{
    (void)state;
    size_t n = 24 * 110;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        coce_rng rng;
        coce_rng_init(&rng, seed);
        g_px[0] = 30000.0;
        for (size_t i = 0; i < n; i++) {
            g_t[i] = T0 + (int64_t)i * 3600000LL;
            if (i > 0) {
                double z = coce_rng_normal(&rng) * 0.8 / sqrt(365.0 * 24);
                if (coce_rng_uniform(&rng) < 0.002)
                    z += coce_rng_uniform(&rng) < 0.5 ? -0.15 : 0.12;
                g_px[i] = g_px[i - 1] * exp(z);
            }
        }
        coce_sleeve_cfg c;
        coce_sleeve_cfg_default(&c);
        c.rules.rank =
            seed % 2 ? COCE_SLEEVE_RANK_VEGA_COST : COCE_SLEEVE_RANK_DELTA_MID;
        c.rules.budget_period_days = 14.0;
        c.iv_scale = 1.1;
        coce_sleeve_result res;
        setup_res(&res);
        assert_int_equal(coce_sleeve_run(&c, g_t, g_px, n, 2e5, &res, NULL),
                         COCE_OK);
        assert_true(res.n_buys >= 4);
        check_events(&res, 14.0, g_t[res.first_trade]);
        check_sums(&res, g_pnl, g_val, n);
    }
}

static void test_run_errors_and_small(void **state)
{
    (void)state;
    coce_sleeve_cfg c;
    coce_sleeve_cfg_default(&c);
    coce_sleeve_result res;
    coce_err err;
    for (size_t i = 0; i < 10; i++) {
        g_t[i] = T0 + (int64_t)i * DAY;
        g_px[i] = 100.0 + (double)i;
    }
    setup_res(&res);
    assert_int_equal(coce_sleeve_run(&c, g_t, g_px, 1, 1e6, &res, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_sleeve_run(&c, g_t, g_px, 10, 0.0, &res, &err),
                     COCE_EINVAL);
    coce_sleeve_cfg bad = c;
    bad.tick_coin = 0.0;
    assert_int_equal(coce_sleeve_run(&bad, g_t, g_px, 10, 1e6, &res, &err),
                     COCE_EINVAL);
    g_px[4] = -1.0;
    assert_int_equal(coce_sleeve_run(&c, g_t, g_px, 10, 1e6, &res, &err),
                     COCE_EDATA);
    assert_non_null(strstr(err.msg, "px[4]"));
    g_px[4] = 104.0;
    g_t[6] = g_t[5];
    assert_int_equal(coce_sleeve_run(&c, g_t, g_px, 10, 1e6, &res, &err),
                     COCE_EORDER);
    g_t[6] = T0 + 6 * DAY;
    /* shorter than the vol window: no trade, no PnL; no buffers needed */
    memset(&res, 0, sizeof res);
    assert_int_equal(coce_sleeve_run(&c, g_t, g_px, 10, 1e6, &res, &err),
                     COCE_OK);
    assert_int_equal(res.first_trade, 10);
    assert_int_equal(res.n_buys, 0);
    assert_true(res.pnl_usd == 0.0 && res.n_events == 0);
    /* events beyond the buffer are counted, not stored */
    size_t n = 200;
    for (size_t i = 0; i < n; i++) {
        g_t[i] = T0 + (int64_t)i * DAY;
        g_px[i] = 40000.0 * exp(0.3 * sin((double)i / 9.0));
    }
    coce_sleeve_event ev[2];
    memset(&res, 0, sizeof res);
    res.events = ev;
    res.events_cap = 2;
    assert_int_equal(coce_sleeve_run(&c, g_t, g_px, n, 1e6, &res, &err),
                     COCE_OK);
    assert_true(res.n_events > 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_fixture),
        cmocka_unit_test(test_rules_and_helpers),
        cmocka_unit_test(test_crash_path),
        cmocka_unit_test(test_flat_path),
        cmocka_unit_test(test_random_paths_budget),
        cmocka_unit_test(test_run_errors_and_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
