#!/usr/bin/env python3
"""Idle memory of each server type's workers serving examples/hello-django.

For each server type and each process count P (MOD_WSGI_PROCESSES), starts
`warpdrive exec --supervise --server-type TYPE` (the launcher stays the
supervisor, as when it is PID 1 in a container) on a copy of the example,
sends requests in parallel (so that every worker has served, and has loaded
the URLconf and views), waits until the server is idle, then walks the process
tree below the launcher (/proc/*/stat) and reads each process's
/proc/PID/smaps_rollup:

  RSS  resident pages, shared ones counted in full in every process;
  PSS  each shared page divided among the processes sharing it (the right
       measure for forked workers: the PSS of a tree adds up to the memory
       the tree really uses, which is what a cgroup limit counts);
  USS  private pages only (Private_Clean + Private_Dirty).

It prints one line per process (its role: launcher, server, worker, apache),
then a table per server type: the workers' mean RSS/PSS/USS, the tree's total
PSS without the launcher, and the cost of one more process, measured as the
slope of the total PSS between the smallest and the largest P (waitress is
always one process).

Needs root (Apache's children run as another user) and the test venv
(`.ci/setup`). Usage, from the repository root:

    cargo build --release
    /usr/bin/python3 bench/worker_memory.py [--bin target/release/kubectl-warpdrive]
        [--servers gunicorn,waitress,uwsgi,django,uvicorn] [--processes 1,3]
        [--threads 5]
"""

import argparse
import concurrent.futures
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.environ.get("WARPDRIVE_VENV", "/opt/warpdrive-venv")
START_TIMEOUT = 90.0
IDLE_SECONDS = 3.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, timeout=10.0):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            r.read()
            return r.status
    except Exception:
        return None


def tree(root):
    """Every descendant of `root` (and root), as {pid: ppid}."""
    parents = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The comm field may hold spaces and parentheses: split after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(name)] = int(fields[1])
    inside = {root: parents.get(root, 0)}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in inside and pid not in inside:
                inside[pid] = ppid
                grew = True
    return inside


def memory(pid):
    """(RSS, PSS, USS) in kB from /proc/PID/smaps_rollup, or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            text = f.read()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
            values[parts[0][:-1]] = int(parts[1])
    return (
        values.get("Rss", 0),
        values.get("Pss", 0),
        values.get("Private_Clean", 0) + values.get("Private_Dirty", 0),
    )


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def role(server, pid, ppid, launcher, procs):
    """launcher, server (the process the launcher started, or its parent
    role), worker (a process that runs the app), apache (Apache's own
    processes under mod_wsgi-express), helper (anything else)."""
    if pid == launcher:
        return "launcher"
    cmd = cmdline(pid)
    if server in ("django", "mod_wsgi", "paste"):
        # mod_wsgi-express names its daemon processes (wsgi:HOST:PORT:UID).
        return "worker" if cmd.startswith("(wsgi:") else "apache"
    if server == "waitress":
        return "worker" if ppid == launcher else "helper"
    if ppid == launcher:
        # One process (uvicorn with 1 worker) is its own worker.
        children = [p for p, pp in procs.items() if pp == pid]
        return "server" if children else "worker"
    if "multiprocessing.resource_tracker" in cmd or "semaphore_tracker" in cmd:
        return "helper"
    return "worker"


def measure(args, server, processes):
    app = tempfile.mkdtemp(prefix="wd-mem-")
    os.chmod(app, 0o755)
    shutil.copytree(os.path.join(REPO, "examples/hello-django"), app, dirs_exist_ok=True)
    runtime = tempfile.mkdtemp(prefix="wd-mem-rt-")
    os.chmod(runtime, 0o755)
    log = open(os.path.join(runtime, "server.log"), "w+")
    port = free_port()
    env = dict(os.environ)
    env.update(
        PATH=f"{VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        WARPDRIVE_HTTP_PORT=str(port),
        WARPDRIVE_RUNTIME_DIR=runtime,
        MOD_WSGI_PROCESSES=str(processes),
        MOD_WSGI_THREADS=str(args.threads),
        WARPDRIVE_DRAIN_SECONDS="0",
    )
    launcher = subprocess.Popen(
        [args.bin, "exec", "--supervise", "--server-type", server, "--app-root", app],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while get(port, "/", timeout=2.0) != 200:
            if launcher.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                sys.exit(f"{server} P={processes}: no HTTP 200\n{log.read()}")
            time.sleep(0.2)
        # Every worker serves: parallel requests, more than the workers.
        n = max(8, 4 * processes * args.threads)
        with concurrent.futures.ThreadPoolExecutor(max_workers=2 * processes) as pool:
            statuses = list(pool.map(lambda _: get(port, "/"), range(n)))
        statuses.append(get(port, "/static/hello.txt"))
        if any(s != 200 for s in statuses):
            sys.exit(f"{server} P={processes}: answers {statuses}")
        time.sleep(IDLE_SECONDS)
        procs = tree(launcher.pid)
        rows = []
        for pid, ppid in sorted(procs.items()):
            m = memory(pid)
            if m is None:
                continue
            rows.append((pid, role(server, pid, ppid, launcher.pid, procs), m, cmdline(pid)))
        return rows
    finally:
        try:
            os.killpg(launcher.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
        log.close()
        shutil.rmtree(app, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)


def mib(kb):
    return kb / 1024.0


def versions():
    out = subprocess.run(
        [f"{VENV}/bin/python", "-c",
         "import importlib.metadata as m, sys\n"
         "print('Python', sys.version.split()[0])\n"
         "for d in ['Django', 'gunicorn', 'waitress', 'uWSGI', 'mod_wsgi', 'uvicorn', 'whitenoise']:\n"
         "    try: print(d, m.version(d))\n"
         "    except Exception: print(d, 'missing')"],
        capture_output=True, text=True, check=False)
    httpd = subprocess.run(["sh", "-c", "apache2 -v 2>/dev/null | head -1"],
                           capture_output=True, text=True, check=False)
    return out.stdout.strip().replace("\n", ", ") + ", " + httpd.stdout.strip()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", default=os.path.join(REPO, "target/release/kubectl-warpdrive"))
    p.add_argument("--servers", default="gunicorn,waitress,uwsgi,django,uvicorn")
    p.add_argument("--processes", default="1,3")
    p.add_argument("--threads", type=int, default=5)
    args = p.parse_args()
    counts = sorted({int(c) for c in args.processes.split(",")})
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.uname().release}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print(f"# {versions()}")
    print(f"# MOD_WSGI_THREADS={args.threads}; each server served >= 8 parallel requests, "
          f"then {IDLE_SECONDS:.0f} s idle")
    summary = []
    for server in args.servers.split(","):
        totals = {}
        for processes in counts:
            if server == "waitress" and processes > 1:
                continue  # waitress is one process (a warning, then one)
            rows = measure(args, server, processes)
            for pid, r, (rss, pss, uss), cmd in rows:
                print(f"{server:9} P={processes} {r:8} pid {pid:<7} RSS {mib(rss):6.1f} "
                      f"PSS {mib(pss):6.1f} USS {mib(uss):6.1f} MiB  {cmd[:60]}")
            workers = [m for _, r, m, _ in rows if r == "worker"]
            if not workers:
                sys.exit(f"{server} P={processes}: no worker found")
            total = sum(m[1] for _, r, m, _ in rows if r != "launcher")
            totals[processes] = total
            summary.append((server, processes, len(workers),
                            sum(w[0] for w in workers) / len(workers),
                            sum(w[1] for w in workers) / len(workers),
                            sum(w[2] for w in workers) / len(workers),
                            total))
        if len(totals) > 1:
            lo, hi = min(totals), max(totals)
            slope = (totals[hi] - totals[lo]) / (hi - lo)
            summary.append((server, f"+1 ({lo}→{hi})", None, None, None, None, slope))
    print()
    print("| server | P | workers | worker RSS | worker PSS | worker USS | tree PSS (no launcher) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for server, procs, n, rss, pss, uss, total in summary:
        if n is None:
            print(f"| {server} | {procs} | | | | | {mib(total):.1f} MiB per extra process |")
        else:
            print(f"| {server} | {procs} | {n} | {mib(rss):.1f} | {mib(pss):.1f} | "
                  f"{mib(uss):.1f} | {mib(total):.1f} |")


if __name__ == "__main__":
    main()
