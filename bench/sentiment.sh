#!/bin/sh
# VADER scoring throughput on the 4 200 tweets of Hutto & Gilbert
# (../shared/data/sentiment/tweets_GroundTruth.txt):
#   COCE in process: bench/bench_sentiment.c, median of 5 runs (20 passes)
#   COCE end to end: `coce sentiment FILE`, median of 5 runs (wall clock)
#   peer in process, in this script: the same 4 200 texts, median of 5 runs
#     (1 pass each), lexicon loaded once before timing, as for COCE.
# The peer: the reference implementation is the Python package
# vaderSentiment, which is not in Debian. Debian's python3-nltk (3.8) has
# nltk.sentiment.vader, NLTK's port of that reference; it is the peer here,
# loaded with the same vader_lexicon.txt (lexicon_file="file:..."). The port
# is not identical (e.g. it has no emoji handling), so the script also
# prints its agreement with the reference scores (vader_reference_tweets.tsv:
# share of tweets whose compound is within 1e-3) for readers to judge how
# close the port is. Goal: COCE >= 100x the peer's posts/s.
# Skips (exit 0) without ../shared or the binaries; without the peer (no
# vaderSentiment, no nltk at $PY) it prints COCE's rate alone.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
DATA=../shared/data/sentiment
TWEETS=$DATA/tweets_GroundTruth.txt
REF=$DATA/vader_reference_tweets.tsv
BIN="$BUILD/bench/bench_sentiment"
if [ ! -f "$TWEETS" ]; then
    echo "sentiment: skipped (no $TWEETS)"
    exit 0
fi
if [ ! -x "$BIN" ]; then
    echo "sentiment: skipped (no $BIN; build the release tree first)"
    exit 0
fi
echo "sentiment: load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
echo "sentiment: COCE in process (bench_sentiment, median of 5 runs x 20 passes)"
out=$("$BIN" "$TWEETS" data/sentiment 20)
echo "  $out"
coce_rate=$(echo "$out" | sed -n 's/.*median \([0-9]*\) posts.*/\1/p')
if [ -x "$BUILD/coce" ] && "$BUILD/coce" sentiment /dev/null >/dev/null 2>&1; then
    times=""
    for i in 1 2 3 4 5; do
        t0=$(date +%s.%N)
        "$BUILD/coce" sentiment "$TWEETS" >/dev/null
        t1=$(date +%s.%N)
        times="$times $(echo "$t1 $t0" | awk '{printf "%.6f", $1 - $2}')"
    done
    med=$(printf '%s\n' $times | sort -g | sed -n 3p)
    echo "  coce sentiment FILE: median ${med}s for 4200 posts" \
        "($(echo "$med" | awk '{printf "%.0f", 4200 / $1}') posts/s, lexicon loading included)"
else
    echo "  coce sentiment: not in $BUILD/coce; end-to-end run skipped"
fi

# The peer, in process: prints "NAME RATE AGREE N WORST" on one line.
peer=$("$PY" - "$TWEETS" "$REF" "$(cd "$DATA" && pwd)/vader_lexicon.txt" <<'PYEOF' 2>/dev/null || true
import statistics
import sys
import time

tweets, ref, lexicon = sys.argv[1:4]
try:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    a = SentimentIntensityAnalyzer()
    name = "vaderSentiment"
except ImportError:
    try:
        from nltk.sentiment.vader import SentimentIntensityAnalyzer
    except ImportError:
        sys.exit(0)
    import os
    import tempfile
    # the same lexicon as COCE's (not NLTK's downloadable data package);
    # NLTK 3.8's loader fails on a final empty line, so a copy without it
    with open(lexicon, encoding="utf-8") as f:
        text = f.read().rstrip("\r\n")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8",
                                     delete=False) as tmp:
        tmp.write(text)
    try:
        a = SentimentIntensityAnalyzer(lexicon_file="file:" + tmp.name)
    finally:
        os.unlink(tmp.name)
    name = "nltk.sentiment.vader"
rows = []
with open(tweets, encoding="utf-8") as f:
    for line in f:
        parts = line.rstrip("\r\n").split("\t", 2)
        if len(parts) == 3:
            rows.append((parts[0], parts[2]))
texts = [t for _, t in rows]
rates = []
for _ in range(5):
    t0 = time.perf_counter()
    for t in texts:
        a.polarity_scores(t)
    rates.append(len(texts) / (time.perf_counter() - t0))
want = {}
with open(ref, encoding="utf-8") as f:
    head = f.readline().rstrip("\r\n").split("\t")
    ci, cc = head.index("id"), head.index("compound")
    for line in f:
        p = line.rstrip("\r\n").split("\t")
        if len(p) > max(ci, cc):
            want[p[ci]] = float(p[cc])
n = agree = 0
worst = 0.0
for i, t in rows:
    if i in want:
        d = abs(a.polarity_scores(t)["compound"] - want[i])
        n += 1
        agree += d <= 1e-3
        worst = max(worst, d)
print(name, int(statistics.median(rates)), agree, n, "%.4f" % worst)
PYEOF
)
if [ -n "$peer" ]; then
    set -- $peer
    echo "sentiment: peer $1 at $PY (in process, median of 5 runs x 1 pass): $2 posts/s"
    if [ "$1" = "nltk.sentiment.vader" ]; then
        echo "  (NLTK's port of the reference vaderSentiment, which is not in Debian)"
    fi
    echo "$3 $4 $5" | awk '{printf "  peer agreement with the reference scores: %d / %d tweets (%.1f %%) within 1e-3 of the compound, worst |diff| %s\n", $1, $2, ($2 > 0 ? 100 * $1 / $2 : 0), $3}'
    echo "$coce_rate $2" | awk '{q = $1 / $2
        printf "sentiment: COCE %d posts/s, peer %d posts/s: ratio %.0fx (goal >= 100x: %s)\n", $1, $2, q, (q >= 100 ? "met" : "NOT met")}'
else
    echo "sentiment: peer skipped (neither vaderSentiment nor nltk importable at $PY);"
    echo "  COCE alone: ${coce_rate} posts/s"
fi
