//! `shell`: runs the executable `app.sh`, with server_args as its arguments.

use super::{Ctx, Launch};
use crate::launcher::{detect, Error};

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let script = ctx.app_root.join("app.sh");
    detect::require_executable(&script)?;
    let mut launch = Launch::new(&script.display().to_string());
    launch.args(ctx.user_args.iter().cloned());
    launch.watch = ctx.watch_spec();
    Ok(launch)
}
