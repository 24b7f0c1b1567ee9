/* The streaming sleeve step: the back-test is a loop over it, it never
 * returns a short, its option names parse back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "options/instruments.h"
#include "options/sleeve.h"
#include "testutil.h"
#include "utils/rng.h"

#define N 1500 /* hourly samples: 62 days */
static int64_t g_t[N];
static double g_px[N];

static void make_series(uint64_t seed, double vol)
{
    coce_rng r;
    coce_rng_init(&r, seed);
    g_px[0] = 4000.0;
    for (size_t i = 0; i < N; i++) {
        g_t[i] = 1546300800000LL + (int64_t)i * 3600000LL;
        if (i > 0)
            g_px[i] = g_px[i - 1] * exp(vol / sqrt(24.0 * 365.0) *
                                        coce_rng_normal(&r));
    }
}

static void cfg_fast(coce_sleeve_cfg *c)
{
    coce_sleeve_cfg_default(c);
    c->vol_window_days = 7.0;
    c->rules.budget_period_days = 7.0;
    c->rules.min_days = 3.0;
    c->rules.max_days = 30.0;
}

/* The back-test equals a hand loop over the step with every intent filled
 * (and the step never sells more than it holds). */
static void test_run_is_step_loop(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        make_series(seed, seed % 2 ? 0.6 : 1.5);
        coce_sleeve_cfg c;
        cfg_fast(&c);
        static coce_sleeve_event evs[2000];
        coce_sleeve_result res;
        memset(&res, 0, sizeof res);
        res.events = evs;
        res.events_cap = 2000;
        assert_int_equal(coce_sleeve_run(&c, g_t, g_px, N, 2e5, &res, NULL),
                         COCE_OK);
        assert_true(res.n_buys >= 4);

        coce_sleeve_state st;
        coce_sleeve_state_init(&st);
        coce_sleeve_result acc;
        memset(&acc, 0, sizeof acc);
        size_t ne = 0;
        for (size_t i = 0; i < N; i++) {
            coce_sleeve_event out[COCE_SLEEVE_STEP_MAX];
            size_t k = 0;
            assert_int_equal(coce_sleeve_step(&c, &st, g_t, g_px, i + 1, 2e5,
                                              out, COCE_SLEEVE_STEP_MAX, &k,
                                              NULL),
                             COCE_OK);
            for (size_t e = 0; e < k; e++) {
                assert_true(out[e].amount > 0);
                if (out[e].what != COCE_SLEEVE_BUY) {
                    /* a sell or settle names a held option, never more */
                    double held = 0;
                    for (size_t q = 0; q < st.np; q++)
                        if (st.pos[q].strike == out[e].strike &&
                            st.pos[q].expiry_ms == out[e].expiry_ms &&
                            st.pos[q].type == out[e].type)
                            held = st.pos[q].amount;
                    assert_true(out[e].amount <= held * (1 + 1e-12));
                }
                assert_int_equal(out[e].t_ms, evs[ne].t_ms);
                assert_int_equal(out[e].what, evs[ne].what);
                assert_close(out[e].strike, evs[ne].strike, 0, 0);
                assert_close(out[e].amount, evs[ne].amount, 0, 0);
                assert_close(out[e].price_coin, evs[ne].price_coin, 0, 0);
                ne++;
                assert_int_equal(coce_sleeve_apply(&st, &out[e],
                                                   out[e].amount, NULL),
                                 COCE_OK);
                coce_sleeve_account(&acc, &out[e], out[e].amount);
            }
        }
        assert_int_equal(ne, res.n_events);
        assert_close(acc.premium_usd, res.premium_usd, 0, 0);
        assert_close(acc.proceeds_usd, res.proceeds_usd, 0, 0);
        assert_close(acc.fees_usd, res.fees_usd, 0, 0);
        assert_int_equal(acc.n_rolls + acc.n_settled_itm + acc.n_settled_otm,
                         res.n_rolls + res.n_settled_itm + res.n_settled_otm);
        assert_int_equal(st.np, res.n_open);
    }
}

/* The step cannot look ahead: changing every later sample leaves its
 * intents at sample i unchanged. */
static void test_no_lookahead(void **state)
{
    (void)state;
    make_series(7, 1.0);
    coce_sleeve_cfg c;
    cfg_fast(&c);
    coce_sleeve_state a, b;
    coce_sleeve_state_init(&a);
    coce_sleeve_state_init(&b);
    static double alt[N];
    memcpy(alt, g_px, sizeof alt);
    for (size_t i = 400; i < N; i++)
        alt[i] = g_px[i] * 3.0;
    for (size_t i = 0; i < 400; i++) {
        coce_sleeve_event oa[COCE_SLEEVE_STEP_MAX], ob[COCE_SLEEVE_STEP_MAX];
        size_t ka = 0, kb = 0;
        assert_int_equal(coce_sleeve_step(&c, &a, g_t, g_px, i + 1, 1e6, oa,
                                          COCE_SLEEVE_STEP_MAX, &ka, NULL),
                         COCE_OK);
        assert_int_equal(coce_sleeve_step(&c, &b, g_t, alt, i + 1, 1e6, ob,
                                          COCE_SLEEVE_STEP_MAX, &kb, NULL),
                         COCE_OK);
        assert_int_equal(ka, kb);
        for (size_t e = 0; e < ka; e++) {
            assert_memory_equal(&oa[e], &ob[e], sizeof oa[e]);
            assert_int_equal(coce_sleeve_apply(&a, &oa[e], oa[e].amount, NULL),
                             COCE_OK);
            assert_int_equal(coce_sleeve_apply(&b, &ob[e], ob[e].amount, NULL),
                             COCE_OK);
        }
    }
}

static void test_apply_errors(void **state)
{
    (void)state;
    coce_sleeve_state st;
    coce_sleeve_state_init(&st);
    coce_sleeve_event ev;
    memset(&ev, 0, sizeof ev);
    ev.what = COCE_SLEEVE_BUY;
    ev.type = COCE_OPT_PUT;
    ev.strike = 3000;
    ev.expiry_ms = 1000;
    ev.amount = 1.0;
    ev.price_coin = 0.01;
    ev.fee_coin = 0.0003;
    ev.spot = 4000;
    coce_err err;
    assert_int_equal(coce_sleeve_apply(&st, &ev, 0.0, &err), COCE_EINVAL);
    assert_int_equal(coce_sleeve_apply(&st, &ev, 1.0, &err), COCE_OK);
    assert_close(st.spent_kind[1], 1.0 * 0.0103 * 4000, 1e-12, 0);
    /* never short: a roll of more than held is refused */
    ev.what = COCE_SLEEVE_ROLL;
    assert_int_equal(coce_sleeve_apply(&st, &ev, 1.5, &err), COCE_ERANGE);
    assert_non_null(strstr(err.msg, "short"));
    assert_int_equal(coce_sleeve_apply(&st, &ev, 0.4, &err), COCE_OK);
    assert_close(st.pos[0].amount, 0.6, 1e-12, 0);
    /* no bid: kept to settlement */
    ev.price_coin = 0;
    assert_int_equal(coce_sleeve_apply(&st, &ev, 0.6, &err), COCE_OK);
    assert_int_equal(st.pos[0].abandoned, 1);
    ev.what = COCE_SLEEVE_SETTLE;
    assert_int_equal(coce_sleeve_apply(&st, &ev, 0.6, &err), COCE_OK);
    assert_int_equal(st.np, 0);
    assert_int_equal(coce_sleeve_apply(&st, &ev, 0.6, &err), COCE_ENOTFOUND);
    /* slots */
    ev.what = COCE_SLEEVE_BUY;
    for (int i = 0; i < COCE_SLEEVE_MAX_POS; i++)
        assert_int_equal(coce_sleeve_apply(&st, &ev, 1.0, NULL), COCE_OK);
    assert_int_equal(coce_sleeve_apply(&st, &ev, 1.0, &err), COCE_ERANGE);
    /* step arguments */
    coce_sleeve_cfg c;
    cfg_fast(&c);
    coce_sleeve_event out[COCE_SLEEVE_STEP_MAX];
    size_t k;
    int64_t t[2] = {0, 3600000};
    double px[2] = {100, -1};
    assert_int_equal(coce_sleeve_step(&c, &st, t, px, 2, 1e6, out, 3, &k, &err),
                     COCE_ERANGE);
    assert_int_equal(coce_sleeve_step(&c, &st, t, px, 2, 0.0, out,
                                      COCE_SLEEVE_STEP_MAX, &k, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_sleeve_step(&c, &st, t, px, 2, 1e6, out,
                                      COCE_SLEEVE_STEP_MAX, &k, &err),
                     COCE_EDATA);
    assert_int_equal(coce_sleeve_step(&c, &st, t, px, 0, 1e6, out,
                                      COCE_SLEEVE_STEP_MAX, &k, &err),
                     COCE_EINVAL);
}

static void test_option_name(void **state)
{
    (void)state;
    char name[64];
    /* 2021-09-24 08:00 UTC */
    int64_t exp = 1632470400000LL;
    assert_int_equal(coce_sleeve_option_name("BTC", COCE_OPT_CALL, 40000, exp,
                                             name, sizeof name),
                     COCE_OK);
    assert_string_equal(name, "BTC-24SEP21-40000-C");
    assert_int_equal(coce_sleeve_option_name("ETH", COCE_OPT_PUT, 137.5,
                                             1546934400000LL, name,
                                             sizeof name),
                     COCE_OK);
    assert_string_equal(name, "ETH-8JAN19-137d5-P");
    coce_instrument in;
    assert_int_equal(coce_instrument_parse_name(name, &in, NULL), COCE_OK);
    assert_int_equal(in.option_type, COCE_OPT_PUT);
    assert_close(in.strike, 137.5, 0, 0);
    assert_int_equal(in.expiry_ms, 1546934400000LL);
    assert_int_equal(coce_sleeve_option_name("BTC", COCE_OPT_CALL, 40000, exp,
                                             name, 8),
                     COCE_ERANGE);
    assert_int_equal(coce_sleeve_option_name("BTC", COCE_OPT_CALL, -1, exp,
                                             name, sizeof name),
                     COCE_EINVAL);
    coce_sleeve_cfg c;
    cfg_fast(&c);
    coce_sleeve_pos p = {COCE_OPT_CALL, 5000, 0, 1, 0};
    /* at or after expiry: intrinsic value in coin */
    assert_close(coce_sleeve_mark(&c, &p, 10, 6000, 0.8), 1000.0 / 6000.0,
                 1e-12, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_is_step_loop),
        cmocka_unit_test(test_no_lookahead),
        cmocka_unit_test(test_apply_errors),
        cmocka_unit_test(test_option_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
