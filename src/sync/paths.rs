//! The checks on the paths a sync is given and finds: the destination in
//! the container, the local source tree, and every relative name.

use std::path::{Component, Path, PathBuf};

use super::error::{Error, Result};

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
