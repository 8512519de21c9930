//! Running a [`Plan`]: `exec()` it, or supervise it as PID 1.
//!
//! Three modes, chosen by [`run`]:
//!
//! * **exec**: not PID 1, no `--supervise`, no watch: the launcher replaces
//!   itself with the server (`execvp` semantics), so no extra process stays
//!   behind.
//! * **supervise**: PID 1 (or `--supervise`): the launcher spawns the server
//!   in its own process group and stays as a tiny supervisor, like `tini`:
//!   it forwards SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to the
//!   child, stops it on SIGTERM/SIGINT with a drain, the server's own
//!   graceful stop signal and a SIGKILL of the group after a timeout (the
//!   rules, and their tests, are in [`drain`](super::drain)), reaps every
//!   zombie (orphans are re-parented to PID 1; when not PID 1 the launcher
//!   makes itself a child subreaper so the same holds), logs a line each
//!   time the kernel OOM-kills a process in its cgroup (see
//!   [`cgroup::OomWatch`]), and returns the child's exit status, 128+N when
//!   signal N killed it. The loop is one `sigtimedwait` in one thread.
//! * **watch**: the plan has a [`WatchSpec`]: supervise as above, and also
//!   restart the child when a watched source file changes (the rules, and
//!   their tests, are in [`restart`](super::restart)). In this mode the child runs in its own process
//!   group; forwarded signals and restarts go to the whole group, so an
//!   `app.sh` that does not `exec` its server cannot leave the old server
//!   holding the port. One line on stderr names the file behind each
//!   restart. A child that exits by itself is started again on the next
//!   change.
//!
//! Memory: in PID-1 mode the supervisor drops what start-up left resident
//! (see `release_startup_memory`); `bench/pid1_rss.sh` compares it with
//! Debian's `tini`. Measured here (16 MB release build, 7 runs, medians):
//! VmRSS 880 kB for warpdrive against 1292 kB for tini; the start-up peak
//! (VmHWM, about what it held before trimming) is higher, 5.9 MB against
//! 1.3 MB. What stays is mostly the relocated constants of the
//! position-independent binary (≈390 kB, RELRO) and the libc pages the loop
//! uses. (Re-executing itself into a fresh image before spawning lowered
//! the peak only to ≈4.2 MB, since loading the binary alone reads its
//! relocations and faults in code around every call, so it was not kept.)

use std::collections::VecDeque;
use std::convert::Infallible;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, killpg, sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::cgroup::{self, OomWatch};
use super::drain::{self, Drain};
use super::error::Error;
use super::plan::{Plan, WatchSpec};
use super::restart::{self, Action, Input, Restarts};
use super::text_busy;

/// Signals forwarded to the child.
pub const FORWARDED: [Signal; 7] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// How often the supervisor reads the cgroup's OOM-kill counter.
pub const OOM_POLL: Duration = Duration::from_secs(1);

/// What the supervisor needs besides the plan.
#[derive(Debug, Clone)]
pub struct Supervision {
    /// The stop sequence (drain, stop signal, stop timeout).
    pub stop: drain::Settings,
    /// Created when the drain starts (see `dirs::draining_file`).
    pub draining_file: PathBuf,
    /// Where the cgroup files are (`cgroup::root`).
    pub cgroup_root: PathBuf,
}

/// Runs the plan: `exec()`s it, or supervises it (PID 1, `supervise`, or a
/// watch spec). Returns the exit code the launcher should exit with; in exec
/// mode it only returns on error.
pub fn run(plan: &Plan, supervise: bool, how: &Supervision) -> Result<i32, Error> {
    let program = resolve_program(plan)?;
    let pid1 = nix::unistd::getpid().as_raw() == 1;
    if let Some(watch) = &plan.watch {
        return watch_loop(plan, &program, watch, pid1);
    }
    if !pid1 && !supervise {
        // exec() returns only on failure; a program written a moment ago
        // may be busy for a moment (see `text_busy`).
        let mut cmd = command(plan, &program);
        let err = match text_busy::retry(|| Err::<Infallible, _>(cmd.exec())) {
            Err(e) => e,
            Ok(never) => match never {},
        };
        return Err(exec_error(&plan.argv[0], &program, err));
    }
    supervise_loop(plan, &program, pid1, how)
}

/// Finds `argv[0]` the way `execvp` would, with PATH taken from the plan's
/// environment if it sets one, relative names and PATH entries taken from
/// the plan's cwd. Returns an absolute path (the child still sees the
/// original `argv[0]`). A missing program is bad input (exit 2).
fn resolve_program(plan: &Plan) -> Result<PathBuf, Error> {
    let name = plan
        .argv
        .first()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| Error::bad("nothing to run: the command is empty"))?;
    if !plan.cwd.is_dir() {
        return Err(Error::bad(format!(
            "{}: no such directory; set --app-root to the application directory",
            plan.cwd.display()
        )));
    }
    let cwd = std::path::absolute(&plan.cwd)
        .map_err(|e| Error::io(format!("{}", plan.cwd.display()), e))?;
    if name.contains('/') {
        let path = cwd.join(name);
        if path.is_file() {
            return Ok(path);
        }
        return Err(Error::bad(format!(
            "{name}: no such file (relative to {}); check the command",
            plan.cwd.display()
        )));
    }
    let path_var: OsString = match plan.env.get("PATH") {
        Some(p) => p.into(),
        None => std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into()),
    };
    let mut not_executable = None;
    for dir in std::env::split_paths(&path_var) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let candidate = cwd.join(&dir).join(name);
        if !candidate.is_file() {
            continue;
        }
        if nix::unistd::access(&candidate, nix::unistd::AccessFlags::X_OK).is_ok() {
            return Ok(candidate);
        }
        not_executable.get_or_insert(candidate);
    }
    Err(match not_executable {
        Some(p) => Error::bad(format!(
            "{}: not executable; chmod +x it or fix PATH",
            p.display()
        )),
        None => Error::bad(format!(
            "{name}: command not found on PATH; install it or put its directory on PATH"
        )),
    })
}

/// The command for the plan: inherited environment plus the plan's
/// variables, the plan's cwd, and the original `argv[0]`.
fn command(plan: &Plan, program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.arg0(&plan.argv[0])
        .args(&plan.argv[1..])
        .envs(&plan.env)
        .current_dir(&plan.cwd);
    cmd
}

fn exec_error(name: &str, program: &Path, err: std::io::Error) -> Error {
    match err.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ENOENT) => Error::bad(format!(
            "{name}: command not found ({}); install it or fix PATH",
            program.display()
        )),
        Some(Errno::EACCES) => Error::bad(format!(
            "{}: permission denied; chmod +x it",
            program.display()
        )),
        Some(Errno::ENOEXEC) => Error::bad(format!(
            "{}: not a program; add a #! line (for example #!/bin/sh)",
            program.display()
        )),
        _ => Error::io(format!("cannot run {name}"), err),
    }
}

fn signal_set(with_child: bool) -> SigSet {
    let mut set = SigSet::empty();
    for sig in FORWARDED {
        set.add(sig);
    }
    if with_child {
        set.add(Signal::SIGCHLD);
    }
    set
}

/// The pid and exit code of a child that ended, shell style (128+N when
/// signal N killed it). `None` if the process is still there
/// (stopped/continued).
fn child_exit(status: WaitStatus) -> Option<(Pid, i32)> {
    match status {
        WaitStatus::Exited(pid, code) => Some((pid, code)),
        WaitStatus::Signaled(pid, sig, _) => Some((pid, 128 + sig as i32)),
        _ => None,
    }
}

/// Reaps every exited child without blocking; returns the exit code of
/// `main` if it was among them.
fn reap_all(main: Option<Pid>) -> Option<i32> {
    let mut main_code = None;
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return main_code,
            Err(Errno::EINTR) => continue,
            Err(_) => return main_code,
            Ok(status) => {
                if let Some((pid, code)) = child_exit(status) {
                    if Some(pid) == main {
                        main_code = Some(code);
                    }
                }
            }
        }
    }
}

/// Blocks the forwarded signals and SIGCHLD in this thread (inherited by
/// threads started afterwards) so they queue up for `sigwait`, even as PID 1
/// where signals with the default action would otherwise be dropped.
/// Returns the set and the mask from before, which the child gets back.
fn block_signals() -> Result<(SigSet, SigSet), Error> {
    let set = signal_set(true);
    let old = set
        .thread_swap_mask(SigmaskHow::SIG_BLOCK)
        .map_err(|e| Error::io("cannot block signals", e.into()))?;
    Ok((set, old))
}

/// Gives the child the signal mask the launcher started with (std's spawn
/// would otherwise pass on the blocked set).
fn restore_mask_in_child(cmd: &mut Command, mask: SigSet) {
    // SAFETY: the closure runs between fork and exec and only calls
    // sigprocmask, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&mask), None)?;
            Ok(())
        });
    }
}

fn become_subreaper(pid1: bool) {
    if !pid1 {
        // Orphans of the child are re-parented to us instead of to init, so
        // that we reap them as PID 1 would. Best effort (Linux ≥ 3.4).
        let _ = nix::sys::prctl::set_child_subreaper(true);
    }
}

fn spawn(cmd: &mut Command, plan: &Plan, program: &Path) -> Result<Pid, Error> {
    let child =
        text_busy::retry(|| cmd.spawn()).map_err(|e| exec_error(&plan.argv[0], program, e))?;
    Ok(Pid::from_raw(child.id() as i32))
}

/// Waits for one of `set`'s signals until `deadline`; `None` when it passed
/// (or the wait was interrupted: the caller's state ignores early ticks).
fn wait_signal(set: &SigSet, deadline: Option<Instant>) -> Result<Option<Signal>, Error> {
    let Some(deadline) = deadline else {
        return match set.wait() {
            Ok(sig) => Ok(Some(sig)),
            Err(Errno::EINTR) => Ok(None),
            Err(e) => Err(Error::io("sigwait", e.into())),
        };
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let timeout = nix::libc::timespec {
        tv_sec: left.as_secs().min(i32::MAX as u64) as nix::libc::time_t,
        tv_nsec: left.subsec_nanos() as nix::libc::c_long,
    };
    // SAFETY: sigtimedwait reads the set and the timeout, and writes no
    // siginfo (null).
    let n = unsafe { nix::libc::sigtimedwait(set.as_ref(), std::ptr::null_mut(), &timeout) };
    if n < 0 {
        return match Errno::last() {
            Errno::EAGAIN | Errno::EINTR => Ok(None),
            e => Err(Error::io("sigtimedwait", e.into())),
        };
    }
    Ok(Signal::try_from(n).ok())
}

/// The earlier of two optional instants.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// PID-1 mode: spawn, forward, stop with a drain, reap, watch for OOM
/// kills, return the child's status. The decisions are [`Drain`]'s.
fn supervise_loop(
    plan: &Plan,
    program: &Path,
    pid1: bool,
    how: &Supervision,
) -> Result<i32, Error> {
    let (set, old_mask) = block_signals()?;
    become_subreaper(pid1);
    // A file left by an earlier run in the same runtime directory would
    // say "draining" from the start.
    let _ = std::fs::remove_file(&how.draining_file);
    let mut oom = OomWatch::open(&how.cgroup_root, &cgroup::Membership::current());
    let mut cmd = command(plan, program);
    // Its own group, so that the final SIGKILL reaches what it started.
    cmd.process_group(0);
    restore_mask_in_child(&mut cmd, old_mask);
    let child = spawn(&mut cmd, plan, program)?;
    let started = Instant::now();
    release_startup_memory();
    let name = &plan.argv[0];
    let mut state = Drain::new(how.stop);
    let mut next_oom = Instant::now() + OOM_POLL;
    let mut stop_sent: Option<Signal> = None;
    loop {
        let oom_at = oom.as_ref().map(|_| next_oom);
        let input = match wait_signal(&set, earliest(state.deadline(), oom_at))? {
            Some(sig) => drain::Input::Signal(sig),
            None => drain::Input::Tick,
        };
        if let Some(w) = oom.as_mut() {
            if Instant::now() >= next_oom {
                next_oom = Instant::now() + OOM_POLL;
                if let Some(line) = w.check() {
                    eprintln!("{line}");
                }
            }
        }
        let mut actions = VecDeque::from(state.on(input, Instant::now()));
        while let Some(action) = actions.pop_front() {
            match action {
                drain::Action::NotReady(for_how_long) => {
                    let marked = std::fs::write(&how.draining_file, b"");
                    if !for_how_long.is_zero() {
                        eprintln!(
                            "warpdrive: SIGTERM: not ready{}; serving {} s more before stopping {name} \
                             (WARPDRIVE_DRAIN_SECONDS)",
                            match marked {
                                Ok(()) => format!(" ({} exists)", how.draining_file.display()),
                                Err(e) => format!(
                                    " (cannot create {}: {e})",
                                    how.draining_file.display()
                                ),
                            },
                            secs(for_how_long)
                        );
                    }
                }
                drain::Action::Forward(sig) => {
                    let _ = kill(child, sig);
                }
                drain::Action::Stop(sig) => {
                    eprintln!(
                        "warpdrive: sending {} to {name} (its graceful stop); SIGKILL in {} s \
                         (WARPDRIVE_STOP_TIMEOUT)",
                        sig.as_str(),
                        secs(how.stop.stop_timeout)
                    );
                    stop_sent = Some(sig);
                    let _ = kill(child, sig);
                }
                drain::Action::Kill => {
                    eprintln!(
                        "warpdrive: {name} still runs {} s after {}; killing its process group",
                        secs(how.stop.stop_timeout),
                        stop_sent.map(Signal::as_str).unwrap_or("the stop signal")
                    );
                    let _ = killpg(child, Signal::SIGKILL);
                }
                drain::Action::Reap => {
                    if let Some(code) = reap_all(Some(child)) {
                        actions.extend(state.on(drain::Input::ChildExited(code), Instant::now()));
                    }
                }
                drain::Action::Exit(code) => {
                    if let Some(line) = oom.as_mut().and_then(OomWatch::check) {
                        eprintln!("{line}");
                    }
                    if state.stopping() {
                        let _ = std::fs::remove_file(&how.draining_file);
                    } else if code == 0 && plan.server_type.is_some() {
                        // (`exec -- CMD` runs a command, not a server.)
                        eprintln!("{}", no_server_warning(name, started.elapsed()));
                    }
                    return Ok(code);
                }
            }
        }
    }
}

/// The warning for a server (typically an `app.py` that only defines the
/// app, or runs once) that exited with status 0 before anything asked it to
/// stop: it serves nothing, and in a pod the container restarts in a loop
/// with nothing in its log but this line. Only the supervisor (PID 1, as in
/// a pod, or `--supervise`) outlives the server to say it.
fn no_server_warning(name: &str, after: Duration) -> String {
    format!(
        "warpdrive: warning: {name} exited with status 0 after {} s without being asked to \
         stop, so it started no server; an app.py must serve on $PORT itself (e.g. \
         app.run(host=\"0.0.0.0\", port=int(os.environ[\"PORT\"]))), or set a server type that \
         serves its app (gunicorn, mod_wsgi, ...); in a pod this is a crash loop",
        secs(after)
    )
}

fn secs(d: Duration) -> String {
    let s = format!("{:.1}", d.as_secs_f64());
    s.trim_end_matches(".0").to_string()
}

/// Shrinks the supervisor's resident set once the child runs, so PID 1
/// costs no more memory than `tini` (see `bench/pid1_rss.sh`). Everything
/// here is an optimisation; failures are ignored.
///
/// * `malloc_trim` returns the free heap left over from argument parsing
///   and plan resolution.
/// * Read-only file mappings (this binary's code and constants, libc's)
///   that hold no private copies are dropped from the page tables with
///   `MADV_DONTNEED`: the start-up code touched (and the kernel's
///   fault-around mapped) megabytes of them, while the loop needs a few
///   pages, which fault back in from the page cache. Mappings with
///   anonymous (copied-on-write, e.g. relocated) pages are left alone,
///   because `MADV_DONTNEED` would throw those copies away.
/// * The part of the main thread's stack below the current frame, touched
///   once by start-up, is released the same way (it reads back as zeros,
///   which nothing below the live frames depends on).
///
/// Only call this while the process has a single thread.
fn release_startup_memory() {
    // SAFETY: malloc_trim only releases free heap memory to the OS.
    unsafe {
        nix::libc::malloc_trim(0);
    }
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    let here = stack_pointer();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut current: Option<(usize, usize, bool)> = None; // start, end, droppable
    let push = |m: Option<(usize, usize, bool)>, ranges: &mut Vec<(usize, usize)>| {
        if let Some((start, end, true)) = m {
            ranges.push((start, end));
        }
    };
    for line in smaps.lines() {
        if let Some(kb) = line.strip_prefix("Anonymous:") {
            if kb.trim().trim_end_matches("kB").trim() != "0" {
                if let Some(m) = current.as_mut() {
                    m.2 = false;
                }
            }
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((start, end)) = range.split_once('-').and_then(|(a, b)| {
            Some((
                usize::from_str_radix(a, 16).ok()?,
                usize::from_str_radix(b, 16).ok()?,
            ))
        }) else {
            continue; // a field line such as "Rss: 4 kB"
        };
        push(current.take(), &mut ranges);
        let path = fields.nth(3).unwrap_or("");
        if path == "[stack]" && start < here && here < end {
            // Keep 64 KiB below the current frame for this function's callees.
            let keep_from = (here.saturating_sub(64 * 1024)) & !(page_size() - 1);
            if keep_from > start {
                ranges.push((start, keep_from));
            }
        } else if path.starts_with('/') && !perms.contains('w') && perms.ends_with('p') {
            current = Some((start, end, true));
        }
    }
    push(current.take(), &mut ranges);
    drop(smaps);
    for (start, end) in ranges {
        if let Some(addr) = std::ptr::NonNull::new(start as *mut std::ffi::c_void) {
            // SAFETY: the range is a whole private read-only file mapping
            // without private copies, or unused stack below the live frames;
            // its contents are restored from the file (or are dead) on the
            // next access.
            unsafe {
                let _ = nix::sys::mman::madvise(
                    addr,
                    end - start,
                    nix::sys::mman::MmapAdvise::MADV_DONTNEED,
                );
            }
        }
    }
    // The vector of ranges was freed; give that page back too.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

#[inline(never)]
fn stack_pointer() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

fn page_size() -> usize {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map(|n| n as usize)
        .unwrap_or(4096)
}

/// Watch mode: supervise, and restart the child on source changes. The
/// decisions are [`Restarts`]'s; this carries them out.
fn watch_loop(plan: &Plan, program: &Path, watch: &WatchSpec, pid1: bool) -> Result<i32, Error> {
    use notify::Watcher;

    let (set, old_mask) = block_signals()?;
    become_subreaper(pid1);
    let (tx, rx) = mpsc::channel::<Input>();

    let sig_tx = tx.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || loop {
            match set.wait() {
                Ok(sig) => {
                    if sig_tx.send(Input::Signal(sig)).is_err() {
                        return;
                    }
                }
                Err(Errno::EINTR) => {}
                Err(_) => return,
            }
        })
        .map_err(|e| Error::io("cannot start the signal thread", e))?;

    let root = watch
        .root
        .canonicalize()
        .map_err(|e| Error::io(format!("cannot watch {}", watch.root.display()), e))?;
    let (w_root, suffixes) = (root.clone(), watch.suffixes.clone());
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(ev) = res else { return };
        if !restart::is_change(&ev.kind) {
            return;
        }
        for p in ev.paths {
            if restart::is_watched(&w_root, &suffixes, &p) {
                let _ = tx.send(Input::Changed(p));
            }
        }
    })
    .map_err(|e| Error::io("cannot start the file watcher", std::io::Error::other(e)))?;
    watcher
        .watch(&root, notify::RecursiveMode::Recursive)
        .map_err(|e| {
            Error::io(
                format!("cannot watch {}", root.display()),
                std::io::Error::other(e),
            )
        })?;

    let start = |plan: &Plan| -> Result<Pid, Error> {
        let mut cmd = command(plan, program);
        cmd.process_group(0);
        restore_mask_in_child(&mut cmd, old_mask);
        spawn(&mut cmd, plan, program)
    };

    let mut child = Some(start(plan)?);
    let mut state = Restarts::started();
    loop {
        let now = Instant::now();
        let input = match state.deadline(now) {
            Some(d) => match rx.recv_timeout(d.saturating_duration_since(now)) {
                Ok(input) => input,
                Err(mpsc::RecvTimeoutError::Timeout) => Input::Tick,
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(closed()),
            },
            None => rx.recv().map_err(|_| closed())?,
        };
        let mut actions = VecDeque::from(state.on(input, Instant::now()));
        while let Some(action) = actions.pop_front() {
            match action {
                Action::Signal(sig) => {
                    if let Some(pid) = child {
                        let _ = killpg(pid, sig);
                    }
                }
                Action::Reap => {
                    if let Some(code) = reap_all(child) {
                        if let Some(old) = child.take() {
                            // Stragglers of the old server (an app.sh that did not exec it).
                            let _ = killpg(old, Signal::SIGKILL);
                        }
                        actions.extend(state.on(Input::ChildExited(code), Instant::now()));
                    }
                }
                Action::Start { file, restart } => {
                    eprintln!(
                        "warpdrive: {} changed; {} {}",
                        display_rel(&root, &file),
                        if restart { "restarting" } else { "starting" },
                        plan.argv[0]
                    );
                    child = Some(start(plan)?);
                }
                Action::Waiting(code) => eprintln!(
                    "warpdrive: {} exited with status {code}; waiting for a source change to restart it",
                    plan.argv[0]
                ),
                Action::Exit(code) => return Ok(code),
            }
        }
    }
}

fn closed() -> Error {
    Error::io("watch loop", std::io::Error::other("event channel closed"))
}

fn display_rel(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_exits() {
        let p = Pid::from_raw(7);
        assert_eq!(child_exit(WaitStatus::Exited(p, 3)), Some((p, 3)));
        assert_eq!(
            child_exit(WaitStatus::Signaled(p, Signal::SIGKILL, false)),
            Some((p, 137))
        );
        assert_eq!(child_exit(WaitStatus::StillAlive), None);
    }

    fn plan(argv: &[&str]) -> Plan {
        Plan {
            server_type: Some(crate::launcher::server_type::ServerType::Shell),
            reason: "test".into(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            env: Default::default(),
            cwd: std::env::temp_dir(),
            watch: None,
            src_root: std::env::temp_dir(),
            hook_env: Default::default(),
        }
    }

    #[test]
    fn missing_program_is_bad_input() {
        let err = resolve_program(&plan(&["no-such-program-xyz"])).unwrap_err();
        assert!(matches!(err, Error::BadInput(_)), "{err}");
        assert!(err.to_string().contains("no-such-program-xyz"), "{err}");
        assert!(resolve_program(&plan(&["sh"])).is_ok());
    }

    #[test]
    fn programs_resolve_from_the_plan_cwd_to_absolute_paths() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        for (name, mode) in [("run.sh", 0o755), ("bin/tool", 0o755), ("bin/data", 0o644)] {
            let p = dir.path().join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let mut p = plan(&["./run.sh"]);
        p.cwd = dir.path().to_path_buf();
        assert_eq!(resolve_program(&p).unwrap(), dir.path().join("./run.sh"));
        p.argv = vec!["tool".into()];
        p.env.insert("PATH".into(), "bin:/usr/bin".into());
        assert_eq!(resolve_program(&p).unwrap(), dir.path().join("bin/tool"));
        p.argv = vec!["data".into()];
        let err = resolve_program(&p).unwrap_err().to_string();
        assert!(err.contains("bin/data: not executable"), "{err}");
        p.argv = vec!["./missing.sh".into()];
        assert!(matches!(resolve_program(&p), Err(Error::BadInput(_))));
    }
}
