//! The one way to read a file of the app's `.warpdrive/` (the launcher and
//! `init` both go through it) or a source file detection reads
//! ([`read_source`]: `manage.py`, settings, `wsgi.py`, `.ini` files), and
//! the check that a path does not leave the app, also used before `init`
//! writes.
//!
//! * A symlink on the way from the app directory to the file (including
//!   `.warpdrive` itself) may point anywhere inside the app; one that leads
//!   out of it, is broken or loops is refused, before anything is opened.
//! * Only a regular file is read: a FIFO (which would block `open` or `read`
//!   forever), socket, device or directory is refused after an `lstat`, and
//!   again after opening with `O_NOFOLLOW | O_NONBLOCK` (`fstat`), so a file
//!   swapped in between is refused too.
//! * At most [`MAX_BYTES`] are read; text must be UTF-8.
//!
//! Every refusal is bad input (exit 2): one line naming the file, the OS
//! error at most once, and the fix. A missing file is `Ok(None)`.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use super::error::Error;
use super::server_type::ServerType;

/// `.warpdrive/server_args`, or `server_args/<type>` when `server_args` is a
/// directory (also where `init` writes). `wd` is the `.warpdrive` directory.
pub fn server_args_path(wd: &Path, server_type: ServerType) -> PathBuf {
    let path = wd.join("server_args");
    if path.is_dir() {
        path.join(server_type.name())
    } else {
        path
    }
}

/// The largest `.warpdrive` file read (1 MiB); they are a few lines each.
pub const MAX_BYTES: u64 = 1 << 20;

/// `path` (under `app_root`) as UTF-8 text, or `None` if it does not exist.
pub fn read_text(app_root: &Path, path: &Path) -> Result<Option<String>, Error> {
    let Some(bytes) = read_bytes(app_root, path)? else {
        return Ok(None);
    };
    String::from_utf8(bytes).map(Some).map_err(|e| {
        Error::bad(format!(
            "{}: not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

/// `path` (under `app_root`) as bytes, or `None` if it does not exist.
pub fn read_bytes(app_root: &Path, path: &Path) -> Result<Option<Vec<u8>>, Error> {
    let Some(file) = open_regular(app_root, path)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(path, &e))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(Error::bad(format!(
            "{}: larger than {} KiB; a .warpdrive file holds a few lines, so replace it",
            path.display(),
            MAX_BYTES >> 10
        )));
    }
    Ok(Some(bytes))
}

/// The most of an app source file [`read_source`] reads (1 MiB): detection
/// looks at the top of `manage.py`, a settings module, `wsgi.py`, an `.ini`.
pub const MAX_SOURCE_BYTES: u64 = 1 << 20;

/// A file of the app's source tree that detection reads without Python
/// (`manage.py`, a settings module, `wsgi.py`/`asgi.py`, a PasteDeploy
/// `.ini`), or `None` if it does not exist. The same checks as the
/// `.warpdrive/` files (no symlink out of `app_root`, a regular file before
/// and after opening, so a FIFO never blocks), but only its first
/// [`MAX_SOURCE_BYTES`] are read, and bytes that are not UTF-8 are replaced
/// (Python reports a bad encoding itself when it imports the file).
pub fn read_source(app_root: &Path, path: &Path) -> Result<Option<String>, Error> {
    let Some(file) = open_regular(app_root, path)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(MAX_SOURCE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(path, &e))?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Opens `path` (under `app_root`) for reading after [`confine`], refusing
/// anything but a regular file before and after the open (`O_NOFOLLOW |
/// O_NONBLOCK`: a FIFO swapped in between neither blocks nor is read).
fn open_regular(app_root: &Path, path: &Path) -> Result<Option<std::fs::File>, Error> {
    let Some(real) = resolve(app_root, path)? else {
        return Ok(None);
    };
    let meta = std::fs::symlink_metadata(&real).map_err(|e| cannot(path, &e))?;
    regular(path, &meta.file_type())?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(&real)
        .map_err(|e| cannot(path, &e))?;
    let meta = file.metadata().map_err(|e| cannot(path, &e))?;
    regular(path, &meta.file_type())?;
    Ok(Some(file))
}

/// Errors unless every symlink between `app_root` and `path` (and `path`
/// itself, if it is one) stays inside the app. A part of the path that does
/// not exist yet ends the check: what is created there is inside.
pub fn confine(app_root: &Path, path: &Path) -> Result<(), Error> {
    walk(app_root, path).map(|_| ())
}

/// Where `path` really is, after [`confine`]; `None` when it does not exist.
fn resolve(app_root: &Path, path: &Path) -> Result<Option<PathBuf>, Error> {
    walk(app_root, path)
}

/// Follows `path` from `app_root` one component at a time; returns the real
/// location, or `None` at the first component that does not exist.
fn walk(app_root: &Path, path: &Path) -> Result<Option<PathBuf>, Error> {
    let root = app_root.canonicalize().map_err(|e| cannot(app_root, &e))?;
    let rel = path.strip_prefix(app_root).map_err(|_| {
        Error::bad(format!(
            "{}: not inside the app {}",
            path.display(),
            app_root.display()
        ))
    })?;
    let mut real = root.clone();
    let mut shown = app_root.to_path_buf();
    for part in rel.components() {
        match part {
            Component::Normal(name) => {
                real.push(name);
                shown.push(name);
            }
            Component::CurDir => continue,
            _ => {
                return Err(Error::bad(format!(
                    "{}: `..` is not allowed here; name a path inside the app",
                    path.display()
                )))
            }
        }
        let meta = match std::fs::symlink_metadata(&real) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(cannot(&shown, &e)),
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        let target = std::fs::read_link(&real)
            .map(|t| crate::error::cut(&t.display().to_string()))
            .unwrap_or_default();
        real = match std::fs::canonicalize(&real) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::bad(format!(
                    "{}: a symlink to {target}, which does not exist; replace it with the file \
                     itself",
                    shown.display()
                )))
            }
            Err(e) => return Err(cannot(&shown, &e)),
        };
        if !real.starts_with(&root) {
            return Err(Error::bad(format!(
                "{}: a symlink leading out of the app (to {target}); warpdrive never follows \
                 one, so put the file itself there",
                shown.display()
            )));
        }
    }
    Ok(Some(real))
}

/// Errors unless `kind` is a regular file.
fn regular(path: &Path, kind: &std::fs::FileType) -> Result<(), Error> {
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_symlink() {
        "a symlink"
    } else {
        "not a regular file"
    };
    Err(Error::bad(format!(
        "{}: is {what}, not a regular file; replace it with a regular file",
        path.display()
    )))
}

fn cannot(path: &Path, e: &std::io::Error) -> Error {
    Error::bad(format!(
        "{}: cannot read it: {e}; replace it with a regular file inside the app",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn app() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join(".warpdrive")).unwrap();
        (dir, root)
    }

    fn err(r: Result<Option<String>, Error>) -> String {
        match r {
            Err(Error::BadInput(e)) => e.to_string(),
            other => panic!("expected bad input, got {other:?}"),
        }
    }

    #[test]
    fn reads_files_and_inside_symlinks_and_misses_quietly() {
        let (_d, root) = app();
        let wd = root.join(".warpdrive");
        std::fs::write(wd.join("server_type"), "gunicorn\n").unwrap();
        assert_eq!(
            read_text(&root, &wd.join("server_type"))
                .unwrap()
                .as_deref(),
            Some("gunicorn\n")
        );
        std::fs::create_dir(root.join("conf")).unwrap();
        std::fs::write(root.join("conf/args"), "--x\n").unwrap();
        symlink("../conf/args", wd.join("server_args")).unwrap();
        assert_eq!(
            read_text(&root, &wd.join("server_args"))
                .unwrap()
                .as_deref(),
            Some("--x\n")
        );
        assert_eq!(read_text(&root, &wd.join("application")).unwrap(), None);
        assert_eq!(read_text(&root, &wd.join("nope/deeper")).unwrap(), None);
    }

    #[test]
    fn refuses_what_is_not_a_regular_file_inside_the_app() {
        let (_d, root) = app();
        let wd = root.join(".warpdrive");
        nix::unistd::mkfifo(&wd.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(err(read_text(&root, &wd.join("fifo"))).contains("is a FIFO"));
        std::fs::create_dir(wd.join("dir")).unwrap();
        assert!(err(read_text(&root, &wd.join("dir"))).contains("is a directory"));
        symlink("/etc/passwd", wd.join("out")).unwrap();
        let e = err(read_text(&root, &wd.join("out")));
        assert!(e.contains("leading out of the app (to /etc/passwd)"), "{e}");
        assert!(!e.contains("root:"), "{e}");
        symlink("loop", wd.join("loop")).unwrap();
        let e = err(read_text(&root, &wd.join("loop")));
        assert_eq!(e.matches("os error").count(), 1, "{e}");
        symlink("missing", wd.join("dangling")).unwrap();
        assert!(err(read_text(&root, &wd.join("dangling"))).contains("does not exist"));
        std::fs::write(wd.join("latin1"), b"caf\xe9\n").unwrap();
        assert!(err(read_text(&root, &wd.join("latin1"))).contains("offset 3"));
        std::fs::write(wd.join("big"), vec![b'a'; (MAX_BYTES + 1) as usize]).unwrap();
        assert!(err(read_text(&root, &wd.join("big"))).contains("larger than"));
        // .warpdrive itself leading out of the app.
        let (_d2, root2) = app();
        std::fs::remove_dir(root2.join(".warpdrive")).unwrap();
        symlink(&wd, root2.join(".warpdrive")).unwrap();
        assert!(confine(&root2, &root2.join(".warpdrive/server_type")).is_err());
        assert!(confine(&root2, &root2.join(".warpdrive/x/y")).is_err());
    }
}
