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
}
