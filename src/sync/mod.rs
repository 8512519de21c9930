//! Incremental file sync from a local tree into a container, over any
//! [`Transport`] that can run an argv in the container (the Kubernetes exec
//! API in production, local processes in tests).
//!
//! The pod side needs only `sh`, `tar` and the POSIX basics every image with
//! `tar` has (`find`, `stat`, `mkdir`, `mv`, `rm`, `xargs`; GNU or busybox);
//! its commands are the fixed scripts in [`remote`], which take every path
//! as an argument or on stdin and never interpolate user text into shell code.
//!
//! The first sync lists `--dest` in the pod (one exec) and compares; `--watch`
//! syncs know what changed from inotify. Either way the transfer is one exec:
//! a tar stream of only the differing files (under `files/`), plus the list
//! of directories to move (`dirs`) and the paths to delete (`delete`,
//! NUL-separated), extracted into a staging directory inside `--dest` and
//! then renamed into place. A cut connection makes `tar` fail, and the
//! staging directory is removed; no half-written file is ever in place.
//! Files are streamed through a pipe, never held in memory whole.

pub mod excludes;
pub mod kube;
pub mod remote;
pub mod tarstream;
pub mod transport;
pub mod tree;
pub mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

pub use excludes::Excludes;
pub use transport::{ExecStatus, LocalTransport, Transport};
pub use tree::{Entry, EntryKind};

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

/// Checks a destination in the container: it must be an absolute path.
/// The message starts with the value (see [`Error::about`]).
pub fn check_dest(dest: &str) -> Result<()> {
    if dest.starts_with('/') {
        return Ok(());
    }
    Err(Error::bad(format!(
        "{dest:?} is not an absolute path: give the directory in the container, e.g. /opt/app-root/src"
    )))
}

/// The canonical path of a local source tree, which must be an existing
/// directory. The message starts with the path (see [`Error::about`]).
pub fn source_dir(source: &Path) -> Result<PathBuf> {
    let canonical = source.canonicalize().map_err(|e| {
        Error::bad(format!(
            "{}: {e}: give an existing directory",
            source.display()
        ))
    })?;
    if !canonical.is_dir() {
        return Err(Error::bad(format!(
            "{} is not a directory",
            canonical.display()
        )));
    }
    Ok(canonical)
}

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that `rel` is a plain relative path made of normal components: no
/// `..`, no root, no `.`, not empty, no newline (the pod side reads the
/// directory list line by line).
pub fn check_rel(rel: &Path) -> Result<()> {
    let bad = |why: &str| Error::bad(format!("refusing to sync {}: {why}", rel.display()));
    if rel.as_os_str().is_empty() {
        return Err(bad("empty path"));
    }
    for c in rel.components() {
        match c {
            Component::Normal(_) => {}
            Component::ParentDir => return Err(bad("it contains `..`")),
            Component::RootDir | Component::Prefix(_) => return Err(bad("it is absolute")),
            Component::CurDir => return Err(bad("it contains `.`")),
        }
    }
    if rel.as_os_str().as_encoded_bytes().contains(&b'\n') {
        return Err(bad("the name contains a newline (add an --exclude for it)"));
    }
    Ok(())
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Files and symlinks written (directories are not counted).
    pub files: usize,
    /// Paths deleted in the container.
    pub deleted: usize,
    /// Bytes sent on stdin (the whole tar stream).
    pub bytes: u64,
    /// Wall time, milliseconds.
    pub ms: u128,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "synced {} file{}, deleted {}, {} bytes in {} ms",
            self.files,
            if self.files == 1 { "" } else { "s" },
            self.deleted,
            self.bytes,
            self.ms
        )
    }
}

/// A sync session: a local source tree, a destination in the container, and
/// the transport to reach it.
pub struct Syncer<'a> {
    pub source: PathBuf,
    pub dest: String,
    pub excludes: Excludes,
    pub delete: bool,
    pub transport: &'a dyn Transport,
}

/// What to send in one sync.
#[derive(Debug, Default)]
pub struct Changes {
    /// Entries to write, by relative path.
    pub write: BTreeMap<PathBuf, Entry>,
    /// Relative paths to remove (recursively) in the container.
    pub delete: BTreeSet<PathBuf>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.write.is_empty() && self.delete.is_empty()
    }
}

impl<'a> Syncer<'a> {
    /// A session from `source` (an existing local directory, made canonical)
    /// to `dest` (an absolute path in the container).
    pub fn new(
        source: &Path,
        dest: &str,
        excludes: Excludes,
        delete: bool,
        transport: &'a dyn Transport,
    ) -> Result<Self> {
        check_dest(dest).map_err(|e| e.about("destination"))?;
        let source = source_dir(source).map_err(|e| e.about("source"))?;
        Ok(Syncer {
            source,
            dest: dest.to_string(),
            excludes,
            delete,
            transport,
        })
    }

    /// The pod's view of `--dest`: every entry, excluded ones left out.
    pub fn remote_manifest(&self) -> Result<BTreeMap<PathBuf, remote::RemoteEntry>> {
        let mut out = Vec::new();
        let argv = remote::manifest_argv(&self.dest);
        let st = self
            .transport
            .exec(&argv, None, &mut out)
            .map_err(Error::Transport)?;
        if st.code != 0 {
            return Err(Error::Remote {
                what: "reading the file list",
                code: st.code,
                stderr: st.stderr_line(),
            });
        }
        let mut map = remote::parse_manifest(&out)?;
        map.retain(|rel, e| !self.excludes.is_excluded(rel, e.kind == EntryKind::Dir));
        Ok(map)
    }

    /// The first sync: compare the local tree with the pod's manifest and
    /// collect only what differs (and, with `--delete`, what is gone locally).
    pub fn initial_changes(&self, warn: &mut dyn FnMut(String)) -> Result<Changes> {
        let local = tree::walk(&self.source, &self.excludes, warn)?;
        match self.remote_manifest() {
            Ok(remote) => Ok(diff(&local, &remote, self.delete)),
            // No GNU `find -printf` in the image (busybox): send everything.
            Err(Error::Remote { stderr, .. }) => {
                warn(format!(
                    "cannot list the files in the container ({stderr}): sending every file{}",
                    if self.delete {
                        ", --delete skipped this time"
                    } else {
                        ""
                    }
                ));
                Ok(diff(&local, &BTreeMap::new(), false))
            }
            Err(e) => Err(e),
        }
    }

    /// The changes for these changed paths (relative to the source): what exists
    /// is sent (directories with their contents), what is gone is deleted
    /// when `--delete` is on. Excluded paths are ignored.
    /// `expand(dir)` says whether a directory is sent with its contents
    /// (a new one) or alone (one whose mode changed).
    pub fn changes_for(
        &self,
        paths: &BTreeSet<PathBuf>,
        expand: &dyn Fn(&Path) -> bool,
        warn: &mut dyn FnMut(String),
    ) -> Result<Changes> {
        let mut changes = Changes::default();
        for rel in paths {
            if rel.as_os_str().as_encoded_bytes().contains(&b'\n') {
                warn(format!(
                    "skipping {:?}: the name contains a newline",
                    rel.as_os_str()
                ));
                continue;
            }
            check_rel(rel)?;
            let full = self.source.join(rel);
            match std::fs::symlink_metadata(&full) {
                Ok(md) => {
                    if self.excludes.is_excluded(rel, md.is_dir()) {
                        continue;
                    }
                    if let Some(e) = tree::entry(&self.source, rel, &md, warn)? {
                        if e.kind == EntryKind::Dir && expand(rel) {
                            for (sub, se) in
                                tree::walk_under(&self.source, rel, &self.excludes, warn)?
                            {
                                changes.write.insert(sub, se);
                            }
                        }
                        changes.write.insert(rel.clone(), e);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if self.delete && !self.excludes.is_excluded(rel, false) {
                        changes.delete.insert(rel.clone());
                    }
                }
                Err(e) => return Err(io_err(&full)(e)),
            }
        }
        // Deleting a directory covers everything under it.
        let dirs: Vec<PathBuf> = changes.delete.iter().cloned().collect();
        changes
            .delete
            .retain(|p| !dirs.iter().any(|d| d != p && p.starts_with(d)));
        Ok(changes)
    }

    /// Sends `changes` in one exec: stream the tar, extract into staging, move
    /// into place, delete.
    pub fn apply(&self, changes: &Changes) -> Result<Stats> {
        let start = Instant::now();
        if changes.is_empty() {
            return Ok(Stats::default());
        }
        let (reader, writer) = std::io::pipe().map_err(io_err(&self.source))?;
        let argv = remote::apply_argv(&self.dest);
        let mut out = Vec::new();
        let (status, produced) = std::thread::scope(|s| {
            let producer = s.spawn(move || tarstream::write(writer, &self.source, changes));
            let status = {
                let mut reader = reader;
                self.transport.exec(&argv, Some(&mut reader), &mut out)
            };
            let produced = producer
                .join()
                .unwrap_or_else(|_| Err(Error::Transport("tar writer panicked".into())));
            (status, produced)
        });
        let status = status.map_err(Error::Transport)?;
        if status.code != 0 {
            return Err(Error::Remote {
                what: "writing the files",
                code: status.code,
                stderr: status.stderr_line(),
            });
        }
        let bytes = produced?;
        Ok(Stats {
            files: changes
                .write
                .values()
                .filter(|e| e.kind != EntryKind::Dir)
                .count(),
            deleted: changes.delete.len(),
            bytes,
            ms: start.elapsed().as_millis(),
        })
    }
}

/// Compares the local tree with the pod's manifest.
pub fn diff(
    local: &BTreeMap<PathBuf, Entry>,
    remote: &BTreeMap<PathBuf, remote::RemoteEntry>,
    delete: bool,
) -> Changes {
    let mut changes = Changes::default();
    for (rel, e) in local {
        let same = match remote.get(rel) {
            None => false,
            Some(r) => match &e.kind {
                EntryKind::File => {
                    r.kind == EntryKind::File && r.size == e.size && r.mtime == e.mtime
                }
                EntryKind::Dir => r.kind == EntryKind::Dir,
                EntryKind::Symlink(t) => r.kind == EntryKind::Symlink(t.clone()),
            },
        };
        if !same {
            changes.write.insert(rel.clone(), e.clone());
        }
    }
    if delete {
        for rel in remote.keys() {
            if local.contains_key(rel) {
                continue;
            }
            // Only the topmost missing path: removing it removes the rest.
            let covered = rel
                .ancestors()
                .skip(1)
                .any(|a| !a.as_os_str().is_empty() && changes.delete.contains(a));
            if !covered {
                changes.delete.insert(rel.clone());
            }
        }
    }
    changes
}

/// A sync from start to end, printing nothing: the first comparison and the
/// transfer. Returns the stats.
pub fn sync_once(syncer: &Syncer, warn: &mut dyn FnMut(String)) -> Result<Stats> {
    let start = Instant::now();
    let changes = syncer.initial_changes(warn)?;
    let mut stats = syncer.apply(&changes)?;
    stats.ms = start.elapsed().as_millis();
    Ok(stats)
}

/// Writes `line` and flushes (for progress lines).
pub fn say(out: &mut dyn Write, line: &str) {
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The debounce window of `--watch`: a sync starts after this much quiet.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

#[cfg(test)]
mod tests;
