#!/usr/bin/env python3
"""Launcher overhead: time to first HTTP 200 through `warpdrive exec`, minus
the same for the server started directly with the argv and environment the
launcher resolved (taken from `warpdrive exec --dry-run -o json`). Runs are
interleaved (direct, launcher, direct, ...) so drift hits both alike.

Usage (from the repo root, after `cargo build --release`):

    /opt/warpdrive-venv/bin/python bench/launcher_overhead.py [--runs N]
        [--case NAME:APP_DIR[:SERVER_TYPE]] ...

Without --case it measures the bundled Django example in pure auto mode
(mod_wsgi-express) and with explicit gunicorn. Prints one line per case:
median and mean of the per-pair differences, and the two medians.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(REPO, "target", "release", "kubectl-warpdrive")
SUPPORT_MODULE = os.path.join(REPO, "src", "launcher", "support", "warpdrive_wsgi.py")
VENV_BIN = os.path.dirname(os.path.abspath(sys.executable))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_200(port, deadline):
    """Polls until GET / answers 200; returns the time it did."""
    request = b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(request)
                head = s.recv(64)
                if head.startswith(b"HTTP/1.") and head[9:12] == b"200":
                    return time.monotonic()
        except OSError:
            pass
        time.sleep(0.001)
    raise RuntimeError("no HTTP 200 on port %d" % port)


def timed_start(argv, env, cwd, port):
    t0 = time.monotonic()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=log,
                            start_new_session=True)
    try:
        return first_200(port, t0 + 60) - t0
    except RuntimeError:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace")[-3000:])
        raise
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def base_env(port, runtime_dir):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WARPDRIVE_", "MOD_WSGI_"))}
    env["PATH"] = VENV_BIN + ":" + env.get("PATH", "")
    env["WARPDRIVE_HTTP_PORT"] = str(port)
    env["WARPDRIVE_RUNTIME_DIR"] = runtime_dir
    return env


def measure(app, server_type, runs):
    launcher_args = [BIN, "exec", "--app-root", app]
    if server_type:
        launcher_args += ["--server-type", server_type]
    direct, through = [], []
    for _ in range(runs):
        for mode in ("direct", "launcher"):
            port = free_port()
            runtime_dir = tempfile.mkdtemp(prefix="wd-bench-")
            os.chmod(runtime_dir, 0o755)
            env = base_env(port, runtime_dir)
            if mode == "direct":
                plan = json.loads(subprocess.check_output(
                    launcher_args + ["--dry-run", "-o", "json"], env=env,
                    stderr=subprocess.DEVNULL))
                full_env = dict(env, **plan["env"])
                if "WARPDRIVE_WSGI_TARGET" in plan["env"]:
                    # The launcher writes its support module before starting
                    # the server; give the direct run the same file.
                    os.makedirs(os.path.join(runtime_dir, "python"))
                    shutil.copy(SUPPORT_MODULE, os.path.join(runtime_dir, "python"))
                direct.append(timed_start(plan["argv"], full_env, plan["cwd"], port))
            else:
                through.append(timed_start(launcher_args, env, app, port))
            shutil.rmtree(runtime_dir, ignore_errors=True)
    diffs = [(b - a) * 1000 for a, b in zip(direct, through)]
    return diffs, direct, through


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--case", action="append", default=[],
                   help="NAME:APP_DIR[:SERVER_TYPE]")
    args = p.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release")
    work = tempfile.mkdtemp(prefix="wd-bench-app-")
    os.chmod(work, 0o755)
    cases = []
    if args.case:
        for c in args.case:
            parts = c.split(":")
            cases.append((parts[0], parts[1], parts[2] if len(parts) > 2 else None))
    else:
        app = os.path.join(work, "hello-django")
        shutil.copytree(os.path.join(REPO, "examples", "hello-django"), app)
        subprocess.check_call(["chmod", "-R", "a+rX", work])
        cases = [("django auto (mod_wsgi)", app, None),
                 ("django gunicorn", app, "gunicorn")]
    print("%-28s %6s %14s %14s %12s %12s" % (
        "case", "runs", "median diff", "mean diff", "direct med", "exec med"))
    for name, app, server_type in cases:
        diffs, direct, through = measure(os.path.abspath(app), server_type, args.runs)
        print("%-28s %6d %11.1f ms %11.1f ms %9.0f ms %9.0f ms" % (
            name, len(diffs), statistics.median(diffs), statistics.mean(diffs),
            statistics.median(direct) * 1000, statistics.median(through) * 1000))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
