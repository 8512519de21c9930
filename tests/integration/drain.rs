//! The supervisor's graceful stop, on every server type: a slow request in
//! flight when SIGTERM arrives completes with 200, new connections during
//! the drain are served, then the server gets its own graceful stop signal.
//!
//! Deterministic: the slow request waits for a file the test creates (not a
//! sleep), the drain is long (60 s) and the test ends it with a second
//! SIGTERM, so no step races a timer. Each step waits for what the launcher
//! or the app says (the draining file, the "sending SIG…" line, the
//! in-flight marker), with a bound.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{self, ProcessGuard};

/// `/slow` marks itself in flight (`$DRAIN_DIR/inflight`), then waits for
/// `$DRAIN_DIR/release` (at most 60 s) and answers 200; `/` answers at once.
const SLOW_APP: &str = r#"import os, time

DIR = os.environ["DRAIN_DIR"]


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/slow":
        open(os.path.join(DIR, "inflight"), "w").close()
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(DIR, "release")):
            if time.monotonic() > deadline:
                start_response("504 Gateway Timeout", [("Content-Type", "text/plain")])
                return [b"never released"]
            time.sleep(0.02)
        body = b"slow done"
    else:
        body = b"fast"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
"#;

/// The same app for uvicorn: ASGI, waiting with `asyncio.sleep` so the
/// event loop keeps serving other connections.
const SLOW_ASGI: &str = r#"import asyncio, os, time

DIR = os.environ["DRAIN_DIR"]


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":
        open(os.path.join(DIR, "inflight"), "w").close()
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(DIR, "release")):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        body = b"slow done"
    else:
        body = b"fast"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
"#;

/// `app.sh` for the shell type: it `exec`s the threaded `app.py` below, so
/// the server is the process that gets the stop signal.
const APP_SH: &str = "#!/bin/sh\nexec python app.py\n";

/// `app.py`: the same app under a threaded wsgiref server (a request in
/// flight must not block the next connection).
const SERVE_PY: &str = r#"import os, sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import make_server, WSGIServer, WSGIRequestHandler
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slowapp

class Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

make_server("0.0.0.0", int(os.environ["WARPDRIVE_HTTP_PORT"]), slowapp.application,
            server_class=Threaded, handler_class=Quiet).serve_forever()
"#;

/// The safety net of each wait (hang detection, never the thing asserted),
/// stretched by [`support::slack`] on a loaded machine.
const BOUND: Duration = Duration::from_secs(30);

fn bound() -> Duration {
    support::slack(BOUND)
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    let bound = bound();
    while !cond() {
        assert!(start.elapsed() < bound, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One HTTP/1.0 GET on a new connection: the status, or `None` when the
/// connection is refused or cut.
fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(90))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

struct Server {
    name: &'static str,
    /// What the server logs once it took its graceful stop signal: the
    /// test releases the slow request only after that line, so the request
    /// is still in flight through the graceful stop. `None` (waitress, a
    /// plain `app.py`: no stop of theirs waits for requests) releases it
    /// during the drain, which is what protects them.
    graceful: Option<&'static str>,
}

fn app_for(server: &str, drain_dir: &Path) -> tempfile::TempDir {
    let dir = support::world_readable_tempdir();
    if server == "python" || server == "shell" {
        support::write(&dir.path().join("slowapp.py"), SLOW_APP);
        support::write(&dir.path().join("app.py"), SERVE_PY);
        if server == "shell" {
            support::write(&dir.path().join("app.sh"), APP_SH);
            support::set_mode(&dir.path().join("app.sh"), 0o755);
        }
    } else if server == "uvicorn" {
        support::write(&dir.path().join("asgi.py"), SLOW_ASGI);
    } else {
        support::write(&dir.path().join("wsgi.py"), SLOW_APP);
    }
    crate::apps::server_type(dir.path(), server);
    support::set_mode(drain_dir, 0o777); // Apache's user writes the marker
    dir
}

/// What one run showed, for the assertion messages and the README.
#[derive(Debug)]
struct Seen {
    in_flight: Option<u16>,
    served_during_drain: usize,
    exit: Option<i32>,
}

fn drain_one(server: &Server) -> Seen {
    let work = support::world_readable_tempdir();
    let drain_dir = work.path().join("d");
    std::fs::create_dir(&drain_dir).unwrap();
    let app = app_for(server.name, &drain_dir);
    let runtime = work.path().join("rt");
    let log = work.path().join("stderr");
    let port = support::free_port();
    let mut cmd = support::warpdrive();
    cmd.args(["exec", "--supervise", "--app-root"])
        .arg(app.path())
        .env("WARPDRIVE_HTTP_PORT", port.to_string())
        .env("WARPDRIVE_RUNTIME_DIR", &runtime)
        .env("WARPDRIVE_DRAIN_SECONDS", "60")
        .env("WARPDRIVE_STOP_TIMEOUT", "60")
        .env("DRAIN_DIR", &drain_dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut guard: ProcessGuard = support::spawn(&mut cmd);
    let stderr = || std::fs::read_to_string(&log).unwrap_or_default();
    let name = server.name;
    assert!(
        support::wait_for_200(port, "/", BOUND).is_some(),
        "{name} did not start:\n{}",
        stderr()
    );

    let ready = || {
        let out = support::warpdrive()
            .args(["ready", "--app-root"])
            .arg(app.path())
            .env("WARPDRIVE_RUNTIME_DIR", &runtime)
            .output()
            .unwrap();
        crate::support::Outcome::new("warpdrive ready".into(), out)
    };
    ready().success();
    let mut slow = Some(std::thread::spawn(move || get_status(port, "/slow")));
    let mut answer = || slow.take().and_then(|t| t.join().unwrap());
    wait_until("the slow request to be in flight", || {
        drain_dir.join("inflight").exists()
    });

    guard.signal(libc::SIGTERM);
    let draining = runtime.join("draining");
    wait_until("the draining file", || draining.exists());
    ready()
        .status(1)
        .stderr_has("warpdrive: not ready: draining after SIGTERM");
    let served_during_drain = (0..3)
        .filter(|_| get_status(port, "/") == Some(200))
        .count();

    let mut in_flight = None;
    if server.graceful.is_none() {
        // Released and answered within the drain, before any stop signal.
        std::fs::write(drain_dir.join("release"), "").unwrap();
        in_flight = answer();
    }
    // The second SIGTERM ends the drain: the stop signal goes out now.
    guard.signal(libc::SIGTERM);
    wait_until("the stop line", || stderr().contains("(its graceful stop)"));
    let in_flight = match (server.graceful, in_flight) {
        (Some(says), _) => {
            wait_until(says, || stderr().contains(says));
            std::fs::write(drain_dir.join("release"), "").unwrap();
            answer()
        }
        (None, answered) => answered,
    };
    let exit = guard.wait_timeout(BOUND).and_then(|s| s.code());
    let seen = Seen {
        in_flight,
        served_during_drain,
        exit,
    };
    eprintln!("{name}: {seen:?}");
    let log = stderr();
    assert_eq!(seen.in_flight, Some(200), "{name}: {seen:?}\n{log}");
    assert_eq!(seen.served_during_drain, 3, "{name}: {seen:?}\n{log}");
    assert!(seen.exit.is_some(), "{name} did not exit:\n{log}");
    assert!(
        log.contains("SIGTERM: not ready (") && log.contains("serving 60 s more"),
        "{name}: no drain line:\n{log}"
    );
    assert!(!draining.exists(), "{name}: the draining file stayed");
    seen
}

#[test]
fn gunicorn_drains_then_stops_gracefully() {
    let seen = drain_one(&Server {
        name: "gunicorn",
        graceful: Some("Handling signal: term"),
    });
    assert_eq!(seen.exit, Some(0), "{seen:?}");
}

#[test]
fn mod_wsgi_drains_then_stops_gracefully_with_sigwinch() {
    drain_one(&Server {
        name: "mod_wsgi",
        graceful: Some("caught SIGWINCH, shutting down gracefully"),
    });
}

#[test]
fn uwsgi_drains_then_stops_gracefully() {
    drain_one(&Server {
        name: "uwsgi",
        graceful: Some("graceful shutdown triggered"),
    });
}

#[test]
fn waitress_drains_then_stops_with_sigint() {
    drain_one(&Server {
        name: "waitress",
        graceful: None,
    });
}

#[test]
fn python_app_drains_then_gets_sigterm() {
    drain_one(&Server {
        name: "python",
        graceful: None,
    });
}

#[test]
fn uvicorn_drains_then_stops_gracefully() {
    let seen = drain_one(&Server {
        name: "uvicorn",
        graceful: Some("Shutting down"),
    });
    // uvicorn re-raises the SIGTERM it handled once its shutdown is done,
    // so it dies of it, and the launcher passes that on as 128 + 15.
    assert_eq!(seen.exit, Some(143), "{seen:?}");
}

#[test]
fn shell_app_drains_then_its_exec_gets_sigterm() {
    drain_one(&Server {
        name: "shell",
        graceful: None,
    });
}

/// With the drain left at a small value, the timer (not a second signal)
/// ends it; a server that ignores its stop signal is killed, process group
/// and all, after WARPDRIVE_STOP_TIMEOUT, and the launcher exits 137.
#[test]
fn the_drain_timer_then_the_stop_timeout_kill_a_server_that_ignores_the_signal() {
    let work = support::world_readable_tempdir();
    let runtime = work.path().join("rt");
    let log = work.path().join("stderr");
    // Ignores SIGTERM, and has a grandchild in its group.
    let script = "trap '' TERM; sleep 300 & echo started; wait";
    let mut cmd = support::warpdrive();
    cmd.args(["exec", "--supervise", "--", "sh", "-c", script])
        .env("WARPDRIVE_RUNTIME_DIR", &runtime)
        .env("WARPDRIVE_DRAIN_SECONDS", "0.2")
        .env("WARPDRIVE_STOP_TIMEOUT", "0.5")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut guard = support::spawn(&mut cmd);
    let mut line = [0u8; 8];
    guard
        .child()
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut line)
        .unwrap();
    let sleeper = grandchildren(guard.pid());
    assert!(!sleeper.is_empty(), "no sleep process");
    guard.signal(libc::SIGTERM);
    let status = guard
        .wait_timeout(BOUND)
        .expect("the launcher did not exit");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(137), "{text}");
    assert!(text.contains("serving 0.2 s more"), "{text}");
    assert!(
        text.contains("sending SIGTERM to sh (its graceful stop)"),
        "{text}"
    );
    assert!(
        text.contains("sh still runs 0.5 s after SIGTERM; killing its process group"),
        "{text}"
    );
    for pid in sleeper {
        wait_until("the grandchild to go", || {
            !Path::new(&format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .map(|s| s.contains(") Z "))
                    .unwrap_or(true)
        });
    }
}

/// The pids of the children of `pid`'s children.
fn grandchildren(pid: u32) -> Vec<u32> {
    let kids = |p: u32| -> Vec<u32> {
        std::fs::read_to_string(format!("/proc/{p}/task/{p}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect()
    };
    kids(pid).into_iter().flat_map(kids).collect()
}

#[test]
fn a_bad_drain_value_is_bad_input() {
    let out = support::warpdrive()
        .args(["exec", "--dry-run", "--", "true"])
        .env("WARPDRIVE_DRAIN_SECONDS", "5s")
        .output()
        .unwrap();
    crate::support::Outcome::new("exec".into(), out)
        .bad_input()
        .stderr_has("WARPDRIVE_DRAIN_SECONDS=\"5s\"");
}
