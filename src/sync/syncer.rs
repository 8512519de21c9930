//! A sync session ([`Syncer`]): the first comparison, the changes of
//! changed paths, and the transfer over one receiver ([`Stream`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::changes::{diff, Changes};
use super::error::{io_err, Error, Result};
use super::excludes::Excludes;
use super::paths::{check_dest, check_rel, source_dir};
use super::remote;
use super::stream::Stream;
use super::transport::Transport;
use super::tree::{self, EntryKind};

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
