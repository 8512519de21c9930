#!/usr/bin/env bash
# The build time of examples/hello-django with `warpdrive build`: a fresh venv,
# pip from the local wheelhouse (tests/wheelhouse.txt, built by .ci/setup;
# --no-index), mod_wsgi installed because it is missing, and collectstatic of
# a tree with no collected files. Then a second build (nothing to redo).
# Prints seconds. Usage: bench/build_django.sh [RUNS] (default 3);
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
printf '%-5s %10s %12s %14s %12s\n' run venv_s build_s collectstatic_s rebuild_s
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
    "$bin" build --app-root "$d/app-root/src" >"$d/build.out" 2>"$d/build.err"
  t2=$(now)
  # collectstatic alone, into a fresh directory, for its share of the build.
  rm -rf "$d/app-root/src/static"
  (cd "$d/app-root/src" && env -i PATH="$d/venv/bin:/usr/bin:/bin" "$d/venv/bin/python" manage.py collectstatic --noinput -v 0)
  t3=$(now)
  env -i PATH="$d/venv/bin:/usr/bin:/bin" HOME="$d" WARPDRIVE_APP_ROOT="$d/app-root" \
    WARPDRIVE_PIP_NO_INDEX=1 PIP_INDEX_URL=http://127.0.0.1:9/simple \
    "$bin" build --app-root "$d/app-root/src" >"$d/rebuild.out" 2>&1
  t4=$(now)
  printf '%-5s %10.2f %12.2f %14.2f %12.2f\n' "$i" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$(echo "$t3 - $t2" | bc)" "$(echo "$t4 - $t3" | bc)"
done
echo "build_s: warpdrive build (pip Django + mod_wsgi from the wheelhouse, collectstatic, record)"
echo "collectstatic_s: manage.py collectstatic alone; rebuild_s: a second warpdrive build"
