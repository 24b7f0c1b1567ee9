#!/usr/bin/python3
"""Training time of the pump model's peers on the same data (bench/pump.sh).

Reads a `coce features` table, prepares it as coce_detector_prepare does
(logratio: log1p of the 8 pct_change columns clipped to +-10, other columns
clipped to +-1e4; rows with NaN and label-2 rows dropped), standardises it
(StandardScaler) and fits
  - scikit-learn LogisticRegression(C, class_weight="balanced", solver="lbfgs",
    tol=1e-10, max_iter=10000): the objective coce minimises (unpenalised
    intercept), timed around fit() only;
  - liblinear `train -s 0` (Debian liblinear-tools, binary liblinear-train):
    L2 logistic regression with -w class weights equal to the balanced ones
    and -B 1, whose bias is penalised (a slightly different objective), timed
    around the process on a file written beforehand.
Usage: pump_train_peers.py FEATURES.csv [C] [REPEATS]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

PCT = ["std_rush_order", "avg_rush_order", "std_trades", "std_volume",
       "avg_volume", "std_price", "avg_price", "avg_price_max",
       "max_price_return"]


def main():
    path = sys.argv[1]
    C = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    df = pd.read_csv(path)
    df = df[df.label < 2]
    cols = [c for c in df.columns if c not in ("symbol", "chunk_start", "label")]
    X = df[cols].to_numpy(dtype=float)
    y = df.label.to_numpy(dtype=int)
    for j, c in enumerate(cols):
        v = X[:, j]
        if c in PCT:
            with np.errstate(divide="ignore", invalid="ignore"):
                X[:, j] = np.clip(np.where(v <= -1, -np.inf, np.log1p(v)), -10, 10)
        else:
            X[:, j] = np.clip(v, -1e4, 1e4)
    ok = ~np.isnan(X).any(axis=1)
    X, y = X[ok], y[ok]
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    Xs = StandardScaler().fit_transform(X)
    n, d = Xs.shape
    best = 1e30
    for _ in range(reps):
        m = LogisticRegression(C=C, class_weight="balanced", solver="lbfgs",
                               tol=1e-10, max_iter=10000)
        t = time.perf_counter()
        m.fit(Xs, y)
        best = min(best, time.perf_counter() - t)
    print(f"sklearn lbfgs fit: {n} rows x {d}, C {C:g}: best of {reps} "
          f"{best:.3f} s ({m.n_iter_[0]} iterations)")
    exe = shutil.which("liblinear-train") or shutil.which("train")
    if exe is None:
        print("liblinear: liblinear-train not installed, skipped")
        return
    npos = y.sum()
    wpos, wneg = n / (2.0 * npos), n / (2.0 * (n - npos))
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, "train.svm")
        with open(f, "w") as out:
            idx = np.arange(1, d + 1)
            for i in range(n):
                out.write(("+1" if y[i] else "-1") + " " +
                          " ".join(f"{k}:{v:.17g}" for k, v in zip(idx, Xs[i])) + "\n")
        best = 1e30
        for _ in range(reps):
            t = time.perf_counter()
            subprocess.run([exe, "-s", "0", "-c", repr(C), "-w1", repr(wpos),
                            "-w-1", repr(wneg), "-B", "1", "-e", "0.0001", "-q",
                            f, os.path.join(tmp, "model")], check=True)
            best = min(best, time.perf_counter() - t)
        print(f"liblinear -s 0 (-e 1e-4, -B 1, bias penalised, incl. reading "
              f"its file): best of {reps} {best:.3f} s")


if __name__ == "__main__":
    main()
