//! The tar stream of one sync. Files are copied through in small chunks, so
//! memory stays flat whatever their size.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use super::{io_err, Changes, EntryKind, Result};

/// GNU tar reads stdin in records of 20 blocks and waits for a whole one;
/// padding the stream to a whole record lets it finish without end-of-file,
/// so stdin never has to be half-closed (which `v4.channel.k8s.io` cannot do).
const RECORD: u64 = 10240;

/// Counts the bytes written through it.
struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

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

/// Writes the sync stream for `changes` (files read from `root`) to `w`;
/// returns the number of bytes written.
pub fn write<W: Write>(w: W, root: &Path, changes: &Changes) -> Result<u64> {
    let mut ar = tar::Builder::new(Counting { inner: w, n: 0 });
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
    for (rel, e) in &changes.write {
        let name = Path::new("files").join(rel);
        match &e.kind {
            EntryKind::Dir => {
                let mut h = header(EntryType::Directory, 0, e.mode, e.mtime);
                ar.append_data(&mut h, &name, io::empty())
                    .map_err(io_err(pipe))?;
            }
            EntryKind::Symlink(target) => {
                let mut h = header(EntryType::Symlink, 0, 0o777, e.mtime);
                ar.append_link(&mut h, &name, target)
                    .map_err(io_err(pipe))?;
            }
            EntryKind::File => {
                let full = root.join(rel);
                let f = match std::fs::File::open(&full) {
                    Ok(f) => f,
                    // Gone since the changes were collected: the watcher reports it.
                    Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                    Err(err) => return Err(io_err(&full)(err)),
                };
                let md = f.metadata().map_err(io_err(&full))?;
                let mut h = header(EntryType::Regular, md.len(), e.mode, md.mtime());
                let data = Exactly {
                    inner: f,
                    left: md.len(),
                };
                ar.append_data(&mut h, &name, data).map_err(io_err(&full))?;
            }
        }
    }
    ar.finish().map_err(io_err(pipe))?;
    let mut c = ar.into_inner().map_err(io_err(pipe))?;
    let pad = (RECORD - c.n % RECORD) % RECORD;
    c.write_all(&vec![0; pad as usize]).map_err(io_err(pipe))?;
    c.flush().map_err(io_err(pipe))?;
    Ok(c.n)
}
