#!/usr/bin/python3
"""Real quantiles the synthetic market is calibrated against (issue 5).

Reads ../shared (never copied into the repository) and writes
tests/fixtures/synth/real_quantiles.csv with rows
    group,stat,n,p10,p25,p50,p75,p90
  group = onset_25S | onset_15S | onset_5S : the 8 published market features
          at the hand-labelled onset chunk of the Binance pumps of La Morgia
          et al. 2020 (shared/data/pump_onsets), pumps up to 2019 only
          (date < 2020-01-01: later pumps are kept for forward tests);
  group = normal : normal trading of the 81 real pump files
          (shared/data/pump_trades), excluding +-1 day around the announced
          time (file name SYMBOL_YYYY-MM-DD_HH.MM):
     rows_per_hour   rows (fills) in each whole UTC hour, pooled over files;
     rush_share      per file: buy rows whose millisecond holds another buy
                     row / buy rows (the rush orders of La Morgia et al.);
     abs_ret_1h      |log(last price of hour h / last price of hour h-1)|,
                     pooled, hours with a trade on both sides;
     buy_share       per file: buy rows / rows.
Statistics are pandas' linear-interpolation quantiles.

Run: /usr/bin/python3 tests/reference/synth_calibration_ref.py [SHARED_DIR]
"""
import glob
import os
import sys

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared")
OUT = os.path.join(ROOT, "tests", "fixtures", "synth", "real_quantiles.csv")
Q = [0.10, 0.25, 0.50, 0.75, 0.90]
FEATS = ["std_rush_order", "avg_rush_order", "std_trades", "std_volume",
         "avg_volume", "std_price", "avg_price", "avg_price_max"]


def qrow(group, stat, x):
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    qs = np.quantile(x, Q)
    return [group, stat, len(x)] + [float(v) for v in qs]


def main():
    rows = []
    for chunk in ["25S", "15S", "5S"]:
        d = pd.read_csv(os.path.join(SHARED, "data", "pump_onsets",
                                     f"onset_features_{chunk}.csv"))
        d = d[d["date"] < "2020-01-01"]
        for f in FEATS:
            rows.append(qrow("onset_" + chunk, f, d[f]))
    rph, rush, absr, buys = [], [], [], []
    files = sorted(glob.glob(os.path.join(SHARED, "data", "pump_trades", "*.csv.gz")))
    for path in files:
        stem = os.path.basename(path)[:-len(".csv.gz")]
        sym, day, hm = stem.split("_")
        t0 = pd.Timestamp(day + " " + hm.replace(".", ":"), tz="UTC").value // 10**6
        df = pd.read_csv(path, usecols=["timestamp", "side", "price"])
        df = df[(df.timestamp < t0 - 86400000) | (df.timestamp >= t0 + 86400000)]
        hour = df.timestamp // 3600000
        # whole hours only: drop the first and last hour of each kept span
        cnt = hour.value_counts()
        lo, hi = hour.min(), hour.max()
        cut0, cut1 = (t0 - 86400000) // 3600000, (t0 + 86400000) // 3600000
        full = np.arange(lo + 1, hi)
        full = full[(full < cut0 - 0) | (full > cut1)]
        rph.extend(cnt.reindex(full, fill_value=0).values)
        b = df[df.side == "buy"]
        g = b.groupby("timestamp").size()
        shared_ms = g[g > 1].sum()
        rush.append(shared_ms / len(b))
        buys.append(len(b) / len(df))
        last = df.groupby(hour).price.last()
        idx = last.index.values
        lp = np.log(last.values)
        ok = np.diff(idx) == 1
        # no return across the excluded +-1 day
        absr.extend(np.abs(np.diff(lp)[ok]))
    rows.append(qrow("normal", "rows_per_hour", rph))
    rows.append(qrow("normal", "rush_share", rush))
    rows.append(qrow("normal", "abs_ret_1h", absr))
    rows.append(qrow("normal", "buy_share", buys))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("group,stat,n,p10,p25,p50,p75,p90\n")
        for r in rows:
            f.write("%s,%s,%d,%s\n" % (r[0], r[1], r[2],
                                        ",".join("%.6g" % v for v in r[3:])))
    print(open(OUT).read())


if __name__ == "__main__":
    main()
