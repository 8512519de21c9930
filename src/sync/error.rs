//! The errors of the sync engine, and its [`Result`].

use std::path::{Path, PathBuf};

/// Errors of the sync engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's input is wrong (a bad pattern, a bad path); exit 2.
    #[error("{0}")]
    BadInput(#[from] crate::error::BadInput),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The transport could not run the command at all.
    #[error("exec in the container failed: {0}")]
    Transport(String),
    /// The pod-side command ran and failed.
    #[error("{what} failed in the container (exit {code}): {stderr}")]
    Remote {
        what: &'static str,
        code: i32,
        stderr: String,
    },
}

impl Error {
    pub fn bad(msg: impl Into<String>) -> Self {
        Error::BadInput(crate::error::BadInput::new(msg))
    }

    /// Puts the name of the value a [`Error::BadInput`] is about in front of
    /// it (`--dest`, `source`): the sync engine's messages start with the
    /// value and leave naming it to the caller. Other errors stay as they are.
    pub fn about(self, name: &str) -> Self {
        match self {
            Error::BadInput(b) => Error::bad(format!("{name} {}", b.0)),
            e => e,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
