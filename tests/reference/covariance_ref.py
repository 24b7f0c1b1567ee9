#!/usr/bin/python3
"""Golden values for tests/network_analysis/test_covariance.c.

Run with Debian's interpreter from the repository root:
    /usr/bin/python3 tests/reference/covariance_ref.py
Writes tests/fixtures/network/cov_*.txt. Every file is a matrix in text:
a first line "<rows> <cols>", then one row per line, values "%.17g",
missing values as "nan". The inputs are generated here with a fixed seed;
the expected values come from pandas / numpy / sklearn, independently of
the C code.

Fixtures:
  cov_gaps_x.txt          120 x 9 returns with gaps: leading blanks (listing),
                          random holes, a constant column, an all-NaN column,
                          and columns 4 and 8 that overlap in a single row.
  cov_gaps_cov.txt        pandas DataFrame.cov()              (min_periods None)
  cov_gaps_cov_mp30.txt   pandas DataFrame.cov(min_periods=30)
  cov_gaps_counts.txt     pairwise-complete counts (notna().T @ notna())
  cov_gaps_corr.txt       pandas DataFrame.corr()
  cov_full_x.txt          50 x 13 complete data (13: not a multiple of the
                          8-asset panel), columns on very different scales
  cov_full_cov.txt        numpy.cov(x, rowvar=False)  (ddof 1)
  cov_full_corr.txt       numpy.corrcoef(x, rowvar=False)
  cov_lw_x.txt            60 x 11 data, rows 5, 17 and 40 with a NaN
  cov_lw_cov.txt          sklearn LedoitWolf(assume_centered=False) fitted on
                          the complete rows; its shrinkage in cov_lw_shrink.txt
  cov_hrp_cov.txt         (only when ../shared exists) pandas
                          prices.pct_change().dropna(how="all").cov() of
                          shared/data/hrp_oracle/stock_prices.csv
"""
import os
import sys

import numpy as np
import pandas as pd
from sklearn.covariance import LedoitWolf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "network")


def write(name, m):
    m = np.atleast_2d(np.asarray(m, dtype=float))
    with open(os.path.join(OUT, name), "w") as f:
        f.write("%d %d\n" % m.shape)
        for row in m:
            f.write(" ".join("nan" if np.isnan(v) else "%.17g" % v for v in row))
            f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240611)

    # --- gaps (pandas pairwise-complete) ---
    n, k = 120, 9
    f = rng.standard_normal(n)
    x = 0.01 * (0.6 * f[:, None] + rng.standard_normal((n, k)))
    x[:, 1] *= 1e3                      # scale differences
    x[:, 2] += 5.0                      # offset: two-pass must handle it
    x[:40, 4] = np.nan                  # listed at row 40
    holes = rng.random(n) < 0.15
    x[holes, 5] = np.nan                # random holes
    x[:, 6] = 5.0
    x[::7, 6] = np.nan                  # constant column with holes
    x[:, 7] = np.nan                    # never listed
    x[41:, 8] = np.nan                  # delisted after row 40: overlaps 4 in row 40 only
    df = pd.DataFrame(x)
    write("cov_gaps_x.txt", x)
    write("cov_gaps_cov.txt", df.cov().to_numpy())
    write("cov_gaps_cov_mp30.txt", df.cov(min_periods=30).to_numpy())
    ok = df.notna().to_numpy().astype(float)
    write("cov_gaps_counts.txt", ok.T @ ok)
    write("cov_gaps_corr.txt", df.corr().to_numpy())

    # --- complete data (numpy) ---
    n, k = 50, 13
    x = rng.standard_normal((n, k)) @ rng.standard_normal((k, k))
    x *= np.logspace(-3, 2, k)[None, :]
    write("cov_full_x.txt", x)
    write("cov_full_cov.txt", np.cov(x, rowvar=False))
    write("cov_full_corr.txt", np.corrcoef(x, rowvar=False))

    # --- Ledoit-Wolf (sklearn), complete rows only ---
    n, k = 60, 11
    x = 0.02 * (rng.standard_normal((n, 1)) + rng.standard_normal((n, k)))
    x += 0.001
    x[5, 3] = np.nan
    x[17, 0] = np.nan
    x[40, 10] = np.nan
    write("cov_lw_x.txt", x)
    lw = LedoitWolf(assume_centered=False).fit(x[~np.isnan(x).any(axis=1)])
    write("cov_lw_cov.txt", lw.covariance_)
    write("cov_lw_shrink.txt", [[lw.shrinkage_]])

    # --- real prices (needs ../shared) ---
    prices_csv = os.path.join(os.path.dirname(ROOT), "shared", "data",
                              "hrp_oracle", "stock_prices.csv")
    if os.path.exists(prices_csv):
        prices = pd.read_csv(prices_csv, parse_dates=True, index_col="date")
        # The data has no interior gaps (only blanks before listings), so the
        # default fill_method="pad" of pct_change changes nothing.
        rets = prices.pct_change().dropna(how="all")
        write("cov_hrp_cov.txt", rets.cov().to_numpy())
    else:
        print("covariance_ref: ../shared absent, cov_hrp_cov.txt not written",
              file=sys.stderr)


if __name__ == "__main__":
    main()
