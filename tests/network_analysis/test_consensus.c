/* Consensus clustering: planted blocks, determinism, and R / tau / seeds
 * used as documented (one round re-derived from coce_louvain). */
#include "testutil.h"

#include "network_analysis/consensus.h"
#include "network_analysis/covariance.h"
#include "network_analysis/louvain.h"
#include "utils/error.h"
#include "utils/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Blocks of correlated assets (block factor + noise), plus `fuzz` extra
 * assets loading equally on blocks 0 and 1 so that runs can disagree. */
static double *make_graph(size_t blocks, size_t size, size_t fuzz, size_t n,
                          double noise, uint64_t seed, size_t *k_out)
{
    size_t k = blocks * size + fuzz;
    double *x = malloc(n * k * sizeof *x);
    coce_rng rng;
    coce_rng_init(&rng, seed);
    for (size_t t = 0; t < n; ++t) {
        double f[8];
        for (size_t b = 0; b < blocks; ++b)
            f[b] = coce_rng_normal(&rng);
        for (size_t i = 0; i < k; ++i) {
            double base = i < blocks * size ? f[i / size] : 0.7 * (f[0] + f[1]);
            x[t * k + i] = base + noise * coce_rng_normal(&rng);
        }
    }
    double *w = malloc(k * k * sizeof *w);
    double *work = malloc(coce_cov_work_size(n, k) * sizeof *work);
    assert_int_equal(coce_cov_pairwise(x, n, k, 2, w, NULL, work), COCE_OK);
    assert_int_equal(coce_corr_from_cov(w, k, w), COCE_OK);
    assert_int_equal(coce_corr_graph(w, k, w), COCE_OK);
    free(work);
    free(x);
    *k_out = k;
    return w;
}

static void test_planted_blocks_stable(void **state)
{
    (void)state;
    size_t k;
    double *w = make_graph(4, 15, 0, 200, 1.0, 3, &k);
    void *work = malloc(coce_consensus_work_size(k));
    size_t *mem = malloc(k * sizeof *mem), *mem2 = malloc(k * sizeof *mem2);
    coce_consensus_opts o;
    coce_consensus_opts_default(&o);
    assert_int_equal(o.runs, 20);
    assert_true(o.tau == 0.5 && o.max_rounds == 10);
    o.runs = 8;
    size_t nc = 0;
    double q = 0.0;
    assert_int_equal(coce_consensus_cluster(w, k, &o, mem, &nc, &q, work),
                     COCE_OK);
    assert_int_equal(nc, 4);
    for (size_t i = 0; i < k; ++i)
        assert_int_equal(mem[i], i / 15);
    assert_close(q, coce_modularity(w, k, mem, 1.0), 1e-15, 0.0);
    /* deterministic; a different seed gives the same stable partition */
    o.seed = 99;
    assert_int_equal(coce_consensus_cluster(w, k, &o, mem2, NULL, NULL, work),
                     COCE_OK);
    assert_memory_equal(mem, mem2, k * sizeof *mem);
    free(w);
    free(work);
    free(mem);
    free(mem2);
}

/* Connected components of the co-assignment graph thresholded at tau, from
 * R explicit Louvain runs with seeds seed + r: what one round must give. */
static size_t one_round_reference(const double *w, size_t k, size_t runs,
                                  double tau, uint64_t seed, size_t *comp)
{
    size_t *cnt = calloc(k * k, sizeof *cnt);
    size_t *part = malloc(k * sizeof *part);
    void *lw = malloc(coce_louvain_work_size(k));
    for (size_t r = 0; r < runs; ++r) {
        coce_louvain_opts o;
        coce_louvain_opts_default(&o);
        o.seed = seed + r;
        assert_int_equal(coce_louvain(w, k, &o, part, NULL, NULL, lw), COCE_OK);
        for (size_t i = 0; i < k; ++i)
            for (size_t j = 0; j < k; ++j)
                cnt[i * k + j] += part[i] == part[j];
    }
    /* label propagation to the smallest index: components numbered from
     * their smallest node, i.e. first appearance */
    for (size_t i = 0; i < k; ++i)
        comp[i] = i;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < k; ++i)
            for (size_t j = 0; j < k; ++j)
                if (i != j && (double)cnt[i * k + j] / (double)runs >= tau &&
                    cnt[i * k + j] > 0 && comp[j] < comp[i]) {
                    comp[i] = comp[j];
                    changed = 1;
                }
    }
    size_t n = coce__relabel(comp, k, part);
    free(cnt);
    free(part);
    free(lw);
    return n;
}

static void test_runs_tau_and_seeds(void **state)
{
    (void)state;
    size_t k;
    double *w = make_graph(3, 8, 6, 40, 2.5, 5, &k);
    void *work = malloc(coce_consensus_work_size(k));
    size_t *mem = malloc(k * sizeof *mem), *want = malloc(k * sizeof *want);
    const double taus[] = {0.0, 0.3, 0.5, 0.9, 1.0};
    for (size_t ti = 0; ti < 5; ++ti) {
        for (size_t runs = 1; runs <= 7; runs += 3) {
            coce_consensus_opts o;
            coce_consensus_opts_default(&o);
            o.runs = runs;
            o.tau = taus[ti];
            o.seed = 17;
            o.max_rounds = 1;
            size_t nc = 0;
            assert_int_equal(
                coce_consensus_cluster(w, k, &o, mem, &nc, NULL, work),
                COCE_OK);
            size_t nw = one_round_reference(w, k, runs, taus[ti], 17, want);
            assert_int_equal(nc, nw);
            assert_memory_equal(mem, want, k * sizeof *mem);
        }
    }
    /* full rounds: the result is a fixed point (labels canonical) */
    coce_consensus_opts o;
    coce_consensus_opts_default(&o);
    o.runs = 10;
    size_t nc = 0;
    double q = 0.0;
    assert_int_equal(coce_consensus_cluster(w, k, &o, mem, &nc, &q, work),
                     COCE_OK);
    assert_true(nc >= 1 && nc <= k && q > 0.0);
    assert_int_equal(mem[0], 0);
    assert_int_equal(coce_consensus_cluster(w, k, NULL, want, NULL, NULL, work),
                     COCE_OK);
    free(w);
    free(work);
    free(mem);
    free(want);
}

static void test_invalid(void **state)
{
    (void)state;
    double w[4] = {0, 1, 1, 0};
    size_t mem[2];
    void *work = malloc(coce_consensus_work_size(2));
    coce_consensus_opts o;
    coce_consensus_opts_default(&o);
    o.runs = 0;
    assert_int_equal(coce_consensus_cluster(w, 2, &o, mem, NULL, NULL, work),
                     COCE_EINVAL);
    coce_consensus_opts_default(&o);
    o.tau = 1.5;
    assert_int_equal(coce_consensus_cluster(w, 2, &o, mem, NULL, NULL, work),
                     COCE_EINVAL);
    coce_consensus_opts_default(&o);
    o.max_rounds = 0;
    assert_int_equal(coce_consensus_cluster(w, 2, &o, mem, NULL, NULL, work),
                     COCE_EINVAL);
    assert_int_equal(coce_consensus_cluster(w, 2, NULL, mem, NULL, NULL, NULL),
                     COCE_EINVAL);
    w[1] = -1.0; /* Louvain's error is passed on */
    w[2] = -1.0;
    assert_int_equal(coce_consensus_cluster(w, 2, NULL, mem, NULL, NULL, work),
                     COCE_EINVAL);
    w[1] = w[2] = 1.0;
    size_t nc = 0;
    assert_int_equal(coce_consensus_cluster(w, 2, NULL, mem, &nc, NULL, work),
                     COCE_OK);
    assert_true(nc == 1 && mem[0] == 0 && mem[1] == 0);
    coce_consensus_opts_default(NULL);
    free(work);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_blocks_stable),
        cmocka_unit_test(test_runs_tau_and_seeds),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
