/* ADV cap, historical VaR, correlation sentinel and the entry pipeline. */
#include "risk_guardrails/guardrails.h"
#include "testutil.h"
#include "utils/error.h"
#include "utils/rng.h"

#include "fixtures/guard/guard_ref.h"

#include <math.h>
#include <string.h>

static void adv(double p, double o, double a, double f, double want,
                int want_cut)
{
    double allowed = NAN;
    int cut = -1;
    assert_int_equal(coce_guard_adv_cap(p, o, a, f, &allowed, &cut), COCE_OK);
    assert_close(allowed, want, 0, 1e-12);
    assert_int_equal(cut, want_cut);
}

static void test_adv_cap_hand(void **state)
{
    (void)state;
    /* L = 0.05 * 1000 = 50 throughout unless stated. */
    adv(0, 100, 1000, 0.05, 50, 1);     /* new long capped at L */
    adv(40, 100, 1000, 0.05, 10, 1);    /* only 10 of room left */
    adv(40, 10, 1000, 0.05, 10, 0);     /* fits exactly */
    adv(60, 10, 1000, 0.05, 0, 1);      /* already above L: no increase */
    adv(60, -100, 1000, 0.05, -100, 0); /* reduce 60 and go short 40 <= 50 */
    adv(60, -200, 1000, 0.05, -110, 1); /* short side capped at -50 */
    adv(60, -30, 0, 0.05, -30, 0);      /* reducing sells never cut, ADV 0 */
    adv(-20, 10, 0, 0.05, 10, 0);       /* covering a short never cut */
    adv(-20, 30, 0, 0.05, 20, 1);       /* ...but not past flat when L = 0 */
    adv(-40, -20, 1000, 0.05, -10, 1);  /* short side increase capped */
    adv(5, 0, 1000, 0.05, 0, 0);        /* empty order */
    double a;
    int c;
    assert_int_equal(coce_guard_adv_cap(0, NAN, 1, 1, &a, &c), COCE_EINVAL);
    assert_int_equal(coce_guard_adv_cap(0, 1, -1, 1, &a, &c), COCE_EINVAL);
    assert_int_equal(coce_guard_adv_cap(0, 1, 1, -1, &a, &c), COCE_EINVAL);
    assert_int_equal(coce_guard_adv_cap(INFINITY, 1, 1, 1, &a, &c),
                     COCE_EINVAL);
    assert_int_equal(coce_guard_adv_cap(0, 1, 1, 1, NULL, &c), COCE_EINVAL);
    assert_int_equal(coce_guard_adv_cap(0, 1, 1, 1, &a, NULL), COCE_EINVAL);
}

/* 101 returns -0.50, -0.49, ..., 0.50 (stored in a scrambled order), one
 * asset held at notional 2, so the sorted PnL is x[i] = 2 * (-0.50 + 0.01 i).
 * numpy linear rule: h = 100 * (1 - conf).
 *   conf 0.99 : h = 1   -> x[1] = -0.98             -> VaR 0.98
 *   conf 0.95 : h = 5   -> x[5] = -0.90             -> VaR 0.90
 *   conf 0.975: h = 2.5 -> (x[2] + x[3]) / 2 = -0.95 -> VaR 0.95
 * A NaN row with an extreme loss next to it must be skipped. */
static void test_var_hand(void **state)
{
    (void)state;
    double r[103], work[103];
    for (size_t i = 0; i < 101; ++i)
        r[i] = -0.50 + 0.01 * (double)((i * 37) % 101);
    r[101] = NAN;
    r[102] = 0.0;
    double pos = 2.0, var = NAN;
    assert_int_equal(coce_guard_var(r, 102, 1, &pos, 0.99, &var, work),
                     COCE_OK);
    assert_close(var, 0.98, 1e-12, 1e-12);
    assert_int_equal(coce_guard_var(r, 101, 1, &pos, 0.95, &var, work),
                     COCE_OK);
    assert_close(var, 0.90, 1e-12, 1e-12);
    assert_int_equal(coce_guard_var(r, 101, 1, &pos, 0.975, &var, work),
                     COCE_OK);
    assert_close(var, 0.95, 1e-12, 1e-12);
    /* A short book loses on the up days: VaR = 2 * 0.49 at 99 %. */
    pos = -2.0;
    assert_int_equal(coce_guard_var(r, 101, 1, &pos, 0.99, &var, work),
                     COCE_OK);
    assert_close(var, 0.98, 1e-12, 1e-12);
    /* Two assets: PnL = 1*a - 1*b with b = 0 except a NaN row. */
    double r2[] = {-0.1, 0.0, 0.2, 0.0, -0.3, NAN, 0.05, 0.0, -0.2, 0.0};
    double pos2[] = {1.0, 1.0};
    /* valid PnL sorted: -0.2, -0.1, 0.05, 0.2; conf 0.9: h = 0.3 ->
     * -0.2 + 0.3 * 0.1 = -0.17 -> VaR 0.17. */
    assert_int_equal(coce_guard_var(r2, 5, 2, pos2, 0.9, &var, work), COCE_OK);
    assert_close(var, 0.17, 1e-12, 1e-12);
    /* One valid row: the quantile is that value. */
    assert_int_equal(coce_guard_var(r2, 1, 2, pos2, 0.99, &var, work), COCE_OK);
    assert_close(var, 0.1, 1e-12, 1e-12);
}

static void test_var_numpy_fixture(void **state)
{
    (void)state;
    double work[REF_VAR_N];
    for (size_t c = 0; c < 4; ++c) {
        double var = NAN;
        assert_int_equal(coce_guard_var(ref_var_returns, REF_VAR_N, REF_VAR_K,
                                        ref_var_positions, ref_var_conf[c],
                                        &var, work),
                         COCE_OK);
        assert_close(var, ref_var_value[c], 1e-12, 1e-12);
    }
}

static void test_var_homogeneous_and_scale(void **state)
{
    (void)state;
    double work[REF_VAR_N], var1, var3, pos[REF_VAR_K];
    for (size_t j = 0; j < REF_VAR_K; ++j)
        pos[j] = 3.0 * ref_var_positions[j];
    assert_int_equal(coce_guard_var(ref_var_returns, REF_VAR_N, REF_VAR_K,
                                    ref_var_positions, 0.99, &var1, work),
                     COCE_OK);
    assert_int_equal(coce_guard_var(ref_var_returns, REF_VAR_N, REF_VAR_K, pos,
                                    0.99, &var3, work),
                     COCE_OK);
    assert_close(var3, 3.0 * var1, 1e-12, 0);
    /* Scaling the book by floor/VaR brings its VaR to the floor. */
    double scale;
    const double floor_loss = var3 / 4.0;
    assert_int_equal(coce_guard_var_scale(var3, floor_loss, &scale), COCE_OK);
    assert_close(scale, 0.25, 1e-12, 0);
    for (size_t j = 0; j < REF_VAR_K; ++j)
        pos[j] *= scale;
    assert_int_equal(coce_guard_var(ref_var_returns, REF_VAR_N, REF_VAR_K, pos,
                                    0.99, &var3, work),
                     COCE_OK);
    assert_close(var3, floor_loss, 1e-12, 0);
}

static void test_var_scale_and_errors(void **state)
{
    (void)state;
    double s = NAN;
    assert_int_equal(coce_guard_var_scale(50, 100, &s), COCE_OK);
    assert_true(s == 1.0);
    assert_int_equal(coce_guard_var_scale(100, 100, &s), COCE_OK);
    assert_true(s == 1.0);
    assert_int_equal(coce_guard_var_scale(-5, 100, &s), COCE_OK);
    assert_true(s == 1.0);
    assert_int_equal(coce_guard_var_scale(400, 100, &s), COCE_OK);
    assert_close(s, 0.25, 0, 1e-15);
    assert_int_equal(coce_guard_var_scale(INFINITY, 100, &s), COCE_OK);
    assert_true(s == 0.0);
    assert_int_equal(coce_guard_var_scale(NAN, 100, &s), COCE_EINVAL);
    assert_int_equal(coce_guard_var_scale(1, -1, &s), COCE_EINVAL);
    assert_int_equal(coce_guard_var_scale(1, INFINITY, &s), COCE_EINVAL);
    assert_int_equal(coce_guard_var_scale(1, 1, NULL), COCE_EINVAL);

    double r[] = {0.1, NAN, INFINITY}, pos = 1, var, work[3];
    assert_int_equal(coce_guard_var(r, 0, 1, &pos, 0.99, &var, work),
                     COCE_EINVAL);
    assert_int_equal(coce_guard_var(r, 1, 0, &pos, 0.99, &var, work),
                     COCE_EINVAL);
    assert_int_equal(coce_guard_var(r, 1, 1, &pos, 1.0, &var, work),
                     COCE_EINVAL);
    assert_int_equal(coce_guard_var(r, 1, 1, &pos, 0.0, &var, work),
                     COCE_EINVAL);
    assert_int_equal(coce_guard_var(NULL, 1, 1, &pos, 0.9, &var, work),
                     COCE_EINVAL);
    assert_int_equal(coce_guard_var(r + 1, 1, 1, &pos, 0.9, &var, work),
                     COCE_EDATA);
    assert_int_equal(coce_guard_var(r, 3, 1, &pos, 0.9, &var, work),
                     COCE_EINVAL);
    pos = NAN;
    assert_int_equal(coce_guard_var(r, 1, 1, &pos, 0.9, &var, work),
                     COCE_EINVAL);
}

/* Built by construction: a = (1,-1,1,-1, 1,-1,1,-1); b = -a on the first
 * four rows and b = a on the last four. Both means are 0; over all 8 rows
 * sum(a*b) = -4 + 4 = 0 -> long correlation 0. Over the last 4 rows b = a ->
 * short correlation 1. Spike = 1 - 0 = 1. */
static void test_corr_sentinel_hand(void **state)
{
    (void)state;
    const double a[8] = {1, -1, 1, -1, 1, -1, 1, -1};
    double r[16], work[4];
    for (size_t t = 0; t < 8; ++t) {
        r[2 * t] = a[t];
        r[2 * t + 1] = t < 4 ? -a[t] : a[t];
    }
    double s_short, s_long, scale;
    assert_int_equal(coce_guard_corr_sentinel(r, 8, 2, 4, 8, 0.5, 0.3, &s_short,
                                              &s_long, &scale, work),
                     COCE_OK);
    assert_close(s_short, 1.0, 0, 1e-15);
    assert_close(s_long, 0.0, 0, 1e-15);
    assert_close(scale, 0.3, 0, 0);
    /* threshold 1.0: the difference is exactly 1, not above -> no cut. */
    assert_int_equal(coce_guard_corr_sentinel(r, 8, 2, 4, 8, 1.0, 0.3, &s_short,
                                              &s_long, &scale, work),
                     COCE_OK);
    assert_true(scale == 1.0);
    /* Windows are the last rows: rows 0..3 alone have correlation -1. */
    assert_int_equal(coce_guard_corr_sentinel(r, 4, 2, 2, 4, 0.5, 0.3, &s_short,
                                              &s_long, &scale, work),
                     COCE_OK);
    assert_close(s_long, -1.0, 0, 1e-15);
    assert_close(s_short, -1.0, 0, 1e-15);
    assert_true(scale == 1.0);
}

static void test_corr_sentinel_numpy_fixture(void **state)
{
    (void)state;
    double work[2 * REF_CORR_K], s_short, s_long, scale;
    assert_int_equal(coce_guard_corr_sentinel(ref_corr_returns, REF_CORR_N,
                                              REF_CORR_K, REF_CORR_SHORT,
                                              REF_CORR_LONG, 0.3, 0.5, &s_short,
                                              &s_long, &scale, work),
                     COCE_OK);
    assert_close(s_short, ref_corr_avg_short, 1e-12, 1e-14);
    assert_close(s_long, ref_corr_avg_long, 1e-12, 1e-14);
    /* 0.68 - 0.22 > 0.3: cut to 0.5. */
    assert_true(scale == 0.5);
}

static void test_corr_sentinel_edges(void **state)
{
    (void)state;
    double r[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    double work[8], s, l, scale;
    /* k = 1: nothing to correlate. */
    assert_int_equal(
        coce_guard_corr_sentinel(r, 12, 1, 2, 12, 0, 0, &s, &l, &scale, work),
        COCE_OK);
    assert_true(s == 0.0 && l == 0.0 && scale == 1.0);
    /* A constant asset has no correlation: no pair defined -> no cut. */
    double c[8] = {1, 5, 2, 5, 3, 5, 4, 5};
    assert_int_equal(
        coce_guard_corr_sentinel(c, 4, 2, 2, 4, -1, 0, &s, &l, &scale, work),
        COCE_OK);
    assert_true(s == 0.0 && l == 0.0 && scale == 1.0);
    /* A window with fewer than two complete rows. */
    double d[8] = {1, 2, NAN, 1, 3, NAN, 4, 5};
    assert_int_equal(
        coce_guard_corr_sentinel(d, 4, 2, 2, 4, 0, 0, &s, &l, &scale, work),
        COCE_EDATA);
    double e[8] = {1, 2, 2, 1, 3, NAN, 4, 5};
    assert_int_equal(
        coce_guard_corr_sentinel(e, 4, 2, 3, 4, 0, 0, &s, &l, &scale, work),
        COCE_OK);
    assert_int_equal(
        coce_guard_corr_sentinel(e, 4, 2, 2, 4, 0, 0, &s, &l, &scale, work),
        COCE_EDATA);
    /* A constant middle asset drops out; the pair (0, 2) remains. Rows
     * (1,5,1) (2,5,2) (3,5,4) (4,5,3): short window = last 2 rows, corr of
     * (3,4) with (4,3) is -1; long: a = 1..4, c = 1,2,4,3: means 2.5, sum of
     * products of deviations = 2.25+0.25+0.75+0.75 = 4, ss = 5 each -> 0.8. */
    double g[12] = {1, 5, 1, 2, 5, 2, 3, 5, 4, 4, 5, 3};
    assert_int_equal(
        coce_guard_corr_sentinel(g, 4, 3, 2, 4, 0, 0, &s, &l, &scale, work),
        COCE_OK);
    assert_close(s, -1.0, 0, 1e-15);
    assert_close(l, 0.8, 0, 1e-15);
    assert_true(scale == 1.0);
    /* Bad arguments. */
    assert_int_equal(
        coce_guard_corr_sentinel(r, 6, 2, 1, 6, 0, 0, &s, &l, &scale, work),
        COCE_EINVAL);
    assert_int_equal(
        coce_guard_corr_sentinel(r, 6, 2, 4, 3, 0, 0, &s, &l, &scale, work),
        COCE_EINVAL);
    assert_int_equal(
        coce_guard_corr_sentinel(r, 6, 2, 2, 7, 0, 0, &s, &l, &scale, work),
        COCE_EINVAL);
    assert_int_equal(
        coce_guard_corr_sentinel(r, 6, 2, 2, 6, 0, 1.5, &s, &l, &scale, work),
        COCE_EINVAL);
    assert_int_equal(
        coce_guard_corr_sentinel(r, 6, 2, 2, 6, NAN, 0.5, &s, &l, &scale, work),
        COCE_EINVAL);
    assert_int_equal(
        coce_guard_corr_sentinel(r, 6, 2, 2, 6, 0, 0.5, &s, &l, &scale, NULL),
        COCE_EINVAL);
}

static coce_guard_entry_input base_input(void)
{
    coce_guard_entry_input in;
    memset(&in, 0, sizeof in);
    in.requested = 100;
    in.position_notional = 0;
    in.adv_notional = 1e6;
    in.adv_max_fraction = 0.01;
    in.scale_drawdown = in.scale_var = in.scale_corr = 1.0;
    return in;
}

static void test_apply_entry_order_and_binding(void **state)
{
    (void)state;
    coce_guard_decision d;
    coce_guard_entry_input in = base_input();
    assert_int_equal(coce_guard_apply_entry(&in, &d), COCE_OK);
    assert_true(d.allowed == 100 && !d.adv_cut && !d.halted);
    assert_string_equal(d.binding_rule, "none");

    /* 100 * 0.8 * 0.5 * 0.9 = 36; var (0.5) is the tightest. */
    in.scale_drawdown = 0.8;
    in.scale_var = 0.5;
    in.scale_corr = 0.9;
    assert_int_equal(coce_guard_apply_entry(&in, &d), COCE_OK);
    assert_close(d.allowed, 36, 1e-12, 0);
    assert_string_equal(d.binding_rule, "var");
    assert_true(d.scale_var == 0.5 && d.requested == 100);

    /* ADV after the scales: L = 0.001 * 1e4 = 10 -> 10 / 36 < 0.5. */
    in.adv_notional = 1e4;
    in.adv_max_fraction = 0.001;
    assert_int_equal(coce_guard_apply_entry(&in, &d), COCE_OK);
    assert_close(d.allowed, 10, 1e-12, 0);
    assert_true(d.adv_cut);
    assert_string_equal(d.binding_rule, "adv");

    /* Equal factors: the earlier rule binds. */
    in = base_input();
    in.scale_drawdown = 0.5;
    in.scale_corr = 0.5;
    assert_int_equal(coce_guard_apply_entry(&in, &d), COCE_OK);
    assert_string_equal(d.binding_rule, "drawdown");
    in.scale_drawdown = 1.0;
    assert_int_equal(coce_guard_apply_entry(&in, &d), COCE_OK);
    assert_string_equal(d.binding_rule, "corr");

    /* Halts come first. */
    in.killswitch_halted = 1;
    in.drawdown_halted = 1;
    assert_int_equal(coce_guard_apply_entry(&in, &d), COCE_OK);
    assert_true(d.halted && d.allowed == 0);
    assert_string_equal(d.binding_rule, "killswitch");
    in.killswitch_halted = 0;
    assert_int_equal(coce_guard_apply_entry(&in, &d), COCE_OK);
    assert_string_equal(d.binding_rule, "drawdown_halt");

    in = base_input();
    in.scale_var = 1.5;
    assert_int_equal(coce_guard_apply_entry(&in, &d), COCE_EINVAL);
    in.scale_var = NAN;
    assert_int_equal(coce_guard_apply_entry(&in, &d), COCE_EINVAL);
    in = base_input();
    in.adv_notional = -1;
    assert_int_equal(coce_guard_apply_entry(&in, &d), COCE_EINVAL);
    assert_int_equal(coce_guard_apply_entry(NULL, &d), COCE_EINVAL);
}

/* Property: no guardrail ever increases exposure or flips its sign, and
 * every scale stays in [0, 1]. */
static void test_property_never_increases(void **state)
{
    (void)state;
    coce_rng rng;
    coce_rng_init(&rng, 7);
    double r[40 * 3], work[2 * 40];
    for (int iter = 0; iter < 2000; ++iter) {
        coce_guard_entry_input in = base_input();
        in.requested = 2000.0 * (coce_rng_uniform(&rng) - 0.5);
        in.position_notional = 2000.0 * (coce_rng_uniform(&rng) - 0.5);
        in.adv_notional = 1e5 * coce_rng_uniform(&rng);
        in.adv_max_fraction = 0.02 * coce_rng_uniform(&rng);
        in.scale_drawdown = coce_rng_uniform(&rng);
        in.scale_var = coce_rng_uniform(&rng);
        in.scale_corr = coce_rng_uniform(&rng);
        in.killswitch_halted = coce_rng_uniform(&rng) < 0.05;
        coce_guard_decision d;
        assert_int_equal(coce_guard_apply_entry(&in, &d), COCE_OK);
        assert_true(fabs(d.allowed) <= fabs(in.requested));
        assert_true(d.allowed * in.requested >= 0.0);

        double allowed;
        int cut;
        assert_int_equal(coce_guard_adv_cap(in.position_notional, in.requested,
                                            in.adv_notional,
                                            in.adv_max_fraction, &allowed,
                                            &cut),
                         COCE_OK);
        assert_true(fabs(allowed) <= fabs(in.requested));
        assert_true(allowed * in.requested >= 0.0);
        const double limit = in.adv_max_fraction * in.adv_notional;
        const double after = fabs(in.position_notional + allowed);
        /* Never above max(L, |p|); reducing part never cut. */
        assert_true(after <= fmax(limit, fabs(in.position_notional)) + 1e-9);
        if (in.requested * in.position_notional < 0 &&
            fabs(in.requested) <= fabs(in.position_notional))
            assert_false(cut);

        for (size_t i = 0; i < 40 * 3; ++i)
            r[i] = 0.05 * coce_rng_normal(&rng);
        double pos[3] = {1000 * coce_rng_normal(&rng),
                         1000 * coce_rng_normal(&rng),
                         1000 * coce_rng_normal(&rng)};
        double var, vs;
        assert_int_equal(coce_guard_var(r, 40, 3, pos, 0.95, &var, work),
                         COCE_OK);
        assert_int_equal(
            coce_guard_var_scale(var, 100 * coce_rng_uniform(&rng), &vs),
            COCE_OK);
        assert_true(vs >= 0.0 && vs <= 1.0);
        double s, l, cs;
        const double cut_scale = coce_rng_uniform(&rng);
        assert_int_equal(coce_guard_corr_sentinel(r, 40, 3, 10, 40,
                                                  0.2 * coce_rng_normal(&rng),
                                                  cut_scale, &s, &l, &cs, work),
                         COCE_OK);
        assert_true(cs == 1.0 || cs == cut_scale);
        assert_true(s >= -1.0 && s <= 1.0 && l >= -1.0 && l <= 1.0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adv_cap_hand),
        cmocka_unit_test(test_var_hand),
        cmocka_unit_test(test_var_numpy_fixture),
        cmocka_unit_test(test_var_homogeneous_and_scale),
        cmocka_unit_test(test_var_scale_and_errors),
        cmocka_unit_test(test_corr_sentinel_hand),
        cmocka_unit_test(test_corr_sentinel_numpy_fixture),
        cmocka_unit_test(test_corr_sentinel_edges),
        cmocka_unit_test(test_apply_entry_order_and_binding),
        cmocka_unit_test(test_property_never_increases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
