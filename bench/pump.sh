#!/bin/sh
# Pump detector speed (docs/pump_model.md): features + scoring through the
# detector on one core, in memory and from the gzip'd file, against the
# published pandas feature code (tests/reference/features_ref.py --trades)
# on the same file. Needs ../shared and the release build in $BUILD.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
F=../shared/data/pump_trades/BTS_2019-07-19_17.00.csv.gz
[ -f "$F" ] || F=$(ls ../shared/data/pump_trades/*.csv.gz 2>/dev/null | head -1 || true)
if [ -z "${F:-}" ] || [ ! -f "$F" ]; then echo "pump bench: ../shared absent, skipped"; exit 0; fi
B="$BUILD/bench/bench_pump"
[ -x "$B" ] || { echo "pump bench: $B not built, skipped"; exit 0; }
echo "pump bench on $F"
"$B" models/pump_25s.json "$F" 20
if "$PY" -c 'import pandas' 2>/dev/null; then
    best=""
    for i in 1 2 3; do
        s=$(date +%s.%N)
        "$PY" tests/reference/features_ref.py --trades "$F" --freq 25S >/dev/null
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc)
        best=$(printf '%s\n%s\n' "$t" "${best:-$t}" | sort -g | head -1)
    done
    n=$(zcat "$F" | tail -n +2 | wc -l)
    echo "pandas published code (features only, from gzip): best of 3: $best s = $(echo "$n / $best / 1000000" | bc -l | cut -c1-6) M trades/s"
else
    echo "pump bench: pandas missing, peer skipped"
fi
