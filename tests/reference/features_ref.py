#!/usr/bin/python3
"""Reference for src/alpha/features.c: the pump-detection features of
La Morgia, Mei, Sassi, Stefa, "Pump and Dumps in the Bitcoin Era: Real Time
Detection of Cryptocurrency Market Manipulations", ICCCN 2020.

A pandas re-implementation, written from a reading of the authors' released
code (SystemsLab-Sapienza/pump-and-dump-dataset, features.py, functions
std_rush_order_feature, avg_rush_order_feature, std_trades_feature,
std_volume_feature, avg_volume_feature, std_price_feature, avg_price_feature,
avg_price_max, chunks_time, build_features). Same pandas operations, with the
moving windows as parameters (published: window 900 at 25S/15S, 700 at 5S;
price window 10 hard-coded).

Usage (run with Debian's /usr/bin/python3):
  features_ref.py                 regenerate tests/fixtures/features/*
  features_ref.py --trades F.csv.gz --freq 25S [--window 900] [--at DATE]
                                  print the rows of a real trade file
  features_ref.py --conformance ../shared/data
                                  run the published code on every file of
                                  pump_trades/ at 25S/15S/5S, compare with the
                                  onset rows of pump_onsets/ (8 market
                                  features within 0.001) and write
                                  tests/fixtures/features/published_code_onsets.csv
"""
import argparse
import os
import sys
import warnings

import numpy as np
import pandas as pd

NAMES = ['std_rush_order', 'avg_rush_order', 'std_trades', 'std_volume',
         'avg_volume', 'std_price', 'avg_price', 'avg_price_max',
         'hour_sin', 'hour_cos', 'minute_sin', 'minute_cos']

HERE = os.path.dirname(os.path.abspath(__file__))
FIXDIR = os.path.join(HERE, '..', 'fixtures', 'features')


def build_features(df, freq, window, price_window=10):
    """features.py:build_features without the file/label plumbing."""
    df = df.copy()
    df['time'] = pd.to_datetime(df['timestamp'].astype(np.int64), unit='ms')
    df = df.reset_index().set_index('time')
    buy = df[df['side'] == 'buy']
    grouped = buy.groupby(pd.Grouper(freq=freq))

    # Rush orders (std/avg_rush_order_feature): count the fills per distinct
    # millisecond, mark timestamps with > 1 fill, sum the marks per chunk,
    # drop the chunks without any buy timestamp.
    per_ts = buy.groupby(buy.index).count()
    per_ts[per_ts == 1] = 0
    per_ts[per_ts > 1] = 1
    rush = per_ts.groupby(pd.Grouper(freq=freq))['btc_volume'].sum()
    rush_n = per_ts.groupby(pd.Grouper(freq=freq))['btc_volume'].count()
    rush = rush.drop(rush[rush_n == 0].index).dropna()

    trades = grouped['price'].count()              # std_trades_feature
    trades = trades.drop(trades[trades == 0].index).dropna()
    volume = grouped['btc_volume'].sum()           # std/avg_volume_feature
    volume = volume.drop(volume[volume == 0].index).dropna()
    pmean = grouped['price'].mean().dropna()       # std/avg_price_feature
    pmax = grouped['price'].max().dropna()         # avg_price_max
    date = pmax.index                              # chunks_time

    def pct(s):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return s.pct_change().values

    out = pd.DataFrame({
        'date': date,
        'std_rush_order': pct(rush.rolling(window=window).std()),
        'avg_rush_order': pct(rush.rolling(window=window).mean()),
        'std_trades': pct(trades.rolling(window=window).std()),
        'std_volume': pct(volume.rolling(window=window).std()),
        'avg_volume': pct(volume.rolling(window=window).mean()),
        'std_price': pct(pmean.rolling(window=window).std()),
        'avg_price': pct(pmean.rolling(window=price_window).mean()),
        'avg_price_max': pct(pmax.rolling(window=price_window).mean()),
        'hour_sin': np.sin(2 * np.pi * date.hour / 23),
        'hour_cos': np.cos(2 * np.pi * date.hour / 23),
        'minute_sin': np.sin(2 * np.pi * date.minute / 59),
        'minute_cos': np.cos(2 * np.pi * date.minute / 59),
    })
    return out.dropna()  # NaN rows go, +inf rows stay (build_features)


def synth_trades(seed=20200601):
    """A few thousand trades of one pair with rush orders, empty chunks, a
    stretch without rush orders at a constant price (0/0 and x/0 rows),
    trades on chunk boundaries, sell-only chunks and a price jump."""
    rng = np.random.default_rng(seed)
    t0 = 1562284800000            # 2019-07-05 00:00:00 UTC
    span = 6 * 3600 * 1000
    rows = []                     # (ms, side, price, amount)
    price = 2.0e-5
    t = t0
    calm = (t0 + 3600000, t0 + 5400000)  # one buy per 25 s, fixed price
    gap = (t0 + 7200000, t0 + 7800000)   # no trade at all
    pump = (t0 + 4 * 3600000, t0 + 4 * 3600000 + 90000)
    while t < t0 + span:
        if calm[0] <= t < calm[1]:
            start = t - (t - t0) % 25000
            rows.append((start + int(rng.integers(0, 25000)), 'buy',
                         2.0e-5, float(rng.integers(10, 500))))
            if rng.random() < 0.5:
                rows.append((start + int(rng.integers(0, 25000)), 'sell',
                             1.99e-5, float(rng.integers(10, 500))))
            t = start + 25000
            continue
        if gap[0] <= t < gap[1]:
            t = gap[1]
            continue
        in_pump = pump[0] <= t < pump[1]
        rate = 4.0 if in_pump else 0.12           # trades per second
        t += max(1, int(rng.exponential(1000.0 / rate)))
        if rng.random() < 0.01:
            t -= t % 25000                        # exactly on a boundary
        side = 'buy' if rng.random() < (0.9 if in_pump else 0.5) else 'sell'
        drift = 0.004 if in_pump else 0.0
        if t > pump[1] and t < pump[1] + 600000:
            drift = -0.002
        price = max(1e-6, price * (1.0 + drift + 0.002 * rng.standard_normal()))
        p = round(price, 10)
        k = 1
        if side == 'buy' and rng.random() < (0.5 if in_pump else 0.08):
            k = int(rng.integers(2, 5))           # a rush order: k fills
        for j in range(k):
            rows.append((t, side, round(p * (1 + 0.001 * j), 10),
                         float(rng.integers(1, 2000))))
    rows.sort(key=lambda r: r[0])
    df = pd.DataFrame(rows, columns=['timestamp', 'side', 'price', 'amount'])
    df = df[df['timestamp'] < t0 + span].reset_index(drop=True)
    df.insert(0, 'symbol', 'SYN/BTC')
    df.insert(2, 'datetime', pd.to_datetime(df['timestamp'], unit='ms')
              .dt.strftime('%Y-%m-%dT%H:%M:%S.%f').str[:-3] + 'Z')
    df['btc_volume'] = df['price'] * df['amount']
    return df


def write_fixtures():
    os.makedirs(FIXDIR, exist_ok=True)
    df = synth_trades()
    df.to_csv(os.path.join(FIXDIR, 'trades.csv'), index=False)
    # round_trip: pandas' default CSV float parser can be 1 ulp off the
    # correctly rounded value that C's strtod gives.
    back = pd.read_csv(os.path.join(FIXDIR, 'trades.csv'),
                       float_precision='round_trip')
    for freq, ms in (('25S', 25000), ('5S', 5000)):
        out = build_features(back, freq, window=20, price_window=10)
        out.insert(0, 'chunk_start_ms',
                   out['date'].values.astype('datetime64[ms]').astype(np.int64))
        out = out.drop(columns=['date'])
        path = os.path.join(FIXDIR, 'expected_%s_w20_p10.csv' % freq)
        out.to_csv(path, index=False, float_format='%.17g')
        n_inf = int(np.isinf(out[NAMES].values).sum())
        print('%s: %d trades, %d rows, %d inf values -> %s'
              % (freq, len(back), len(out), n_inf, path))


def conformance(data):
    """Share of the published onset rows the published code reproduces."""
    import datetime
    import glob
    res = []
    for freq, w in (('25S', 900), ('15S', 900), ('5S', 700)):
        on = pd.read_csv('%s/pump_onsets/onset_features_%s.csv' % (data, freq),
                         parse_dates=['date'])
        for f in sorted(glob.glob('%s/pump_trades/*.csv.gz' % data)):
            base = os.path.basename(f)[:-len('.csv.gz')]
            sym, rest = base.split('_', 1)
            ev = datetime.datetime.strptime(rest, '%Y-%m-%d_%H.%M')
            o = on[(on.symbol == sym) &
                   ((on.date - ev).abs() <= pd.Timedelta('1D'))].iloc[0]
            out = build_features(pd.read_csv(f), freq, w)
            r = out[out.date == o.date]
            d = (max(abs(r.iloc[0][k] - o[k]) for k in NAMES[:8])
                 if len(r) else float('inf'))
            res.append((base, freq, int(d <= 0.001 + 1e-9), d))
            print(base, freq, res[-1][2], '%.4f' % d, flush=True)
    path = os.path.join(FIXDIR, 'published_code_onsets.csv')
    with open(path, 'w') as fp:
        fp.write('file,freq,match,max_abs_diff\n')
        for r in res:
            fp.write('%s,%s,%d,%.6f\n' % r)
    print('matched %d of %d -> %s' % (sum(r[2] for r in res), len(res), path))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--trades')
    ap.add_argument('--freq', default='25S')
    ap.add_argument('--window', type=int)
    ap.add_argument('--at')
    ap.add_argument('--conformance')
    a = ap.parse_args()
    if a.conformance:
        conformance(a.conformance)
        return 0
    if not a.trades:
        write_fixtures()
        return 0
    w = a.window or (700 if a.freq == '5S' else 900)
    out = build_features(pd.read_csv(a.trades), a.freq, w)
    if a.at:
        out = out[out['date'] == pd.Timestamp(a.at)]
    pd.set_option('display.width', 250)
    pd.set_option('display.max_columns', 20)
    print(out.to_string())
    return 0


if __name__ == '__main__':
    sys.exit(main())
