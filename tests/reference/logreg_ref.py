#!/usr/bin/python3
"""Golden values for tests/alpha/test_logreg.c and test_pump_model.c.

Run with Debian's interpreter (sklearn 1.2):  /usr/bin/python3 tests/reference/logreg_ref.py
Writes tests/fixtures/model/<name>_data.csv (x0..x{d-1},y) and
tests/fixtures/model/<name>_fit.csv (key,value) for every dataset below.

Solver: sklearn's lbfgs at tol=1e-10 stops on L-BFGS-B's relative-reduction
test (ftol ~2.2e-9) long before its gradient test: on "sep" its coefficients
are 2e-5 from the true minimiser while the objective is within 3e-9. So the
primary golden values come from sklearn 1.2's solver="newton-cholesky" (same
objective, same unpenalised intercept, tol=1e-10), which reaches the minimiser
to ~1e-10; the lbfgs solution is written too (lbfgs_*), with the infinity norm
of the objective's gradient at it (lbfgs_grad_inf, on the objective/C scale
sklearn minimises). Where that norm is <= 1e-6 (sklearn's lbfgs really
converged) the C test holds COCE to the issue's 1e-5 (relative + absolute)
against it; where sklearn stopped early (norm 7e-5..1.3e-3 on four of these
datasets although tol=1e-10 was asked) it checks COCE is within 1e-4 and never
worse on the objective. As a third, independent witness, scipy's L-BFGS-B (the
routine sklearn calls) is run on the same objective with its relative-reduction
test disabled (ftol=0, gtol=1e-12): strict_* values, which the C test matches
to 1e-5 (relative + absolute) on every dataset.

The objective written is the one coce_logreg_fit minimises,
    0.5*||w||^2 + C * sum_i s_i * log(1 + exp(-y'_i (x_i.w + b))),
evaluated at sklearn's coef_/intercept_ (sklearn's lbfgs minimises the same
function divided by C). Data are rounded to 6 decimals before fitting so the
CSV holds them exactly. As a guard against an early lbfgs stop, each sklearn
solution is checked against an independent Newton solve in numpy; the script
fails if the two differ by more than 1e-7.
"""
import os
import sys

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve
from sklearn.preprocessing import StandardScaler

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "model")


def weights_of(y, class_weight):
    if class_weight is None:
        return 1.0, 1.0
    if class_weight == "balanced":
        n = len(y)
        return n / (2.0 * np.sum(y == 1)), n / (2.0 * np.sum(y == 0))
    return float(class_weight[1]), float(class_weight[0])


def objective(X, y, C, wpos, wneg, coef, b):
    z = X @ coef + b
    m = np.where(y == 1, z, -z)
    s = np.where(y == 1, wpos, wneg)
    return 0.5 * coef @ coef + C * np.sum(s * np.logaddexp(0.0, -m))


def newton(X, y, C, wpos, wneg):
    """Independent check: plain Newton on the sklearn objective / C."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    s = np.where(y == 1, wpos, wneg)
    beta = np.zeros(d + 1)
    reg = np.ones(d + 1) / C
    reg[d] = 0.0
    for _ in range(200):
        z = A @ beta
        p = 0.5 * (1.0 + np.tanh(0.5 * z))
        g = A.T @ (s * (p - y)) + reg * beta
        H = (A * (s * p * (1 - p))[:, None]).T @ A + np.diag(reg)
        step = np.linalg.solve(H, g)
        beta = beta - step
        if np.max(np.abs(step)) < 1e-14:
            break
    return beta


def gradient(X, y, C, wpos, wneg, beta):
    """Gradient of the objective / C at beta = (coef, intercept)."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    s = np.where(y == 1, wpos, wneg)
    p = 0.5 * (1.0 + np.tanh(0.5 * (A @ beta)))
    reg = np.ones(d + 1) / C
    reg[d] = 0.0
    return A.T @ (s * (p - y)) + reg * beta


def strict_lbfgs(X, y, C, wpos, wneg):
    """scipy's L-BFGS-B on objective / C with only the gradient test."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    s = np.where(y == 1, wpos, wneg)
    reg = np.ones(d + 1) / C
    reg[d] = 0.0

    def f(beta):
        z = A @ beta
        loss = np.sum(s * np.logaddexp(0.0, np.where(y == 1, -z, z)))
        return loss + 0.5 * np.sum(reg * beta * beta), gradient(X, y, C, wpos, wneg, beta)

    res = minimize(f, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                   options={"ftol": 0.0, "gtol": 1e-12, "maxiter": 100000,
                            "maxcor": 20})
    return res.x


def write_dataset(name, X, y, C, class_weight, data=None):
    """data: name of an already written dataset holding the same X, y."""
    n, d = X.shape
    wpos, wneg = weights_of(y, class_weight)
    clf = LogisticRegression(C=C, class_weight=class_weight, solver="newton-cholesky",
                             tol=1e-10, max_iter=10000)
    clf.fit(X, y)
    lb = LogisticRegression(C=C, class_weight=class_weight, solver="lbfgs",
                            tol=1e-10, max_iter=10000).fit(X, y)
    coef = clf.coef_[0]
    b = clf.intercept_[0]
    ref = newton(X, y, C, wpos, wneg)
    gap = max(np.max(np.abs(ref[:d] - coef)), abs(ref[d] - b))
    if gap > 1e-7:
        sys.exit(f"{name}: sklearn lbfgs and Newton differ by {gap:g}")
    if data is None:
        data = name
        with open(os.path.join(OUT, f"{name}_data.csv"), "w") as f:
            f.write(",".join([f"x{j}" for j in range(d)] + ["y"]) + "\n")
            for i in range(n):
                f.write(",".join(repr(float(v)) for v in X[i]) + f",{int(y[i])}\n")
    with open(os.path.join(OUT, f"{name}_fit.csv"), "w") as f:
        f.write("key,value\n")
        f.write(f"data,{data}\n")
        f.write(f"n,{n}\nd,{d}\nC,{C!r}\n")
        f.write(f"weight_pos,{wpos!r}\nweight_neg,{wneg!r}\n")
        f.write(f"intercept,{float(b)!r}\n")
        f.write(f"objective,{float(objective(X, y, C, wpos, wneg, coef, b))!r}\n")
        for j in range(d):
            f.write(f"coef_{j},{float(coef[j])!r}\n")
        f.write(f"lbfgs_intercept,{float(lb.intercept_[0])!r}\n")
        f.write(f"lbfgs_objective,"
                f"{float(objective(X, y, C, wpos, wneg, lb.coef_[0], lb.intercept_[0]))!r}\n")
        for j in range(d):
            f.write(f"lbfgs_coef_{j},{float(lb.coef_[0][j])!r}\n")
    lbeta = np.append(lb.coef_[0], lb.intercept_[0])
    lgrad = float(np.max(np.abs(gradient(X, y, C, wpos, wneg, lbeta))))
    strict = strict_lbfgs(X, y, C, wpos, wneg)
    sgap = float(np.max(np.abs(strict - ref)))
    if sgap > 1e-7:
        sys.exit(f"{name}: strict L-BFGS-B and Newton differ by {sgap:g}")
    with open(os.path.join(OUT, f"{name}_fit.csv"), "a") as f:
        f.write(f"lbfgs_grad_inf,{lgrad!r}\n")
        f.write(f"strict_intercept,{float(strict[d])!r}\n")
        for j in range(d):
            f.write(f"strict_coef_{j},{float(strict[j])!r}\n")
    lgap = max(np.max(np.abs(ref[:d] - lb.coef_[0])), abs(ref[d] - lb.intercept_[0]))
    print(f"{name}: n={n} d={d} positives={int(y.sum())} C={C} "
          f"w+={wpos:.6g} w-={wneg:.6g} newton-gap={gap:.2e} lbfgs-gap={lgap:.2e} "
          f"lbfgs-grad={lgrad:.2e} strict-gap={sgap:.2e}")


def standardised(X):
    return np.round(StandardScaler().fit_transform(X), 6)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240611)

    # Nearly separable: two well-apart Gaussian clouds with a little overlap.
    n, d = 240, 3
    y = (rng.random(n) < 0.5).astype(np.int64)
    X = rng.normal(size=(n, d)) + np.outer(2 * y - 1, [1.8, -1.2, 0.6])
    write_dataset("sep", standardised(X), y, 1.0, None)

    # Overlapping classes, small and large C.
    n, d = 400, 4
    y = (rng.random(n) < 0.3).astype(np.int64)
    X = rng.normal(size=(n, d)) + np.outer(y, [0.8, 0.0, -0.5, 0.3])
    Xs = standardised(X)
    write_dataset("c_small", Xs, y, 0.01, None)
    write_dataset("c_large", Xs, y, 100.0, None, data="c_small")

    # Imbalanced 1:500 (pumps are rare): 8 positives among 4000 negatives.
    npos, nneg, d = 8, 4000, 3
    y = np.concatenate([np.ones(npos), np.zeros(nneg)]).astype(np.int64)
    X = rng.normal(size=(npos + nneg, d))
    X[:npos] += [2.5, 1.5, 0.0]
    perm = rng.permutation(npos + nneg)
    X, y = X[perm], y[perm]
    Xs = standardised(X)
    write_dataset("imb_bal", Xs, y, 0.5, "balanced")
    write_dataset("imb_w", Xs, y, 2.0, {0: 1.0, 1: 50.0}, data="imb_bal")

    # End to end for coce_pump_model_train: raw features with different
    # locations and scales plus a constant column, pipeline
    # StandardScaler -> LogisticRegression(balanced), and the best-F1
    # threshold on the training probabilities (the highest among ties).
    n = 600
    y = (rng.random(n) < 0.1).astype(np.int64)
    X = np.column_stack([
        1000.0 + 50.0 * rng.normal(size=n) + 60.0 * y,
        0.001 * rng.normal(size=n) + 0.0008 * y,
        np.full(n, 3.25),
        rng.exponential(size=n) + 0.7 * y,
    ])
    X = np.round(X, 6)
    sc = StandardScaler().fit(X)
    Xs = sc.transform(X)
    C = 0.7
    clf = LogisticRegression(C=C, class_weight="balanced", solver="newton-cholesky",
                             tol=1e-10, max_iter=10000).fit(Xs, y)
    proba = clf.predict_proba(Xs)[:, 1]
    prec, rec, thr = precision_recall_curve(y, proba)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    f1 = f1[:-1]
    best = np.max(f1)
    # thr is increasing; the highest threshold reaching the maximum.
    k = np.max(np.nonzero(f1 == best)[0])
    wpos, wneg = weights_of(y, "balanced")
    ref = newton(Xs, y, C, wpos, wneg)
    gap = max(np.max(np.abs(ref[:-1] - clf.coef_[0])), abs(ref[-1] - clf.intercept_[0]))
    if gap > 1e-7:
        sys.exit(f"pump_raw: sklearn lbfgs and Newton differ by {gap:g}")
    d = X.shape[1]
    with open(os.path.join(OUT, "pump_raw_data.csv"), "w") as f:
        f.write(",".join([f"x{j}" for j in range(d)] + ["y"]) + "\n")
        for i in range(n):
            f.write(",".join(repr(float(v)) for v in X[i]) + f",{int(y[i])}\n")
    with open(os.path.join(OUT, "pump_raw_fit.csv"), "w") as f:
        f.write("key,value\n")
        f.write(f"n,{n}\nd,{d}\nC,{C!r}\n")
        f.write(f"weight_pos,{wpos!r}\nweight_neg,{wneg!r}\n")
        f.write(f"intercept,{float(clf.intercept_[0])!r}\n")
        f.write(f"threshold,{float(thr[k])!r}\nbest_f1,{float(best)!r}\n")
        for j in range(d):
            f.write(f"coef_{j},{float(clf.coef_[0][j])!r}\n")
            f.write(f"mean_{j},{float(sc.mean_[j])!r}\n")
            f.write(f"scale_{j},{float(sc.scale_[j])!r}\n")
    print(f"pump_raw: n={n} positives={int(y.sum())} threshold={thr[k]:.6g} "
          f"f1={best:.6g} newton-gap={gap:.2e}")

    # Shaped like the pump rows: 12 strongly correlated features (the
    # published moving statistics share their windows), 1 positive in 200,
    # balanced class weights, C = 1 (the shipped models' setting).
    rng2 = np.random.default_rng(20261127)
    n, d = 6000, 12
    y = (rng2.random(n) < 0.005).astype(np.int64)
    y[:3] = 1
    L = np.tril(rng2.normal(size=(d, d))) + 2.0 * np.eye(d)
    X = rng2.normal(size=(n, d)) @ L.T + np.outer(y, np.linspace(1.5, 0.0, d))
    write_dataset("pumplike", standardised(X), y, 1.0, "balanced")


if __name__ == "__main__":
    main()
