//! The error type of `init`.

/// Everything that can stop `init`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags, answers or layout: one line, exit 2, nothing written.
    #[error("{0}")]
    BadInput(#[from] crate::error::BadInput),
    /// The user declined to overwrite existing files. Exit 1.
    #[error("{0}")]
    Declined(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Launcher(#[from] crate::launcher::Error),
    #[error("prompt failed: {0}")]
    Prompt(#[from] dialoguer::Error),
}

crate::error::bad_and_io!(Error);
