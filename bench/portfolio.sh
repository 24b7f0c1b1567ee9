#!/bin/sh
# Portfolio stage benchmarks (docs/portfolio.md): HRP on 2000 assets x 730
# days (whole process and in memory) against the numpy/scipy/pandas peer
# (tests/reference/hrp_bench_ref.py), Louvain against python-igraph
# (tests/reference/louvain_ref.py --bench), the covariance against OpenBLAS
# dsyrk and numpy, and a scaling table. Medians of repeated runs.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
BENCH="$BUILD/bench/bench_portfolio"
if [ ! -x "$BENCH" ]; then
    echo "portfolio: $BENCH not built; skipped"
    exit 0
fi
if ! "$PY" -c 'import numpy, scipy, pandas, igraph' 2>/dev/null; then
    echo "portfolio: $PY lacks numpy/scipy/pandas/igraph; skipped"
    exit 0
fi
# The command under test: `coce allocate` once the command table lists it,
# else the same function run by the bench program.
if "$BUILD/coce" allocate --help 2>/dev/null | grep -q 'usage: coce allocate'; then
    ALLOC="$BUILD/coce allocate"
else
    ALLOC="$BENCH run allocate"
    echo "(coce allocate not in $BUILD/coce yet: timing '$ALLOC', the same code)"
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
export COCE_BASE_CONFIG="$TMP/none.yaml" # defaults, whatever the cwd holds

now() { date +%s.%N; }
# median of the numbers on stdin
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# time_cmd RUNS CMD...: median wall seconds of RUNS runs
time_cmd() {
    runs=$1
    shift
    i=0
    while [ "$i" -lt "$runs" ]; do
        t0=$(now)
        "$@" >/dev/null 2>&1
        t1=$(now)
        echo "$t1 - $t0" | bc -l
        i=$((i + 1))
    done | median
}
ratio() { echo "scale=1; $1 / $2" | bc -l; }

F="$TMP/p2000.csv"
"$BENCH" gen 2000 730 42 "$F"
printf 'hrp:\n  cluster_cap: 1.0\n' >"$TMP/nocap.yaml"

echo "HRP, 2000 assets x 730 daily closes (factor model, seed 42), whole process, median of 3:"
# shellcheck disable=SC2086
t_c=$(time_cmd 3 $ALLOC --prices "$F" --out "$TMP/w.csv" --config "$TMP/nocap.yaml")
# shellcheck disable=SC2086
t_cd=$(time_cmd 3 $ALLOC --prices "$F" --out "$TMP/wd.csv")
t_p=$(time_cmd 3 "$PY" tests/reference/hrp_bench_ref.py "$F" "$TMP/wp.csv")
echo "  coce allocate (hrp.cluster_cap 1: HRP only)   ${t_c} s"
echo "  coce allocate (defaults: + consensus clusters, caps 0.5)  ${t_cd} s"
echo "  numpy/scipy/pandas HRPOpt pipeline            ${t_p} s"
echo "  ratio peer / coce (HRP only): $(ratio "$t_p" "$t_c")x   (with clusters: $(ratio "$t_p" "$t_cd")x)"
"$PY" -c "
import sys, numpy as np, pandas as pd
a = pd.read_csv(sys.argv[1], index_col=0)['weight']
b = pd.read_csv(sys.argv[2], index_col=0)['weight'].reindex(a.index)
print('  max relative weight difference coce vs peer: %.2g' % np.abs(a / b - 1).max())
" "$TMP/w.csv" "$TMP/wp.csv"

"$BENCH" inmem "$F" "$TMP/g.bin" >"$TMP/inmem.txt"
val() { awk -v k="$1" '$1 == k {print $2}' "$TMP/inmem.txt"; }
py_inmem=$(for i in 1 2 3; do "$PY" tests/reference/hrp_bench_ref.py "$F" "$TMP/wp.csv" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["inmem_seconds"])'; done | median)
echo "HRP in memory (returns -> cov -> weights):"
echo "  coce (median of 5)       $(val hrp_inmem_seconds) s"
echo "  peer (median of 3)       ${py_inmem} s (pandas cov+corr, scipy linkage, bisection)"
echo "  ratio: $(ratio "$py_inmem" "$(val hrp_inmem_seconds)")x"

echo "Covariance 2000 x 730 (1 thread each):"
echo "  coce_cov_pairwise fast path (means, centring, packing, products)  $(val cov_seconds) s"
if [ "$(val dsyrk_seconds)" != "nan" ]; then
    echo "  OpenBLAS cblas_dsyrk on pre-centred data (dlopen libopenblas.so.0)  $(val dsyrk_seconds) s (max |diff| $(val dsyrk_maxdiff))"
    echo "  ratio coce / dsyrk: $(echo "scale=2; $(val cov_seconds) / $(val dsyrk_seconds)" | bc -l) (goal <= 3)"
else
    echo "  libopenblas.so.0 not installed: no dsyrk peer"
fi
OPENBLAS_NUM_THREADS=1 "$PY" -c '
import os, time, numpy as np
x = np.random.default_rng(0).standard_normal((730, 2000))
ts = []
for _ in range(5):
    t = time.perf_counter(); xc = x - x.mean(0); c = xc.T @ xc / 729.0
    ts.append(time.perf_counter() - t)
blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
print("  numpy (xc.T @ xc, dgemm via %s) %.6f s" % (blas, sorted(ts)[2]))
'

echo "Louvain on max(corr, 0) of the 2000 assets:"
lv=$("$PY" tests/reference/louvain_ref.py --bench "$TMP/g.bin")
lv_t=$(echo "$lv" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["best_seconds"])')
lv_q=$(echo "$lv" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["best_modularity"])')
echo "  coce_louvain        median of 5 seeds $(val louvain_median_seconds) s, best $(val louvain_best_seconds) s, best modularity $(val louvain_best_modularity)"
echo "  igraph multilevel   best of 5 seeds $lv_t s, best modularity $lv_q"
echo "  ratio (best / best): $(ratio "$lv_t" "$(val louvain_best_seconds)")x"

echo "Scaling, HRP in memory (median of 3; generated returns, no gaps):"
"$BENCH" scale | sed 's/^/  /'
echo "Scaling, whole process coce allocate (hrp.cluster_cap 1), median of 3:"
for k in 500 1000 2000; do
    for n in 365 730; do
        "$BENCH" gen "$k" "$n" 7 "$TMP/s.csv"
        # shellcheck disable=SC2086
        t=$(time_cmd 3 $ALLOC --prices "$TMP/s.csv" --out "$TMP/sw.csv" --config "$TMP/nocap.yaml")
        printf '  %5s assets x %3s bars  %s s\n' "$k" "$n" "$t"
    done
done
