//! The in-container launcher behind `warpdrive exec`.
//!
//! Two halves:
//! * resolution ([`resolve`]): `.warpdrive/` + environment + app layout → a
//!   [`Plan`] (argv, env, cwd, reason). Pure apart from reading files; this
//!   is what `--dry-run` prints.
//! * running ([`runtime`]): action hooks, then `exec()` the plan, or stay as
//!   a small supervisor when PID 1 (or asked to), or restart it on source
//!   changes for servers without their own reloader.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod args;
pub mod cgroup;
pub mod detect;
pub mod hooks;
pub mod resolve;
pub mod runtime;
pub mod servers;
pub mod support;

pub use resolve::{resolve, Options};

/// Everything that can stop the launcher.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad configuration or layout: one line naming the file and the fix. Exit 2.
    #[error("{0}")]
    BadInput(#[from] crate::error::BadInput),
    /// An action hook failed; the launcher exits with the hook's status.
    #[error("{0}")]
    HookFailed(#[from] crate::error::ExitStatus),
    /// A system call or file operation failed. Exit 1.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn bad(msg: impl Into<String>) -> Self {
        Error::BadInput(crate::error::BadInput::new(msg))
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// The server types. `auto` resolves to one of the others before a plan exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ServerType {
    #[serde(rename = "shell")]
    Shell,
    #[serde(rename = "python")]
    Python,
    #[serde(rename = "paste")]
    Paste,
    #[serde(rename = "django")]
    Django,
    #[serde(rename = "gunicorn")]
    Gunicorn,
    #[serde(rename = "mod_wsgi")]
    ModWsgi,
    #[serde(rename = "waitress")]
    Waitress,
    #[serde(rename = "uwsgi")]
    Uwsgi,
}

/// The words accepted for a server type, in documentation order.
pub const SERVER_TYPE_NAMES: &[&str] = &[
    "auto", "shell", "python", "paste", "django", "gunicorn", "mod_wsgi", "waitress", "uwsgi",
];

impl ServerType {
    pub const ALL: [ServerType; 8] = [
        ServerType::Shell,
        ServerType::Python,
        ServerType::Paste,
        ServerType::Django,
        ServerType::Gunicorn,
        ServerType::ModWsgi,
        ServerType::Waitress,
        ServerType::Uwsgi,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServerType::Shell => "shell",
            ServerType::Python => "python",
            ServerType::Paste => "paste",
            ServerType::Django => "django",
            ServerType::Gunicorn => "gunicorn",
            ServerType::ModWsgi => "mod_wsgi",
            ServerType::Waitress => "waitress",
            ServerType::Uwsgi => "uwsgi",
        }
    }

    /// Parses a server type word; `Ok(None)` is `auto`.
    pub fn parse(word: &str, origin: &str) -> Result<Option<ServerType>, Error> {
        if word == "auto" {
            return Ok(None);
        }
        ServerType::ALL
            .into_iter()
            .find(|t| t.name() == word)
            .map(Some)
            .ok_or_else(|| {
                Error::bad(format!(
                    "{origin}: unknown server type {word:?}; valid types are {}",
                    SERVER_TYPE_NAMES.join(", ")
                ))
            })
    }

    /// True for the types whose app is a WSGI callable the launcher may wrap.
    pub fn is_wsgi_server(self) -> bool {
        matches!(
            self,
            ServerType::Gunicorn | ServerType::ModWsgi | ServerType::Waitress | ServerType::Uwsgi
        )
    }
}

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
    /// Only the variables the launcher sets on top of the inherited environment.
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    /// Set when the launcher itself must restart the server on source changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch: Option<WatchSpec>,
}

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

/// Creates `dir` (mode 0755) if needed.
pub fn ensure_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))
}
