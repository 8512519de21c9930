//! `shell`: runs the executable `app.sh`, with server_args as its arguments.

use nix::sys::signal::Signal;

use super::ctx::{Ctx, Launch};
use crate::launcher::error::Error;
use crate::launcher::path;

/// `app.sh` should `exec` its server, which then gets SIGTERM, the usual
/// stop signal in a container.
pub const STOP_SIGNAL: Signal = Signal::SIGTERM;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let script = ctx.home.join("app.sh");
    path::require_executable(&script)?;
    let mut launch = Launch::new(&script.display().to_string());
    launch.args(ctx.user_args.iter().cloned());
    launch.watch = ctx.watch_spec();
    Ok(launch)
}
