#!/usr/bin/python3
"""How often does the meta kill-switch halt a strategy that is actually good?

Monte Carlo (numpy, seeded) of the rule in src/risk_guardrails/killswitch.h:
each day the last 7 daily returns give sharpe = mean / std(ddof=1) * sqrt(365)
and the trades closed in the window give hit_rate = wins / trades; the day
halts when sharpe < 1.2 (or, once >= min_trades trades, hit_rate < 0.6).

Sharpe rule: daily returns r = mu + sigma * e with the true annualised Sharpe
S = mu / sigma * sqrt(365), e standard normal or Student-t(4) scaled to unit
variance (t4 / sqrt(2)); the sample Sharpe does not depend on sigma.
Hit-rate rule: trades arrive as a Poisson process of N per week (N/7 a day),
each a win with probability p_win independently.

Reported per case: p_day = probability that one day's verdict halts (all
judged days pooled; days are not independent: windows overlap), and
p_any(H) = probability of at least one halt among the verdicts of days 7..H
of trading (H = 30, 90, 365; the first verdict needs 7 days). Standard errors
are binomial, sqrt(p (1 - p) / paths).

    /usr/bin/python3 sim/killswitch_trip_rate.py            # markdown table
    /usr/bin/python3 sim/killswitch_trip_rate.py --json F   # also write JSON
"""
import argparse
import json
import math

import numpy as np

WINDOW = 7
ANNUAL = 365.0
SHARPE_MIN = 1.2
HIT_MIN = 0.6
MIN_TRADES = 10
HORIZONS = (30, 90, 365)


def shocks(rng, dist, shape):
    if dist == "normal":
        return rng.standard_normal(shape)
    if dist == "t4":
        return rng.standard_t(4, shape) / math.sqrt(2.0)  # Var t_nu = nu/(nu-2)
    raise ValueError(dist)


def rolling_sharpe(r):
    """Annualised Sharpe of every 7-day window of each row (two-pass)."""
    w = np.lib.stride_tricks.sliding_window_view(r, WINDOW, axis=1)
    mean = w.mean(axis=2)
    sd = np.sqrt(((w - mean[..., None]) ** 2).sum(axis=2) / (WINDOW - 1))
    return mean / sd * math.sqrt(ANNUAL)


def summarise(halt, paths):
    """halt[path, k]: verdict of day WINDOW + k halts."""
    out = {"p_day": float(halt.mean())}
    out["se_day"] = math.sqrt(out["p_day"] * (1 - out["p_day"]) / halt.size)
    for h in HORIZONS:
        p = float(halt[:, : h - WINDOW + 1].any(axis=1).mean())
        out["p_any_%d" % h] = p
        out["se_any_%d" % h] = math.sqrt(p * (1 - p) / paths)
    return out


def p_day_exact(sharpe):
    """Normal returns: sqrt(n) * (sample mean / sample sd) is noncentral t
    with n - 1 degrees of freedom and noncentrality sqrt(n) * mu / sigma
    (Johnson & Welch, Biometrika 1940; Lo, FAJ 2002), so one day's halt
    probability has a closed form."""
    from scipy.stats import nct
    n = WINDOW
    delta = math.sqrt(n) * sharpe / math.sqrt(ANNUAL)
    return float(nct.cdf(SHARPE_MIN / math.sqrt(ANNUAL) * math.sqrt(n),
                         n - 1, delta))


def sharpe_case(sharpe, dist, paths, seed, chunk=2000):
    rng = np.random.default_rng(seed)
    daily = sharpe / math.sqrt(ANNUAL)
    halts = []
    for start in range(0, paths, chunk):
        m = min(chunk, paths - start)
        r = daily + shocks(rng, dist, (m, max(HORIZONS)))
        halts.append(rolling_sharpe(r) < SHARPE_MIN)
    return summarise(np.concatenate(halts), paths)


def hit_case(p_win, per_week, paths, seed):
    rng = np.random.default_rng(seed)
    days = max(HORIZONS)
    n = rng.poisson(per_week / 7.0, (paths, days))
    wins = rng.binomial(n, p_win)
    cn = np.concatenate([np.zeros((paths, 1), int), n.cumsum(axis=1)], axis=1)
    cw = np.concatenate([np.zeros((paths, 1), int), wins.cumsum(axis=1)], axis=1)
    nt = cn[:, WINDOW:] - cn[:, :-WINDOW]
    nw = cw[:, WINDOW:] - cw[:, :-WINDOW]
    judged = nt >= MIN_TRADES
    with np.errstate(invalid="ignore", divide="ignore"):
        halt = judged & (nw / np.maximum(nt, 1) < HIT_MIN)
    out = summarise(halt, paths)
    out["p_judged"] = float(judged.mean())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paths", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--json", help="write the figures as JSON here")
    a = ap.parse_args()
    res = {"paths": a.paths, "seed": a.seed, "window": WINDOW,
           "annualisation": ANNUAL, "sharpe_min": SHARPE_MIN,
           "hit_rate_min": HIT_MIN, "min_trades": MIN_TRADES,
           "sharpe": [], "hit_rate": []}
    k = 0
    for dist in ("normal", "t4"):
        for s in (1.5, 2.0, 3.0, 4.0):
            row = sharpe_case(s, dist, a.paths, a.seed + k)
            k += 1
            row.update(dist=dist, sharpe=s)
            if dist == "normal":
                row["p_day_exact"] = p_day_exact(s)
            res["sharpe"].append(row)
    for p in (0.65, 0.7):
        for n in (10, 20):
            row = hit_case(p, n, a.paths, a.seed + 100 + k)
            k += 1
            row.update(p_win=p, trades_per_week=n)
            res["hit_rate"].append(row)

    print("Sharpe rule (7-day window, sqrt(365), threshold %.1f), %d paths"
          % (SHARPE_MIN, a.paths))
    print("| returns | true Sharpe | P(day halts) | exact | "
          "P(halt within 30 d) | 90 d | 365 d |")
    print("|---|---|---|---|---|---|---|")
    for r in res["sharpe"]:
        print("| %s | %.1f | %.3f | %s | %.3f | %.3f | %.3f |"
              % ("normal" if r["dist"] == "normal" else "Student-t(4)",
                 r["sharpe"], r["p_day"],
                 "%.3f" % r["p_day_exact"] if "p_day_exact" in r else "-",
                 r["p_any_30"], r["p_any_90"], r["p_any_365"]))
    print()
    print("Hit-rate rule (min_trades %d, threshold %.1f)" % (MIN_TRADES, HIT_MIN))
    print("| p_win | trades/week | P(day judged) | P(day halts) "
          "| P(halt within 30 d) | 90 d | 365 d |")
    print("|---|---|---|---|---|---|---|")
    for r in res["hit_rate"]:
        print("| %.2f | %d | %.3f | %.3f | %.3f | %.3f | %.3f |"
              % (r["p_win"], r["trades_per_week"], r["p_judged"], r["p_day"],
                 r["p_any_30"], r["p_any_90"], r["p_any_365"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
