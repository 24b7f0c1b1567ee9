#!/bin/sh
# VADER scoring throughput on the 4 200 tweets of Hutto & Gilbert
# (../shared/data/sentiment/tweets_GroundTruth.txt):
#   in process: bench/bench_sentiment.c, median of 5 runs (20 passes each)
#   end to end: `coce sentiment FILE`, median of 5 runs (wall clock)
# Peer: the reference implementation (Python package vaderSentiment) at
# $PY, when importable; it is not in Debian (no python3-vadersentiment) and
# not installed here, so without it the script says so and reports COCE's
# absolute rate only (no ratio). Skips (exit 0) without ../shared or the
# binaries.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
TWEETS=../shared/data/sentiment/tweets_GroundTruth.txt
BIN="$BUILD/bench/bench_sentiment"
if [ ! -f "$TWEETS" ]; then
    echo "sentiment: skipped (no $TWEETS)"
    exit 0
fi
if [ ! -x "$BIN" ]; then
    echo "sentiment: skipped (no $BIN; build the release tree first)"
    exit 0
fi
echo "sentiment: in-process bench_sentiment"
out=$("$BIN" "$TWEETS" data/sentiment 20)
echo "  $out"
coce_rate=$(echo "$out" | sed -n 's/.*median \([0-9]*\) posts.*/\1/p')
if [ -x "$BUILD/coce" ] && "$BUILD/coce" sentiment /dev/null >/dev/null 2>&1; then
    times=""
    for i in 1 2 3 4 5; do
        t0=$(date +%s.%N)
        "$BUILD/coce" sentiment "$TWEETS" >/dev/null
        t1=$(date +%s.%N)
        times="$times $(echo "$t1 - $t0" | bc -l)"
    done
    med=$(printf '%s\n' $times | sort -g | sed -n 3p)
    echo "  coce sentiment FILE: median ${med}s for 4200 posts" \
        "($(echo "4200 / $med" | bc) posts/s, lexicon loading included)"
else
    echo "  coce sentiment: not wired into $BUILD/coce yet; end-to-end run skipped"
fi
if "$PY" -c 'import vaderSentiment.vaderSentiment' >/dev/null 2>&1; then
    peer=$("$PY" - "$TWEETS" <<'PYEOF'
import sys, time, statistics
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
texts = [l.rstrip('\r\n').split('\t', 2)[2] for l in open(sys.argv[1], encoding='utf-8') if l.count('\t') >= 2]
a = SentimentIntensityAnalyzer()
rates = []
for _ in range(5):
    t0 = time.perf_counter()
    for t in texts:
        a.polarity_scores(t)
    rates.append(len(texts) / (time.perf_counter() - t0))
print(int(statistics.median(rates)))
PYEOF
)
    echo "  reference vaderSentiment (Python): median $peer posts/s"
    echo "  ratio COCE / reference: $(echo "$coce_rate / $peer" | bc -l | cut -c1-6)x (goal >= 100x)"
else
    echo "  reference vaderSentiment: not importable at $PY (not in Debian, not installed);"
    echo "  no peer measured: COCE absolute rate ${coce_rate} posts/s"
fi
