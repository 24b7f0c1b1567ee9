/* The live route's choice among listed options (coce_sleeve_select_listed)
 * and the book summary parser (coce_book_summary_parse). Deltas are checked
 * against the closed form N(d1) (Black 1976) written out here with erfc,
 * not through black76.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "options/instruments.h"
#include "options/sleeve.h"
#include "testutil.h"

#define DAY 86400000LL
#define T0 1546300800000LL /* 2019-01-01 00:00 UTC */
#define F0 4000.0
#define SIG 0.8

static double ncdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

/* Black-76 call delta N(d1) and put delta N(d1) - 1, undiscounted. */
static double delta_cf(coce_opt_type type, double F, double K, double T,
                       double s)
{
    double d1 = (log(F / K) + 0.5 * s * s * T) / (s * sqrt(T));
    return type == COCE_OPT_CALL ? ncdf(d1) : ncdf(d1) - 1.0;
}

static void inst(coce_instrument *in, coce_opt_type type, double K,
                 int64_t expiry, int active)
{
    memset(in, 0, sizeof *in);
    (void)snprintf(in->name, sizeof in->name, "BTC-X-%g-%c", K,
                   type == COCE_OPT_CALL ? 'C' : 'P');
    (void)snprintf(in->currency, sizeof in->currency, "BTC");
    in->kind = COCE_INST_OPTION;
    in->option_type = type;
    in->strike = K;
    in->expiry_ms = expiry;
    in->tick_size = 0.0001;
    in->n_steps = 1;
    in->step_above[0] = 0.005;
    in->step_tick[0] = 0.0005;
    in->contract_size = 1;
    in->min_trade_amount = 0.1;
    in->is_active = active;
}

static void summ(coce_ticker *t, const coce_instrument *in, double bid,
                 double ask, double oi, double iv)
{
    memset(t, 0, sizeof *t);
    (void)snprintf(t->name, sizeof t->name, "%s", in->name);
    t->best_bid_price = bid;
    t->best_ask_price = ask;
    t->open_interest = oi;
    t->mark_iv = iv;
    t->underlying_price = NAN;
    t->delta = NAN;
}

static void cfg(coce_sleeve_cfg *c)
{
    coce_sleeve_cfg_default(c);
    c->rules.min_days = 3;
    c->rules.max_days = 30;
}

/* Strike with call delta `d` at SIG (the closed form inverted by
 * bisection). */
static double k_for(double d, double T)
{
    double lo = F0, hi = 5 * F0;
    for (int i = 0; i < 200; i++) {
        double m = 0.5 * (lo + hi);
        if (delta_cf(COCE_OPT_CALL, F0, m, T, SIG) > d)
            lo = m;
        else
            hi = m;
    }
    return nearbyint(0.5 * (lo + hi));
}

static void test_rules(void **state)
{
    (void)state;
    coce_sleeve_cfg c;
    cfg(&c);
    const int64_t exp1 = T0 + 10 * DAY, exp2 = T0 + 20 * DAY;
    const double T1 = 10.0 / 365.0, T2 = 20.0 / 365.0;
    coce_instrument in[9];
    coce_ticker t[8];
    inst(&in[0], COCE_OPT_CALL, k_for(0.10, T1), exp1, 1); /* low OI */
    inst(&in[1], COCE_OPT_CALL, k_for(0.101, T2), exp2, 1); /* wide */
    inst(&in[2], COCE_OPT_CALL, k_for(0.12, T1), exp1, 1);  /* the pick */
    inst(&in[3], COCE_OPT_CALL, k_for(0.10, T1) + 1, exp1, 0); /* inactive */
    inst(&in[4], COCE_OPT_CALL, k_for(0.10, T1), T0 + 2 * DAY, 1); /* days */
    inst(&in[5], COCE_OPT_CALL, F0 + 1, exp1, 1);              /* delta */
    inst(&in[6], COCE_OPT_PUT, 3000, exp1, 1);                 /* kind */
    inst(&in[7], COCE_OPT_CALL, k_for(0.13, T1), exp1, 1);     /* price */
    inst(&in[8], COCE_OPT_CALL, 4500, exp1, 1);
    in[8].kind = COCE_INST_FUTURE; /* not an option: not seen */
    summ(&t[0], &in[0], 0.0010, 0.0011, 5.0, 80.0);
    summ(&t[1], &in[1], 0.0001, 0.0020, 500.0, 80.0);
    summ(&t[2], &in[2], 0.0010, 0.0012, 50.0, 80.0);
    summ(&t[3], &in[3], 0.0010, 0.0011, 50.0, 80.0);
    summ(&t[4], &in[4], 0.0010, 0.0011, 50.0, 80.0);
    summ(&t[5], &in[5], 0.05, 0.051, 50.0, 80.0);
    summ(&t[6], &in[6], 0.0010, 0.0011, 50.0, 80.0);
    summ(&t[7], &in[7], 0.00004, 0.00005, 50.0, 80.0); /* under a tick */
    coce_sleeve_choice ch;
    coce_sleeve_rejects rej;
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, F0, 1.2,
                                               in, 9, t, 8, &ch, &rej, NULL),
                     COCE_OK);
    assert_int_equal(ch.inst, 2);
    assert_int_equal(ch.ticker, 2);
    assert_close(ch.delta, delta_cf(COCE_OPT_CALL, F0, in[2].strike, T1, SIG),
                 1e-9, 1e-12);
    assert_close(ch.days, 10.0, 0, 1e-12);
    assert_close(ch.open_interest, 50.0, 0, 0);
    assert_close(ch.spread, 0.0002 / 0.0011, 1e-12, 0);
    assert_close(ch.venue_ask, 0.0012, 0, 1e-15);
    assert_true(ch.model_ask > 0.0012); /* a 1.2 model vol: dearer */
    assert_close(ch.limit, 0.0012, 0, 1e-15);
    assert_close(ch.iv, 0.8, 0, 1e-15);
    assert_close(ch.underlying, F0, 0, 0);
    assert_int_equal(rej.seen, 8);
    assert_int_equal(rej.kind, 1);
    assert_int_equal(rej.inactive, 1);
    assert_int_equal(rej.days, 1);
    assert_int_equal(rej.delta, 1);
    assert_int_equal(rej.open_interest, 1);
    assert_int_equal(rej.spread, 1);
    assert_int_equal(rej.price, 1);
    assert_int_equal(rej.accepted, 1);

    /* wider rules: the one nearest the band's middle (0.10) wins */
    c.rules.min_open_interest = 1;
    c.rules.max_spread = 2;
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, F0, 1.2,
                                               in, 9, t, 8, &ch, NULL, NULL),
                     COCE_OK);
    assert_int_equal(ch.inst, 0);
    /* vega-cost rank picks the cheapest ask per vega instead */
    c.rules.rank = COCE_SLEEVE_RANK_VEGA_COST;
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, F0, 1.2,
                                               in, 9, t, 8, &ch, NULL, NULL),
                     COCE_OK);
    assert_true(isfinite(ch.cost_per_vega) && ch.cost_per_vega > 0);
    assert_close(ch.score, ch.cost_per_vega, 0, 0);

    /* puts: only one listed and out of the band */
    cfg(&c);
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_PUT, T0, F0, 1.2,
                                               in, 9, t, 8, &ch, &rej, NULL),
                     COCE_ENOTFOUND);
    assert_int_equal(rej.kind, 7);
    assert_int_equal(rej.delta, 1);
    assert_int_equal(rej.accepted, 0);
}

/* Missing data: no summary (model vol, model ask), no OI, one-sided book;
 * the summary's underlying_price is the forward. */
static void test_missing_data(void **state)
{
    (void)state;
    coce_sleeve_cfg c;
    cfg(&c);
    const int64_t exp1 = T0 + 10 * DAY;
    const double T1 = 10.0 / 365.0;
    coce_instrument in[1];
    inst(&in[0], COCE_OPT_CALL, k_for(0.08, T1), exp1, 1);
    coce_sleeve_choice ch;
    /* no summary: the model surface vol gives the delta */
    double sig = coce_sleeve_surface(&c, SIG, F0, in[0].strike);
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, F0, SIG,
                                               in, 1, NULL, 0, &ch, NULL, NULL),
                     COCE_OK);
    assert_int_equal(ch.ticker, SIZE_MAX);
    assert_close(ch.delta, delta_cf(COCE_OPT_CALL, F0, in[0].strike, T1, sig),
                 1e-9, 1e-12);
    assert_true(isnan(ch.open_interest) && isnan(ch.spread) &&
                isnan(ch.venue_ask));
    /* the model ask down to the instrument's grid (0.0005 above 0.005) */
    double tick = ch.model_ask >= 0.005 ? 0.0005 : 0.0001;
    assert_close(ch.limit, floor(ch.model_ask / tick + 1e-9) * tick, 0,
                 1e-15);
    /* one-sided, no OI, its own forward and no iv */
    coce_ticker t;
    summ(&t, &in[0], 0.0, 0.0, NAN, NAN);
    t.underlying_price = 4100.0;
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, F0, SIG,
                                               in, 1, &t, 1, &ch, NULL, NULL),
                     COCE_OK);
    assert_close(ch.underlying, 4100.0, 0, 0);
    assert_close(ch.delta,
                 delta_cf(COCE_OPT_CALL, 4100.0, in[0].strike, T1, sig), 1e-9,
                 1e-12);
    assert_true(isnan(ch.spread));
}

static void test_errors(void **state)
{
    (void)state;
    coce_sleeve_cfg c;
    cfg(&c);
    coce_sleeve_choice ch;
    coce_instrument in;
    inst(&in, COCE_OPT_CALL, 5000, T0 + 10 * DAY, 1);
    coce_err err;
    assert_int_equal(coce_sleeve_select_listed(NULL, COCE_OPT_CALL, T0, F0, 1,
                                               &in, 1, NULL, 0, &ch, NULL,
                                               &err),
                     COCE_EINVAL);
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, F0, 1,
                                               NULL, 1, NULL, 0, &ch, NULL,
                                               NULL),
                     COCE_EINVAL);
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, 0, 1,
                                               &in, 1, NULL, 0, &ch, NULL,
                                               &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "sigma_atm"));
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, F0, 0,
                                               &in, 1, NULL, 0, &ch, NULL,
                                               NULL),
                     COCE_EINVAL);
    c.rules.delta_min = 0.5;
    c.rules.delta_max = 0.1;
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, F0, 1,
                                               &in, 1, NULL, 0, &ch, NULL,
                                               NULL),
                     COCE_EINVAL);
    /* nothing listed */
    cfg(&c);
    coce_sleeve_rejects rej;
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, F0, 1,
                                               NULL, 0, NULL, 0, &ch, &rej,
                                               &err),
                     COCE_ENOTFOUND);
    assert_int_equal(rej.seen, 0);
    assert_non_null(strstr(err.msg, "none of 0"));
    /* expiry equal to the decision time with a negative roll: no delta */
    c.rules.min_days = 0;
    c.rules.roll_days = -1;
    inst(&in, COCE_OPT_CALL, 5000, T0, 1);
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, F0, 1,
                                               &in, 1, NULL, 0, &ch, &rej,
                                               NULL),
                     COCE_ENOTFOUND);
    assert_int_equal(rej.delta, 1);
    /* a malformed entry (strike 0): no delta, never a price */
    cfg(&c);
    inst(&in, COCE_OPT_CALL, 0, T0 + 10 * DAY, 1);
    assert_int_equal(coce_sleeve_select_listed(&c, COCE_OPT_CALL, T0, F0, 1,
                                               &in, 1, NULL, 0, &ch, &rej,
                                               NULL),
                     COCE_ENOTFOUND);
    assert_int_equal(rej.delta, 1);
}

static void test_summary_parse(void **state)
{
    (void)state;
    const char *env =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":["
        "{\"instrument_name\":\"BTC-29MAR19-5000-C\",\"bid_price\":0.001,"
        "\"ask_price\":0.0015,\"mark_price\":0.0012,\"mark_iv\":85.5,"
        "\"open_interest\":12.5,\"underlying_price\":4012.5,"
        "\"creation_timestamp\":1546300800000},"
        "{\"instrument_name\":\"BTC-29MAR19-3000-P\",\"bid_price\":null,"
        "\"ask_price\":null,\"mark_price\":0.0001}]}";
    coce_ticker t[2];
    size_t n = 0;
    assert_int_equal(coce_book_summary_parse(env, strlen(env), t, 2, &n, NULL),
                     COCE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(t[0].name, "BTC-29MAR19-5000-C");
    assert_close(t[0].best_bid_price, 0.001, 0, 0);
    assert_close(t[0].best_ask_price, 0.0015, 0, 0);
    assert_close(t[0].mark_iv, 85.5, 0, 0);
    assert_close(t[0].open_interest, 12.5, 0, 0);
    assert_close(t[0].underlying_price, 4012.5, 0, 0);
    assert_int_equal(t[0].timestamp_ms, 1546300800000LL);
    assert_true(isnan(t[0].delta));
    assert_close(t[1].best_bid_price, 0.0, 0, 0);
    assert_close(t[1].best_ask_price, 0.0, 0, 0);
    assert_true(isnan(t[1].open_interest) && isnan(t[1].mark_iv));
    assert_int_equal(t[1].timestamp_ms, 0);
    /* too small: the count, COCE_ERANGE; bare array */
    const char *bare = "[{\"instrument_name\":\"A\"},{\"instrument_name\":"
                       "\"B\"}]";
    assert_int_equal(coce_book_summary_parse(bare, strlen(bare), t, 1, &n,
                                             NULL),
                     COCE_ERANGE);
    assert_int_equal(n, 2);
    assert_string_equal(t[0].name, "A");
    coce_err err;
    const char *bad[] = {"[", "{\"result\":{}}", "[{\"mark_price\":1}]"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(coce_book_summary_parse(bad[i], strlen(bad[i]), t, 2,
                                                 &n, &err),
                         COCE_EPARSE);
    assert_non_null(strstr(err.msg, "[0].instrument_name"));
    assert_int_equal(coce_book_summary_parse(NULL, 0, t, 2, &n, NULL),
                     COCE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_missing_data),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_summary_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
