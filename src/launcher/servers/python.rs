//! `python`: runs `python app.py` (or the file `APP_FILE` names, as the S2I
//! image does), with server_args as its arguments.

use nix::sys::signal::Signal;

use super::ctx::{Ctx, Launch};
use crate::launcher::error::Error;
use crate::launcher::migrating;

/// The convention for a program in a container: an `app.py` that wants to
/// finish its requests handles SIGTERM (Python's default is to end at once,
/// and SIGINT would raise KeyboardInterrupt in whatever the main thread is
/// doing, often the request itself). The launcher's drain lets requests in
/// flight finish before this is sent.
pub const STOP_SIGNAL: Signal = Signal::SIGTERM;

pub fn command(ctx: &Ctx) -> Result<Launch, Error> {
    let named = migrating::file_var(ctx.src_root, ctx.home, ctx.env, "APP_FILE", "a Python file")?;
    let mut launch = Launch::new(ctx.python);
    match named {
        Some(file) => {
            launch.arg(file.display().to_string());
            launch
                .notes
                .push(format!("APP_FILE runs {}", file.display()));
        }
        None => {
            let script = ctx.home.join("app.py");
            if !script.is_file() {
                return Err(Error::bad(format!(
                    "{}: not found; add app.py or choose another server type",
                    script.display()
                )));
            }
            launch.arg("app.py");
        }
    }
    launch.args(ctx.user_args.iter().cloned());
    launch.watch = ctx.watch_spec();
    Ok(launch)
}
