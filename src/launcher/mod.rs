//! The in-container launcher behind `warpdrive exec`.
//!
//! Two halves:
//! * resolution ([`resolve`]): `.warpdrive/` + environment + app layout → a
//!   [`Plan`] (argv, env, cwd, reason). Pure apart from reading files; this
//!   is what `--dry-run` prints.
//! * running ([`runtime`]): action hooks, then `exec()` the plan, or stay as
//!   a small supervisor when PID 1 (or asked to), or restart it on source
//!   changes for servers without their own reloader.

pub mod app_file;
pub mod args;
pub mod cgroup;
pub mod detect;
pub mod dirs;
pub mod drain;
pub mod environment;
pub mod error;
pub mod hooks;
pub mod migrating;
pub mod nearby;
pub mod path;
pub mod plan;
pub mod proxy;
pub mod pysource;
pub mod resolve;
pub mod restart;
pub mod runtime;
pub mod server_type;
pub mod servers;
pub mod support;
pub mod text_busy;

// The launcher's nouns, for the commands and `init`. Files inside the
// launcher import from the file that defines a name, never through here,
// so that no file depends on this one.
pub use error::Error;
pub use plan::{Plan, WatchSpec};
pub use resolve::{resolve, Options};
pub use server_type::ServerType;
