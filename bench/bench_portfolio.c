/* Benchmarks of the portfolio stage (bench/portfolio.sh drives them).
 *
 *   bench_portfolio gen ASSETS DAYS SEED OUT.csv
 *       seeded factor-model wide close-price CSV (ms times, daily rows)
 *   bench_portfolio run cluster|allocate ARGS...
 *       runs the subcommand in process (when `coce` does not list it yet)
 *   bench_portfolio inmem PRICES.csv GRAPH.bin
 *       median of 5: HRP in memory (returns -> cov -> weights), the
 *       covariance alone, OpenBLAS dsyrk on the centred returns (dlopen'ed
 *       libopenblas, 1 thread; skipped when absent), Louvain on max(corr,0)
 *       over 5 seeds; writes GRAPH.bin (k*k float64 LE) for louvain_ref.py
 *   bench_portfolio scale
 *       HRP in memory on generated returns at several sizes (median of 3) */
#include "agent/cmd_portfolio.h"
#include "data_ingest/prices.h"
#include "network_analysis/covariance.h"
#include "network_analysis/louvain.h"
#include "portfolio/hrp.h"
#include "utils/rng.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Returns of a factor model: a market factor, 20 sectors, idiosyncratic
 * noise with asset-specific volatility (n x k, row-major). */
static void factor_returns(size_t n, size_t k, uint64_t seed, double *r)
{
    coce_rng rng;
    coce_rng_init(&rng, seed);
    const size_t sectors = 20;
    double *beta = malloc(k * sizeof *beta);
    double *vol = malloc(k * sizeof *vol);
    double *f = malloc((sectors + 1) * sizeof *f);
    for (size_t j = 0; j < k; ++j) {
        beta[j] = 0.5 + coce_rng_uniform(&rng);
        vol[j] = 0.01 + 0.03 * coce_rng_uniform(&rng);
    }
    for (size_t t = 0; t < n; ++t) {
        for (size_t s = 0; s <= sectors; ++s)
            f[s] = 0.02 * coce_rng_normal(&rng);
        for (size_t j = 0; j < k; ++j)
            r[t * k + j] = 0.0003 + 0.5 * f[0] + beta[j] * f[1 + j % sectors] +
                           vol[j] * coce_rng_normal(&rng);
    }
    free(beta);
    free(vol);
    free(f);
}

static int gen(size_t k, size_t days, uint64_t seed, const char *path)
{
    double *r = malloc(days * k * sizeof *r);
    double *p = malloc(k * sizeof *p);
    FILE *f = fopen(path, "w");
    if (r == NULL || p == NULL || f == NULL) {
        free(r);
        free(p);
        if (f != NULL)
            fclose(f);
        return 1;
    }
    factor_returns(days, k, seed, r);
    fprintf(f, "time_ms");
    for (size_t j = 0; j < k; ++j) {
        fprintf(f, ",A%04zu", j);
        p[j] = 100.0;
    }
    fputc('\n', f);
    const long long day = 86400000LL, t0 = 1672531200000LL;
    for (size_t t = 0; t <= days; ++t) {
        fprintf(f, "%lld", t0 + (long long)t * day);
        for (size_t j = 0; j < k; ++j) {
            if (t > 0)
                p[j] *= 1.0 + r[(t - 1) * k + j];
            fprintf(f, ",%.10g", p[j]);
        }
        fputc('\n', f);
    }
    fclose(f);
    free(r);
    free(p);
    return 0;
}

/* HRP from returns in memory: covariance (blocked path) + weights. */
static double hrp_inmem(const double *ret, size_t n, size_t k, double *cov,
                        double *cw, double *w, void *hw)
{
    const double t0 = now();
    coce_cov_pairwise(ret, n, k, 1, cov, NULL, cw);
    if (coce_hrp_weights_ex(cov, NULL, k, w, NULL, hw, NULL) != COCE_OK)
        return NAN;
    return now() - t0;
}

typedef void (*dsyrk_fn)(int, int, int, int, int, double, const double *, int,
                         double, double *, int);

static int inmem(const char *prices, const char *graph)
{
    coce_price_table t;
    if (coce_price_table_load(prices, &t, NULL) != COCE_OK)
        return 1;
    const size_t n = t.n_rows - 1, k = t.n_assets;
    double *ret = malloc(n * k * sizeof *ret);
    double *cov = malloc(k * k * sizeof *cov);
    double *cw = malloc(coce_cov_work_size(n, k) * sizeof *cw);
    double *w = malloc(k * sizeof *w);
    void *hw = malloc(coce_hrp_work_size(k));
    coce_returns_simple(t.prices, t.n_rows, k, ret);
    double ts[5];
    for (int i = 0; i < 5; ++i)
        ts[i] = hrp_inmem(ret, n, k, cov, cw, w, hw);
    printf("hrp_inmem_seconds %.6f\n", median(ts, 5));
    for (int i = 0; i < 5; ++i) {
        const double t0 = now();
        coce_cov_pairwise(ret, n, k, 1, cov, NULL, cw);
        ts[i] = now() - t0;
    }
    printf("cov_seconds %.6f\n", median(ts, 5));

    /* OpenBLAS dsyrk on the centred returns: C = X'X (upper triangle). */
    void *lib = dlopen("libopenblas.so.0", RTLD_NOW);
    dsyrk_fn dsyrk = lib != NULL ? (dsyrk_fn)dlsym(lib, "cblas_dsyrk") : NULL;
    if (dsyrk != NULL) {
        void (*set_threads)(int) =
            (void (*)(int))dlsym(lib, "openblas_set_num_threads");
        if (set_threads != NULL)
            set_threads(1);
        double *xc = malloc(n * k * sizeof *xc);
        double *c = malloc(k * k * sizeof *c);
        for (size_t j = 0; j < k; ++j) {
            double m = 0.0;
            for (size_t r = 0; r < n; ++r)
                m += ret[r * k + j];
            m /= (double)n;
            for (size_t r = 0; r < n; ++r)
                xc[r * k + j] = ret[r * k + j] - m;
        }
        for (int i = 0; i < 5; ++i) {
            const double t0 = now();
            /* 101 RowMajor, 121 Upper, 112 Trans */
            dsyrk(101, 121, 112, (int)k, (int)n, 1.0 / ((double)n - 1.0), xc,
                  (int)k, 0.0, c, (int)k);
            ts[i] = now() - t0;
        }
        double maxdiff = 0.0;
        for (size_t i = 0; i < k; ++i)
            for (size_t j = i; j < k; ++j)
                maxdiff = fmax(maxdiff, fabs(c[i * k + j] - cov[i * k + j]));
        printf("dsyrk_seconds %.6f\ndsyrk_maxdiff %.3g\n", median(ts, 5),
               maxdiff);
        free(xc);
        free(c);
    } else {
        printf("dsyrk_seconds nan\n");
    }

    /* Louvain on the correlation graph */
    double *g = cov;
    coce_corr_from_cov(cov, k, g);
    coce_corr_graph(g, k, g);
    FILE *f = fopen(graph, "wb");
    if (f == NULL || fwrite(g, sizeof *g, k * k, f) != k * k)
        return 1;
    fclose(f);
    void *lw = malloc(coce_louvain_work_size(k));
    size_t *mem = malloc(k * sizeof *mem);
    double qs[5], best_q = -1.0;
    for (int s = 0; s < 5; ++s) {
        coce_louvain_opts o;
        coce_louvain_opts_default(&o);
        o.seed = (uint64_t)s;
        size_t nc = 0;
        const double t0 = now();
        coce_louvain(g, k, &o, mem, &nc, &qs[s], lw);
        ts[s] = now() - t0;
        best_q = fmax(best_q, qs[s]);
    }
    printf("louvain_median_seconds %.6f\nlouvain_best_seconds %.6f\n"
           "louvain_best_modularity %.6f\n",
           median(ts, 5), ts[0], best_q);
    free(lw);
    free(mem);
    free(ret);
    free(cov);
    free(cw);
    free(w);
    free(hw);
    coce_price_table_destroy(&t);
    return 0;
}

static int scale(void)
{
    const size_t assets[] = {250, 500, 1000, 2000};
    const size_t bars[] = {365, 730};
    printf("%8s %6s %12s %12s\n", "assets", "bars", "cov_s", "hrp_total_s");
    for (size_t a = 0; a < 4; ++a)
        for (size_t b = 0; b < 2; ++b) {
            const size_t k = assets[a], n = bars[b];
            double *ret = malloc(n * k * sizeof *ret);
            double *cov = malloc(k * k * sizeof *cov);
            double *cw = malloc(coce_cov_work_size(n, k) * sizeof *cw);
            double *w = malloc(k * sizeof *w);
            void *hw = malloc(coce_hrp_work_size(k));
            factor_returns(n, k, 7, ret);
            double tc[3], th[3];
            for (int i = 0; i < 3; ++i) {
                const double t0 = now();
                coce_cov_pairwise(ret, n, k, 1, cov, NULL, cw);
                tc[i] = now() - t0;
                th[i] = hrp_inmem(ret, n, k, cov, cw, w, hw);
            }
            printf("%8zu %6zu %12.4f %12.4f\n", k, n, median(tc, 3),
                   median(th, 3));
            free(ret);
            free(cov);
            free(cw);
            free(w);
            free(hw);
        }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "gen") == 0)
        return gen(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10),
                   strtoull(argv[4], NULL, 10), argv[5]);
    if (argc >= 3 && strcmp(argv[1], "run") == 0) {
        if (strcmp(argv[2], "cluster") == 0)
            return coce_cmd_cluster(argc - 2, argv + 2);
        if (strcmp(argv[2], "allocate") == 0)
            return coce_cmd_allocate(argc - 2, argv + 2);
    }
    if (argc == 4 && strcmp(argv[1], "inmem") == 0)
        return inmem(argv[2], argv[3]);
    if (argc == 2 && strcmp(argv[1], "scale") == 0)
        return scale();
    fprintf(stderr, "usage: bench_portfolio gen ASSETS DAYS SEED OUT.csv | "
                    "run cluster|allocate ARGS | inmem PRICES GRAPH | scale\n");
    return 2;
}
