//! Programs on `PATH` and executable files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::Error;

/// The first of `python`, `python3` on PATH.
pub fn python(env: &BTreeMap<String, String>) -> String {
    ["python", "python3"]
        .into_iter()
        .find(|name| find_on_path(name, env).is_some())
        .unwrap_or("python3")
        .to_string()
}

/// The first executable `name` in the directories of `$PATH` from `env`.
pub fn find_on_path(name: &str, env: &BTreeMap<String, String>) -> Option<PathBuf> {
    let path = env.get("PATH")?;
    std::env::split_paths(path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Errors unless `path` is an executable file.
pub fn require_executable(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|_| {
        Error::bad(format!(
            "{}: not found; add it or choose another server type",
            path.display()
        ))
    })?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(Error::bad(format!(
            "{} is not executable; run `chmod +x {}`",
            path.display(),
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        )));
    }
    Ok(())
}
