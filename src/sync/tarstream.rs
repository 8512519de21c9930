//! The tar stream of one sync. Files are copied through in small chunks, so
//! memory stays flat whatever their size.
//!
//! A file is opened with `O_NOFOLLOW` (and `O_NONBLOCK`, so a fifo put in
//! its place cannot block), and the open file must be the one the walk saw:
//! a regular file with the walk's device and inode. Anything else (a
//! symlink or another file swapped in between the walk and the read) is
//! skipped with a warning, never read through. Its size and mtime are taken
//! from the open file, so the stream carries what was read.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use tar::{EntryType, Header};

use super::{io_err, Changes, Entry, EntryKind, Result};

/// Reads exactly `left` bytes: the file's, then zeros if it shrank meanwhile
/// (the watcher sends it again on its next change).
struct Exactly<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exactly<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let mut n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            buf[..want].fill(0);
            n = want;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn header(kind: EntryType, size: u64, mode: u32, mtime: i64) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(mtime.max(0) as u64);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// The directories the pod side walks to move files into place: the root,
/// every directory written, and every ancestor of a written or deleted path;
/// parents first.
pub fn dir_list(changes: &Changes) -> Vec<u8> {
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let paths = changes.write.keys().chain(changes.delete.iter());
    for p in paths {
        for a in p.ancestors().skip(1) {
            if !a.as_os_str().is_empty() {
                dirs.insert(a.to_path_buf());
            }
        }
    }
    for (p, e) in &changes.write {
        if e.kind == EntryKind::Dir {
            dirs.insert(p.clone());
        }
    }
    let mut out = b".\n".to_vec();
    for d in dirs {
        out.extend_from_slice(d.as_os_str().as_bytes());
        out.push(b'\n');
    }
    out
}

/// Opens the file the walk saw at `full`, or says why not (a warning);
/// `Ok(None)` when it is gone (the watcher reports that).
fn open_checked(
    full: &Path,
    rel: &Path,
    e: &Entry,
    warn: &mut dyn FnMut(String),
) -> Result<Option<(std::fs::File, std::fs::Metadata)>> {
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(full);
    let f = match opened {
        Ok(f) => f,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) if err.raw_os_error() == Some(nix::libc::ELOOP) => {
            warn(format!(
                "skipping {}: it became a symlink while syncing",
                rel.display()
            ));
            return Ok(None);
        }
        Err(err) => return Err(io_err(full)(err)),
    };
    let md = f.metadata().map_err(io_err(full))?;
    if !md.is_file() || md.dev() != e.dev || md.ino() != e.ino {
        warn(format!(
            "skipping {}: it was replaced while syncing (sent with its next change)",
            rel.display()
        ));
        return Ok(None);
    }
    Ok(Some((f, md)))
}

/// Writes the sync stream for `changes` (files read from `root`) to `w`;
/// returns the number of files and symlinks in it. `progress` advances by
/// each file's bytes, and its message counts the files.
pub fn write<W: Write>(
    w: W,
    root: &Path,
    changes: &Changes,
    progress: &ProgressBar,
    warn: &mut dyn FnMut(String),
) -> Result<usize> {
    let mut ar = tar::Builder::new(w);
    let pipe = Path::new("stdin");
    let dirs = dir_list(changes);
    let mut h = header(EntryType::Regular, dirs.len() as u64, 0o600, 0);
    ar.append_data(&mut h, "dirs", &dirs[..])
        .map_err(io_err(pipe))?;
    if !changes.delete.is_empty() {
        let mut list = Vec::new();
        for p in &changes.delete {
            list.extend_from_slice(p.as_os_str().as_bytes());
            list.push(0);
        }
        let mut h = header(EntryType::Regular, list.len() as u64, 0o600, 0);
        ar.append_data(&mut h, "delete", &list[..])
            .map_err(io_err(pipe))?;
    }
    let total = changes
        .write
        .values()
        .filter(|e| e.kind != EntryKind::Dir)
        .count();
    let mut files = 0;
    let mut done = 0;
    for (rel, e) in &changes.write {
        let name = Path::new("files").join(rel);
        match &e.kind {
            EntryKind::Dir => {
                let mut h = header(EntryType::Directory, 0, e.mode, e.mtime);
                ar.append_data(&mut h, &name, io::empty())
                    .map_err(io_err(pipe))?;
                continue;
            }
            EntryKind::Symlink(target) => {
                let mut h = header(EntryType::Symlink, 0, 0o777, e.mtime);
                ar.append_link(&mut h, &name, target)
                    .map_err(io_err(pipe))?;
                files += 1;
            }
            EntryKind::File => {
                let full = root.join(rel);
                if let Some((f, md)) = open_checked(&full, rel, e, warn)? {
                    let mut h = header(EntryType::Regular, md.len(), e.mode, md.mtime());
                    let data = Exactly {
                        inner: f,
                        left: md.len(),
                    };
                    ar.append_data(&mut h, &name, data).map_err(io_err(&full))?;
                    files += 1;
                    progress.inc(md.len());
                }
            }
        }
        done += 1;
        if done % 64 == 0 || done == total {
            progress.set_message(format!("{done}/{total} files"));
        }
    }
    ar.finish().map_err(io_err(pipe))?;
    let mut w = ar.into_inner().map_err(io_err(pipe))?;
    w.flush().map_err(io_err(pipe))?;
    Ok(files)
}
