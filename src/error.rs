//! Exit-code policy shared by every subcommand.
//!
//! * `2`: bad input (flags, files, environment). Nothing was changed.
//! * `1`: the operation itself failed (cluster refused, rollout timed out, …).
//!
//! Library modules return their own `thiserror` enums; [`exit_code`] walks an
//! `anyhow` chain and asks each known error type for its code.

/// A user mistake: the message names the file/resource and the fix. Exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

impl BadInput {
    pub fn new(msg: impl Into<String>) -> Self {
        BadInput(msg.into())
    }
}

/// Implemented by each module's error type.
pub trait ExitCode {
    fn exit_code(&self) -> i32;
}

impl ExitCode for BadInput {
    fn exit_code(&self) -> i32 {
        2
    }
}

/// The exit code for an error returned to `main`.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<BadInput>() {
            return e.exit_code();
        }
        if let Some(e) = cause.downcast_ref::<crate::launcher::Error>() {
            return e.exit_code();
        }
        if let Some(e) = cause.downcast_ref::<crate::sync::Error>() {
            return e.exit_code();
        }
        if let Some(e) = cause.downcast_ref::<crate::cluster::Error>() {
            return e.exit_code();
        }
        if let Some(e) = cause.downcast_ref::<crate::init::Error>() {
            return e.exit_code();
        }
    }
    1
}
