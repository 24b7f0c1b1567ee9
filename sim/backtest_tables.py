#!/usr/bin/python3
"""Tables of the back-test scripts (sim/walk_forward.sh, sim/sweep.sh,
sim/stress.sh) from the reports of `coce --mode sim`: summary.json,
equity.csv, trades.csv, alerts.csv. Standard library only.

  backtest_tables.py walk OUT     windows.csv/.md, oos_equity.csv, summary.json
  backtest_tables.py runs OUT     runs.tsv (label columns + report dir)
                                  -> table.csv/.md, summary.json
Every output is deterministic: no run ids, no wall-clock times.
"""
import csv
import json
import math
import os
import sys

DAY_MS = 86400000
# Alert-to-event matching window of the simulation (src/agent/sim.h).
MATCH_BEFORE_MS = 180000
MATCH_AFTER_MS = 120000


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def fmt(x, digits=6):
    if x is None:
        return ""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return ""
        return f"{x:.{digits}g}"
    return str(x)


def write_tables(out, stem, columns, rows, title):
    with open(os.path.join(out, stem + ".csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([fmt(r.get(c)) for c in columns])
    with open(os.path.join(out, stem + ".md"), "w") as f:
        f.write(f"# {title}\n\n")
        f.write("| " + " | ".join(columns) + " |\n")
        f.write("|" + "---|" * len(columns) + "\n")
        for r in rows:
            f.write("| " + " | ".join(fmt(r.get(c)) for c in columns) + " |\n")


def sharpe(returns, ann=365.0):
    """Mean over sample standard deviation (ddof 1) times sqrt(ann): the
    simulation's own definition (src/agent/sim.c, performance())."""
    n = len(returns)
    if n < 2:
        return None
    mean = sum(returns) / n
    var = sum((r - mean) ** 2 for r in returns) / (n - 1)
    return mean / math.sqrt(var) * math.sqrt(ann) if var > 0 else None


def max_drawdown(equity):
    peak, mdd = -math.inf, 0.0
    for e in equity:
        peak = max(peak, e)
        if peak > 0:
            mdd = max(mdd, (peak - e) / peak)
    return mdd


def summary_row(report):
    with open(os.path.join(report, "summary.json")) as f:
        s = json.load(f)
    cuts = s.get("guardrail_cuts", {})
    return {
        "return": s.get("total_return"),
        "pnl": s.get("pnl"),
        "sharpe": s.get("sharpe"),
        "max_drawdown": s.get("max_drawdown"),
        "hit_rate": s.get("hit_rate"),
        "round_trips": s.get("round_trips"),
        "fees": s.get("fees"),
        "alerts": s.get("alerts"),
        "events": s.get("events"),
        "events_alerted": s.get("events_alerted"),
        "false_alerts": s.get("false_alerts"),
        "model_fits": s.get("model_fits"),
        "cuts_drawdown": cuts.get("drawdown"),
        "cuts_var": cuts.get("var"),
        "cuts_corr": cuts.get("corr"),
        "cuts_adv": cuts.get("adv"),
        "halts": s.get("halts"),
        "halted": s.get("halted"),
        "halt_reason": s.get("halt_reason") or "",
    }


# ---- walk-forward ---------------------------------------------------------

def walk(out):
    windows = []
    with open(os.path.join(out, "windows.tsv")) as f:
        for line in f:
            k, tf, tt, xf, xt, df = line.rstrip("\n").split("\t")
            windows.append((int(k), int(tf), int(tt), int(xf), int(xt), int(df)))
    rows, oos_points, all_trades = [], [], []
    equity_level = 1.0
    events_total = alerted_total = false_total = 0
    for k, tf, tt, xf, xt, df in windows:
        wdir = os.path.join(out, f"w{k}")
        test = os.path.join(wdir, "test_report")
        row = {"window": k, "train_from": iso_day(tf), "trade_from": iso_day(xf),
               "trade_to": iso_day(xt)}
        train_summary = os.path.join(wdir, "train_report", "summary.json")
        if os.path.exists(train_summary):
            with open(train_summary) as f:
                row["train_fits"] = json.load(f).get("model_fits")
        if not os.path.exists(os.path.join(test, "summary.json")):
            row["status"] = "no model"
            rows.append(row)
            continue
        row["status"] = "traded"
        s = summary_row(test)
        # Out-of-sample figures from the files, restricted to [xf, xt).
        eq = [(int(r["time_ms"]), float(r["equity"]))
              for r in read_csv(os.path.join(test, "equity.csv"))]
        start_eq = next((e for t, e in eq if t >= xf), None)
        inside = [(t, e) for t, e in eq if xf <= t <= xt]
        trades = [r for r in read_csv(os.path.join(test, "trades.csv"))
                  if xf <= int(r["entry_ms"]) < xt]
        warm = [r for r in read_csv(os.path.join(test, "trades.csv"))
                if int(r["entry_ms"]) < xf]
        end_eq = inside[-1][1] if inside else start_eq
        ret = (end_eq / start_eq - 1.0) if start_eq else None
        if start_eq and inside:
            for t, e in inside[1:]:
                oos_points.append((t, equity_level * e / start_eq))
            equity_level *= end_eq / start_eq
        all_trades.extend(trades)
        n_ev, n_hit, n_false = score(os.path.join(wdir, "test"), test, xf, xt)
        events_total += n_ev
        alerted_total += n_hit
        false_total += n_false
        wins = sum(1 for r in trades if float(r["pnl"]) > 0)
        row.update({
            "return": ret,
            "max_drawdown": max_drawdown([e for _, e in inside]) if inside else None,
            "round_trips": len(trades),
            "warmup_trades": len(warm),
            "hit_rate": wins / len(trades) if trades else None,
            "pnl": sum(float(r["pnl"]) for r in trades),
            "fees": s["fees"],
            "events": n_ev,
            "events_alerted": n_hit,
            "false_alerts": n_false,
            "cuts_drawdown": s["cuts_drawdown"],
            "cuts_var": s["cuts_var"],
            "cuts_corr": s["cuts_corr"],
            "cuts_adv": s["cuts_adv"],
            "halts": s["halts"],
        })
        rows.append(row)
    cols = ["window", "train_from", "trade_from", "trade_to", "status",
            "train_fits", "return", "max_drawdown", "round_trips",
            "warmup_trades", "hit_rate", "pnl", "fees", "events",
            "events_alerted", "false_alerts", "cuts_drawdown", "cuts_var",
            "cuts_corr", "cuts_adv", "halts"]
    write_tables(out, "windows", cols, rows, "Walk-forward: out-of-sample windows")
    with open(os.path.join(out, "oos_equity.csv"), "w") as f:
        f.write("time_ms,equity\n")
        for t, e in oos_points:
            f.write(f"{t},{e:.17g}\n")
    levels = [1.0] + [e for _, e in oos_points]
    daily = [levels[i] / levels[i - 1] - 1.0 for i in range(1, len(levels))]
    wins = sum(1 for r in all_trades if float(r["pnl"]) > 0)
    summary = {
        "windows": len(windows),
        "windows_traded": sum(1 for r in rows if r["status"] == "traded"),
        "oos_return": levels[-1] - 1.0,
        "oos_sharpe": sharpe(daily),
        "oos_max_drawdown": max_drawdown(levels),
        "oos_round_trips": len(all_trades),
        "oos_hit_rate": wins / len(all_trades) if all_trades else None,
        "oos_events": events_total,
        "oos_events_alerted": alerted_total,
        "oos_false_alerts": false_total,
    }
    engine = os.path.join(out, "engine_report", "summary.json")
    if os.path.exists(engine):
        summary["engine_walk_forward"] = summary_row(os.path.dirname(engine))
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True, allow_nan=False,
                  default=str)
        f.write("\n")
    with open(os.path.join(out, "windows.md"), "a") as f:
        f.write("\nStitched out-of-sample: return {}, Sharpe {}, max drawdown {}, "
                "{} round trips, hit rate {}; {} of {} pumps alerted, {} false "
                "alerts.\n".format(fmt(summary["oos_return"]),
                                   fmt(summary["oos_sharpe"]),
                                   fmt(summary["oos_max_drawdown"]),
                                   summary["oos_round_trips"],
                                   fmt(summary["oos_hit_rate"]),
                                   alerted_total, events_total, false_total))


def iso_day(ms):
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc) \
        .strftime("%Y-%m-%d")


def score(data_dir, report, lo, hi):
    """Pumps of the ground truth announced in [lo, hi) that an alert matched
    (same symbol, alert within 180 s before to 120 s after the announced
    time, as the simulation scores), and alerts in [lo, hi) matching none."""
    events = [(r["symbol"].split("/")[0], int(r["time_ms"]))
              for r in read_csv(os.path.join(data_dir, "ground_truth.csv"))
              if r.get("kind", "pump") == "pump"]
    alerts = [(r["symbol"], int(r["timestamp"]))
              for r in read_csv(os.path.join(report, "alerts.csv"))]

    def match(a, e):
        return a[0] == e[0] and e[1] - MATCH_BEFORE_MS <= a[1] <= e[1] + MATCH_AFTER_MS
    inside = [e for e in events if lo <= e[1] < hi]
    hit = sum(1 for e in inside if any(match(a, e) for a in alerts))
    false = sum(1 for a in alerts if lo <= a[1] < hi
                and not any(match(a, e) for e in events))
    return len(inside), hit, false


# ---- parameter sweeps and scenarios ----------------------------------------

def runs(out):
    """runs.tsv: a header of label columns then `report`; one row per run."""
    with open(os.path.join(out, "runs.tsv")) as f:
        lines = [ln.rstrip("\n").split("\t") for ln in f if ln.strip()]
    header, body = lines[0], lines[1:]
    labels = header[:-1]
    rows = []
    for r in body:
        row = dict(zip(labels, r[:-1]))
        row.update(summary_row(os.path.join(out, r[-1])))
        rows.append(row)
    cols = labels + ["return", "sharpe", "max_drawdown", "hit_rate",
                     "round_trips", "fees", "alerts", "events_alerted",
                     "events", "false_alerts", "cuts_drawdown", "cuts_var",
                     "cuts_corr", "cuts_adv", "halts", "halted", "halt_reason"]
    title = os.environ.get("TABLE_TITLE", "Runs")
    write_tables(out, "table", cols, rows, title)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"runs": rows}, f, indent=2, sort_keys=True, default=str)
        f.write("\n")


def main(argv):
    if len(argv) != 3 or argv[1] not in ("walk", "runs"):
        sys.stderr.write(__doc__)
        return 2
    {"walk": walk, "runs": runs}[argv[1]](argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
