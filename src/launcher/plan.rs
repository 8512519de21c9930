//! [`Plan`]: what `warpdrive exec` will run, the result of resolution.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::server_type::ServerType;

/// Launcher-level restart on source changes, for servers that have no
/// reloader of their own (waitress, python, shell).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WatchSpec {
    /// Directory to watch (recursively).
    pub root: PathBuf,
    /// File-name suffixes that trigger a restart, e.g. `.py`.
    pub suffixes: Vec<String>,
}

/// What `warpdrive exec` will run: the result of resolution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// `None` for `warpdrive exec -- CMD`.
    pub server_type: Option<ServerType>,
    /// Why this type and these options, one line.
    pub reason: String,
    /// The program and its arguments (`argv[0]` is looked up on PATH).
    pub argv: Vec<String>,
    /// Only the variables the launcher sets on top of the inherited
    /// environment: the runtime environment's and the server's.
    pub env: BTreeMap<String, String>,
    /// The app's home (`.warpdrive/home`, else the source tree).
    pub cwd: PathBuf,
    /// Set when the launcher itself must restart the server on source changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch: Option<WatchSpec>,
    /// The source tree (`.warpdrive/` is here); the hooks run in it.
    #[serde(skip)]
    pub src_root: PathBuf,
    /// What the action hooks get on top of the inherited environment: the
    /// runtime environment (see `environment`), without the server's own
    /// variables.
    #[serde(skip)]
    pub hook_env: BTreeMap<String, String>,
}
