#!/bin/sh
# Measured gain of the sentiment columns of the pump features
# (docs/pump_model_sentiment.md): on generated markets (`coce synth`, posts
# with a promotion burst around each planted pump), the 12 published
# features alone against the 12 + each sentiment column and + all of them;
# each model trained with the shipped procedure (threshold at a target of
# FA false alerts per coin-day, out-of-fold over the training files), then
# `coce eval`: 5-fold stratified and a time-ordered split (train on the
# first SPLIT of the time range, test on the rest; every refit chooses its
# threshold on its own training rows). Pump-level figures over whole files,
# pooled over the seeds.
# Usage: sim/sentiment_gain.sh [COCE_BINARY] [OUTDIR] [SEEDS]
#        (default build/coce, /tmp/sentiment_gain, "1 2")
# Environment: SETS (default "none all sent_mentions sent_mention_ratio
# sent_compound_delta sent_compound_vel"; a set is none, all or a comma
# list of columns), ASSETS 30, DAYS 28, CHUNK 25, FA 0.05, SPLIT 0.5.
# Files already made in OUTDIR (markets, features, eval_*.txt) are reused.
set -eu
cd "$(dirname "$0")/.."
COCE=${1:-build/coce}
OUT=${2:-/tmp/sentiment_gain}
SEEDS=${3:-1 2}
SETS=${SETS:-none all sent_mentions sent_mention_ratio sent_compound_delta sent_compound_vel}
ASSETS=${ASSETS:-30}
DAYS=${DAYS:-28}
CHUNK=${CHUNK:-25}
FA=${FA:-0.05}
SPLIT=${SPLIT:-0.5}
if [ ! -x "$COCE" ]; then
    echo "sentiment_gain: $COCE not built"; exit 1
fi
mkdir -p "$OUT"
for seed in $SEEDS; do
    M="$OUT/m$seed"
    [ -f "$M/manifest.json" ] ||
        "$COCE" synth --assets "$ASSETS" --days "$DAYS" --seed "$seed" --out "$M"
    # the planted pumps, as an event list with an exchange (train and eval
    # keep Binance events)
    awk -F, 'NR == 1 { print "symbol,time_ms,onset_ms,exchange"; next }
             $4 == "pump" { print $1 "," $2 "," $3 ",binance" }' \
        "$M/ground_truth.csv" >"$M/pumps.csv"
    for set in $SETS; do
        tag=$(echo "$set" | tr ',' '+')
        F="$OUT/f${seed}_${CHUNK}s_$tag.csv"
        if [ ! -f "$F" ]; then
            if [ "$set" = none ]; then
                "$COCE" features --trades "$M/trades" --events "$M/pumps.csv" \
                    --chunk "${CHUNK}s" --out "$F"
            else
                "$COCE" features --trades "$M/trades" --events "$M/pumps.csv" \
                    --chunk "${CHUNK}s" --posts "$M/posts.csv" \
                    --sentiment-columns "$set" --out "$F"
            fi
        fi
        E="$OUT/eval_${seed}_${CHUNK}s_$tag.txt"
        [ -s "$E" ] && continue # done before (delete it to redo)
        "$COCE" train --features "$F" --target-fa-per-coin-day "$FA" \
            --events "$M/pumps.csv" --out "$OUT/m${seed}_${CHUNK}s_$tag.json"
        "$COCE" eval --model "$OUT/m${seed}_${CHUNK}s_$tag.json" --features "$F" \
            --events "$M/pumps.csv" --time-split "$SPLIT" >"$E.tmp"
        mv "$E.tmp" "$E"
    done
done
# Table: per set and protocol, pumps alerted and false alerts per coin-day
# over whole files, pooled over the seeds; chunk-level P/R/F1 pooled too.
echo "| columns (+ the 12 published) | protocol | pumps alerted | FA/coin-day | false alerts | chunk P | chunk R | chunk F1 |"
echo "|---|---|---|---|---|---|---|---|"
for set in $SETS; do
    tag=$(echo "$set" | tr ',' '+')
    for proto in 5-fold 'time-split(fwd)'; do
        for seed in $SEEDS; do
            grep -F "$proto " "$OUT/eval_${seed}_${CHUNK}s_$tag.txt" | head -1
        done | awk -v set="$set" -v proto="$proto" '
            {
                for (i = 1; i <= NF; ++i) {
                    if ($i == "TP") tp += $(i + 1)
                    if ($i == "FP") fp += $(i + 1)
                    if ($i == "FN") fn += $(i + 1)
                    if ($i == "whole:" && $(i + 1) == "pumps") {
                        split($(i + 2), a, "/"); hit += a[1]; tot += a[2]
                    }
                    if ($i == "false," && !seen[NR]++) fa += substr($(i - 1), 2)
                    if ($i == "coin-days)" && !cd_seen[NR]++) cd += $(i - 1)
                }
            }
            END {
                p = tp + fp > 0 ? tp / (tp + fp) : 0
                r = tp + fn > 0 ? tp / (tp + fn) : 0
                f = p + r > 0 ? 2 * p * r / (p + r) : 0
                pct = tot > 0 ? 100 * hit / tot : 0
                rate = cd > 0 ? fa / cd : 0
                printf "| %s | %s | %d/%d (%.1f %%) | %.3f | %d | %.3f | %.3f | %.3f |\n",
                    set, proto, hit, tot, pct, rate, fa, p, r, f
            }'
    done
done
