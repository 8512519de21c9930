//! Shared test support: the binary under test, the Python venv, temp apps,
//! free ports, process guards and HTTP helpers.
#![allow(dead_code)]

pub mod check;
pub use check::{Checked, Outcome, RunExt};

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Path of the real `kubectl-warpdrive` executable built by cargo, or
/// `$WARPDRIVE_TEST_BIN` when set (to run the tests against another build,
/// e.g. to see a new test fail on the binary before a fix).
pub fn bin() -> PathBuf {
    std::env::var_os("WARPDRIVE_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_kubectl-warpdrive")))
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv with the WSGI servers (made by `.ci/setup`).
pub fn venv() -> PathBuf {
    let dir = std::env::var_os("WARPDRIVE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/warpdrive-venv"));
    assert!(
        dir.join("bin/python").exists(),
        "no Python venv at {}: run `.ci/setup` first (or set WARPDRIVE_VENV)",
        dir.display()
    );
    dir
}

/// PATH with the venv first, as in a container image.
pub fn venv_path() -> String {
    format!(
        "{}:{}",
        venv().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The S2I image's and Heroku's variables (tests/integration/migration.rs),
/// never taken from the developer's environment.
pub const MIGRATION_VARIABLES: &[&str] = &[
    "APP_SCRIPT",
    "APP_FILE",
    "APP_MODULE",
    "APP_HOME",
    "APP_CONFIG",
    "GUNICORN_CMD_ARGS",
    "WEB_CONCURRENCY",
    "DISABLE_COLLECTSTATIC",
    "DISABLE_MIGRATE",
];

/// A command for the binary under test, with a clean, predictable
/// environment: the venv on PATH and no `WARPDRIVE_*`/`MOD_WSGI_*` (nor
/// [`MIGRATION_VARIABLES`]) leaking in from the developer's shell.
pub fn warpdrive() -> Command {
    let mut cmd = Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("WARPDRIVE_")
            || k.starts_with("MOD_WSGI_")
            || k == "KUBECONFIG"
            || k == "PORT"
            || MIGRATION_VARIABLES.contains(&k.as_str())
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("PATH", venv_path());
    cmd
}

/// A safety-net bound (hang detection) stretched for a loaded machine: `d`
/// times the run queue per core (the 1-minute load average over the cores,
/// rounded up, at least 1, at most 10), or times `WARPDRIVE_TEST_SLACK` when
/// that is set. Use it only for bounds that catch a hang and are never the
/// thing a test asserts: a passing test does not depend on it, a hung one is
/// still caught, and load average 10+ on 2 cores (shared CI machines, parallel
/// builds) no longer fails a test that is merely slow.
pub fn slack(d: Duration) -> Duration {
    let factor = std::env::var("WARPDRIVE_TEST_SLACK")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| {
            let load = std::fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|l| l.split_whitespace().next()?.parse::<f64>().ok())
                .unwrap_or(0.0);
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
            (load / cores).ceil()
        })
        .clamp(1.0, 10.0);
    d.mul_f64(factor)
}

/// Runs a command to completion with a timeout, returning its output. The
/// timeout is a safety net, stretched by [`slack`] on a loaded machine.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let timeout = slack(timeout);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.process_group(0);
    let child = cmd.spawn().expect("spawn");
    let guard = ProcessGuard::new(child);
    let pid = guard.pid();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let out = guard.into_child().wait_with_output().expect("wait");
        let _ = tx.send(());
        out
    });
    if rx.recv_timeout(timeout).is_err() {
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
        let out = waiter.join().expect("join");
        panic!(
            "command timed out after {timeout:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    waiter.join().expect("join")
}

/// Kills the child's whole process group when dropped, so a failing test
/// never leaves servers behind.
pub struct ProcessGuard {
    child: Option<Child>,
}

impl ProcessGuard {
    pub fn new(child: Child) -> Self {
        ProcessGuard { child: Some(child) }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("child")
    }

    pub fn into_child(mut self) -> Child {
        self.child.take().expect("child")
    }

    /// Sends a signal to the direct child only.
    pub fn signal(&self, sig: i32) {
        unsafe {
            libc::kill(self.pid() as i32, sig);
        }
    }

    /// Waits up to `timeout` (a hang net, stretched by [`slack`] on a loaded
    /// machine) for the child to exit; returns its status.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let timeout = slack(timeout);
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child().try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let pid = child.id() as i32;
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
                libc::kill(pid, libc::SIGKILL);
            }
            let _ = child.wait();
        }
    }
}

/// Spawns `cmd` in its own process group, guarded.
pub fn spawn(cmd: &mut Command) -> ProcessGuard {
    cmd.process_group(0);
    ProcessGuard::new(cmd.spawn().expect("spawn"))
}

/// A TCP port on 127.0.0.1 that nothing listens on, for a server the test starts.
///
/// The port comes from 10000–19999, below the kernel's ephemeral range
/// (`ip_local_port_range`, 32768–60999 here): a port the OS picks with
/// `bind(0)` is free only until the listener closes, and the kernel may then
/// give it to another test's outgoing connection before the server binds it.
/// This process never hands out the same port twice, and it starts at a point
/// that depends on its pid, so concurrent test runs start apart. (The test
/// control plane, `.ci/k8s`, picks its ports from 20000–31999.)
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 10_000;
    const COUNT: u32 = 10_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|p| p.parse::<u32>().ok())
        })
        .unwrap_or(32_768);
    assert!(
        ephemeral_low >= LOW + COUNT,
        "the ephemeral port range starts at {ephemeral_low}, inside the test range"
    );
    let start = std::process::id().wrapping_mul(7919) % COUNT;
    for _ in 0..COUNT {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (LOW + (start + n) % COUNT) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {LOW}..{}", LOW + COUNT);
}

/// A temp directory readable by every user (Apache's worker user must read
/// apps placed in it).
pub fn world_readable_tempdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("warpdrive-test-")
        .tempdir_in("/tmp")
        .expect("tempdir");
    set_mode(dir.path(), 0o755);
    dir
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Copies `examples/apps/<name>` (or any directory) into a fresh world-readable temp dir.
pub fn copy_app(src: &Path) -> tempfile::TempDir {
    let dir = world_readable_tempdir();
    copy_tree(src, dir.path());
    dir
}

pub fn copy_tree(src: &Path, dst: &Path) {
    for entry in std::fs::read_dir(src).expect("read_dir") {
        let entry = entry.expect("entry");
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let ft = entry.file_type().expect("file_type");
        if ft.is_dir() {
            if entry.file_name() == "__pycache__" {
                continue;
            }
            std::fs::create_dir_all(&to).expect("mkdir");
            set_mode(&to, 0o755);
            copy_tree(&from, &to);
        } else {
            std::fs::copy(&from, &to).expect("copy");
        }
    }
}

/// Writes a file (creating parent dirs), world-readable.
pub fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
    set_mode(path, 0o644);
}

/// Makes a file executable.
pub fn make_executable(path: &Path) {
    set_mode(path, 0o755);
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// An HTTP response: status and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// GET `http://127.0.0.1:port/path` with extra headers; `None` if no answer.
pub fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Option<Response> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = agent.get(format!("http://127.0.0.1:{port}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.call().ok()?;
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    Some(Response { status, body })
}

/// Polls GET until it answers 200 (or `timeout`, a hang net stretched by
/// [`slack`]), returning the response.
pub fn wait_for_200(port: u16, path: &str, timeout: Duration) -> Option<Response> {
    let timeout = slack(timeout);
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Some(r) = get(port, path, &[]) {
            if r.status == 200 {
                return Some(r);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// stdout and stderr of an output, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
