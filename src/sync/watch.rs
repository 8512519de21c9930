//! `--watch`: inotify (notify) on every included directory, one
//! non-recursive watch each, so excluded directories (node_modules, .git)
//! cost no watches or file handles. Events are coalesced into one burst
//! ([`Burst`]): until [`DEBOUNCE`] of quiet with no file
//! left open for writing (at most [`MAX_WAIT`] after the first), then only
//! the changed paths are sent. After [`KEEPALIVE`] with
//! no change the caller's `idle` runs (a keepalive through the session).

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher as _};

use super::error::{Error, Result};
use super::syncer::{Stats, Syncer};
use super::tree::{self, EntryKind};

/// The debounce window of `--watch`: a sync starts after this much quiet
/// with no file left open for writing ([`Burst`]). The slow part of
/// an editor's save (writing and `fsync`ing the new file) happens while the
/// file is open, so the debounce only has to cover the gaps between the
/// close, the rename and the chmod: 0.05–0.6 ms typically, 8–60 ms at the
/// 99th percentile on a 2-core machine at load 15
/// (`bench/reload.sh`, `bench_editor_save_event_gaps`).
pub const DEBOUNCE: Duration = Duration::from_millis(20);

/// A burst of changes is sent at the latest this long after its first event.
pub const MAX_WAIT: Duration = Duration::from_millis(500);

/// With no change for this long, the watch loop calls `idle` (the
/// keepalive). Well under the idle timeouts of proxies and load balancers
/// in front of API servers (60 s is common).
pub const KEEPALIVE: Duration = Duration::from_secs(15);

/// What the watch loop receives.
pub enum Msg {
    Fs(notify::Result<notify::Event>),
    /// Ctrl-C or SIGTERM: finish the current sync, then return.
    Stop,
}

/// When a burst of file events is over: [`DEBOUNCE`] after its last
/// event, unless a file is still open for writing (created or modified, and
/// not closed yet: an editor's `fsync` before its rename can take longer
/// than any debounce), then when it is closed; never later than
/// [`MAX_WAIT`] after the first event. Pure: the caller passes the time.
#[derive(Debug, Clone)]
pub struct Burst {
    first: Instant,
    last: Instant,
    writing: HashSet<PathBuf>,
}

impl Burst {
    pub fn new(now: Instant) -> Self {
        Burst {
            first: now,
            last: now,
            writing: HashSet::new(),
        }
    }

    /// Takes in one event that arrived at `now`.
    pub fn add(&mut self, ev: &notify::Event, now: Instant) {
        use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
        self.last = now;
        let first = ev.paths.first();
        match ev.kind {
            EventKind::Create(CreateKind::File) | EventKind::Modify(ModifyKind::Data(_)) => {
                self.writing.extend(first.cloned());
            }
            EventKind::Access(AccessKind::Close(AccessMode::Write)) | EventKind::Remove(_) => {
                if let Some(p) = first {
                    self.writing.remove(p);
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
                if let [from, to] = ev.paths.as_slice() {
                    if self.writing.remove(from) {
                        self.writing.insert(to.clone());
                    }
                }
            }
            _ => {}
        }
    }

    /// Is a file of the burst still open for writing?
    pub fn writing(&self) -> bool {
        !self.writing.is_empty()
    }

    /// When to sync if no other event comes.
    pub fn due(&self) -> Instant {
        let cap = self.first + MAX_WAIT;
        if self.writing() {
            cap
        } else {
            (self.last + DEBOUNCE).min(cap)
        }
    }
}

/// The watches on a source tree.
pub struct Watcher {
    inner: notify::RecommendedWatcher,
    root: PathBuf,
    watched: HashSet<PathBuf>,
}

impl Watcher {
    /// Watches every included directory of `syncer.source`; events go to `tx`.
    pub fn new(syncer: &Syncer, tx: Sender<Msg>, warn: &mut dyn FnMut(String)) -> Result<Self> {
        let inner = notify::recommended_watcher(move |res| {
            let _ = tx.send(Msg::Fs(res));
        })
        .map_err(|e| Error::Transport(format!("cannot watch files: {e}")))?;
        let mut w = Watcher {
            inner,
            root: syncer.source.clone(),
            watched: HashSet::new(),
        };
        w.add_tree(syncer, Path::new(""), warn)?;
        Ok(w)
    }

    /// How many directories are watched.
    pub fn len(&self) -> usize {
        self.watched.len()
    }

    pub fn is_empty(&self) -> bool {
        self.watched.is_empty()
    }

    /// Is `rel` a watched directory?
    pub fn is_watched(&self, rel: &Path) -> bool {
        self.watched.contains(rel)
    }

    fn add(&mut self, rel: &Path) -> Result<()> {
        if self.watched.contains(rel) {
            return Ok(());
        }
        let full = self.root.join(rel);
        match self.inner.watch(&full, RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.watched.insert(rel.to_path_buf());
                Ok(())
            }
            // Gone again already: nothing to watch.
            Err(e) if matches!(e.kind, notify::ErrorKind::PathNotFound) => Ok(()),
            Err(e) if matches!(&e.kind, notify::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound) => {
                Ok(())
            }
            Err(e) => Err(Error::Transport(format!(
                "cannot watch {}: {e} (add an --exclude for large directories)",
                full.display()
            ))),
        }
    }

    /// Watches `rel` and every included directory below it.
    fn add_tree(
        &mut self,
        syncer: &Syncer,
        rel: &Path,
        warn: &mut dyn FnMut(String),
    ) -> Result<()> {
        self.add(rel)?;
        let entries = tree::walk_under(&syncer.source, rel, &syncer.excludes, warn)?;
        for (p, e) in entries {
            if e.kind == EntryKind::Dir {
                self.add(&p)?;
            }
        }
        Ok(())
    }

    fn forget(&mut self, rel: &Path) {
        let gone: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|w| w.starts_with(rel) && !w.as_os_str().is_empty())
            .cloned()
            .collect();
        for w in gone {
            let _ = self.inner.unwatch(&self.root.join(&w));
            self.watched.remove(&w);
        }
    }

    /// Relative paths of an event, inside the tree and not excluded.
    fn paths(&self, syncer: &Syncer, ev: &notify::Event, out: &mut BTreeSet<PathBuf>) {
        if matches!(ev.kind, EventKind::Access(_)) {
            return;
        }
        for p in &ev.paths {
            let Ok(rel) = p.strip_prefix(&self.root) else {
                continue;
            };
            if rel.as_os_str().is_empty() {
                continue;
            }
            let is_dir = self.watched.contains(rel)
                || std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
            if syncer.excludes.is_excluded(rel, is_dir) {
                continue;
            }
            out.insert(rel.to_path_buf());
        }
    }

    /// Runs until [`Msg::Stop`]: each burst of changes becomes one sync,
    /// reported through `report` (errors too; the loop goes on); `idle`
    /// runs after [`KEEPALIVE`] without a change.
    pub fn run(
        &mut self,
        syncer: &Syncer,
        rx: &Receiver<Msg>,
        report: &mut dyn FnMut(Result<Stats>),
        idle: &mut dyn FnMut(),
        warn: &mut dyn FnMut(String),
    ) -> Result<()> {
        loop {
            let mut changed = BTreeSet::new();
            let mut stop = false;
            let ev = match rx.recv_timeout(KEEPALIVE) {
                Ok(Msg::Fs(Ok(ev))) => ev,
                Ok(Msg::Fs(Err(e))) => {
                    warn(format!("watch: {e}"));
                    continue;
                }
                Err(RecvTimeoutError::Timeout) => {
                    idle();
                    continue;
                }
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return Ok(()),
            };
            let mut burst = Burst::new(Instant::now());
            burst.add(&ev, Instant::now());
            self.paths(syncer, &ev, &mut changed);
            loop {
                let now = Instant::now();
                let due = burst.due();
                if now >= due {
                    break;
                }
                match rx.recv_timeout(due - now) {
                    Ok(Msg::Fs(Ok(ev))) => {
                        burst.add(&ev, Instant::now());
                        self.paths(syncer, &ev, &mut changed);
                    }
                    Ok(Msg::Fs(Err(e))) => warn(format!("watch: {e}")),
                    Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => {
                        stop = true;
                        break;
                    }
                    Err(RecvTimeoutError::Timeout) => break,
                }
            }
            if !changed.is_empty() {
                report(self.sync(syncer, &changed, warn));
            }
            if stop {
                return Ok(());
            }
        }
    }

    /// Syncs the changed paths; new directories get watches (and are sent
    /// whole), removed ones lose theirs.
    fn sync(
        &mut self,
        syncer: &Syncer,
        changed: &BTreeSet<PathBuf>,
        warn: &mut dyn FnMut(String),
    ) -> Result<Stats> {
        let mut new_dirs = Vec::new();
        for rel in changed {
            let full = self.root.join(rel);
            match std::fs::symlink_metadata(&full) {
                Ok(md) if md.is_dir() => {
                    if !self.watched.contains(rel) {
                        new_dirs.push(rel.clone());
                    }
                }
                _ => {
                    if self.watched.contains(rel) {
                        self.forget(rel);
                    }
                }
            }
        }
        for d in &new_dirs {
            self.add_tree(syncer, d, warn)?;
        }
        let expand = |rel: &Path| new_dirs.iter().any(|d| d == rel);
        let changes = syncer.changes_for(changed, &expand, warn)?;
        syncer.apply_warning(&changes, warn)
    }
}
