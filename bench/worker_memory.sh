#!/bin/sh
# Idle per-worker memory of each server type serving examples/hello-django:
# starts `warpdrive exec --server-type T` with 1 process, 1 thread, sends
# one request, then prints RSS and PSS (kB, /proc/PID/smaps_rollup) of every
# process of the server. Needs root for PSS of Apache's www-data children.
# Usage: bench/worker_memory.sh [path/to/kubectl-warpdrive]
set -eu
BIN=${1:-target/release/kubectl-warpdrive}
VENV=${WARPDRIVE_VENV:-/opt/warpdrive-venv}
PORT=${PORT:-18931}
for T in gunicorn uwsgi waitress mod_wsgi; do
    APP=$(mktemp -d /tmp/wd-mem-XXXXXX); chmod 755 "$APP"
    cp -r examples/hello-django/. "$APP"
    RT=$(mktemp -d)
    PATH="$VENV/bin:$PATH" WARPDRIVE_HTTP_PORT=$PORT WARPDRIVE_RUNTIME_DIR=$RT \
        MOD_WSGI_PROCESSES=1 MOD_WSGI_THREADS=1 WARPDRIVE_DRAIN_SECONDS=0 \
        setsid "$BIN" exec --supervise --server-type $T --app-root "$APP" >/dev/null 2>&1 &
    L=$!
    i=0; until curl -sf -o /dev/null "http://127.0.0.1:$PORT/"; do i=$((i+1)); [ $i -lt 300 ] || break; sleep 0.1; done
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/" || true
    sleep 1
    for P in $(ps -o pid= --ppid $L) $(ps -o pid= -g $(ps -o pgid= -p $(ps -o pid= --ppid $L | head -1)) ); do echo $P; done | sort -u | while read P; do
        [ -r /proc/$P/smaps_rollup ] || continue
        RSS=$(awk '/^Rss:/{print $2}' /proc/$P/smaps_rollup); PSS=$(awk '/^Pss:/{print $2}' /proc/$P/smaps_rollup)
        printf '%-9s pid %-7s %-40s RSS %6s kB  PSS %6s kB\n' $T $P "$(tr '\0' ' ' </proc/$P/cmdline | cut -c1-40)" $RSS $PSS
    done
    kill -INT $L; wait $L 2>/dev/null || true
    rm -rf "$APP" "$RT"
done
