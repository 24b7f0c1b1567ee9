/* HRP on real prices against PyPortfolioOpt's own test oracle
 * (../shared/data/hrp_oracle, README section "data/hrp_oracle/"):
 *   returns = prices.pct_change().dropna(how="all")
 *   HRPOpt(returns).optimize(linkage_method="single")
 * HRPOpt clusters on returns.corr() and allocates with returns.cov(), both
 * pandas pairwise-complete. With assets listed at different dates the
 * pairwise correlation differs from cov_ij / sqrt(cov_ii cov_jj) (which uses
 * each asset's full-history variance), and on this data that changes the
 * leaf order, so the correlation is passed explicitly. Skips cleanly without
 * ../shared. */
#include "network_analysis/covariance.h"
#include "portfolio/hrp.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ASSETS 32
#define MAX_ROWS 8000

typedef struct prices {
    size_t n_rows, k;
    char names[MAX_ASSETS][16];
    double *p; /* n_rows x k */
} prices;

/* Splits a CSV line in place (empty fields kept); returns the field count. */
static size_t split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    char *cur = line;
    while (n < max) {
        fields[n++] = cur;
        char *comma = strchr(cur, ',');
        if (comma == NULL)
            break;
        *comma = '\0';
        cur = comma + 1;
    }
    return n;
}

static int load_prices(const char *path, prices *px)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char line[4096];
    char *fields[MAX_ASSETS + 1];
    assert_non_null(fgets(line, sizeof line, f));
    size_t nf = split(line, fields, MAX_ASSETS + 1);
    assert_true(nf >= 2);
    px->k = nf - 1; /* first column is the date */
    for (size_t j = 0; j < px->k; ++j)
        (void)snprintf(px->names[j], sizeof px->names[j], "%s", fields[j + 1]);
    px->p = calloc((size_t)MAX_ROWS * px->k, sizeof(double));
    assert_non_null(px->p);
    px->n_rows = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        assert_true(px->n_rows < MAX_ROWS);
        nf = split(line, fields, MAX_ASSETS + 1);
        assert_int_equal(nf, px->k + 1);
        for (size_t j = 0; j < px->k; ++j) {
            const char *s = fields[j + 1];
            double v = NAN;
            if (*s != '\0') {
                char *end = NULL;
                v = strtod(s, &end);
                assert_true(end != s && *end == '\0');
            }
            px->p[px->n_rows * px->k + j] = v;
        }
        px->n_rows++;
    }
    fclose(f);
    return 0;
}

static size_t asset_index(const prices *px, const char *name)
{
    for (size_t j = 0; j < px->k; ++j)
        if (strcmp(px->names[j], name) == 0)
            return j;
    fail_msg("asset %s not in stock_prices.csv", name);
    return 0;
}

typedef struct oracle {
    prices px;
    size_t n; /* return rows */
    double *ret, *cov, *corr, *w;
    size_t order[MAX_ASSETS];
} oracle;

static oracle g;

static int setup(void **state)
{
    char path[1024];
    if (coce_test_shared_path(path, sizeof path,
                              "data/hrp_oracle/stock_prices.csv") == NULL) {
        *state = NULL;
        return 0;
    }
    memset(&g, 0, sizeof g);
    if (load_prices(path, &g.px) != 0) {
        *state = NULL;
        return 0;
    }
    const size_t k = g.px.k;
    assert_int_equal(k, 20);
    assert_int_equal(g.px.n_rows, 7126);
    /* pct_change leaves row 0 all-NaN and dropna(how="all") drops exactly
     * that row (no other row is all blank): the same n_rows - 1 rows that
     * coce_returns_simple produces. The data has no gap after a listing, so
     * pandas' forward fill in pct_change changes nothing. */
    g.n = g.px.n_rows - 1;
    g.ret = calloc(g.n * k, sizeof(double));
    g.cov = calloc(k * k, sizeof(double));
    g.corr = calloc(k * k, sizeof(double));
    g.w = calloc(k, sizeof(double));
    assert_non_null(g.w);
    assert_int_equal(coce_returns_simple(g.px.p, g.px.n_rows, k, g.ret),
                     COCE_OK);
    assert_int_equal(coce_cov_pairwise(g.ret, g.n, k, 1, g.cov, NULL, NULL),
                     COCE_OK);
    assert_int_equal(coce_corr_pairwise(g.ret, g.n, k, 1, g.corr, NULL),
                     COCE_OK);
    void *work = malloc(coce_hrp_work_size(k));
    assert_non_null(work);
    coce_err err;
    coce_err_clear(&err);
    const int rc =
        coce_hrp_weights_ex(g.cov, g.corr, k, g.w, g.order, work, &err);
    free(work);
    assert_int_equal(rc, COCE_OK);
    *state = &g;
    return 0;
}

static int teardown(void **state)
{
    if (*state != NULL) {
        free(g.px.p);
        free(g.ret);
        free(g.cov);
        free(g.corr);
        free(g.w);
    }
    return 0;
}

static void test_weights(void **state)
{
    if (*state == NULL)
        skip();
    char path[1024];
    assert_non_null(coce_test_shared_path(path, sizeof path,
                                          "data/hrp_oracle/weights_hrp.csv"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    char *fields[3];
    assert_non_null(fgets(line, sizeof line, f)); /* ",0" */
    size_t seen = 0;
    double sum = 0.0;
    while (fgets(line, sizeof line, f) != NULL) {
        assert_int_equal(split(line, fields, 3), 2);
        const size_t j = asset_index(&g.px, fields[0]);
        const double expected = strtod(fields[1], NULL);
        assert_close(g.w[j], expected, 1e-9, 0.0);
        sum += g.w[j];
        ++seen;
    }
    fclose(f);
    assert_int_equal(seen, g.px.k);
    assert_close(sum, 1.0, 1e-12, 0.0);
}

static void test_order(void **state)
{
    if (*state == NULL)
        skip();
    /* README: the quasi-diagonal order starts [12, 6, 15, 14, 2]. */
    const size_t head[5] = {12, 6, 15, 14, 2};
    for (size_t i = 0; i < 5; ++i)
        assert_int_equal(g.order[i], head[i]);
    /* Full order from scipy on this data (tests/reference/hrp_ref.py
     * --oracle). */
    const size_t full[20] = {12, 6,  15, 14, 2, 7,  10, 3, 17, 11,
                             19, 13, 4,  1,  0, 16, 5,  9, 8,  18};
    for (size_t i = 0; i < 20; ++i)
        assert_int_equal(g.order[i], full[i]);
}

/* Clustering on cov-derived correlation instead reorders these assets, which
 * is why the oracle needs the pairwise correlation. */
static void test_cov_derived_corr_differs(void **state)
{
    if (*state == NULL)
        skip();
    const size_t k = g.px.k;
    void *work = malloc(coce_hrp_work_size(k));
    double w[MAX_ASSETS];
    size_t order[MAX_ASSETS];
    assert_non_null(work);
    assert_int_equal(coce_hrp_weights(g.cov, k, w, order, work), COCE_OK);
    free(work);
    int same = 1;
    for (size_t i = 0; i < k; ++i)
        same &= order[i] == g.order[i];
    assert_false(same);
}

static void test_cluster_variance(void **state)
{
    if (*state == NULL)
        skip();
    const char *tickers[10] = {"SHLD", "AMD", "BBY",  "RRC", "FB",
                               "WMT",  "T",   "BABA", "PFE", "UAA"};
    size_t idx[10];
    for (size_t i = 0; i < 10; ++i)
        idx[i] = asset_index(&g.px, tickers[i]);
    double var = 0.0;
    double wm[10];
    assert_int_equal(
        coce_hrp_cluster_variance(g.cov, g.px.k, idx, 10, &var, wm), COCE_OK);
    assert_close(var, 0.00012842967106653283, 1e-9, 0.0);
}

static void test_performance(void **state)
{
    if (*state == NULL)
        skip();
    const size_t k = g.px.k;
    /* returns.mean(): per asset over its available returns (skipna). */
    double mean[MAX_ASSETS];
    for (size_t j = 0; j < k; ++j) {
        double s = 0.0;
        size_t c = 0;
        for (size_t t = 0; t < g.n; ++t) {
            const double r = g.ret[t * k + j];
            if (isfinite(r)) {
                s += r;
                ++c;
            }
        }
        assert_true(c > 0);
        mean[j] = s / (double)c;
    }
    double ret, vol, sharpe;
    assert_int_equal(coce_hrp_performance(g.w, mean, g.cov, k, 252.0, 0.02,
                                          &ret, &vol, &sharpe),
                     COCE_OK);
    assert_close(ret, 0.21353402380950973, 1e-9, 0.0);
    assert_close(vol, 0.17844159743748936, 1e-9, 0.0);
    assert_close(sharpe, 1.084579081272277, 1e-9, 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_cov_derived_corr_differs),
        cmocka_unit_test(test_cluster_variance),
        cmocka_unit_test(test_performance),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
