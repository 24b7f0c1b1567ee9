/* L2-regularised, class-weighted binary logistic regression: the pump
 * model's kernel. No allocation: the caller passes a workspace.
 *
 * Objective (scikit-learn's, LogisticRegression with an unpenalised
 * intercept):
 *     F(w, b) = 0.5*||w||^2 + C * sum_i s_i * log(1 + exp(-y'_i (x_i.w + b)))
 * with y'_i = 2*y_i - 1 in {-1,+1} and s_i = weight_pos or weight_neg.
 * Minimised by Newton's method (IRLS) with a backtracking Armijo line search
 * (Nocedal & Wright, Numerical Optimization, 2nd ed., ch. 3.1 and 3.5, and
 * ch. 6 for the Newton step; Lin, Weng & Keerthi, "Trust region Newton method
 * for large-scale logistic regression", JMLR 9, 2008, sec. 2, for the
 * gradient and Hessian of this objective). */
#ifndef COCE_ALPHA_LOGREG_H
#define COCE_ALPHA_LOGREG_H

#include <stddef.h>
#include <stdint.h>

/* Largest number of features the kernel accepts (the Newton system is a dense
 * (d+1)x(d+1) Cholesky). */
#define COCE_LOGREG_MAX_D 64

typedef struct coce_logreg_opts {
    double C;          /* inverse regularisation strength, > 0, finite */
    double weight_pos; /* class weight of y == 1, > 0 */
    double weight_neg; /* class weight of y == 0, > 0 */
    double tol;        /* on max_j |dF/dbeta_j| / C (sklearn's gtol), >= 0 */
    size_t max_iter;   /* Newton iterations, >= 1 */
    int fit_intercept; /* 0: b fixed at 0 */
} coce_logreg_opts;

/* C = 1, weights 1, tol 1e-10, max_iter 10000, intercept on. */
void coce_logreg_opts_default(coce_logreg_opts *o);

/* Workspace size of coce_logreg_fit, in doubles: 2n + 2(d+1)^2 + 3(d+1). */
size_t coce_logreg_work_size(size_t n, size_t d);

/* Fits beta (d+1 entries, beta[d] = intercept; 0 when fit_intercept is off)
 * on X (row-major n x d) and y (0/1).
 *
 * Convergence: max_j |grad F / C|_j <= tol, the quantity sklearn's lbfgs
 * compares with its tol. The test uses max(tol, 8 * DBL_EPSILON * S) with
 * S = sum_i s_i * max(1, max_j |x_ij|), the rounding floor of that gradient
 * sum, so that tol = 0 or a tol below the floor still terminates. The
 * fit also ends (COCE_OK) at the rounding limit: when the full Newton step
 * fails the line search while the Newton decrement promises less than
 * 1e-10 * max(1, |F|) of decrease (F - F* is then of that order; Boyd &
 * Vandenberghe 2004, sec. 9.5.1). Large class weights and feature values
 * make the gradient along stiff directions of the Hessian stay far above
 * tol there, although beta no longer changes by more than a few ulps.
 *
 * Returns COCE_OK; COCE_EINVAL on bad input (NULL pointers, n == 0,
 * d > COCE_LOGREG_MAX_D, y not 0/1, non-finite X, C/weights not positive and
 * finite, tol < 0, max_iter == 0, or a single class with fit_intercept on,
 * where F has no minimiser: b -> +-inf); COCE_ECONVERGE when max_iter
 * iterations (or the line search) end before the test holds. With both
 * classes present F is strictly convex in w and coercive, so a minimiser
 * always exists, even for separable data (||w|| grows like log C): a large C
 * converges to a finite beta, only more slowly. On COCE_ECONVERGE beta,
 * *objective and *iterations hold the last iterate (finite).
 * objective and iterations may be NULL. work: coce_logreg_work_size(n, d)
 * doubles, must not alias X or beta. */
int coce_logreg_fit(const double *X, const uint8_t *y, size_t n, size_t d,
                    const coce_logreg_opts *opts, double *beta,
                    double *objective, size_t *iterations, double *work);

/* x.w + b for one row x of d features. */
double coce_logreg_decision(const double *beta, const double *x, size_t d);

/* 1 / (1 + exp(-(x.w + b))), evaluated without overflow. */
double coce_logreg_proba(const double *beta, const double *x, size_t d);

#endif
