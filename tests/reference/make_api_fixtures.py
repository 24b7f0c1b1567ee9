#!/usr/bin/python3
"""Writes tests/fixtures/api/binance/aggtrades_adxbtc.json: a small, made-up
list of aggregate trades in the documented shape of Binance's
GET /api/v3/aggTrades (https://developers.binance.com/docs/binance-spot-api-docs/rest-api,
"Compressed/Aggregate trades list": a, p, q, f, l, T, m, M). The test server
pages through it like Binance does (fromId, or startTime..endTime, then
limit), and the downloader's output is checked against it.

Layout around an event at 2019-07-05 17:00 UTC (download window 15:00-18:00):
two trades before the window, a quiet hour 15:00-16:00, 20 trades between
16:05 and 17:30 (two share a millisecond: a rush order), one trade at exactly
18:00:00.000 (inclusive end), then two after the window."""
import json
import os

BASE = 1562338800000  # 2019-07-05 15:00:00 UTC
MIN = 60_000

rows = []
aid, tid = 1000, 50_000


def add(t_ms, price, qty, maker):
    global aid, tid
    n = 1 + aid % 3
    rows.append({"a": aid, "p": "%.8f" % price, "q": "%.8f" % qty,
                 "f": tid, "l": tid + n - 1, "T": t_ms, "m": maker, "M": True})
    aid += 1
    tid += n


add(BASE - 5 * MIN, 0.00002100, 150.0, True)
add(BASE - 4 * MIN, 0.00002101, 75.5, False)
for i in range(20):
    t = BASE + 65 * MIN + i * 270_000
    if i == 11:
        t = rows[-1]["T"]  # same millisecond as the previous trade
    add(t, 0.00002100 + 1e-8 * (i % 7), 10.0 + 3.25 * i, i % 3 == 0)
add(BASE + 180 * MIN, 0.00002222, 42.0, False)
add(BASE + 180 * MIN + 1, 0.00002223, 1.0, True)
add(BASE + 210 * MIN, 0.00002224, 2.0, False)

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "fixtures", "api", "binance",
                   "aggtrades_adxbtc.json")
with open(out, "w") as f:
    json.dump(rows, f, indent=1)
    f.write("\n")
print(out, len(rows))
