/* Black-76 kernels: reference values (scipy), parity, limits, symmetry,
 * greeks against finite differences, implied-vol round trips and errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options/black76.h"
#include "testutil.h"

static int price(coce_opt_type ty, double F, double K, double T, double s,
                 double df, double *out)
{
    return coce_b76_price(ty, F, K, T, s, df, out);
}

/* tests/fixtures/options/black76_ref.csv from tests/reference/black76_ref.py */
static void test_reference_fixture(void **state)
{
    (void)state;
    char path[1024];
    coce_test_path(path, sizeof path, "tests/fixtures/options/black76_ref.csv");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    int rows = 0;
    int deep = 0;
    int ivs = 0;
    while (fgets(line, sizeof line, f)) {
        char ty;
        double F, K, T, s, df, p, de, ga, ve, th;
        assert_int_equal(
            sscanf(line, "%c,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &ty, &F,
                   &K, &T, &s, &df, &p, &de, &ga, &ve, &th),
            11);
        coce_opt_type t = ty == 'C' ? COCE_OPT_CALL : COCE_OPT_PUT;
        coce_b76_greeks g;
        assert_int_equal(coce_b76_greeks_calc(t, F, K, T, s, df, &g), COCE_OK);
        assert_close(g.price, p, 1e-8, 1e-12);
        assert_close(g.delta, de, 1e-8, 1e-12);
        assert_close(g.gamma, ga, 1e-8, 1e-12);
        assert_close(g.vega, ve, 1e-8, 1e-12);
        assert_close(g.theta, th, 1e-8, 1e-12);
        double q;
        assert_int_equal(price(t, F, K, T, s, df, &q), COCE_OK);
        assert_true(q == g.price);
        if (p > 0.0 && p < 1e-6 * F) {
            /* deep OTM: relative accuracy holds far into the tail */
            assert_close(q, p, 1e-8, 0.0);
            deep++;
        }
        /* IV round trip wherever the time value is resolvable */
        double intr = fmax(0.0, (t == COCE_OPT_CALL ? F - K : K - F) * df);
        if (p > 1e-300 && (p - intr) > 1e-9 * p) {
            double iv;
            int it;
            assert_int_equal(
                coce_b76_implied_vol(t, F, K, T, df, p, &iv, &it, NULL),
                COCE_OK);
            /* sigma error ~ price rounding / vega: relative to time value */
            double tol = 1e-8 + 1e-14 * p / fmax(ve, 1e-300);
            assert_close(iv, s, tol, 0.0);
            assert_true(it <= 60);
            ivs++;
        }
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 200);
    assert_true(deep >= 20);
    assert_true(ivs >= 180);
}

static void test_parity_symmetry_homogeneity(void **state)
{
    (void)state;
    const double Fs[] = {100.0, 2000.0, 40000.0};
    const double ms[] = {0.3, 0.9, 1.0, 1.1, 3.0};
    const double Ts[] = {1.0 / 365, 0.25, 2.0};
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 5; b++)
            for (size_t c = 0; c < 3; c++) {
                double F = Fs[a], K = F * ms[b], T = Ts[c], s = 0.8, df = 0.97;
                double C, P, C2, P2, Cl;
                assert_int_equal(price(COCE_OPT_CALL, F, K, T, s, df, &C), 0);
                assert_int_equal(price(COCE_OPT_PUT, F, K, T, s, df, &P), 0);
                /* put-call parity: C - P = df (F - K) */
                assert_close(C - P, df * (F - K), 0.0, 1e-11 * F);
                /* put-call symmetry: C(F, K) = P(K, F) */
                assert_int_equal(price(COCE_OPT_PUT, K, F, T, s, df, &P2), 0);
                assert_close(C, P2, 1e-12, 1e-12 * F);
                assert_int_equal(price(COCE_OPT_CALL, K, F, T, s, df, &C2), 0);
                assert_close(P, C2, 1e-12, 1e-12 * F);
                /* homogeneity of degree one in (F, K) */
                assert_int_equal(
                    price(COCE_OPT_CALL, 3.0 * F, 3.0 * K, T, s, df, &Cl), 0);
                assert_close(Cl, 3.0 * C, 1e-12, 1e-12 * F);
            }
}

static void test_limits(void **state)
{
    (void)state;
    double v;
    double F = 40000.0, K = 30000.0;
    /* sigma -> 0 and T = 0: discounted intrinsic */
    assert_int_equal(price(COCE_OPT_CALL, F, K, 0.5, 0.0, 0.9, &v), 0);
    assert_close(v, 0.9 * (F - K), 1e-15, 0);
    assert_int_equal(price(COCE_OPT_PUT, F, K, 0.5, 0.0, 0.9, &v), 0);
    assert_true(v == 0.0);
    assert_int_equal(price(COCE_OPT_PUT, F, K * 2, 0.0, 0.7, 1.0, &v), 0);
    assert_close(v, K * 2 - F, 1e-15, 0);
    assert_int_equal(price(COCE_OPT_CALL, F, K, 0.5, 1e-9, 1.0, &v), 0);
    assert_close(v, F - K, 1e-12, 0);
    /* sigma -> infinity: the call tends to df F, the put to df K */
    assert_int_equal(price(COCE_OPT_CALL, F, K, 0.5, INFINITY, 0.9, &v), 0);
    assert_close(v, 0.9 * F, 1e-15, 0);
    assert_int_equal(price(COCE_OPT_PUT, F, K, 0.5, INFINITY, 0.9, &v), 0);
    assert_close(v, 0.9 * K, 1e-15, 0);
    assert_int_equal(price(COCE_OPT_CALL, F, K, 1.0, 40.0, 1.0, &v), 0);
    assert_close(v, F, 1e-9, 0);
    assert_int_equal(price(COCE_OPT_PUT, F, K, 1.0, 40.0, 1.0, &v), 0);
    assert_close(v, K, 1e-9, 0);
    /* invalid input */
    assert_int_equal(price(COCE_OPT_CALL, -1, K, 1, 0.5, 1, &v), COCE_EINVAL);
    assert_int_equal(price(COCE_OPT_CALL, F, 0, 1, 0.5, 1, &v), COCE_EINVAL);
    assert_int_equal(price(COCE_OPT_CALL, F, K, -1, 0.5, 1, &v), COCE_EINVAL);
    assert_int_equal(price(COCE_OPT_CALL, F, K, 1, -0.5, 1, &v), COCE_EINVAL);
    assert_int_equal(price(COCE_OPT_CALL, F, K, 1, NAN, 1, &v), COCE_EINVAL);
    assert_int_equal(price(COCE_OPT_CALL, F, K, 1, 0.5, 0, &v), COCE_EINVAL);
    assert_int_equal(price(COCE_OPT_CALL, F, K, 1, 0.5, 1, NULL), COCE_EINVAL);
    coce_b76_greeks g;
    assert_int_equal(
        coce_b76_greeks_calc(COCE_OPT_CALL, F, K, 1, INFINITY, 1, &g),
        COCE_EINVAL);
    assert_int_equal(coce_b76_greeks_calc(COCE_OPT_CALL, F, K, 1, 0.5, 1, NULL),
                     COCE_EINVAL);
    /* greeks at expiry: the intrinsic step */
    assert_int_equal(coce_b76_greeks_calc(COCE_OPT_CALL, F, K, 0, 0.5, 1, &g),
                     0);
    assert_true(g.delta == 1.0 && g.gamma == 0.0 && g.vega == 0.0 &&
                g.theta == 0.0 && g.price == F - K);
    assert_int_equal(coce_b76_greeks_calc(COCE_OPT_PUT, K, F, 0.3, 0, 0.5, &g),
                     0);
    assert_true(g.delta == -0.5 && g.price == 0.5 * (F - K));
    assert_int_equal(coce_b76_greeks_calc(COCE_OPT_PUT, F, K, 0.3, 0, 1, &g),
                     0);
    assert_true(g.delta == 0.0 && g.price == 0.0);
}

static void test_ncdf_tails(void **state)
{
    (void)state;
    /* N(-10), N(-20), N(-37) from scipy.stats.norm.cdf (scipy 1.x, Cephes
     * ndtr); 1 - N(10) computed naively would be 0. */
    assert_close(coce_b76_ncdf(-10.0), 7.61985302416047e-24, 1e-13, 0);
    assert_close(coce_b76_ncdf(-20.0), 2.7536241186061556e-89, 1e-13, 0);
    assert_close(coce_b76_ncdf(-37.0), 5.7255712225239266e-300, 1e-12, 0);
    assert_close(coce_b76_ncdf(0.0), 0.5, 0, 0);
    assert_close(coce_b76_ncdf(1.0) + coce_b76_ncdf(-1.0), 1.0, 1e-16, 0);
    assert_close(coce_b76_npdf(0.0), 0.3989422804014327, 1e-15, 0);
    assert_close(coce_b76_coin(2000.0, 40000.0), 0.05, 1e-16, 0);
}

static void test_greeks_finite_differences(void **state)
{
    (void)state;
    const double ms[] = {0.4, 0.8, 1.0, 1.25, 2.5};
    for (int ty = 0; ty < 2; ty++)
        for (size_t b = 0; b < 5; b++) {
            coce_opt_type t = (coce_opt_type)ty;
            double F = 40000.0, K = F * ms[b], T = 0.2, s = 0.9, df = 0.99;
            coce_b76_greeks g;
            assert_int_equal(coce_b76_greeks_calc(t, F, K, T, s, df, &g), 0);
            /* central differences: O(h^2) truncation, O(eps/h) rounding */
            double h = 1e-5 * F, up, dn, mid = g.price;
            price(t, F + h, K, T, s, df, &up);
            price(t, F - h, K, T, s, df, &dn);
            assert_close(g.delta, (up - dn) / (2 * h), 1e-6, 1e-9);
            h = 1e-3 * F;
            price(t, F + h, K, T, s, df, &up);
            price(t, F - h, K, T, s, df, &dn);
            assert_close(g.gamma, (up - 2 * mid + dn) / (h * h), 1e-3, 1e-12);
            double hs = 1e-5;
            price(t, F, K, T, s + hs, df, &up);
            price(t, F, K, T, s - hs, df, &dn);
            assert_close(g.vega, (up - dn) / (2 * hs), 1e-6, 1e-6);
            double ht = 1e-6;
            price(t, F, K, T + ht, s, df, &up);
            price(t, F, K, T - ht, s, df, &dn);
            assert_close(g.theta, -(up - dn) / (2 * ht), 1e-5, 1e-4);
        }
}

static void test_implied_vol_round_trip_and_errors(void **state)
{
    (void)state;
    double iv;
    int it;
    coce_err err;
    /* deep OTM puts and calls across vols, incl. extreme vols */
    const double ss[] = {0.01, 0.2, 1.0, 3.0, 8.0};
    const double ms[] = {0.2, 0.6, 1.0, 1.7, 5.0};
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 5; b++)
            for (int ty = 0; ty < 2; ty++) {
                double F = 40000, K = F * ms[b], T = 30.0 / 365, p;
                coce_opt_type t = (coce_opt_type)ty;
                price(t, F, K, T, ss[a], 1.0, &p);
                double intr = fmax(0.0, t == COCE_OPT_CALL ? F - K : K - F);
                if (!(p > 1e-300) || p - intr < 1e-9 * p)
                    continue;
                assert_int_equal(
                    coce_b76_implied_vol(t, F, K, T, 1.0, p, &iv, &it, &err),
                    COCE_OK);
                assert_close(iv, ss[a], 1e-7, 0);
            }
    double F = 40000, K = 30000, T = 0.1;
    /* below intrinsic */
    assert_int_equal(coce_b76_implied_vol(COCE_OPT_CALL, F, K, T, 1.0, 9999.0,
                                          &iv, NULL, &err),
                     COCE_ERANGE);
    assert_non_null(strstr(err.msg, "below intrinsic"));
    /* at / above the upper bound: F (call), K (put), discounted */
    assert_int_equal(coce_b76_implied_vol(COCE_OPT_CALL, F, K, T, 0.9, 0.9 * F,
                                          &iv, NULL, &err),
                     COCE_ERANGE);
    assert_non_null(strstr(err.msg, "upper bound"));
    assert_int_equal(coce_b76_implied_vol(COCE_OPT_PUT, F, K, T, 1.0, K + 1,
                                          &iv, NULL, &err),
                     COCE_ERANGE);
    assert_non_null(strstr(err.msg, "df*K"));
    /* T <= 0 */
    assert_int_equal(coce_b76_implied_vol(COCE_OPT_PUT, F, K, 0.0, 1.0, 10.0,
                                          &iv, NULL, &err),
                     COCE_ERANGE);
    assert_non_null(strstr(err.msg, "T <= 0"));
    /* invalid */
    assert_int_equal(
        coce_b76_implied_vol(COCE_OPT_PUT, F, K, T, 1.0, NAN, &iv, NULL, &err),
        COCE_EINVAL);
    assert_int_equal(coce_b76_implied_vol(COCE_OPT_PUT, F, K, T, 1.0, 10.0,
                                          NULL, NULL, &err),
                     COCE_EINVAL);
    /* price == intrinsic: sigma 0 */
    assert_int_equal(coce_b76_implied_vol(COCE_OPT_CALL, F, K, T, 1.0, F - K,
                                          &iv, &it, &err),
                     COCE_OK);
    assert_true(iv == 0.0);
    /* ATM, discounted: Brenner-Subrahmanyam start */
    double p;
    price(COCE_OPT_CALL, F, F, T, 0.65, 0.95, &p);
    assert_int_equal(
        coce_b76_implied_vol(COCE_OPT_CALL, F, F, T, 0.95, p, &iv, &it, &err),
        COCE_OK);
    assert_close(iv, 0.65, 1e-12, 0);
    assert_true(it <= 10);
    /* a price just below the bound needs a huge vol: bracket grows */
    price(COCE_OPT_CALL, F, K, T, 60.0, 1.0, &p);
    if (p < F) {
        assert_int_equal(coce_b76_implied_vol(COCE_OPT_CALL, F, K, T, 1.0, p,
                                              &iv, &it, &err),
                         COCE_OK);
        assert_close(iv, 60.0, 1e-6, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_fixture),
        cmocka_unit_test(test_parity_symmetry_homogeneity),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_ncdf_tails),
        cmocka_unit_test(test_greeks_finite_differences),
        cmocka_unit_test(test_implied_vol_round_trip_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
