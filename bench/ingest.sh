#!/bin/sh
# Trade ingest throughput (bench/bench_ingest.c, coce_trade_reader) on a
# ~100 MB uncompressed trade file made by decompressing and concatenating
# ../shared/data/pump_trades (one header, every file's rows; format (a)),
# against peers on the same bytes:
#   wc -l FILE                 (goal: reader within 3x)
#   pandas.read_csv(FILE)      (Debian python3-pandas at $PY; goal >= 20x)
#   gzip'd file: zcat | wc -l  against the reader on the .gz
# Medians of 5 runs (pandas: of 3, it is slow). Skips (exit 0) without
# ../shared, the bench binary, gzip or pandas.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
BIN="$BUILD/bench/bench_ingest"
SRC=../shared/data/pump_trades
TARGET_MB=${INGEST_MB:-100}
if [ ! -d "$SRC" ]; then
    echo "ingest: skipped (no $SRC)"
    exit 0
fi
if [ ! -x "$BIN" ]; then
    echo "ingest: skipped (no $BIN; build the release tree first)"
    exit 0
fi
for tool in zcat gzip wc awk; do
    command -v "$tool" >/dev/null 2>&1 || { echo "ingest: skipped (no $tool)"; exit 0; }
done
TMP=$(mktemp -d "${TMPDIR:-/tmp}/coce_ingest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
FILE="$TMP/trades.csv"
echo "symbol,timestamp,datetime,side,price,amount,btc_volume" >"$FILE"
limit=$((TARGET_MB * 1000000))
while [ "$(wc -c <"$FILE")" -lt "$limit" ]; do
    for f in "$SRC"/*.csv.gz; do
        zcat "$f" | tail -n +2 >>"$FILE"
        [ "$(wc -c <"$FILE")" -lt "$limit" ] || break
    done
done
gzip -1 -c "$FILE" >"$FILE.gz"
BYTES=$(wc -c <"$FILE")
ROWS=$(($(wc -l <"$FILE") - 1))
echo "ingest: file $((BYTES / 1000000)) MB, $ROWS rows ($(($(wc -c <"$FILE.gz") / 1000000)) MB gzip'd)"

now() { date +%s.%N; }
# median_time RUNS CMD... : median wall seconds of CMD (output discarded)
median_time() {
    n=$1
    shift
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

# warm the page cache once
cat "$FILE" >/dev/null
reader=$("$BIN" "$FILE" 5)
echo "ingest: reader plain: $reader"
r_s=$(echo "$reader" | sed 's/.*median_s=\([0-9.]*\).*/\1/')
r_rows=$(echo "$reader" | sed 's/^rows=\([0-9]*\).*/\1/')
if [ "$r_rows" != "$ROWS" ]; then
    echo "ingest: reader read $r_rows rows, wc says $ROWS" >&2
    exit 1
fi
wc_s=$(median_time 5 wc -l "$FILE")
readerz=$("$BIN" "$FILE.gz" 5)
echo "ingest: reader gzip:  $readerz"
rz_s=$(echo "$readerz" | sed 's/.*median_s=\([0-9.]*\).*/\1/')
zwc_s=$(median_time 5 sh -c "zcat '$FILE.gz' | wc -l")

awk -v b="$BYTES" -v r="$ROWS" -v rs="$r_s" -v ws="$wc_s" -v zs="$rz_s" \
    -v zw="$zwc_s" 'BEGIN {
    printf "ingest: reader plain  %8.1f MB/s %12.0f rows/s  (%.3f s)\n", b/1e6/rs, r/rs, rs
    printf "ingest: wc -l         %8.1f MB/s %12.0f rows/s  (%.3f s)\n", b/1e6/ws, r/ws, ws
    printf "ingest: reader gzip   %8.1f MB/s %12.0f rows/s  (%.3f s, MB of the plain text)\n", b/1e6/zs, r/zs, zs
    printf "ingest: zcat | wc -l  %8.1f MB/s %12.0f rows/s  (%.3f s)\n", b/1e6/zw, r/zw, zw
    printf "ingest: ratio reader/wc -l time       = %.2fx (goal <= 3x)\n", rs/ws
    printf "ingest: ratio reader.gz/(zcat|wc) time = %.2fx\n", zs/zw
}'

if "$PY" -c "import pandas" >/dev/null 2>&1; then
    pd_s=$(median_time 3 "$PY" -c "import pandas; pandas.read_csv('$FILE')")
    # python start-up and the pandas import are not reading: subtract them
    imp_s=$(median_time 3 "$PY" -c "import pandas")
    awk -v b="$BYTES" -v r="$ROWS" -v rs="$r_s" -v ps="$pd_s" -v is="$imp_s" 'BEGIN {
        p = ps - is; if (p <= 0) p = ps
        printf "ingest: pandas.read_csv %6.1f MB/s %12.0f rows/s  (%.3f s without the %.2f s import)\n", b/1e6/p, r/p, p, is
        printf "ingest: ratio pandas/reader time      = %.1fx (goal >= 20x)\n", p/rs
    }'
else
    echo "ingest: pandas peer skipped (no pandas at $PY)"
fi
