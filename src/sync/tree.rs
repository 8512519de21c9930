//! The local tree: a walk that never enters excluded directories and never
//! follows symlinks, and the checks on what it finds.

use std::collections::BTreeMap;
use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use super::{check_rel, io_err, Excludes, Result};

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
        let target = std::fs::read_link(&full).map_err(io_err(&full))?;
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
pub fn walk_under(
    root: &Path,
    rel: &Path,
    excludes: &Excludes,
    warn: &mut dyn FnMut(String),
) -> Result<BTreeMap<PathBuf, Entry>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![rel.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let full = root.join(&dir);
        let rd = match std::fs::read_dir(&full) {
            Ok(rd) => rd,
            // Removed while we walk: the watcher will report it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
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
            if let Some(e) = entry(root, &sub, &md, warn)? {
                if e.kind == EntryKind::Dir {
                    stack.push(sub.clone());
                }
                out.insert(sub, e);
            }
        }
    }
    Ok(out)
}
