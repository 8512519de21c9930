//! The fluent assertion vocabulary for a finished command, after just's `Test`
//! builder: run a command, then say what its exit status, stdout and stderr must
//! be, one call each. A failed assertion panics with the command line, what was
//! expected, a readable diff where a whole stream was compared, and both streams.
//!
//! ```ignore
//! warpdrive().args(["tune", "deploy/blog", "--threads", "x"]).run().bad_input()
//!     .stderr_has("--threads");
//! let out = server.run(&["tune", "deploy/blog", "--list"]).success();
//! out.stdout_is("MOD_WSGI_PROCESSES=3\n");
//! let doc = out.json();
//! ```
//!
//! * [`RunExt::run`] runs a [`Command`] (stdin closed, 120 s bound) into an [`Outcome`];
//!   [`RunExt::run_within`] takes the bound; [`Checked::check`] wraps an `Output`
//!   that some other helper produced.
//! * status: [`Outcome::success`], [`Outcome::status`], [`Outcome::failure`] (exit 1),
//!   [`Outcome::bad_input`] (exit 2 and exactly one `error: …` line on stderr).
//! * streams: `stdout_is`/`stderr_is` (exact, with a diff), `stdout_has`/`stderr_has`,
//!   `stdout_lacks`/`stderr_lacks`, `stdout_empty`/`stderr_empty`, `stdout_matches`/
//!   `stderr_matches` (a regex).
//! * values: [`Outcome::stdout`], [`Outcome::stderr`], [`Outcome::both`], [`Outcome::json`],
//!   [`Outcome::code`].

use std::fmt::Write as _;
use std::process::{Command, Output};
use std::time::Duration;

/// How long [`RunExt::run`] lets a command take before it is killed.
pub const DEFAULT_BOUND: Duration = Duration::from_secs(120);

/// A finished command: its status and both streams, decoded as UTF-8 (lossily).
#[derive(Debug)]
pub struct Outcome {
    what: String,
    output: Output,
    stdout: String,
    stderr: String,
}

/// Runs a command into an [`Outcome`].
pub trait RunExt {
    /// Runs to completion, stdin closed, killed (and the test failed) after
    /// [`DEFAULT_BOUND`].
    fn run(&mut self) -> Outcome;
    /// Same, with another bound.
    fn run_within(&mut self, bound: Duration) -> Outcome;
}

impl RunExt for Command {
    fn run(&mut self) -> Outcome {
        self.run_within(DEFAULT_BOUND)
    }

    fn run_within(&mut self, bound: Duration) -> Outcome {
        let what = describe_command(self);
        let output = super::run_with_timeout(self, bound);
        Outcome::new(what, output)
    }
}

/// Wraps an `Output` produced elsewhere (a PTY, a helper that adds a kubeconfig).
pub trait Checked {
    fn check(self) -> Outcome;
}

impl Checked for Output {
    fn check(self) -> Outcome {
        Outcome::new(String::new(), self)
    }
}

fn describe_command(cmd: &Command) -> String {
    let mut words = vec![cmd.get_program().to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

impl Outcome {
    pub fn new(what: String, output: Output) -> Self {
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        Outcome {
            what,
            output,
            stdout,
            stderr,
        }
    }

    // ------------------------------------------------------------ values

    pub fn stdout(&self) -> &str {
        &self.stdout
    }

    pub fn stderr(&self) -> &str {
        &self.stderr
    }

    /// stdout then stderr, for checks that do not care which stream a line is on.
    pub fn both(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The exit code (`None` when a signal ended the command).
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    pub fn output(&self) -> &Output {
        &self.output
    }

    /// stdout parsed as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| self.fail(&format!("stdout is not one JSON document: {e}")))
    }

    // ------------------------------------------------------------ status

    /// Exit status 0.
    #[track_caller]
    pub fn success(self) -> Self {
        if !self.output.status.success() {
            self.fail("expected success (exit 0)");
        }
        self
    }

    /// Exactly this exit code.
    #[track_caller]
    pub fn status(self, code: i32) -> Self {
        if self.code() != Some(code) {
            self.fail(&format!("expected exit status {code}"));
        }
        self
    }

    /// Exit status 1: the operation failed.
    #[track_caller]
    pub fn failure(self) -> Self {
        self.status(1)
    }

    /// Bad input: exit 2 and stderr is exactly one line, starting `error: `.
    #[track_caller]
    pub fn bad_input(self) -> Self {
        let this = self.status(2);
        let lines: Vec<&str> = this.stderr.lines().collect();
        if lines.len() != 1 || !lines[0].starts_with("error: ") {
            this.fail("expected exactly one `error: …` line on stderr");
        }
        this
    }

    // ------------------------------------------------------------ streams

    #[track_caller]
    pub fn stdout_is(self, want: &str) -> Self {
        if self.stdout != want {
            let diff = diff(want, &self.stdout);
            self.fail(&format!("stdout differs (- expected, + actual):\n{diff}"));
        }
        self
    }

    #[track_caller]
    pub fn stderr_is(self, want: &str) -> Self {
        if self.stderr != want {
            let diff = diff(want, &self.stderr);
            self.fail(&format!("stderr differs (- expected, + actual):\n{diff}"));
        }
        self
    }

    #[track_caller]
    pub fn stdout_has(self, part: &str) -> Self {
        if !self.stdout.contains(part) {
            self.fail(&format!("stdout lacks {part:?}"));
        }
        self
    }

    #[track_caller]
    pub fn stderr_has(self, part: &str) -> Self {
        if !self.stderr.contains(part) {
            self.fail(&format!("stderr lacks {part:?}"));
        }
        self
    }

    #[track_caller]
    pub fn stdout_lacks(self, part: &str) -> Self {
        if self.stdout.contains(part) {
            self.fail(&format!("stdout must not contain {part:?}"));
        }
        self
    }

    #[track_caller]
    pub fn stderr_lacks(self, part: &str) -> Self {
        if self.stderr.contains(part) {
            self.fail(&format!("stderr must not contain {part:?}"));
        }
        self
    }

    #[track_caller]
    pub fn stdout_empty(self) -> Self {
        if !self.output.stdout.is_empty() {
            self.fail("expected an empty stdout");
        }
        self
    }

    #[track_caller]
    pub fn stderr_empty(self) -> Self {
        if !self.output.stderr.is_empty() {
            self.fail("expected an empty stderr");
        }
        self
    }

    /// stdout matches the regular expression `pattern` somewhere.
    #[track_caller]
    pub fn stdout_matches(self, pattern: &str) -> Self {
        let re = regex::Regex::new(pattern)
            .unwrap_or_else(|e| panic!("bad regex {pattern:?} in the test: {e}"));
        if !re.is_match(&self.stdout) {
            self.fail(&format!("stdout does not match /{pattern}/"));
        }
        self
    }

    /// stderr matches the regular expression `pattern` somewhere.
    #[track_caller]
    pub fn stderr_matches(self, pattern: &str) -> Self {
        let re = regex::Regex::new(pattern)
            .unwrap_or_else(|e| panic!("bad regex {pattern:?} in the test: {e}"));
        if !re.is_match(&self.stderr) {
            self.fail(&format!("stderr does not match /{pattern}/"));
        }
        self
    }

    /// Fails the test with `why`, the command, its status and both streams.
    #[track_caller]
    pub fn fail(&self, why: &str) -> ! {
        let mut msg = String::new();
        let _ = writeln!(msg, "{why}");
        if !self.what.is_empty() {
            let _ = writeln!(msg, "command: {}", self.what);
        }
        let _ = writeln!(msg, "status:  {}", self.output.status);
        let _ = writeln!(msg, "--- stdout ---\n{}", self.stdout);
        let _ = write!(msg, "--- stderr ---\n{}", self.stderr);
        panic!("{msg}");
    }
}

/// A unified line diff of `want` against `have`.
pub fn diff(want: &str, have: &str) -> String {
    similar::TextDiff::from_lines(want, have)
        .unified_diff()
        .context_radius(3)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Outcome {
        Command::new("/bin/sh").args(["-c", script]).run()
    }

    #[test]
    fn passing_checks_chain_and_values_read_back() {
        let out = sh("printf 'one\\ntwo\\n'; printf 'warn\\n' >&2")
            .success()
            .stdout_is("one\ntwo\n")
            .stderr_is("warn\n")
            .stdout_has("two")
            .stdout_lacks("three")
            .stderr_has("warn")
            .stderr_lacks("error")
            .stdout_matches(r"(?m)^t\w+$");
        assert_eq!(out.both(), "one\ntwo\nwarn\n");
        assert_eq!(out.code(), Some(0));
        let json = sh("echo '{\"a\": 1}'").success().stderr_empty().json();
        assert_eq!(json["a"], 1);
        sh("echo 'error: bad .warpdrive/x: fix it' >&2; exit 2")
            .bad_input()
            .stdout_empty();
        sh("exit 1").failure();
    }

    #[test]
    #[should_panic(
        expected = "stdout differs (- expected, + actual):\n@@ -1,2 +1,2 @@\n one\n-two\n+too"
    )]
    fn an_exact_mismatch_shows_a_diff() {
        sh("printf 'one\\ntoo\\n'").stdout_is("one\ntwo\n");
    }

    #[test]
    #[should_panic(
        expected = "expected success (exit 0)\ncommand: /bin/sh -c 'echo oops >&2; exit 3'"
    )]
    fn a_failed_status_names_the_command() {
        sh("echo oops >&2; exit 3").success();
    }

    #[test]
    #[should_panic(expected = "expected exactly one `error: …` line")]
    fn bad_input_needs_one_error_line() {
        sh("echo 'error: one' >&2; echo 'two' >&2; exit 2").bad_input();
    }

    #[test]
    #[should_panic(expected = "stderr lacks \"needle\"")]
    fn a_missing_part_is_named() {
        sh("echo hay >&2").stderr_has("needle");
    }
}
