//! The tar stream of one sync. Files are copied through in small chunks, so
//! memory stays flat whatever their size; the stream's exact length is
//! known before the first byte ([`length`]), from the walk's sizes, so the
//! receiver copies it with one `dd` however large it is.
//!
//! A file is opened with `O_NOFOLLOW` (and `O_NONBLOCK`, so a fifo put in
//! its place cannot block), and the open file must be the one the walk saw:
//! a regular file with the walk's device, inode and size. Anything else (a
//! symlink or another file swapped in between the walk and the read, a
//! file that grew or shrank) is skipped with a warning, never read
//! through: its member is renamed from `files/…` to `xfile/…` (same length,
//! so the stream keeps its length) and carries zeros, and the receiver
//! never moves anything out of `xfile/`. The mtime is taken from the open
//! file.

use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use tar::{EntryType, Header};

use super::changes::Changes;
use super::error::{io_err, Result};
use super::tree::{Entry, EntryKind};

/// Counts what is written through it.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads exactly `left` bytes of `inner`, then zeros.
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

/// Bytes a member takes: its header blocks (GNU long-name and long-link
/// members included, counted by writing them) and its data padded to 512.
fn member_len(kind: EntryType, name: &Path, link: Option<&Path>, size: u64) -> io::Result<u64> {
    let data = size.div_ceil(512) * 512;
    let short = |p: &Path| p.as_os_str().len() < 100;
    if short(name) && link.is_none_or(short) {
        // fits the header's name (and link name) field: one block
        return Ok(512 + data);
    }
    let mut b = tar::Builder::new(Counter(0));
    let mut h = header(kind, 0, 0o644, 0);
    match link {
        Some(target) => b.append_link(&mut h, name, target)?,
        None => b.append_data(&mut h, name, io::empty())?,
    }
    let headers = b.get_ref().0;
    Ok(headers + data)
}

/// The member name of `rel`: `files/REL`, or `xfile/REL` for a skipped file.
fn member_name(rel: &Path, skipped: bool) -> PathBuf {
    Path::new(if skipped { "xfile" } else { "files" }).join(rel)
}

/// The list of paths to delete, NUL-separated.
fn delete_list(changes: &Changes) -> Vec<u8> {
    let mut list = Vec::new();
    for p in &changes.delete {
        list.extend_from_slice(p.as_os_str().as_bytes());
        list.push(0);
    }
    list
}

/// The exact length of the stream [`write`] produces for `changes`.
pub fn length(changes: &Changes) -> Result<u64> {
    let pipe = Path::new("stdin");
    let mut n = member_len(
        EntryType::Regular,
        Path::new("dirs"),
        None,
        dir_list(changes).len() as u64,
    )
    .map_err(io_err(pipe))?;
    if !changes.delete.is_empty() {
        n += member_len(
            EntryType::Regular,
            Path::new("delete"),
            None,
            delete_list(changes).len() as u64,
        )
        .map_err(io_err(pipe))?;
    }
    for (rel, e) in &changes.write {
        let name = member_name(rel, false);
        n += match &e.kind {
            EntryKind::Dir => member_len(EntryType::Directory, &name, None, 0),
            EntryKind::Symlink(t) => member_len(EntryType::Symlink, &name, Some(t), 0),
            EntryKind::File => member_len(EntryType::Regular, &name, None, e.size),
        }
        .map_err(io_err(pipe))?;
    }
    // the end of the archive: two zero blocks
    Ok(n + 1024)
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
    // Sorted by bytes, a parent (a prefix) still comes before its children.
    let mut dirs: Vec<&[u8]> = Vec::new();
    let mut last_parent: Option<&[u8]> = None;
    for p in changes.write.keys().chain(changes.delete.iter()) {
        let parent = p.parent().map(|a| a.as_os_str().as_bytes());
        if parent == last_parent {
            continue;
        }
        last_parent = parent;
        for a in p.ancestors().skip(1) {
            if !a.as_os_str().is_empty() {
                dirs.push(a.as_os_str().as_bytes());
            }
        }
    }
    for (p, e) in &changes.write {
        if e.kind == EntryKind::Dir {
            dirs.push(p.as_os_str().as_bytes());
        }
    }
    dirs.sort_unstable();
    dirs.dedup();
    let mut out = b".\n".to_vec();
    for d in dirs {
        out.extend_from_slice(d);
        out.push(b'\n');
    }
    out
}

/// Opens the file the walk saw at `full`, or says why not (a warning);
/// `Ok(None)` when it is gone (the watcher reports that) or not the same.
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
    if md.len() != e.size {
        warn(format!(
            "skipping {}: it changed while syncing (sent with its next change)",
            rel.display()
        ));
        return Ok(None);
    }
    Ok(Some((f, md)))
}

/// Writes the sync stream for `changes` (files read from `root`) to `w`:
/// exactly [`length`] bytes. Returns the number of files and symlinks sent
/// (skipped ones left out). `progress` advances by each file's bytes, and
/// its message counts the files.
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
        let list = delete_list(changes);
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
        match &e.kind {
            EntryKind::Dir => {
                let mut h = header(EntryType::Directory, 0, e.mode, e.mtime);
                ar.append_data(&mut h, member_name(rel, false), io::empty())
                    .map_err(io_err(pipe))?;
                continue;
            }
            EntryKind::Symlink(target) => {
                let mut h = header(EntryType::Symlink, 0, 0o777, e.mtime);
                ar.append_link(&mut h, member_name(rel, false), target)
                    .map_err(io_err(pipe))?;
                files += 1;
            }
            EntryKind::File => {
                let full = root.join(rel);
                let opened = open_checked(&full, rel, e, warn)?;
                let skipped = opened.is_none();
                let (mtime, inner): (i64, Box<dyn Read>) = match opened {
                    Some((f, md)) => (md.mtime(), Box::new(f)),
                    None => (0, Box::new(io::empty())),
                };
                let mut h = header(EntryType::Regular, e.size, e.mode, mtime);
                let data = Exactly {
                    inner,
                    left: e.size,
                };
                ar.append_data(&mut h, member_name(rel, skipped), data)
                    .map_err(io_err(&full))?;
                if !skipped {
                    files += 1;
                }
                progress.inc(e.size);
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
