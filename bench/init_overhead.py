#!/usr/bin/env python3
"""Launcher overhead for the Django example after `kubectl warpdrive init`,
beside the same app in pure auto mode.

For each case: time to first HTTP 200 through `warpdrive exec`, minus the
same for the server started directly with the argv and environment the
launcher resolved (`warpdrive exec --dry-run -o json`). The cases and the
direct/launcher starts are interleaved in every round, so drift hits all
alike. Also times resolution alone (`warpdrive exec --dry-run`) with
hyperfine when it is installed.

Cases (copies of examples/hello-django, mod_wsgi-express):
  auto            no .warpdrive/: auto, settings read statically
  auto-import     no .warpdrive/, settings written so they cannot be read
                  statically: auto imports them with Python at every start
  init            after `kubectl warpdrive init --yes`: everything recorded

Usage (from the repo root, after `cargo build --release`):

    /opt/warpdrive-venv/bin/python bench/init_overhead.py [--runs N]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from launcher_overhead import BIN, REPO, base_env, free_port, timed_start  # noqa: E402

import json  # noqa: E402


def make_apps(work):
    apps = {}
    for name in ("auto", "auto-import", "init"):
        app = os.path.join(work, name)
        shutil.copytree(os.path.join(REPO, "examples", "hello-django"), app)
        apps[name] = app
    settings = os.path.join(apps["auto-import"], "hello", "settings.py")
    with open(settings) as f:
        text = f.read()
    text = text.replace("STATIC_ROOT = BASE_DIR / 'static'",
                        "STATIC_ROOT = str(BASE_DIR / 'static')")
    assert "str(BASE_DIR" in text
    with open(settings, "w") as f:
        f.write(text)
    subprocess.check_call(["chmod", "-R", "a+rX", work])
    env = base_env(free_port(), work)
    subprocess.check_call([BIN, "init", "--yes", "--app-root", apps["init"]],
                          env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return apps


def one(app, mode):
    port = free_port()
    runtime_dir = tempfile.mkdtemp(prefix="wd-bench-")
    os.chmod(runtime_dir, 0o755)
    env = base_env(port, runtime_dir)
    launcher = [BIN, "exec", "--app-root", app]
    try:
        if mode == "direct":
            plan = json.loads(subprocess.check_output(
                launcher + ["--dry-run", "-o", "json"], env=env, stderr=subprocess.DEVNULL))
            return timed_start(plan["argv"], dict(env, **plan["env"]), plan["cwd"], port)
        return timed_start(launcher, env, app, port)
    finally:
        shutil.rmtree(runtime_dir, ignore_errors=True)


def hyperfine(title, cmds, env, work):
    """Runs the commands interleaved-free with hyperfine and prints a
    median/min/mean table (medians resist the outliers of a shared machine)."""
    out = os.path.join(work, "hyperfine.json")
    argv = ["hyperfine", "-N", "--warmup", "5", "--runs", "300", "--style", "none",
            "--output", "null", "--export-json", out]
    for name, cmd in cmds:
        argv += ["-n", name, cmd]
    subprocess.check_call(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        results = json.load(f)["results"]
    print("\n%s, hyperfine, %d runs each:" % (title, len(results[0]["times"])))
    print("%-14s %10s %10s %10s" % ("case", "median", "min", "mean"))
    for r in results:
        print("%-14s %7.2f ms %7.2f ms %7.2f ms" % (
            r["command"], r["median"] * 1000, r["min"] * 1000, r["mean"] * 1000))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=15)
    args = p.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release")
    work = tempfile.mkdtemp(prefix="wd-bench-init-")
    os.chmod(work, 0o755)
    apps = make_apps(work)
    times = {name: {"direct": [], "launcher": []} for name in apps}
    for _ in range(args.runs):
        for name, app in apps.items():
            for mode in ("direct", "launcher"):
                times[name][mode].append(one(app, mode))
    print("time to first HTTP 200, %d interleaved rounds" % args.runs)
    print("%-12s %14s %14s %14s %12s %12s" % (
        "case", "median diff", "mean diff", "min-min diff", "direct med", "exec med"))
    for name, t in times.items():
        diffs = [(b - a) * 1000 for a, b in zip(t["direct"], t["launcher"])]
        print("%-12s %11.1f ms %11.1f ms %11.1f ms %9.0f ms %9.0f ms" % (
            name, statistics.median(diffs), statistics.mean(diffs),
            (min(t["launcher"]) - min(t["direct"])) * 1000,
            statistics.median(t["direct"]) * 1000, statistics.median(t["launcher"]) * 1000))
    if shutil.which("hyperfine"):
        env = base_env(free_port(), work)
        cmds = []
        for name, app in apps.items():
            cmds.append((name, "%s exec --dry-run --app-root %s" % (BIN, app)))
        hyperfine("resolution alone (warpdrive exec --dry-run)", cmds, env, work)
        # The whole launcher up to exec() of the server, without the server's
        # own start-up jitter: mod_wsgi-express on PATH is /bin/true.
        stub = os.path.join(work, "stub")
        os.mkdir(stub)
        os.symlink(shutil.which("true"), os.path.join(stub, "mod_wsgi-express"))
        env = dict(env, PATH=stub + ":" + env["PATH"])
        cmds = [("server alone", os.path.join(stub, "mod_wsgi-express"))]
        for name, app in apps.items():
            cmds.append((name, "%s exec --app-root %s" % (BIN, app)))
        hyperfine("whole launcher up to exec() of the server (mod_wsgi-express = /bin/true)",
                  cmds, env, work)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
