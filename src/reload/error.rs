//! The errors of `reload`.

use crate::{cluster, sync};

/// Errors of `reload`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Exit 2, nothing changed.
    #[error("{0}")]
    BadInput(#[from] crate::error::BadInput),
    #[error("{0}")]
    Cluster(#[from] cluster::Error),
    #[error("{0}")]
    Sync(#[from] sync::Error),
    /// The workload has no pod to sync into.
    #[error("{what}: no Ready pod to sync into (selector {selector})")]
    NoReadyPod { what: String, selector: String },
    #[error("cannot set up signal handling: {0}")]
    Signals(std::io::Error),
    /// `on` failed after its write, and the workload was put back: the
    /// cause follows in the chain, so its exit code passes through (nothing
    /// is left changed).
    #[error("reload on failed and {what} was put back as it was ({before})")]
    PutBack {
        what: String,
        before: String,
        #[source]
        cause: Box<Error>,
    },
    /// `on` failed after its write, and putting it back failed too: the
    /// message names the `reload … off` command. Exit 1: the workload is
    /// left changed.
    #[error("{0}")]
    NotPutBack(String),
}
