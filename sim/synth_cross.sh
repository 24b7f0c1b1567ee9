#!/bin/sh
# Builds sim/synth_cross (calibration samples and cross-figures of the
# synthetic market, docs/synth.md) against the static libraries of a CMake
# build, then runs it. Usage:
#   sim/synth_cross.sh [BUILD_DIR] calib DIR SAMPLES.csv [n_assets days n_pumps seed]
#   sim/synth_cross.sh [BUILD_DIR] cross DIR ../shared
# BUILD_DIR defaults to build (Release recommended).
set -eu
cd "$(dirname "$0")/.."
B=build
case "${1:-}" in calib|cross|"") ;; *) B=$1; shift ;; esac
ninja -C "$B" coce_alpha coce_data_ingest coce_utils >/dev/null
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Isrc \
    sim/synth_cross.c -o "$B/synth_cross" \
    "$B/src/libcoce_alpha.a" "$B/src/libcoce_data_ingest.a" "$B/src/libcoce_utils.a" \
    $(pkg-config --libs jansson libcurl zlib yaml-0.1 openssl) -lpthread -lm
exec "$B/synth_cross" "$@"
