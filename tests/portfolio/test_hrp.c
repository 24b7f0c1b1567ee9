/* HRP against fixtures from tests/reference/hrp_ref.py (scipy single
 * linkage + PyPortfolioOpt's bisection) and closed forms. */
#include "portfolio/hrp.h"
#include "testutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    size_t k;
    int has_corr;
    double *cov, *corr, *weights, *mean;
    size_t *order, *idx;
    size_t m;
    double cvar, periods, rf, ret, vol, sharpe;
} fixture;

static void expect_label(FILE *f, const char *label)
{
    char buf[64];
    assert_int_equal(fscanf(f, "%63s", buf), 1);
    assert_string_equal(buf, label);
}

static void read_doubles(FILE *f, double *x, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        assert_int_equal(fscanf(f, "%lf", &x[i]), 1);
}

static void read_sizes(FILE *f, size_t *x, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        assert_int_equal(fscanf(f, "%zu", &x[i]), 1);
}

static void load(const char *name, fixture *fx)
{
    char rel[256];
    char path[1024];
    (void)snprintf(rel, sizeof rel, "tests/fixtures/hrp/%s.txt", name);
    coce_test_path(path, sizeof path, rel);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    memset(fx, 0, sizeof *fx);
    expect_label(f, "k");
    assert_int_equal(fscanf(f, "%zu", &fx->k), 1);
    expect_label(f, "has_corr");
    assert_int_equal(fscanf(f, "%d", &fx->has_corr), 1);
    const size_t k = fx->k;
    fx->cov = calloc(k * k, sizeof(double));
    fx->corr = calloc(k * k, sizeof(double));
    fx->weights = calloc(k, sizeof(double));
    fx->mean = calloc(k, sizeof(double));
    fx->order = calloc(k, sizeof(size_t));
    fx->idx = calloc(k, sizeof(size_t));
    assert_non_null(fx->idx);
    expect_label(f, "cov");
    read_doubles(f, fx->cov, k * k);
    if (fx->has_corr) {
        expect_label(f, "corr");
        read_doubles(f, fx->corr, k * k);
    }
    expect_label(f, "order");
    read_sizes(f, fx->order, k);
    expect_label(f, "weights");
    read_doubles(f, fx->weights, k);
    expect_label(f, "cvar_m");
    assert_int_equal(fscanf(f, "%zu", &fx->m), 1);
    expect_label(f, "idx");
    read_sizes(f, fx->idx, fx->m);
    expect_label(f, "cvar");
    read_doubles(f, &fx->cvar, 1);
    expect_label(f, "mean");
    read_doubles(f, fx->mean, k);
    expect_label(f, "perf");
    read_doubles(f, &fx->periods, 1);
    read_doubles(f, &fx->rf, 1);
    read_doubles(f, &fx->ret, 1);
    read_doubles(f, &fx->vol, 1);
    read_doubles(f, &fx->sharpe, 1);
    fclose(f);
}

static void unload(fixture *fx)
{
    free(fx->cov);
    free(fx->corr);
    free(fx->weights);
    free(fx->mean);
    free(fx->order);
    free(fx->idx);
}

static void check_fixture(const char *name)
{
    fixture fx;
    load(name, &fx);
    const size_t k = fx.k;
    void *work = malloc(coce_hrp_work_size(k));
    double *w = calloc(k, sizeof(double));
    size_t *order = calloc(k, sizeof(size_t));
    assert_non_null(work);
    assert_non_null(w);
    assert_non_null(order);
    coce_err err;
    coce_err_clear(&err);
    if (fx.has_corr)
        assert_int_equal(
            coce_hrp_weights_ex(fx.cov, fx.corr, k, w, order, work, &err),
            COCE_OK);
    else
        assert_int_equal(coce_hrp_weights(fx.cov, k, w, order, work), COCE_OK);
    double sum = 0.0;
    for (size_t i = 0; i < k; ++i) {
        assert_int_equal(order[i], fx.order[i]);
        assert_close(w[i], fx.weights[i], 1e-9, 0.0);
        assert_true(w[i] > 0.0);
        sum += w[i];
    }
    assert_close(sum, 1.0, 1e-12, 0.0);

    /* order may be NULL: same weights. */
    double *w2 = calloc(k, sizeof(double));
    assert_non_null(w2);
    assert_int_equal(coce_hrp_weights_ex(fx.cov, fx.has_corr ? fx.corr : NULL,
                                         k, w2, NULL, work, NULL),
                     COCE_OK);
    for (size_t i = 0; i < k; ++i)
        assert_true(w2[i] == w[i]);

    double var = 0.0;
    double *wm = calloc(fx.m, sizeof(double));
    assert_non_null(wm);
    assert_int_equal(
        coce_hrp_cluster_variance(fx.cov, k, fx.idx, fx.m, &var, wm), COCE_OK);
    assert_close(var, fx.cvar, 1e-9, 0.0);

    double ret = 0, vol = 0, sharpe = 0;
    assert_int_equal(coce_hrp_performance(w, fx.mean, fx.cov, k, fx.periods,
                                          fx.rf, &ret, &vol, &sharpe),
                     COCE_OK);
    assert_close(ret, fx.ret, 1e-9, 1e-15);
    assert_close(vol, fx.vol, 1e-9, 0.0);
    assert_close(sharpe, fx.sharpe, 1e-8, 1e-12);
    free(wm);
    free(w2);
    free(order);
    free(w);
    free(work);
    unload(&fx);
}

static void test_fixture_k1(void **s)
{
    (void)s;
    check_fixture("k1");
}
static void test_fixture_k2(void **s)
{
    (void)s;
    check_fixture("factor_k2");
}
static void test_fixture_k5(void **s)
{
    (void)s;
    check_fixture("factor_k5");
}
static void test_fixture_k20(void **s)
{
    (void)s;
    check_fixture("factor_k20");
}
static void test_fixture_k60(void **s)
{
    (void)s;
    check_fixture("factor_k60");
}
static void test_fixture_k60_crypto(void **s)
{
    (void)s;
    check_fixture("factor_k60_crypto");
}
static void test_fixture_ties_equicorr(void **s)
{
    (void)s;
    check_fixture("ties_equicorr");
}
static void test_fixture_ties_blocks(void **s)
{
    (void)s;
    check_fixture("ties_blocks");
}
static void test_fixture_identical(void **s)
{
    (void)s;
    check_fixture("identical");
    /* Assets 1 and 3 are identical in that fixture: equal weights. */
    fixture fx;
    load("identical", &fx);
    assert_close(fx.weights[1], fx.weights[3], 1e-12, 0.0);
    unload(&fx);
}
static void test_fixture_corr_rounded(void **s)
{
    (void)s;
    check_fixture("corr_rounded");
}

/* Two assets: recursive bisection reduces to inverse-variance weights. */
static void test_two_assets_closed_form(void **s)
{
    (void)s;
    const double cov[4] = {0.04, 0.006, 0.006, 0.01};
    double w[2];
    size_t order[2];
    unsigned char work[512];
    assert_true(coce_hrp_work_size(2) <= sizeof work);
    assert_int_equal(coce_hrp_weights(cov, 2, w, order, (void *)work), COCE_OK);
    assert_close(w[0], 0.01 / 0.05, 1e-15, 0.0);
    assert_close(w[1], 0.04 / 0.05, 1e-15, 0.0);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
}

static void test_two_identical_assets_equal_weights(void **s)
{
    (void)s;
    const double cov[4] = {0.03, 0.03, 0.03, 0.03};
    double w[2];
    double work[64];
    assert_int_equal(coce_hrp_weights(cov, 2, w, NULL, work), COCE_OK);
    assert_true(w[0] == 0.5 && w[1] == 0.5);
}

static void test_k1_weight_one(void **s)
{
    (void)s;
    const double cov[1] = {2.5e-4};
    double w[1] = {0};
    size_t order[1] = {7};
    double work[16];
    assert_int_equal(coce_hrp_weights(cov, 1, w, order, work), COCE_OK);
    assert_true(w[0] == 1.0);
    assert_int_equal(order[0], 0);
}

static void test_work_size(void **s)
{
    (void)s;
    assert_int_equal(coce_hrp_work_size(0), 0);
    assert_int_equal(coce_hrp_work_size(SIZE_MAX), 0);
    assert_true(coce_hrp_work_size(10) >= 10 * (4 * sizeof(double)));
}

static void test_errors(void **s)
{
    (void)s;
    double cov[9] = {0.04, 0.01, 0.0, 0.01, 0.02, 0.0, 0.0, 0.0, 0.03};
    double w[3];
    double work[128];
    coce_err err;
    coce_err_clear(&err);
    assert_int_equal(coce_hrp_weights(NULL, 3, w, NULL, work), COCE_EINVAL);
    assert_int_equal(coce_hrp_weights(cov, 0, w, NULL, work), COCE_EINVAL);
    assert_int_equal(coce_hrp_weights(cov, 3, NULL, NULL, work), COCE_EINVAL);
    assert_int_equal(coce_hrp_weights(cov, 3, w, NULL, NULL), COCE_EINVAL);

    cov[5] = NAN;
    assert_int_equal(coce_hrp_weights_ex(cov, NULL, 3, w, NULL, work, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "cov[1][2]"));
    cov[5] = 0.0;

    /* Zero variance (constant price): rejected, naming the asset. */
    cov[8] = 0.0;
    assert_int_equal(coce_hrp_weights_ex(cov, NULL, 3, w, NULL, work, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "asset 2"));
    cov[8] = 0.03;

    double corr[9] = {1, 0.2, 0.1, 0.2, 1, NAN, 0.1, NAN, 1};
    assert_int_equal(coce_hrp_weights_ex(cov, corr, 3, w, NULL, work, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "corr[1][2]"));
    corr[5] = corr[7] = 0.3;
    assert_int_equal(coce_hrp_weights_ex(cov, corr, 3, w, NULL, work, &err),
                     COCE_OK);
}

/* Not positive semidefinite (possible with pairwise-complete covariances):
 * the clustering correlation puts 0 and 1 together, and the covariance gives
 * that half a negative inverse-variance variance (1 + 1 - 3) / 4. */
static void test_not_psd(void **s)
{
    (void)s;
    const double cov[16] = {1.0, -1.5, 0.0, 0.0, -1.5, 1.0, 0.0, 0.0,
                            0.0, 0.0,  1.0, 0.2, 0.0,  0.0, 0.2, 1.0};
    const double corr[16] = {1.0, 0.99, 0.0, 0.0, 0.99, 1.0, 0.0, 0.0,
                             0.0, 0.0,  1.0, 0.9, 0.0,  0.0, 0.9, 1.0};
    double w[4];
    double work[256];
    coce_err err;
    coce_err_clear(&err);
    assert_true(coce_hrp_work_size(4) <= sizeof work);
    assert_int_equal(coce_hrp_weights_ex(cov, corr, 4, w, NULL, work, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "positive semidefinite"));
}

static void test_cluster_variance(void **s)
{
    (void)s;
    const double cov[4] = {0.04, 0.006, 0.006, 0.01};
    const size_t idx[2] = {0, 1};
    double var = 0.0;
    double wm[2];
    /* w = (0.2, 0.8): var = 0.04*0.04 + 2*0.2*0.8*0.006 + 0.64*0.01 */
    assert_int_equal(coce_hrp_cluster_variance(cov, 2, idx, 2, &var, wm),
                     COCE_OK);
    assert_close(var, 0.0016 + 0.00192 + 0.0064, 1e-14, 0.0);
    const size_t one[1] = {1};
    assert_int_equal(coce_hrp_cluster_variance(cov, 2, one, 1, &var, wm),
                     COCE_OK);
    assert_close(var, 0.01, 1e-15, 0.0);
    const size_t out_of_range[1] = {2};
    assert_int_equal(
        coce_hrp_cluster_variance(cov, 2, out_of_range, 1, &var, wm),
        COCE_EINVAL);
    assert_int_equal(coce_hrp_cluster_variance(cov, 2, idx, 0, &var, wm),
                     COCE_EINVAL);
    assert_int_equal(coce_hrp_cluster_variance(NULL, 2, idx, 2, &var, wm),
                     COCE_EINVAL);
    const double nan_cov[4] = {0.04, NAN, NAN, 0.01};
    assert_int_equal(coce_hrp_cluster_variance(nan_cov, 2, idx, 2, &var, wm),
                     COCE_EINVAL);
    const double zero_cov[4] = {0.0, 0.0, 0.0, 0.01};
    assert_int_equal(coce_hrp_cluster_variance(zero_cov, 2, idx, 2, &var, wm),
                     COCE_EINVAL);
}

static void test_performance(void **s)
{
    (void)s;
    const double w[2] = {0.25, 0.75};
    const double mu[2] = {0.001, 0.002};
    const double cov[4] = {1e-4, 2e-5, 2e-5, 4e-4};
    double ret, vol, sharpe;
    assert_int_equal(
        coce_hrp_performance(w, mu, cov, 2, 365.0, 0.01, &ret, &vol, &sharpe),
        COCE_OK);
    const double r = 365.0 * (0.25 * 0.001 + 0.75 * 0.002);
    const double v =
        sqrt(365.0 * (0.0625 * 1e-4 + 2 * 0.1875 * 2e-5 + 0.5625 * 4e-4));
    assert_close(ret, r, 1e-14, 0.0);
    assert_close(vol, v, 1e-14, 0.0);
    assert_close(sharpe, (r - 0.01) / v, 1e-13, 0.0);
    /* No expected returns: only the volatility. */
    assert_int_equal(
        coce_hrp_performance(w, NULL, cov, 2, 252.0, 0.0, &ret, &vol, &sharpe),
        COCE_OK);
    assert_true(isnan(ret) && isnan(sharpe));
    assert_close(vol, sqrt(252.0 / 365.0) * v, 1e-14, 0.0);
    /* NULL outputs allowed. */
    assert_int_equal(
        coce_hrp_performance(w, mu, cov, 2, 252.0, 0.0, NULL, NULL, NULL),
        COCE_OK);
    /* Zero volatility: Sharpe undefined. */
    const double zero[4] = {0, 0, 0, 0};
    assert_int_equal(
        coce_hrp_performance(w, mu, zero, 2, 252.0, 0.0, &ret, &vol, &sharpe),
        COCE_OK);
    assert_true(vol == 0.0 && isnan(sharpe));
    /* Errors. */
    assert_int_equal(
        coce_hrp_performance(w, mu, cov, 2, 0.0, 0.0, &ret, &vol, &sharpe),
        COCE_EINVAL);
    assert_int_equal(
        coce_hrp_performance(NULL, mu, cov, 2, 252, 0.0, &ret, &vol, &sharpe),
        COCE_EINVAL);
    assert_int_equal(
        coce_hrp_performance(w, mu, cov, 2, 252, NAN, &ret, &vol, &sharpe),
        COCE_EINVAL);
    const double bad_mu[2] = {0.001, NAN};
    assert_int_equal(
        coce_hrp_performance(w, bad_mu, cov, 2, 252, 0.0, &ret, &vol, &sharpe),
        COCE_EINVAL);
    const double bad_cov[4] = {1e-4, INFINITY, 2e-5, 4e-4};
    assert_int_equal(coce_hrp_performance(w, NULL, bad_cov, 2, 252, 0.0, &ret,
                                          &vol, &sharpe),
                     COCE_EINVAL);
    const double neg_cov[4] = {1e-4, -1e-3, -1e-3, 1e-4};
    const double half[2] = {0.5, 0.5};
    assert_int_equal(coce_hrp_performance(half, NULL, neg_cov, 2, 252, 0.0,
                                          &ret, &vol, &sharpe),
                     COCE_EINVAL);
}

/* Correlations outside [-1, 1] (rounding, or an inconsistent pairwise
 * estimate) are clipped through the distance: same result as at +-1. */
static void test_corr_clipped(void **s)
{
    (void)s;
    const double cov[9] = {0.04, 0.01, 0.0, 0.01, 0.02, 0.0, 0.0, 0.0, 0.03};
    const double wild[9] = {1, 1.0000001, -1.5, 0, 1, 0.2, 0, 0, 1};
    const double clip[9] = {1, 1.0, -1.0, 0, 1, 0.2, 0, 0, 1};
    double w1[3], w2[3];
    size_t o1[3], o2[3];
    double work[128];
    assert_int_equal(coce_hrp_weights_ex(cov, wild, 3, w1, o1, work, NULL),
                     COCE_OK);
    assert_int_equal(coce_hrp_weights_ex(cov, clip, 3, w2, o2, work, NULL),
                     COCE_OK);
    for (size_t i = 0; i < 3; ++i) {
        assert_true(w1[i] == w2[i]);
        assert_int_equal(o1[i], o2[i]);
    }
    /* By hand: d01 = 0, d02 = 1, d12 = sqrt(0.4). Merge 1 joins {0, 1} as
     * cluster 3; merge 2 joins roots 2 and 3, smaller id left: 2, 0, 1. */
    assert_int_equal(o1[0], 2);
    assert_int_equal(o1[1], 0);
    assert_int_equal(o1[2], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_k1),
        cmocka_unit_test(test_fixture_k2),
        cmocka_unit_test(test_fixture_k5),
        cmocka_unit_test(test_fixture_k20),
        cmocka_unit_test(test_fixture_k60),
        cmocka_unit_test(test_fixture_k60_crypto),
        cmocka_unit_test(test_fixture_ties_equicorr),
        cmocka_unit_test(test_fixture_ties_blocks),
        cmocka_unit_test(test_fixture_identical),
        cmocka_unit_test(test_fixture_corr_rounded),
        cmocka_unit_test(test_two_assets_closed_form),
        cmocka_unit_test(test_two_identical_assets_equal_weights),
        cmocka_unit_test(test_k1_weight_one),
        cmocka_unit_test(test_work_size),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_not_psd),
        cmocka_unit_test(test_corr_clipped),
        cmocka_unit_test(test_cluster_variance),
        cmocka_unit_test(test_performance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
