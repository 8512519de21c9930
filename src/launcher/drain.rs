//! The supervisor's stop sequence, as a pure state machine: [`Drain`] is
//! fed what happened (a signal, a timer, the child's exit) with the current
//! time and returns the [`Action`]s `runtime` carries out. No processes, no
//! clocks, so every rule has a unit test.
//!
//! The rules (supervise mode: PID 1 or `--supervise`):
//! * the first **SIGTERM** (Kubernetes deleting the pod) does not reach the
//!   server at once. The launcher reports not ready (it creates
//!   [`dirs::draining_file`](super::dirs::draining_file), which
//!   `warpdrive ready` reports) and waits [`Settings::drain`]
//!   (`WARPDRIVE_DRAIN_SECONDS`, default [`DEFAULT_DRAIN`]) while the server
//!   keeps accepting and serving: endpoints, kube-proxy and ingress
//!   controllers go on routing new connections to the pod for a moment
//!   after the deletion, and a server that stopped listening at once would
//!   refuse them;
//! * then the server gets its own graceful stop signal (`servers::stop_signal`:
//!   SIGWINCH for Apache, SIGTERM for the others), which lets requests in
//!   flight finish;
//! * a server still running [`Settings::stop_timeout`] after that
//!   (`WARPDRIVE_STOP_TIMEOUT`, default [`DEFAULT_STOP_TIMEOUT`]) gets
//!   SIGKILL, sent to its whole process group;
//! * a **second SIGTERM** during the drain, or a **SIGINT** (Ctrl-C) at any
//!   time before the stop, skips what is left of the drain: the graceful
//!   stop signal goes out at once;
//! * once the stop signal went out, a further SIGTERM or SIGINT is passed
//!   to the server as is (gunicorn's quick shutdown on SIGINT, Apache's
//!   immediate stop on SIGTERM);
//! * every other signal is forwarded as it comes (SIGHUP, SIGUSR1, …);
//! * whenever the child exits, the launcher exits with its status (128+N
//!   after signal N, so 137 after the SIGKILL).
//!
//! The defaults fit Kubernetes' default `terminationGracePeriodSeconds` of
//! 30: 5 s of drain plus 20 s of stop timeout leaves 5 s before the
//! kubelet's own SIGKILL, so the launcher, not the kubelet, ends a hung
//! server and says so. Keep `WARPDRIVE_DRAIN_SECONDS` +
//! `WARPDRIVE_STOP_TIMEOUT` below the pod's grace period.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::error::Error;

/// Default `WARPDRIVE_DRAIN_SECONDS`: the time endpoint changes take to
/// reach kube-proxy and ingress controllers (usually 1–3 s), with margin.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(5);

/// Default `WARPDRIVE_STOP_TIMEOUT`: 30 s (Kubernetes' default grace
/// period) minus the default drain, minus 5 s for the launcher's SIGKILL
/// to land before the kubelet's.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// How the supervisor stops its child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How long to keep serving after the first SIGTERM.
    pub drain: Duration,
    /// How long the server gets after its stop signal before SIGKILL.
    pub stop_timeout: Duration,
    /// The server's graceful stop signal; `None` (a `-- CMD`) passes the
    /// signal that asked for the stop (SIGTERM or SIGINT) on as is.
    pub stop_signal: Option<Signal>,
}

impl Settings {
    /// `WARPDRIVE_DRAIN_SECONDS` and `WARPDRIVE_STOP_TIMEOUT` (whole or
    /// decimal seconds, `0` for none) from `env`.
    pub fn from_env(
        env: &BTreeMap<String, String>,
        stop_signal: Option<Signal>,
    ) -> Result<Settings, Error> {
        Ok(Settings {
            drain: seconds(env, "WARPDRIVE_DRAIN_SECONDS", DEFAULT_DRAIN)?,
            stop_timeout: seconds(env, "WARPDRIVE_STOP_TIMEOUT", DEFAULT_STOP_TIMEOUT)?,
            stop_signal,
        })
    }
}

fn seconds(
    env: &BTreeMap<String, String>,
    name: &str,
    default: Duration,
) -> Result<Duration, Error> {
    let Some(text) = env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (0.0..=86_400.0).contains(s))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            Error::bad(format!(
                "{name}={}: not a number of seconds; set it to a number from 0 to 86400, e.g. 5",
                crate::error::quoted(text)
            ))
        })
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A signal arrived (SIGCHLD included).
    Signal(Signal),
    /// The [`Drain::deadline`] passed.
    Tick,
    /// The child exited with this status (shell style), after [`Action::Reap`].
    ChildExited(i32),
}

/// What to do, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Report not ready (create the draining file) and say that the drain
    /// started, and for how long.
    NotReady(Duration),
    /// Send the child this signal as it came.
    Forward(Signal),
    /// Send the child its graceful stop signal (and say so).
    Stop(Signal),
    /// The stop timeout passed: SIGKILL the child's process group (and say so).
    Kill,
    /// Reap exited children; if the child is among them, feed
    /// [`Input::ChildExited`] back.
    Reap,
    /// End the launcher with this status.
    Exit(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// Serving on until this instant.
    Draining(Instant),
    /// The stop signal went out; SIGKILL at this instant.
    Stopping(Instant),
    /// SIGKILL went out.
    Killed,
}

/// The stop sequence's state between inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drain {
    settings: Settings,
    phase: Phase,
}

impl Drain {
    /// The state while the child runs and nothing asked it to stop.
    pub fn new(settings: Settings) -> Self {
        Drain {
            settings,
            phase: Phase::Running,
        }
    }

    /// When to feed [`Input::Tick`] if nothing else happens; `None` waits
    /// for the next input however long it takes.
    pub fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Draining(at) | Phase::Stopping(at) => Some(at),
            Phase::Running | Phase::Killed => None,
        }
    }

    /// True once the first SIGTERM or a SIGINT arrived.
    pub fn stopping(&self) -> bool {
        self.phase != Phase::Running
    }

    /// The transition for `input` at time `now`.
    pub fn on(&mut self, input: Input, now: Instant) -> Vec<Action> {
        match input {
            Input::Signal(Signal::SIGCHLD) => vec![Action::Reap],
            Input::ChildExited(code) => vec![Action::Exit(code)],
            Input::Signal(sig @ (Signal::SIGTERM | Signal::SIGINT)) => match self.phase {
                Phase::Running if sig == Signal::SIGTERM && !self.settings.drain.is_zero() => {
                    self.phase = Phase::Draining(now + self.settings.drain);
                    vec![Action::NotReady(self.settings.drain)]
                }
                Phase::Running => vec![Action::NotReady(Duration::ZERO), self.stop(sig, now)],
                Phase::Draining(_) => vec![self.stop(sig, now)],
                Phase::Stopping(_) | Phase::Killed => vec![Action::Forward(sig)],
            },
            Input::Signal(sig) => vec![Action::Forward(sig)],
            Input::Tick => match self.phase {
                Phase::Draining(at) if now >= at => vec![self.stop(Signal::SIGTERM, now)],
                Phase::Stopping(at) if now >= at => {
                    self.phase = Phase::Killed;
                    vec![Action::Kill, Action::Reap]
                }
                _ => Vec::new(),
            },
        }
    }

    /// The graceful stop, asked for by `sig`.
    fn stop(&mut self, sig: Signal, now: Instant) -> Action {
        self.phase = Phase::Stopping(now + self.settings.stop_timeout);
        Action::Stop(self.settings.stop_signal.unwrap_or(sig))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Signal::*;

    fn settings(drain: u64, stop: u64, sig: Option<Signal>) -> Settings {
        Settings {
            drain: Duration::from_secs(drain),
            stop_timeout: Duration::from_secs(stop),
            stop_signal: sig,
        }
    }

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn sigterm_drains_then_sends_the_servers_stop_signal_then_kills() {
        let t0 = Instant::now();
        let mut d = Drain::new(settings(5, 20, Some(SIGWINCH)));
        assert_eq!(d.deadline(), None);
        assert_eq!(d.on(Input::Signal(SIGTERM), t0), [Action::NotReady(s(5))]);
        assert!(d.stopping());
        assert_eq!(d.deadline(), Some(t0 + s(5)));
        // An early tick (a spurious wakeup) does nothing.
        assert_eq!(d.on(Input::Tick, t0 + s(4)), []);
        // Other signals still reach the server during the drain.
        assert_eq!(
            d.on(Input::Signal(SIGHUP), t0 + s(4)),
            [Action::Forward(SIGHUP)]
        );
        assert_eq!(d.on(Input::Tick, t0 + s(5)), [Action::Stop(SIGWINCH)]);
        assert_eq!(d.deadline(), Some(t0 + s(25)));
        assert_eq!(d.on(Input::Tick, t0 + s(24)), []);
        assert_eq!(d.on(Input::Tick, t0 + s(25)), [Action::Kill, Action::Reap]);
        assert_eq!(d.deadline(), None);
        assert_eq!(d.on(Input::Signal(SIGCHLD), t0 + s(25)), [Action::Reap]);
        assert_eq!(
            d.on(Input::ChildExited(137), t0 + s(25)),
            [Action::Exit(137)]
        );
    }

    #[test]
    fn a_second_sigterm_or_a_sigint_skips_the_drain() {
        for second in [SIGTERM, SIGINT] {
            let t0 = Instant::now();
            let mut d = Drain::new(settings(5, 20, Some(SIGTERM)));
            d.on(Input::Signal(SIGTERM), t0);
            assert_eq!(
                d.on(Input::Signal(second), t0 + s(1)),
                [Action::Stop(SIGTERM)]
            );
            assert_eq!(
                d.deadline(),
                Some(t0 + s(21)),
                "the stop timeout runs from the stop"
            );
            // Past the stop signal, SIGTERM/SIGINT go through as they are.
            assert_eq!(
                d.on(Input::Signal(SIGINT), t0 + s(2)),
                [Action::Forward(SIGINT)]
            );
            assert_eq!(d.on(Input::ChildExited(0), t0 + s(3)), [Action::Exit(0)]);
        }
    }

    #[test]
    fn sigint_first_stops_at_once_without_a_drain() {
        let t0 = Instant::now();
        let mut d = Drain::new(settings(5, 20, Some(SIGWINCH)));
        assert_eq!(
            d.on(Input::Signal(SIGINT), t0),
            [Action::NotReady(Duration::ZERO), Action::Stop(SIGWINCH)]
        );
        assert_eq!(d.deadline(), Some(t0 + s(20)));
    }

    #[test]
    fn no_drain_configured_stops_on_the_first_sigterm() {
        let t0 = Instant::now();
        let mut d = Drain::new(settings(0, 3, Some(SIGWINCH)));
        assert_eq!(
            d.on(Input::Signal(SIGTERM), t0),
            [Action::NotReady(Duration::ZERO), Action::Stop(SIGWINCH)]
        );
        assert_eq!(d.on(Input::Tick, t0 + s(3)), [Action::Kill, Action::Reap]);
    }

    #[test]
    fn a_command_without_a_stop_signal_gets_the_signal_that_asked() {
        let t0 = Instant::now();
        let mut d = Drain::new(settings(5, 20, None));
        d.on(Input::Signal(SIGTERM), t0);
        assert_eq!(d.on(Input::Tick, t0 + s(5)), [Action::Stop(SIGTERM)]);
        let mut d = Drain::new(settings(5, 20, None));
        assert_eq!(d.on(Input::Signal(SIGINT), t0)[1], Action::Stop(SIGINT));
    }

    #[test]
    fn the_child_exiting_at_any_point_ends_the_launcher_with_its_status() {
        let t0 = Instant::now();
        let mut d = Drain::new(settings(5, 20, None));
        assert_eq!(d.on(Input::Signal(SIGUSR1), t0), [Action::Forward(SIGUSR1)]);
        assert!(!d.stopping(), "only SIGTERM and SIGINT start the stop");
        assert_eq!(d.on(Input::ChildExited(3), t0), [Action::Exit(3)]);
        let mut d = Drain::new(settings(5, 20, None));
        d.on(Input::Signal(SIGTERM), t0);
        assert_eq!(d.on(Input::ChildExited(1), t0 + s(1)), [Action::Exit(1)]);
    }

    #[test]
    fn settings_from_the_environment() {
        let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let d = Settings::from_env(&env(&[]), None).unwrap();
        assert_eq!(
            (d.drain, d.stop_timeout),
            (DEFAULT_DRAIN, DEFAULT_STOP_TIMEOUT)
        );
        let d = Settings::from_env(
            &env(&[
                ("WARPDRIVE_DRAIN_SECONDS", "0.5"),
                ("WARPDRIVE_STOP_TIMEOUT", " 0 "),
            ]),
            Some(SIGWINCH),
        )
        .unwrap();
        assert_eq!(
            (d.drain, d.stop_timeout, d.stop_signal),
            (Duration::from_millis(500), Duration::ZERO, Some(SIGWINCH))
        );
        for bad in ["-1", "5s", "nan", "1e9"] {
            let err =
                Settings::from_env(&env(&[("WARPDRIVE_DRAIN_SECONDS", bad)]), None).unwrap_err();
            assert!(matches!(err, Error::BadInput(_)), "{bad}: {err}");
            assert!(
                err.to_string().starts_with("WARPDRIVE_DRAIN_SECONDS="),
                "{err}"
            );
        }
    }
}
