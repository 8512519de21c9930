//! Incremental file sync from a local tree into a container, over any
//! [`Transport`] that can run an argv in the container (the Kubernetes exec
//! API in production, local processes in tests).
//!
//! The pod side needs only `sh`, `tar`, `dd` and the POSIX basics every
//! image with `tar` has (`find`, `stat`, `mkdir`, `mv`, `rm`, `xargs`, `wc`;
//! GNU or busybox): one fixed script, the receiver in [`remote`], which
//! gets every path inside the requests on its stdin and never interpolates
//! user text into shell code.
//!
//! A session starts the receiver once (one exec) and sends every request
//! over it ([`stream`]): a whole `--watch` is one exec, kept alive by
//! keepalives, and opened again (after a full compare) when it drops. The
//! first sync asks for the list of `--dest` and compares; `--watch` syncs
//! know what changed from inotify. Either way the transfer is one request:
//! a tar stream of only the differing files (under `files/`), plus the list
//! of directories to move (`dirs`) and the paths to delete (`delete`,
//! NUL-separated), extracted into a staging directory inside `--dest` and
//! then renamed into place. A cut or failed request leaves nothing in
//! place; no half-written file is ever in place. Files are streamed in
//! frames of [`stream::FRAME`], never held in memory whole; the request's
//! length is known up front ([`tarstream::length`]), so the pod copies it
//! with one `dd`.

pub mod changes;
pub mod error;
pub mod excludes;
pub mod kube;
pub mod paths;
pub mod remote;
pub mod stream;
pub mod syncer;
pub mod tarstream;
pub mod transport;
pub mod tree;
pub mod watch;

// The sync engine's nouns, for `reload` and the tests. Files inside
// `sync` import from the file that defines a name, never through here, so
// that no file depends on this one.
pub use changes::{diff, Changes};
pub use error::{Error, Result};
pub use excludes::Excludes;
pub use paths::{check_dest, check_rel, source_dir};
pub use stream::Stream;
pub use syncer::{say, sync_once, Stats, Syncer, PROGRESS_BYTES, PROGRESS_FILES};
pub use transport::{ExecStatus, LocalTransport, Session, Transport};
pub use tree::{Entry, EntryKind};
pub use watch::DEBOUNCE;

#[cfg(test)]
mod tests;
