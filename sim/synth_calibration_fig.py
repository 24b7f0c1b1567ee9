#!/usr/bin/python3
"""docs/synth_calibration.svg: real vs generated quantiles (issue 5).

Each row is one statistic on its own linear scale: a thin bar from p10 to
p90, a box from p25 to p75 and a tick at the median; real (blue, from
tests/fixtures/synth/real_quantiles.csv) above generated (orange, from the
samples written by `sim/synth_cross.sh calib`). Standard library only
(matplotlib is not installed on the build machines).

Usage: /usr/bin/python3 sim/synth_calibration_fig.py SAMPLES.csv [OUT.svg] [TABLE.md]
"""
import csv
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEVELS = [0.10, 0.25, 0.50, 0.75, 0.90]


def quantile(xs, q):
    xs = sorted(xs)
    h = (len(xs) - 1) * q
    lo = int(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def main():
    samples = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs", "synth_calibration.svg")
    table = sys.argv[3] if len(sys.argv) > 3 else None
    real = []
    with open(os.path.join(ROOT, "tests", "fixtures", "synth", "real_quantiles.csv")) as f:
        for r in csv.DictReader(f):
            real.append(r)
    gen = {}
    with open(samples) as f:
        for r in csv.DictReader(f):
            try:
                v = float(r["value"])
            except ValueError:
                continue
            if v == v and abs(v) != float("inf"):
                gen.setdefault((r["group"], r["stat"]), []).append(v)
    rows = []
    for r in real:
        key = (r["group"], r["stat"])
        if key not in gen:
            continue
        rq = [float(r[k]) for k in ("p10", "p25", "p50", "p75", "p90")]
        gq = [quantile(gen[key], q) for q in LEVELS]
        rows.append((r["group"], r["stat"], int(r["n"]), rq, len(gen[key]), gq))

    W, rowh, left, right, top = 760, 34, 250, 40, 60
    groups = []
    for g in rows:
        if g[0] not in groups:
            groups.append(g[0])
    H = top + len(rows) * rowh + len(groups) * 30 + 40
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'font-family="sans-serif" font-size="12">' % (W, H),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="10" y="22" font-size="15" font-weight="bold">Synthetic market vs real '
         'pumps: quantiles p10-p25-p50-p75-p90</text>',
         '<text x="10" y="42" fill="#1f77b4">real (193 onsets up to 2019; 81 files, '
         'outside +-1 day of the pump)</text>',
         '<text x="430" y="42" fill="#ff7f0e">generated (sim/synth_cross.sh calib)</text>']
    y = top
    fmt = lambda v: ("%.3g" % v)
    for grp in groups:
        title = {"onset_25S": "Features at the onset chunk, 25 s",
                 "onset_15S": "Features at the onset chunk, 15 s",
                 "onset_5S": "Features at the onset chunk, 5 s",
                 "normal": "Normal trading"}.get(grp, grp)
        o.append('<text x="10" y="%d" font-weight="bold">%s</text>' % (y + 18, title))
        y += 30
        for g in [r for r in rows if r[0] == grp]:
            _, stat, nr, rq, ng, gq = g
            lo = min(rq[0], gq[0])
            hi = max(rq[4], gq[4])
            if hi <= lo:
                hi = lo + 1
            sx = lambda v: left + (v - lo) / (hi - lo) * (W - left - right)
            o.append('<text x="20" y="%d">%s</text>' % (y + 20, stat))
            o.append('<text x="%d" y="%d" font-size="9" fill="#666">%s</text>' % (left - 40, y + 30, fmt(lo)))
            o.append('<text x="%d" y="%d" font-size="9" fill="#666" text-anchor="end">%s</text>' % (W - right + 35, y + 30, fmt(hi)))
            for k, (q, col) in enumerate([(rq, "#1f77b4"), (gq, "#ff7f0e")]):
                yy = y + 6 + k * 12
                o.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s" stroke-width="1.5"/>'
                         % (sx(q[0]), sx(q[4]), yy + 4, yy + 4, col))
                o.append('<rect x="%.1f" y="%d" width="%.1f" height="8" fill="%s" fill-opacity="0.5" stroke="%s"/>'
                         % (sx(q[1]), yy, max(sx(q[3]) - sx(q[1]), 1), col, col))
                o.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="black" stroke-width="2"/>'
                         % (sx(q[2]), sx(q[2]), yy - 1, yy + 9))
            y += rowh
    o.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(o) + "\n")
    if table:
        with open(table, "w") as f:
            f.write("| chunk / group | statistic | real p10 / p25 / p50 / p75 / p90 (n) | "
                    "generated p10 / p25 / p50 / p75 / p90 (n) |\n| --- | --- | --- | --- |\n")
            for grp, stat, nr, rq, ng, gq in rows:
                f.write("| %s | %s | %s (%d) | %s (%d) |\n" % (
                    grp, stat, " / ".join(fmt(v) for v in rq), nr,
                    " / ".join(fmt(v) for v in gq), ng))


if __name__ == "__main__":
    main()
