#!/usr/bin/python3
"""Golden values for tests/alpha/test_metrics.c (sklearn 1.2).

Run with Debian's interpreter:  /usr/bin/python3 tests/reference/metrics_ref.py
Writes tests/fixtures/model/metrics_<name>.csv (score,y) and
tests/fixtures/model/metrics_<name>_ref.csv (key,value) with
roc_auc_score, average_precision_score, and at a fixed threshold t
(predicted positive when score >= t) the confusion counts and
precision/recall/f1 (zero_division=0), and the best-F1 threshold over the
distinct scores (the highest threshold among equal F1 values).
Scores are rounded to a few decimals so that ties are frequent.
"""
import os
from fractions import Fraction

import numpy as np
from sklearn.metrics import (average_precision_score, confusion_matrix, f1_score,
                             precision_score, recall_score, roc_auc_score)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "model")


def write_case(name, score, y, t):
    score = np.asarray(score, dtype=float)
    y = np.asarray(y, dtype=np.int64)
    with open(os.path.join(OUT, f"metrics_{name}.csv"), "w") as f:
        f.write("score,y\n")
        for s, v in zip(score, y):
            f.write(f"{float(s)!r},{int(v)}\n")
    pred = (score >= t).astype(np.int64)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    # F1 compared exactly as the rational 2tp / (2tp + fp + fn) so that ties
    # are ties; increasing thresholds with ">=" keep the highest on ties.
    best, best_t = Fraction(-1), None
    for u in np.unique(score):
        p = score >= u
        tp_u = int(np.sum(p & (y == 1)))
        fp_u = int(np.sum(p & (y == 0)))
        fn_u = int(np.sum(~p & (y == 1)))
        v = Fraction(2 * tp_u, 2 * tp_u + fp_u + fn_u)
        if v >= best:
            best, best_t = v, u
    best_f1 = f1_score(y, (score >= best_t).astype(np.int64), zero_division=0)
    with open(os.path.join(OUT, f"metrics_{name}_ref.csv"), "w") as f:
        f.write("key,value\n")
        f.write(f"n,{len(y)}\nthreshold,{float(t)!r}\n")
        f.write(f"tp,{tp}\nfp,{fp}\ntn,{tn}\nfn,{fn}\n")
        f.write(f"precision,{float(precision_score(y, pred, zero_division=0))!r}\n")
        f.write(f"recall,{float(recall_score(y, pred, zero_division=0))!r}\n")
        f.write(f"f1,{float(f1_score(y, pred, zero_division=0))!r}\n")
        f.write(f"roc_auc,{float(roc_auc_score(y, score))!r}\n")
        f.write(f"average_precision,{float(average_precision_score(y, score))!r}\n")
        f.write(f"best_threshold,{float(best_t)!r}\nbest_f1,{float(best_f1)!r}\n")
    print(f"{name}: n={len(y)} pos={int(y.sum())} distinct={len(np.unique(score))} "
          f"auc={roc_auc_score(y, score):.6f} ap={average_precision_score(y, score):.6f} "
          f"best_t={best_t} best_f1={best_f1:.6f}")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)

    # Heavy ties: scores on a 0.1 grid, a weak signal.
    n = 300
    y = (rng.random(n) < 0.35).astype(np.int64)
    s = np.round(np.clip(0.4 + 0.2 * y + 0.25 * rng.normal(size=n), 0, 1), 1)
    write_case("ties", s, y, 0.5)

    # Few ties, imbalanced (2 % positives), scores like probabilities.
    n = 1000
    y = (rng.random(n) < 0.02).astype(np.int64)
    y[:3] = 1
    z = -3.0 + 2.0 * y + rng.normal(size=n)
    s = np.round(1.0 / (1.0 + np.exp(-z)), 4)
    write_case("imb", s, y, 0.3)

    # Small hand-checkable case; threshold above every score (no predicted
    # positive: precision is 0 by zero_division=0).
    write_case("small", [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.9], [0, 0, 1, 1, 1, 0, 1], 0.95)

    # All scores tied: AUC 0.5, AP = prevalence.
    write_case("flat", [0.5] * 10, [1, 0, 0, 1, 0, 0, 0, 1, 0, 0], 0.5)


if __name__ == "__main__":
    main()
