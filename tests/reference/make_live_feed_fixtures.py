#!/usr/bin/python3
"""Recorded feed for tests/data_ingest/test_live_feed.c.

Writes tests/fixtures/live_feed/<PAIR>.json: the whole aggregate-trade
history of one pair over 15 minutes, in the exact shape of Binance's
GET /api/v3/aggTrades answer (Binance spot REST API, "Compressed/Aggregate
trades list": a = aggregate id, p = price and q = quantity as decimal
strings, f/l = first/last trade id, T = time in ms, m = buyer was the maker,
M = best price match). The test's fake Binance on 127.0.0.1 answers each
request (fromId, or startTime/endTime, and limit) with the matching slice of
this history, as the real endpoint pages through it, showing only trades
whose time has passed on the test's clock. Also the error bodies Binance
sends with HTTP 429 and 400.

Three pairs with different rates so that the merge interleaves them: a busy
one (several pages per poll), a moderate one, and a sparse one with a long
quiet stretch (windows with no trade). Ids are consecutive per pair, as on
Binance; times are non-decreasing and some trades share a millisecond (also
across pairs), so that ties are exercised.

Run: /usr/bin/python3 tests/reference/make_live_feed_fixtures.py
"""
import json
import os
import random

T0 = 1600000000000  # 2020-09-13 12:26:40 UTC
SPAN = 15 * 60 * 1000
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "live_feed")


def history(rng, first_id, n, price, times):
    rows = []
    trade_id = first_id * 3
    for i, t in enumerate(times):
        k = rng.randint(1, 3)
        price *= 1.0 + rng.gauss(0.0, 0.002)
        rows.append({
            "a": first_id + i,
            "p": "%.8f" % price,
            "q": "%.8f" % round(rng.expovariate(1 / 250.0) + 1.0, 2),
            "f": trade_id,
            "l": trade_id + k - 1,
            "T": t,
            "m": rng.random() < 0.5,
            "M": True,
        })
        trade_id += k
    assert len(rows) == n
    return rows


def main():
    rng = random.Random(20240508)
    os.makedirs(OUT, exist_ok=True)
    # busy: many trades, whole milliseconds repeat (ties within the pair)
    busy = sorted(T0 + rng.randrange(0, SPAN // 50) * 50 for _ in range(2400))
    # moderate: shares some milliseconds with the busy pair (ties across)
    mid = sorted(rng.choice(busy) if rng.random() < 0.2 else
                 T0 + rng.randrange(0, SPAN) for _ in range(400))
    # sparse: first 5 minutes and last 2 minutes only (a quiet stretch)
    sparse = sorted([T0 + rng.randrange(0, 300000) for _ in range(20)] +
                    [T0 + SPAN - rng.randrange(1, 120000) for _ in range(10)])
    pairs = {
        "ADXBTC": history(rng, 5000000, len(busy), 0.00001234, busy),
        "VIBBTC": history(rng, 9000000, len(mid), 0.00000456, mid),
        "NEBLBTC": history(rng, 700, len(sparse), 0.00012345, sparse),
    }
    for name, rows in pairs.items():
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(rows, f, separators=(",", ":"))
            f.write("\n")
    errors = {
        "error_429.json": {
            "code": -1003,
            "msg": "Too much request weight used; current limit is 6000 "
                   "request weight per 1 MINUTE. Please use WebSocket Streams "
                   "for live updates to avoid polling the API."},
        "error_invalid_symbol.json": {"code": -1121, "msg": "Invalid symbol."},
    }
    for name, body in errors.items():
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(body, f)
            f.write("\n")


if __name__ == "__main__":
    main()
