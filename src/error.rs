//! Exit-code policy shared by every subcommand, decided in one place ([`exit_code`]).
//!
//! * `2`: bad input (flags, files, environment). Nothing was changed.
//! * a child's own status: a hook or program the user gave failed ([`ExitStatus`]).
//! * `1`: the operation itself failed (cluster refused, rollout timed out, …).
//!
//! There is one way to say "bad input": [`BadInput`]. Library modules keep their
//! own `thiserror` enums, and each one that can fail on bad input wraps it in a
//! variant with `#[from]` (so it is the variant's `source()`):
//!
//! ```ignore
//! #[error("{0}")]
//! BadInput(#[from] crate::error::BadInput),
//! ```
//!
//! [`exit_code`] walks the error chain for a [`BadInput`] or an [`ExitStatus`],
//! so this file names no other module, and a new module needs no registration.
//! Never mark such a variant `#[error(transparent)]`: that hides the cause from
//! the chain, and the command would exit 1.

/// A user mistake: the message names the file/resource and the fix. Exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

impl BadInput {
    pub fn new(msg: impl Into<String>) -> Self {
        BadInput(msg.into())
    }
}

/// `Error::bad(msg)` and `Error::io(context, source)` for a module's error
/// enum that has the two usual variants, `BadInput(#[from] BadInput)` and
/// `Io { context: String, source: std::io::Error }`:
///
/// ```ignore
/// crate::error::bad_and_io!(Error);
/// ```
macro_rules! bad_and_io {
    ($error:ident) => {
        impl $error {
            /// Bad input: one line naming the file or resource and the fix. Exit 2.
            pub fn bad(msg: impl Into<String>) -> Self {
                $error::BadInput($crate::error::BadInput::new(msg))
            }

            /// A system call or file operation on `context` failed. Exit 1.
            pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
                $error::Io {
                    context: context.into(),
                    source,
                }
            }
        }
    };
}
pub(crate) use bad_and_io;

/// The longest value quoted in a message, in characters (see [`cut`]).
pub const MAX_SHOWN: usize = 80;

/// `text` for a message: at most [`MAX_SHOWN`] characters, the rest cut and
/// marked with `…`. Values from files and the environment can be long (a
/// whole file read where one word was expected); a message stays one line.
pub fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_SHOWN) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// [`cut`], then quoted and escaped as Rust's `{:?}` does (`"a\nb"`), so
/// that a newline or control character in the value cannot break the line.
pub fn quoted(text: &str) -> String {
    format!("{:?}", cut(text))
}

/// A program the user supplied (an action hook) failed: the command exits with
/// its status.
#[derive(Debug, thiserror::Error)]
#[error("{what} failed with exit status {status}")]
pub struct ExitStatus {
    pub what: String,
    pub status: i32,
}

/// The exit code for an error returned to `main`: the first [`BadInput`] (2) or
/// [`ExitStatus`] (its status) in the chain, else 1.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if cause.is::<BadInput>() {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<ExitStatus>() {
            return e.status;
        }
    }
    1
}

/// Formats an error chain as a single line (`outer: inner: root`). A cause
/// whose text is already the end of the line so far is not repeated (a
/// module variant that displays its wrapped [`BadInput`] as `{0}`).
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string().replace('\n', " ");
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum ModuleError {
        #[error("{0}")]
        BadInput(#[from] BadInput),
        #[error("{0}")]
        Status(#[from] ExitStatus),
        #[error("disk full")]
        Other,
    }

    #[test]
    fn bad_input_anywhere_in_the_chain_exits_2_and_prints_once() {
        let err = anyhow::Error::from(ModuleError::from(BadInput::new("fix the file")))
            .context("reading .warpdrive/server_type");
        assert_eq!(exit_code(&err), 2);
        assert_eq!(
            one_line(&err),
            "reading .warpdrive/server_type: fix the file"
        );
    }

    #[test]
    fn long_values_are_cut() {
        assert_eq!(cut("short"), "short");
        let long = "é".repeat(200);
        assert_eq!(cut(&long).chars().count(), MAX_SHOWN + 1);
        assert!(cut(&long).ends_with('…'));
        assert_eq!(quoted("a\nb"), "\"a\\nb\"");
    }

    #[test]
    fn a_child_status_passes_through_and_the_rest_exit_1() {
        let hook = anyhow::Error::from(ModuleError::from(ExitStatus {
            what: "pre-run".into(),
            status: 7,
        }));
        assert_eq!(exit_code(&hook), 7);
        assert_eq!(one_line(&hook), "pre-run failed with exit status 7");
        assert_eq!(exit_code(&anyhow::Error::from(ModuleError::Other)), 1);
    }
}
