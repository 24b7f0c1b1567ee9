/* Allocation constraints. The turnover limit is a line search on the convex
 * path prev -> target (the L1 turnover is linear in t, so t = cap / L1 up to
 * rounding). The cluster caps cap each overflowing cluster and pour the
 * excess pro rata into the unsaturated ones until none overflows: the
 * "water-filling" pattern (cf. Boyd & Vandenberghe, Convex Optimization,
 * 2004, sec. 5.5.3), here proportional to the current cluster weights so that
 * the HRP risk split between uncapped clusters keeps its ratios. */
#include "portfolio/constraints.h"

#include <float.h>
#include <math.h>

/* Turnover of prev + t d measured exactly as callers will measure it. */
static double turnover_at(const double *target, const double *prev, size_t k,
                          double t)
{
    double sum = 0.0;
    for (size_t i = 0; i < k; ++i) {
        const double p = prev != NULL ? prev[i] : 0.0;
        const double v = p + t * (target[i] - p);
        sum += fabs(v - p);
    }
    return sum;
}

int coce_alloc_turnover_limit(const double *target, const double *prev,
                              size_t k, double cap, double *out)
{
    if (target == NULL || out == NULL || k == 0 || !(cap >= 0.0))
        return COCE_EINVAL;
    double l1 = 0.0;
    for (size_t i = 0; i < k; ++i) {
        const double p = prev != NULL ? prev[i] : 0.0;
        if (!isfinite(target[i]) || !isfinite(p))
            return COCE_EINVAL;
        l1 += fabs(target[i] - p);
    }
    if (l1 <= cap) {
        for (size_t i = 0; i < k; ++i)
            out[i] = target[i];
        return COCE_OK;
    }
    /* l1 > cap >= 0 here, so t < 1. Rounding in v - p can push the measured
     * turnover an ulp above cap: shrink t until it does not (t = 0 always
     * satisfies it). */
    double t = cap / l1;
    for (int it = 1; it <= 64 && turnover_at(target, prev, k, t) > cap; ++it)
        t *= 1.0 - 4.0 * DBL_EPSILON * (double)it;
    if (turnover_at(target, prev, k, t) > cap)
        t = 0.0;
    for (size_t i = 0; i < k; ++i) {
        const double p = prev != NULL ? prev[i] : 0.0;
        out[i] = p + t * (target[i] - p);
    }
    return COCE_OK;
}

int coce_alloc_normalise(double *w, size_t k)
{
    if (w == NULL || k == 0)
        return COCE_EINVAL;
    double sum = 0.0;
    for (size_t i = 0; i < k; ++i) {
        if (!isfinite(w[i]) || w[i] < -1e-9)
            return COCE_EINVAL;
        if (w[i] > 0.0)
            sum += w[i];
    }
    if (!(sum > 0.0))
        return COCE_EINVAL;
    for (size_t i = 0; i < k; ++i)
        w[i] = w[i] > 0.0 ? w[i] / sum : 0.0;
    return COCE_OK;
}

static int caps_validate(const double *w, const size_t *cluster, size_t k,
                         size_t n_clusters, double cap, double *count,
                         coce_err *err)
{
    if (w == NULL || cluster == NULL || k == 0 || n_clusters == 0)
        return coce_err_set(err, COCE_EINVAL,
                            "cluster_caps: w and cluster are required, k and "
                            "n_clusters > 0");
    if (!(cap > 0.0))
        return coce_err_set(err, COCE_EINVAL,
                            "cluster_caps: cap %g must be > 0", cap);
    for (size_t c = 0; c < n_clusters; ++c)
        count[c] = 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < k; ++i) {
        if (cluster[i] >= n_clusters)
            return coce_err_set(err, COCE_EINVAL,
                                "cluster_caps: cluster[%zu] = %zu is not "
                                "below n_clusters %zu",
                                i, cluster[i], n_clusters);
        if (!isfinite(w[i]) || w[i] < 0.0)
            return coce_err_set(err, COCE_EINVAL,
                                "cluster_caps: w[%zu] = %g is negative or "
                                "not finite",
                                i, w[i]);
        count[cluster[i]] += 1.0;
        sum += w[i];
    }
    if (!(sum > 0.0))
        return coce_err_set(err, COCE_EINVAL,
                            "cluster_caps: weights sum to %g <= 0", sum);
    size_t nonempty = 0;
    for (size_t c = 0; c < n_clusters; ++c)
        nonempty += count[c] > 0.0;
    /* 1e-12 slack so that cap = 1/n computed in floating point is feasible. */
    if (cap * (double)nonempty < 1.0 - 1e-12)
        return coce_err_set(err, COCE_EINVAL,
                            "cluster_caps: infeasible: cap %g x %zu non-empty "
                            "clusters < 1, the clusters cannot hold the "
                            "whole portfolio",
                            cap, nonempty);
    return COCE_OK;
}

/* Pours excess into the uncapped clusters. When none is left the excess can
 * only be rounding dust (the feasibility check guarantees room), dropped. */
static void pour(double *w, const size_t *cluster, size_t k, size_t n_clusters,
                 double excess, double *total, const double *state)
{
    /* state[c]: -1 capped, else the number of assets in cluster c. */
    double free = 0.0;
    size_t open = 0;
    for (size_t c = 0; c < n_clusters; ++c) {
        if (state[c] > 0.0) {
            free += total[c];
            ++open;
        }
    }
    if (free > 0.0) {
        const double f = (free + excess) / free;
        for (size_t i = 0; i < k; ++i)
            if (state[cluster[i]] > 0.0)
                w[i] *= f;
        for (size_t c = 0; c < n_clusters; ++c)
            if (state[c] > 0.0)
                total[c] *= f;
    } else if (open > 0) {
        const double share = excess / (double)open;
        for (size_t i = 0; i < k; ++i)
            if (state[cluster[i]] > 0.0)
                w[i] = share / state[cluster[i]];
        for (size_t c = 0; c < n_clusters; ++c)
            if (state[c] > 0.0)
                total[c] = share;
    }
}

int coce_alloc_cluster_caps_err(double *w, const size_t *cluster, size_t k,
                                size_t n_clusters, double cap, double *work,
                                coce_err *err)
{
    if (work == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "cluster_caps: work (2 * n_clusters doubles) is "
                            "required");
    double *total = work;
    double *state = work + n_clusters;
    int rc = caps_validate(w, cluster, k, n_clusters, cap, state, err);
    if (rc != COCE_OK)
        return rc;
    /* Cannot fail: w was validated finite, >= 0 with a positive sum. */
    (void)coce_alloc_normalise(w, k);
    for (size_t c = 0; c < n_clusters; ++c)
        total[c] = 0.0;
    for (size_t i = 0; i < k; ++i)
        total[cluster[i]] += w[i];
    for (size_t round = 0; round <= n_clusters; ++round) {
        double excess = 0.0;
        for (size_t c = 0; c < n_clusters; ++c) {
            if (state[c] > 0.0 && total[c] > cap) {
                const double f = cap / total[c];
                for (size_t i = 0; i < k; ++i)
                    if (cluster[i] == c)
                        w[i] *= f;
                excess += total[c] - cap;
                total[c] = cap;
                state[c] = -1.0;
            }
        }
        if (excess <= 0.0)
            break;
        pour(w, cluster, k, n_clusters, excess, total, state);
    }
    return COCE_OK;
}

int coce_alloc_cluster_caps(double *w, const size_t *cluster, size_t k,
                            size_t n_clusters, double cap, double *work)
{
    return coce_alloc_cluster_caps_err(w, cluster, k, n_clusters, cap, work,
                                       NULL);
}
