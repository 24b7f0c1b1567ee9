#include "alpha/logreg.h"

#include "utils/error.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Armijo sufficient-decrease constant and backtracking limit (Nocedal &
 * Wright, Algorithm 3.1 with c1 = 1e-4, contraction 1/2). */
#define ARMIJO_C1 1e-4
#define MAX_HALVINGS 60
/* Relative objective decrease below which a refused full Newton step means
 * the rounding limit is reached (see coce_logreg_fit). */
#define STALL_REL 1e-10

void coce_logreg_opts_default(coce_logreg_opts *o)
{
    if (o == NULL)
        return;
    o->C = 1.0;
    o->weight_pos = 1.0;
    o->weight_neg = 1.0;
    o->tol = 1e-10;
    o->max_iter = 10000;
    o->fit_intercept = 1;
}

size_t coce_logreg_work_size(size_t n, size_t d)
{
    return 2 * n + 2 * (d + 1) * (d + 1) + 3 * (d + 1);
}

/* log(1 + exp(t)) without overflow: for t > 0 it is t + log1p(exp(-t)). */
static double softplus(double t)
{
    if (t > 0.0)
        return t + log1p(exp(-t));
    return log1p(exp(t));
}

static double sigmoid(double t)
{
    if (t >= 0.0)
        return 1.0 / (1.0 + exp(-t));
    double e = exp(t);
    return e / (1.0 + e);
}

double coce_logreg_decision(const double *beta, const double *x, size_t d)
{
    double z = beta[d];
    for (size_t j = 0; j < d; ++j)
        z += beta[j] * x[j];
    return z;
}

double coce_logreg_proba(const double *beta, const double *x, size_t d)
{
    return sigmoid(coce_logreg_decision(beta, x, d));
}

static int valid_positive(double v)
{
    return isfinite(v) && v > 0.0;
}

typedef struct problem {
    const double *X;
    const uint8_t *y;
    size_t n, d, m; /* m = d + (intercept ? 1 : 0): free parameters */
    double inv_c, wpos, wneg;
} problem;

static double weight_of(const problem *p, size_t i)
{
    return p->y[i] ? p->wpos : p->wneg;
}

/* z_i = x_i.w + b for every row. */
static void decisions(const problem *p, const double *beta, double *z)
{
    for (size_t i = 0; i < p->n; ++i)
        z[i] = coce_logreg_decision(beta, p->X + i * p->d, p->d);
}

/* f = F / C, the scaling sklearn's lbfgs works in. */
static double objective_scaled(const problem *p, const double *beta,
                               const double *z)
{
    double reg = 0.0;
    for (size_t j = 0; j < p->d; ++j)
        reg += beta[j] * beta[j];
    double loss = 0.0;
    for (size_t i = 0; i < p->n; ++i) {
        double margin = p->y[i] ? z[i] : -z[i];
        loss += weight_of(p, i) * softplus(-margin);
    }
    return 0.5 * p->inv_c * reg + loss;
}

/* Gradient g (m) and Hessian H (m x m, row-major) of f (Lin et al. 2008,
 * eq. 4-5): g = w/C + X'(s.(p - y)), H = I/C + X' diag(s.p.(1-p)) X, with the
 * intercept column of ones unpenalised. Returns max |g_j|. */
static double grad_hess(const problem *p, const double *beta, const double *z,
                        double *g, double *H)
{
    size_t m = p->m;
    memset(g, 0, m * sizeof *g);
    memset(H, 0, m * m * sizeof *H);
    for (size_t i = 0; i < p->n; ++i) {
        const double *x = p->X + i * p->d;
        double s = weight_of(p, i);
        double r = s * (sigmoid(z[i]) - (double)p->y[i]);
        /* p(1-p) as sigmoid(z)*sigmoid(-z): no cancellation when p ~ 1. */
        double h = s * sigmoid(z[i]) * sigmoid(-z[i]);
        for (size_t a = 0; a < m; ++a) {
            double xa = a < p->d ? x[a] : 1.0;
            g[a] += r * xa;
            double hxa = h * xa;
            for (size_t b = 0; b <= a; ++b)
                H[a * m + b] += hxa * (b < p->d ? x[b] : 1.0);
        }
    }
    double gmax = 0.0;
    for (size_t a = 0; a < m; ++a) {
        if (a < p->d) {
            g[a] += p->inv_c * beta[a];
            H[a * m + a] += p->inv_c;
        }
        for (size_t b = 0; b < a; ++b)
            H[b * m + a] = H[a * m + b];
        gmax = fmax(gmax, fabs(g[a]));
    }
    return gmax;
}

/* In-place Cholesky H = L L' of the lower triangle, with `shift` added to the
 * diagonal. Returns 0 when H + shift*I is not numerically positive definite. */
static int cholesky(double *L, const double *H, size_t m, double shift)
{
    for (size_t a = 0; a < m; ++a) {
        for (size_t b = 0; b <= a; ++b) {
            double sum = H[a * m + b] + (a == b ? shift : 0.0);
            for (size_t k = 0; k < b; ++k)
                sum -= L[a * m + k] * L[b * m + k];
            if (a == b) {
                if (!(sum > 0.0))
                    return 0;
                L[a * m + a] = sqrt(sum);
            } else {
                L[a * m + b] = sum / L[b * m + b];
            }
        }
    }
    return 1;
}

/* Solves L L' x = rhs in place. */
static void chol_solve(const double *L, size_t m, double *x)
{
    for (size_t a = 0; a < m; ++a) {
        for (size_t k = 0; k < a; ++k)
            x[a] -= L[a * m + k] * x[k];
        x[a] /= L[a * m + a];
    }
    for (size_t a = m; a-- > 0;) {
        for (size_t k = a + 1; k < m; ++k)
            x[a] -= L[k * m + a] * x[k];
        x[a] /= L[a * m + a];
    }
}

/* Newton direction dir = -H^{-1} g. H is positive definite in exact
 * arithmetic whenever both classes are present; when saturated
 * probabilities make it numerically singular, a growing diagonal shift
 * (Levenberg-Marquardt style, Nocedal & Wright sec. 3.4) keeps the direction
 * a descent direction. L is separate from H so a failed attempt leaves H
 * intact for the next shift. */
static int newton_direction(const double *H, double *L, size_t m,
                            const double *g, double *dir)
{
    double diag = 0.0;
    for (size_t a = 0; a < m; ++a)
        diag = fmax(diag, H[a * m + a]);
    double shift = 0.0;
    for (int attempt = 0; attempt < 40; ++attempt) {
        if (cholesky(L, H, m, shift)) {
            for (size_t a = 0; a < m; ++a)
                dir[a] = -g[a];
            chol_solve(L, m, dir);
            return 1;
        }
        shift = shift == 0.0 ? 1e-12 * fmax(diag, 1.0) : shift * 10.0;
    }
    return 0;
}

static int check_input(const double *X, const uint8_t *y, size_t n, size_t d,
                       const coce_logreg_opts *o, const double *beta,
                       const double *work)
{
    if (X == NULL || y == NULL || o == NULL || beta == NULL || work == NULL ||
        n == 0 || d > COCE_LOGREG_MAX_D)
        return COCE_EINVAL;
    if (!valid_positive(o->C) || !valid_positive(o->weight_pos) ||
        !valid_positive(o->weight_neg) || !(o->tol >= 0.0) || o->max_iter == 0)
        return COCE_EINVAL;
    size_t pos = 0;
    for (size_t i = 0; i < n; ++i) {
        if (y[i] > 1)
            return COCE_EINVAL;
        pos += y[i];
        for (size_t j = 0; j < d; ++j)
            if (!isfinite(X[i * d + j]))
                return COCE_EINVAL;
    }
    if (o->fit_intercept && (pos == 0 || pos == n))
        return COCE_EINVAL;
    return COCE_OK;
}

int coce_logreg_fit(const double *X, const uint8_t *y, size_t n, size_t d,
                    const coce_logreg_opts *opts, double *beta,
                    double *objective, size_t *iterations, double *work)
{
    int rc = check_input(X, y, n, d, opts, beta, work);
    if (rc != COCE_OK)
        return rc;
    problem p = {X,
                 y,
                 n,
                 d,
                 d + (opts->fit_intercept ? 1u : 0u),
                 1.0 / opts->C,
                 opts->weight_pos,
                 opts->weight_neg};
    size_t m = p.m;
    double *z = work;
    double *zt = z + n;
    double *H = zt + n;
    double *L = H + (d + 1) * (d + 1);
    double *g = L + (d + 1) * (d + 1);
    double *dir = g + (d + 1);
    double *trial = dir + (d + 1);

    double floor_scale = 0.0;
    for (size_t i = 0; i < n; ++i) {
        double xmax = 1.0;
        for (size_t j = 0; j < d; ++j)
            xmax = fmax(xmax, fabs(X[i * d + j]));
        floor_scale += weight_of(&p, i) * xmax;
    }
    double tol = fmax(opts->tol, 8.0 * DBL_EPSILON * floor_scale);

    memset(beta, 0, (d + 1) * sizeof *beta);
    decisions(&p, beta, z);
    double f = objective_scaled(&p, beta, z);
    size_t iter = 0;
    rc = COCE_ECONVERGE;
    for (;;) {
        double gmax = grad_hess(&p, beta, z, g, H);
        if (gmax <= tol) {
            rc = COCE_OK;
            break;
        }
        if (iter >= opts->max_iter)
            break;
        if (!newton_direction(H, L, m, g, dir))
            break;
        double slope = 0.0;
        for (size_t a = 0; a < m; ++a)
            slope += g[a] * dir[a];
        /* Rounding slack: near the optimum f changes by less than its own
         * rounding error, so demand decrease only above that noise. */
        double slack = 4.0 * DBL_EPSILON * fabs(f);
        double alpha = 1.0;
        int accepted = 0;
        double ft = f;
        for (int h = 0; h < MAX_HALVINGS && slope < 0.0; ++h) {
            memcpy(trial, beta, (d + 1) * sizeof *beta);
            for (size_t a = 0; a < m; ++a)
                trial[a] += alpha * dir[a];
            decisions(&p, trial, zt);
            ft = objective_scaled(&p, trial, zt);
            if (isfinite(ft) && ft <= f + ARMIJO_C1 * alpha * slope + slack) {
                accepted = 1;
                break;
            }
            alpha *= 0.5;
        }
        /* Rounding limit: the full Newton step was refused although the
         * Newton decrement lambda^2 = -slope promises a decrease of
         * lambda^2 / 2 below 1e-10 of F; F - F* is of that order (Boyd &
         * Vandenberghe, Convex Optimization, 2004, sec. 9.5.1; for the
         * logistic loss Bach, "Self-concordant analysis for logistic
         * regression", EJS 2010, Prop. 2). With large class weights and
         * features the gradient test alone can stall there: a gradient
         * along a stiff direction of H stays far above tol while beta
         * moves by an ulp. */
        if (alpha < 1.0 && -0.5 * slope <= STALL_REL * fmax(1.0, fabs(f))) {
            if (accepted) {
                memcpy(beta, trial, (d + 1) * sizeof *beta);
                f = ft;
                ++iter;
            }
            rc = COCE_OK;
            break;
        }
        if (!accepted)
            break;
        memcpy(beta, trial, (d + 1) * sizeof *beta);
        memcpy(z, zt, n * sizeof *z);
        f = ft;
        ++iter;
    }
    if (objective != NULL)
        *objective = opts->C * f;
    if (iterations != NULL)
        *iterations = iter;
    return rc;
}
