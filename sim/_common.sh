# Shared by sim/walk_forward.sh, sim/sweep.sh and sim/stress.sh (sourced,
# POSIX sh). Conventions: COCE_BIN is the coce binary (default build/coce of
# this repository), PY the Python that writes the tables (default
# /usr/bin/python3, standard library only). Every script writes into one
# output directory marked with a .backtest file, which a later run of a
# script may replace; any other existing directory is refused.

SIM_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$SIM_DIR/.." && pwd)
COCE_BIN=${COCE_BIN:-$ROOT/build/coce}
PY=${PY:-/usr/bin/python3}
DAY_MS=86400000

die() {
    echo "$PROG: $*" >&2
    exit 2
}

# need_value OPTION VALUE: the option's argument is present.
need_value() {
    [ $# -ge 2 ] || die "$1 needs a value"
}

check_uint() {
    case $2 in
        '' | *[!0-9]*) die "$1: '$2' is not a non-negative integer" ;;
    esac
}

check_tools() {
    [ -x "$COCE_BIN" ] || die "COCE_BIN=$COCE_BIN is not an executable (build first: make build)"
    [ -x "$PY" ] || die "PY=$PY is not an executable"
}

# prepare_out DIR: a fresh output directory (replaces an earlier output of
# these scripts, refuses anything else).
prepare_out() {
    if [ -e "$1" ]; then
        [ -f "$1/.backtest" ] || die "$1 exists and is not a back-test output; choose another --out"
        rm -rf "$1"
    fi
    mkdir -p "$1" || die "$1: cannot create"
    echo "$PROG" >"$1/.backtest"
}

# market DIR ASSETS DAYS SEED PUMPS: a generated market (coce synth) unless
# MARKET (from --data) names an existing one; prints its directory.
market() {
    if [ -n "${MARKET:-}" ]; then
        [ -d "$MARKET/trades" ] || [ -d "$MARKET" ] || die "--data $MARKET: no such directory"
        echo "$MARKET"
        return
    fi
    pumps_opt=""
    [ "$5" = auto ] || pumps_opt="--pumps $5"
    # shellcheck disable=SC2086
    "$COCE_BIN" synth --assets "$2" --days "$3" --seed "$4" $pumps_opt \
        --out "$1" >"$1.log" 2>&1 || {
        cat "$1.log" >&2
        die "coce synth failed"
    }
    echo "$1"
}

# trades_dir MARKET: where the trade files of a market are.
trades_dir() {
    if [ -d "$1/trades" ]; then echo "$1/trades"; else echo "$1"; fi
}

# run_sim LOG ARGS...: one simulation, its console output into LOG; on
# failure the log is shown and the script stops.
run_sim() {
    log=$1
    shift
    "$COCE_BIN" --mode sim "$@" >"$log" 2>&1 || {
        cat "$log" >&2
        die "coce --mode sim $* failed (log: $log)"
    }
}
