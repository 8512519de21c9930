//! `python`: runs `python app.py`, with server_args as its arguments.

use super::ctx::{Ctx, Launch};
use crate::launcher::error::Error;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let script = ctx.app_root.join("app.py");
    if !script.is_file() {
        return Err(Error::bad(format!(
            "{}: not found; add app.py or choose another server type",
            script.display()
        )));
    }
    let mut launch = Launch::new(ctx.python);
    launch.arg("app.py").args(ctx.user_args.iter().cloned());
    launch.watch = ctx.watch_spec();
    Ok(launch)
}
