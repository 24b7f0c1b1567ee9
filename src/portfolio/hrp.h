/* Hierarchical risk parity (HRP) weights.
 *
 * Source: M. López de Prado, "Building Diversified Portfolios that Outperform
 * Out of Sample", Journal of Portfolio Management 42(4), 2016, sections 3-5
 * (tree clustering, quasi-diagonalisation, recursive bisection), with the
 * conventions of PyPortfolioOpt's HRPOpt (pypfopt/hierarchical_portfolio.py,
 * optimize(linkage_method="single")) so that results match it to rounding:
 *
 *   rho_ij = cov_ij / (sqrt(cov_ii) sqrt(cov_jj))   (upper triangle i < j)
 *   d_ij   = sqrt(clip((1 - rho_ij) / 2, 0, 1))
 *   single linkage exactly as scipy.cluster.hierarchy.linkage(
 *       squareform(d, checks=False), "single") (scipy's mst_single_linkage:
 *       Prim's MST from asset 0, edges stably sorted by distance, clusters
 *       labelled n + i by union-find, children ordered smaller id first)
 *   leaf order = scipy to_tree(Z).pre_order() (left child first)
 *   recursive bisection of that ordered list into halves by position
 *       (PyPortfolioOpt _raw_hrp_allocation); a half's variance is w' C w
 *       with inverse-variance weights inside it; alpha = 1 - V_l/(V_l+V_r).
 *
 * Covariance matrices are k x k, row-major, symmetric (the correlation uses
 * the upper triangle, the variances use the full matrix). Nothing here
 * allocates: the caller passes coce_hrp_work_size(k) bytes of workspace,
 * aligned as malloc'ed memory is. Outputs never alias inputs.
 *
 * Edge cases (documented decisions):
 *   k == 1                 weight 1, order {0}.
 *   identical assets       their distance is 0; they receive equal weights.
 *   zero-variance asset    COCE_EINVAL: inverse-variance weighting divides by
 *                          the variance, so a constant-price asset has no
 *                          HRP weight; the caller removes constant assets
 *                          before calling (err names the asset index).
 *   NaN / inf in cov       COCE_EINVAL (err names the cell).
 *   a half with variance <= 0 (cov not positive semidefinite, possible with
 *                          pairwise-complete covariances): COCE_EINVAL. */
#ifndef COCE_PORTFOLIO_HRP_H
#define COCE_PORTFOLIO_HRP_H

#include <stddef.h>

#include "utils/error.h"

/* Bytes of workspace that coce_hrp_weights needs for k assets
 * (0 when k == 0 or the size would overflow). */
size_t coce_hrp_work_size(size_t k);

/* HRP weights (sum 1, each > 0) of k assets from covariance cov.
 * weights: k outputs, in asset order. order: k outputs, the quasi-diagonal
 * leaf order (scipy pre_order), or NULL. work: coce_hrp_work_size(k) bytes.
 * Returns COCE_OK or COCE_EINVAL. */
int coce_hrp_weights(const double *cov, size_t k, double *weights,
                     size_t *order, void *work);

/* Same, with an explicit correlation matrix corr (k x k, upper triangle
 * used; NULL = derived from cov as above) and error detail err (may be
 * NULL). PyPortfolioOpt's HRPOpt(returns) clusters on pandas'
 * returns.corr(), whose pairwise-complete standard deviations differ from
 * sqrt(diag(returns.cov())) when assets have different histories; pass that
 * correlation here to reproduce it (see tests/portfolio/test_hrp_oracle.c). */
int coce_hrp_weights_ex(const double *cov, const double *corr, size_t k,
                        double *weights, size_t *order, void *work,
                        coce_err *err);

/* Variance w' C w of the inverse-variance portfolio over the m assets
 * idx[0..m-1] of the k x k matrix cov (PyPortfolioOpt _get_cluster_var).
 * work_m: m doubles. Returns COCE_EINVAL for m == 0, an index >= k, a
 * non-finite entry or a variance <= 0 on the diagonal. */
int coce_hrp_cluster_variance(const double *cov, size_t k, const size_t *idx,
                              size_t m, double *var, double *work_m);

/* Annualised expected return, volatility and Sharpe ratio of a portfolio, as
 * PyPortfolioOpt's portfolio_performance with mu = mean_returns *
 * periods_per_year and Sigma = cov * periods_per_year (per-period inputs;
 * 252 for stocks, 365 for crypto):
 *   ann_return = w' mu,  ann_vol = sqrt(w' Sigma w),
 *   sharpe = (ann_return - risk_free) / ann_vol.
 * mean_returns may be NULL: then ann_return and sharpe are NAN (as
 * PyPortfolioOpt returns None). sharpe is NAN when ann_vol is 0. Any output
 * pointer may be NULL. COCE_EINVAL for a non-finite input, periods_per_year
 * <= 0 or a negative portfolio variance. */
int coce_hrp_performance(const double *weights, const double *mean_returns,
                         const double *cov, size_t k, double periods_per_year,
                         double risk_free, double *ann_return, double *ann_vol,
                         double *sharpe);

#endif
