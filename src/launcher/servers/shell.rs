//! `shell`: runs the executable `app.sh`, with server_args as its arguments.

use super::ctx::{Ctx, Launch};
use crate::launcher::error::Error;
use crate::launcher::path;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let script = ctx.app_root.join("app.sh");
    path::require_executable(&script)?;
    let mut launch = Launch::new(&script.display().to_string());
    launch.args(ctx.user_args.iter().cloned());
    launch.watch = ctx.watch_spec();
    Ok(launch)
}
