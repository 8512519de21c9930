#!/usr/bin/env bash
# The build time of examples/hello-django with `warpdrive build`: a fresh venv,
# pip from the local wheelhouse (tests/wheelhouse.txt, built by .ci/setup;
# --no-index), mod_wsgi installed because it is missing, and collectstatic of
# a tree with no collected files. Then a second build (nothing to redo).
# Prints seconds, with each step's share of the first build (from the time
# its one line is printed: pip, server, collectstatic), and checks that the
# second build redid nothing. Usage: bench/build_django.sh [RUNS] (default 3);
# WARPDRIVE_BIN (default target/release/kubectl-warpdrive).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
bin=$(realpath "${WARPDRIVE_BIN:-target/release/kubectl-warpdrive}")
[ -x "$bin" ] || { echo "build_django: $bin not found; run cargo build --release" >&2; exit 2; }
key=$(sha256sum tests/wheelhouse.txt | cut -c1-16)
wheels="${WARPDRIVE_WHEELHOUSE_CACHE:-/var/cache/warpdrive-wheelhouse}/$key"
[ -f "$wheels/.complete" ] || { echo "no wheelhouse at $wheels: run .ci/setup" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
# Each line of stdin as "SECONDS_SINCE_START LINE".
stamp() { local t0=$1 line; while IFS= read -r line; do printf '%s %s\n' "$(echo "$(now) - $t0" | bc)" "$line"; done; }
# The time from the line before STEP's line to STEP's line.
step_s() { awk -v step="build: $2:" 'index($0, step) { print $1 - prev; exit } { prev = $1 }' "$1"; }
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $("$bin" --version), $(/usr/bin/python3 --version)"
printf '%-5s %8s %9s %7s %9s %15s %14s %10s\n' run venv_s build_s pip_s server_s collectstatic_s collectstatic1_s rebuild_s
for i in $(seq "$runs"); do
  d="$work/$i"
  mkdir -p "$d/app-root"
  cp -r examples/hello-django "$d/app-root/src"
  rm -rf "$d/app-root/src/static"
  mkdir -p "$d/app-root/src/.warpdrive/wheelhouse"
  cp "$wheels"/*.whl "$d/app-root/src/.warpdrive/wheelhouse/"
  t0=$(now)
  /usr/bin/python3 -m venv "$d/venv"
  t1=$(now)
  env -i PATH="$d/venv/bin:/usr/bin:/bin" HOME="$d" WARPDRIVE_APP_ROOT="$d/app-root" \
    WARPDRIVE_PIP_NO_INDEX=1 PIP_INDEX_URL=http://127.0.0.1:9/simple PIP_NO_CACHE_DIR=1 \
    "$bin" build --app-root "$d/app-root/src" 2>"$d/build.err" | stamp "$t1" >"$d/build.out"
  t2=$(now)
  if ! { grep -q 'build: pip: installed -r requirements.txt' "$d/build.out" \
    && grep -q 'build: server: installed mod_wsgi' "$d/build.out" \
    && grep -q 'build: collectstatic: into ' "$d/build.out"; }; then
    echo "build_django: unexpected build output:" >&2; cat "$d/build.out" "$d/build.err" >&2; exit 1
  fi
  # collectstatic alone, into a fresh directory, for its share of the build.
  rm -rf "$d/app-root/src/static"
  (cd "$d/app-root/src" && env -i PATH="$d/venv/bin:/usr/bin:/bin" "$d/venv/bin/python" manage.py collectstatic --noinput -v 0)
  t3=$(now)
  env -i PATH="$d/venv/bin:/usr/bin:/bin" HOME="$d" WARPDRIVE_APP_ROOT="$d/app-root" \
    WARPDRIVE_PIP_NO_INDEX=1 PIP_INDEX_URL=http://127.0.0.1:9/simple \
    "$bin" build --app-root "$d/app-root/src" >"$d/rebuild.out" 2>&1
  t4=$(now)
  if ! { grep -q 'build: pip: up to date' "$d/rebuild.out" \
    && grep -q 'build: server: mod_wsgi-express present' "$d/rebuild.out"; }; then
    echo "build_django: the second build redid something:" >&2; cat "$d/rebuild.out" >&2; exit 1
  fi
  printf '%-5s %8.2f %9.2f %7.2f %9.2f %15.2f %14.2f %10.2f\n' "$i" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" \
    "$(step_s "$d/build.out" pip)" "$(step_s "$d/build.out" server)" "$(step_s "$d/build.out" collectstatic)" \
    "$(echo "$t3 - $t2" | bc)" "$(echo "$t4 - $t3" | bc)"
done
echo "venv_s: python3 -m venv (not part of the build); build_s: warpdrive build (pip Django + mod_wsgi"
echo "from the wheelhouse, collectstatic, record); pip_s/server_s/collectstatic_s: those steps of it;"
echo "collectstatic1_s: manage.py collectstatic alone; rebuild_s: a second warpdrive build"
