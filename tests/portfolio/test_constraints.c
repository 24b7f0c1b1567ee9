/* Allocation constraints: seeded property tests and closed-form cases. */
#include "portfolio/constraints.h"
#include "testutil.h"
#include "utils/rng.h"

#include <math.h>
#include <string.h>

#define KMAX 40
#define CMAX 8

static double l1(const double *a, const double *b, size_t k)
{
    double s = 0.0;
    for (size_t i = 0; i < k; ++i)
        s += fabs(a[i] - (b != NULL ? b[i] : 0.0));
    return s;
}

static double sum(const double *w, size_t k)
{
    double s = 0.0;
    for (size_t i = 0; i < k; ++i)
        s += w[i];
    return s;
}

/* A random point of the simplex (normalised exponentials), with some exact
 * zeros so that entering and leaving positions occur. */
static void random_simplex(coce_rng *rng, double *w, size_t k)
{
    double s = 0.0;
    for (size_t i = 0; i < k; ++i) {
        w[i] =
            coce_rng_uniform(rng) < 0.2 ? 0.0 : coce_rng_exponential(rng, 1.0);
        s += w[i];
    }
    if (s == 0.0) {
        w[0] = 1.0;
        s = 1.0;
    }
    for (size_t i = 0; i < k; ++i)
        w[i] /= s;
}

static void test_turnover_property(void **state)
{
    (void)state;
    coce_rng rng;
    coce_rng_init(&rng, 0x7A11u);
    double target[KMAX], prev[KMAX], out[KMAX], alias[KMAX];
    for (int c = 0; c < 5000; ++c) {
        const size_t k = 1 + (size_t)coce_rng_below(&rng, KMAX);
        random_simplex(&rng, target, k);
        random_simplex(&rng, prev, k);
        const int cash = coce_rng_uniform(&rng) < 0.15;
        const double *p = cash ? NULL : prev;
        /* Caps from 0 to beyond the largest possible L1 (2). */
        const double u = coce_rng_uniform(&rng);
        const double cap = u < 0.05 ? 0.0 : 2.2 * coce_rng_uniform(&rng);
        assert_int_equal(coce_alloc_turnover_limit(target, p, k, cap, out),
                         COCE_OK);
        const double full = l1(target, p, k);
        const double moved = l1(out, p, k);
        assert_true(moved <= cap); /* never exceeds, not even by rounding */
        if (full <= cap) {
            assert_memory_equal(out, target, k * sizeof(double));
        } else {
            /* The largest step: the budget is used up to rounding. */
            assert_close(moved, cap, 1e-12, 1e-15);
        }
        for (size_t i = 0; i < k; ++i)
            assert_true(out[i] >= 0.0);
        /* Convex move: sum goes from sum(prev) to sum(target) linearly. */
        if (!cash)
            assert_close(sum(out, k), 1.0, 1e-12, 0.0);
        /* out may alias target or prev: same result. */
        memcpy(alias, target, k * sizeof(double));
        assert_int_equal(coce_alloc_turnover_limit(alias, p, k, cap, alias),
                         COCE_OK);
        assert_memory_equal(alias, out, k * sizeof(double));
        if (!cash) {
            memcpy(alias, prev, k * sizeof(double));
            assert_int_equal(
                coce_alloc_turnover_limit(target, alias, k, cap, alias),
                COCE_OK);
            assert_memory_equal(alias, out, k * sizeof(double));
        }
    }
}

static void test_turnover_edges(void **state)
{
    (void)state;
    const double target[3] = {0.5, 0.3, 0.2};
    const double prev[3] = {0.2, 0.3, 0.5};
    double out[3];
    /* cap 0: no move at all. */
    assert_int_equal(coce_alloc_turnover_limit(target, prev, 3, 0.0, out),
                     COCE_OK);
    assert_memory_equal(out, prev, sizeof prev);
    /* prev == target: nothing to do, even with cap 0. */
    assert_int_equal(coce_alloc_turnover_limit(target, target, 3, 0.0, out),
                     COCE_OK);
    assert_memory_equal(out, target, sizeof target);
    /* L1 = 0.6, cap 0.3: half way. */
    assert_int_equal(coce_alloc_turnover_limit(target, prev, 3, 0.3, out),
                     COCE_OK);
    assert_close(out[0], 0.35, 1e-12, 0.0);
    assert_close(out[1], 0.3, 1e-12, 0.0);
    assert_close(out[2], 0.35, 1e-12, 0.0);
    /* All cash: L1 = sum(target) = 1; cap 0.25 buys a quarter of it. */
    assert_int_equal(coce_alloc_turnover_limit(target, NULL, 3, 0.25, out),
                     COCE_OK);
    assert_close(out[0], 0.125, 1e-12, 0.0);
    assert_close(sum(out, 3), 0.25, 1e-12, 0.0);
    assert_true(l1(out, NULL, 3) <= 0.25);
    /* One asset. */
    const double one = 1.0;
    double o1 = 0.0;
    assert_int_equal(coce_alloc_turnover_limit(&one, &one, 1, 0.1, &o1),
                     COCE_OK);
    assert_true(o1 == 1.0);
    /* Two identical assets swapped: L1 = 2 at most. */
    const double a[2] = {1.0, 0.0};
    const double b[2] = {0.0, 1.0};
    double o2[2];
    assert_int_equal(coce_alloc_turnover_limit(a, b, 2, 1.0, o2), COCE_OK);
    assert_close(o2[0], 0.5, 1e-15, 0.0);
    assert_close(o2[1], 0.5, 1e-15, 0.0);
    /* Errors. */
    assert_int_equal(coce_alloc_turnover_limit(NULL, prev, 3, 0.1, out),
                     COCE_EINVAL);
    assert_int_equal(coce_alloc_turnover_limit(target, prev, 3, 0.1, NULL),
                     COCE_EINVAL);
    assert_int_equal(coce_alloc_turnover_limit(target, prev, 0, 0.1, out),
                     COCE_EINVAL);
    assert_int_equal(coce_alloc_turnover_limit(target, prev, 3, -0.1, out),
                     COCE_EINVAL);
    assert_int_equal(coce_alloc_turnover_limit(target, prev, 3, NAN, out),
                     COCE_EINVAL);
    const double bad[3] = {0.5, NAN, 0.5};
    assert_int_equal(coce_alloc_turnover_limit(bad, prev, 3, 0.1, out),
                     COCE_EINVAL);
    assert_int_equal(coce_alloc_turnover_limit(target, bad, 3, 0.1, out),
                     COCE_EINVAL);
}

static void cluster_totals(const double *w, const size_t *cl, size_t k,
                           double *tot, size_t n)
{
    for (size_t c = 0; c < n; ++c)
        tot[c] = 0.0;
    for (size_t i = 0; i < k; ++i)
        tot[cl[i]] += w[i];
}

static void test_cluster_caps_property(void **state)
{
    (void)state;
    coce_rng rng;
    coce_rng_init(&rng, 0xCA95u);
    double w[KMAX], w0[KMAX], work[2 * CMAX], t0[CMAX], t1[CMAX];
    size_t cl[KMAX];
    for (int c = 0; c < 3000; ++c) {
        const size_t k = 1 + (size_t)coce_rng_below(&rng, KMAX);
        const size_t n = 1 + (size_t)coce_rng_below(&rng, CMAX);
        random_simplex(&rng, w, k);
        for (size_t i = 0; i < k; ++i)
            cl[i] = (size_t)coce_rng_below(&rng, n);
        size_t nonempty = 0;
        {
            int used[CMAX] = {0};
            for (size_t i = 0; i < k; ++i)
                used[cl[i]] = 1;
            for (size_t j = 0; j < n; ++j)
                nonempty += (size_t)used[j];
        }
        const double lo = 1.0 / (double)nonempty;
        const double cap = lo + (1.0 - lo) * coce_rng_uniform(&rng);
        memcpy(w0, w, k * sizeof(double));
        cluster_totals(w0, cl, k, t0, n);
        assert_int_equal(coce_alloc_cluster_caps(w, cl, k, n, cap, work),
                         COCE_OK);
        cluster_totals(w, cl, k, t1, n);
        assert_close(sum(w, k), 1.0, 1e-12, 0.0);
        for (size_t i = 0; i < k; ++i)
            assert_true(w[i] >= 0.0);
        for (size_t j = 0; j < n; ++j)
            assert_true(t1[j] <= cap + 1e-12);
        /* Ratios inside a cluster are kept when it had weight. */
        for (size_t i = 0; i < k; ++i)
            for (size_t m = i + 1; m < k; ++m)
                if (cl[i] == cl[m] && w0[m] > 0.0 && t0[cl[i]] > 0.0)
                    assert_close(w[i] / w[m], w0[i] / w0[m], 1e-9, 0.0);
        /* Water-filling: all clusters left below the cap were scaled by one
         * common factor >= 1 (they received the excess pro rata). */
        double factor = -1.0;
        for (size_t j = 0; j < n; ++j) {
            if (t0[j] > 0.0 && t1[j] < cap - 1e-9) {
                const double f = t1[j] / t0[j];
                assert_true(f >= 1.0 - 1e-12);
                if (factor < 0.0)
                    factor = f;
                assert_close(f, factor, 1e-9, 0.0);
            }
        }
        /* Infeasible below 1/nonempty. */
        if (nonempty > 1) {
            memcpy(w, w0, k * sizeof(double));
            assert_int_equal(
                coce_alloc_cluster_caps(w, cl, k, n, lo * 0.999, work),
                COCE_EINVAL);
            assert_memory_equal(w, w0, k * sizeof(double));
        }
    }
}

static void test_cluster_caps_cases(void **state)
{
    (void)state;
    double work[2 * CMAX];
    double tot[CMAX];
    coce_err err;
    coce_err_clear(&err);

    /* Cascade: c0 capped, its excess pushes c1 over, which is capped too. */
    double w[3] = {0.6, 0.3, 0.1};
    const size_t cl3[3] = {0, 1, 2};
    assert_int_equal(coce_alloc_cluster_caps(w, cl3, 3, 3, 0.4, work), COCE_OK);
    assert_close(w[0], 0.4, 1e-15, 0.0);
    assert_close(w[1], 0.4, 1e-15, 0.0);
    assert_close(w[2], 0.2, 1e-15, 0.0);

    /* cap * n == 1 exactly: every cluster binds at 1/4. */
    double w4[6] = {0.4, 0.1, 0.2, 0.15, 0.1, 0.05};
    const size_t cl4[6] = {0, 0, 1, 2, 3, 1};
    assert_int_equal(coce_alloc_cluster_caps(w4, cl4, 6, 4, 0.25, work),
                     COCE_OK);
    cluster_totals(w4, cl4, 6, tot, 4);
    for (size_t c = 0; c < 4; ++c)
        assert_close(tot[c], 0.25, 1e-14, 0.0);
    assert_close(w4[0] / w4[1], 4.0, 1e-12, 0.0);
    /* cap * n == 1 with thirds (1/3 * 3 rounds to 1). */
    double w3[3] = {0.7, 0.2, 0.1};
    assert_int_equal(coce_alloc_cluster_caps(w3, cl3, 3, 3, 1.0 / 3.0, work),
                     COCE_OK);
    for (size_t i = 0; i < 3; ++i)
        assert_close(w3[i], 1.0 / 3.0, 1e-14, 0.0);

    /* Clusters with no weight are filled equally, then equally per asset. */
    double wz[5] = {0.5, 0.5, 0.0, 0.0, 0.0};
    const size_t clz[5] = {0, 1, 2, 2, 3};
    assert_int_equal(coce_alloc_cluster_caps(wz, clz, 5, 4, 0.25, work),
                     COCE_OK);
    assert_close(wz[0], 0.25, 1e-15, 0.0);
    assert_close(wz[2], 0.125, 1e-15, 0.0);
    assert_close(wz[3], 0.125, 1e-15, 0.0);
    assert_close(wz[4], 0.25, 1e-15, 0.0);

    /* One asset: cap 1 keeps it; any smaller cap is infeasible. */
    double one = 1.0;
    const size_t c0 = 0;
    assert_int_equal(coce_alloc_cluster_caps(&one, &c0, 1, 1, 1.0, work),
                     COCE_OK);
    assert_true(one == 1.0);
    assert_int_equal(
        coce_alloc_cluster_caps_err(&one, &c0, 1, 1, 0.5, work, &err),
        COCE_EINVAL);
    assert_non_null(strstr(err.msg, "infeasible"));
    assert_true(one == 1.0);

    /* Two identical assets in two clusters at the cap: unchanged. */
    double two[2] = {0.5, 0.5};
    const size_t cl2[2] = {0, 1};
    assert_int_equal(coce_alloc_cluster_caps(two, cl2, 2, 2, 0.5, work),
                     COCE_OK);
    assert_true(two[0] == 0.5 && two[1] == 0.5);

    /* An empty cluster id does not count towards feasibility. */
    double we[3] = {0.2, 0.2, 0.6};
    const size_t cle[3] = {0, 0, 2};
    assert_int_equal(
        coce_alloc_cluster_caps_err(we, cle, 3, 3, 0.4, work, &err),
        COCE_EINVAL);
    assert_int_equal(coce_alloc_cluster_caps(we, cle, 3, 3, 0.5, work),
                     COCE_OK);
    assert_close(we[0] + we[1], 0.5, 1e-15, 0.0);
    assert_close(we[2], 0.5, 1e-15, 0.0);

    /* A cap above every total only normalises. */
    double wn[2] = {2.0, 6.0};
    assert_int_equal(coce_alloc_cluster_caps(wn, cl2, 2, 2, 1.5, work),
                     COCE_OK);
    assert_true(wn[0] == 0.25 && wn[1] == 0.75);

    /* Errors, each leaving w unchanged. */
    double wb[2] = {0.5, 0.5};
    const size_t bad_cl[2] = {0, 2};
    assert_int_equal(
        coce_alloc_cluster_caps_err(wb, bad_cl, 2, 2, 0.6, work, &err),
        COCE_EINVAL);
    assert_non_null(strstr(err.msg, "cluster[1]"));
    assert_int_equal(coce_alloc_cluster_caps(wb, cl2, 2, 2, 0.0, work),
                     COCE_EINVAL);
    assert_int_equal(coce_alloc_cluster_caps(wb, cl2, 2, 2, NAN, work),
                     COCE_EINVAL);
    assert_int_equal(coce_alloc_cluster_caps(wb, cl2, 2, 2, 0.6, NULL),
                     COCE_EINVAL);
    assert_int_equal(coce_alloc_cluster_caps(NULL, cl2, 2, 2, 0.6, work),
                     COCE_EINVAL);
    assert_int_equal(coce_alloc_cluster_caps(wb, cl2, 0, 2, 0.6, work),
                     COCE_EINVAL);
    assert_int_equal(coce_alloc_cluster_caps(wb, cl2, 2, 0, 0.6, work),
                     COCE_EINVAL);
    assert_true(wb[0] == 0.5 && wb[1] == 0.5);
    double neg[2] = {1.1, -0.1};
    assert_int_equal(
        coce_alloc_cluster_caps_err(neg, cl2, 2, 2, 0.6, work, &err),
        COCE_EINVAL);
    assert_non_null(strstr(err.msg, "w[1]"));
    double zero[2] = {0.0, 0.0};
    assert_int_equal(coce_alloc_cluster_caps(zero, cl2, 2, 2, 0.6, work),
                     COCE_EINVAL);
}

static void test_normalise(void **state)
{
    (void)state;
    double w[4] = {0.2, -1e-12, 0.6, 0.2};
    assert_int_equal(coce_alloc_normalise(w, 4), COCE_OK);
    assert_true(w[1] == 0.0);
    assert_close(w[0], 0.2, 1e-15, 0.0);
    assert_close(sum(w, 4), 1.0, 1e-15, 0.0);
    double scaled[2] = {3.0, 1.0};
    assert_int_equal(coce_alloc_normalise(scaled, 2), COCE_OK);
    assert_true(scaled[0] == 0.75 && scaled[1] == 0.25);
    double shorted[2] = {1.2, -0.2};
    assert_int_equal(coce_alloc_normalise(shorted, 2), COCE_EINVAL);
    assert_true(shorted[1] == -0.2);
    double nan[2] = {NAN, 1.0};
    assert_int_equal(coce_alloc_normalise(nan, 2), COCE_EINVAL);
    double zero[2] = {0.0, -1e-13};
    assert_int_equal(coce_alloc_normalise(zero, 2), COCE_EINVAL);
    assert_int_equal(coce_alloc_normalise(NULL, 2), COCE_EINVAL);
    assert_int_equal(coce_alloc_normalise(w, 0), COCE_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_turnover_property),
        cmocka_unit_test(test_turnover_edges),
        cmocka_unit_test(test_cluster_caps_property),
        cmocka_unit_test(test_cluster_caps_cases),
        cmocka_unit_test(test_normalise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
