#!/bin/sh
# Reproduces the tables of docs/pump_model.md on the 81 real pumps of
# ../shared/data/pump_trades (read in place, never copied): features at
# 5/15/25 s, the shipped models, and `coce eval` (given model, 5-fold
# stratified, leave-one-year-out: test-2019 is the forward split train
# 2018 -> test 2019) for the logistic model, the rush-order baseline and
# the "clip" alternative to the default "logratio" preparation.
# Usage: sim/pump_eval.sh [COCE_BINARY] [OUTDIR]   (default build/coce, /tmp/pump_eval)
set -eu
cd "$(dirname "$0")/.."
COCE=${1:-build/coce}
OUT=${2:-/tmp/pump_eval}
D=../shared/data
if [ ! -d "$D/pump_trades" ]; then
    echo "pump_eval: ../shared/data/pump_trades absent, nothing to do"; exit 0
fi
mkdir -p "$OUT"
for s in 25 15 5; do
    ON="$D/pump_onsets/onset_features_${s}S.csv"
    EV="--events $D/pump_telegram.csv --events $ON"
    "$COCE" features --trades "$D/pump_trades" $EV --chunk ${s}s --out "$OUT/f${s}.csv"
    "$COCE" train --features "$OUT/f${s}.csv" --out "$OUT/pump_${s}s.json"
    "$COCE" eval --model "$OUT/pump_${s}s.json" --features "$OUT/f${s}.csv" $EV | tee "$OUT/eval_${s}s.txt"
    "$COCE" eval --model "$OUT/pump_${s}s.json" --features "$OUT/f${s}.csv" $EV --baseline | tee "$OUT/eval_${s}s_baseline.txt"
    "$COCE" train --features "$OUT/f${s}.csv" --prepare clip --out "$OUT/pump_${s}s_clip.json"
    "$COCE" eval --model "$OUT/pump_${s}s_clip.json" --features "$OUT/f${s}.csv" $EV | tee "$OUT/eval_${s}s_clip.txt"
done
