#!/bin/sh
# Benchmarks of `kubectl warpdrive reload`'s sync, against the API-server
# double's exec websocket on loopback (the "container" is this machine):
#
#  1. initial sync of a 10,000-file, ~100 MB tree (manifest + staged tar)
#     against a plain `tar c | tar x` pipe sent through the same exec
#     channel (median of 3 each, and the ratio);
#  2. --watch: one-file edits in that tree, with the bytes sent per edit and
#     the time from the edit to the new content being in the pod.
#
# Usage (from the repo root): bench/reload.sh
#   BENCH_TMP=DIR   where the trees live (default /dev/shm, keeping the disk
#                   out of the numbers; use /tmp to include it)
#   BENCH_FILES, BENCH_MB, BENCH_EDITS   tree size and number of edits
#   PROFILE=debug   use the debug build instead of --release
set -eu
cd "$(dirname "$0")/.."
export BENCH_TMP="${BENCH_TMP:-/dev/shm}"
release=--release
[ "${PROFILE:-release}" = debug ] && release=
# shellcheck disable=SC2086
cargo test $release --test integration -- --ignored --nocapture --test-threads=1 \
    reload::bench_initial_sync_vs_tar_pipe reload::bench_watch_one_file_edit 2>&1 |
    grep -v -e '^running ' -e '^test result' -e '^$' -e '^test reload::' -e '^ok$' \
        -e 'Running ' -e 'Finished ' -e 'Compiling '
