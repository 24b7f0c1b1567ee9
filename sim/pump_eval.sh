#!/bin/sh
# Reproduces the tables of docs/pump_model.md on the 81 real pumps of
# ../shared/data/pump_trades (read in place, never copied): features at
# 5/15/25 s, the models trained with the shipped procedure (threshold at a
# target of 0.05 false alerts per coin-day, out-of-fold over the training
# files), and `coce eval` (given model, 5-fold stratified, leave-one-year-out:
# test-2019 is the forward split train 2018 -> test 2019; every refit repeats
# the procedure on its own training rows only) for the logistic model and the
# rush-order baseline at the same operating-point rule; then the previous
# procedure (threshold = best out-of-fold chunk F1) for comparison.
# Usage: sim/pump_eval.sh [COCE_BINARY] [OUTDIR] [CHUNKS]
#        (default build/coce, /tmp/pump_eval, "25 15 5")
set -eu
cd "$(dirname "$0")/.."
COCE=${1:-build/coce}
OUT=${2:-/tmp/pump_eval}
CHUNKS=${3:-25 15 5}
FA=${FA:-0.05}
D=../shared/data
if [ ! -d "$D/pump_trades" ]; then
    echo "pump_eval: ../shared/data/pump_trades absent, nothing to do"; exit 0
fi
mkdir -p "$OUT"
for s in $CHUNKS; do
    ON="$D/pump_onsets/onset_features_${s}S.csv"
    EV="--events $D/pump_telegram.csv --events $ON"
    [ -f "$OUT/f${s}.csv" ] || "$COCE" features --trades "$D/pump_trades" $EV --chunk ${s}s --out "$OUT/f${s}.csv"
    "$COCE" train --features "$OUT/f${s}.csv" --target-fa-per-coin-day "$FA" $EV --out "$OUT/pump_${s}s.json"
    "$COCE" eval --model "$OUT/pump_${s}s.json" --features "$OUT/f${s}.csv" $EV | tee "$OUT/eval_${s}s.txt"
    "$COCE" eval --model "$OUT/pump_${s}s.json" --features "$OUT/f${s}.csv" $EV --baseline | tee "$OUT/eval_${s}s_baseline.txt"
    "$COCE" train --features "$OUT/f${s}.csv" --out "$OUT/pump_${s}s_f1.json"
    "$COCE" eval --model "$OUT/pump_${s}s_f1.json" --features "$OUT/f${s}.csv" $EV | tee "$OUT/eval_${s}s_f1.txt"
done
