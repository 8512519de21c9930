#!/bin/sh
# Benchmarks of `kubectl warpdrive reload`'s sync, against the API-server
# double's exec websocket on loopback (the "container" is this machine):
#
#  1. initial sync of a 10,000-file, ~100 MB tree (one exec: list, then the
#     staged transfer) against `tar c | kubectl exec -i POD -- tar x` through
#     the same double, in pairs (the order alternates), with the median of
#     the five pair ratios;
#  2. --watch: one-file edits in that tree: the time from the edit to the new
#     content being in the pod (p50, p90), the exec sessions and the bytes per
#     sync;
#  3. how far apart the file events of an editor's save arrive (the debounce
#     must cover the gaps);
#  4. 1 and 2 again through the real control plane (kube-apiserver + kwok,
#     `.ci/k8s`), when its binaries are built (skipped otherwise).
#
# Usage (from the repo root): bench/reload.sh
#   BENCH_TMP=DIR   where the trees live (default /dev/shm, keeping the disk
#                   out of the numbers; use /tmp to include it)
#   BENCH_FILES, BENCH_MB, BENCH_PAIRS, BENCH_EDITS, BENCH_SAVES   sizes and counts
#   BENCH_KUBECTL   the kubectl to compare with (default: the test control
#                   plane's, `.ci/k8s bindir`, else kubectl on PATH)
#   PROFILE=debug   use the debug build instead of --release
set -eu
cd "$(dirname "$0")/.."
export BENCH_TMP="${BENCH_TMP:-/dev/shm}"
release=--release
[ "${PROFILE:-release}" = debug ] && release=
# shellcheck disable=SC2086
cargo test $release --test integration -- --ignored --nocapture --test-threads=1 \
    sync_session::bench_initial_sync_vs_kubectl_tar sync_session::bench_watch_one_file_edit \
    sync_session::bench_editor_save_event_gaps \
    real::sync::bench_real_initial_sync_vs_kubectl_tar real::sync::bench_real_watch_one_file_edit 2>&1 |
    grep -v -e '^running ' -e '^test result' -e '^$' -e '^test sync_session::' -e '^test real::' -e '^ok$' \
        -e 'Running ' -e 'Finished ' -e 'Compiling '
