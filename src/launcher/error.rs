//! The launcher's error type.

/// Everything that can stop the launcher.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad configuration or layout: one line naming the file and the fix. Exit 2.
    #[error("{0}")]
    BadInput(#[from] crate::error::BadInput),
    /// An action hook failed; the launcher exits with the hook's status.
    #[error("{0}")]
    HookFailed(#[from] crate::error::ExitStatus),
    /// A system call or file operation failed. Exit 1.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

crate::error::bad_and_io!(Error);
