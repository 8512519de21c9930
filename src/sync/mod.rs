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

pub mod excludes;
pub mod kube;
pub mod remote;
pub mod stream;
pub mod tarstream;
pub mod transport;
pub mod tree;
pub mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use excludes::Excludes;
pub use stream::Stream;
pub use transport::{ExecStatus, LocalTransport, Session, Transport};
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
    /// Bytes sent to the receiver (the request: headers and tar stream).
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
/// the transport to reach it. The receiver is started by the first request
/// and kept for the next ones; after a broken connection the next request
/// starts a new one.
pub struct Syncer<'a> {
    pub source: PathBuf,
    pub dest: String,
    pub excludes: Excludes,
    pub delete: bool,
    pub transport: &'a dyn Transport,
    /// Draw a progress bar (on a terminal) for a large transfer.
    pub progress: bool,
    stream: Mutex<Option<Stream<'a>>>,
    /// Receivers started so far (one per exec session).
    sessions: AtomicUsize,
}

/// A transfer gets a progress bar from this many files…
pub const PROGRESS_FILES: usize = 200;
/// …or this many bytes.
pub const PROGRESS_BYTES: u64 = 16 << 20;

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
            progress: false,
            stream: Mutex::new(None),
            sessions: AtomicUsize::new(0),
        })
    }

    /// How many receivers (exec sessions) were started so far.
    pub fn sessions(&self) -> usize {
        self.sessions.load(Ordering::Relaxed)
    }

    /// The wire protocol of the open session, if one is open.
    pub fn protocol(&self) -> Option<&'static str> {
        let guard = self.stream.lock().ok()?;
        guard.as_ref().map(|s| s.protocol())
    }

    /// How the receiver of the open session reads exact byte counts (`dd`,
    /// `head`, or `slow`: one byte per read), if one is open.
    pub fn reader(&self) -> Option<String> {
        let guard = self.stream.lock().ok()?;
        guard.as_ref().map(|s| s.reader.clone())
    }

    /// Runs `f` on the session, starting the receiver first when none runs.
    /// A broken connection ([`Error::Transport`]) ends the session: the
    /// next call starts a new one.
    fn with_stream<T>(&self, f: impl FnOnce(&mut Stream<'a>) -> Result<T>) -> Result<T> {
        let mut guard = self
            .stream
            .lock()
            .map_err(|_| Error::Transport("the sync session was poisoned".into()))?;
        if guard.is_none() {
            self.sessions.fetch_add(1, Ordering::Relaxed);
            *guard = Some(Stream::open(self.transport, &self.dest)?);
        }
        let Some(stream) = guard.as_mut() else {
            return Err(Error::Transport("no sync session".into()));
        };
        let r = f(stream);
        if let Err(Error::Transport(_)) = &r {
            *guard = None;
        }
        r
    }

    /// Keeps an open session alive (a ping through the receiver and back);
    /// starts none. An error means the session is gone.
    pub fn keepalive(&self) -> Result<()> {
        let open = self.stream.lock().is_ok_and(|g| g.is_some());
        if !open {
            return Ok(());
        }
        self.with_stream(|s| s.ping())
    }

    /// Forgets the session without a goodbye (after the pod was replaced).
    pub fn reset(&self) {
        if let Ok(mut g) = self.stream.lock() {
            *g = None;
        }
    }

    /// Ends the session: the receiver exits.
    pub fn close(&self) -> Result<()> {
        let stream = self.stream.lock().ok().and_then(|mut g| g.take());
        match stream {
            Some(s) => s.close(),
            None => Ok(()),
        }
    }

    /// The pod's view of `--dest`: every entry, excluded ones left out.
    pub fn remote_manifest(&self) -> Result<BTreeMap<PathBuf, remote::RemoteEntry>> {
        let out = match self.with_stream(|s| s.list())? {
            Ok(out) => out,
            Err((code, stderr)) => {
                return Err(Error::Remote {
                    what: "reading the file list",
                    code,
                    stderr,
                })
            }
        };
        let mut map = remote::parse_manifest(&out)?;
        map.retain(|rel, e| !self.excludes.is_excluded(rel, e.kind == EntryKind::Dir));
        Ok(map)
    }

    /// The first sync: compare the local tree with the pod's manifest and
    /// collect only what differs (and, with `--delete`, what is gone locally).
    pub fn initial_changes(&self, warn: &mut dyn FnMut(String)) -> Result<Changes> {
        // The walk runs while the receiver starts and lists (an exec
        // through the API server takes tens of milliseconds).
        let (walked, manifest) = std::thread::scope(|scope| {
            let walker = scope.spawn(|| {
                let mut warnings = Vec::new();
                let local = tree::walk(&self.source, &self.excludes, &mut |w| warnings.push(w));
                (local, warnings)
            });
            let manifest = self.remote_manifest();
            let walked = walker.join().unwrap_or_else(|_| {
                (
                    Err(Error::Transport("the walk panicked".into())),
                    Vec::new(),
                )
            });
            (walked, manifest)
        });
        let (local, warnings) = walked;
        for w in warnings {
            warn(w);
        }
        let local = local?;
        match manifest {
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

    /// Sends `changes` in one request: stream the tar, extract into
    /// staging, move into place, delete.
    pub fn apply(&self, changes: &Changes) -> Result<Stats> {
        self.apply_warning(changes, &mut |_| {})
    }

    /// [`Syncer::apply`], with the warnings of files skipped while reading
    /// (swapped for a symlink, replaced) given to `warn`.
    pub fn apply_warning(&self, changes: &Changes, warn: &mut dyn FnMut(String)) -> Result<Stats> {
        let start = Instant::now();
        if changes.is_empty() {
            return Ok(Stats::default());
        }
        let (files, bytes) = changes
            .write
            .values()
            .filter(|e| e.kind != EntryKind::Dir)
            .fold((0usize, 0u64), |(n, b), e| (n + 1, b + e.size));
        let bar = if self.progress && (files >= PROGRESS_FILES || bytes >= PROGRESS_BYTES) {
            let bar = crate::output::transfer_bar(bytes, format!("0/{files} files"));
            bar.tick();
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let sent = self.with_stream(|s| s.apply(&self.source, changes, &bar, warn));
        bar.finish_and_clear();
        let sent = sent?;
        Ok(Stats {
            files: sent.files,
            deleted: changes.delete.len(),
            bytes: sent.bytes,
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
    let mut stats = syncer.apply_warning(&changes, warn)?;
    stats.ms = start.elapsed().as_millis();
    Ok(stats)
}

/// Writes `line` and flushes (for progress lines).
pub fn say(out: &mut dyn Write, line: &str) {
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The debounce window of `--watch`: a sync starts after this much quiet
/// with no file left open for writing ([`watch::Burst`]). The slow part of
/// an editor's save (writing and `fsync`ing the new file) happens while the
/// file is open, so the debounce only has to cover the gaps between the
/// close, the rename and the chmod: 0.05–0.6 ms typically, 8–60 ms at the
/// 99th percentile on a 2-core machine at load 15
/// (`bench/reload.sh`, `bench_editor_save_event_gaps`).
pub const DEBOUNCE: Duration = Duration::from_millis(20);

#[cfg(test)]
mod tests;
