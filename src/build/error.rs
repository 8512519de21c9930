//! The build's and the lifecycle commands' error type.

/// Everything that can stop `warpdrive build` or a lifecycle command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad configuration: one line naming the file and the fix. Exit 2.
    #[error("{0}")]
    BadInput(#[from] crate::error::BadInput),
    /// A step or hook failed: the command exits with its status.
    #[error("{0}")]
    Failed(#[from] crate::error::ExitStatus),
    /// The launcher (resolution, hooks, `.warpdrive` files) refused.
    #[error("{0}")]
    Launcher(#[from] crate::launcher::Error),
    /// Writing `.warpdrive/application`.
    #[error("{0}")]
    Init(#[from] crate::init::error::Error),
    /// A system call or file operation failed. Exit 1.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

crate::error::bad_and_io!(Error);
