//! The launcher's own writable directories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::Error;

/// The writable directory for the launcher's own files (mod_wsgi server
/// root, the Python support module, hook markers):
/// `$WARPDRIVE_RUNTIME_DIR`, else `${TMPDIR:-/tmp}/warpdrive-<uid>`.
/// Works under an arbitrary UID (OpenShift), which cannot write to the image.
pub fn runtime_dir(env: &BTreeMap<String, String>) -> PathBuf {
    if let Some(dir) = env.get("WARPDRIVE_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let tmp = env
        .get("TMPDIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    tmp.join(format!("warpdrive-{}", nix::unistd::geteuid()))
}

/// Where the Python support module (`warpdrive_wsgi`) is written:
/// `<runtime dir>/python`, prepended to PYTHONPATH when it is used.
pub fn support_dir(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join("python")
}

/// The name of the file the supervisor creates in the runtime directory when
/// a SIGTERM starts the drain (see `drain`): while it exists the app is
/// going away, and `warpdrive ready` (or a readiness probe such as
/// `test ! -e $WARPDRIVE_RUNTIME_DIR/draining`) reports not ready. Removed
/// when the supervisor starts.
pub const DRAINING: &str = "draining";

/// `<runtime dir>/draining` (see [`DRAINING`]).
pub fn draining_file(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join(DRAINING)
}

/// Creates `dir` (mode 0755) if needed.
pub fn ensure_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))
}
