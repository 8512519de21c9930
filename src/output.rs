//! Output rules every subcommand follows (see docs/DEVELOPING.md, "Output"):
//!
//! * colour only on a terminal, never when `NO_COLOR` is set to a non-empty
//!   value (<https://no-color.org>); `CLICOLOR_FORCE` (non-empty, not `0`)
//!   forces it on a pipe, as clap and the `console` crate already do;
//! * progress bars and spinners only when stderr is a terminal (and `TERM`
//!   is not `dumb`), always on stderr, never coloured when colour is off;
//! * stdout carries the result only: with `-o json`/`-o yaml` nothing else
//!   is written there, so it can be piped into `jq` or `kubectl apply -f -`;
//! * every command writes stdout through [`Stdout`] (or the [`out!`] and
//!   [`outln!`] macros over it): a reader that goes away early (`| head`,
//!   `| true`) ends the output quietly, the command finishes its work and
//!   exits as it would have; any other write error is reported once by
//!   [`crate::run`] and makes the exit status 1.

use std::ffi::OsStr;
use std::io::{IsTerminal as _, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

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

/// A progress bar of a transfer of `bytes` on stderr: the message (say,
/// files done of all) then bytes done of all; hidden when
/// [`progress_enabled`] is false. Advance it with `inc(bytes)`.
pub fn transfer_bar(bytes: u64, message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(bytes), draw_target());
    let template = if color_enabled(Stream::Stderr) {
        "{msg} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {binary_bytes_per_sec} {elapsed}"
    } else {
        "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {elapsed}"
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

/// Set once stdout is closed (EPIPE) or failed: later output is dropped.
static STDOUT_DONE: AtomicBool = AtomicBool::new(false);
/// The first stdout error that was not a closed pipe, for [`stdout_error`].
static STDOUT_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// The process's stdout under the rule above: each write goes out at once
/// (write and flush), a closed pipe drops this and every later write and
/// still reports success to the caller, so no command panics or fails
/// because its reader stopped reading.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if STDOUT_DONE.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(buf).and_then(|()| out.flush()) {
            STDOUT_DONE.store(true, Ordering::Relaxed);
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                if let Ok(mut first) = STDOUT_ERROR.lock() {
                    first.get_or_insert_with(|| e.to_string());
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes `text` to stdout through [`Stdout`].
pub fn print(text: &str) {
    let _ = Stdout.write_all(text.as_bytes());
}

/// The first error writing stdout other than a closed pipe, if any.
pub fn stdout_error() -> Option<String> {
    STDOUT_ERROR.lock().ok().and_then(|e| e.clone())
}

/// `print!` through [`Stdout`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::print(&format!($($arg)*))
    };
}

/// `println!` through [`Stdout`].
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::print("\n")
    };
    ($($arg:tt)*) => {
        $crate::output::print(&format!("{}\n", format_args!($($arg)*)))
    };
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
