/* Allocation constraints applied to target weights after HRP: a turnover
 * limit, per-cluster caps and a final normalisation. Pure functions, no
 * allocation; lengths explicit. Weights are fractions of equity (long only).
 */
#ifndef COCE_PORTFOLIO_CONSTRAINTS_H
#define COCE_PORTFOLIO_CONSTRAINTS_H

#include <stddef.h>

#include "utils/error.h"

/* Moves from prev towards target with L1 turnover ||out - prev||_1 never
 * above cap: out = prev + t (target - prev) with the largest t in [0, 1]
 * that keeps the turnover (summed in index order, as the function measures
 * it) <= cap. The move is convex, so non-negativity and sum-to-one (up to
 * rounding) hold for out whenever they hold for both ends.
 * prev == NULL means all cash: prev is taken as zero weights, so the full
 * move has turnover sum(|target|) (= 1 for a fully invested target).
 * cap == 0 leaves out == prev exactly. out may alias target or prev.
 * COCE_EINVAL: NULL target/out, k == 0, cap < 0 or NaN, non-finite weight. */
int coce_alloc_turnover_limit(const double *target, const double *prev,
                              size_t k, double cap, double *out);

/* Water-filling cluster caps: w (k weights, >= 0) is first normalised to sum
 * 1; then every cluster whose total exceeds cap is scaled down to cap and the
 * excess goes to the still-uncapped clusters in proportion to their totals
 * (equally across uncapped non-empty clusters, and equally across a
 * cluster's assets, when those totals are all 0); repeated until no cluster
 * exceeds cap (at most n_clusters rounds). Weights within a cluster keep
 * their ratios. On return w >= 0, sum(w) == 1 and every cluster total <= cap
 * (both to ~1e-15 rounding).
 * cluster[i] < n_clusters is asset i's cluster; work: 2 * n_clusters doubles.
 * COCE_EINVAL: NULL pointer, k or n_clusters 0, a cluster id out of range,
 * cap <= 0 or NaN, a negative or non-finite weight, sum(w) <= 0, or
 * infeasible caps: cap * (number of non-empty clusters) < 1 (only then
 * can the clusters not hold the whole portfolio). The _err variant names the
 * reason in err (may be NULL). w is unchanged on error. */
int coce_alloc_cluster_caps(double *w, const size_t *cluster, size_t k,
                            size_t n_clusters, double cap, double *work);
int coce_alloc_cluster_caps_err(double *w, const size_t *cluster, size_t k,
                                size_t n_clusters, double cap, double *work,
                                coce_err *err);

/* Clips rounding negatives (w_i in [-1e-9, 0) becomes 0) and rescales w to
 * sum 1. COCE_EINVAL if w is NULL, k == 0, an entry is not finite or below
 * -1e-9 (a real short, not rounding), or the sum is <= 0. w is unchanged on
 * error. */
int coce_alloc_normalise(double *w, size_t k);

#endif
