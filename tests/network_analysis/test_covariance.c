/* Covariance, correlation and Ledoit-Wolf against pandas / numpy / sklearn
 * fixtures written by tests/reference/covariance_ref.py. */
#include "testutil.h"

#include "network_analysis/covariance.h"
#include "utils/error.h"
#include "utils/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a fixture matrix ("rows cols" then values, "nan" allowed). */
static double *load_matrix(const char *rel, size_t *rows, size_t *cols)
{
    char path[1024];
    coce_test_path(path, sizeof path, rel);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fscanf(f, "%zu %zu", rows, cols), 2);
    size_t len = *rows * *cols;
    double *m = malloc(len * sizeof *m);
    assert_non_null(m);
    char tok[64];
    for (size_t i = 0; i < len; ++i) {
        assert_int_equal(fscanf(f, "%63s", tok), 1);
        m[i] = strtod(tok, NULL); /* strtod reads "nan" */
    }
    fclose(f);
    return m;
}

/* Entry-wise check of a covariance-like matrix: relative 1e-12 of the
 * entry, or of sqrt(|c_ii c_jj|) for entries that cancel to ~0; NaN must
 * match NaN. */
static void assert_cov_close(const double *got, const double *want, size_t k,
                             double rtol)
{
    for (size_t i = 0; i < k; ++i)
        for (size_t j = 0; j < k; ++j) {
            double g = got[i * k + j], e = want[i * k + j];
            if (isnan(e)) {
                if (!isnan(g))
                    fail_msg("(%zu,%zu): got %.17g, want nan", i, j, g);
                continue;
            }
            double scale = sqrt(fabs(want[i * k + i] * want[j * k + j]));
            if (isnan(scale))
                scale = 0.0;
            assert_close(g, e, rtol, rtol * scale + 1e-300);
        }
}

static void test_returns_simple(void **state)
{
    (void)state;
    const double p[] = {NAN, 10.0, 2.0, 11.0, 4.0, NAN, 12.0, 5.0, 3.0};
    double r[6];
    assert_int_equal(coce_returns_simple(p, 3, 3, r), COCE_OK);
    assert_true(isnan(r[0]));
    assert_close(r[1], -0.6, 1e-15, 0.0);
    assert_true(isnan(r[2]));
    assert_close(r[3], 12.0 / 11.0 - 1.0, 1e-15, 0.0);
    assert_close(r[4], 0.25, 1e-15, 0.0);
    assert_true(isnan(r[5]));
    assert_int_equal(coce_returns_simple(p, 1, 3, r), COCE_EINVAL);
    assert_int_equal(coce_returns_simple(p, 3, 0, r), COCE_EINVAL);
    assert_int_equal(coce_returns_simple(NULL, 3, 3, r), COCE_EINVAL);
    assert_int_equal(coce_returns_simple(p, 3, 3, NULL), COCE_EINVAL);
}

/* pandas DataFrame.cov / .corr with gaps, generic and transposed paths. */
static void test_pairwise_vs_pandas(void **state)
{
    (void)state;
    size_t n, k, r, c;
    double *x = load_matrix("tests/fixtures/network/cov_gaps_x.txt", &n, &k);
    double *want =
        load_matrix("tests/fixtures/network/cov_gaps_cov.txt", &r, &c);
    double *want30 =
        load_matrix("tests/fixtures/network/cov_gaps_cov_mp30.txt", &r, &c);
    double *wcnt =
        load_matrix("tests/fixtures/network/cov_gaps_counts.txt", &r, &c);
    double *wcorr =
        load_matrix("tests/fixtures/network/cov_gaps_corr.txt", &r, &c);
    assert_int_equal(r, k);
    double *cov = malloc(k * k * sizeof *cov);
    size_t *cnt = malloc(k * k * sizeof *cnt);
    double *work = malloc(coce_cov_work_size(n, k) * sizeof *work);

    for (int use_work = 0; use_work < 2; ++use_work) {
        double *wk = use_work ? work : NULL;
        assert_int_equal(coce_cov_pairwise(x, n, k, 0, cov, cnt, wk), COCE_OK);
        assert_cov_close(cov, want, k, 1e-12);
        for (size_t i = 0; i < k * k; ++i)
            assert_int_equal(cnt[i], (size_t)wcnt[i]);
        /* constant column: exactly 0, as pandas' Welford gives */
        assert_true(cov[6 * k + 6] == 0.0);
        /* columns 4 and 8 share one row: NaN */
        assert_true(isnan(cov[4 * k + 8]) && cnt[4 * k + 8] == 1);
        assert_int_equal(coce_cov_pairwise(x, n, k, 30, cov, NULL, wk),
                         COCE_OK);
        assert_cov_close(cov, want30, k, 1e-12);
    }
    assert_int_equal(coce_corr_pairwise(x, n, k, 1, cov, cnt), COCE_OK);
    assert_cov_close(cov, wcorr, k, 1e-12);
    assert_int_equal(cnt[0], (size_t)wcnt[0]);
    assert_int_equal(coce_corr_pairwise(NULL, n, k, 1, cov, cnt), COCE_EINVAL);
    assert_int_equal(coce_corr_pairwise(x, 0, k, 1, cov, cnt), COCE_EINVAL);

    /* corr_from_cov of the pairwise cov: NaN rows of the unlisted and the
     * constant column, diagonal 1 for the constant one */
    assert_int_equal(coce_cov_pairwise(x, n, k, 2, cov, NULL, NULL), COCE_OK);
    assert_int_equal(coce_corr_from_cov(cov, k, cov), COCE_OK);
    assert_true(cov[6 * k + 6] == 1.0 && isnan(cov[6 * k + 0]));
    assert_true(isnan(cov[7 * k + 7]) && isnan(cov[0 * k + 7]));
    free(x);
    free(want);
    free(want30);
    free(wcnt);
    free(wcorr);
    free(cov);
    free(cnt);
    free(work);
}

/* numpy.cov / corrcoef on complete data through every kernel. */
static void test_fast_path_vs_numpy(void **state)
{
    (void)state;
    size_t n, k, r, c;
    double *x = load_matrix("tests/fixtures/network/cov_full_x.txt", &n, &k);
    double *want =
        load_matrix("tests/fixtures/network/cov_full_cov.txt", &r, &c);
    double *wcorr =
        load_matrix("tests/fixtures/network/cov_full_corr.txt", &r, &c);
    double *cov = malloc(k * k * sizeof *cov);
    double *corr = malloc(k * k * sizeof *corr);
    size_t *cnt = malloc(k * k * sizeof *cnt);
    double *work = malloc(coce_cov_work_size(n, k) * sizeof *work);
    for (int level = -1; level <= 2; ++level) {
        coce__cov_set_kernel(level);
        assert_int_equal(coce_cov_pairwise(x, n, k, 2, cov, cnt, work),
                         COCE_OK);
        assert_cov_close(cov, want, k, 1e-12);
        assert_int_equal(cnt[k + 3], n);
    }
    coce__cov_set_kernel(-1);
    assert_int_equal(coce_cov_pairwise(x, n, k, 2, cov, NULL, NULL), COCE_OK);
    assert_cov_close(cov, want, k, 1e-12);
    assert_int_equal(coce_corr_from_cov(cov, k, corr), COCE_OK);
    assert_cov_close(corr, wcorr, k, 1e-12);
    /* in place */
    assert_int_equal(coce_corr_from_cov(cov, k, cov), COCE_OK);
    assert_memory_equal(cov, corr, k * k * sizeof *cov);
    /* fewer rows than min_periods: all NaN on both paths */
    assert_int_equal(coce_cov_pairwise(x, n, k, n + 1, cov, NULL, work),
                     COCE_OK);
    for (size_t i = 0; i < k * k; ++i)
        assert_true(isnan(cov[i]));
    assert_int_equal(coce_cov_pairwise(x, n, k, 0, NULL, NULL, work),
                     COCE_EINVAL);
    assert_int_equal(coce_cov_pairwise(x, n, 0, 0, cov, NULL, work),
                     COCE_EINVAL);
    assert_int_equal(coce_corr_from_cov(NULL, k, cov), COCE_EINVAL);
    free(x);
    free(want);
    free(wcorr);
    free(cov);
    free(corr);
    free(cnt);
    free(work);
}

/* The fast blocked path and the slow pairwise path agree on a matrix wide
 * enough for several 3-panel kernel calls and super-blocks. */
static void test_fast_equals_generic(void **state)
{
    (void)state;
    const size_t n = 41, k = 75;
    double *x = malloc(n * k * sizeof *x);
    coce_rng rng;
    coce_rng_init(&rng, 7);
    for (size_t i = 0; i < n * k; ++i)
        x[i] = 100.0 + coce_rng_normal(&rng);
    for (size_t t = 0; t < n; ++t)
        x[t * k + 70] = 3.25; /* constant: exactly zero */
    double *a = malloc(k * k * sizeof *a), *b = malloc(k * k * sizeof *b);
    double *work = malloc(coce_cov_work_size(n, k) * sizeof *work);
    assert_int_equal(coce_cov_pairwise(x, n, k, 2, a, NULL, NULL), COCE_OK);
    for (int level = 0; level <= 2; ++level) {
        coce__cov_set_kernel(level);
        assert_int_equal(coce_cov_pairwise(x, n, k, 2, b, NULL, work), COCE_OK);
        assert_cov_close(b, a, k, 1e-12);
        assert_true(b[70 * k + 70] == 0.0 && b[70 * k + 3] == 0.0);
    }
    coce__cov_set_kernel(-1);
    assert_int_equal(coce_corr_from_cov(b, k, b), COCE_OK);
    assert_true(isnan(b[70 * k + 3]) && b[70 * k + 70] == 1.0);
    assert_close(b[5 * k + 5], 1.0, 1e-15, 0.0);
    free(x);
    free(a);
    free(b);
    free(work);
}

static void test_ledoit_wolf_vs_sklearn(void **state)
{
    (void)state;
    size_t n, k, r, c;
    double *x = load_matrix("tests/fixtures/network/cov_lw_x.txt", &n, &k);
    double *want = load_matrix("tests/fixtures/network/cov_lw_cov.txt", &r, &c);
    double *ws =
        load_matrix("tests/fixtures/network/cov_lw_shrink.txt", &r, &c);
    double *cov = malloc(k * k * sizeof *cov);
    double *work = malloc(coce_cov_lw_work_size(n, k) * sizeof *work);
    double s = -1.0;
    assert_int_equal(coce_cov_ledoit_wolf(x, n, k, cov, &s, work), COCE_OK);
    assert_close(s, ws[0], 1e-10, 0.0);
    assert_true(s > 0.0 && s < 1.0);
    assert_cov_close(cov, want, k, 1e-10);
    assert_int_equal(coce_cov_ledoit_wolf(x, n, k, cov, NULL, work), COCE_OK);

    /* one column: sklearn returns the ddof-0 variance and shrinkage 0 */
    const double one[] = {1.0, 2.0, NAN, 4.0};
    double v;
    assert_int_equal(coce_cov_ledoit_wolf(one, 4, 1, &v, &s, work), COCE_OK);
    assert_close(v, 14.0 / 9.0, 1e-15, 0.0);
    assert_true(s == 0.0);
    /* fewer than two complete rows */
    const double two[] = {1.0, NAN, 2.0, 3.0, NAN, 4.0};
    assert_int_equal(coce_cov_ledoit_wolf(two, 3, 2, cov, &s, work),
                     COCE_EDATA);
    assert_int_equal(coce_cov_ledoit_wolf(x, n, k, cov, &s, NULL), COCE_EINVAL);
    /* identical columns: S is rank one, target differs, shrinkage in (0,1] */
    const double same[] = {1.0, 1.0, 2.0, 2.0, 4.0, 4.0};
    assert_int_equal(coce_cov_ledoit_wolf(same, 3, 2, cov, &s, work), COCE_OK);
    assert_true(s >= 0.0 && s <= 1.0);
    /* constant data: beta = delta = 0, shrinkage 0 */
    const double flat[] = {1.0, 2.0, 1.0, 2.0, 1.0, 2.0};
    assert_int_equal(coce_cov_ledoit_wolf(flat, 3, 2, cov, &s, work), COCE_OK);
    assert_true(s == 0.0 && cov[0] == 0.0);
    free(x);
    free(want);
    free(ws);
    free(cov);
    free(work);
}

/* Pairwise covariance of the returns of a real price file with listings
 * (blanks before each IPO) vs pandas pct_change().dropna(how="all").cov(). */
static void test_hrp_oracle_returns_cov(void **state)
{
    (void)state;
    char path[1024], fix[1024];
    if (coce_test_shared_path(path, sizeof path,
                              "data/hrp_oracle/stock_prices.csv") == NULL)
        skip();
    coce_test_path(fix, sizeof fix, "tests/fixtures/network/cov_hrp_cov.txt");
    FILE *probe = fopen(fix, "r");
    if (probe == NULL)
        skip();
    fclose(probe);
    size_t len = 0;
    char *text = coce_test_read_file(path, &len);
    assert_non_null(text);
    /* header: date + k tickers */
    size_t k = 0;
    char *p = text;
    while (*p != '\n') {
        if (*p == ',')
            ++k;
        ++p;
    }
    ++p;
    size_t cap = 8192, n = 0;
    double *prices = malloc(cap * k * sizeof *prices);
    while (*p != '\0') {
        char *eol = strchr(p, '\n');
        if (eol == NULL)
            eol = p + strlen(p);
        if (eol == p) {
            p = eol + (*eol != '\0');
            continue;
        }
        assert_true(n < cap);
        char *q = strchr(p, ','); /* skip the date */
        assert_non_null(q);
        for (size_t j = 0; j < k; ++j) {
            ++q;
            char *end = q;
            /* a blank field (also the last one: strtod would skip the
             * newline) means "not listed yet" */
            double v = (q < eol && *q != ',') ? strtod(q, &end) : NAN;
            prices[n * k + j] = end == q ? NAN : v;
            q = end;
            while (*q != ',' && q < eol)
                ++q;
        }
        ++n;
        p = eol + (*eol != '\0');
    }
    double *ret = malloc((n - 1) * k * sizeof *ret);
    assert_int_equal(coce_returns_simple(prices, n, k, ret), COCE_OK);
    /* dropna(how="all"): leading rows where nobody is listed */
    size_t skip_rows = 0;
    for (; skip_rows < n - 1; ++skip_rows) {
        size_t j = 0;
        while (j < k && isnan(ret[skip_rows * k + j]))
            ++j;
        if (j < k)
            break;
    }
    size_t m = n - 1 - skip_rows;
    size_t r, c;
    double *want =
        load_matrix("tests/fixtures/network/cov_hrp_cov.txt", &r, &c);
    assert_int_equal(r, k);
    double *cov = malloc(k * k * sizeof *cov);
    double *work = malloc(coce_cov_work_size(m, k) * sizeof *work);
    assert_int_equal(
        coce_cov_pairwise(ret + skip_rows * k, m, k, 1, cov, NULL, work),
        COCE_OK);
    assert_cov_close(cov, want, k, 1e-12);
    free(text);
    free(prices);
    free(ret);
    free(want);
    free(cov);
    free(work);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_returns_simple),
        cmocka_unit_test(test_pairwise_vs_pandas),
        cmocka_unit_test(test_fast_path_vs_numpy),
        cmocka_unit_test(test_fast_equals_generic),
        cmocka_unit_test(test_ledoit_wolf_vs_sklearn),
        cmocka_unit_test(test_hrp_oracle_returns_cov),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
