//! `warpdrive build` (the image-build step: S2I's assemble, or `RUN warpdrive
//! build`) and the container lifecycle commands (`alive`, `ready`, `migrate`,
//! `setup`, `verify`, `env`, `shell`).
//!
//! * [`steps`]: the build, step by step (hooks, pip, the server, collectstatic,
//!   the record of what was detected).
//! * [`pip`]: the pip command lines and the stamp that makes a second build skip them.
//! * [`lifecycle`]: the lifecycle hooks, and the runtime environment for `env`/`shell`.
//! * [`env`]: the runtime environment the build and the hooks run with.

pub mod env;
pub mod error;
pub mod lifecycle;
pub mod pip;
pub mod steps;

pub use error::Error;
pub use steps::{build, Options};
