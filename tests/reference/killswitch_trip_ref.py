#!/usr/bin/python3
"""Fixture for tests/risk_guardrails/test_killswitch_trip.c: the kill-switch
trip rates of sim/killswitch_trip_rate.py (numpy Monte Carlo, and the
noncentral-t closed form of one day's halt probability for normal returns).

    /usr/bin/python3 tests/reference/killswitch_trip_ref.py
writes tests/fixtures/killswitch/trip_rate.json."""
import importlib.util
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location(
    "trip", os.path.join(ROOT, "sim", "killswitch_trip_rate.py"))
trip = importlib.util.module_from_spec(spec)
spec.loader.exec_module(trip)

PATHS, SEED = 20000, 777
cases = []
for i, (dist, s) in enumerate([("normal", 2.0), ("normal", 4.0), ("t4", 2.0)]):
    row = trip.sharpe_case(s, dist, PATHS, SEED + i)
    row.update(dist=dist, sharpe=s)
    if dist == "normal":
        row["p_day_exact"] = trip.p_day_exact(s)
    cases.append(row)
out = {"paths": PATHS, "seed": SEED, "window": trip.WINDOW,
       "annualisation": trip.ANNUAL, "sharpe_min": trip.SHARPE_MIN,
       "cases": cases}
path = os.path.join(ROOT, "tests", "fixtures", "killswitch", "trip_rate.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")
print("wrote", path)
