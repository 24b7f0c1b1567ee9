#!/bin/sh
# Trade ingest throughput (bench/bench_ingest.c, coce_trade_reader) on a
# ~300 MB uncompressed trade file made by decompressing and concatenating
# ../shared/data/pump_trades (one header, every file's rows, repeated until
# INGEST_MB; format (a)), against peers on the same bytes:
#   wc -l FILE                 goal: reader time <= 3x wc -l's
#   pandas.read_csv(FILE)      Debian python3-pandas at $PY; goal: >= 20x
#   gzip'd file: zcat | wc -l  against the reader on the .gz
# Fairness: the same file for every tool, the page cache warmed by an
# untimed run of each tool first, then medians of RUNS timed runs (pandas: 3,
# it is slow). wc -l only counts newlines (memchr at memory speed) while the
# reader parses every field, so it is a floor, not a peer. wc and zcat are
# timed as whole processes; the reader in-process (open to last row, mmap
# included), which leaves out ~1 ms of process start-up: at 300 MB that is
# < 1 % of either time, which is why the file is this large. pandas: the
# python start-up and import time, measured alone, is subtracted.
# Skips (exit 0) without ../shared, the bench binary, gzip or pandas.
# Takes about a minute.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
BIN="$BUILD/bench/bench_ingest"
SRC=../shared/data/pump_trades
TARGET_MB=${INGEST_MB:-300}
RUNS=${INGEST_RUNS:-5}
if [ ! -d "$SRC" ]; then
    echo "ingest: skipped (no $SRC)"
    exit 0
fi
if [ ! -x "$BIN" ]; then
    echo "ingest: skipped (no $BIN; build the release tree first)"
    exit 0
fi
for tool in zcat gzip wc awk sort date; do
    command -v "$tool" >/dev/null 2>&1 || { echo "ingest: skipped (no $tool)"; exit 0; }
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/coce_ingest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
FILE="$TMP/trades.csv"
# one pass over the sources into a body file, then repeat it to the size
BODY="$TMP/body.csv"
: >"$BODY"
for f in "$SRC"/*.csv.gz; do
    zcat "$f" | tail -n +2 >>"$BODY"
done
echo "symbol,timestamp,datetime,side,price,amount,btc_volume" >"$FILE"
limit=$((TARGET_MB * 1000000))
body_bytes=$(wc -c <"$BODY")
while [ $(($(wc -c <"$FILE") + body_bytes)) -le "$limit" ]; do
    cat "$BODY" >>"$FILE"
done
rest=$((limit - $(wc -c <"$FILE")))
if [ "$rest" -gt 0 ]; then
    # whole lines only
    head -c "$rest" "$BODY" | sed '$d' >>"$FILE"
fi
rm -f "$BODY"
gzip -1 -c "$FILE" >"$FILE.gz"
BYTES=$(wc -c <"$FILE")
ROWS=$(($(wc -l <"$FILE") - 1))
echo "ingest: file $((BYTES / 1000000)) MB, $ROWS rows ($(($(wc -c <"$FILE.gz") / 1000000)) MB gzip'd); $RUNS runs each, medians"
echo "ingest: load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') on $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs (a busy machine slows every tool)"

now() { date +%s.%N; }
# median_time RUNS CMD... : median wall seconds of CMD (output discarded),
# after one untimed warm-up run
median_time() {
    n=$1
    shift
    "$@" >/dev/null 2>&1
    i=0
    : >"$TMP/times"
    while [ "$i" -lt "$n" ]; do
        t0=$(now)
        "$@" >/dev/null 2>&1
        t1=$(now)
        echo "$t0 $t1" | awk '{printf "%.6f\n", $2 - $1}' >>"$TMP/times"
        i=$((i + 1))
    done
    sort -n "$TMP/times" | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}
field() { echo "$2" | sed "s/.*$1=\([0-9.]*\).*/\1/"; }

cat "$FILE" >/dev/null
"$BIN" "$FILE" 1 >/dev/null # warm-up
reader=$("$BIN" "$FILE" "$RUNS")
r_s=$(field median_s "$reader")
r_cpu=$(field cpu_median_s "$reader")
r_rows=$(echo "$reader" | sed 's/^rows=\([0-9]*\).*/\1/')
if [ "$r_rows" != "$ROWS" ]; then
    echo "ingest: reader read $r_rows rows, wc says $ROWS" >&2
    exit 1
fi
wc_s=$(median_time "$RUNS" wc -l "$FILE")
"$BIN" "$FILE.gz" 1 >/dev/null
readerz=$("$BIN" "$FILE.gz" "$RUNS")
rz_s=$(field median_s "$readerz")
zwc_s=$(median_time "$RUNS" sh -c "zcat '$FILE.gz' | wc -l")

awk -v b="$BYTES" -v r="$ROWS" -v rs="$r_s" -v rc="$r_cpu" -v ws="$wc_s" \
    -v zs="$rz_s" -v zw="$zwc_s" 'BEGIN {
    printf "ingest: %-22s %8s %12s %9s\n", "", "MB/s", "rows/s", "median s"
    printf "ingest: %-22s %8.1f %12.0f %9.3f  (CPU %.3f s)\n", "reader plain", b/1e6/rs, r/rs, rs, rc
    printf "ingest: %-22s %8.1f %12.0f %9.3f\n", "wc -l", b/1e6/ws, r/ws, ws
    printf "ingest: %-22s %8.1f %12.0f %9.3f  (MB of the plain text)\n", "reader gzip", b/1e6/zs, r/zs, zs
    printf "ingest: %-22s %8.1f %12.0f %9.3f\n", "zcat | wc -l", b/1e6/zw, r/zw, zw
    q = rs / ws
    printf "ingest: ratio reader / wc -l time        = %5.2fx  (goal <= 3x: %s)\n", q, (q <= 3 ? "met" : "NOT met")
    printf "ingest: ratio reader.gz / (zcat|wc) time = %5.2fx  (< 1: the reader is faster)\n", zs / zw
}'

if "$PY" -c "import pandas" >/dev/null 2>&1; then
    pd_s=$(median_time 3 "$PY" -c "import pandas; pandas.read_csv('$FILE')")
    imp_s=$(median_time 3 "$PY" -c "import pandas")
    awk -v b="$BYTES" -v r="$ROWS" -v rs="$r_s" -v ps="$pd_s" -v is="$imp_s" 'BEGIN {
        p = ps - is; if (p <= 0) p = ps
        printf "ingest: %-22s %8.1f %12.0f %9.3f  (without the %.2f s start-up and import)\n", "pandas.read_csv", b/1e6/p, r/p, p, is
        q = p / rs
        printf "ingest: ratio pandas / reader time       = %5.1fx  (goal >= 20x: %s)\n", q, (q >= 20 ? "met" : "NOT met")
    }'
else
    echo "ingest: pandas peer skipped (no pandas at $PY)"
fi
