//! `warpdrive exec` as PID 1 (under `unshare --pid --fork`) and as a
//! supervisor (`--supervise`): signal forwarding, zombie reaping, exit
//! status, and plain `exec()` when neither applies.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{self, ProcessGuard, RunExt};

/// Records every forwardable signal it receives into `log`, one name per
/// line, and exits 0 on SIGTERM. Writes "ready <pid> <ppid>" first.
const RECORDER: &str = r#"
import os, signal, sys, time
log = sys.argv[1]
def record(line):
    with open(log, "a") as f:
        f.write(line + "\n")
def handler(num, frame):
    record(signal.Signals(num).name)
    if num == signal.SIGTERM:
        sys.exit(0)
for s in ("SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGTERM"):
    signal.signal(getattr(signal, s), handler)
record("ready %d %d" % (os.getpid(), os.getppid()))
while True:
    time.sleep(0.1)
"#;

fn unshare_available() -> bool {
    Command::new("unshare")
        .args(["--pid", "--fork", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// `unshare --pid --fork <warpdrive> exec [extra] -- cmd...`, guarded.
fn as_pid1(extra: &[&str], cmd: &[&str]) -> ProcessGuard {
    assert!(
        unshare_available(),
        "`unshare --pid --fork` does not work here (needs root or user namespaces)"
    );
    let mut c = Command::new("unshare");
    c.args(["--pid", "--fork"]).arg(support::bin()).arg("exec");
    c.args(extra).arg("--").args(cmd);
    strip_env(&mut c);
    support::spawn(&mut c)
}

fn strip_env(c: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("WARPDRIVE_") || k.starts_with("MOD_WSGI_") {
            c.env_remove(k);
        }
    }
    c.env("PATH", support::venv_path());
}

/// The (outer) pids of the children of `pid`.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The one child of `pid`, waiting for it to appear.
fn only_child(pid: u32) -> u32 {
    let start = Instant::now();
    loop {
        if let [c] = children(pid)[..] {
            return c;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no child of {pid}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The state letter (`R`, `S`, `Z`, …) of a process.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

fn wait_for_line(log: &Path, prefix: &str) -> String {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.starts_with(prefix)) {
            return l.to_string();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "no {prefix:?} line in {}: {:?}",
        log.display(),
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: plain kill(2).
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// Sends every forwardable signal to the supervisor and checks that the
/// child recorded each, SIGTERM last, and that the launcher then exits 0.
fn check_forwarding(guard: &mut ProcessGuard, supervisor: u32, log: &Path) {
    let sigs = [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGWINCH, "SIGWINCH"),
    ];
    for (sig, name) in sigs {
        signal(supervisor, sig);
        wait_for_line(log, name);
    }
    signal(supervisor, libc::SIGTERM);
    let status = guard
        .wait_timeout(Duration::from_secs(30))
        .expect("launcher did not exit after SIGTERM");
    assert_eq!(status.code(), Some(0), "{status:?}");
    let text = std::fs::read_to_string(log).unwrap();
    let got: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(
        got,
        ["SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGTERM"]
    );
}

fn recorder(dir: &Path) -> (String, String) {
    let script = dir.join("recorder.py");
    support::write(&script, RECORDER);
    let log = dir.join("signals.log");
    (script.display().to_string(), log.display().to_string())
}

#[test]
fn pid1_forwards_every_signal() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let mut guard = as_pid1(&[], &["python", &script, &log]);
    let supervisor = only_child(guard.pid());
    let ready = wait_for_line(Path::new(&log), "ready");
    // The child's parent is PID 1 of the new namespace: the launcher.
    assert!(
        ready.ends_with(" 1"),
        "child is not a child of PID 1: {ready}"
    );
    assert_eq!(children(supervisor).len(), 1);
    check_forwarding(&mut guard, supervisor, Path::new(&log));
}

#[test]
fn supervise_flag_forwards_every_signal() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let mut c = support::warpdrive();
    c.args(["exec", "--supervise", "--", "python", &script, &log]);
    let mut guard = support::spawn(&mut c);
    let ready = wait_for_line(Path::new(&log), "ready");
    let ppid: u32 = ready.rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(ppid, guard.pid(), "the launcher is not the child's parent");
    let supervisor = guard.pid();
    check_forwarding(&mut guard, supervisor, Path::new(&log));
}

/// Spawns 100 orphans (each `sleep 3` in a subshell that exits at once, so
/// it is re-parented to the supervisor), then waits to be killed.
const ORPHANS: &str =
    r#"for i in $(seq 100); do (sleep 3 &); done; echo spawned > "$1"; exec sleep 60"#;

fn check_reaping(supervisor: u32, marker: &Path) {
    wait_for_line(marker, "spawned");
    // The orphans really are the supervisor's children now…
    let adopted = children(supervisor).len();
    assert!(
        adopted > 50,
        "only {adopted} children adopted by the supervisor"
    );
    // …and once they exit, none is left as a zombie.
    let start = Instant::now();
    loop {
        let kids = children(supervisor);
        let zombies = kids.iter().filter(|&&p| state(p) == Some('Z')).count();
        if kids.len() == 1 && zombies == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} children left, {zombies} of them zombies",
            kids.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn pid1_reaps_100_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let m = marker.display().to_string();
    let guard = as_pid1(&[], &["sh", "-c", ORPHANS, "sh", &m]);
    let supervisor = only_child(guard.pid());
    check_reaping(supervisor, &marker);
}

#[test]
fn supervise_flag_reaps_100_orphans() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let m = marker.display().to_string();
    let mut c = support::warpdrive();
    c.args(["exec", "--supervise", "--", "sh", "-c", ORPHANS, "sh", &m]);
    let guard = support::spawn(&mut c);
    check_reaping(guard.pid(), &marker);
}

fn exit_of(guard: &mut ProcessGuard) -> Option<i32> {
    guard
        .wait_timeout(Duration::from_secs(20))
        .expect("launcher did not exit")
        .code()
}

#[test]
fn pid1_propagates_exit_status() {
    let mut g = as_pid1(&[], &["sh", "-c", "exit 7"]);
    assert_eq!(exit_of(&mut g), Some(7));
    let mut g = as_pid1(&[], &["sh", "-c", "kill -KILL $$"]);
    assert_eq!(exit_of(&mut g), Some(128 + 9));
    let mut g = as_pid1(&[], &["sh", "-c", "kill -TERM $$; sleep 5"]);
    assert_eq!(exit_of(&mut g), Some(128 + 15));
}

#[test]
fn supervise_flag_propagates_exit_status() {
    for (script, code) in [("exit 0", 0), ("exit 42", 42), ("kill -SEGV $$", 128 + 11)] {
        support::warpdrive()
            .args(["exec", "--supervise", "--", "sh", "-c", script])
            .run_within(Duration::from_secs(20))
            .status(code);
    }
}

#[test]
fn without_pid1_exec_replaces_the_launcher() {
    // `sh` prints its own pid and its parent's: with exec() the shell *is*
    // the process the test spawned, so $$ equals the spawned pid.
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("pid");
    let o = out_file.display().to_string();
    let mut c = support::warpdrive();
    c.args([
        "exec",
        "--",
        "sh",
        "-c",
        r#"echo $$ > "$1"; exit 3"#,
        "sh",
        &o,
    ]);
    let mut guard = support::spawn(&mut c);
    let pid = guard.pid();
    assert_eq!(exit_of(&mut guard), Some(3));
    let recorded: u32 = std::fs::read_to_string(&out_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        recorded, pid,
        "an extra process stayed between the launcher and the command"
    );
}

#[test]
fn missing_program_is_one_line_exit_2() {
    support::warpdrive()
        .args(["exec", "--", "no-such-program-wd"])
        .run_within(Duration::from_secs(20))
        .bad_input()
        .stderr_has("no-such-program-wd");
    // Same as PID 1.
    let mut g = as_pid1(&[], &["no-such-program-wd"]);
    assert_eq!(exit_of(&mut g), Some(2));
}

/// Watch mode (servers without a reloader of their own): editing a `.py`
/// file restarts the server, which then serves the new text; the launcher
/// says which file changed. Cache and hidden files do not restart it.
fn restart_on_edit(server: &str, app: tempfile::TempDir) {
    crate::apps::server_type(app.path(), server);
    let running = crate::exec::start(app.path(), &[("MOD_WSGI_RELOAD_ON_CHANGES", "1")], &[]);
    assert_eq!(running.get("/", &[]).body, "before edit");
    let pid_before = running.get("/pid", &[]).body;
    // Not source files: no restart.
    support::write(
        &app.path().join("__pycache__/message.cpython-311.py"),
        "x = 1\n",
    );
    support::write(&app.path().join(".hidden.py"), "x = 1\n");
    support::write(&app.path().join("notes.txt"), "x\n");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        running.get("/pid", &[]).body,
        pid_before,
        "restarted for a non-source file"
    );
    crate::apps::set_message(app.path(), "after edit");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(r) = support::get(running.port, "/", &[]) {
            if r.body == "after edit" {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{server}: edit not picked up\nlog:\n{}",
            running.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_ne!(running.get("/pid", &[]).body, pid_before, "same process");
    let log = running.log();
    assert_eq!(
        log.matches("warpdrive: message.py changed; restarting")
            .count(),
        1,
        "{log}"
    );
    let status = running.stop();
    assert!(status.code().is_some(), "{status:?}");
}

#[test]
fn watch_restarts_python_on_edit() {
    restart_on_edit("python", crate::apps::python_app("before edit"));
}

#[test]
fn watch_restarts_waitress_on_edit() {
    restart_on_edit("waitress", crate::apps::wsgi_module("before edit"));
}

/// A memory cgroup made for one test (v1 `memory` hierarchy or v2, below
/// the test's own cgroup), removed on drop.
struct TestCgroup {
    dir: std::path::PathBuf,
}

impl TestCgroup {
    /// Creates it with a memory limit of `mib`, or says why it cannot.
    fn create(mib: u64) -> Result<TestCgroup, String> {
        let own = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| e.to_string())?;
        let name = format!("warpdrive-oom-test-{}", std::process::id());
        let v1 = own.lines().find_map(|l| {
            let mut it = l.splitn(3, ':');
            let (_, names, path) = (it.next()?, it.next()?, it.next()?);
            names
                .split(',')
                .any(|n| n == "memory")
                .then(|| path.to_string())
        });
        let (parent, limit_file) = match v1 {
            Some(path) => (
                Path::new("/sys/fs/cgroup/memory").join(path.trim_start_matches('/')),
                "memory.limit_in_bytes",
            ),
            None => {
                let path = own
                    .lines()
                    .find_map(|l| l.strip_prefix("0::"))
                    .ok_or("no cgroup v2 line in /proc/self/cgroup")?;
                let parent = Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
                // The child needs the memory controller enabled by its parent.
                std::fs::write(parent.join("cgroup.subtree_control"), "+memory")
                    .map_err(|e| format!("cannot enable memory in {}: {e}", parent.display()))?;
                (parent, "memory.max")
            }
        };
        let dir = parent.join(name);
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let cg = TestCgroup { dir };
        std::fs::write(cg.dir.join(limit_file), (mib << 20).to_string())
            .map_err(|e| format!("cannot set {limit_file} in {}: {e}", cg.dir.display()))?;
        Ok(cg)
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // Empty once the guard has killed and reaped what ran in it.
        let start = Instant::now();
        while std::fs::remove_dir(&self.dir).is_err() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The supervisor logs one line naming the memory limit when the kernel
/// OOM-kills a process in its cgroup: a real cgroup with a 48 MiB limit,
/// made by the test, and a worker that allocates 200 MiB in it.
#[test]
fn an_oom_kill_in_the_cgroup_is_logged_with_the_limit() {
    let cg = TestCgroup::create(48).unwrap_or_else(|why| {
        panic!("this test needs a writable memory cgroup (root, cgroup v1 or v2): {why}")
    });
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr");
    let procs = cg.dir.join("cgroup.procs");
    let script = "python3 -c 'x = bytearray(200 << 20)'; echo allocated; exec sleep 60";
    let mut c = support::warpdrive();
    c.args(["exec", "--supervise", "--", "sh", "-c", script])
        .env("WARPDRIVE_RUNTIME_DIR", dir.path().join("rt"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    // SAFETY: between fork and exec only open/write/close, async-signal-safe;
    // the path is a CString made before the fork. Writing 0 moves the child
    // itself into the cgroup before the launcher starts.
    let procs_c = std::ffi::CString::new(procs.as_os_str().as_encoded_bytes()).unwrap();
    unsafe {
        c.pre_exec(move || {
            let fd = libc::open(procs_c.as_ptr(), libc::O_WRONLY);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let n = libc::write(fd, b"0".as_ptr().cast(), 1);
            libc::close(fd);
            if n != 1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let guard = support::spawn(&mut c);
    let start = Instant::now();
    let line = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.contains("out of memory")) {
            break l.to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no OOM line in 30 s:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!("{line}");
    assert!(
        line.starts_with("warpdrive: out of memory: the kernel killed 1 process that went past the container's memory limit of 48 MiB"),
        "{line}"
    );
    assert!(line.contains(&format!("in {}", cg.dir.display())), "{line}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        text.matches("out of memory").count(),
        1,
        "one line per kill:\n{text}"
    );
    drop(guard);
}
