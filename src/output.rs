//! Output rules every subcommand follows (see docs/DEVELOPING.md, "Output"):
//!
//! * colour only on a terminal, never when `NO_COLOR` is set to a non-empty
//!   value (<https://no-color.org>); `CLICOLOR_FORCE` (non-empty, not `0`)
//!   forces it on a pipe, as clap and the `console` crate already do;
//! * progress bars and spinners only when stderr is a terminal (and `TERM`
//!   is not `dumb`), always on stderr, never coloured when colour is off;
//! * stdout carries the result only: with `-o json`/`-o yaml` nothing else
//!   is written there, so it can be piped into `jq` or `kubectl apply -f -`.

use std::ffi::OsStr;
use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Which stream a piece of output goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn is_terminal(self) -> bool {
        match self {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        }
    }
}

/// True when colour may be written to `stream`.
pub fn color_enabled(stream: Stream) -> bool {
    decide_color(
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("CLICOLOR_FORCE").as_deref(),
        std::env::var_os("TERM").as_deref(),
        stream.is_terminal(),
    )
}

/// True when progress bars and spinners may be drawn (on stderr).
pub fn progress_enabled() -> bool {
    decide_progress(
        std::env::var_os("TERM").as_deref(),
        Stream::Stderr.is_terminal(),
    )
}

/// Makes the `console` crate (used by indicatif and dialoguer) follow the
/// same colour rule. Called once at startup by [`crate::run`].
pub fn init() {
    console::set_colors_enabled(color_enabled(Stream::Stdout));
    console::set_colors_enabled_stderr(color_enabled(Stream::Stderr));
}

/// A progress bar of `len` steps on stderr; hidden (all calls are no-ops)
/// when [`progress_enabled`] is false.
pub fn progress_bar(len: u64, message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), draw_target());
    let template = if color_enabled(Stream::Stderr) {
        "{msg} [{bar:30.cyan/blue}] {pos}/{len} {elapsed}"
    } else {
        "{msg} [{bar:30}] {pos}/{len} {elapsed}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.into());
    bar
}

/// A spinner on stderr for waits of unknown length (rollouts); hidden when
/// [`progress_enabled`] is false. Call `enable_steady_tick` to animate it.
pub fn spinner(message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, draw_target());
    let template = if color_enabled(Stream::Stderr) {
        "{spinner:.cyan} {msg} {elapsed}"
    } else {
        "{spinner} {msg} {elapsed}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(message.into());
    bar
}

fn draw_target() -> ProgressDrawTarget {
    if progress_enabled() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

fn set(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

fn dumb(term: Option<&OsStr>) -> bool {
    term.is_some_and(|t| t == "dumb")
}

/// The colour rule, from the environment and whether the stream is a terminal.
pub fn decide_color(
    no_color: Option<&OsStr>,
    clicolor_force: Option<&OsStr>,
    term: Option<&OsStr>,
    is_terminal: bool,
) -> bool {
    if set(no_color) {
        return false;
    }
    if set(clicolor_force) && clicolor_force != Some(OsStr::new("0")) {
        return true;
    }
    is_terminal && !dumb(term)
}

/// The progress rule: stderr is a terminal that can redraw a line.
pub fn decide_progress(term: Option<&OsStr>, stderr_is_terminal: bool) -> bool {
    stderr_is_terminal && !dumb(term)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> Option<&OsStr> {
        Some(OsStr::new(s))
    }

    #[test]
    fn colour_needs_a_terminal_and_no_no_color() {
        assert!(decide_color(None, None, os("xterm"), true));
        assert!(!decide_color(None, None, os("xterm"), false));
        assert!(!decide_color(os("1"), None, os("xterm"), true));
        // no-color.org: an empty NO_COLOR does not count.
        assert!(decide_color(os(""), None, os("xterm"), true));
        assert!(!decide_color(None, None, os("dumb"), true));
        assert!(decide_color(None, os("1"), None, false));
        assert!(!decide_color(None, os("0"), None, false));
        assert!(!decide_color(os("1"), os("1"), None, true));
    }

    #[test]
    fn progress_needs_a_terminal() {
        assert!(decide_progress(os("xterm"), true));
        assert!(!decide_progress(os("xterm"), false));
        assert!(!decide_progress(os("dumb"), true));
        assert!(!decide_progress(None, false));
    }
}
