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
# Training time on the same data: coce (scaler + Newton-IRLS, tol 1e-10)
# against scikit-learn lbfgs (same objective) and liblinear -s 0 (bias
# penalised), on the 25 s features of all 81 files.
COCE="$BUILD/coce"
if [ -x "$COCE" ] && [ -d ../shared/data/pump_trades ]; then
    T=$(mktemp -d)
    trap 'rm -rf "$T"' EXIT
    "$COCE" features --trades ../shared/data/pump_trades \
        --events ../shared/data/pump_telegram.csv \
        --events ../shared/data/pump_onsets/onset_features_25S.csv \
        --chunk 25s --out "$T/f25.csv" >/dev/null
    "$B" --fit "$T/f25.csv" 1 3
    if "$PY" -c 'import sklearn, pandas' 2>/dev/null; then
        "$PY" bench/pump_train_peers.py "$T/f25.csv" 1 3
    else
        echo "pump bench: scikit-learn missing, training peers skipped"
    fi
else
    echo "pump bench: $COCE or ../shared missing, training comparison skipped"
fi
