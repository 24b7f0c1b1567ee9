/* Hierarchical risk parity: López de Prado (2016), J. Portfolio Management
 * 42(4), sections 3 (tree clustering), 4 (quasi-diagonalisation) and 5
 * (recursive bisection), following PyPortfolioOpt's HRPOpt and scipy's
 * single-linkage implementation (scipy/cluster/_hierarchy.pyx:
 * mst_single_linkage, label) bit for bit where it matters for ties. */
#include "portfolio/hrp.h"

#include <math.h>
#include <stdint.h>

_Static_assert(_Alignof(size_t) <= _Alignof(double),
               "size_t region follows the double region of the workspace");

enum { HRP_NDOUBLE = 4, HRP_NSIZE = 12 };

size_t coce_hrp_work_size(size_t k)
{
    const size_t per =
        HRP_NDOUBLE * sizeof(double) + HRP_NSIZE * sizeof(size_t);
    if (k == 0 || k > SIZE_MAX / per)
        return 0;
    return k * per;
}

/* Inverse-variance portfolio variance over idx (no validation). */
static double cluster_var(const double *cov, size_t k, const size_t *idx,
                          size_t m, double *wm)
{
    double sum = 0.0;
    for (size_t a = 0; a < m; ++a) {
        wm[a] = 1.0 / cov[idx[a] * k + idx[a]];
        sum += wm[a];
    }
    for (size_t a = 0; a < m; ++a)
        wm[a] /= sum;
    double var = 0.0;
    for (size_t a = 0; a < m; ++a) {
        const double *row = cov + idx[a] * k;
        double acc = 0.0;
        for (size_t b = 0; b < m; ++b)
            acc += row[idx[b]] * wm[b];
        var += wm[a] * acc;
    }
    return var;
}

int coce_hrp_cluster_variance(const double *cov, size_t k, const size_t *idx,
                              size_t m, double *var, double *work_m)
{
    if (cov == NULL || idx == NULL || var == NULL || work_m == NULL || m == 0)
        return COCE_EINVAL;
    for (size_t a = 0; a < m; ++a) {
        if (idx[a] >= k)
            return COCE_EINVAL;
        for (size_t b = 0; b < m; ++b)
            if (!isfinite(cov[idx[a] * k + idx[b]]))
                return COCE_EINVAL;
        if (!(cov[idx[a] * k + idx[a]] > 0.0))
            return COCE_EINVAL;
    }
    *var = cluster_var(cov, k, idx, m, work_m);
    return COCE_OK;
}

/* Distance between assets a < b, PyPortfolioOpt's clipped formula. */
static double pair_dist(const double *cov, const double *corr, const double *sd,
                        size_t k, size_t i, size_t j)
{
    const size_t a = i < j ? i : j;
    const size_t b = i < j ? j : i;
    const double rho =
        corr != NULL ? corr[a * k + b] : cov[a * k + b] / (sd[a] * sd[b]);
    double t = (1.0 - rho) / 2.0;
    if (t < 0.0)
        t = 0.0;
    if (t > 1.0)
        t = 1.0;
    return sqrt(t);
}

static size_t uf_find(size_t *parent, size_t x)
{
    size_t root = x;
    while (parent[root] != root)
        root = parent[root];
    while (parent[x] != root) {
        const size_t next = parent[x];
        parent[x] = root;
        x = next;
    }
    return root;
}

typedef struct hrp_ws {
    double *sd, *dmin, *edist, *wm;
    size_t *ex, *ey, *perm, *parent, *left, *right, *ord, *stack, *merged;
} hrp_ws;

static void ws_carve(void *work, size_t k, hrp_ws *ws)
{
    double *d = work;
    ws->sd = d;
    ws->dmin = d + k;
    ws->edist = d + 2 * k;
    ws->wm = d + 3 * k;
    void *tail = (unsigned char *)work + HRP_NDOUBLE * k * sizeof(double);
    size_t *s = tail;
    ws->ex = s;
    ws->ey = s + k;
    ws->perm = s + 2 * k;
    ws->parent = s + 3 * k;  /* 2k */
    ws->left = s + 5 * k;    /* k */
    ws->right = s + 6 * k;   /* k */
    ws->ord = s + 7 * k;     /* k */
    ws->stack = s + 8 * k;   /* 2k */
    ws->merged = s + 10 * k; /* k (+k spare) */
}

/* scipy mst_single_linkage: Prim's algorithm started at asset 0; the edge
 * recorded at step s joins the last added vertex x to the next one y (any
 * tree vertex identifies the same component for the later union-find). A
 * strict '<' keeps the lowest index among equal distances, as scipy does. */
static void prim_mst(const double *cov, const double *corr, size_t k,
                     hrp_ws *ws)
{
    for (size_t i = 0; i < k; ++i) {
        ws->dmin[i] = INFINITY;
        ws->merged[i] = 0;
    }
    size_t x = 0;
    size_t y = 0;
    for (size_t s = 0; s + 1 < k; ++s) {
        double cur = INFINITY;
        ws->merged[x] = 1;
        for (size_t i = 0; i < k; ++i) {
            if (ws->merged[i])
                continue;
            const double d = pair_dist(cov, corr, ws->sd, k, x, i);
            if (ws->dmin[i] > d)
                ws->dmin[i] = d;
            if (ws->dmin[i] < cur) {
                y = i;
                cur = ws->dmin[i];
            }
        }
        ws->ex[s] = x;
        ws->ey[s] = y;
        ws->edist[s] = cur;
        x = y;
    }
}

/* scipy sorts the MST edges with a stable sort (argsort kind='mergesort');
 * insertion sort is stable and O(k^2), no worse than Prim. */
static void stable_sort_edges(size_t m, hrp_ws *ws)
{
    for (size_t i = 0; i < m; ++i)
        ws->perm[i] = i;
    for (size_t i = 1; i < m; ++i) {
        const size_t key = ws->perm[i];
        size_t j = i;
        while (j > 0 && ws->edist[ws->perm[j - 1]] > ws->edist[key]) {
            ws->perm[j] = ws->perm[j - 1];
            --j;
        }
        ws->perm[j] = key;
    }
}

/* scipy label(): the i-th merge (by sorted distance) creates cluster k + i
 * whose children are the two union-find roots, smaller id on the left. */
static void label_tree(size_t k, hrp_ws *ws)
{
    for (size_t i = 0; i < 2 * k - 1; ++i)
        ws->parent[i] = i;
    for (size_t i = 0; i + 1 < k; ++i) {
        const size_t e = ws->perm[i];
        const size_t rx = uf_find(ws->parent, ws->ex[e]);
        const size_t ry = uf_find(ws->parent, ws->ey[e]);
        ws->left[i] = rx < ry ? rx : ry;
        ws->right[i] = rx < ry ? ry : rx;
        ws->parent[rx] = k + i;
        ws->parent[ry] = k + i;
    }
}

/* scipy ClusterNode.pre_order(): leaves, left subtree first. */
static void pre_order(size_t k, hrp_ws *ws)
{
    size_t top = 0;
    size_t pos = 0;
    ws->stack[top++] = 2 * k - 2;
    while (top > 0) {
        const size_t node = ws->stack[--top];
        if (node < k) {
            ws->ord[pos++] = node;
            continue;
        }
        ws->stack[top++] = ws->right[node - k];
        ws->stack[top++] = ws->left[node - k];
    }
}

/* PyPortfolioOpt _raw_hrp_allocation bisects level by level; each asset
 * receives the same factors in the same top-down order under this
 * depth-first walk, so the products are identical. */
static int bisect(const double *cov, size_t k, double *weights, hrp_ws *ws,
                  coce_err *err)
{
    for (size_t i = 0; i < k; ++i)
        weights[i] = 1.0;
    size_t top = 0;
    ws->stack[top++] = 0;
    ws->stack[top++] = k;
    while (top > 0) {
        const size_t len = ws->stack[--top];
        const size_t start = ws->stack[--top];
        if (len < 2)
            continue;
        const size_t half = len / 2;
        const size_t *lo = ws->ord + start;
        const size_t *hi = lo + half;
        const double v1 = cluster_var(cov, k, lo, half, ws->wm);
        const double v2 = cluster_var(cov, k, hi, len - half, ws->wm);
        if (!(v1 > 0.0) || !(v2 > 0.0))
            return coce_err_set(err, COCE_EINVAL,
                                "hrp: cluster variance %g/%g <= 0 at order "
                                "positions %zu..%zu: covariance is not "
                                "positive semidefinite",
                                v1, v2, start, start + len - 1);
        const double alpha = 1.0 - v1 / (v1 + v2);
        for (size_t a = 0; a < half; ++a)
            weights[lo[a]] *= alpha;
        for (size_t a = 0; a < len - half; ++a)
            weights[hi[a]] *= 1.0 - alpha;
        ws->stack[top++] = start + half;
        ws->stack[top++] = len - half;
        ws->stack[top++] = start;
        ws->stack[top++] = half;
    }
    return COCE_OK;
}

static int validate(const double *cov, const double *corr, size_t k,
                    coce_err *err)
{
    for (size_t i = 0; i < k; ++i) {
        for (size_t j = 0; j < k; ++j) {
            if (!isfinite(cov[i * k + j]))
                return coce_err_set(err, COCE_EINVAL,
                                    "hrp: cov[%zu][%zu] is not finite", i, j);
            if (corr != NULL && j > i && !isfinite(corr[i * k + j]))
                return coce_err_set(err, COCE_EINVAL,
                                    "hrp: corr[%zu][%zu] is not finite", i, j);
        }
        if (!(cov[i * k + i] > 0.0))
            return coce_err_set(err, COCE_EINVAL,
                                "hrp: asset %zu has variance %g <= 0 (constant "
                                "price?): remove it before HRP",
                                i, cov[i * k + i]);
    }
    return COCE_OK;
}

int coce_hrp_weights_ex(const double *cov, const double *corr, size_t k,
                        double *weights, size_t *order, void *work,
                        coce_err *err)
{
    if (cov == NULL || weights == NULL || work == NULL || k == 0)
        return coce_err_set(err, COCE_EINVAL,
                            "hrp: cov, weights and work are required, k > 0");
    int rc = validate(cov, corr, k, err);
    if (rc != COCE_OK)
        return rc;
    hrp_ws ws;
    ws_carve(work, k, &ws);
    for (size_t i = 0; i < k; ++i)
        ws.sd[i] = sqrt(cov[i * k + i]);
    if (k == 1) {
        ws.ord[0] = 0;
    } else {
        prim_mst(cov, corr, k, &ws);
        stable_sort_edges(k - 1, &ws);
        label_tree(k, &ws);
        pre_order(k, &ws);
    }
    rc = bisect(cov, k, weights, &ws, err);
    if (rc != COCE_OK)
        return rc;
    if (order != NULL)
        for (size_t i = 0; i < k; ++i)
            order[i] = ws.ord[i];
    return COCE_OK;
}

int coce_hrp_weights(const double *cov, size_t k, double *weights,
                     size_t *order, void *work)
{
    return coce_hrp_weights_ex(cov, NULL, k, weights, order, work, NULL);
}

int coce_hrp_performance(const double *weights, const double *mean_returns,
                         const double *cov, size_t k, double periods_per_year,
                         double risk_free, double *ann_return, double *ann_vol,
                         double *sharpe)
{
    if (weights == NULL || cov == NULL || k == 0 ||
        !isfinite(periods_per_year) || !(periods_per_year > 0.0) ||
        !isfinite(risk_free))
        return COCE_EINVAL;
    double ret = NAN;
    if (mean_returns != NULL) {
        ret = 0.0;
        for (size_t i = 0; i < k; ++i) {
            if (!isfinite(mean_returns[i]) || !isfinite(weights[i]))
                return COCE_EINVAL;
            ret += weights[i] * (mean_returns[i] * periods_per_year);
        }
    }
    double var = 0.0;
    for (size_t i = 0; i < k; ++i) {
        double acc = 0.0;
        for (size_t j = 0; j < k; ++j) {
            if (!isfinite(cov[i * k + j]) || !isfinite(weights[j]))
                return COCE_EINVAL;
            acc += (cov[i * k + j] * periods_per_year) * weights[j];
        }
        var += weights[i] * acc;
    }
    if (var < 0.0)
        return COCE_EINVAL;
    const double vol = sqrt(var);
    if (ann_return != NULL)
        *ann_return = ret;
    if (ann_vol != NULL)
        *ann_vol = vol;
    if (sharpe != NULL)
        *sharpe =
            (mean_returns != NULL && vol > 0.0) ? (ret - risk_free) / vol : NAN;
    return COCE_OK;
}
