//! Watch mode's decisions, without processes or clocks: which file changes
//! count, and [`Restarts`], the state of a supervisor that restarts its
//! child on source changes. `runtime` feeds it what happened (a signal, a
//! changed file, a timeout, the child's exit) with the current time, and
//! carries out the [`Action`]s it returns.
//!
//! The rules:
//! * a change waits until the tree has been quiet for [`DEBOUNCE`], then the
//!   running child gets SIGTERM; once it has exited it is started again. A
//!   child still there [`STOP_GRACE`] after the SIGTERM gets SIGKILL;
//! * a child that exits on its own (a syntax error, say) is not restarted
//!   until the next change;
//! * signals are forwarded to the child; after SIGTERM, SIGINT, SIGQUIT or
//!   SIGHUP the next exit of the child ends the launcher with its status,
//!   and changes are ignored. The same signals received while no child
//!   runs end the launcher at once with 128+signal.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

/// After a change, wait until the tree has been quiet this long before
/// restarting (editors and `oc rsync` write several files in a burst).
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// How long a child gets to exit after SIGTERM on a restart before its
/// process group is killed with SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// How often to look for the old child's exit while a restart waits for it
/// (so that a lost SIGCHLD cannot stall a restart).
pub const POLL: Duration = Duration::from_millis(50);

/// True if `path` (below `root`) is a source file whose change should
/// restart the server: it ends in one of `suffixes` and is not in a cache,
/// VCS or hidden directory, nor a compiled/hidden file.
pub fn is_watched(root: &Path, suffixes: &[String], path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let Some(name) = rel.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if name.ends_with(".pyc") || name.starts_with('.') || name.ends_with('~') {
        return false;
    }
    let skipped_dir = rel
        .parent()
        .into_iter()
        .flat_map(|p| p.components())
        .any(|c| {
            let c = c.as_os_str().to_string_lossy();
            c.starts_with('.') || c == "__pycache__" || c == "node_modules"
        });
    !skipped_dir && suffixes.iter().any(|s| name.ends_with(s.as_str()))
}

/// True for the file events that change content (not metadata or reads).
pub fn is_change(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, ModifyKind};
    use notify::EventKind;
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        _ => false,
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A signal arrived (SIGCHLD included).
    Signal(Signal),
    /// A watched file changed.
    Changed(PathBuf),
    /// The [`Restarts::deadline`] passed without another input.
    Tick,
    /// The child exited with this status (shell style), after [`Action::Reap`].
    ChildExited(i32),
}

/// What to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send the signal to the child's process group (if a child runs).
    Signal(Signal),
    /// Reap exited children; if the child is among them, feed
    /// [`Input::ChildExited`] back.
    Reap,
    /// Start the child, because `file` changed; `restart` when it replaces
    /// a child stopped for the change, rather than one that had exited.
    Start { file: PathBuf, restart: bool },
    /// Say that the child exited by itself with this status, and wait.
    Waiting(i32),
    /// End the launcher with this status.
    Exit(i32),
}

/// The state of watch mode between inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restarts {
    /// A child runs.
    running: bool,
    /// The latest changed file and when the burst it belongs to last moved.
    pending: Option<(PathBuf, Instant)>,
    /// While a restart waits for the old child: when SIGTERM went out, and
    /// whether SIGKILL followed.
    stopping: Option<(Instant, bool)>,
    /// Set once a terminating signal was forwarded: the next exit is final.
    exiting: bool,
}

/// Signals that end the launcher (after the child, if one runs).
fn ends(sig: Signal) -> bool {
    matches!(
        sig,
        Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT | Signal::SIGHUP
    )
}

impl Restarts {
    /// The state right after the first child started.
    pub fn started() -> Self {
        Restarts {
            running: true,
            pending: None,
            stopping: None,
            exiting: false,
        }
    }

    /// When to feed [`Input::Tick`] if nothing else happens; `None` waits
    /// for the next input however long it takes.
    pub fn deadline(&self, now: Instant) -> Option<Instant> {
        match (&self.stopping, &self.pending) {
            (Some(_), _) => Some(now + POLL),
            (None, Some((_, at))) => Some(*at + DEBOUNCE),
            (None, None) => None,
        }
    }

    /// The transition for `input` at time `now`.
    pub fn on(&mut self, input: Input, now: Instant) -> Vec<Action> {
        match input {
            Input::Signal(Signal::SIGCHLD) => vec![Action::Reap],
            Input::Signal(sig) if self.running => {
                self.exiting |= ends(sig);
                vec![Action::Signal(sig)]
            }
            Input::Signal(sig) if ends(sig) => vec![Action::Exit(128 + sig as i32)],
            Input::Signal(_) => Vec::new(),
            Input::Changed(path) => {
                if !self.exiting {
                    self.pending = Some((path, now));
                }
                Vec::new()
            }
            Input::Tick => self.tick(now),
            Input::ChildExited(code) => {
                self.running = false;
                if self.exiting {
                    return vec![Action::Exit(code)];
                }
                if self.stopping.take().is_some() {
                    vec![self.start(true)]
                } else {
                    vec![Action::Waiting(code)]
                }
            }
        }
    }

    fn tick(&mut self, now: Instant) -> Vec<Action> {
        if let Some((since, killed)) = self.stopping {
            let mut actions = Vec::new();
            if !killed && now.saturating_duration_since(since) >= STOP_GRACE {
                actions.push(Action::Signal(Signal::SIGKILL));
                self.stopping = Some((since, true));
            }
            actions.push(Action::Reap);
            return actions;
        }
        match &self.pending {
            Some(_) if self.running => {
                self.stopping = Some((now, false));
                vec![Action::Signal(Signal::SIGTERM)]
            }
            Some(_) => vec![self.start(false)],
            None => Vec::new(),
        }
    }

    fn start(&mut self, restart: bool) -> Action {
        self.running = true;
        let file = self.pending.take().map(|(f, _)| f).unwrap_or_default();
        Action::Start { file, restart }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sfx() -> Vec<String> {
        vec![".py".into(), ".html".into()]
    }

    #[test]
    fn watched_files() {
        let root = Path::new("/app");
        assert!(is_watched(root, &sfx(), Path::new("/app/app.py")));
        assert!(is_watched(root, &sfx(), Path::new("/app/blog/views.py")));
        assert!(is_watched(root, &sfx(), Path::new("/app/t/index.html")));
        assert!(!is_watched(root, &sfx(), Path::new("/app/app.pyc")));
        assert!(!is_watched(
            root,
            &sfx(),
            Path::new("/app/__pycache__/a.py")
        ));
        assert!(!is_watched(root, &sfx(), Path::new("/app/.git/hooks/x.py")));
        assert!(!is_watched(root, &sfx(), Path::new("/app/.venv/lib/x.py")));
        assert!(!is_watched(root, &sfx(), Path::new("/app/.#app.py")));
        assert!(!is_watched(root, &sfx(), Path::new("/app/README.md")));
        assert!(!is_watched(root, &sfx(), Path::new("/elsewhere/a.py")));
    }

    fn changed(name: &str) -> Input {
        Input::Changed(PathBuf::from(name))
    }

    fn start(name: &str, restart: bool) -> Action {
        Action::Start {
            file: PathBuf::from(name),
            restart,
        }
    }

    #[test]
    fn a_burst_of_changes_restarts_once_after_the_quiet_period() {
        let t0 = Instant::now();
        let mut r = Restarts::started();
        assert_eq!(r.deadline(t0), None);
        assert_eq!(r.on(changed("a.py"), t0), []);
        assert_eq!(r.deadline(t0), Some(t0 + DEBOUNCE));
        // Another change in the burst moves the deadline, and names the file.
        let t1 = t0 + DEBOUNCE / 2;
        assert_eq!(r.on(changed("b.py"), t1), []);
        assert_eq!(r.deadline(t1), Some(t1 + DEBOUNCE));
        // Quiet: stop the child, then poll for its exit.
        let t2 = t1 + DEBOUNCE;
        assert_eq!(r.on(Input::Tick, t2), [Action::Signal(Signal::SIGTERM)]);
        assert_eq!(r.deadline(t2), Some(t2 + POLL));
        assert_eq!(r.on(Input::Tick, t2 + POLL), [Action::Reap]);
        assert_eq!(r.on(Input::Signal(Signal::SIGCHLD), t2), [Action::Reap]);
        // It exited: start it again, for the last file changed.
        assert_eq!(r.on(Input::ChildExited(143), t2), [start("b.py", true)]);
        assert_eq!(r.deadline(t2), None);
        assert_eq!(r, Restarts::started());
    }

    #[test]
    fn changes_while_stopping_are_covered_by_the_restart() {
        let t0 = Instant::now();
        let mut r = Restarts::started();
        r.on(changed("a.py"), t0);
        r.on(Input::Tick, t0 + DEBOUNCE);
        r.on(changed("c.py"), t0 + DEBOUNCE + POLL);
        assert_eq!(
            r.on(Input::ChildExited(0), t0 + DEBOUNCE + POLL),
            [start("c.py", true)]
        );
        assert_eq!(r.deadline(t0), None, "no second restart is pending");
    }

    #[test]
    fn a_child_that_ignores_sigterm_gets_sigkill_once_after_the_grace() {
        let t0 = Instant::now();
        let mut r = Restarts::started();
        r.on(changed("a.py"), t0);
        let stop = t0 + DEBOUNCE;
        assert_eq!(r.on(Input::Tick, stop), [Action::Signal(Signal::SIGTERM)]);
        let just_before = stop + STOP_GRACE - POLL;
        assert_eq!(r.on(Input::Tick, just_before), [Action::Reap]);
        let after = stop + STOP_GRACE;
        assert_eq!(
            r.on(Input::Tick, after),
            [Action::Signal(Signal::SIGKILL), Action::Reap]
        );
        assert_eq!(r.on(Input::Tick, after + POLL), [Action::Reap]);
        assert_eq!(
            r.on(Input::ChildExited(137), after + POLL),
            [start("a.py", true)]
        );
    }

    #[test]
    fn a_child_that_exits_by_itself_waits_for_the_next_change() {
        let t0 = Instant::now();
        let mut r = Restarts::started();
        assert_eq!(r.on(Input::ChildExited(1), t0), [Action::Waiting(1)]);
        assert_eq!(r.deadline(t0), None);
        // A non-terminating signal with no child does nothing.
        assert_eq!(r.on(Input::Signal(Signal::SIGUSR1), t0), []);
        r.on(changed("app.py"), t0);
        assert_eq!(r.on(Input::Tick, t0 + DEBOUNCE), [start("app.py", false)]);
        assert_eq!(r, Restarts::started());
    }

    #[test]
    fn terminating_signals_end_after_the_child_and_stop_restarts() {
        let t0 = Instant::now();
        let mut r = Restarts::started();
        // Others are forwarded and change nothing.
        assert_eq!(
            r.on(Input::Signal(Signal::SIGWINCH), t0),
            [Action::Signal(Signal::SIGWINCH)]
        );
        assert_eq!(r.on(Input::ChildExited(0), t0), [Action::Waiting(0)]);
        r.on(changed("a.py"), t0);
        assert_eq!(r.on(Input::Tick, t0 + DEBOUNCE), [start("a.py", false)]);
        for sig in [
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGQUIT,
            Signal::SIGHUP,
        ] {
            let mut r = r.clone();
            assert_eq!(r.on(Input::Signal(sig), t0), [Action::Signal(sig)]);
            assert_eq!(r.on(changed("b.py"), t0), []);
            assert_eq!(r.deadline(t0), None, "changes are ignored once exiting");
            assert_eq!(r.on(Input::ChildExited(3), t0), [Action::Exit(3)]);
        }
    }

    #[test]
    fn terminating_signals_with_no_child_end_at_once() {
        let t0 = Instant::now();
        let mut r = Restarts::started();
        r.on(Input::ChildExited(2), t0);
        assert_eq!(
            r.on(Input::Signal(Signal::SIGTERM), t0),
            [Action::Exit(128 + 15)]
        );
        assert_eq!(
            r.on(Input::Signal(Signal::SIGINT), t0),
            [Action::Exit(128 + 2)]
        );
    }
}
