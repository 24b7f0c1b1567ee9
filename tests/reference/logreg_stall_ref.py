#!/usr/bin/python3
"""Golden values for test_rounding_limit in tests/alpha/test_logreg.c.

Run with Debian's interpreter:  /usr/bin/python3 tests/reference/logreg_stall_ref.py
Writes tests/fixtures/model/stall_fit.csv (key,value).

The data are too large to commit (50 000 x 12), so the test and this script
build them from the same generator with nothing but IEEE additions and
multiplications (bit-identical in C and Python): xorshift64 (Marsaglia 2003,
shifts 13/7/17) from s = seed * 2654435761 + 1; u = (s >> 11) * 2^-53;
a "normal" is the Irwin-Hall sum of 12 uniforms minus 6; with probability
0.01 a value is multiplied by 50 (heavy tails, as the prepared pump features
have); row i is positive when i % 5000 == 0, and its first three features are
shifted by +8. Balanced class weights, C = 1, as the shipped pump models.

On these data COCE's Newton solver used to stall: the full step was refused
(rounding) while the gradient stayed at ~1e-5 > tol along a stiff direction
of the Hessian, until max_iter. The minimiser comes from sklearn's
newton-cholesky, checked against an independent numpy Newton.
"""
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from logreg_ref import newton, objective  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "model")
MASK = (1 << 64) - 1


def generate(n=50000, d=12, period=5000, shift=8.0, tail=50.0, seed=1):
    s = (seed * 2654435761 + 1) & MASK
    X = np.empty((n, d))
    y = np.zeros(n, dtype=np.int64)
    scale = 1.0 / 9007199254740992.0
    for i in range(n):
        y[i] = 1 if i % period == 0 else 0
        for j in range(d):
            a = 0.0
            for _ in range(13):
                s ^= (s << 13) & MASK
                s ^= s >> 7
                s ^= (s << 17) & MASK
                if _ < 12:
                    a += float(s >> 11) * scale
                else:
                    v = a - 6.0
                    if float(s >> 11) * scale < 0.01:
                        v *= tail
            if y[i] and j < 3:
                v += shift
            X[i, j] = v
    return X, y


def main():
    X, y = generate()
    n, d = X.shape
    pos = int(y.sum())
    wpos, wneg = n / (2.0 * pos), n / (2.0 * (n - pos))
    clf = LogisticRegression(C=1.0, class_weight="balanced", solver="newton-cholesky",
                             tol=1e-10, max_iter=10000).fit(X, y)
    beta = np.append(clf.coef_[0], clf.intercept_[0])
    ref = newton(X, y, 1.0, wpos, wneg)
    gap = float(np.max(np.abs(ref - beta)))
    if gap > 1e-7:
        sys.exit(f"stall: sklearn and Newton differ by {gap:g}")
    with open(os.path.join(OUT, "stall_fit.csv"), "w") as f:
        f.write("key,value\n")
        f.write(f"n,{n}\nd,{d}\npositives,{pos}\n")
        f.write(f"x_checksum,{float(np.sum(X))!r}\n")
        f.write(f"objective,{float(objective(X, y, 1.0, wpos, wneg, clf.coef_[0], clf.intercept_[0]))!r}\n")
        f.write(f"intercept,{float(beta[d])!r}\n")
        for j in range(d):
            f.write(f"coef_{j},{float(beta[j])!r}\n")
    print(f"stall: n={n} d={d} positives={pos} newton-gap={gap:.2e} intercept={beta[d]:.6g}")


if __name__ == "__main__":
    main()
