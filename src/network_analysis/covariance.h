/* Returns, sample covariance and correlation of asset return matrices.
 *
 * Data layout everywhere: row-major n x k (row = time, column = asset).
 * A value is "missing" when it is not finite (NaN or +-inf), exactly as
 * pandas (which masks with np.isfinite) does. No function here allocates;
 * outputs go to caller buffers and the fast paths use a caller workspace. */
#ifndef COCE_NETWORK_ANALYSIS_COVARIANCE_H
#define COCE_NETWORK_ANALYSIS_COVARIANCE_H

#include <stddef.h>

/* Simple returns r_t = p_t / p_{t-1} - 1 for t = 1..n_rows-1, written as an
 * (n_rows-1) x n_assets row-major matrix. NAN when either price is missing
 * (no forward fill: a gap stays a gap). `returns` must not alias `prices`.
 * COCE_EINVAL if n_rows < 2, n_assets == 0 or a pointer is NULL. */
int coce_returns_simple(const double *prices, size_t n_rows, size_t n_assets,
                        double *returns);

/* Doubles of workspace that coce_cov_pairwise's fast path needs for an
 * n x k matrix (a centred copy packed in column panels plus k means). */
size_t coce_cov_work_size(size_t n, size_t k);

/* Sample covariance (ddof 1) of the k columns of x (n x k) over
 * pairwise-complete observations, as pandas DataFrame.cov(min_periods):
 * cov[i*k+j] is computed over the rows where both columns are present and is
 * NAN when fewer than min_periods such rows exist (min_periods 0 and 1 act as
 * 2: with one pair the ddof-1 divisor is 0 and pandas also gives NaN).
 * counts (k*k, may be NULL) receives the number of common rows per pair.
 *
 * Numerics: two-pass per pair (mean of the pair's common rows, then the sum
 * of centred products), Chan, Golub & LeVeque, "Algorithms for computing the
 * sample variance: analysis and recommendations", Am. Stat. 37(3), 1983,
 * sec. 2-3. A constant series gets a covariance of exactly 0.
 *
 * work: NULL selects the generic pairwise path; otherwise it must hold
 * coce_cov_work_size(n, k) doubles, and when x has no missing value a fast
 * blocked path (column means once, centred packed copy, register-blocked
 * cross products) is used; with missing values the work is ignored.
 * cov (k*k) and counts must not alias x or work. Returns COCE_EINVAL on NULL
 * x/cov, k == 0 or n == 0. */
int coce_cov_pairwise(const double *x, size_t n, size_t k, size_t min_periods,
                      double *cov, size_t *counts, double *work);

/* Pearson correlation from a covariance matrix: corr_ij = cov_ij /
 * sqrt(cov_ii cov_jj). NaN propagates; an asset with zero (or missing)
 * variance gets NaN correlations with every other asset and 1 on its
 * diagonal. corr may alias cov (same pointer). Note: from a pairwise
 * covariance this uses each asset's full-sample variance; pandas' .corr()
 * with gaps instead uses the variances over each pair's common rows, which
 * coce_corr_pairwise reproduces. */
int coce_corr_from_cov(const double *cov, size_t k, double *corr);

/* Pearson correlation over pairwise-complete observations exactly as pandas
 * DataFrame.corr(min_periods): for each pair, the covariance and both
 * variances use only the pair's common rows; NaN when fewer than
 * min_periods (values < 2 act as 2) common rows or when either series is
 * constant on them (diagonal included, as pandas). Two-pass per pair as
 * coce_cov_pairwise. corr (k*k) and counts (may be NULL) must not alias x. */
int coce_corr_pairwise(const double *x, size_t n, size_t k, size_t min_periods,
                       double *corr, size_t *counts);

/* Doubles of workspace for coce_cov_ledoit_wolf on an n x k matrix. */
size_t coce_cov_lw_work_size(size_t n, size_t k);

/* Ledoit-Wolf shrinkage towards a scaled identity: Ledoit & Wolf, "A
 * well-conditioned estimator for large-dimensional covariance matrices",
 * J. Multivariate Anal. 88 (2004), sec. 3.3 (lemma 3.2-3.4 estimators),
 * exactly as sklearn.covariance.LedoitWolf(assume_centered=False):
 *   S = X_c' X_c / n  (ddof 0, as sklearn: the paper's estimators are
 *                      stated for the 1/n sample covariance),
 *   mu = tr(S)/k, d^2 = ||S - mu I||_F^2 / k,
 *   b^2 = min(d^2, (1/(k n)) (sum_t ||x_t||^4 / n - ||S||_F^2)),
 *   shrinkage = b^2 / d^2 (0 when b^2 == 0), cov = (1-s) S + s mu I.
 * Only complete rows (no missing value in any column) are used; fewer than
 * 2 complete rows give COCE_EDATA. k == 1 gives shrinkage 0 (as sklearn).
 * cov is k*k; shrinkage may be NULL; work holds coce_cov_lw_work_size(n, k)
 * doubles. No argument may alias another. */
int coce_cov_ledoit_wolf(const double *x, size_t n, size_t k, double *cov,
                         double *shrinkage, double *work);

/* Internal, for tests and benchmarks: forces the cross-product kernel
 * (0 generic, 1 AVX2+FMA, 2 AVX-512; capped by what the CPU has; -1 picks
 * the widest available, the default). Not thread-safe. */
void coce__cov_set_kernel(int level);

#endif
