//! Hostile input, each case reproduced against the real binary (issue 11,
//! items 14–18): values that would reach mod_wsgi-express's generated shell
//! script, odd files in `.warpdrive/`, a closed stdout, and `init` asked to
//! write through symlinks. The proxy-header cases live in `middleware.rs`.
//!
//! `WARPDRIVE_TEST_BIN=/path/to/old/kubectl-warpdrive cargo test --test
//! integration hostile::` runs them against another build.

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::{self, Checked, Outcome};

/// A small WSGI app (`wsgi.py`), world-readable, for Apache's worker user.
fn wsgi_app() -> tempfile::TempDir {
    let dir = support::world_readable_tempdir();
    support::write(
        &dir.path().join("wsgi.py"),
        "def application(environ, start_response):\n    \
         start_response('200 OK', [('Content-Type', 'text/plain')])\n    \
         return [b'ok']\n",
    );
    dir
}

fn exec_in(app: &Path) -> Command {
    let mut cmd = support::warpdrive();
    cmd.arg("exec").arg("--app-root").arg(app);
    cmd
}

// ------------------------------------------------------------ closed stdout

/// Runs `cmd` with its stdout a pipe nobody reads (the read end is closed
/// before the command starts), as `cmd | true` after `true` exited.
fn run_with_closed_stdout(cmd: &mut Command) -> Outcome {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped());
    let mut guard = support::spawn(cmd);
    let mut stderr = guard.child().stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut text);
        text
    });
    let status = guard
        .wait_timeout(Duration::from_secs(60))
        .expect("the command did not finish with a closed stdout");
    let stderr = reader.join().expect("stderr reader");
    Output {
        status,
        stdout: Vec::new(),
        stderr,
    }
    .check()
}

#[test]
fn a_closed_stdout_ends_exec_dry_run_quietly() {
    let app = wsgi_app();
    for extra in [&[][..], &["-o", "json"][..]] {
        run_with_closed_stdout(exec_in(app.path()).arg("--dry-run").args(extra))
            .success()
            .stderr_lacks("panicked")
            .stderr_lacks("error");
    }
}

#[test]
fn a_closed_stdout_ends_init_quietly_and_init_still_writes() {
    let app = wsgi_app();
    let mut dry = support::warpdrive();
    dry.arg("init")
        .arg("--app-root")
        .arg(app.path())
        .args(["--yes", "--dry-run"]);
    run_with_closed_stdout(&mut dry)
        .success()
        .stderr_lacks("panicked");
    let mut init = support::warpdrive();
    init.arg("init")
        .arg("--app-root")
        .arg(app.path())
        .arg("--yes");
    run_with_closed_stdout(&mut init)
        .success()
        .stderr_lacks("panicked");
    assert!(app.path().join(".warpdrive/server_type").is_file());
}

#[test]
fn a_closed_stdout_ends_tune_local_and_list_quietly() {
    let manifest = support::repo().join("tests/integration/manifests/simple.yaml");
    for args in [&["--threads", "4"][..], &["--list"][..]] {
        let mut cmd = support::warpdrive();
        cmd.args(["tune", "--local", "-f"])
            .arg(&manifest)
            .args(args);
        run_with_closed_stdout(&mut cmd)
            .success()
            .stderr_lacks("panicked");
    }
}
