#!/bin/sh
# Stress scenarios on a generated market, made by rewriting its trade files
# with awk: a crash day, a liquidity drought, a correlation spike; one
# simulation each plus the untouched baseline, and a table of how the
# guardrails reacted (summary.json guardrail_cuts, halts) (docs/backtests.md).
set -eu
PROG=stress
. "$(dirname "$0")/_common.sh"

usage() {
    cat <<EOF
usage: sim/stress.sh [options]
  --assets N          assets of the generated market       (default 30)
  --days D            days of the generated market         (default 21)
  --seed S            seed of the market and of the spike path (default 42)
  --pumps P           planted pumps, or 'auto'             (default 45)
  --data DIR          use this market instead (plain CSV trade files)
  --train-days T      model.train_days of every run        (default 7)
  --core-share X      strategy.core_share of every run: the share of capital
                      holding the HRP book, exposed to the market (default 0)
  --crash-day K       day (0-based) of the crash           (default --days / 2)
  --crash-depth X     fall of every price, 0 < X < 1       (default 0.3)
  --drought-day K     first day of the drought             (default --crash-day - 2)
  --drought-days N    length of the drought in days        (default 2)
  --spike-day K       day of the correlation spike         (default --crash-day + 2)
  --spike-vol X       hourly volatility of the common shock (default 0.03)
  --scenarios "..."   subset of: baseline crash drought spike (default all)
  --out DIR           output directory (default reports/stress-a30-d21-s42)
  -h, --help          this text
Environment: COCE_BIN (default build/coce), PY (default /usr/bin/python3).
Deterministic: the same options give the same table.
EOF
}

ASSETS=30 DAYS=21 SEED=42 PUMPS=45 TRAIN=7 CORE=0 OUT="" MARKET=""
CRASH_DAY="" DEPTH=0.3 DROUGHT_DAY="" DROUGHT_DAYS=2 SPIKE_DAY="" SPIKE_VOL=0.03
SCEN="baseline crash drought spike"
while [ $# -gt 0 ]; do
    case $1 in
        --assets) need_value "$@"; ASSETS=$2; shift 2 ;;
        --days) need_value "$@"; DAYS=$2; shift 2 ;;
        --seed) need_value "$@"; SEED=$2; shift 2 ;;
        --pumps) need_value "$@"; PUMPS=$2; shift 2 ;;
        --data) need_value "$@"; MARKET=$2; shift 2 ;;
        --train-days) need_value "$@"; TRAIN=$2; shift 2 ;;
        --core-share) need_value "$@"; CORE=$2; shift 2 ;;
        --crash-day) need_value "$@"; CRASH_DAY=$2; shift 2 ;;
        --crash-depth) need_value "$@"; DEPTH=$2; shift 2 ;;
        --drought-day) need_value "$@"; DROUGHT_DAY=$2; shift 2 ;;
        --drought-days) need_value "$@"; DROUGHT_DAYS=$2; shift 2 ;;
        --spike-day) need_value "$@"; SPIKE_DAY=$2; shift 2 ;;
        --spike-vol) need_value "$@"; SPIKE_VOL=$2; shift 2 ;;
        --scenarios) need_value "$@"; SCEN=$2; shift 2 ;;
        --out) need_value "$@"; OUT=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option '$1'" ;;
    esac
done
# Defaults: all three inside the traded period (after --train-days) and
# early in it, before the kill-switch has had a week of trades to judge.
[ -n "$CRASH_DAY" ] || CRASH_DAY=$((DAYS / 2))
[ -n "$DROUGHT_DAY" ] || DROUGHT_DAY=$((CRASH_DAY >= 2 ? CRASH_DAY - 2 : 0))
[ -n "$SPIKE_DAY" ] || SPIKE_DAY=$((CRASH_DAY + 2 < DAYS ? CRASH_DAY + 2 : DAYS - 1))
for v in "--assets $ASSETS" "--days $DAYS" "--seed $SEED" "--train-days $TRAIN" \
         "--crash-day $CRASH_DAY" "--drought-day $DROUGHT_DAY" \
         "--drought-days $DROUGHT_DAYS" "--spike-day $SPIKE_DAY"; do
    # shellcheck disable=SC2086
    check_uint $v
done
[ "$PUMPS" = auto ] || check_uint --pumps "$PUMPS"
awk -v d="$DEPTH" -v v="$SPIKE_VOL" -v c="$CORE" 'BEGIN {
    exit !(d + 0 > 0 && d + 0 < 1 && v + 0 >= 0 && c + 0 >= 0 && c + 0 <= 1) }' ||
    die "--crash-depth must be in (0, 1), --spike-vol >= 0, --core-share in [0, 1]"
for s in $SCEN; do
    case $s in baseline | crash | drought | spike) ;; *) die "unknown scenario '$s'" ;; esac
done
check_tools
[ -n "$OUT" ] || OUT=reports/stress-a$ASSETS-d$DAYS-s$SEED
prepare_out "$OUT"
OUT=$(cd "$OUT" && pwd)

echo "$PROG: market"
M=$(market "$OUT/market" "$ASSETS" "$DAYS" "$SEED" "$PUMPS")
TD=$(trades_dir "$M")
set -- "$TD"/*.csv
[ -f "$1" ] || die "$TD: no plain *.csv trade files"
# Day 0 of the market (UTC midnight before its first trade).
START=$(for f in "$TD"/*.csv; do sed -n 2p "$f"; done |
    awk -F, -v day=$DAY_MS '$2 ~ /^[0-9]+$/ { if (lo == "" || $2 < lo) lo = $2 }
        END { if (lo == "") exit 1; printf "%.0f\n", lo - lo % day }') || die "$TD: no trades"

# transform SCENARIO: writes scenarios/SCENARIO/{trades/*.csv,ground_truth.csv}.
# Columns: symbol,timestamp,datetime,side,price,amount,btc_volume; a changed
# price or amount recomputes btc_volume = price x amount (as synth writes it).
transform() {
    dir=$OUT/scenarios/$1
    mkdir -p "$dir/trades"
    [ -f "$M/ground_truth.csv" ] && cp "$M/ground_truth.csv" "$dir/"
    for f in "$TD"/*.csv; do
        awk -F, -v OFS=, -v scen="$1" -v start="$START" -v day=$DAY_MS \
            -v crash_day="$CRASH_DAY" -v depth="$DEPTH" \
            -v dr_day="$DROUGHT_DAY" -v dr_days="$DROUGHT_DAYS" \
            -v sp_day="$SPIKE_DAY" -v sp_vol="$SPIKE_VOL" -v seed="$SEED" '
        # Park & Miller (1988) minimal standard generator: exact in doubles
        # (16807 * (2^31 - 1) < 2^53), the same in every awk.
        function lcg() { state = (16807 * state) % 2147483647; return state / 2147483647 }
        BEGIN {
            hour = 3600000
            # Crash: from noon of the crash day, log-price falls linearly to
            # log(1 - depth) in 2 h, then recovers a third of the fall by
            # the end of the day and stays there.
            c0 = start + crash_day * day + 12 * hour; c1 = c0 + 2 * hour
            c2 = start + (crash_day + 1) * day
            lfall = log(1 - depth); lrest = lfall * 2 / 3
            # Drought: 1 trade in 10 kept, each a fifth of its size.
            d0 = start + dr_day * day; d1 = d0 + dr_days * day
            # Spike: one common log-price path for all assets, hourly knots
            # with uniform shocks of standard deviation sp_vol, linear in
            # between; the level reached at the end of the day stays.
            s0 = start + sp_day * day
            state = (seed % 2147483646) + 1
            for (i = 0; i < 10; i++) lcg()
            knot[0] = 0
            for (j = 1; j <= 24; j++) knot[j] = knot[j - 1] + sp_vol * sqrt(12) * (lcg() - 0.5)
        }
        NR == 1 { print; next }
        {
            t = $2 + 0; m = 0
            if (scen == "crash") {
                if (t >= c2) m = lrest
                else if (t >= c1) m = lfall + (lrest - lfall) * (t - c1) / (c2 - c1)
                else if (t >= c0) m = lfall * (t - c0) / (c1 - c0)
            } else if (scen == "drought") {
                if (t >= d0 && t < d1) {
                    if (++kept % 10 != 0) next
                    $6 = sprintf("%.8g", $6 / 5)
                    $7 = sprintf("%.10g", $5 * $6)
                }
            } else if (scen == "spike") {
                if (t >= s0 + 24 * hour) m = knot[24]
                else if (t >= s0) {
                    x = (t - s0) / hour; j = int(x)
                    m = knot[j] + (knot[j + 1] - knot[j]) * (x - j)
                }
            }
            if (m != 0) {
                $5 = sprintf("%.10g", $5 * exp(m))
                $7 = sprintf("%.10g", $5 * $6)
            }
            print
        }' "$f" >"$dir/trades/$(basename "$f")"
    done
}

printf 'scenario\treport\n' >"$OUT/runs.tsv"
printf 'model:\n  train_days: %s\nstrategy:\n  core_share: %s\n' "$TRAIN" "$CORE" >"$OUT/run.yaml"
mkdir -p "$OUT/runs"
for s in $SCEN; do
    if [ "$s" = baseline ]; then
        data=$M
    else
        transform "$s"
        data=$OUT/scenarios/$s
    fi
    run_sim "$OUT/$s.log" --data "$data" --config "$OUT/run.yaml" --out "$OUT/runs/$s"
    printf '%s\t%s\n' "$s" "runs/$s" >>"$OUT/runs.tsv"
    echo "$PROG: $s done"
done
cat >"$OUT/scenarios.md" <<EOF
Scenarios (day 0 = $(awk -v s="$START" 'BEGIN { printf "%.0f", s }') ms):
- crash: every price falls by $DEPTH over 2 h from 12:00 UTC of day $CRASH_DAY, recovers a third of the fall by the day's end
- drought: days $DROUGHT_DAY..$((DROUGHT_DAY + DROUGHT_DAYS - 1)): 1 trade in 10 kept, at a fifth of its size
- spike: day $SPIKE_DAY: one common random path (hourly vol $SPIKE_VOL, seed $SEED) multiplies every price
EOF
TABLE_TITLE="Stress scenarios: how the guardrails reacted" \
    "$PY" "$SIM_DIR/backtest_tables.py" runs "$OUT"
cat "$OUT/scenarios.md" >>"$OUT/table.md"
echo "$PROG: table in $OUT/table.md and $OUT/table.csv"
