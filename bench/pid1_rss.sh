#!/usr/bin/env bash
# Supervisor resident memory in PID-1 mode: `warpdrive exec -- sleep` beside
# Debian's `tini -- sleep`, both really PID 1 (`unshare --pid --fork`, needs
# root), started together in each run. Prints VmRSS (now) and VmHWM (peak,
# i.e. during start-up) of each supervisor process, per run and the medians.
#
# Usage (from the repo root, after `cargo build --release`):
#
#     sudo bench/pid1_rss.sh [RUNS]          # default 7 runs
#
# Environment: WARPDRIVE_BIN (default target/release/kubectl-warpdrive),
# TINI (default /usr/bin/tini), SETTLE (seconds to wait before reading, 1).
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-7}"
bin="${WARPDRIVE_BIN:-target/release/kubectl-warpdrive}"
tini="${TINI:-/usr/bin/tini}"
settle="${SETTLE:-1}"
[ -x "$bin" ] || { echo "pid1_rss: $bin not found; run cargo build --release" >&2; exit 2; }
[ -x "$tini" ] || { echo "pid1_rss: $tini not found; apt-get install tini" >&2; exit 2; }
unshare --pid --fork true 2>/dev/null || { echo "pid1_rss: unshare --pid needs root" >&2; exit 2; }
bin="$(realpath "$bin")"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The child of $1 (unshare's forked child: the PID-1 supervisor), waiting for
# it and for its own child (sleep) to exist.
supervisor_of() {
  local outer=$1 sup="" i
  for i in $(seq 200); do
    sup="$(cat "/proc/$outer/task/$outer/children" 2>/dev/null | awk '{print $1}')"
    if [ -n "$sup" ] && [ -n "$(cat "/proc/$sup/task/$sup/children" 2>/dev/null)" ]; then
      echo "$sup"; return
    fi
    sleep 0.02
  done
  echo "pid1_rss: supervisor under $outer did not start" >&2; exit 1
}

field() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-4s %14s %14s %14s %14s\n' run warpdrive_RSS tini_RSS warpdrive_HWM tini_HWM
: > "$work/rows"
for run in $(seq "$runs"); do
  (cd "$work" && exec env -u WARPDRIVE_SUPERVISE unshare --pid --fork "$bin" exec -- sleep 60) &
  wd_outer=$!
  pids+=("$wd_outer")
  unshare --pid --fork "$tini" -- sleep 60 &
  tini_outer=$!
  pids+=("$tini_outer")
  wd="$(supervisor_of "$wd_outer")"
  ti="$(supervisor_of "$tini_outer")"
  sleep "$settle"
  [ "$(awk '{print $1}' "/proc/$wd/stat")" = "$wd" ]
  row="$(field "$wd" VmRSS) $(field "$ti" VmRSS) $(field "$wd" VmHWM) $(field "$ti" VmHWM)"
  echo "$row" >> "$work/rows"
  # shellcheck disable=SC2086
  printf '%-4s %11s kB %11s kB %11s kB %11s kB\n' "$run" $row
  kill -TERM "$wd" "$ti"
  wait "$wd_outer" "$tini_outer" 2>/dev/null || true
done
printf '%-4s %11s kB %11s kB %11s kB %11s kB\n' median \
  "$(awk '{print $1}' "$work/rows" | median)" "$(awk '{print $2}' "$work/rows" | median)" \
  "$(awk '{print $3}' "$work/rows" | median)" "$(awk '{print $4}' "$work/rows" | median)"
echo "binary: $bin ($(stat -c %s "$bin") bytes); tini: $tini ($("$tini" --version 2>&1 | head -1))"
