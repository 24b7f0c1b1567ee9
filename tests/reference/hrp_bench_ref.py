#!/usr/bin/python3
"""Reference for `coce cluster` / `coce allocate` (tests/agent/test_cmd_portfolio.c)
and the HRP peer of bench/portfolio.sh. Run with Debian's /usr/bin/python3.

    hrp_bench_ref.py PRICES.csv WEIGHTS.csv
        The benchmark peer: PyPortfolioOpt HRPOpt's pipeline in numpy, scipy
        and pandas: read_csv, pct_change(fill_method=None) (a gap stays a
        gap, as coce), returns.cov() and returns.corr() (pandas
        pairwise-complete), scipy single linkage on sqrt(clip((1-rho)/2)),
        to_tree().pre_order(), recursive bisection with inverse-variance
        cluster variances (López de Prado 2016, sec. 3-5; the same code as
        tests/reference/hrp_ref.py). Writes asset,weight (%.17g) and prints
        one JSON line {"assets", "rows", "inmem_seconds"}: the time.perf_counter
        time of returns -> weights (cov, corr, linkage, bisection) only.

    hrp_bench_ref.py --fixtures
        Writes tests/fixtures/portfolio_cli/:
          prices.csv        ISO dates, 10 assets of 3 sectors + LATE (too
                            little history) + FLAT (constant) + GAPPY (listed
                            late: pandas pairwise-complete statistics)
          prices_ms.csv     the same table with ms times
          prices_full.csv   the 12 sector assets only (no gap)
          hrp_full.csv      their HRP weights
          hrp.csv           HRP weights of the eligible assets (no caps)
          sectors.csv       asset,cluster: the true sectors (as --clusters)
          capped.csv        hrp.csv with cluster cap 0.35 over the sectors
                            (water-filling, portfolio/constraints.h)
          prev.csv          a previous book (holds OLD, not in the prices)
          turnover.csv      capped.csv moved from prev.csv with L1 cap 0.5
          expect.txt        key value lines: modularity of the sector
                            partition on max(corr, 0) (networkx), and the
                            annualised return / volatility / Sharpe (365,
                            rf 0) of hrp.csv and capped.csv
"""
import json
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hrp_ref import hrp  # noqa: E402  (scipy linkage + bisection)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "portfolio_cli")


def hrp_weights(returns):
    """returns (DataFrame) -> weights (ndarray), as HRPOpt(returns).optimize()."""
    cov, corr = returns.cov().values, returns.corr().values
    w, _ = hrp(cov, corr)
    return w


def bench(prices_path, out_path):
    df = pd.read_csv(prices_path, index_col=0)
    returns = df.pct_change(fill_method=None).dropna(how="all")
    t0 = time.perf_counter()
    w = hrp_weights(returns)
    inmem = time.perf_counter() - t0
    with open(out_path, "w") as f:
        f.write("asset,weight\n")
        for name, v in zip(df.columns, w):
            f.write("%s,%.17g\n" % (name, v))
    print(json.dumps({"assets": int(df.shape[1]), "rows": int(df.shape[0]),
                      "inmem_seconds": inmem}))


def caps(w, cluster, cap):
    """Water-filling cluster caps: capped clusters are scaled to cap, the
    excess goes to uncapped clusters in proportion to their totals."""
    w = w / w.sum()
    capped = set()
    for _ in range(cluster.max() + 1):
        tot = {c: w[cluster == c].sum() for c in np.unique(cluster)}
        over = [c for c in tot if c not in capped and tot[c] > cap]
        if not over:
            break
        for c in over:
            w[cluster == c] *= cap / tot[c]
            capped.add(c)
        free = [c for c in tot if c not in capped]
        fixed = sum(w[cluster == c].sum() for c in capped)
        free_tot = sum(w[cluster == c].sum() for c in free)
        for c in free:
            w[cluster == c] *= (1.0 - fixed) / free_tot
    return w


def perf(w, returns, periods=365.0):
    mu = returns.mean().values * periods
    cov = returns.cov().values * periods
    ret = float(w @ mu)
    vol = float(np.sqrt(w @ cov @ w))
    return ret, vol, ret / vol


def fixtures():
    import networkx as nx

    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(606)
    n, sectors, per = 200, 3, 4
    names = ["S%d_%d" % (s, i) for s in range(sectors) for i in range(per)]
    market = rng.standard_normal(n)
    fac = rng.standard_normal((n, sectors))
    r = np.empty((n, len(names)))
    for j in range(len(names)):
        s = j // per
        r[:, j] = 0.01 * (0.2 * market + 1.2 * fac[:, s]
                          + 0.5 * rng.standard_normal(n)) + 0.0005
    px = 100.0 * np.cumprod(1.0 + r, axis=0)
    px = np.vstack([np.full(len(names), 100.0), px])
    df = pd.DataFrame(px, columns=names)
    # GAPPY: sector 1, listed at row 40; LATE: 30 prices; FLAT: constant.
    gappy = df["S1_0"].values * (1 + 0.003 * rng.standard_normal(n + 1))
    gappy[:40] = np.nan
    df.insert(2, "GAPPY", gappy)
    late = 50.0 * np.cumprod(1 + 0.01 * rng.standard_normal(n + 1))
    late[:-30] = np.nan
    df.insert(5, "LATE", late)
    df.insert(9, "FLAT", np.full(n + 1, 7.0))
    df = df.round(10)
    dates = pd.date_range("2023-01-01", periods=n + 1, freq="D")
    df.index = dates.strftime("%Y-%m-%d")
    df.index.name = "date"
    df.to_csv(os.path.join(OUT, "prices.csv"), float_format="%.10g")
    dms = df.copy()
    dms.index = (dates.astype("int64") // 10**6).astype(str)
    dms.index.name = "time_ms"
    dms.to_csv(os.path.join(OUT, "prices_ms.csv"), float_format="%.10g")

    # Read back what the C side reads.
    df = pd.read_csv(os.path.join(OUT, "prices.csv"), index_col=0)
    returns = df.pct_change(fill_method=None).dropna(how="all")
    returns = returns.drop(columns=["LATE", "FLAT"])
    elig = list(returns.columns)
    w = hrp_weights(returns)

    def write_w(name, names_, vals):
        with open(os.path.join(OUT, name), "w") as f:
            f.write("asset,weight\n")
            for a, v in zip(names_, vals):
                f.write("%s,%.17g\n" % (a, v))

    write_w("hrp.csv", elig, w)
    sector = np.array([int(a[1]) if a.startswith("S") else 1 for a in elig])
    with open(os.path.join(OUT, "sectors.csv"), "w") as f:
        f.write("asset,cluster\n")
        for a, s in zip(elig, sector):
            f.write("%s,%d\n" % (a, 10 * s + 7))  # arbitrary ids
    wc = caps(w.copy(), sector, 0.35)
    write_w("capped.csv", elig, wc)

    prev_names = ["S0_0", "S2_3", "OLD", "GAPPY"]
    prev_vals = [0.4, 0.3, 0.2, 0.1]
    write_w("prev.csv", prev_names, prev_vals)
    universe = list(df.columns) + ["OLD"]
    tgt = np.array([wc[elig.index(a)] if a in elig else 0.0 for a in universe])
    prv = np.array([prev_vals[prev_names.index(a)] if a in prev_names else 0.0
                    for a in universe])
    l1 = np.abs(tgt - prv).sum()
    t = min(1.0, 0.5 / l1)
    fin = prv + t * (tgt - prv)
    keep = [i for i, a in enumerate(universe) if a in elig or fin[i] > 0]
    write_w("turnover.csv", [universe[i] for i in keep], fin[keep])

    # A gap-free table (the blocked covariance path): the 12 sector assets.
    full = df.drop(columns=["GAPPY", "LATE", "FLAT"])
    full.to_csv(os.path.join(OUT, "prices_full.csv"), float_format="%.10g")
    full = pd.read_csv(os.path.join(OUT, "prices_full.csv"), index_col=0)
    rfull = full.pct_change(fill_method=None).dropna(how="all")
    write_w("hrp_full.csv", list(rfull.columns), hrp_weights(rfull))

    corr = returns.corr().values
    g = np.where(np.isnan(corr), 0.0, np.maximum(corr, 0.0))
    np.fill_diagonal(g, 0.0)
    G = nx.from_numpy_array(g)
    comms = [set(np.flatnonzero(sector == s)) for s in range(sectors)]
    q = nx.community.modularity(G, comms, weight="weight")
    with open(os.path.join(OUT, "expect.txt"), "w") as f:
        f.write("modularity %.17g\n" % q)
        f.write("hrp_perf %.17g %.17g %.17g\n" % perf(w, returns))
        f.write("capped_perf %.17g %.17g %.17g\n" % perf(wc, returns))
        f.write("turnover %.17g\n" % np.abs(fin - prv).sum())


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--fixtures":
        fixtures()
    elif len(sys.argv) == 3:
        bench(sys.argv[1], sys.argv[2])
    else:
        sys.exit("usage: hrp_bench_ref.py PRICES.csv WEIGHTS.csv | --fixtures")
