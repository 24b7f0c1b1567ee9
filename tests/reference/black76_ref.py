#!/usr/bin/python3
"""Reference values of Black (1976) prices and greeks for tests/options.

Run with Debian's /usr/bin/python3 (scipy):
    /usr/bin/python3 tests/reference/black76_ref.py > tests/fixtures/options/black76_ref.csv

Independent of the C code: scipy.stats.norm (cdf/sf/pdf; sf is used for the
upper tail so that deep out-of-the-money prices keep their relative accuracy).
Formulas: Black, "The pricing of commodity contracts", J. Fin. Econ. 3 (1976),
eq. (11)-(12), with df the discount factor; greeks are derivatives in F, sigma
and -T (df held fixed).
Columns: type (C/P), F, K, T, sigma, df, price, delta, gamma, vega, theta.
"""
import math
import sys

import numpy as np
from scipy.stats import norm


def black76(typ, F, K, T, s, df):
    sq = s * math.sqrt(T)
    d1 = (math.log(F / K) + 0.5 * sq * sq) / sq
    d2 = d1 - sq
    if typ == "C":
        price = df * (F * norm.cdf(d1) - K * norm.cdf(d2))
        delta = df * norm.cdf(d1)
    else:
        price = df * (K * norm.sf(d2) - F * norm.sf(d1))
        delta = -df * norm.sf(d1)
    pdf = norm.pdf(d1)
    gamma = df * pdf / (F * sq)
    vega = df * F * pdf * math.sqrt(T)
    theta = -df * F * pdf * s / (2.0 * math.sqrt(T))
    return price, delta, gamma, vega, theta


def main():
    rng = np.random.default_rng(20210722)
    rows = []
    # A grid over moneyness (incl. deep OTM both ways), maturity and vol.
    for F in (40000.0, 2000.0):
        for m in (0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0):
            for T in (2.0 / 365, 30.0 / 365, 1.0):
                for s in (0.3, 0.9):
                    typ = "P" if m < 1.0 else "C"
                    rows.append((typ, F, F * m, T, s, 1.0))
    # Random cases: both types, discounting, vols 5 %..300 %.
    while len(rows) < 200:
        typ = "C" if rng.random() < 0.5 else "P"
        F = float(rng.choice([100.0, 2000.0, 40000.0]))
        K = F * math.exp(rng.normal(0.0, 0.6))
        T = float(rng.uniform(1.0 / 365, 2.0))
        s = float(rng.uniform(0.05, 3.0))
        df = float(math.exp(-rng.uniform(0.0, 0.1) * T))
        rows.append((typ, F, round(K, 2), T, s, df))
    w = sys.stdout.write
    w("type,F,K,T,sigma,df,price,delta,gamma,vega,theta\n")
    for typ, F, K, T, s, df in rows:
        v = black76(typ, F, K, T, s, df)
        w(",".join([typ] + ["%.17g" % x for x in (F, K, T, s, df) + v]) + "\n")


if __name__ == "__main__":
    main()
