//! The local tree: a walk that never enters excluded directories and never
//! follows symlinks, and the checks on what it finds.

use std::collections::BTreeMap;
use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use super::error::{io_err, Error, Result};
use super::excludes::Excludes;
use super::paths::check_rel;

/// What a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// A symlink and its target, as written.
    Symlink(PathBuf),
}

/// One local entry to sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    pub size: u64,
    /// Modification time, whole seconds (what tar keeps).
    pub mtime: i64,
    pub mode: u32,
    /// Device and inode the walk saw: the file read later must be this one.
    pub dev: u64,
    pub ino: u64,
}

/// Does a symlink at `rel` with `target` stay inside the tree?
pub fn symlink_stays_inside(rel: &Path, target: &Path) -> bool {
    if target.has_root() {
        return false;
    }
    let mut depth: i64 = rel.components().count() as i64 - 1;
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// The entry for `rel` with metadata `md`, or `None` for what is not synced
/// (sockets, fifos, devices, symlinks pointing outside the tree: those get a
/// warning).
pub fn entry(
    root: &Path,
    rel: &Path,
    md: &Metadata,
    warn: &mut dyn FnMut(String),
) -> Result<Option<Entry>> {
    if rel.as_os_str().as_encoded_bytes().contains(&b'\n') {
        warn(format!(
            "skipping {:?}: the name contains a newline",
            rel.as_os_str()
        ));
        return Ok(None);
    }
    check_rel(rel)?;
    let ft = md.file_type();
    let kind = if ft.is_file() {
        EntryKind::File
    } else if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_symlink() {
        let full = root.join(rel);
        let target = match std::fs::read_link(&full) {
            Ok(t) => t,
            // Removed or replaced by something else since it was listed:
            // skipped (the watcher reports it; a one-shot run says so).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(nix::libc::EINVAL) => {
                warn(format!(
                    "skipping {}: it changed while syncing (sent with its next change)",
                    rel.display()
                ));
                return Ok(None);
            }
            Err(e) => return Err(io_err(&full)(e)),
        };
        if !symlink_stays_inside(rel, &target) {
            warn(format!(
                "skipping {}: symlink to {} points outside the source tree",
                rel.display(),
                target.display()
            ));
            return Ok(None);
        }
        EntryKind::Symlink(target)
    } else {
        warn(format!(
            "skipping {}: not a file, directory or symlink",
            rel.display()
        ));
        return Ok(None);
    };
    Ok(Some(Entry {
        size: if kind == EntryKind::File { md.len() } else { 0 },
        mtime: md.mtime(),
        mode: md.permissions().mode() & 0o7777,
        dev: md.dev(),
        ino: md.ino(),
        kind,
    }))
}

/// Every entry of the tree at `root`, excluded ones left out.
pub fn walk(
    root: &Path,
    excludes: &Excludes,
    warn: &mut dyn FnMut(String),
) -> Result<BTreeMap<PathBuf, Entry>> {
    walk_under(root, Path::new(""), excludes, warn)
}

/// Every entry below `rel` (not `rel` itself), excluded ones left out.
/// Directories are read by up to [`WALKERS`] threads (a first sync's walk
/// is mostly `statx` calls); the warnings come sorted, the first error
/// stops every walker.
pub fn walk_under(
    root: &Path,
    rel: &Path,
    excludes: &Excludes,
    warn: &mut dyn FnMut(String),
) -> Result<BTreeMap<PathBuf, Entry>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, WALKERS);
    let work = Work {
        queue: Mutex::new(Queue {
            dirs: vec![rel.to_path_buf()],
            reading: 0,
            stop: false,
        }),
        more: Condvar::new(),
    };
    let results: Vec<Walked> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| walker(root, excludes, &work)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| Walked {
                    error: Some(Error::Transport("the walk panicked".into())),
                    ..Walked::default()
                })
            })
            .collect()
    });
    let mut out = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut first_error = None;
    for r in results {
        warnings.extend(r.warnings);
        if first_error.is_none() {
            first_error = r.error;
        }
        out.extend(r.entries);
    }
    warnings.sort();
    for w in warnings {
        warn(w);
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// How many threads read directories at most.
pub const WALKERS: usize = 4;

/// The directories still to read, shared by the walkers.
struct Work {
    queue: Mutex<Queue>,
    more: Condvar,
}

struct Queue {
    dirs: Vec<PathBuf>,
    /// Walkers reading a directory now (they may add more).
    reading: usize,
    /// A walker failed: everyone stops.
    stop: bool,
}

impl Work {
    /// The queue, also after a walker panicked holding it (its state is
    /// still consistent: every change to it is one statement).
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Marks one directory as read when dropped, also when its walker panics,
/// so that the others never wait for it.
struct Reading<'w>(&'w Work);

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        let mut q = self.0.lock();
        q.reading -= 1;
        self.0.more.notify_all();
    }
}

/// What one walker found.
#[derive(Default)]
struct Walked {
    entries: Vec<(PathBuf, Entry)>,
    warnings: Vec<String>,
    error: Option<Error>,
}

fn walker(root: &Path, excludes: &Excludes, work: &Work) -> Walked {
    let mut found = Walked::default();
    loop {
        // Take a directory, or stop when none is left and none is being
        // read (a directory being read may add more).
        let dir = {
            let mut q = work.lock();
            loop {
                if q.stop {
                    return found;
                }
                if let Some(d) = q.dirs.pop() {
                    q.reading += 1;
                    break d;
                }
                if q.reading == 0 {
                    return found;
                }
                q = work.more.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        let reading = Reading(work);
        let mut subdirs = Vec::new();
        let r = read_one(root, &dir, excludes, &mut found, &mut subdirs);
        {
            let mut q = work.lock();
            match r {
                Ok(()) => q.dirs.extend(subdirs),
                Err(e) => {
                    found.error = Some(e);
                    q.stop = true;
                }
            }
        }
        drop(reading);
    }
}

/// Reads one directory: its entries into `found`, its subdirectories into `subdirs`.
fn read_one(
    root: &Path,
    dir: &Path,
    excludes: &Excludes,
    found: &mut Walked,
    subdirs: &mut Vec<PathBuf>,
) -> Result<()> {
    let full = root.join(dir);
    let rd = match std::fs::read_dir(&full) {
        Ok(rd) => rd,
        // Removed while we walk: the watcher will report it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(&full)(e)),
    };
    for de in rd {
        let de = de.map_err(io_err(&full))?;
        let sub = dir.join(de.file_name());
        let md = match de.metadata() {
            Ok(md) => md,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err(&root.join(&sub))(e)),
        };
        if excludes.is_excluded(&sub, md.is_dir()) {
            continue;
        }
        if let Some(e) = entry(root, &sub, &md, &mut |w| found.warnings.push(w))? {
            if e.kind == EntryKind::Dir {
                subdirs.push(sub.clone());
            }
            found.entries.push((sub, e));
        }
    }
    Ok(())
}
