#!/bin/sh
# Walk-forward back-test: train on a rolling window, trade the next one,
# roll (docs/backtests.md). Out-of-sample windows, a per-window table and a
# stitched out-of-sample equity curve.
set -eu
PROG=walk_forward
. "$(dirname "$0")/_common.sh"

usage() {
    cat <<EOF
usage: sim/walk_forward.sh [options]
  --assets N       assets of the generated market        (default 30)
  --days D         days of the generated market          (default 21)
  --seed S         seed of the generated market          (default 42)
  --pumps P        planted pumps, or 'auto'              (default 45)
  --data DIR       use this market instead (trades/*.csv or *.csv, and
                   ground_truth.csv to score against); plain CSV only
  --train-days T   training window in days               (default 7)
  --test-days W    traded window in days; the step too   (default 2)
  --warmup-days U  days before each traded window replayed without
                   trading (features, bars, first rebalance) (default 1)
  --out DIR        output directory (default reports/walk_forward-a30-d21-s42)
  -h, --help       this text
Environment: COCE_BIN (default build/coce), PY (default /usr/bin/python3).
Deterministic: the same options give the same tables.
EOF
}

ASSETS=30 DAYS=21 SEED=42 PUMPS=45 TRAIN=7 TEST=2 WARMUP=1 OUT="" MARKET=""
while [ $# -gt 0 ]; do
    case $1 in
        --assets) need_value "$@"; ASSETS=$2; shift 2 ;;
        --days) need_value "$@"; DAYS=$2; shift 2 ;;
        --seed) need_value "$@"; SEED=$2; shift 2 ;;
        --pumps) need_value "$@"; PUMPS=$2; shift 2 ;;
        --data) need_value "$@"; MARKET=$2; shift 2 ;;
        --train-days) need_value "$@"; TRAIN=$2; shift 2 ;;
        --test-days) need_value "$@"; TEST=$2; shift 2 ;;
        --warmup-days) need_value "$@"; WARMUP=$2; shift 2 ;;
        --out) need_value "$@"; OUT=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option '$1'" ;;
    esac
done
for v in "--assets $ASSETS" "--days $DAYS" "--seed $SEED" "--train-days $TRAIN" \
         "--test-days $TEST" "--warmup-days $WARMUP"; do
    # shellcheck disable=SC2086
    check_uint $v
done
[ "$PUMPS" = auto ] || check_uint --pumps "$PUMPS"
[ "$TRAIN" -ge 1 ] || die "--train-days must be at least 1"
[ "$TEST" -ge 1 ] || die "--test-days must be at least 1"
[ "$WARMUP" -le "$TRAIN" ] || die "--warmup-days must not exceed --train-days"
check_tools
[ -n "$OUT" ] || OUT=reports/walk_forward-a$ASSETS-d$DAYS-s$SEED
prepare_out "$OUT"
OUT=$(cd "$OUT" && pwd)

echo "$PROG: market"
M=$(market "$OUT/market" "$ASSETS" "$DAYS" "$SEED" "$PUMPS")
TD=$(trades_dir "$M")
set -- "$TD"/*.csv
[ -f "$1" ] || die "$TD: no plain *.csv trade files"

# Market span in whole UTC days (trade files are time-ordered; column 2 is
# the timestamp in ms).
SPAN=$(for f in "$TD"/*.csv; do sed -n 2p "$f"; tail -n 1 "$f"; done |
    awk -F, -v day=$DAY_MS '$2 ~ /^[0-9]+$/ {
        if (lo == "" || $2 < lo) lo = $2; if (hi == "" || $2 > hi) hi = $2 }
        END { if (lo == "") exit 1
              s = lo - lo % day; printf "%.0f %d\n", s, int((hi - s) / day) + 1 }') ||
    die "$TD: no trades"
START=${SPAN% *}
NDAYS=${SPAN#* }

# Windows k = 0, 1, ...: train [s + kW, s + kW + T), trade [s + kW + T,
# s + kW + T + W), replayed from U days before the traded window.
: >"$OUT/windows.tsv"
k=0
while [ $((k * TEST + TRAIN + TEST)) -le "$NDAYS" ]; do
    a=$((k * TEST))
    printf '%d\t%s\t%s\t%s\t%s\t%s\n' "$k" \
        $((START + a * DAY_MS)) $((START + (a + TRAIN) * DAY_MS)) \
        $((START + (a + TRAIN) * DAY_MS)) $((START + (a + TRAIN + TEST) * DAY_MS)) \
        $((START + (a + TRAIN - WARMUP) * DAY_MS)) >>"$OUT/windows.tsv"
    k=$((k + 1))
done
[ "$k" -gt 0 ] || die "the market has $NDAYS days: fewer than --train-days + --test-days"
echo "$PROG: $k windows of $TRAIN + $TEST days over $NDAYS days"

# Split every trade file (and the ground truth) into the windows in one awk
# pass per file: each row goes to every window whose range holds it.
# A training window also gets the first trade of each asset at or after its
# end: it moves the engine's clock over the closing day boundary, where the
# last refit happens (with the labels known before the boundary only).
split_file() { # FILE NAME DIR TIME_COLUMN BOUNDARY: w<k>/{train,test}/DIR/NAME
    awk -F, -v out="$OUT" -v name="$2" -v sub_dir="$3" -v tcol="$4" -v boundary="$5" '
        BEGIN { while ((getline line < (out "/windows.tsv")) > 0) {
                    split(line, w, "\t"); n++
                    k[n] = w[1]; tf[n] = w[2]; tt[n] = w[3]
                    xf[n] = w[6]; xt[n] = w[5] } }
        NR == 1 { for (i = 1; i <= n; i++) {
                      print > (out "/w" k[i] "/train/" sub_dir name)
                      print > (out "/w" k[i] "/test/" sub_dir name) }
                  next }
        { t = $tcol + 0
          for (i = 1; i <= n; i++) {
              if (t >= tf[i] && t < tt[i]) print > (out "/w" k[i] "/train/" sub_dir name)
              else if (boundary && t >= tt[i] && !bt[i]) {
                  bt[i] = 1; print > (out "/w" k[i] "/train/" sub_dir name) }
              if (t >= xf[i] && t < xt[i]) print > (out "/w" k[i] "/test/" sub_dir name) } }' "$1"
}
while IFS='	' read -r k _; do
    mkdir -p "$OUT/w$k/train/trades" "$OUT/w$k/test/trades"
done <"$OUT/windows.tsv"
for f in "$TD"/*.csv; do
    split_file "$f" "$(basename "$f")" trades/ 2 1
done
if [ -f "$M/ground_truth.csv" ]; then
    split_file "$M/ground_truth.csv" ground_truth.csv "" 2 0
fi

# Train, then trade with the model frozen.
while IFS='	' read -r k tf tt xf xt df; do
    W=$OUT/w$k
    printf 'model:\n  train_days: 1\n' >"$W/train.yaml"
    run_sim "$W/train.log" --data "$W/train" --config "$W/train.yaml" --out "$W/train_report"
    if [ -f "$W/train_report/model.json" ]; then
        printf 'model:\n  path: "%s"\n' "$W/train_report/model.json" >"$W/test.yaml"
        run_sim "$W/test.log" --data "$W/test" --config "$W/test.yaml" --out "$W/test_report"
        echo "$PROG: window $k traded"
    else
        echo "$PROG: window $k: no model (fewer than 3 labelled pump chunks in training); not traded"
    fi
done <"$OUT/windows.tsv"

# The engine's own walk-forward over the whole market, for comparison: it
# starts fitting after the same training span and refits daily.
printf 'model:\n  train_days: %s\n' "$TRAIN" >"$OUT/engine.yaml"
run_sim "$OUT/engine.log" --data "$M" --config "$OUT/engine.yaml" --out "$OUT/engine_report"

"$PY" "$SIM_DIR/backtest_tables.py" walk "$OUT"
echo "$PROG: tables in $OUT (windows.md, windows.csv, oos_equity.csv, summary.json)"
