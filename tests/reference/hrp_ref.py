#!/usr/bin/python3
"""Reference HRP fixtures for tests/portfolio/test_hrp.c.

Implements López de Prado (2016, J. Portfolio Management, sections 3-5) with
PyPortfolioOpt's HRPOpt conventions (pypfopt/hierarchical_portfolio.py:
distance sqrt(clip((1 - rho) / 2, 0, 1)), scipy single linkage on the
condensed matrix, to_tree().pre_order() leaf order, level-by-level bisection
with inverse-variance cluster variances) on top of scipy itself, so the
linkage, its tie-breaking and the leaf order are scipy's own.

Run with /usr/bin/python3 (Debian numpy/scipy); writes tests/fixtures/hrp/*.txt.
With --oracle it instead prints the results on ../shared/data/hrp_oracle
(the full leaf order asserted in tests/portfolio/test_hrp_oracle.c).
Each file is whitespace-separated tokens:
  k K  has_corr 0|1  cov K*K  [corr K*K]  order K  weights K
  cvar_m M  idx M  cvar V  mean K  perf PERIODS RF RET VOL SHARPE
"""
import os

import numpy as np
import scipy.cluster.hierarchy as sch
import scipy.spatial.distance as ssd

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "hrp")


def cluster_var(cov, items):
    c = cov[np.ix_(items, items)]
    w = 1.0 / np.diag(c)
    w /= w.sum()
    return float(np.linalg.multi_dot((w, c, w)))


def cov_to_corr(cov):
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def hrp(cov, corr):
    k = cov.shape[0]
    if k == 1:
        return np.ones(1), [0]
    matrix = np.sqrt(np.clip((1.0 - corr) / 2.0, a_min=0.0, a_max=1.0))
    dist = ssd.squareform(matrix, checks=False)
    link = sch.linkage(dist, "single")
    order = sch.to_tree(link, rd=False).pre_order()
    w = np.ones(k)
    items = [list(order)]
    while items:
        items = [i[a:b] for i in items
                 for a, b in ((0, len(i) // 2), (len(i) // 2, len(i)))
                 if len(i) > 1]
        for j in range(0, len(items), 2):
            v1 = cluster_var(cov, items[j])
            v2 = cluster_var(cov, items[j + 1])
            alpha = 1 - v1 / (v1 + v2)
            w[items[j]] *= alpha
            w[items[j + 1]] *= 1 - alpha
    return w, list(order)


def factor_cov(rng, k, nf):
    beta = rng.normal(0.0, 0.01, size=(k, nf))
    fvar = rng.uniform(0.5, 2.0, size=nf)
    idio = rng.uniform(0.2e-4, 3e-4, size=k)
    cov = beta @ np.diag(fvar) @ beta.T + np.diag(idio)
    return (cov + cov.T) / 2.0  # exactly symmetric


def pow2_cov(sd, rho):
    """cov_ij = rho_ij sd_i sd_j with power-of-two sd: rho is recovered exactly,
    so equal correlations give bit-identical distances (ties)."""
    return rho * np.outer(sd, sd)


def write(name, cov, corr=None, periods=252.0, rf=0.02, seed=0):
    k = cov.shape[0]
    c = corr if corr is not None else cov_to_corr(cov)
    w, order = hrp(cov, c)
    idx = order[: max(1, k // 2)] if k > 1 else [0]
    cv = cluster_var(cov, idx)
    rng = np.random.default_rng(1000 + seed)
    mean = rng.normal(4e-4, 3e-4, size=k)
    ret = float(w @ (mean * periods))
    vol = float(np.sqrt(w @ (cov * periods) @ w))
    sharpe = (ret - rf) / vol
    fmt = lambda v: repr(float(v))
    with open(os.path.join(OUT, name + ".txt"), "w") as f:
        f.write("k %d\nhas_corr %d\ncov\n" % (k, corr is not None))
        for row in cov:
            f.write(" ".join(fmt(v) for v in row) + "\n")
        if corr is not None:
            f.write("corr\n")
            for row in corr:
                f.write(" ".join(fmt(v) for v in row) + "\n")
        f.write("order\n" + " ".join(str(i) for i in order) + "\n")
        f.write("weights\n" + "\n".join(fmt(v) for v in w) + "\n")
        f.write("cvar_m %d\nidx\n%s\ncvar %s\n" % (len(idx), " ".join(map(str, idx)), fmt(cv)))
        f.write("mean\n" + " ".join(fmt(v) for v in mean) + "\n")
        f.write("perf %s %s %s %s %s\n" % (fmt(periods), fmt(rf), fmt(ret), fmt(vol), fmt(sharpe)))
    assert abs(w.sum() - 1) < 1e-12 and (w > 0).all()


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240611)
    write("k1", np.array([[4e-4]]), seed=1)
    for k, nf in ((2, 1), (5, 2), (20, 3), (60, 5)):
        write("factor_k%d" % k, factor_cov(rng, k, nf), seed=k)
    write("factor_k60_crypto", factor_cov(rng, 60, 4), periods=365.0, rf=0.0, seed=61)
    # Every off-diagonal correlation equal: all distances tie.
    sd = np.array([0.5, 1.0, 2.0, 0.25, 1.0, 0.5, 4.0]) * 2.0 ** -6
    rho = np.full((7, 7), 0.3)
    np.fill_diagonal(rho, 1.0)
    write("ties_equicorr", pow2_cov(sd, rho), seed=7)
    # Two blocks with tied within- and between-block correlations.
    sd = np.array([1.0, 0.5, 2.0, 1.0, 0.25, 0.5, 1.0, 2.0, 0.5]) * 2.0 ** -6
    blk = np.array([0, 1, 0, 1, 1, 0, 1, 0, 0])
    rho = np.where(blk[:, None] == blk[None, :], 0.625, 0.125)
    np.fill_diagonal(rho, 1.0)
    write("ties_blocks", pow2_cov(sd, rho), seed=9)
    # Two identical assets (1 and 3): distance 0, equal weights.
    cov = factor_cov(rng, 6, 2)
    cov[3, :] = cov[1, :]
    cov[:, 3] = cov[:, 1]
    write("identical", cov, seed=6)
    # PyPortfolioOpt's cov_matrix path: correlation rounded to 6 decimals
    # (creates ties too).
    cov = factor_cov(rng, 12, 2)
    write("corr_rounded", cov, corr=cov_to_corr(cov).round(6), seed=12)


def oracle():
    """Prints HRP on ../shared/data/hrp_oracle (not written to fixtures): the
    full leaf order, weights and performance, as HRPOpt(returns) computes them
    (pandas pairwise-complete returns.corr() for clustering, .cov() for
    allocation)."""
    import pandas as pd

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                        "shared", "data", "hrp_oracle", "stock_prices.csv")
    df = pd.read_csv(path, parse_dates=True, index_col="date")
    returns = df.pct_change().dropna(how="all")
    cov, corr = returns.cov().values, returns.corr().values
    w, order = hrp(cov, corr)
    print("order", order)
    print(dict(sorted(zip(df.columns, w))))
    mu = returns.mean().values * 252
    ret = float(w @ mu)
    vol = float(np.sqrt(w @ (cov * 252) @ w))
    print("performance", ret, vol, (ret - 0.02) / vol)


if __name__ == "__main__":
    import sys

    if "--oracle" in sys.argv:
        oracle()
    else:
        main()
