#!/bin/sh
# Parameter sweep: one simulation per point of a small grid
# (strategy.take_profit x strategy.trailing_stop x model.C) on the same
# generated market; a table of the figures of every summary.json
# (docs/backtests.md).
set -eu
PROG=sweep
. "$(dirname "$0")/_common.sh"

usage() {
    cat <<EOF
usage: sim/sweep.sh [options]
  --assets N            assets of the generated market     (default 30)
  --days D              days of the generated market       (default 21)
  --seed S              seed of the generated market       (default 42)
  --pumps P             planted pumps, or 'auto'           (default 45)
  --data DIR            use this market instead of generating one
  --take-profit "A B"   strategy.take_profit values        (default "0.1 0.15 0.25")
  --trailing-stop "A B" strategy.trailing_stop values      (default "0.03 0.05")
  --C "A B"             model.C values                     (default "0.1 1")
  --train-days T        model.train_days of every run      (default 7)
  --jobs J              simulations at a time              (default 2)
  --out DIR             output directory (default reports/sweep-a30-d21-s42)
  -h, --help            this text
Environment: COCE_BIN (default build/coce), PY (default /usr/bin/python3).
Deterministic: the same options give the same table (whatever --jobs).
EOF
}

ASSETS=30 DAYS=21 SEED=42 PUMPS=45 TRAIN=7 JOBS=2 OUT="" MARKET=""
TP="0.1 0.15 0.25" TS="0.03 0.05" CS="0.1 1"
while [ $# -gt 0 ]; do
    case $1 in
        --assets) need_value "$@"; ASSETS=$2; shift 2 ;;
        --days) need_value "$@"; DAYS=$2; shift 2 ;;
        --seed) need_value "$@"; SEED=$2; shift 2 ;;
        --pumps) need_value "$@"; PUMPS=$2; shift 2 ;;
        --data) need_value "$@"; MARKET=$2; shift 2 ;;
        --take-profit) need_value "$@"; TP=$2; shift 2 ;;
        --trailing-stop) need_value "$@"; TS=$2; shift 2 ;;
        --C) need_value "$@"; CS=$2; shift 2 ;;
        --train-days) need_value "$@"; TRAIN=$2; shift 2 ;;
        --jobs) need_value "$@"; JOBS=$2; shift 2 ;;
        --out) need_value "$@"; OUT=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option '$1'" ;;
    esac
done
for v in "--assets $ASSETS" "--days $DAYS" "--seed $SEED" "--train-days $TRAIN" "--jobs $JOBS"; do
    # shellcheck disable=SC2086
    check_uint $v
done
[ "$PUMPS" = auto ] || check_uint --pumps "$PUMPS"
[ "$JOBS" -ge 1 ] || die "--jobs must be at least 1"
for x in $TP $TS $CS; do
    case $x in
        '' | *[!0-9.e-]*) die "grid value '$x' is not a number" ;;
    esac
done
check_tools
[ -n "$OUT" ] || OUT=reports/sweep-a$ASSETS-d$DAYS-s$SEED
prepare_out "$OUT"
OUT=$(cd "$OUT" && pwd)

echo "$PROG: market"
M=$(market "$OUT/market" "$ASSETS" "$DAYS" "$SEED" "$PUMPS")

printf 'take_profit\ttrailing_stop\tC\treport\n' >"$OUT/runs.tsv"
n=0 running=0
for tp in $TP; do
    for ts in $TS; do
        for c in $CS; do
            name=tp$tp-ts$ts-C$c
            cat >"$OUT/$name.yaml" <<EOF
model:
  train_days: $TRAIN
  C: $c
strategy:
  take_profit: $tp
  trailing_stop: $ts
EOF
            printf '%s\t%s\t%s\t%s\n' "$tp" "$ts" "$c" "runs/$name" >>"$OUT/runs.tsv"
            mkdir -p "$OUT/runs"
            run_sim "$OUT/$name.log" --data "$M" --config "$OUT/$name.yaml" \
                --out "$OUT/runs/$name" &
            n=$((n + 1)) running=$((running + 1))
            if [ "$running" -ge "$JOBS" ]; then
                wait
                running=0
            fi
        done
    done
done
wait
# A failed run leaves no summary.json: say which.
while IFS='	' read -r tp ts c rep; do
    [ "$rep" = report ] && continue
    [ -f "$OUT/$rep/summary.json" ] || die "run $rep failed (log: $OUT/$(basename "$rep").log)"
done <"$OUT/runs.tsv"
TABLE_TITLE="Sweep: take_profit x trailing_stop x C ($n runs)" \
    "$PY" "$SIM_DIR/backtest_tables.py" runs "$OUT"
echo "$PROG: $n runs; table in $OUT/table.md and $OUT/table.csv"
